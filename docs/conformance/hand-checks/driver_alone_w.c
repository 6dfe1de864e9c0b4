/* psqlodbcw alone: SQLDescribeColW with BufferLength=1 and 2 (characters). */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sql.h>
#include <sqlext.h>
static void *L;
#define F(name, ...) ((SQLRETURN(*)(__VA_ARGS__))dlsym(L, #name))
static void w(SQLWCHAR *o, const char *s){int i=0; for(;s[i];i++) o[i]=(unsigned char)s[i]; o[i]=0;}
int main(int argc, char **argv){
  L = dlopen(argv[1], RTLD_NOW|RTLD_LOCAL);
  SQLHANDLE env, dbc, st; SQLSMALLINT ol; SQLRETURN rc;
  F(SQLAllocHandle, SQLSMALLINT, SQLHANDLE, SQLHANDLE*)(SQL_HANDLE_ENV, 0, &env);
  F(SQLSetEnvAttr, SQLHANDLE, SQLINTEGER, SQLPOINTER, SQLINTEGER)(env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)3, 0);
  F(SQLAllocHandle, SQLSMALLINT, SQLHANDLE, SQLHANDLE*)(SQL_HANDLE_DBC, env, &dbc);
  SQLWCHAR cs[512]; w(cs, argv[2]);
  rc = F(SQLDriverConnectW, SQLHANDLE, SQLHWND, SQLWCHAR*, SQLSMALLINT, SQLWCHAR*, SQLSMALLINT, SQLSMALLINT*, SQLUSMALLINT)(dbc, 0, cs, SQL_NTS, 0, 0, &ol, SQL_DRIVER_NOPROMPT);
  printf("connect rc=%d\n", rc);
  F(SQLAllocHandle, SQLSMALLINT, SQLHANDLE, SQLHANDLE*)(SQL_HANDLE_STMT, dbc, &st);
  SQLWCHAR q[64] = {'S','E','L','E','C','T',' ','1',' ','A','S',' ','"',0xE9,0x4E2D,0xD834,0xDD1E,'x','"',0};
  rc = F(SQLExecDirectW, SQLHANDLE, SQLWCHAR*, SQLINTEGER)(st, q, SQL_NTS);
  printf("exec rc=%d\n", rc);
  for (int n = 1; n <= 2; n++) {
    unsigned short g[12]; for (int i=0;i<12;i++) g[i]=0xA5A5;
    SQLSMALLINT nl=-7, ty, dg, nu; SQLULEN sz;
    rc = F(SQLDescribeColW, SQLHANDLE, SQLUSMALLINT, SQLWCHAR*, SQLSMALLINT, SQLSMALLINT*, SQLSMALLINT*, SQLULEN*, SQLSMALLINT*, SQLSMALLINT*)(st, 1, g+4, n, &nl, &ty, &sz, &dg, &nu);
    printf("SQLDescribeColW(BufferLength=%d chars) rc=%d NameLength=%d units:", n, rc, nl);
    for (int i=0;i<4+n+2;i++) printf(" %04x", g[i]); printf("\n");
  }
  return 0;
}
