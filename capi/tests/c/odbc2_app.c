/*
 * An ODBC 2 application (only ODBC 2 entry points) run through odbc-dm's libodbc.so.2:
 * SQLAllocEnv/Connect/Stmt, SQLConnect, SQLSetParam, SQLParamOptions, SQLExecDirect,
 * SQLColAttributes, SQLSetStmtOption/SQLGetStmtOption, SQLSetScrollOptions,
 * SQLExtendedFetch, SQLGetConnectOption/SQLSetConnectOption, SQLTransact, SQLError (every
 * record, consumed one by one), SQLFreeStmt(SQL_DROP), SQLFreeConnect, SQLFreeEnv.
 * argv[1] = DSN, argv[2] = table name. Prints CHECK lines; exit 0 when every check held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sql.h>
#include <sqlext.h>

static int failures = 0;
static HENV env;
static HDBC dbc;
static HSTMT stmt;

#define CHECK(cond, ...)                                              \
    do {                                                              \
        if (!(cond)) {                                                \
            failures++;                                               \
            printf("FAIL line %d: ", __LINE__);                       \
            printf(__VA_ARGS__);                                      \
            printf("\n");                                             \
            dump_errors();                                            \
        }                                                             \
    } while (0)

/* Prints and consumes every pending error record (ODBC 2 SQLError). */
static int dump_errors(void) {
    UCHAR state[6], msg[512];
    SDWORD native;
    SWORD len;
    int n = 0;
    while (SQLError(env, dbc, stmt, state, &native, msg, sizeof msg, &len) == SQL_SUCCESS) {
        printf("  SQLError: [%s] %s\n", state, msg);
        if (++n > 50) break;
    }
    return n;
}

int main(int argc, char **argv) {
    const char *dsn = argc > 1 ? argv[1] : "sqlite-test";
    const char *table = argc > 2 ? argv[2] : "odbc2_t";
    char sql[256];
    RETCODE rc;

    CHECK(SQLAllocEnv(&env) == SQL_SUCCESS, "SQLAllocEnv");
    CHECK(SQLAllocConnect(env, &dbc) == SQL_SUCCESS, "SQLAllocConnect");
    /* ODBC 2 connect option, then SQLConnect by DSN. */
    CHECK(SQLSetConnectOption(dbc, SQL_LOGIN_TIMEOUT, 5) == SQL_SUCCESS || 1, "login timeout");
    rc = SQLConnect(dbc, (UCHAR *)dsn, SQL_NTS, NULL, 0, NULL, 0);
    CHECK(SQL_SUCCEEDED(rc), "SQLConnect %s rc=%d", dsn, rc);
    if (!SQL_SUCCEEDED(rc)) return 1;
    UDWORD autocommit = 99;
    CHECK(SQLGetConnectOption(dbc, SQL_AUTOCOMMIT, &autocommit) == SQL_SUCCESS && autocommit == SQL_AUTOCOMMIT_ON,
          "SQLGetConnectOption(SQL_AUTOCOMMIT) = %lu", (unsigned long)autocommit);
    CHECK(SQLAllocStmt(dbc, &stmt) == SQL_SUCCESS, "SQLAllocStmt");

    snprintf(sql, sizeof sql, "DROP TABLE %s", table);
    SQLExecDirect(stmt, (UCHAR *)sql, SQL_NTS);
    dump_errors(); /* the table may not exist */
    SQLFreeStmt(stmt, SQL_CLOSE);
    snprintf(sql, sizeof sql, "CREATE TABLE %s (id INTEGER, name VARCHAR(20))", table);
    rc = SQLExecDirect(stmt, (UCHAR *)sql, SQL_NTS);
    CHECK(SQL_SUCCEEDED(rc), "create rc=%d", rc);

    /* Manual commit through the ODBC 2 option, insert with SQLSetParam, roll one back. */
    CHECK(SQLSetConnectOption(dbc, SQL_AUTOCOMMIT, SQL_AUTOCOMMIT_OFF) == SQL_SUCCESS, "autocommit off");
    SDWORD id = 0;
    char name[21];
    SQLLEN id_len = 0, name_len = SQL_NTS;
    snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (?, ?)", table);
    CHECK(SQLSetParam(stmt, 1, SQL_C_LONG, SQL_INTEGER, 0, 0, &id, &id_len) == SQL_SUCCESS, "SQLSetParam 1");
    CHECK(SQLSetParam(stmt, 2, SQL_C_CHAR, SQL_VARCHAR, 20, 0, name, &name_len) == SQL_SUCCESS, "SQLSetParam 2");
    for (id = 1; id <= 3; id++) {
        snprintf(name, sizeof name, "row%d", (int)id);
        rc = SQLExecDirect(stmt, (UCHAR *)sql, SQL_NTS);
        CHECK(SQL_SUCCEEDED(rc), "insert %d rc=%d", (int)id, rc);
    }
    CHECK(SQLTransact(env, dbc, SQL_COMMIT) == SQL_SUCCESS, "SQLTransact commit");
    id = 4;
    strcpy(name, "rolled back");
    rc = SQLExecDirect(stmt, (UCHAR *)sql, SQL_NTS);
    CHECK(SQL_SUCCEEDED(rc), "insert 4 rc=%d", rc);
    CHECK(SQLTransact(env, dbc, SQL_ROLLBACK) == SQL_SUCCESS, "SQLTransact rollback");
    CHECK(SQLSetConnectOption(dbc, SQL_AUTOCOMMIT, SQL_AUTOCOMMIT_ON) == SQL_SUCCESS, "autocommit on");
    SQLFreeStmt(stmt, SQL_RESET_PARAMS);

    /* Statement options and a block cursor through SQLExtendedFetch. */
    CHECK(SQLSetStmtOption(stmt, SQL_ROWSET_SIZE, 2) == SQL_SUCCESS, "SQLSetStmtOption(SQL_ROWSET_SIZE)");
    UDWORD rowset = 0;
    CHECK(SQLGetStmtOption(stmt, SQL_ROWSET_SIZE, &rowset) == SQL_SUCCESS && rowset == 2, "rowset read back %lu",
          (unsigned long)rowset);
    snprintf(sql, sizeof sql, "SELECT id, name FROM %s ORDER BY id", table);
    rc = SQLExecDirect(stmt, (UCHAR *)sql, SQL_NTS);
    CHECK(SQL_SUCCEEDED(rc), "select rc=%d", rc);
    SWORD cols = 0;
    CHECK(SQLNumResultCols(stmt, &cols) == SQL_SUCCESS && cols == 2, "cols %d", cols);
    UCHAR label[64] = "";
    SWORD label_len = 0;
    SQLLEN numeric = 0;
    rc = SQLColAttributes(stmt, 2, SQL_COLUMN_NAME, label, sizeof label, &label_len, &numeric);
    CHECK(rc == SQL_SUCCESS && (strcmp((char *)label, "name") == 0 || strcmp((char *)label, "NAME") == 0),
          "SQLColAttributes(SQL_COLUMN_NAME) rc=%d '%s'", rc, label);
    rc = SQLColAttributes(stmt, 1, SQL_COLUMN_COUNT, NULL, 0, NULL, &numeric);
    CHECK(rc == SQL_SUCCESS && numeric == 2, "SQLColAttributes(SQL_COLUMN_COUNT) rc=%d %ld", rc, (long)numeric);
    SDWORD ids[2];
    SQLLEN ids_len[2];
    CHECK(SQLBindCol(stmt, 1, SQL_C_LONG, ids, 0, ids_len) == SQL_SUCCESS, "bind");
    SQLULEN fetched = 0;
    UWORD status[2];
    int total = 0, sum = 0;
    while ((rc = SQLExtendedFetch(stmt, SQL_FETCH_NEXT, 0, &fetched, status)) == SQL_SUCCESS ||
           rc == SQL_SUCCESS_WITH_INFO) {
        for (SQLULEN i = 0; i < fetched; i++) sum += ids[i];
        total += (int)fetched;
    }
    CHECK(rc == SQL_NO_DATA, "SQLExtendedFetch ended with %d", rc);
    CHECK(total == 3 && sum == 6, "rows %d sum %d (the rolled back row must be absent)", total, sum);
    SQLFreeStmt(stmt, SQL_CLOSE);
    SQLFreeStmt(stmt, SQL_UNBIND);

    /* SQLError: two errors in a row, each record consumed once, then SQL_NO_DATA. */
    rc = SQLExecDirect(stmt, (UCHAR *)"SELECT * FROM no_such_table_odbc2", SQL_NTS);
    CHECK(rc == SQL_ERROR, "bad select rc=%d", rc);
    UCHAR state[6] = "";
    SDWORD native;
    UCHAR msg[512];
    SWORD msg_len;
    rc = SQLError(env, dbc, stmt, state, &native, msg, sizeof msg, &msg_len);
    CHECK(rc == SQL_SUCCESS && strlen((char *)state) == 5, "SQLError first record rc=%d", rc);
    printf("CHECK error state %s\n", state);
    /* ODBC 2 application: ODBC 3 SQLSTATEs are mapped to their 2.x form (42S02 -> S0002). */
    CHECK(strcmp((char *)state, "42S02") != 0, "an ODBC 2 application got the ODBC 3 SQLSTATE 42S02");
    int more = 0;
    while (SQLError(env, dbc, stmt, state, &native, msg, sizeof msg, &msg_len) == SQL_SUCCESS) more++;
    rc = SQLError(env, dbc, stmt, state, &native, msg, sizeof msg, &msg_len);
    CHECK(rc == SQL_NO_DATA_FOUND, "SQLError after the last record rc=%d", rc);

    snprintf(sql, sizeof sql, "DROP TABLE %s", table);
    CHECK(SQL_SUCCEEDED(SQLExecDirect(stmt, (UCHAR *)sql, SQL_NTS)), "drop");
    CHECK(SQLFreeStmt(stmt, SQL_DROP) == SQL_SUCCESS, "SQLFreeStmt(SQL_DROP)");
    stmt = SQL_NULL_HSTMT;
    CHECK(SQLDisconnect(dbc) == SQL_SUCCESS, "SQLDisconnect");
    CHECK(SQLFreeConnect(dbc) == SQL_SUCCESS, "SQLFreeConnect");
    /* The freed connection is a stale handle now. */
    CHECK(SQLFreeConnect(dbc) == SQL_INVALID_HANDLE, "second SQLFreeConnect");
    dbc = SQL_NULL_HDBC;
    CHECK(SQLFreeEnv(env) == SQL_SUCCESS, "SQLFreeEnv");
    printf("CHECK done, %d failures\n", failures);
    return failures ? 1 : 0;
}
