/*
 * SQLDriversW and SQLDrivers over an odbcinst.ini whose Driver/Setup entries are absolute
 * paths (unixODBC 2.3.11 aborts with "double free or corruption" in SQLDriversW there).
 * Prints "DRIVER <description> | <attributes joined by ;>" per driver, for both forms.
 */
#include <stdio.h>
#include <string.h>

#include <sql.h>
#include <sqlext.h>
#include <sqlucode.h>

static void narrow(const SQLWCHAR *w, char *out, size_t n) {
    size_t i = 0;
    for (; w[i] && i + 1 < n; i++) out[i] = w[i] < 128 ? (char)w[i] : '?';
    out[i] = 0;
}

int main(void) {
    SQLHENV env;
    SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
    SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
    SQLWCHAR desc[256], attrs[1024];
    SQLSMALLINT dl, al;
    int n = 0;
    SQLUSMALLINT dir = SQL_FETCH_FIRST;
    SQLRETURN rc;
    while (SQL_SUCCEEDED(rc = SQLDriversW(env, dir, desc, 256, &dl, attrs, 1024, &al))) {
        char d[256], a[1024];
        narrow(desc, d, sizeof d);
        /* attributes are NUL-separated, double-NUL-terminated */
        size_t k = 0;
        for (SQLSMALLINT i = 0; i < al && k + 1 < sizeof a; i++) a[k++] = attrs[i] ? (char)attrs[i] : ';';
        a[k] = 0;
        printf("W DRIVER %s | %s\n", d, a);
        dir = SQL_FETCH_NEXT;
        n++;
    }
    printf("W end rc=%d count=%d\n", rc, n);
    SQLCHAR ddesc[256], dattrs[1024];
    dir = SQL_FETCH_FIRST;
    n = 0;
    while (SQL_SUCCEEDED(rc = SQLDrivers(env, dir, ddesc, 256, &dl, dattrs, 1024, &al))) {
        for (SQLSMALLINT i = 0; i < al; i++) if (!dattrs[i]) dattrs[i] = ';';
        printf("A DRIVER %s | %.*s\n", ddesc, (int)al, dattrs);
        dir = SQL_FETCH_NEXT;
        n++;
    }
    printf("A end rc=%d count=%d\n", rc, n);
    SQLFreeHandle(SQL_HANDLE_ENV, env);
    return 0;
}
