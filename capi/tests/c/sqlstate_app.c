/*
 * SQLSTATEs in the form of the application's ODBC version (docs/decisions.md #97).
 * usage: sqlstate_app 2|3 DSN
 *   3: an ODBC 3 application (SQLAllocHandle, SQL_OV_ODBC3); reads states with
 *      SQLGetDiagRec, SQLGetDiagRecW and SQLGetDiagField.
 *   2: an ODBC 2 application (SQLAllocEnv: SQL_OV_ODBC2); reads states with SQLError and
 *      SQLErrorW.
 * Errors provoked: a missing table (the driver's error) and SQLFetchScroll /
 * SQLExtendedFetch with FetchOrientation 99 (the DM's HY106).
 * Prints "state <what> <api> <SQLSTATE>" lines.
 */
#include <stdio.h>
#include <string.h>
#include <sql.h>
#include <sqlext.h>
#include <sqlucode.h>

static SQLHENV env;
static SQLHDBC dbc;
static SQLHSTMT stmt;

static void narrow(const SQLWCHAR *w, char *out) {
    int i;
    for (i = 0; i < 5 && w[i]; i++) out[i] = (char)w[i];
    out[i] = 0;
}

static void report3(const char *what) {
    SQLCHAR st[6] = "", fst[6] = "";
    SQLWCHAR wst[6] = {0};
    char n[6];
    SQLINTEGER nat;
    SQLSMALLINT len;
    SQLGetDiagRec(SQL_HANDLE_STMT, stmt, 1, st, &nat, NULL, 0, &len);
    SQLGetDiagRecW(SQL_HANDLE_STMT, stmt, 1, wst, &nat, NULL, 0, &len);
    SQLGetDiagField(SQL_HANDLE_STMT, stmt, 1, SQL_DIAG_SQLSTATE, fst, sizeof fst, &len);
    narrow(wst, n);
    printf("state %s GetDiagRec %s\nstate %s GetDiagRecW %s\nstate %s GetDiagField %s\n", what, st, what, n, what, fst);
}

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    int v2 = argv[1][0] == '2';
    const char *dsn = argv[2];
    SQLRETURN rc;
    if (v2) {
        SQLAllocEnv(&env);
        SQLAllocConnect(env, &dbc);
        rc = SQLConnect(dbc, (SQLCHAR *)dsn, SQL_NTS, NULL, 0, NULL, 0);
        if (!SQL_SUCCEEDED(rc)) { printf("connect rc=%d\n", rc); return 1; }
        SQLAllocStmt(dbc, &stmt);
    } else {
        SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
        SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
        SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);
        rc = SQLConnect(dbc, (SQLCHAR *)dsn, SQL_NTS, NULL, 0, NULL, 0);
        if (!SQL_SUCCEEDED(rc)) { printf("connect rc=%d\n", rc); return 1; }
        SQLAllocHandle(SQL_HANDLE_STMT, dbc, &stmt);
    }
    for (int round = 0; round < 2; round++) {
        const char *what = round == 0 ? "driver" : "dm";
        if (round == 0) {
            rc = SQLExecDirect(stmt, (SQLCHAR *)"SELECT * FROM no_such_table_sqlstate", SQL_NTS);
        } else {
            rc = SQLExecDirect(stmt, (SQLCHAR *)"SELECT 1", SQL_NTS);
            if (!SQL_SUCCEEDED(rc)) { printf("select 1 rc=%d\n", rc); return 1; }
            SQLULEN rows;
            SQLUSMALLINT status[1];
            rc = v2 ? SQLExtendedFetch(stmt, 99, 0, &rows, status) : SQLFetchScroll(stmt, 99, 0);
        }
        if (rc != SQL_ERROR) { printf("%s: rc=%d, expected SQL_ERROR\n", what, rc); return 1; }
        if (v2) {
            SQLCHAR st[6] = "";
            SQLWCHAR wst[6] = {0};
            char n[6];
            SQLINTEGER nat;
            SQLSMALLINT len;
            SQLCHAR msg[256];
            SQLError(env, dbc, stmt, st, &nat, msg, sizeof msg, &len);
            printf("state %s Error %s\n", what, st);
            /* SQLError consumed the first record: provoke the error again for SQLErrorW. */
            if (round == 0) {
                SQLExecDirect(stmt, (SQLCHAR *)"SELECT * FROM no_such_table_sqlstate", SQL_NTS);
            } else {
                SQLULEN rows;
                SQLUSMALLINT status[1];
                SQLExtendedFetch(stmt, 99, 0, &rows, status);
            }
            SQLWCHAR wmsg[256];
            SQLErrorW(env, dbc, stmt, wst, &nat, wmsg, 256, &len);
            narrow(wst, n);
            printf("state %s ErrorW %s\n", what, n);
        } else {
            report3(what);
        }
        SQLFreeStmt(stmt, SQL_CLOSE);
    }
    return 0;
}
