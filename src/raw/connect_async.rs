//! Asynchronous connection functions (§1.4, §2.3): SQLConnect, SQLDriverConnect,
//! SQLDisconnect, SQLEndTran and SQLSetConnectAttr through the connection's
//! [`AsyncSlot`](crate::async_engine::AsyncSlot) and SQL_ATTR_ASYNC_DBC_EVENT.

use std::sync::Arc;

use odbc_dm_abi::SqlReturn;

use super::Call;
use crate::async_engine::slot;
use crate::handles::Dbc;

/// Collects a finished connection operation for SQLCompleteAsync: its diagnostics become
/// the handle's and its post-processing runs. `None`: nothing finished to collect.
pub(crate) fn complete(d: &Arc<Dbc>) -> Option<SqlReturn> {
    if d.async_slot.phase() != slot::DONE {
        return None;
    }
    let call = Call::begin(&d.gate, |_| Ok(())).ok()?;
    let done = d.async_slot.take_completed()?;
    let rc = done.rc;
    Some(call.finish_records(rc, done.diags, |c, _| c.async_func = None))
}
