/* Hand check of the conformance findings added with the invalid-handle, SQLColAttribute,
   SQLGetDiagField and SQLDriverConnect checks, against the driver alone (no DM): dlopen
   the driver, call its own entry points, print what comes back. Each probe that may kill
   the process runs in a forked child; its end (exit code or signal) is printed.

   gcc -o new_findings new_findings.c -ldl && ./new_findings <driver.so> "<keywords>"  */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sql.h>
#include <sqlext.h>
typedef SQLRETURN (*AH)(SQLSMALLINT, SQLHANDLE, SQLHANDLE *);
static void *L;
static const char *CS;
#define F(name, ...) ((SQLRETURN(*)(__VA_ARGS__))dlsym(L, #name))
static void dump(const char *w, unsigned char *b, int n) {
  printf("%s:", w);
  for (int i = 0; i < n; i++) printf(" %02x", b[i]);
  printf("\n");
}
static int has(const char *n) { return dlsym(L, n) != 0; }
static SQLHANDLE env, dbc;
static void env_dbc(void) {
  AH alloc = (AH)dlsym(L, "SQLAllocHandle");
  alloc(SQL_HANDLE_ENV, 0, &env);
  F(SQLSetEnvAttr, SQLHANDLE, SQLINTEGER, SQLPOINTER, SQLINTEGER)(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)3, 0);
  alloc(SQL_HANDLE_DBC, env, &dbc);
}
static SQLRETURN connect_a(SQLHANDLE d, SQLCHAR *out, SQLSMALLINT max, SQLSMALLINT *ol) {
  return F(SQLDriverConnect, SQLHANDLE, SQLHWND, SQLCHAR *, SQLSMALLINT, SQLCHAR *, SQLSMALLINT, SQLSMALLINT *, SQLUSMALLINT)(
      d, 0, (SQLCHAR *)CS, SQL_NTS, out, max, ol, SQL_DRIVER_NOPROMPT);
}
static SQLRETURN connect_w(SQLHANDLE d, SQLWCHAR *out, SQLSMALLINT max, SQLSMALLINT *ol) {
  SQLWCHAR w[512];
  int i = 0;
  for (; CS[i]; i++) w[i] = CS[i];
  w[i] = 0;
  return F(SQLDriverConnectW, SQLHANDLE, SQLHWND, SQLWCHAR *, SQLSMALLINT, SQLWCHAR *, SQLSMALLINT, SQLSMALLINT *, SQLUSMALLINT)(
      d, 0, w, SQL_NTS, out, max, ol, SQL_DRIVER_NOPROMPT);
}
static void connect(void) {
  SQLSMALLINT ol;
  SQLRETURN rc = has("SQLDriverConnectW") ? connect_w(dbc, 0, 0, &ol) : connect_a(dbc, 0, 0, &ol);
  if (rc != 0 && rc != 1) { printf("connect rc=%d\n", rc); exit(3); }
}
/* Runs probe() in a child; prints how the child ended. */
static void isolated(const char *what, void (*probe)(void)) {
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) { probe(); fflush(stdout); _exit(0); }
  int st;
  waitpid(p, &st, 0);
  if (WIFSIGNALED(st)) printf("%s: child killed by signal %d (%s)\n", what, WTERMSIG(st), strsignal(WTERMSIG(st)));
  else printf("%s: child exited %d\n", what, WEXITSTATUS(st));
}
/* g) NULL handles */
static void null_getinfo(void) {
  char b[64]; SQLSMALLINT l;
  SQLRETURN rc = F(SQLGetInfo, SQLHANDLE, SQLUSMALLINT, SQLPOINTER, SQLSMALLINT, SQLSMALLINT *)(0, SQL_DRIVER_NAME, b, 64, &l);
  printf("g) SQLGetInfo(NULL) rc=%d\n", rc);
}
static void null_alloc_stmt(void) {
  SQLHANDLE s; SQLRETURN rc = ((AH)dlsym(L, "SQLAllocHandle"))(SQL_HANDLE_STMT, 0, &s);
  printf("g) SQLAllocHandle(STMT, NULL) rc=%d\n", rc);
}
/* h) freed DBC */
static void freed_getinfo(void) {
  env_dbc();
  F(SQLFreeHandle, SQLSMALLINT, SQLHANDLE)(SQL_HANDLE_DBC, dbc);
  char b[64]; SQLSMALLINT l;
  SQLRETURN rc = F(SQLGetInfo, SQLHANDLE, SQLUSMALLINT, SQLPOINTER, SQLSMALLINT, SQLSMALLINT *)(dbc, SQL_DRIVER_NAME, b, 64, &l);
  printf("h) SQLGetInfo(freed DBC) rc=%d\n", rc);
}
/* i) wrong kinds */
static void env_as_dbc(void) {
  env_dbc();
  char b[64]; SQLSMALLINT l;
  SQLRETURN rc = F(SQLGetInfo, SQLHANDLE, SQLUSMALLINT, SQLPOINTER, SQLSMALLINT, SQLSMALLINT *)(env, SQL_DRIVER_NAME, b, 64, &l);
  printf("i) SQLGetInfo(ENV handle) rc=%d\n", rc);
}
static void dbc_as_stmt(void) {
  env_dbc();
  SQLRETURN rc = F(SQLExecDirect, SQLHANDLE, SQLCHAR *, SQLINTEGER)(dbc, (SQLCHAR *)"SELECT 1", SQL_NTS);
  printf("i) SQLExecDirect(DBC handle) rc=%d\n", rc);
}
/* j) SQLDriverConnect output string, 0-byte and small buffers, 8 guard bytes each side */
static void drvconn_a(void) {
  int sizes[] = {0, 1, 5, 1024};
  for (int k = 0; k < 4; k++) {
    unsigned char g[1100]; memset(g, 0xA5, sizeof g);
    env_dbc();
    SQLSMALLINT ol = -7;
    printf("j) SQLDriverConnect(BufferLength=%d) ...\n", sizes[k]); fflush(stdout);
    SQLRETURN rc = connect_a(dbc, g + 8, sizes[k], &ol);
    printf("   rc=%d StringLength2=%d\n", rc, ol);
    if (sizes[k] < 1024) dump("   buffer (8 guard, n, 8 guard)", g, 16 + sizes[k]);
    else printf("   string: %s\n", g + 8);
    F(SQLDisconnect, SQLHANDLE)(dbc);
  }
}
static void drvconn_w(void) {
  int sizes[] = {0, 2, 10};
  for (int k = 0; k < 3; k++) {
    unsigned char g[64]; memset(g, 0xA5, sizeof g);
    env_dbc();
    SQLSMALLINT ol = -7;
    SQLRETURN rc = connect_w(dbc, (SQLWCHAR *)(g + 8), sizes[k], &ol);
    printf("j) SQLDriverConnectW(BufferLength=%d chars) rc=%d StringLength2=%d\n", sizes[k], rc, ol);
    dump("   buffer (8 guard, 2n, 8 guard)", g, 16 + 2 * sizes[k]);
    F(SQLDisconnect, SQLHANDLE)(dbc);
  }
}
/* k) SQLColAttribute(SQL_DESC_NAME) of column é中𝄞x with 5 bytes; W with 4 bytes */
static void colattr(void) {
  env_dbc(); connect();
  SQLHANDLE st; ((AH)dlsym(L, "SQLAllocHandle"))(SQL_HANDLE_STMT, dbc, &st);
  const char *sql = "SELECT 1 AS \"\xc3\xa9\xe4\xb8\xad\xf0\x9d\x84\x9ex\"";
  if (strstr(CS, "Port=3306")) sql = "SELECT 1 AS `\xc3\xa9\xe4\xb8\xad\xc3\xb1x`";
  SQLRETURN rc;
  if (has("SQLExecDirectW")) {
    /* UTF-8 → UTF-16 for the few characters used */
    SQLWCHAR w[64]; int n = 0; const unsigned char *p = (const unsigned char *)sql;
    while (*p) {
      unsigned c;
      if (*p < 0x80) c = *p++;
      else if (*p < 0xE0) { c = ((p[0] & 0x1F) << 6) | (p[1] & 0x3F); p += 2; }
      else if (*p < 0xF0) { c = ((p[0] & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F); p += 3; }
      else { c = ((p[0] & 7) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F); p += 4; }
      if (c >= 0x10000) { c -= 0x10000; w[n++] = 0xD800 + (c >> 10); w[n++] = 0xDC00 + (c & 0x3FF); }
      else w[n++] = c;
    }
    rc = F(SQLExecDirectW, SQLHANDLE, SQLWCHAR *, SQLINTEGER)(st, w, n);
  } else rc = F(SQLExecDirect, SQLHANDLE, SQLCHAR *, SQLINTEGER)(st, (SQLCHAR *)sql, SQL_NTS);
  printf("k) exec rc=%d\n", rc);
  unsigned char g[64]; memset(g, 0xA5, sizeof g); SQLSMALLINT l = -7; SQLLEN num;
  rc = F(SQLColAttribute, SQLHANDLE, SQLUSMALLINT, SQLUSMALLINT, SQLPOINTER, SQLSMALLINT, SQLSMALLINT *, SQLLEN *)(st, 1, SQL_DESC_NAME, g + 8, 5, &l, &num);
  printf("k) SQLColAttribute(SQL_DESC_NAME, BufferLength=5) rc=%d len=%d\n", rc, l); dump("   buffer (8 guard, 5, guard)", g, 18);
  if (has("SQLColAttributeW")) {
    memset(g, 0xA5, sizeof g); l = -7;
    rc = F(SQLColAttributeW, SQLHANDLE, SQLUSMALLINT, SQLUSMALLINT, SQLPOINTER, SQLSMALLINT, SQLSMALLINT *, SQLLEN *)(st, 1, SQL_DESC_NAME, g + 8, 4, &l, &num);
    printf("k) SQLColAttributeW(SQL_DESC_NAME, BufferLength=4 bytes) rc=%d len=%d\n", rc, l); dump("   buffer (8 guard, 4, guard)", g, 20);
  }
}
/* l) SQLGetDiagField(SQL_DIAG_MESSAGE_TEXT) with 2 bytes (A) and 4 bytes (W), fresh error each */
static void diagfield(void) {
  env_dbc(); connect();
  SQLHANDLE st; ((AH)dlsym(L, "SQLAllocHandle"))(SQL_HANDLE_STMT, dbc, &st);
  unsigned char g[64]; SQLSMALLINT l; SQLRETURN rc;
  if (has("SQLGetDiagField")) {
    F(SQLExecDirect, SQLHANDLE, SQLCHAR *, SQLINTEGER)(st, (SQLCHAR *)"SELECT * FROM no_such_table_h7", SQL_NTS);
    memset(g, 0xA5, sizeof g); l = -7;
    rc = F(SQLGetDiagField, SQLSMALLINT, SQLHANDLE, SQLSMALLINT, SQLSMALLINT, SQLPOINTER, SQLSMALLINT, SQLSMALLINT *)(SQL_HANDLE_STMT, st, 1, SQL_DIAG_MESSAGE_TEXT, g + 8, 2, &l);
    printf("l) SQLGetDiagField(MESSAGE_TEXT, BufferLength=2) rc=%d len=%d\n", rc, l); dump("   buffer (8 guard, 2, guard)", g, 18);
  }
  if (has("SQLGetDiagFieldW")) {
    for (int size = 0; size <= 4; size += 2) {
      F(SQLExecDirect, SQLHANDLE, SQLCHAR *, SQLINTEGER)(st, (SQLCHAR *)"SELECT * FROM no_such_table_h7", SQL_NTS);
      memset(g, 0xA5, sizeof g); l = -7;
      rc = F(SQLGetDiagFieldW, SQLSMALLINT, SQLHANDLE, SQLSMALLINT, SQLSMALLINT, SQLPOINTER, SQLSMALLINT, SQLSMALLINT *)(SQL_HANDLE_STMT, st, 1, SQL_DIAG_MESSAGE_TEXT, g + 8, size, &l);
      printf("l) SQLGetDiagFieldW(MESSAGE_TEXT, BufferLength=%d bytes) rc=%d len=%d\n", size, rc, l); dump("   buffer (8 guard, n, guard)", g, 16 + size);
    }
    memset(g, 0xA5, sizeof g);
    SQLWCHAR big[512]; l = -7;
    F(SQLExecDirect, SQLHANDLE, SQLCHAR *, SQLINTEGER)(st, (SQLCHAR *)"SELECT * FROM no_such_table_h7", SQL_NTS);
    rc = F(SQLGetDiagFieldW, SQLSMALLINT, SQLHANDLE, SQLSMALLINT, SQLSMALLINT, SQLPOINTER, SQLSMALLINT, SQLSMALLINT *)(SQL_HANDLE_STMT, st, 1, SQL_DIAG_MESSAGE_TEXT, big, sizeof big, &l);
    int n = 0; while (big[n]) n++;
    printf("l) SQLGetDiagFieldW(MESSAGE_TEXT, BufferLength=%zu bytes) rc=%d len=%d, text has %d UTF-16 units\n", sizeof big, rc, l, n);
  }
}
int main(int argc, char **argv) {
  if (argc < 3) { fprintf(stderr, "usage: %s <driver.so> \"<keywords>\"\n", argv[0]); return 2; }
  CS = argv[2];
  L = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!L) { printf("dlopen %s\n", dlerror()); return 1; }
  isolated("g) SQLGetInfo(NULL)", null_getinfo);
  isolated("g) SQLAllocHandle(STMT, NULL)", null_alloc_stmt);
  isolated("h) SQLGetInfo(freed DBC)", freed_getinfo);
  isolated("i) SQLGetInfo(ENV)", env_as_dbc);
  isolated("i) SQLExecDirect(DBC)", dbc_as_stmt);
  if (has("SQLDriverConnect")) isolated("j) SQLDriverConnect out string", drvconn_a);
  if (has("SQLDriverConnectW")) isolated("j) SQLDriverConnectW out string", drvconn_w);
  if (strlen(CS) > 0 && !strstr(CS, "nodb")) {
    isolated("k) SQLColAttribute", colattr);
    isolated("l) SQLGetDiagField", diagfield);
  }
  return 0;
}
