/* An application that connects with the ANSI or the Unicode SQLDriverConnect and then
 * uses the ANSI API (capi/tests/ansi_app.rs, docs/decisions.md #96). Prints:
 *   type=<SQLDescribeCol's type of a VARCHAR(1000) column>
 *   concise=<SQLColAttribute's SQL_DESC_CONCISE_TYPE of the same column>
 *   colname=<hex of the column's name as SQLDescribeCol gives it (a non-ASCII alias)>
 *   text=<hex of the non-ASCII text read back as SQL_C_CHAR>
 *   stored=<hex of the server's own HEX() of the stored value, upper case>
 * usage: ansi_app CONNSTR a|w TABLE HEXFUNC */
#include <stdio.h>
#include <string.h>
#include <sql.h>
#include <sqlext.h>

static void diag(SQLSMALLINT t, SQLHANDLE h, const char *what) {
    SQLCHAR st[6], msg[512];
    SQLINTEGER nat;
    SQLSMALLINT n;
    fprintf(stderr, "%s failed\n", what);
    for (SQLSMALLINT i = 1; SQLGetDiagRec(t, h, i, st, &nat, msg, sizeof msg, &n) == SQL_SUCCESS; i++)
        fprintf(stderr, "  %s %s\n", st, msg);
}

#define OK(rc, t, h, what) do { if (!SQL_SUCCEEDED(rc)) { diag(t, h, what); return 1; } } while (0)

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: ansi_app CONNSTR a|w TABLE HEXFUNC\n"); return 2; }
    const char *table = argv[3], *hexf = argv[4];
    SQLHENV env; SQLHDBC dbc; SQLHSTMT st;
    SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
    SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
    SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
    SQLRETURN rc;
    if (argv[2][0] == 'w') {
        SQLWCHAR w[1024];
        size_t i, n = strlen(argv[1]);
        for (i = 0; i < n && i < 1023; i++) w[i] = (SQLWCHAR)(unsigned char)argv[1][i]; /* ASCII */
        w[i] = 0;
        rc = SQLDriverConnectW(dbc, NULL, w, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    } else {
        rc = SQLDriverConnect(dbc, NULL, (SQLCHAR *)argv[1], SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    }
    OK(rc, SQL_HANDLE_DBC, dbc, "connect");
    SQLAllocHandle(SQL_HANDLE_STMT, dbc, &st);
    char sql[512];
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS %s", table);
    SQLExecDirect(st, (SQLCHAR *)sql, SQL_NTS);
    snprintf(sql, sizeof sql, "CREATE TABLE %s (name VARCHAR(1000))", table);
    OK(SQLExecDirect(st, (SQLCHAR *)sql, SQL_NTS), SQL_HANDLE_STMT, st, "create");
    /* UTF-8: "Grüße ☃ 𝄞" */
    snprintf(sql, sizeof sql, "INSERT INTO %s VALUES ('Gr\xc3\xbc\xc3\x9f" "e \xe2\x98\x83 \xf0\x9d\x84\x9e')", table);
    OK(SQLExecDirect(st, (SQLCHAR *)sql, SQL_NTS), SQL_HANDLE_STMT, st, "insert");
    snprintf(sql, sizeof sql, "SELECT name AS pr\xc3\xa9nom, %s FROM %s", hexf, table);
    OK(SQLExecDirect(st, (SQLCHAR *)sql, SQL_NTS), SQL_HANDLE_STMT, st, "select");
    SQLCHAR name[64]; SQLSMALLINT nlen, type, dec, nul; SQLULEN size;
    OK(SQLDescribeCol(st, 1, name, sizeof name, &nlen, &type, &size, &dec, &nul), SQL_HANDLE_STMT, st, "describe");
    printf("type=%d\n", type);
    SQLLEN concise = 0;
    OK(SQLColAttribute(st, 1, SQL_DESC_CONCISE_TYPE, NULL, 0, NULL, &concise), SQL_HANDLE_STMT, st, "concise type");
    printf("concise=%ld\n", (long)concise);
    printf("colname=");
    for (SQLSMALLINT i = 0; i < nlen && i < (SQLSMALLINT)sizeof name; i++) printf("%02X", name[i]);
    printf("\n");
    OK(SQLFetch(st), SQL_HANDLE_STMT, st, "fetch");
    char text[256], stored[256]; SQLLEN ind;
    OK(SQLGetData(st, 1, SQL_C_CHAR, text, sizeof text, &ind), SQL_HANDLE_STMT, st, "getdata 1");
    OK(SQLGetData(st, 2, SQL_C_CHAR, stored, sizeof stored, &ind), SQL_HANDLE_STMT, st, "getdata 2");
    printf("text=");
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) printf("%02X", *p);
    printf("\nstored=");
    for (const char *p = stored; *p; p++) putchar(*p >= 'a' && *p <= 'f' ? *p - 32 : *p);
    printf("\n");
    SQLCloseCursor(st);
    snprintf(sql, sizeof sql, "DROP TABLE %s", table);
    SQLExecDirect(st, (SQLCHAR *)sql, SQL_NTS);
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    SQLDisconnect(dbc);
    SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    SQLFreeHandle(SQL_HANDLE_ENV, env);
    return 0;
}
