//! Scalar and handle types of the ODBC C ABI on LP64 Linux.
//!
//! Every enumeration-like value is a `#[repr(transparent)]` integer newtype, never a Rust
//! `enum`: an FFI caller may pass any bit pattern, and an unknown value must stay a value
//! the DM can forward or reject, not undefined behaviour.

use std::os::raw::c_void;

pub type SqlChar = u8;
/// SQLWCHAR is UTF-16 (`unsigned short`) on Linux with unixODBC's headers.
pub type SqlWChar = u16;
pub type SqlSmallInt = i16;
pub type SqlUSmallInt = u16;
pub type SqlInteger = i32;
pub type SqlUInteger = u32;
/// SQLLEN: 64-bit on LP64.
pub type SqlLen = isize;
/// SQLULEN: 64-bit on LP64.
pub type SqlULen = usize;
pub type SqlPointer = *mut c_void;
pub type SqlHandle = *mut c_void;
pub type SqlHEnv = SqlHandle;
pub type SqlHDbc = SqlHandle;
pub type SqlHStmt = SqlHandle;
pub type SqlHDesc = SqlHandle;
pub type SqlHWnd = *mut c_void;
/// Win32 BOOL, `int` in unixODBC's headers.
pub type Bool = i32;
/// RETCODE (same width as SQLRETURN).
pub type RetCode = i16;

/// SQL_NULL_HANDLE.
pub const SQL_NULL_HANDLE: SqlHandle = std::ptr::null_mut();

/// `typedef SQLRETURN (SQL_API *SQL_ASYNC_NOTIFICATION_CALLBACK)(SQLPOINTER pContext, BOOL fLast);`
/// (sqlspi.h). The DM hands a pointer of this type to the driver; the driver calls it
/// from its own thread after each SQL_STILL_EXECUTING (§2.7, §2.8).
pub type SqlAsyncNotificationCallback = unsafe extern "C" fn(context: SqlPointer, f_last: Bool) -> crate::SqlReturn;
