//! Catalog function arguments, built once for the synchronous and asynchronous APIs:
//! [`CatalogArgs`] checks and owns the (narrow, UTF-8) string arguments of `SQLTables`,
//! `SQLColumns` and `SQLPrimaryKeys` and makes the call. The arguments are heap copies,
//! so an asynchronous operation can own them until the driver is done (§2.9).

use std::ptr;

use odbc_dm_abi::*;

use super::error::{Error, Result};
use crate::raw;

/// Which catalog function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Catalog {
    Tables,
    Columns,
    PrimaryKeys,
}

/// The string arguments of one catalog call; `None` is NULL (no restriction).
pub(crate) struct CatalogArgs {
    function: Catalog,
    args: [Option<Box<[u8]>>; 4],
    lens: [SqlSmallInt; 4],
}

impl CatalogArgs {
    fn new(function: Catalog, args: [Option<&str>; 4]) -> Result<CatalogArgs> {
        let mut lens = [0; 4];
        for (l, a) in lens.iter_mut().zip(&args) {
            if let Some(a) = a {
                *l = i16::try_from(a.len()).map_err(|_| Error::Usage(format!("catalog argument of {} bytes is too long", a.len())))?;
            }
        }
        Ok(CatalogArgs { function, args: args.map(|a| a.map(|s| s.as_bytes().into())), lens })
    }

    /// `SQLTables(catalog, schema, table, table_type)`.
    pub(crate) fn tables(catalog: Option<&str>, schema: Option<&str>, table: Option<&str>, table_type: Option<&str>) -> Result<Self> {
        Self::new(Catalog::Tables, [catalog, schema, table, table_type])
    }

    /// `SQLColumns(catalog, schema, table, column)`.
    pub(crate) fn columns(catalog: Option<&str>, schema: Option<&str>, table: Option<&str>, column: Option<&str>) -> Result<Self> {
        Self::new(Catalog::Columns, [catalog, schema, table, column])
    }

    /// `SQLPrimaryKeys(catalog, schema, table)`.
    pub(crate) fn primary_keys(catalog: Option<&str>, schema: Option<&str>, table: &str) -> Result<Self> {
        Self::new(Catalog::PrimaryKeys, [catalog, schema, Some(table), None])
    }

    /// The ODBC function's name.
    pub(crate) fn function(&self) -> &'static str {
        match self.function {
            Catalog::Tables => "SQLTables",
            Catalog::Columns => "SQLColumns",
            Catalog::PrimaryKeys => "SQLPrimaryKeys",
        }
    }

    /// Closes `h`'s cursor (`SQLFreeStmt(SQL_CLOSE)`), then calls the function.
    ///
    /// # Safety
    ///
    /// `h` must be a statement handle of the caller. The driver may read the arguments
    /// until the call completes: when it returns `SQL_STILL_EXECUTING`, `self` must stay
    /// alive (and unmoved, if not boxed) until the asynchronous operation has ended.
    pub(crate) unsafe fn call(&self, h: SqlHStmt) -> SqlReturn {
        let p = |i: usize| self.args[i].as_ref().map_or(ptr::null(), |b| b.as_ptr());
        let l = self.lens;
        // SAFETY: the caller's statement id; not an asynchronous function.
        unsafe { raw::SQLFreeStmt(h, FreeStmtOption::SQL_CLOSE) };
        // SAFETY: the caller's statement id; each argument NULL or `l[i]` bytes of heap
        // memory owned by `self`, alive for the call (see `# Safety`).
        unsafe {
            match self.function {
                Catalog::Tables => raw::SQLTables(h, p(0), l[0], p(1), l[1], p(2), l[2], p(3), l[3]),
                Catalog::Columns => raw::SQLColumns(h, p(0), l[0], p(1), l[1], p(2), l[2], p(3), l[3]),
                Catalog::PrimaryKeys => raw::SQLPrimaryKeys(h, p(0), l[0], p(1), l[1], p(2), l[2]),
            }
        }
    }
}

/// The catalog methods of a statement type, written once for the synchronous and the
/// asynchronous statement (and the blocking twins of the latter): each method builds its
/// [`CatalogArgs`] and hands them, with the ODBC function's name, to the type's `$run`
/// method, which decides how the call is driven and what it returns (`$ret`).
macro_rules! catalog_methods {
    ($ret:ty, $run:ident, $what:literal, $tables:ident, $columns:ident, $primary_keys:ident) => {
        #[doc = concat!("`SQLTables` ", $what, " (an open cursor is closed first); `None` arguments are NULL (no restriction).")]
        pub fn $tables(&mut self, catalog: Option<&str>, schema: Option<&str>, table: Option<&str>, table_type: Option<&str>) -> $ret {
            self.$run("SQLTables", CatalogArgs::tables(catalog, schema, table, table_type))
        }

        #[doc = concat!("`SQLColumns` ", $what, " (an open cursor is closed first); `None` arguments are NULL (no restriction).")]
        pub fn $columns(&mut self, catalog: Option<&str>, schema: Option<&str>, table: Option<&str>, column: Option<&str>) -> $ret {
            self.$run("SQLColumns", CatalogArgs::columns(catalog, schema, table, column))
        }

        #[doc = concat!("`SQLPrimaryKeys` of `table` ", $what, " (an open cursor is closed first).")]
        pub fn $primary_keys(&mut self, catalog: Option<&str>, schema: Option<&str>, table: &str) -> $ret {
            self.$run("SQLPrimaryKeys", CatalogArgs::primary_keys(catalog, schema, table))
        }
    };
}

pub(crate) use catalog_methods;
