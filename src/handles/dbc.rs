//! The DM connection: owns the driver's environment and connection handles once connected.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use odbc_dm_abi::{fns, ConnAttr, FunctionId};

use crate::async_engine::{AsyncHost, AsyncSlot, Target};
use crate::diag::{DiagArea, DiagRecord};
use crate::driver::serialize;
use crate::driver::Driver;

use super::conn_state::ConnState;
use super::gate::Gated;
use super::Env;

/// A live driver connection: the driver, and the handles the DM allocated in it.
/// Immutable once built; shared by the connection's statements and descriptors.
#[derive(Debug)]
pub struct DriverLink {
    pub driver: Arc<Driver>,
    /// The driver's environment handle (one per DM connection).
    pub henv: usize,
    /// The driver's connection handle.
    pub hdbc: usize,
    /// The ODBC version the driver accepted (may be 3 where the app asked for 3.80).
    pub odbc_version: u32,
    /// The driver's asynchronous capabilities, read once on first need. Crate-private, so
    /// a `DriverLink` can only be built by [`DriverLink::new`] inside the DM.
    pub(crate) async_caps: std::sync::OnceLock<AsyncCaps>,
}

/// What a driver can do asynchronously (SQLGetInfo, asked once per connection).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AsyncCaps {
    /// SQL_ASYNC_MODE is SQL_AM_CONNECTION or SQL_AM_STATEMENT (§1.2).
    pub stmt_async: bool,
    /// SQL_ASYNC_DBC_FUNCTIONS is SQL_ASYNC_DBC_CAPABLE (§1.4).
    pub dbc_async: bool,
    /// SQL_ASYNC_NOTIFICATION is SQL_ASYNC_NOTIFICATION_CAPABLE (§2.6).
    pub notification: bool,
}

impl DriverLink {
    /// A link for a driver connection the DM just allocated. Crate-private: `henv`/`hdbc`
    /// are unchecked driver handles that every later call through the link trusts.
    pub(crate) fn new(driver: Arc<Driver>, henv: usize, hdbc: usize, odbc_version: u32) -> DriverLink {
        DriverLink { driver, henv, hdbc, odbc_version, async_caps: std::sync::OnceLock::new() }
    }

    /// Whether the driver is an ODBC 3 driver (it exports SQLAllocHandle, which every
    /// ODBC 3 driver must): it takes the ODBC 3 date/time type codes, whatever
    /// SQL_ATTR_ODBC_VERSION the application set ("Datetime Data Type Changes": the DM maps
    /// an application's ODBC 2 codes for it, and the ODBC 3 codes for an ODBC 2 driver).
    pub fn driver_is_odbc3(&self) -> bool {
        self.driver.real.SQLAllocHandle.is_some()
    }

    /// The driver's asynchronous capabilities. The driver is asked without any lock held;
    /// two threads asking at once both ask, and the first answer is kept. Crate-private:
    /// calls the driver on `hdbc`, which only the DM knows to be live.
    pub(crate) fn async_caps(&self) -> AsyncCaps {
        if let Some(c) = self.async_caps.get() {
            return *c;
        }
        let caps = AsyncCaps {
            stmt_async: self.info_u32(odbc_dm_abi::InfoType::SQL_ASYNC_MODE).is_some_and(|v| v != 0),
            dbc_async: self.info_u32(odbc_dm_abi::InfoType::SQL_ASYNC_DBC_FUNCTIONS).is_some_and(|v| v != 0),
            notification: self.info_u32(odbc_dm_abi::InfoType::SQL_ASYNC_NOTIFICATION).is_some_and(|v| v != 0),
        };
        *self.async_caps.get_or_init(|| caps)
    }

    /// An integer SQLGetInfo answer from the driver. Crate-private: calls the driver on
    /// `hdbc`, which only the DM knows to be live.
    pub(crate) fn info_u32(&self, info: odbc_dm_abi::InfoType) -> Option<u32> {
        let mut v: u32 = 0;
        let mut len: i16 = 0;
        let fns = &self.driver.fns;
        let h = self.hdbc as odbc_dm_abi::SqlHDbc;
        let p = &mut v as *mut u32 as odbc_dm_abi::SqlPointer;
        let rc = if let Some(f) = fns.SQLGetInfoW {
            // SAFETY: live driver connection; a 4-byte buffer for an integer info type.
            unsafe { f(h, info, p, 4, &mut len) }
        } else if let Some(f) = fns.SQLGetInfo {
            // SAFETY: as above.
            unsafe { f(h, info, p, 4, &mut len) }
        } else {
            return None;
        };
        rc.is_success().then_some(v)
    }
}

/// A connection attribute value stored before connect, to be replayed after the driver is
/// loaded (§1.13).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttrValue {
    /// Integer or pointer-sized value passed by value.
    Int(usize),
    /// Character attribute, kept as UTF-8.
    Text(Vec<u8>),
}

/// The DM-side post-processing of an asynchronous connection function, applied when the
/// operation is collected (SQLCompleteAsync or the polling repeat call, §2.13), exactly as
/// the synchronous call applies it.
#[derive(Debug)]
pub enum DbcPost {
    /// SQLConnect/SQLDriverConnect: on success the link becomes the connection's (C4), on
    /// failure the driver's handles are freed. `warnings` are the DM's records of the
    /// connect sequence (01000 version fallback, IM006 replay failures, §1.13).
    Connect { link: Arc<DriverLink>, masked: String, warnings: Vec<DiagRecord> },
    /// SQLDisconnect: on success statements and driver handles are freed (C2).
    Disconnect { link: Arc<DriverLink> },
    /// SQLEndTran(DBC): C6 → C4/C5 on success.
    EndTran,
    /// SQLSetConnectAttr: the DM's tracking of the attribute (autocommit).
    SetAttr { attr: ConnAttr, value: usize },
}

/// Mutable connection state.
#[derive(Debug)]
pub struct DbcCore {
    pub state: ConnState,
    pub diag: DiagArea,
    pub link: Option<Arc<DriverLink>>,
    /// Attributes set before connecting, replayed at connect (§1.13), in order.
    pub stored_attrs: Vec<(ConnAttr, AttrValue)>,
    /// Live statements (ids).
    pub statements: Vec<usize>,
    /// Live explicitly allocated descriptors (ids).
    pub descriptors: Vec<usize>,
    /// SQL_ATTR_AUTOCOMMIT as last set through the DM (true = on, the default).
    pub autocommit: bool,
    /// The connection string the connect used, passwords masked (for traces and `info`).
    pub masked_conn_str: String,
    /// Attributes the DM answers itself and never sends to the driver (SQL_ATTR_TRACE,
    /// SQL_ATTR_TRACEFILE), last value per attribute.
    pub dm_attrs: Vec<(ConnAttr, AttrValue)>,
    /// The connection's asynchronous settings and its outstanding connection function.
    pub asynch: DbcAsync,
    /// The driver link of a connect in flight (asynchronous connect not yet collected):
    /// diagnostics and SQLCancelHandle reach the driver's connection through it.
    pub pending_link: Option<Arc<DriverLink>>,
}

/// Whether the DM may emulate asynchronous execution where the driver cannot
/// (`AsyncEmulation=` keyword, DM attribute `SQL_ATTR_DM_ASYNC_EMULATION` 65501).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AsyncEmulation {
    /// Never (the default): an incapable driver gets S1118 / HYC00 as the spec says.
    #[default]
    Off,
    /// Where the driver lacks what the application asks for.
    On,
    /// Even where the driver could run asynchronously itself (statements only): for
    /// benchmarks and tests of the emulation path.
    Force,
}

impl AsyncEmulation {
    /// From the attribute value / keyword: 0 off, 2 force, anything else on.
    pub fn from_flags(on: bool, forced: bool) -> AsyncEmulation {
        match (on, forced) {
            (_, true) => AsyncEmulation::Force,
            (true, false) => AsyncEmulation::On,
            (false, false) => AsyncEmulation::Off,
        }
    }

    /// Emulation allowed (On or Force).
    pub fn is_on(self) -> bool {
        self != AsyncEmulation::Off
    }

    /// Emulation forced.
    pub fn is_forced(self) -> bool {
        self == AsyncEmulation::Force
    }
}

/// A connection's asynchronous settings and its outstanding asynchronous connection
/// function (the fields the async paths of the raw layer share).
#[derive(Debug, Default)]
pub struct DbcAsync {
    /// The DM may emulate asynchronous execution for this connection's statements and
    /// connection functions when the driver cannot.
    pub emulation: AsyncEmulation,
    /// SQL_ATTR_ASYNC_DBC_FUNCTIONS_ENABLE as the application set it (§1.1).
    pub dbc_enabled: bool,
    /// SQL_ATTR_ASYNC_DBC_EVENT (§2.2): the DM's own reference to the event, kept while the
    /// attribute names it (its value is `AsyncEvent::as_attr`). DM-only, never sent to the
    /// driver.
    pub event: Option<crate::async_engine::AsyncEvent>,
    /// The DM's waker notification mode (`raw::ext::SQL_ATTR_DM_ASYNC_WAKER`, decision
    /// #108): notification without an event, completion through the registered waker.
    pub notify_waker: bool,
    /// The DM emulates this connection's asynchronous connection functions (the driver
    /// lacks SQL_ASYNC_DBC_FUNCTIONS or SQL_ASYNC_NOTIFICATION and emulation is on).
    pub dbc_emulated: bool,
    /// The DM's notification callback and context are set on the driver's connection (§2.4).
    pub notify_installed: bool,
    /// The outstanding asynchronous connection function, if any (§4.4).
    pub func: Option<FunctionId>,
    /// What the outstanding asynchronous connection function does to the DM's state when
    /// it is collected (SQLCompleteAsync or the polling repeat call, §2.13).
    pub post: Option<DbcPost>,
}

impl DbcAsync {
    /// Notification mode was asked for: an event, or the DM's waker mode (§2.1, #108).
    pub fn notification(&self) -> bool {
        self.event.is_some() || self.notify_waker
    }
}

impl DbcCore {
    /// §1.11: whether a statement of this connection is outstanding — executing
    /// asynchronously (S11/S12) or in a NEED_DATA sequence (S8–S10). SQLSetConnectAttr,
    /// SQLDisconnect and SQLEndTran are then HY010. Reads each statement's core without
    /// waiting for a call on it (the one predicate for the three functions).
    pub fn statement_outstanding(&self) -> bool {
        use super::stmt_state::StmtState::*;
        self.statements.iter().any(|sid| {
            super::tables().stmt.get(*sid).is_some_and(|s| s.gate.read(|sc| matches!(sc.status.state, S8 | S9 | S10 | S11 | S12)))
        })
    }
}

/// A connection handle.
pub struct Dbc {
    pub id: usize,
    pub env: Arc<Env>,
    pub gate: Gated<DbcCore>,
    /// For the SQLGetInfo fast lane, while connected (see [`Dbc::fast_info`]).
    fast_info: FastInfo,
    /// The asynchronous connection operation in flight, if any (`async_engine::slot`).
    pub async_slot: AsyncSlot,
    /// The notification context registered for this connection (0 = none).
    pub notify_token: std::sync::atomic::AtomicU64,
    /// Fast-lane SQLGetInfo(W) calls that took this connection's gate (see
    /// [`Dbc::count_lane`]).
    pub lane_calls: std::sync::atomic::AtomicU64,
    /// The pin count of this connection's handle slot (see `Stmt::slot_pins`).
    pub slot_pins: super::SlotPins,
    /// `SQL_ATTR_DM_WCHAR_CONVERSION` (raw::ext, decision #90): whether statements allocated
    /// from now on get the DM's SQL_C_WCHAR conversion when the driver is ANSI-only
    /// (decision #77). On by default; the conformance harness turns it off to test the
    /// driver itself.
    pub wchar_conversion: std::sync::atomic::AtomicBool,
}

impl Dbc {
    /// A new, registered connection on `env`.
    pub fn new(env: Arc<Env>) -> Arc<Dbc> {
        let id = super::tables().dbc.reserve(super::table::Kind::Dbc);
        let dbc = Arc::new(Dbc {
            id,
            slot_pins: super::tables().dbc.slot_pins(id),
            env,
            gate: Gated::new(DbcCore {
                state: ConnState::C2,
                diag: DiagArea::default(),
                link: None,
                stored_attrs: Vec::new(),
                statements: Vec::new(),
                descriptors: Vec::new(),
                autocommit: true,
                masked_conn_str: String::new(),
                dm_attrs: Vec::new(),
                pending_link: None,
                asynch: DbcAsync::default(),
            }),
            fast_info: FastInfo::default(),
            async_slot: AsyncSlot::default(),
            notify_token: std::sync::atomic::AtomicU64::new(0),
            wchar_conversion: std::sync::atomic::AtomicBool::new(true),
            lane_calls: std::sync::atomic::AtomicU64::new(0),
        });
        super::tables().dbc.insert(dbc.id, dbc.clone());
        dbc
    }

    /// Counts one fast-lane call. The caller holds the busy word, so a plain load and
    /// store (no read-modify-write) cannot lose a count.
    #[inline(always)]
    pub fn count_lane(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        self.lane_calls.store(self.lane_calls.load(Relaxed).wrapping_add(1), Relaxed);
    }

    /// Sets (on connect) or clears (on disconnect) what [`Dbc::fast_info`] reads. The
    /// caller holds the busy word. Crate-private: the SQLGetInfo fast lane calls the driver
    /// on the handle stored here.
    pub(crate) fn set_fast_info(&self, link: Option<&DriverLink>) {
        let stub = NO_GET_INFO;
        let (a, w, h, l, ta, tw) = match link {
            Some(l) => (
                l.driver.real.SQLGetInfo.unwrap_or(stub),
                l.driver.real.SQLGetInfoW.unwrap_or(stub),
                l.hdbc,
                serialize::lock_addr(l.driver.serial),
                l.driver.fns.SQLGetInfo.unwrap_or(stub),
                l.driver.fns.SQLGetInfoW.unwrap_or(stub),
            ),
            None => (stub, stub, 0, 0, stub, stub),
        };
        let fi = &self.fast_info;
        fi.own[0].store(a as usize, Ordering::Relaxed);
        fi.own[1].store(w as usize, Ordering::Relaxed);
        fi.hdbc.store(h, Ordering::Relaxed);
        fi.serial.store(l, Ordering::Relaxed);
        fi.table[0].store(ta as usize, Ordering::Relaxed);
        fi.table[1].store(tw as usize, Ordering::Relaxed);
    }

    /// The driver's own SQLGetInfo (`wide`: SQLGetInfoW; no serialization trampoline) and
    /// its connection handle. Only for a caller that holds the busy word with a connection
    /// summary published that says the driver exports that width ([`DBC_HAS_A`] /
    /// [`DBC_HAS_W`]): connected, and set by [`Dbc::set_fast_info`] under the busy word,
    /// whose acquire/release orders the accesses. The caller takes the lock whose address
    /// `fast_serial_addr` holds around the call.
    #[inline(always)]
    pub fn fast_info(&self, wide: bool) -> (fns::SQLGetInfo, usize) {
        let p = self.fast_info.own[wide as usize].load(Ordering::Relaxed);
        // SAFETY: every value stored is a function pointer of this very type (the driver's
        // SQLGetInfo or SQLGetInfoW, which have the same signature, or `no_get_info`).
        let f = unsafe { std::mem::transmute::<usize, fns::SQLGetInfo>(p) };
        (f, self.fast_info.hdbc.load(Ordering::Relaxed))
    }

    /// [`Dbc::fast_info`]'s entry point as the DM calls it, through the serialization
    /// trampoline if the driver has one (for the lane when the lock is taken); under the
    /// same conditions.
    #[inline(always)]
    pub fn fast_info_tramp(&self, wide: bool) -> fns::SQLGetInfo {
        let p = self.fast_info.table[wide as usize].load(Ordering::Relaxed);
        // SAFETY: as in `fast_info`.
        unsafe { std::mem::transmute::<usize, fns::SQLGetInfo>(p) }
    }

    /// Where the address of the connection's driver's serialization lock (`Threading`
    /// 2/3; 0: none) is, for the SQLGetInfo fast lane (`serialize::lane_call`); under the
    /// same conditions as [`Dbc::fast_info`].
    #[inline(always)]
    pub(crate) fn fast_serial_addr(&self) -> &AtomicUsize {
        &self.fast_info.serial
    }

    /// The driver link, if connected (taken without waiting for a running call).
    /// Crate-private: a link kept past SQLDisconnect names a freed driver connection.
    pub(crate) fn link(&self) -> Option<Arc<DriverLink>> {
        self.gate.read(|c| c.link.clone())
    }
}

/// Summary bit of a connection whose driver exports SQLGetInfo (see `raw::call`).
pub const DBC_HAS_A: u32 = 1 << 1;
/// Summary bit of a connection whose driver exports SQLGetInfoW.
pub const DBC_HAS_W: u32 = 1 << 2;

/// Stands in [`Dbc::fast_info`] for an entry point the driver does not export (never
/// called by the lane, whose summary test excludes that case).
extern "C" fn no_get_info(
    _: odbc_dm_abi::SqlHDbc,
    _: odbc_dm_abi::InfoType,
    _: odbc_dm_abi::SqlPointer,
    _: odbc_dm_abi::SqlSmallInt,
    _: *mut odbc_dm_abi::SqlSmallInt,
) -> odbc_dm_abi::SqlReturn {
    odbc_dm_abi::SqlReturn::SQL_ERROR
}

const NO_GET_INFO: fns::SQLGetInfo = no_get_info;

/// What the SQLGetInfo fast lane reads of a connection, set on connect and cleared on
/// disconnect ([`Dbc::set_fast_info`]). Function pointers are stored as `usize`, indexed by
/// width (0: SQLGetInfo, 1: SQLGetInfoW), [`no_get_info`] where the driver lacks one.
struct FastInfo {
    /// The driver's own entry points (no serialization trampoline).
    own: [AtomicUsize; 2],
    /// The driver's connection handle.
    hdbc: AtomicUsize,
    /// The address of the driver's serialization lock (`Threading` 2/3; 0: none).
    serial: AtomicUsize,
    /// The entry points as the DM calls them (`Driver::fns`: through the trampolines, if any).
    table: [AtomicUsize; 2],
}

impl Default for FastInfo {
    fn default() -> Self {
        let stub = || AtomicUsize::new(NO_GET_INFO as usize);
        FastInfo { own: [stub(), stub()], hdbc: AtomicUsize::new(0), serial: AtomicUsize::new(0), table: [stub(), stub()] }
    }
}

impl AsyncHost for Dbc {
    fn slot(&self) -> &AsyncSlot {
        &self.async_slot
    }

    fn driver_diags(&self) -> Vec<DiagRecord> {
        // While an asynchronous connect runs, the driver's connection is the pending link.
        match self.gate.read(|c| c.link.clone().or_else(|| c.pending_link.clone())) {
            Some(l) => super::pull_driver_diags(&l, odbc_dm_abi::HandleType::SQL_HANDLE_DBC, l.hdbc as odbc_dm_abi::SqlHandle),
            None => Vec::new(),
        }
    }

    fn target(&self) -> Target {
        Target { kind: odbc_dm_abi::HandleType::SQL_HANDLE_DBC, handle: self.id }
    }
}

impl Drop for Dbc {
    fn drop(&mut self) {
        let t = self.notify_token.load(std::sync::atomic::Ordering::Acquire);
        if t != 0 {
            crate::async_engine::Token(t).unregister();
        }
    }
}
