/* Hand check of the conformance findings against the driver alone (no DM): dlopen the
   driver, call its own entry points, print what comes back. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sql.h>
#include <sqlext.h>
typedef SQLRETURN (*AH)(SQLSMALLINT, SQLHANDLE, SQLHANDLE*);
static void *L;
#define F(name, ...) ((SQLRETURN(*)(__VA_ARGS__))dlsym(L, #name))
static void dump(const char *w, unsigned char *b, int n){printf("%s:", w); for(int i=0;i<n;i++)printf(" %02x", b[i]); printf("\n");}
int main(int argc, char **argv){
  const char *drv = argv[1], *cs = argv[2], *mode = argv[3];
  L = dlopen(drv, RTLD_NOW|RTLD_LOCAL); if(!L){printf("dlopen %s\n", dlerror()); return 1;}
  AH alloc = (AH)dlsym(L, "SQLAllocHandle");
  SQLHANDLE env, dbc, st; alloc(SQL_HANDLE_ENV, 0, &env);
  F(SQLSetEnvAttr, SQLHANDLE, SQLINTEGER, SQLPOINTER, SQLINTEGER)(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)3, 0);
  alloc(SQL_HANDLE_DBC, env, &dbc);
  SQLSMALLINT ol; SQLRETURN rc;
  if (dlsym(L, "SQLDriverConnectW") && strcmp(mode, "ansi")) {
    SQLWCHAR w[512]; int i=0; for(;cs[i];i++) w[i]=cs[i]; w[i]=0;
    rc = F(SQLDriverConnectW, SQLHANDLE, SQLHWND, SQLWCHAR*, SQLSMALLINT, SQLWCHAR*, SQLSMALLINT, SQLSMALLINT*, SQLUSMALLINT)(dbc, 0, w, SQL_NTS, 0, 0, &ol, SQL_DRIVER_NOPROMPT);
  } else rc = F(SQLDriverConnect, SQLHANDLE, SQLHWND, SQLCHAR*, SQLSMALLINT, SQLCHAR*, SQLSMALLINT, SQLSMALLINT*, SQLUSMALLINT)(dbc, 0, (SQLCHAR*)cs, SQL_NTS, 0, 0, &ol, SQL_DRIVER_NOPROMPT);
  printf("connect rc=%d\n", rc);
  alloc(SQL_HANDLE_STMT, dbc, &st);
  unsigned char g[64];
  /* a) ANSI SQLDescribeCol, 5-byte buffer, column é中𝄞x (UTF-8) */
  rc = F(SQLExecDirect, SQLHANDLE, SQLCHAR*, SQLINTEGER)(st, (SQLCHAR*)"SELECT 1 AS \"\xc3\xa9\xe4\xb8\xad\xf0\x9d\x84\x9ex\"", SQL_NTS);
  memset(g, 0xA5, sizeof g); SQLSMALLINT nl=-7, ty, dg, nu; SQLULEN sz;
  rc = F(SQLDescribeCol, SQLHANDLE, SQLUSMALLINT, SQLCHAR*, SQLSMALLINT, SQLSMALLINT*, SQLSMALLINT*, SQLULEN*, SQLSMALLINT*, SQLSMALLINT*)(st, 1, g+8, 5, &nl, &ty, &sz, &dg, &nu);
  printf("a) SQLDescribeCol(BufferLength=5) rc=%d NameLength=%d\n", rc, nl); dump("   buffer (8 guard, 5, guard)", g, 18);
  F(SQLFreeStmt, SQLHANDLE, SQLUSMALLINT)(st, SQL_CLOSE);
  /* b) diagnostic read twice */
  rc = F(SQLExecDirect, SQLHANDLE, SQLCHAR*, SQLINTEGER)(st, (SQLCHAR*)"SELECT * FROM no_such_table_h6", SQL_NTS);
  SQLCHAR state[6], msg[512]; SQLINTEGER nat; SQLSMALLINT ml;
  for (int i=0;i<2;i++){ rc = F(SQLGetDiagRec, SQLSMALLINT, SQLHANDLE, SQLSMALLINT, SQLCHAR*, SQLINTEGER*, SQLCHAR*, SQLSMALLINT, SQLSMALLINT*)(SQL_HANDLE_STMT, st, 1, state, &nat, msg, 512, &ml);
    printf("b) SQLGetDiagRec(1) read %d: rc=%d %s\n", i+1, rc, rc==0? (char*)state : "-"); }
  /* c) SQLGetConnectAttr(CURRENT_CATALOG) with a 0-byte buffer */
  memset(g, 0xA5, sizeof g); SQLINTEGER al=-7;
  rc = F(SQLGetConnectAttr, SQLHANDLE, SQLINTEGER, SQLPOINTER, SQLINTEGER, SQLINTEGER*)(dbc, SQL_ATTR_CURRENT_CATALOG, g+8, 0, &al);
  printf("c) SQLGetConnectAttr(CURRENT_CATALOG, BufferLength=0) rc=%d len=%d\n", rc, al); dump("   buffer (8 guard, 0, guard)", g, 12);
  /* d) SQLGetData(SQL_C_WCHAR) with a 3-byte buffer */
  rc = F(SQLExecDirect, SQLHANDLE, SQLCHAR*, SQLINTEGER)(st, (SQLCHAR*)"SELECT 'hello'", SQL_NTS);
  rc = F(SQLFetch, SQLHANDLE)(st);
  memset(g, 0xA5, sizeof g); SQLLEN ind=-7;
  rc = F(SQLGetData, SQLHANDLE, SQLUSMALLINT, SQLSMALLINT, SQLPOINTER, SQLLEN, SQLLEN*)(st, 1, SQL_C_WCHAR, g+8, 3, &ind);
  printf("d) SQLGetData(SQL_C_WCHAR, BufferLength=3) rc=%d ind=%ld\n", rc, (long)ind); dump("   buffer (8 guard, 3, guard)", g, 14);
  F(SQLFreeStmt, SQLHANDLE, SQLUSMALLINT)(st, SQL_CLOSE);
  /* e) idle SQLCancel between two fetches */
  rc = F(SQLExecDirect, SQLHANDLE, SQLCHAR*, SQLINTEGER)(st, (SQLCHAR*)"SELECT 1 UNION ALL SELECT 2", SQL_NTS);
  SQLRETURN f1 = F(SQLFetch, SQLHANDLE)(st), c = F(SQLCancel, SQLHANDLE)(st), f2 = F(SQLFetch, SQLHANDLE)(st);
  printf("e) SQLFetch=%d SQLCancel=%d SQLFetch=%d\n", f1, c, f2);
  /* f) SQLGetInfo(SQL_DRIVER_NAME) with a 5-byte buffer */
  memset(g, 0xA5, sizeof g); SQLSMALLINT il=-7;
  rc = F(SQLGetInfo, SQLHANDLE, SQLUSMALLINT, SQLPOINTER, SQLSMALLINT, SQLSMALLINT*)(dbc, SQL_DRIVER_NAME, g+8, 5, &il);
  printf("f) SQLGetInfo(SQL_DRIVER_NAME, BufferLength=5) rc=%d len=%d\n", rc, il); dump("   buffer (8 guard, 5, guard)", g, 16);
  return 0;
}
