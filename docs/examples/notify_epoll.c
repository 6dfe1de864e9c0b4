/*
 * ODBC 3.8 notification mode from C through odbc-dm's libodbc.so.2, waited on with epoll.
 *
 * On Linux the "event" of SQL_ATTR_ASYNC_DBC_EVENT / SQL_ATTR_ASYNC_STMT_EVENT is an
 * eventfd that the application creates; the attribute value is the file descriptor
 * itself, cast to a pointer: (SQLPOINTER)(intptr_t)efd (docs/decisions.md #63). When an
 * asynchronous operation ends, the Driver Manager adds 1 to the eventfd's counter, so the
 * descriptor becomes readable; the DM never resets it: the application reads it (which
 * clears it) before starting the next operation. The DM keeps its own duplicate of the
 * descriptor while the attribute holds it. A value that is not an open eventfd is refused
 * with HY024.
 *
 * Build and run (README "C applications"):
 *   cc -o notify_epoll docs/examples/notify_epoll.c -L<dir with libodbc.so> -lodbc
 *   LD_LIBRARY_PATH=<dir with libodbc.so.2> ./notify_epoll "DSN=ref-test;Steps=3;Delay=5" 3
 *
 * It connects asynchronously (connection event), then runs N queries asynchronously
 * (statement event), each completed with SQLCompleteAsync after epoll reports its event.
 * Output: one line per completed operation; exit status 0 on success.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <sql.h>
#include <sqlext.h>

/* ODBC 3.8 names unixODBC's headers lack (spec §7.6). */
#ifndef SQL_ATTR_ASYNC_DBC_EVENT
#define SQL_ATTR_ASYNC_DBC_EVENT 119
#endif
#ifndef SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE
#define SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE 117
#endif
#ifndef SQL_ASYNC_DBC_ENABLE_ON
#define SQL_ASYNC_DBC_ENABLE_ON 1UL
#endif
SQLRETURN SQL_API SQLCompleteAsync(SQLSMALLINT HandleType, SQLHANDLE Handle, RETCODE *AsyncRetCodePtr);

static void fail(const char *what, SQLSMALLINT type, SQLHANDLE h, SQLRETURN rc) {
    SQLCHAR state[6] = "", msg[512] = "";
    SQLINTEGER native = 0;
    SQLSMALLINT len = 0;
    if (h) SQLGetDiagRec(type, h, 1, state, &native, msg, sizeof msg, &len);
    fprintf(stderr, "%s failed: rc=%d [%s] %s\n", what, (int)rc, state, msg);
    exit(1);
}

/* Waits until epoll reports `efd` (the tag in data.fd), then clears it. */
static void wait_event(int ep, int efd) {
    struct epoll_event ev;
    for (;;) {
        int n = epoll_wait(ep, &ev, 1, 10000);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) { fprintf(stderr, "no event within 10 s\n"); exit(2); }
        if (n < 0) { perror("epoll_wait"); exit(2); }
        if (ev.data.fd != efd) { fprintf(stderr, "event on fd %d, expected %d\n", ev.data.fd, efd); exit(2); }
        uint64_t count;
        if (read(efd, &count, sizeof count) != sizeof count) { perror("read eventfd"); exit(2); }
        return;
    }
}

/* Completes the asynchronous operation of (type, h): epoll, then SQLCompleteAsync. */
static SQLRETURN complete(int ep, int efd, SQLSMALLINT type, SQLHANDLE h, SQLRETURN first, int *waited) {
    if (first != SQL_STILL_EXECUTING) return first; /* not asynchronous: the result itself */
    wait_event(ep, efd);
    ++*waited;
    RETCODE ret = SQL_ERROR;
    SQLRETURN rc = SQLCompleteAsync(type, h, &ret);
    if (!SQL_SUCCEEDED(rc)) fail("SQLCompleteAsync", type, h, rc);
    return ret;
}

int main(int argc, char **argv) {
    const char *conn_str = argc > 1 ? argv[1] : "DSN=ref-test;Steps=3;Delay=5";
    int ops = argc > 2 ? atoi(argv[2]) : 3;
    SQLHENV env;
    SQLHDBC dbc;
    SQLHSTMT stmt;
    SQLRETURN rc;
    int waited = 0;

    int ep = epoll_create1(EPOLL_CLOEXEC);
    int dbc_event = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int stmt_event = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ep < 0 || dbc_event < 0 || stmt_event < 0) { perror("epoll/eventfd"); return 2; }
    struct epoll_event ev = { .events = EPOLLIN };
    ev.data.fd = dbc_event;
    epoll_ctl(ep, EPOLL_CTL_ADD, dbc_event, &ev);
    ev.data.fd = stmt_event;
    epoll_ctl(ep, EPOLL_CTL_ADD, stmt_event, &ev);

    SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &env);
    SQLSetEnvAttr(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3_80, 0);
    SQLAllocHandle(SQL_HANDLE_DBC, env, &dbc);

    /* Connection event: the eventfd itself is the attribute value. */
    rc = SQLSetConnectAttr(dbc, SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE, (SQLPOINTER)SQL_ASYNC_DBC_ENABLE_ON, SQL_IS_UINTEGER);
    if (!SQL_SUCCEEDED(rc)) fail("SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE", SQL_HANDLE_DBC, dbc, rc);
    rc = SQLSetConnectAttr(dbc, SQL_ATTR_ASYNC_DBC_EVENT, (SQLPOINTER)(intptr_t)dbc_event, SQL_IS_POINTER);
    if (!SQL_SUCCEEDED(rc)) fail("SQL_ATTR_ASYNC_DBC_EVENT", SQL_HANDLE_DBC, dbc, rc);
    SQLPOINTER back = NULL;
    SQLGetConnectAttr(dbc, SQL_ATTR_ASYNC_DBC_EVENT, &back, SQL_IS_POINTER, NULL);
    if ((intptr_t)back != dbc_event) { fprintf(stderr, "event reads back as %p\n", back); return 3; }

    rc = SQLDriverConnect(dbc, NULL, (SQLCHAR *)conn_str, SQL_NTS, NULL, 0, NULL, SQL_DRIVER_NOPROMPT);
    rc = complete(ep, dbc_event, SQL_HANDLE_DBC, dbc, rc, &waited);
    if (!SQL_SUCCEEDED(rc)) fail("SQLDriverConnect", SQL_HANDLE_DBC, dbc, rc);
    printf("connected (asynchronous connect completed through the connection eventfd)\n");

    SQLAllocHandle(SQL_HANDLE_STMT, dbc, &stmt);
    rc = SQLSetStmtAttr(stmt, SQL_ATTR_ASYNC_ENABLE, (SQLPOINTER)SQL_ASYNC_ENABLE_ON, 0);
    if (!SQL_SUCCEEDED(rc)) fail("SQL_ATTR_ASYNC_ENABLE", SQL_HANDLE_STMT, stmt, rc);
    rc = SQLSetStmtAttr(stmt, SQL_ATTR_ASYNC_STMT_EVENT, (SQLPOINTER)(intptr_t)stmt_event, SQL_IS_POINTER);
    if (!SQL_SUCCEEDED(rc)) fail("SQL_ATTR_ASYNC_STMT_EVENT", SQL_HANDLE_STMT, stmt, rc);

    for (int i = 1; i <= ops; i++) {
        char sql[64];
        snprintf(sql, sizeof sql, "SELECT %d * 7", i);
        rc = SQLExecDirect(stmt, (SQLCHAR *)sql, SQL_NTS);
        rc = complete(ep, stmt_event, SQL_HANDLE_STMT, stmt, rc, &waited);
        if (!SQL_SUCCEEDED(rc)) fail("SQLExecDirect", SQL_HANDLE_STMT, stmt, rc);
        rc = SQLFetch(stmt);
        rc = complete(ep, stmt_event, SQL_HANDLE_STMT, stmt, rc, &waited);
        if (!SQL_SUCCEEDED(rc)) fail("SQLFetch", SQL_HANDLE_STMT, stmt, rc);
        SQLINTEGER value = 0;
        SQLLEN ind = 0;
        rc = SQLGetData(stmt, 1, SQL_C_SLONG, &value, 0, &ind);
        rc = complete(ep, stmt_event, SQL_HANDLE_STMT, stmt, rc, &waited);
        if (!SQL_SUCCEEDED(rc)) fail("SQLGetData", SQL_HANDLE_STMT, stmt, rc);
        rc = SQLCloseCursor(stmt);
        if (!SQL_SUCCEEDED(rc)) fail("SQLCloseCursor", SQL_HANDLE_STMT, stmt, rc);
        printf("op %d: %s = %d\n", i, sql, (int)value);
    }

    /* The application may close its descriptors: the DM holds its own duplicates. */
    SQLFreeHandle(SQL_HANDLE_STMT, stmt);
    rc = SQLDisconnect(dbc);
    rc = complete(ep, dbc_event, SQL_HANDLE_DBC, dbc, rc, &waited);
    if (!SQL_SUCCEEDED(rc)) fail("SQLDisconnect", SQL_HANDLE_DBC, dbc, rc);
    SQLFreeHandle(SQL_HANDLE_DBC, dbc);
    SQLFreeHandle(SQL_HANDLE_ENV, env);
    close(dbc_event);
    close(stmt_event);
    close(ep);
    printf("done: %d operations completed through epoll\n", waited);
    return 0;
}
