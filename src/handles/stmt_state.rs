//! The statement state machine of Appendix B (§4.5–§4.8), checked by the DM before every
//! driver call. Errors in parentheses in the tables are the DM's: they are returned here,
//! without calling the driver.

use odbc_dm_abi::{FunctionId as F, SqlReturn};

use crate::diag::SqlState;

/// Whether a successful call of `f` may leave a result set on the statement (the DM then
/// asks the driver, [`crate::handles::driver_has_result`], to tell S4 from S5).
pub fn opens_result(f: F) -> bool {
    matches!(
        f,
        F::SQL_API_SQLEXECDIRECT | F::SQL_API_SQLEXECUTE | F::SQL_API_SQLPREPARE | F::SQL_API_SQLMORERESULTS | F::SQL_API_SQLPARAMDATA
    )
}

/// Statement states S1–S12 (§4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StmtState {
    /// Allocated.
    S1,
    /// Prepared, no result set.
    S2,
    /// Prepared, result set.
    S3,
    /// Executed, no result set.
    S4,
    /// Cursor open.
    S5,
    /// Cursor positioned with SQLFetch or SQLFetchScroll.
    S6,
    /// Cursor positioned with SQLExtendedFetch.
    S7,
    /// Need data (SQLParamData expected).
    S8,
    /// Must put data.
    S9,
    /// Can put data.
    S10,
    /// Still executing (asynchronous call outstanding).
    S11,
    /// Asynchronous call cancelled; keep calling until it finishes (§4.8).
    S12,
}

/// Everything the DM tracks to drive the statement state machine.
#[derive(Clone, Copy, Debug)]
pub struct StmtStatus {
    pub state: StmtState,
    /// `Some(has_result_set)` when the statement holds a prepared statement.
    pub prepared: Option<bool>,
    /// State to return to when a NEED_DATA sequence is cancelled (§4.8).
    pub before_need_data: StmtState,
    /// The function that started the NEED_DATA sequence (SQLExecute, SQLExecDirect, ...).
    pub need_data_func: Option<F>,
    /// The outstanding asynchronous function (S11/S12), §4.6.
    pub async_func: Option<F>,
    /// State before the asynchronous call started (§4.6, unixODBC's `interupted_state`).
    pub before_async: StmtState,
    /// S5 was assumed, not learned: an execution completed with asynchronous execution
    /// enabled, when the DM does not ask the driver SQLNumResultCols (it could answer
    /// asynchronously itself). Until a call settles it, the functions that are (24000) in
    /// S5 only because of an open cursor (a new execution, preparation, catalog function,
    /// SQLSetCursorName) go to the driver, which has the cursor or not (decision #133).
    pub result_unknown: bool,
}

impl Default for StmtStatus {
    fn default() -> Self {
        StmtStatus {
            state: StmtState::S1,
            prepared: None,
            before_need_data: StmtState::S1,
            need_data_func: None,
            async_func: None,
            before_async: StmtState::S1,
            result_unknown: false,
        }
    }
}

/// Functions that may run asynchronously on a statement (§1.3).
pub fn is_async_capable(f: F) -> bool {
    matches!(
        f,
        F::SQL_API_SQLBULKOPERATIONS
            | F::SQL_API_SQLCOLATTRIBUTE
            | F::SQL_API_SQLCOLUMNPRIVILEGES
            | F::SQL_API_SQLCOLUMNS
            | F::SQL_API_SQLDESCRIBECOL
            | F::SQL_API_SQLDESCRIBEPARAM
            | F::SQL_API_SQLEXECDIRECT
            | F::SQL_API_SQLEXECUTE
            | F::SQL_API_SQLFETCH
            | F::SQL_API_SQLFETCHSCROLL
            | F::SQL_API_SQLFOREIGNKEYS
            | F::SQL_API_SQLGETDATA
            | F::SQL_API_SQLGETTYPEINFO
            | F::SQL_API_SQLMORERESULTS
            | F::SQL_API_SQLNUMPARAMS
            | F::SQL_API_SQLNUMRESULTCOLS
            | F::SQL_API_SQLPARAMDATA
            | F::SQL_API_SQLPREPARE
            | F::SQL_API_SQLPRIMARYKEYS
            | F::SQL_API_SQLPROCEDURECOLUMNS
            | F::SQL_API_SQLPROCEDURES
            | F::SQL_API_SQLPUTDATA
            | F::SQL_API_SQLSETPOS
            | F::SQL_API_SQLSPECIALCOLUMNS
            | F::SQL_API_SQLSTATISTICS
            | F::SQL_API_SQLTABLEPRIVILEGES
            | F::SQL_API_SQLTABLES
            | F::SQL_API_SQLEXTENDEDFETCH
    )
}

fn is_catalog(f: F) -> bool {
    matches!(
        f,
        F::SQL_API_SQLCOLUMNPRIVILEGES
            | F::SQL_API_SQLCOLUMNS
            | F::SQL_API_SQLFOREIGNKEYS
            | F::SQL_API_SQLGETTYPEINFO
            | F::SQL_API_SQLPRIMARYKEYS
            | F::SQL_API_SQLPROCEDURECOLUMNS
            | F::SQL_API_SQLPROCEDURES
            | F::SQL_API_SQLSPECIALCOLUMNS
            | F::SQL_API_SQLSTATISTICS
            | F::SQL_API_SQLTABLEPRIVILEGES
            | F::SQL_API_SQLTABLES
    )
}

use StmtState::*;

/// Whether `f` may be called in the current state; `Err` carries the DM's SQLSTATE.
#[inline]
pub fn check(f: F, st: &StmtStatus) -> Result<(), SqlState> {
    let s = st.state;
    const SEQ: SqlState = SqlState::FUNCTION_SEQUENCE_ERROR;
    const CUR: SqlState = SqlState::INVALID_CURSOR_STATE;
    // S11/S12: only the outstanding function goes on (NS [c]); everything else that
    // reaches this check is HY010 [o] (§4.6, §4.7). Functions unaffected by async state
    // (diagnostics, info, SQLCancel) never call `check`.
    if matches!(s, S11 | S12) {
        return if st.async_func == Some(f) { Ok(()) } else { Err(SEQ) };
    }
    let need_data = matches!(s, S8 | S9 | S10);
    // S5 assumed after an asynchronous execution (decision #133): the cursor's 24000 is
    // the driver's to give.
    let s5_known = s == S5 && !st.result_unknown;
    let open = |s: StmtState| matches!(s, S6 | S7) || (s == S5 && !st.result_unknown);
    match f {
        // S9 (SQLParamData named a parameter, no SQLPutData yet): (HY010) in Appendix B.
        F::SQL_API_SQLPARAMDATA => match s {
            S8 | S10 => Ok(()),
            _ => Err(SEQ),
        },
        F::SQL_API_SQLPUTDATA => match s {
            S9 | S10 => Ok(()),
            _ => Err(SEQ),
        },
        // S8–S10: only SQLParamData, SQLPutData (above), SQLCancel and the diagnostic
        // functions (which never call `check`) go on; every other statement function is
        // (HY010) in Appendix B, SQLFreeHandle(STMT), SQLFreeStmt(SQL_DROP) and
        // SQLGet/SetStmtAttr included (§4.5, §4.7).
        _ if need_data => Err(SEQ),
        F::SQL_API_SQLEXECDIRECT | F::SQL_API_SQLPREPARE => match s {
            _ if open(s) => Err(CUR),
            _ => Ok(()),
        },
        _ if is_catalog(f) => match s {
            _ if open(s) => Err(CUR),
            _ => Ok(()),
        },
        F::SQL_API_SQLEXECUTE => match s {
            S1 => Err(SEQ),
            S4 if st.prepared.is_none() => Err(SEQ),
            S5 if !s5_known && st.prepared.is_some() => Ok(()),
            S5 | S6 | S7 if st.prepared.is_some() => Err(CUR),
            S5 | S6 | S7 => Err(SEQ),
            _ => Ok(()),
        },
        F::SQL_API_SQLFETCH | F::SQL_API_SQLFETCHSCROLL => match s {
            S1 | S2 | S3 => Err(SEQ),
            S4 => Err(CUR),
            S7 => Err(SEQ),
            _ => Ok(()),
        },
        F::SQL_API_SQLEXTENDEDFETCH => match s {
            S1 | S2 | S3 => Err(SEQ),
            S4 => Err(CUR),
            S6 => Err(SEQ),
            _ => Ok(()),
        },
        F::SQL_API_SQLGETDATA => match s {
            S1 | S2 | S3 => Err(SEQ),
            S4 | S5 => Err(CUR),
            _ => Ok(()),
        },
        F::SQL_API_SQLSETPOS => match s {
            S1 | S2 | S3 => Err(SEQ),
            S4 | S5 => Err(CUR),
            _ => Ok(()),
        },
        F::SQL_API_SQLBULKOPERATIONS => match s {
            S1 | S2 | S3 | S7 => Err(SEQ),
            S4 => Err(CUR),
            _ => Ok(()),
        },
        F::SQL_API_SQLCLOSECURSOR => match s {
            S1 | S2 | S3 | S4 => Err(CUR),
            _ => Ok(()),
        },
        F::SQL_API_SQLNUMRESULTCOLS
        | F::SQL_API_SQLDESCRIBECOL
        | F::SQL_API_SQLCOLATTRIBUTE
        | F::SQL_API_SQLNUMPARAMS
        | F::SQL_API_SQLDESCRIBEPARAM => match s {
            S1 => Err(SEQ),
            _ => Ok(()),
        },
        F::SQL_API_SQLROWCOUNT => match s {
            S1 | S2 | S3 => Err(SEQ),
            _ => Ok(()),
        },
        F::SQL_API_SQLMORERESULTS => match s {
            S1 | S2 | S3 => Ok(()), // returns SQL_NO_DATA from the driver
            _ => Ok(()),
        },
        F::SQL_API_SQLSETCURSORNAME => match s {
            S5 if !s5_known => Ok(()),
            S4 | S5 | S6 | S7 => Err(CUR),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Applies the transition for `f` returning `rc`. `has_result` is whether the statement
/// now has a result set (asked of the driver with SQLNumResultCols after an execution).
#[inline]
#[allow(clippy::collapsible_match)] // one arm per function reads like the Appendix B table
pub fn after(f: F, st: &mut StmtStatus, rc: SqlReturn, has_result: Option<bool>) {
    if st.result_unknown
        && st.state == S5
        && rc == SqlReturn::SQL_ERROR
        && (opens_result(f) || is_catalog(f) || f == F::SQL_API_SQLSETCURSORNAME)
    {
        // The driver refused a call the DM let through on an assumed S5 (#133): most
        // likely its cursor is open after all, or the new statement failed. Either way the
        // DM knows no more than before: the state stays as it was.
        return;
    }
    let before = st.state;
    after_inner(f, st, rc, has_result);
    // A new state is known (the caller marks an assumed S5 afterwards, #133). S8–S12 keep
    // the mark: they return to the state they left.
    if st.state != before && !matches!(st.state, S8 | S9 | S10 | S11 | S12) {
        st.result_unknown = false;
    }
}

#[inline]
#[allow(clippy::collapsible_match)] // one arm per function reads like the Appendix B table
fn after_inner(f: F, st: &mut StmtStatus, rc: SqlReturn, has_result: Option<bool>) {
    let ok = rc.is_success();
    // Asynchronous bookkeeping first (§4.6): STILL_EXECUTING enters or stays in S11.
    if rc == SqlReturn::SQL_STILL_EXECUTING {
        if !matches!(st.state, S11 | S12) {
            st.before_async = st.state;
            st.async_func = Some(f);
            st.state = S11;
        }
        return;
    }
    if matches!(st.state, S11 | S12) && st.async_func == Some(f) {
        // The asynchronous call finished: continue as if S11 had been skipped (NS).
        st.state = st.before_async;
        st.async_func = None;
    }
    if rc == SqlReturn::SQL_NEED_DATA {
        match f {
            F::SQL_API_SQLEXECUTE | F::SQL_API_SQLEXECDIRECT | F::SQL_API_SQLSETPOS | F::SQL_API_SQLBULKOPERATIONS => {
                if f == F::SQL_API_SQLEXECDIRECT {
                    st.prepared = None;
                }
                st.before_need_data = st.state;
                st.need_data_func = Some(f);
                st.state = S8;
            }
            F::SQL_API_SQLPARAMDATA => st.state = S9,
            _ => {}
        }
        return;
    }
    let closed_state = |st: &StmtStatus| match st.prepared {
        Some(true) => S3,
        Some(false) => S2,
        None => S1,
    };
    match f {
        F::SQL_API_SQLPREPARE => {
            if ok {
                let hr = has_result.unwrap_or(false);
                st.prepared = Some(hr);
                st.state = if hr { S3 } else { S2 };
            } else if rc == SqlReturn::SQL_ERROR {
                st.prepared = None;
                st.state = S1;
            }
        }
        F::SQL_API_SQLEXECDIRECT | F::SQL_API_SQLEXECUTE => {
            if f == F::SQL_API_SQLEXECDIRECT {
                st.prepared = None;
            }
            if ok {
                st.state = if has_result.unwrap_or(false) { S5 } else { S4 };
            } else if rc == SqlReturn::SQL_NO_DATA {
                st.state = S4;
            } else if rc == SqlReturn::SQL_ERROR {
                st.state = closed_state(st);
            }
        }
        _ if is_catalog(f) => {
            st.prepared = None;
            st.state = if ok { S5 } else { S1 };
        }
        F::SQL_API_SQLPARAMDATA => {
            // The NEED_DATA sequence ended: its function's result decides (S4/S5 or error).
            let func = st.need_data_func.take().unwrap_or(F::SQL_API_SQLEXECUTE);
            if ok || rc == SqlReturn::SQL_NO_DATA {
                match func {
                    F::SQL_API_SQLSETPOS | F::SQL_API_SQLBULKOPERATIONS => st.state = st.before_need_data,
                    _ => st.state = if has_result.unwrap_or(false) { S5 } else { S4 },
                }
            } else if rc == SqlReturn::SQL_ERROR {
                st.state = match func {
                    F::SQL_API_SQLSETPOS | F::SQL_API_SQLBULKOPERATIONS => st.before_need_data,
                    _ => closed_state(st),
                };
            }
        }
        F::SQL_API_SQLPUTDATA => {
            if ok {
                st.state = S10;
            } else if rc == SqlReturn::SQL_ERROR {
                // The data-at-execution sequence is over, as after a failing SQLParamData.
                let func = st.need_data_func.take().unwrap_or(F::SQL_API_SQLEXECUTE);
                st.state = match func {
                    F::SQL_API_SQLSETPOS | F::SQL_API_SQLBULKOPERATIONS => st.before_need_data,
                    _ => closed_state(st),
                };
            }
        }
        F::SQL_API_SQLFETCH | F::SQL_API_SQLFETCHSCROLL => {
            if ok || rc == SqlReturn::SQL_NO_DATA {
                st.state = S6;
            }
        }
        F::SQL_API_SQLEXTENDEDFETCH => {
            if ok || rc == SqlReturn::SQL_NO_DATA {
                st.state = S7;
            }
        }
        F::SQL_API_SQLCLOSECURSOR => {
            if ok {
                st.state = closed_state(st);
            }
        }
        F::SQL_API_SQLMORERESULTS => {
            if ok {
                st.state = if has_result.unwrap_or(false) { S5 } else { S4 };
            } else if rc == SqlReturn::SQL_NO_DATA && matches!(st.state, S4 | S5 | S6 | S7) {
                st.state = closed_state(st);
            }
        }
        _ => {}
    }
}

/// SQLFreeStmt(SQL_CLOSE): closes any cursor; the statement keeps its prepared plan.
pub fn close(st: &mut StmtStatus) {
    st.result_unknown = false;
    if matches!(st.state, S4 | S5 | S6 | S7) {
        st.state = match st.prepared {
            Some(true) => S3,
            Some(false) => S2,
            None => S1,
        };
    }
}

/// SQLCancel outside an asynchronous call: a NEED_DATA sequence is abandoned and the
/// statement returns to its state before it (§4.8).
pub fn cancel_need_data(st: &mut StmtStatus) {
    if matches!(st.state, S8 | S9 | S10) {
        st.state = st.before_need_data;
        st.need_data_func = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §4.5, decision #133: an assumed S5 (async execution, no SQLNumResultCols) lets a
    /// new execution through; a known S5 is the DM's 24000; the next fetch settles it.
    #[test]
    fn s4_5_assumed_s5_defers_24000_to_the_driver() {
        let mut st = StmtStatus { state: S5, ..Default::default() };
        assert_eq!(check(F::SQL_API_SQLEXECDIRECT, &st), Err(SqlState::INVALID_CURSOR_STATE));
        st.result_unknown = true;
        assert_eq!(check(F::SQL_API_SQLEXECDIRECT, &st), Ok(()));
        assert_eq!(check(F::SQL_API_SQLTABLES, &st), Ok(()));
        assert_eq!(check(F::SQL_API_SQLGETDATA, &st), Err(SqlState::INVALID_CURSOR_STATE));
        after(F::SQL_API_SQLFETCH, &mut st, SqlReturn::SQL_SUCCESS, None);
        assert_eq!((st.state, st.result_unknown), (S6, false));
        // A driver's refusal of the let-through call changes nothing.
        let mut st = StmtStatus { state: S5, result_unknown: true, ..Default::default() };
        after(F::SQL_API_SQLEXECDIRECT, &mut st, SqlReturn::SQL_ERROR, None);
        assert_eq!((st.state, st.result_unknown), (S5, true));
    }

    #[test]
    fn fetch_without_cursor_is_24000_s4() {
        // §4.3 legend: (24000) is detected by the DM.
        let st = StmtStatus { state: S4, ..Default::default() };
        assert_eq!(check(F::SQL_API_SQLFETCH, &st), Err(SqlState::INVALID_CURSOR_STATE));
    }

    #[test]
    fn s4_5_s4_7_need_data_states_refuse_all_but_paramdata_and_putdata() {
        // Appendix B, S8–S10: SQLFreeHandle(STMT), SQLGet/SetStmtAttr and every other
        // statement function are (HY010); SQLParamData in S8/S10, SQLPutData in S9/S10;
        // SQLParamData in S9 (no SQLPutData yet) is (HY010) too.
        let seq = Err(SqlState::FUNCTION_SEQUENCE_ERROR);
        for state in [S8, S9, S10] {
            let st = StmtStatus { state, before_need_data: S2, ..Default::default() };
            for f in [
                F::SQL_API_SQLFREEHANDLE,
                F::SQL_API_SQLGETSTMTATTR,
                F::SQL_API_SQLSETSTMTATTR,
                F::SQL_API_SQLGETCURSORNAME,
                F::SQL_API_SQLEXECUTE,
                F::SQL_API_SQLNUMRESULTCOLS,
                F::SQL_API_SQLROWCOUNT,
                F::SQL_API_SQLBINDCOL,
            ] {
                assert_eq!(check(f, &st), seq, "{f:?} in {state:?}");
            }
            assert_eq!(check(F::SQL_API_SQLPARAMDATA, &st).is_ok(), state != S9, "SQLParamData in {state:?}");
            assert_eq!(check(F::SQL_API_SQLPUTDATA, &st).is_ok(), state != S8, "SQLPutData in {state:?}");
        }
    }

    #[test]
    fn async_fetch_ending_in_no_data_leaves_s11() {
        // §4.6: the outstanding function's completion returns to the NS transition.
        let mut st = StmtStatus { state: S5, ..Default::default() };
        after(F::SQL_API_SQLFETCH, &mut st, SqlReturn::SQL_STILL_EXECUTING, None);
        assert_eq!(st.state, S11);
        assert_eq!(check(F::SQL_API_SQLEXECUTE, &st), Err(SqlState::FUNCTION_SEQUENCE_ERROR));
        after(F::SQL_API_SQLFETCH, &mut st, SqlReturn::SQL_NO_DATA, None);
        assert_eq!(st.state, S6);
        assert!(st.async_func.is_none());
    }
}
