/*
 * Explicit descriptors and the need-data states through odbc-dm's libodbc.so.2
 * (capi/tests/desc_need_data.rs; the differential test against unixODBC found both).
 * usage: desc_need_data_app desc|needdata DSN
 *   desc:     an explicit ARD is set on the statement, then freed (SQLFreeHandle; the
 *             statement reverts to its implicit ARD, whose handle stays valid), then
 *             SQLBindCol/SQLExecDirect/SQLFetch through the implicit ARD; an explicit
 *             ARD set back with SQL_NULL_HDESC. A driver without explicit descriptors
 *             prints "noexplicit" and checks the implicit ARD only.
 *   needdata: SQLExecDirect with a data-at-execution parameter (SQL_NEED_DATA, S8), then
 *             the calls Appendix B refuses with (HY010) in S8: SQLGetStmtAttr,
 *             SQLSetStmtAttr, SQLFreeStmt(SQL_DROP), SQLFreeHandle(STMT), and the
 *             descriptor functions on the statement's APD (SQLGetDescRecW with null
 *             outputs crashed libmaodbc when the DM let it through); then SQLCancel and
 *             SQLFreeHandle succeed.
 * Prints "check <name> ok" or "check <name> FAIL <detail>" lines; exit 0 when it ran to
 * the end (the Rust side requires no FAIL line).
 */
#include <stdio.h>
#include <string.h>
#include <sql.h>
#include <sqlext.h>
#include <sqlucode.h>

static int fails;

static void check(const char *name, int ok, const char *detail) {
    if (ok) printf("check %s ok\n", name);
    else { printf("check %s FAIL %s\n", name, detail); fails++; }
}

static const char *state_of(SQLSMALLINT ht, SQLHANDLE h) {
    static SQLCHAR st[6];
    SQLINTEGER nat;
    SQLSMALLINT len;
    st[0] = 0;
    SQLGetDiagRec(ht, h, 1, st, &nat, NULL, 0, &len);
    return (const char *)st;
}

static void hy010(const char *name, SQLRETURN rc, SQLSMALLINT ht, SQLHANDLE h) {
    char d[64];
    const char *st = rc == SQL_ERROR ? state_of(ht, h) : "";
    snprintf(d, sizeof d, "rc=%d state=%s", rc, st);
    check(name, rc == SQL_ERROR && strcmp(st, "HY010") == 0, d);
}

static int fetch_42(SQLHSTMT s) {
    SQLINTEGER v = 0;
    SQLLEN ind = 0;
    if (!SQL_SUCCEEDED(SQLBindCol(s, 1, SQL_C_LONG, &v, 0, &ind))) return 0;
    if (!SQL_SUCCEEDED(SQLExecDirect(s, (SQLCHAR *)"select 42", SQL_NTS))) return 0;
    if (!SQL_SUCCEEDED(SQLFetch(s))) return 0;
    SQLCloseCursor(s);
    SQLFreeStmt(s, SQL_UNBIND);
    return v == 42;
}

static void desc_mode(SQLHDBC d, SQLHSTMT s) {
    SQLHDESC ard0 = 0, ed = 0, cur = 0, ed2 = 0;
    SQLSMALLINT n;
    SQLGetStmtAttr(s, SQL_ATTR_APP_ROW_DESC, &ard0, 0, NULL);
    check("implicit-ard", ard0 != 0, "null");
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_DESC, d, &ed))) {
        printf("noexplicit\n");
        cur = 0;
        SQLGetStmtAttr(s, SQL_ATTR_APP_ROW_DESC, &cur, 0, NULL);
        check("implicit-ard-unchanged", cur == ard0, "changed");
        check("fetch-implicit", fetch_42(s), "bind/execute/fetch failed");
        return;
    }
    check("set-explicit", SQL_SUCCEEDED(SQLSetStmtAttr(s, SQL_ATTR_APP_ROW_DESC, ed, 0)), "refused");
    SQLGetStmtAttr(s, SQL_ATTR_APP_ROW_DESC, &cur, 0, NULL);
    check("get-explicit", cur == ed, "not the explicit handle");
    check("fetch-explicit", fetch_42(s), "bind/execute/fetch failed");
    check("free-explicit", SQLFreeHandle(SQL_HANDLE_DESC, ed) == SQL_SUCCESS, "refused");
    cur = 0;
    check("get-after-free", SQL_SUCCEEDED(SQLGetStmtAttr(s, SQL_ATTR_APP_ROW_DESC, &cur, 0, NULL)), "refused");
    check("reverted-to-implicit", cur == ard0, cur == ed ? "the freed handle" : "another handle");
    check("implicit-still-valid", SQL_SUCCEEDED(SQLGetDescField(ard0, 0, SQL_DESC_COUNT, &n, 0, NULL)), "refused");
    check("fetch-after-free", fetch_42(s), "bind/execute/fetch failed");
    SQLAllocHandle(SQL_HANDLE_DESC, d, &ed2);
    check("set-explicit-2", SQL_SUCCEEDED(SQLSetStmtAttr(s, SQL_ATTR_APP_ROW_DESC, ed2, 0)), "refused");
    check("set-null-hdesc", SQL_SUCCEEDED(SQLSetStmtAttr(s, SQL_ATTR_APP_ROW_DESC, SQL_NULL_HDESC, 0)), "refused");
    cur = 0;
    SQLGetStmtAttr(s, SQL_ATTR_APP_ROW_DESC, &cur, 0, NULL);
    check("null-reverts-to-implicit", cur == ard0, "not the implicit handle");
    check("fetch-after-null", fetch_42(s), "bind/execute/fetch failed");
    check("free-explicit-2", SQLFreeHandle(SQL_HANDLE_DESC, ed2) == SQL_SUCCESS, "refused");
}

static void needdata_mode(SQLHSTMT s, const char *sql) {
    SQLHDESC apd = 0;
    SQLLEN ind = SQL_DATA_AT_EXEC;
    SQLULEN uv;
    SQLSMALLINT sv;
    SQLGetStmtAttr(s, SQL_ATTR_APP_PARAM_DESC, &apd, 0, NULL);
    SQLBindParameter(s, 1, SQL_PARAM_INPUT, SQL_C_CHAR, SQL_VARCHAR, 20, 0, (SQLPOINTER)1, 0, &ind);
    check("need-data", SQLExecDirect(s, (SQLCHAR *)sql, SQL_NTS) == SQL_NEED_DATA, "no SQL_NEED_DATA");
    hy010("s8-getstmtattr", SQLGetStmtAttr(s, SQL_ATTR_ROW_ARRAY_SIZE, &uv, 0, NULL), SQL_HANDLE_STMT, s);
    hy010("s8-setstmtattr", SQLSetStmtAttr(s, SQL_ATTR_ROW_ARRAY_SIZE, (SQLPOINTER)1, 0), SQL_HANDLE_STMT, s);
    hy010("s8-getdescfield", SQLGetDescField(apd, 0, SQL_DESC_COUNT, &sv, 0, NULL), SQL_HANDLE_DESC, apd);
    hy010("s8-setdescfield", SQLSetDescField(apd, 1, SQL_DESC_OCTET_LENGTH, (SQLPOINTER)5, 0), SQL_HANDLE_DESC, apd);
    hy010("s8-getdescrec", SQLGetDescRec(apd, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0), SQL_HANDLE_DESC, apd);
    hy010("s8-getdescrecw", SQLGetDescRecW(apd, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0), SQL_HANDLE_DESC, apd);
    hy010("s8-freestmt-drop", SQLFreeStmt(s, SQL_DROP), SQL_HANDLE_STMT, s);
    hy010("s8-freehandle", SQLFreeHandle(SQL_HANDLE_STMT, s), SQL_HANDLE_STMT, s);
    check("cancel", SQLCancel(s) == SQL_SUCCESS, "refused");
    check("freehandle-after-cancel", SQLFreeHandle(SQL_HANDLE_STMT, s) == SQL_SUCCESS, "refused");
}

int main(int argc, char **argv) {
    SQLHENV env;
    SQLHDBC dbc;
    SQLHSTMT s;
    if (argc < 3) return 2;
    SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
    SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
    SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
    if (!SQL_SUCCEEDED(SQLConnect(dbc, (SQLCHAR *)argv[2], SQL_NTS, NULL, 0, NULL, 0))) {
        printf("connect failed %s\n", state_of(SQL_HANDLE_DBC, dbc));
        return 1;
    }
    SQLAllocHandle(SQL_HANDLE_STMT, dbc, &s);
    if (strcmp(argv[1], "desc") == 0) {
        desc_mode(dbc, s);
        SQLFreeHandle(SQL_HANDLE_STMT, s);
    } else {
        needdata_mode(s, argc > 3 ? argv[3] : "select cast(? as varchar(20))");
    }
    SQLDisconnect(dbc);
    SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    SQLFreeHandle(SQL_HANDLE_ENV, env);
    printf("end fails=%d\n", fails);
    return 0;
}
