//! The fast lanes' common part (see `handles::gate` and `raw`'s module documentation):
//! the entry point resolves the handle with `handles::lend_stmt` / `lend_dbc` (slot pin,
//! no reference count), takes the gate with one compare-and-swap on the published summary
//! and calls [`stmt_lane_run`]; every failure before the driver call releases the pin and
//! tail-calls the full path with the entry point's own arguments. Nothing on the hot path
//! can panic (atomics and calls of `extern "C"` driver functions, which cannot unwind);
//! the cold continuation of a call that did not return plain SQL_SUCCESS has its own
//! `catch_unwind`.

use odbc_dm_abi::{FunctionId, SqlReturn};

use crate::handles::{Lent, Stmt};

/// A statement lane whose gate the caller has taken ([`crate::handles::gate::Gated::fast_enter`],
/// which also proves that no stale cross-thread cancel is pending: `gate::CANCEL_PENDING`
/// lives in the word it compares, decision #120): counts the lane, calls the driver
/// (`call`: its own entry point, under a serialized driver's lock; `tramp`: the same
/// through the serialization trampoline, see `serialize::lane_call`), and gives the gate
/// back on plain SQL_SUCCESS; anything else is finished on the slow path.
#[inline(always)]
pub(super) fn stmt_lane_run(
    s: Lent<'_, Stmt>,
    func: FunctionId,
    call: impl FnOnce() -> SqlReturn,
    tramp: impl FnOnce() -> SqlReturn,
) -> SqlReturn {
    s.count_lane();
    let rc = crate::driver::serialize::lane_call(&s.fast_serial, call, tramp);
    if rc == SqlReturn::SQL_SUCCESS {
        s.gate.release();
        return rc;
    }
    stmt_lane_rest(s, func, rc)
}

/// The rest of a statement lane whose driver call did not return plain SQL_SUCCESS (the
/// slow path's bookkeeping, with the gate still held), inside its own panic boundary.
#[cold]
#[inline(never)]
fn stmt_lane_rest(s: Lent<'_, Stmt>, func: FunctionId, rc: SqlReturn) -> SqlReturn {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| super::call::stmt_lane_finish(s, func, rc))) {
        Ok(rc) => rc,
        Err(p) => super::lane_panicked("a fast lane's continuation", p),
    }
}
