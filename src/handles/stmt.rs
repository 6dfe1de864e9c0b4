//! The DM statement: owns one driver statement handle.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::async_engine::{AsyncHost, AsyncSlot, Target};
use crate::diag::{DiagArea, DiagRecord};

use super::gate::Gated;
use super::stmt_state::StmtStatus;
use super::{Dbc, DriverLink};

/// Mutable statement state.
#[derive(Debug, Default)]
pub struct StmtCore {
    pub status: StmtStatus,
    pub diag: DiagArea,
    /// The statement's descriptor handles at the DM (implicit wrappers, explicit ARD/APD):
    /// allocated on first use (issue 12 item 3: most statements never ask for a descriptor
    /// handle, and 100,000 statements should cost little memory; decision #112).
    pub descs: Option<Box<StmtDescs>>,
    /// SQL_ATTR_ASYNC_STMT_EVENT (§2.2): the DM's own reference to the event, kept while
    /// the attribute names it (its value is `AsyncEvent::as_attr`). DM-only, never sent to
    /// the driver.
    pub async_event: Option<crate::async_engine::AsyncEvent>,
    /// The DM's waker notification mode (`raw::ext::SQL_ATTR_DM_ASYNC_WAKER`, decision
    /// #108): notification without an event; the end of an operation wakes the waker
    /// registered through `raw::ext::register_waker` (every notification-mode operation
    /// wakes it; this flag only makes the mode notification without an event).
    pub notify_waker: bool,
    /// The DM runs this statement's asynchronous calls itself (emulation): the driver's
    /// SQL_ATTR_ASYNC_ENABLE stays off.
    pub async_emulated: bool,
    /// The DM's notification callback and context are installed on the driver statement.
    pub notify_installed: bool,
    /// SQL_ATTR_ASYNC_ENABLE as the driver has it (read at allocation, tracked on set).
    /// With async on, the DM does not ask the driver SQLNumResultCols after an execution
    /// (that call could itself go asynchronous); the driver then detects 24000 itself.
    pub async_enabled: bool,
    /// The driver statement was freed: a call that was waiting for the gate while
    /// SQLFreeHandle ran must not reach the driver with the dead handle.
    pub freed: bool,
    /// The thread that began the last call on the slow path ([`this_thread`]), whose
    /// diagnostics the area holds: an idle SQLCancel from that thread clears them (§3.3,
    /// every call clears its handle's records), one from any other thread is a
    /// cross-thread cancel that arrived late and touches nothing (§3.2). The fast lanes do
    /// not set it: they run only with an empty diagnostic area and leave it empty.
    pub last_caller: usize,
    /// The driver exports SQLFetch and SQLGetData: without both, no fast-lane summary is
    /// ever published, so the lanes can call [`Stmt::fast_fetch`] / `fast_get_data`
    /// without testing them.
    pub lanes_ok: bool,
    /// The DM converts SQL_C_WCHAR for this statement (bound columns, or a value being
    /// returned by SQLGetData in parts): no fast-lane summary is published (decision #79).
    pub wchar_active: bool,
    /// SQLFetch must take the full path on this statement
    /// (`raw::concurrency::fetch_needs_full_path`, evaluated when its last full-path call
    /// finished): no fast-lane summary is published (decision #102).
    pub fetch_full_path: bool,
    /// The ODBC 3 block-cursor attributes an ODBC 2 driver does not know (decision #115):
    /// allocated only on such a driver, when the application sets one; its existence
    /// also turns `lanes_ok` off (SQLFetch is mapped to SQLExtendedFetch).
    pub odbc2_block: Option<Box<Odbc2Block>>,
}

/// SQL_ATTR_ROWS_FETCHED_PTR, SQL_ATTR_ROW_STATUS_PTR and SQL_ATTR_ROW_ARRAY_SIZE of a
/// statement on an ODBC 2 driver, which the DM keeps and passes to SQLExtendedFetch
/// (decision #115). Addresses as integers (0: not set).
#[derive(Debug, Default, Clone, Copy)]
pub struct Odbc2Block {
    pub rows_fetched: usize,
    pub row_status: usize,
    pub array_size: usize,
}

/// The DM handles of a statement's descriptors (see [`StmtCore::descs`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct StmtDescs {
    /// DM handles wrapping the driver's implicit descriptors, created on first request:
    /// [ARD, APD, IRD, IPD].
    pub implicit: [Option<usize>; 4],
    /// Explicit descriptors currently set as ARD / APD (DM ids).
    pub explicit_ard: Option<usize>,
    pub explicit_apd: Option<usize>,
}

impl StmtCore {
    /// The DM wrappers of the implicit descriptors ([ARD, APD, IRD, IPD]).
    #[inline]
    pub fn implicit_descs(&self) -> [Option<usize>; 4] {
        self.descs.as_ref().map_or([None; 4], |d| d.implicit)
    }

    /// The explicit descriptor set as ARD (`slot` 0) or APD (1); `None` otherwise.
    #[inline]
    pub fn explicit_desc(&self, slot: usize) -> Option<usize> {
        let d = self.descs.as_ref()?;
        match slot {
            0 => d.explicit_ard,
            1 => d.explicit_apd,
            _ => None,
        }
    }

    /// The descriptor record, created on first use.
    pub fn descs_mut(&mut self) -> &mut StmtDescs {
        self.descs.get_or_insert_with(Default::default)
    }

    /// Notification mode was asked for: an event, or the DM's waker mode (§2.1, #108).
    #[inline]
    pub fn notification(&self) -> bool {
        self.async_event.is_some() || self.notify_waker
    }
}

/// A statement handle.
pub struct Stmt {
    pub id: usize,
    pub dbc: Arc<Dbc>,
    pub link: Arc<DriverLink>,
    /// The driver's statement handle.
    pub hstmt: usize,
    /// The driver's own SQLFetch and SQLGetData (`link.driver.real`, no serialization
    /// trampoline), here for the fast lanes, which take `fast_serial` around them. Stubs
    /// that answer SQL_ERROR where the driver lacks one (never called: see
    /// [`StmtCore::lanes_ok`]).
    pub fast_fetch: odbc_dm_abi::fns::SQLFetch,
    pub fast_get_data: odbc_dm_abi::fns::SQLGetData,
    /// The address of the driver's serialization lock (`Threading` 2/3; 0: not
    /// serialized), for `serialize::lane_call`. Set once.
    pub(crate) fast_serial: std::sync::atomic::AtomicUsize,
    pub gate: Gated<StmtCore>,
    /// The asynchronous operation in flight, if any (see `async_engine::slot`).
    pub async_slot: AsyncSlot,
    /// The notification context registered for this statement (0 = none).
    pub notify_token: std::sync::atomic::AtomicU64,
    /// The driver lacks the Unicode API: the DM converts SQL_C_WCHAR (decision #77).
    pub(crate) ansi_wchar: bool,
    /// The SQLGetData lane's C-type guard, indexed by the TargetType value as `u16`: the
    /// standard C types the lane forwards, SQL_C_WCHAR left out when `ansi_wchar`
    /// (decision #121: one table lookup instead of a lookup and a test of the type).
    pub(crate) lane_c_types: &'static [bool; 1 << 16],
    /// That conversion's state; locked only around conversions, never across a driver call.
    /// Allocated on first use (issue 12: most statements never convert, and a statement
    /// should cost little memory when 100,000 are open; decision #111).
    pub(crate) wchar: std::sync::OnceLock<Box<std::sync::Mutex<super::wchar::WcharState>>>,
    /// Fast-lane calls that took this statement's gate (a test's proof that the lane ran;
    /// see [`Stmt::count_lane`]).
    pub lane_calls: std::sync::atomic::AtomicU64,
    /// The pin count of this statement's handle slot (the lanes give their pin back
    /// through it: `table::SlotPins`).
    pub slot_pins: super::SlotPins,
    /// The raw layer's optimistic-concurrency record of this statement (§5): its bindings
    /// and emulation state, absent until its first binding or concurrency attribute
    /// (decision #89).
    pub(crate) occ: ExtSlot,
}

/// A per-statement record of an optional DM feature that the raw layer keeps (its type is
/// the raw layer's): absent until the statement uses the feature, then behind a lock that
/// is never held across a driver call. [`ExtSlot::is_on`] is the cheap check (one relaxed
/// load) that every other statement pays.
#[derive(Default)]
pub struct ExtSlot {
    on: AtomicBool,
    rec: std::sync::Mutex<Option<Box<dyn std::any::Any + Send>>>,
}

impl ExtSlot {
    /// Whether the record exists.
    #[inline(always)]
    pub fn is_on(&self) -> bool {
        self.on.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Runs `f` on the record, creating it (`T::default()`) when `create`; `None` when it
    /// does not exist (and `!create`) or has another type.
    pub fn with<T: Default + Send + 'static, R>(&self, create: bool, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        if !create && !self.is_on() {
            return None;
        }
        let mut g = self.rec.lock().unwrap_or_else(|e| e.into_inner());
        if g.is_none() {
            if !create {
                return None;
            }
            *g = Some(Box::new(T::default()));
            self.on.store(true, std::sync::atomic::Ordering::Release);
        }
        g.as_mut()?.downcast_mut::<T>().map(f)
    }

    /// Removes the record (the statement is gone).
    pub fn take<T: Send + 'static>(&self) -> Option<T> {
        if !self.is_on() {
            return None;
        }
        let r = self.rec.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.on.store(false, std::sync::atomic::Ordering::Release);
        r.and_then(|b| b.downcast::<T>().ok()).map(|b| *b)
    }
}

impl Stmt {
    /// A new, registered statement wrapping the driver's `hstmt`. Crate-private: `hstmt` is
    /// an unchecked driver handle that every call on the statement trusts.
    /// `lane_c_types` gives the SQLGetData lane's C-type table for the statement's
    /// `ansi_wchar` and whether its driver is an ODBC 2 one (the raw layer's, see
    /// [`Stmt::lane_c_types`]).
    pub(crate) fn new(
        dbc: Arc<Dbc>,
        link: Arc<DriverLink>,
        hstmt: usize,
        lane_c_types: impl FnOnce(bool, bool) -> &'static [bool; 1 << 16],
    ) -> Arc<Stmt> {
        let lanes_ok = link.driver.real.SQLFetch.is_some() && link.driver.real.SQLGetData.is_some();
        let odbc2_driver = !link.driver_is_odbc3();
        let ansi_wchar = super::wchar::driver_is_ansi_only(&link.driver) && dbc.wchar_conversion.load(std::sync::atomic::Ordering::Relaxed);
        let id = super::tables().stmt.reserve(super::table::Kind::Stmt);
        let s = Arc::new(Stmt {
            id,
            slot_pins: super::tables().stmt.slot_pins(id),
            dbc,
            fast_fetch: link.driver.real.SQLFetch.unwrap_or(no_fetch),
            fast_get_data: link.driver.real.SQLGetData.unwrap_or(no_get_data),
            fast_serial: std::sync::atomic::AtomicUsize::new(crate::driver::serialize::lock_addr(link.driver.serial)),
            link,
            hstmt,
            gate: Gated::new(StmtCore { lanes_ok, ..StmtCore::default() }),
            async_slot: AsyncSlot::default(),
            notify_token: std::sync::atomic::AtomicU64::new(0),
            ansi_wchar,
            lane_c_types: lane_c_types(ansi_wchar, odbc2_driver),
            wchar: Default::default(),
            lane_calls: std::sync::atomic::AtomicU64::new(0),
            occ: ExtSlot::default(),
        });
        super::tables().stmt.insert(s.id, s.clone());
        s
    }

    /// Counts one fast-lane call. The caller holds the busy word, so a plain load and
    /// store (no read-modify-write) cannot lose a count.
    #[inline(always)]
    pub fn count_lane(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        self.lane_calls.store(self.lane_calls.load(Relaxed).wrapping_add(1), Relaxed);
    }

    /// The driver's statement handle as a pointer.
    #[inline]
    pub fn driver_handle(&self) -> odbc_dm_abi::SqlHStmt {
        self.hstmt as odbc_dm_abi::SqlHStmt
    }
}

/// A cheap identity of the calling thread (the address of a thread-local; never 0).
#[inline(always)]
pub fn this_thread() -> usize {
    thread_local! {
        static ME: u8 = const { 0 };
    }
    ME.with(|m| m as *const u8 as usize)
}

/// Stands in [`Stmt::fast_fetch`] for a driver without SQLFetch (never called).
extern "C" fn no_fetch(_: odbc_dm_abi::SqlHStmt) -> odbc_dm_abi::SqlReturn {
    odbc_dm_abi::SqlReturn::SQL_ERROR
}

/// Stands in [`Stmt::fast_get_data`] for a driver without SQLGetData (never called).
extern "C" fn no_get_data(
    _: odbc_dm_abi::SqlHStmt,
    _: odbc_dm_abi::SqlUSmallInt,
    _: odbc_dm_abi::CDataType,
    _: odbc_dm_abi::SqlPointer,
    _: odbc_dm_abi::SqlLen,
    _: *mut odbc_dm_abi::SqlLen,
) -> odbc_dm_abi::SqlReturn {
    odbc_dm_abi::SqlReturn::SQL_ERROR
}

impl AsyncHost for Stmt {
    fn slot(&self) -> &AsyncSlot {
        &self.async_slot
    }

    fn driver_diags(&self) -> Vec<DiagRecord> {
        super::pull_driver_diags(&self.link, odbc_dm_abi::HandleType::SQL_HANDLE_STMT, self.driver_handle())
    }

    fn target(&self) -> Target {
        Target { kind: odbc_dm_abi::HandleType::SQL_HANDLE_STMT, handle: self.id }
    }

    /// Emulated statements run the driver synchronously, so the DM may ask it
    /// SQLNumResultCols (S4 vs S5) as it does for synchronous calls.
    fn probe_result(&self, func: odbc_dm_abi::FunctionId, rc: odbc_dm_abi::SqlReturn) -> Option<bool> {
        if !rc.is_success() || !super::stmt_state::opens_result(func) || !self.gate.read(|c| c.async_emulated) {
            return None;
        }
        Some(driver_has_result(self))
    }
}

impl Drop for Stmt {
    fn drop(&mut self) {
        let t = self.notify_token.load(std::sync::atomic::Ordering::Acquire);
        if t != 0 {
            crate::async_engine::Token(t).unregister();
        }
    }
}

/// Whether the driver's statement currently describes a result set (SQLNumResultCols > 0).
pub(crate) fn driver_has_result(stmt: &Stmt) -> bool {
    match stmt.link.driver.fns.SQLNumResultCols {
        Some(f) => {
            let mut n: i16 = 0;
            // SAFETY: the driver handle is live (owned by `stmt`) and `n` is a valid out pointer.
            let rc = unsafe { f(stmt.driver_handle(), &mut n) };
            rc.is_success() && n > 0
        }
        None => false,
    }
}
