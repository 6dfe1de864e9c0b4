/*
 * SQLSetStmtAttrW and SQLSetStmtAttr onto an ODBC 2 driver that has only SQLSetStmtOption
 * (mdbtools): unixODBC 2.3.11 answers IM001 for the W form. argv[1] = connection string.
 * Prints "W rc=.. A rc=.. rows=..".
 */
#include <stdio.h>
#include <sql.h>
#include <sqlext.h>
#include <sqlucode.h>

int main(int argc, char **argv) {
    SQLHENV env;
    SQLHDBC dbc;
    SQLHSTMT stmt;
    if (argc < 2) return 2;
    SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
    SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
    SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
    SQLRETURN rc = SQLDriverConnect(dbc, NULL, (SQLCHAR *)argv[1], SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    if (!SQL_SUCCEEDED(rc)) { printf("connect rc=%d\n", rc); return 1; }
    SQLAllocHandle(SQL_HANDLE_STMT, dbc, &stmt);
    SQLRETURN w = SQLSetStmtAttrW(stmt, SQL_ATTR_MAX_ROWS, (SQLPOINTER)5, 0);
    SQLCHAR state[6] = "";
    SQLCHAR msg[256] = "";
    SQLINTEGER native;
    SQLSMALLINT len;
    if (w != SQL_SUCCESS) SQLGetDiagRec(SQL_HANDLE_STMT, stmt, 1, state, &native, msg, sizeof msg, &len);
    SQLRETURN a = SQLSetStmtAttr(stmt, SQL_ATTR_QUERY_TIMEOUT, (SQLPOINTER)0, 0);
    rc = SQLExecDirect(stmt, (SQLCHAR *)"SELECT ProductName FROM Products", SQL_NTS);
    int rows = 0;
    while (SQL_SUCCEEDED(SQLFetch(stmt))) rows++;
    printf("W rc=%d [%s] %s\nA rc=%d\nexec rc=%d rows=%d\n", w, state, msg, a, rc, rows);
    SQLFreeHandle(SQL_HANDLE_STMT, stmt);
    SQLDisconnect(dbc);
    SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    SQLFreeHandle(SQL_HANDLE_ENV, env);
    return 0;
}
