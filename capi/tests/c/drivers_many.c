/*
 * SQLDriversW over many odbcinst.ini sections with long names and absolute Driver/Setup
 * paths (capi/tests/drivers.rs). argv[1], argv[2]: the description and attribute buffer
 * sizes in characters. Prints "D <description>" per driver (the buffer's content) and
 * "end rc=<rc> count=<n> truncated=<number of SQL_SUCCESS_WITH_INFO>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <sql.h>
#include <sqlext.h>
#include <sqlucode.h>

int main(int argc, char **argv) {
    if (argc < 3) return 2;
    int dlen = atoi(argv[1]), alen = atoi(argv[2]);
    SQLHENV env;
    SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
    SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
    SQLWCHAR *desc = calloc(dlen + 1, sizeof(SQLWCHAR)), *attrs = calloc(alen + 1, sizeof(SQLWCHAR));
    SQLSMALLINT dl, al;
    int n = 0, trunc = 0;
    SQLRETURN rc;
    SQLUSMALLINT dir = SQL_FETCH_FIRST;
    while ((rc = SQLDriversW(env, dir, desc, dlen, &dl, attrs, alen, &al)) == SQL_SUCCESS || rc == SQL_SUCCESS_WITH_INFO) {
        if (rc == SQL_SUCCESS_WITH_INFO) trunc++;
        printf("D ");
        for (int i = 0; i < dlen && desc[i]; i++) putchar(desc[i] < 128 ? (char)desc[i] : '?');
        printf("\n");
        dir = SQL_FETCH_NEXT;
        if (++n > 10000) break;
    }
    printf("end rc=%d count=%d truncated=%d\n", rc, n, trunc);
    SQLFreeHandle(SQL_HANDLE_ENV, env);
    free(desc);
    free(attrs);
    return 0;
}
