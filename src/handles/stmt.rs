//! The DM statement: owns one driver statement handle.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::diag::DiagArea;

use super::gate::Gated;
use super::stmt_state::StmtStatus;
use super::table::{new_id, Kind};
use super::{Dbc, DriverLink};

/// Mutable statement state.
#[derive(Debug, Default)]
pub struct StmtCore {
    pub status: StmtStatus,
    pub diag: DiagArea,
    /// DM handles wrapping the driver's implicit descriptors, created on first request:
    /// [ARD, APD, IRD, IPD].
    pub implicit_descs: [Option<usize>; 4],
    /// Explicit descriptors currently set as ARD / APD (DM ids).
    pub explicit_ard: Option<usize>,
    pub explicit_apd: Option<usize>,
    /// SQL_ATTR_ASYNC_STMT_EVENT as set by the application (pointer value, 0 = none);
    /// DM-only, never sent to the driver (§2.2).
    pub async_stmt_event: usize,
    /// SQL_ATTR_ASYNC_ENABLE as the driver has it (read at allocation, tracked on set).
    /// With async on, the DM does not ask the driver SQLNumResultCols after an execution
    /// (that call could itself go asynchronous); the driver then detects 24000 itself.
    pub async_enabled: bool,
    /// The driver statement was freed: a call that was waiting for the gate while
    /// SQLFreeHandle ran must not reach the driver with the dead handle.
    pub freed: bool,
}

/// A statement handle.
pub struct Stmt {
    pub id: usize,
    pub dbc: Arc<Dbc>,
    pub link: Arc<DriverLink>,
    /// The driver's statement handle.
    pub hstmt: usize,
    pub gate: Gated<StmtCore>,
    /// Set when a cross-thread SQLCancel was accepted while a call ran (§3.2), so the
    /// cancelled call's SQL_ERROR carries HY008 whatever SQLSTATE the driver chose.
    pub cancel_pending: AtomicBool,
}

impl Stmt {
    /// A new, registered statement wrapping the driver's `hstmt`.
    pub fn new(dbc: Arc<Dbc>, link: Arc<DriverLink>, hstmt: usize) -> Arc<Stmt> {
        let s = Arc::new(Stmt {
            id: new_id(Kind::Stmt),
            dbc,
            link,
            hstmt,
            gate: Gated::new(StmtCore::default()),
            cancel_pending: AtomicBool::new(false),
        });
        super::tables().stmt.insert(s.id, s.clone());
        s
    }

    /// The driver's statement handle as a pointer.
    #[inline]
    pub fn driver_handle(&self) -> odbc_dm_abi::SqlHStmt {
        self.hstmt as odbc_dm_abi::SqlHStmt
    }
}
