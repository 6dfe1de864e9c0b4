//! DM extensions of the raw layer: entry points the ODBC API has no equivalent for, in the
//! way unixODBC and the Windows DM add DM-private functions. They take raw handles like
//! every raw function and answer `SQL_INVALID_HANDLE` (as `Err`) for a handle that is not
//! a live statement or connection of this DM; they never reach a driver except where
//! documented. The safe API is built on these plus the ODBC functions (decision #37).
//!
//! - [`register_waker`]: wake a task when the handle's asynchronous operation ends
//!   (§2.12, the Rust counterpart of the completion event);
//! - [`SQL_ATTR_DM_ASYNC_WAKER`]: notification mode without an event, the waker alone
//!   signals the end (decision #108);
//! - [`wait_for_end`]: block until an operation ends, without an event;
//! - [`op_status`]: the operation's phase, generation and kind;
//! - [`op_stats`]: the engine's counters for the handle (re-invocations, ignored
//!   callbacks, back-offs, cancel drives);
//! - [`drive`]: have the DM poll a cancelled notification-mode operation now, without
//!   waiting for the cancel grace;
//! - [`cancel_generation`]: SQLCancel / SQLCancelHandle only while a given operation runs;
//! - [`abandon`]: hand a running operation, and the handle, to the DM, which collects the
//!   operation when it ends and then disconnects and frees the handle (decision #81);
//! - [`SQL_ATTR_DM_CANCEL_GRACE`]: the cancel grace, a statement and connection attribute;
//! - [`SQL_ATTR_DM_WCHAR_CONVERSION`]: the DM's SQL_C_WCHAR conversion for ANSI-only
//!   drivers on or off, a connection attribute (decision #90).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use odbc_dm_abi::{HandleType, SqlHandle, SqlReturn};

use crate::async_engine::{self, AsyncHost};

/// DM statement and connection attribute (integer, milliseconds): how long a cancelled
/// notification-mode operation may take to end through the driver's own callback before
/// the DM drives it by polling (§2.14, decision #35). Default 500 ms. Set on a connection,
/// it applies to the connection's own operations and is inherited by statements allocated
/// afterwards. In the DM-private range next to `SQL_ATTR_DM_ASYNC_EMULATION` (65501);
/// never sent to a driver.
pub const SQL_ATTR_DM_CANCEL_GRACE: i32 = 65_502;

/// DM connection attribute (integer, 1 = on, the default; 0 = off): whether statements
/// allocated on the connection from now on get the DM's SQL_C_WCHAR conversion when the
/// driver has no Unicode API (docs/decisions.md #77–#80). Off, SQL_C_WCHAR bindings and
/// SQLGetData calls go to the ANSI-only driver unchanged, as with unixODBC: the
/// conformance harness uses it to test the driver itself (decision #90). Settable before
/// and after connecting; existing statements keep their setting. Never sent to a driver.
pub const SQL_ATTR_DM_WCHAR_CONVERSION: i32 = 65_503;

/// DM statement and connection attribute (integer, 0/1, default 0): the DM's **waker
/// notification mode** (decision #108), for futures. On, the handle is in notification mode
/// (§2.1) without an event: the DM installs its callback on the driver handle (or emulates,
/// with the same S1118 rules as setting an event, §2.3), a call returns
/// `SQL_STILL_EXECUTING`, and when the operation ends the DM wakes the waker registered
/// with [`register_waker`] (no file descriptor, no thread); the application collects with
/// `SQLCompleteAsync` (§2.13). IM017/IM018 apply as in notification mode (§2.11). The
/// spec's `SQL_ATTR_ASYNC_*_EVENT` attributes are independent of it: both may be set (the
/// event is then set too); `SQL_ATTR_ASYNC_STMT_EVENT` reads back NULL while only this mode
/// is on. A DM extension: a C application that does not set it sees the spec's behaviour
/// (an event, or polling). Never sent to a driver.
pub const SQL_ATTR_DM_ASYNC_WAKER: i32 = 65_504;

/// DM connection attribute: let the DM emulate asynchronous execution where the driver
/// cannot (see `async_engine::emulation`).
pub const SQL_ATTR_DM_ASYNC_EMULATION: i32 = crate::async_engine::emulation::SQL_ATTR_DM_ASYNC_EMULATION;

/// The phase of a handle's asynchronous operation.
pub use crate::async_engine::Phase as OpPhase;

/// What [`op_status`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpStatus {
    pub phase: OpPhase,
    /// Generation of the current (or last) operation: every new operation on the handle
    /// gets a larger one, so a status handle can tell "its" operation from a later one.
    pub generation: u64,
    /// The operation reports through notification (event / waker + SQLCompleteAsync).
    pub notify: bool,
    /// The DM runs the operation on its emulation pool.
    pub emulated: bool,
    /// A cancel was accepted for the running operation.
    pub cancelled: bool,
}

/// The engine's counters for one handle (cumulative over its operations).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpStats {
    /// Re-invocations made by the dispatcher.
    pub reinvocations: u64,
    /// Callbacks ignored (duplicate, late, or with no operation waiting).
    pub ignored_callbacks: u64,
    /// Callbacks that came while the driver call was on the stack (§7.5).
    pub early_callbacks: u64,
    /// Re-invocations delayed by a back-off or settle time instead of made at once.
    pub backoffs: u64,
    /// Re-invocations made by polling a cancelled operation.
    pub driven_polls: u64,
    /// Cancelled operations the DM ended itself because the driver never finished them.
    pub gave_up: u64,
}

fn host(handle_type: HandleType, h: SqlHandle) -> Result<Arc<dyn AsyncHost>, SqlReturn> {
    let r: Option<Arc<dyn AsyncHost>> = match handle_type {
        HandleType::SQL_HANDLE_STMT => crate::handles::stmt(h).map(|s| s as Arc<dyn AsyncHost>),
        HandleType::SQL_HANDLE_DBC => crate::handles::dbc(h).map(|d| d as Arc<dyn AsyncHost>),
        _ => None,
    };
    r.ok_or(SqlReturn::SQL_INVALID_HANDLE)
}

/// Registers `waker` to be woken when the handle's current asynchronous operation ends
/// (or at once if none is running). Only the latest registered waker is kept.
pub fn register_waker(handle_type: HandleType, h: SqlHandle, waker: &Waker) -> Result<(), SqlReturn> {
    let host = host(handle_type, h)?;
    host.slot().waker.register(waker);
    Ok(())
}

/// Blocks until the operation of generation `generation` on the handle is no longer
/// running (ended, collected, or replaced), or `timeout` passes; `Ok(true)` if it ended.
/// Woken by the DM at every operation's end, without an event or a file descriptor and
/// without touching the handle's waker (decision #108): the blocking counterpart of
/// [`register_waker`].
pub fn wait_for_end(handle_type: HandleType, h: SqlHandle, generation: u64, timeout: Duration) -> Result<bool, SqlReturn> {
    host(handle_type, h)?;
    Ok(crate::async_engine::slot::wait_for_end(timeout, || !is_running(handle_type, h, generation).unwrap_or(false)))
}

/// The handle's operation status.
pub fn op_status(handle_type: HandleType, h: SqlHandle) -> Result<OpStatus, SqlReturn> {
    let host = host(handle_type, h)?;
    let s = host.slot();
    Ok(OpStatus { phase: s.phase(), generation: s.epoch(), notify: s.is_notify(), emulated: s.is_emulated(), cancelled: s.is_cancelled() })
}

/// The engine's counters for the handle.
pub fn op_stats(handle_type: HandleType, h: SqlHandle) -> Result<OpStats, SqlReturn> {
    let host = host(handle_type, h)?;
    let st = &host.slot().stats;
    Ok(OpStats {
        reinvocations: st.reinvocations.load(Ordering::Relaxed),
        ignored_callbacks: st.rare(|r| &r.ignored_callbacks),
        early_callbacks: st.rare(|r| &r.early_callbacks),
        backoffs: st.rare(|r| &r.backoffs),
        driven_polls: st.rare(|r| &r.driven_polls),
        gave_up: st.rare(|r| &r.gave_up),
    })
}

/// Has the DM poll the handle's running, cancelled notification-mode operation of
/// generation `generation` now (normally it does so once the cancel grace has passed after
/// a cancel). A no-op for any other operation.
pub fn drive(handle_type: HandleType, h: SqlHandle, generation: u64) -> Result<(), SqlReturn> {
    let host = host(handle_type, h)?;
    async_engine::drive_generation(host.target(), generation, Duration::ZERO);
    Ok(())
}

/// `SQLCancel` (statement) or `SQLCancelHandle` (connection) only while the operation of
/// generation `generation` is the handle's running one: a status handle of an operation
/// that has ended never cancels a later one. `Ok(false)`: nothing was cancelled.
pub fn cancel_generation(handle_type: HandleType, h: SqlHandle, generation: u64) -> Result<bool, SqlReturn> {
    let host = host(handle_type, h)?;
    let s = host.slot();
    if s.epoch() != generation || !s.is_running() {
        return Ok(false);
    }
    let rc = if handle_type == HandleType::SQL_HANDLE_STMT {
        let stmt = crate::handles::stmt(h).ok_or(SqlReturn::SQL_INVALID_HANDLE)?;
        match super::cancel::cancel_stmt_generation(&stmt, generation) {
            Some(rc) => rc,
            None => return Ok(false),
        }
    } else {
        let dbc = crate::handles::dbc(h).ok_or(SqlReturn::SQL_INVALID_HANDLE)?;
        match super::connect_async::cancel_generation(&dbc, generation) {
            Some(rc) => rc,
            None => return Ok(false),
        }
    };
    Ok(rc.is_success())
}

/// The handle's cancel grace ([`SQL_ATTR_DM_CANCEL_GRACE`]).
pub fn cancel_grace(handle_type: HandleType, h: SqlHandle) -> Result<Duration, SqlReturn> {
    Ok(host(handle_type, h)?.slot().cancel_grace())
}

/// Whether the operation of generation `generation` is still the handle's and has not
/// finished.
pub fn is_running(handle_type: HandleType, h: SqlHandle, generation: u64) -> Result<bool, SqlReturn> {
    let host = host(handle_type, h)?;
    let s = host.slot();
    Ok(s.epoch() == generation && s.is_running())
}

/// Whether the connection is connected (the DM's state: C4 and later).
pub fn is_connected(h: SqlHandle) -> Result<bool, SqlReturn> {
    let d = crate::handles::dbc(h).ok_or(SqlReturn::SQL_INVALID_HANDLE)?;
    Ok(d.gate.read(|c| c.state.is_connected()))
}

/// Whether the DM emulates asynchronous execution for this statement (its driver lacks
/// native notification, or emulation is forced).
pub fn is_emulated(h: SqlHandle) -> Result<bool, SqlReturn> {
    let s = crate::handles::stmt(h).ok_or(SqlReturn::SQL_INVALID_HANDLE)?;
    Ok(s.gate.read(|c| c.async_emulated))
}

/// Hands `b` to the DM for the life of the handle's running operation: dropped only once
/// the driver is done with the operation (§2.9: buffers a dropped future owned). `Err(b)`
/// when no operation is running (the caller may drop it at once) or the handle is not live.
pub fn keep_alive(handle_type: HandleType, h: SqlHandle, b: Box<dyn std::any::Any + Send>) -> Result<(), Box<dyn std::any::Any + Send>> {
    let Ok(host) = host(handle_type, h) else { return Err(b) };
    host.slot().keep_alive_or_return(b)
}

/// Hands the handle's running asynchronous operation, and the handle itself, to the DM: the
/// owner goes away (a dropped future) and will not touch `h` again. The DM cancels the
/// operation (`SQLCancel` / `SQLCancelHandle`; an emulated one runs to completion, a
/// notification-mode one whose driver never calls back is driven by polling after the
/// cancel grace, decision #35) and, once it has ended, on its worker pool: collects it
/// (`SQLCompleteAsync`), then for a connection switches connection-level async off,
/// disconnects it if it is connected (rolling back first if the driver refuses with
/// 25000) and frees it; a statement is freed. `keep` (buffers the driver may still use,
/// the owner's reference to the environment) is dropped after that. If the driver never
/// ends the operation (the DM gives up, #35), the handle and `keep` are leaked, never freed.
/// No operation running: the same is done at once (on the pool). Decision #81.
///
/// `Err(SQL_INVALID_HANDLE)`: `h` is not a live statement or connection of this DM (`keep`
/// is dropped).
///
/// # Safety
///
/// The caller gives up `h`: after this call neither it nor anything it handed out uses
/// the handle again (the DM frees it). Statements of a connection handed over must have
/// been freed already.
pub unsafe fn abandon(handle_type: HandleType, h: SqlHandle, keep: Box<dyn std::any::Any + Send>) -> Result<(), SqlReturn> {
    let host = host(handle_type, h)?;
    if host.slot().is_running() {
        let _ = cancel_generation(handle_type, h, host.slot().epoch());
    }
    let id = h as usize; // a DM handle id, not a pointer the DM dereferences
    let finish: async_engine::Finish = Box::new(move || {
        // SAFETY: the owner handed `h` over (this function's contract); only this job uses
        // it from now on, after the operation has ended.
        unsafe { settle_abandoned(handle_type, id as SqlHandle) };
        drop(keep);
    });
    async_engine::abandon(&*host, finish);
    Ok(())
}

/// The DM's end of an abandoned handle (see [`abandon`]).
///
/// # Safety
///
/// `h` was handed to the DM by [`abandon`] and its operation has ended.
unsafe fn settle_abandoned(handle_type: HandleType, h: SqlHandle) {
    use odbc_dm_abi::{CompletionType, ConnAttr, RetCode, SqlPointer, SQL_ASYNC_DBC_ENABLE_OFF, SQL_IS_UINTEGER};
    // Collect the operation (its state transition happens here). The slot may only just
    // have stored the result: look again briefly while it still runs.
    let t = std::time::Instant::now();
    loop {
        let mut code: RetCode = 0;
        // SAFETY: a handle of ours (see above) and a valid out slot.
        let rc = unsafe { super::SQLCompleteAsync(handle_type, h, &mut code) };
        let running = host(handle_type, h).is_ok_and(|x| x.slot().is_active());
        if rc == SqlReturn::SQL_INVALID_HANDLE || !running || t.elapsed() > Duration::from_secs(1) {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    if handle_type == HandleType::SQL_HANDLE_DBC {
        // SAFETY: as above; an integer attribute travels in the pointer itself.
        let _ = unsafe {
            super::SQLSetConnectAttr(
                h,
                ConnAttr::SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE,
                SQL_ASYNC_DBC_ENABLE_OFF as SqlPointer,
                SQL_IS_UINTEGER,
            )
        };
        if is_connected(h).unwrap_or(false) {
            // SAFETY: as above; no statement of the connection is left (contract).
            let mut rc = unsafe { super::SQLDisconnect(h) };
            if !rc.is_success() {
                // SAFETY: as above (25000: a transaction is open; roll it back, retry).
                let _ = unsafe { super::SQLEndTran(HandleType::SQL_HANDLE_DBC, h, CompletionType::SQL_ROLLBACK) };
                // SAFETY: as above.
                rc = unsafe { super::SQLDisconnect(h) };
            }
            if !rc.is_success() {
                log::warn!("odbc-dm: disconnecting an abandoned connection failed ({rc:?})");
            }
        }
    }
    // SAFETY: as above; nothing of the owner's uses the handle any more.
    let mut rc = unsafe { super::SQLFreeHandle(handle_type, h) };
    if rc == SqlReturn::SQL_ERROR && handle_type == HandleType::SQL_HANDLE_STMT {
        // The operation ended in SQL_NEED_DATA: a statement in S8–S10 cannot be freed
        // (HY010, §4.5); SQLCancel ends the data-at-execution sequence.
        // SAFETY: as above.
        let _ = unsafe { super::SQLCancel(h) };
        // SAFETY: as above.
        rc = unsafe { super::SQLFreeHandle(handle_type, h) };
    }
    if !rc.is_success() {
        log::warn!("odbc-dm: freeing an abandoned {handle_type:?} handle failed ({rc:?}); it is leaked");
    }
}

/// The sizes of the DM's per-statement structures (bytes), for the memory reports of
/// `examples/inflight.rs` (issue 12 item 3). Not a stable interface.
#[doc(hidden)]
pub fn statement_sizes() -> Vec<(&'static str, usize)> {
    use std::mem::size_of;
    vec![
        ("Stmt", size_of::<crate::handles::Stmt>()),
        ("StmtCore", size_of::<crate::handles::StmtCore>()),
        ("StmtStatus", size_of::<crate::handles::stmt_state::StmtStatus>()),
        ("DiagArea", size_of::<crate::diag::DiagArea>()),
        ("AsyncSlot", size_of::<crate::async_engine::AsyncSlot>()),
        ("SlotStats", size_of::<crate::async_engine::slot::SlotStats>()),
        ("AtomicWaker", size_of::<atomic_waker::AtomicWaker>()),
        ("Gated<StmtCore>", size_of::<crate::handles::gate::Gated<crate::handles::StmtCore>>()),
    ]
}
