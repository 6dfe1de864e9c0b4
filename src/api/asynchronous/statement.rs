//! The statement of the asynchronous API: [`AsyncStatement`].

use super::*;

/// A statement in notification mode, for the asynchronous API. Owns its handle and a
/// reference to its connection; no event and no file descriptor (decision #108). `Send`, not `Sync`.
///
/// Each `async` method returns an [`OpFuture`]; each has a `_blocking` twin.
pub struct AsyncStatement {
    pub(super) shared: Arc<Shared>,
    pub(super) enc: TextEncoding,
    pub(super) warnings: Vec<DiagRecord>,
    /// Parameter buffers bound to the statement (`execute_with`), owned until the next
    /// binding or the handle is freed.
    pub(super) params: Vec<BoundParam>,
    /// The columns of the current row read by `get_data` (cleared by every other operation).
    pub(super) read: ReadColumns,
    /// A data-at-execution sequence (§4.5, S8–S10) was left unfinished by a dropped future;
    /// the next operation ends it with SQLCancel (§4.8) first.
    pub(super) need_data: bool,
    pub(super) conn: Arc<ConnInner>,
}

// `Send` follows from the fields: the handle is a DM id stored as a usize.

impl Drop for AsyncStatement {
    fn drop(&mut self) {
        if self.shared.busy() {
            // An operation is outstanding (its future was dropped): the DM takes the handle
            // over, cancels the operation and frees the handle once it has ended (decision
            // #81). It keeps the bound parameters (the driver may still read them) and the
            // connection (freed only after the statement) until then.
            let keep: Box<dyn Any + Send> = Box::new((std::mem::take(&mut self.params), self.conn.clone()));
            // SAFETY: our statement id; nothing of ours uses it after this (the shared state's
            // status handles only ask the DM, which answers SQL_INVALID_HANDLE once freed).
            if let Err(rc) = unsafe { ext::abandon(HandleType::SQL_HANDLE_STMT, self.shared.hstmt(), keep) } {
                log::warn!("handing an abandoned statement to the DM failed ({rc:?})");
            }
            return;
        }
        self.shared.lock().outcome.take();
        // SAFETY: our statement id; nothing outstanding.
        let mut rc = unsafe { raw::SQLFreeHandle(HandleType::SQL_HANDLE_STMT, self.shared.hstmt()) };
        if rc == SqlReturn::SQL_ERROR {
            // A data-at-execution sequence still open cannot be freed (HY010 in S8–S10,
            // §4.5): SQLCancel ends it.
            cancel_need_data(self.shared.hstmt());
            // SAFETY: as above.
            rc = unsafe { raw::SQLFreeHandle(HandleType::SQL_HANDLE_STMT, self.shared.hstmt()) };
        }
        if !rc.is_success() {
            log::warn!("freeing an ODBC statement failed: {}", Diag::stmt(self.shared.hstmt()).error("SQLFreeHandle", rc));
        }
    }
}

impl AsyncStatement {
    pub(super) fn new(conn: Arc<ConnInner>) -> Result<AsyncStatement> {
        let mut h: SqlHandle = ptr::null_mut();
        // SAFETY: our connection id and a valid out slot.
        let rc = unsafe { raw::SQLAllocHandle(HandleType::SQL_HANDLE_STMT, conn.h(), &mut h) };
        conn.conn.check("SQLAllocHandle", rc)?;
        let shared = Arc::new(Shared::new(h as usize));
        let st = AsyncStatement {
            shared,
            enc: conn.conn.text_encoding(),
            warnings: Vec::new(),
            params: Vec::new(),
            read: ReadColumns::default(),
            need_data: false,
            conn,
        };
        // SAFETY: our statement id; integer attribute in the pointer.
        let rc = unsafe { raw::SQLSetStmtAttr(h, StmtAttr::SQL_ATTR_ASYNC_ENABLE, SQL_ASYNC_ENABLE_ON as SqlPointer, SQL_IS_UINTEGER) };
        Diag::stmt(h).check("SQLSetStmtAttr", rc, &mut Vec::new())?;
        // Notification mode without an event (decision #108): the operation's end wakes the
        // future's registered waker; no file descriptor per statement.
        // SAFETY: our statement id; integer attribute in the pointer.
        let rc = unsafe { raw::SQLSetStmtAttr(h, StmtAttr(ext::SQL_ATTR_DM_ASYNC_WAKER), 1usize as SqlPointer, SQL_IS_UINTEGER) };
        Diag::stmt(h).check("SQLSetStmtAttr", rc, &mut Vec::new())?;
        Ok(st)
    }

    /// The raw statement handle (a DM handle usable with [`crate::raw`]); owned by `self`.
    pub fn as_raw(&self) -> SqlHStmt {
        self.shared.hstmt()
    }

    /// Whether the DM runs this statement's operations on its emulation pool (the driver
    /// lacks native notification) rather than through the driver's notification.
    pub fn is_emulated(&self) -> bool {
        ext::is_emulated(self.shared.hstmt()).unwrap_or(false)
    }

    /// The connection.
    pub fn connection(&self) -> &Connection {
        &self.conn.conn
    }

    /// The SUCCESS_WITH_INFO records gathered so far.
    pub fn warnings(&self) -> &[DiagRecord] {
        &self.warnings
    }

    /// Returns and clears the gathered warnings.
    pub fn take_warnings(&mut self) -> Vec<DiagRecord> {
        std::mem::take(&mut self.warnings)
    }

    /// One driver call as a future.
    /// `keep` owns buffers the driver points into (`()` for none); the closures may too.
    pub(super) fn raw<T, K, S, F>(&mut self, function: &'static str, keep: K, start: S, finish: F) -> RawOp<'_, T>
    where
        T: Send + 'static,
        K: Send + 'static,
        S: FnOnce(SqlHStmt) -> SqlReturn + Send + 'static,
        F: FnOnce(&mut AsyncStatement, &'static str, SqlReturn, Vec<DiagRecord>) -> Result<T> + Send + 'static,
    {
        let call: Box<dyn OpCall<T>> = Box::new(CallParts { keep, start: Some(start), finish });
        RawOp { st: self, function, call: Some(call), state: RawState::Init, raw_gen: 0 }
    }

    /// Wraps an operation made of driver calls in an [`OpFuture`]: a new latest operation
    /// of the statement (its status lives in the shared state, decision #117).
    pub(super) fn op<'s, T: 's, F>(
        &'s mut self,
        function: &'static str,
        body: impl FnOnce(&'s mut AsyncStatement) -> F + Send + 's,
    ) -> OpFuture<'s, T>
    where
        F: Future<Output = Result<T>> + Send + 's,
    {
        let id = self.shared.begin_op();
        if function != "SQLGetData" {
            // Anything but SQLGetData may move or close the cursor: a new row.
            self.read.clear();
        }
        let sh = self.shared.clone();
        if std::mem::take(&mut self.need_data) {
            // A dropped future left a data-at-execution sequence (S8–S10): once its last
            // operation is settled, end the sequence with SQLCancel (§4.8), then run.
            let fut = async move {
                self.settled().await?;
                cancel_need_data(self.shared.hstmt());
                body(self).await
            };
            return OpFuture { fut: Box::pin(fut), sh, id, function };
        }
        OpFuture { fut: Box::pin(body(self)), sh, id, function }
    }

    /// The blocking counterpart of the first step of [`op`](Self::op) for the methods that
    /// do not run as operations: settles a leftover operation (bounded) and ends a
    /// data-at-execution sequence a dropped future left.
    pub(super) fn settle_leftover_blocking(&mut self) -> Result<()> {
        if !self.shared.settle_blocking() {
            return Err(Error::DriverProtocol {
                function: "SQLCancel",
                detail: "an earlier operation on this statement did not end".into(),
            });
        }
        if std::mem::take(&mut self.need_data) {
            cancel_need_data(self.shared.hstmt());
        }
        Ok(())
    }

    /// A status handle of the statement's latest operation.
    pub fn operation(&self) -> AsyncOperation {
        self.shared.handle(self.shared.latest_id(), "SQLCompleteAsync")
    }

    pub(super) fn text_call(
        &mut self,
        function: &'static str,
        sql: Vec<u8>,
        call: unsafe extern "C" fn(SqlHStmt, *const SqlChar, SqlInteger) -> SqlReturn,
        close_first: bool,
    ) -> Result<RawOp<'_, SqlReturn>> {
        let len = i32::try_from(sql.len()).map_err(|_| Error::Usage("statement text longer than i32::MAX bytes".into()))?;
        let text = sql.into_boxed_slice();
        let p = Addr::of(text.as_ptr());
        let start = start_fn(move |h| {
            if close_first {
                // SAFETY: our statement id; not an asynchronous function.
                unsafe { raw::SQLFreeStmt(h, FreeStmtOption::SQL_CLOSE) };
            }
            // SAFETY: our statement id; the text is owned by the operation (its `keep`,
            // then the slot) until the driver is done with it.
            unsafe { call(h, p.ptr::<u8>(), len) }
        });
        let finish = finish_fn::<SqlReturn, _>(|st, function, rc, recs| check_outcome(function, rc, recs, &mut st.warnings));
        Ok(self.raw(function, text, start, finish))
    }

    pub(super) fn num_result_cols_op(&mut self) -> RawOp<'_, i16> {
        let out = Box::new(0i16);
        let p = Addr::of(&*out as *const i16);
        let start = start_fn(move |h| {
            // SAFETY: our statement id; `out` is heap memory owned by `finish`.
            unsafe { raw::SQLNumResultCols(h, p.ptr()) }
        });
        let finish = finish_fn::<i16, _>(move |st, _, rc, recs| {
            check_outcome("SQLNumResultCols", rc, recs, &mut st.warnings)?;
            Ok(*out)
        });
        self.raw("SQLNumResultCols", (), start, finish)
    }

    pub(super) fn simple_op(&mut self, function: &'static str, call: unsafe extern "C" fn(SqlHStmt) -> SqlReturn) -> RawOp<'_, SqlReturn> {
        let start = start_fn(move |h| {
            // SAFETY: our statement id.
            unsafe { call(h) }
        });
        let finish = finish_fn::<SqlReturn, _>(|st, function, rc, recs| check_outcome(function, rc, recs, &mut st.warnings));
        self.raw(function, (), start, finish)
    }

    /// Executes `sql` directly (`SQLExecDirect`; an open cursor is closed first, and
    /// parameters bound by an earlier [`execute_with`](Self::execute_with) are reset);
    /// `true` when a result set is open (then `SQLNumResultCols` > 0).
    pub fn execute(&mut self, sql: impl Into<String>) -> OpFuture<'_, bool> {
        self.execute_with(sql, ())
    }

    /// Executes `sql` directly (`SQLExecDirect`) with `params` bound to its `?` markers;
    /// `true` when a result set is open.
    ///
    /// `params` is any [`Params`] (a tuple, an array, a `Vec<ParamValue>`) of `i32`,
    /// `i64`, `f64`, `bool`, `&str`/`String`, `&[u8]`/`Vec<u8>` and `Option`s of those.
    /// The values are copied into heap buffers owned by the statement and bound with
    /// `SQLBindParameter`; they stay bound (and alive) until the statement's next binding
    /// or its drop, so a dropped future or a driver that reads parameters late never sees
    /// freed memory. Data-at-execution values ([`LongText`](crate::api::LongText),
    /// [`Streamed`](crate::api::Streamed)) are sent in chunks after the execution asks for them
    /// (`SQLParamData` / `SQLPutData`, each an asynchronous operation owning its chunk).
    pub fn execute_with(&mut self, sql: impl Into<String>, params: impl Params) -> OpFuture<'_, bool> {
        // Compact captures: they live as long as the operation's future (issue 12 item 3).
        let sql: Box<[u8]> = sql.into().into_bytes().into_boxed_slice();
        let values = params.into_values();
        let values = (!values.is_empty()).then(|| Box::new(values));
        self.op("SQLExecDirect", move |st| async move {
            if values.is_some() || !st.params.is_empty() {
                // Boxed: its state would otherwise enlarge every execution's future.
                Box::pin(st.bind_owned(values.map_or_else(Vec::new, |v| *v))).await?;
            }
            // Two statements, not `text_call(..)?.await`: the `?`'s temporary would
            // otherwise live across the await beside the driver call (56 bytes more in
            // every execution's future, decision #107).
            let call = st.text_call("SQLExecDirect", sql.into_vec(), raw::SQLExecDirect, true)?;
            let rc = call.await?;
            if st.data_at_exec(rc).await? == SqlReturn::SQL_NO_DATA {
                return Ok(false);
            }
            Ok(st.num_result_cols_op().await? > 0)
        })
    }

    /// Blocking twin of [`execute_with`](Self::execute_with).
    pub fn execute_with_blocking(&mut self, sql: impl Into<String>, params: impl Params) -> Result<bool> {
        self.execute_with(sql, params).wait()
    }

    /// Waits for an operation left by a dropped future and collects it (as the first step
    /// of every [`RawOp`] does), so that synchronous calls can follow.
    pub(super) fn settled(&mut self) -> impl Future<Output = Result<()>> + Send + '_ {
        let sh = self.shared.clone();
        std::future::poll_fn(move |cx| {
            if sh.has(ABORTED) {
                return Poll::Ready(Err(cancelled("SQLBindParameter")));
            }
            if sh.busy() {
                sh.register(cx);
                if let Collect::Pending = sh.collect() {
                    return Poll::Pending;
                }
            }
            sh.lock().outcome.take();
            Poll::Ready(Ok(()))
        })
    }

    /// Replaces the bound parameters with `values` (copied into statement-owned heap
    /// buffers); nothing to do when neither old nor new ones exist.
    pub(super) async fn bind_owned(&mut self, values: Vec<ParamValue>) -> Result<()> {
        if values.is_empty() && self.params.is_empty() {
            return Ok(());
        }
        self.settled().await?;
        let h = self.shared.hstmt();
        // SAFETY: our statement id; nothing outstanding (settled). Neither is asynchronous.
        unsafe {
            raw::SQLFreeStmt(h, FreeStmtOption::SQL_CLOSE);
            raw::SQLFreeStmt(h, FreeStmtOption::SQL_RESET_PARAMS);
        }
        // The old buffers are unbound: they may go now.
        let enc = self.enc;
        self.params = values.into_iter().map(|v| to_bound(v, enc)).collect();
        bind_bound_params(h, &mut self.params, enc, &mut self.warnings)
    }

    /// Blocking twin of [`execute`](Self::execute).
    pub fn execute_blocking(&mut self, sql: impl Into<String>) -> Result<bool> {
        self.execute(sql).wait()
    }

    /// Prepares `sql` (`SQLPrepare`).
    pub fn prepare(&mut self, sql: impl Into<String>) -> OpFuture<'_, ()> {
        let sql: String = sql.into();
        self.op("SQLPrepare", move |st| async move {
            let call = st.text_call("SQLPrepare", sql.into_bytes(), raw::SQLPrepare, true)?;
            call.await?;
            Ok(())
        })
    }

    /// Blocking twin of [`prepare`](Self::prepare).
    pub fn prepare_blocking(&mut self, sql: impl Into<String>) -> Result<()> {
        self.prepare(sql).wait()
    }

    /// Executes the prepared statement (`SQLExecute`; an open cursor is closed first) with
    /// the parameters last bound, if any; `true` when a result set is open.
    pub fn execute_prepared(&mut self) -> OpFuture<'_, bool> {
        self.op("SQLExecute", move |st| async move { st.execute_prepared_inner().await })
    }

    /// Blocking twin of [`execute_prepared`](Self::execute_prepared).
    pub fn execute_prepared_blocking(&mut self) -> Result<bool> {
        self.execute_prepared().wait()
    }

    /// Executes the prepared statement with `params` bound to its markers (`SQLExecute`;
    /// see [`execute_with`](Self::execute_with) for the parameter types and their
    /// ownership); `true` when a result set is open.
    pub fn execute_prepared_with(&mut self, params: impl Params) -> OpFuture<'_, bool> {
        let values = params.into_values();
        self.op("SQLExecute", move |st| async move {
            st.bind_owned(values).await?;
            st.execute_prepared_inner().await
        })
    }

    /// Blocking twin of [`execute_prepared_with`](Self::execute_prepared_with).
    pub fn execute_prepared_with_blocking(&mut self, params: impl Params) -> Result<bool> {
        self.execute_prepared_with(params).wait()
    }

    pub(super) async fn execute_prepared_inner(&mut self) -> Result<bool> {
        let start = start_fn(|h| {
            // SAFETY: our statement id; SQLFreeStmt is not asynchronous.
            unsafe { raw::SQLFreeStmt(h, FreeStmtOption::SQL_CLOSE) };
            // SAFETY: our statement id.
            unsafe { raw::SQLExecute(h) }
        });
        let finish = finish_fn::<SqlReturn, _>(|st, _, rc, recs| check_outcome("SQLExecute", rc, recs, &mut st.warnings));
        let rc = self.raw("SQLExecute", (), start, finish).await?;
        if self.data_at_exec(rc).await? == SqlReturn::SQL_NO_DATA {
            return Ok(false);
        }
        Ok(self.num_result_cols_op().await? > 0)
    }

    catalog_methods!(
        OpFuture<'_, bool>,
        catalog,
        "as an operation that owns copies of the arguments; `true` when the statement is left with the catalog's result set open",
        tables,
        columns,
        primary_keys
    );
    catalog_methods!(Result<bool>, catalog_blocking, "(blocking twin)", tables_blocking, columns_blocking, primary_keys_blocking);

    pub(super) fn catalog(&mut self, function: &'static str, args: Result<CatalogArgs>) -> OpFuture<'_, bool> {
        self.op(function, move |st| async move { st.catalog_call(args?).await })
    }

    pub(super) fn catalog_blocking(&mut self, function: &'static str, args: Result<CatalogArgs>) -> Result<bool> {
        self.catalog(function, args).wait()
    }

    /// A catalog function; the arguments are owned by the operation.
    pub(super) async fn catalog_call(&mut self, args: CatalogArgs) -> Result<bool> {
        let function = args.function();
        let args = Box::new(args);
        let p = Addr::of(&*args as *const CatalogArgs);
        let start = start_fn(move |h| {
            // SAFETY: our statement id; the arguments are heap memory owned by the operation
            // (its `keep`, then the slot) until the driver is done with them.
            unsafe { (*p.ptr::<CatalogArgs>()).call(h) }
        });
        let finish = finish_fn::<SqlReturn, _>(|st, function, rc, recs| check_outcome(function, rc, recs, &mut st.warnings));
        let rc = self.raw(function, args, start, finish).await?;
        if rc == SqlReturn::SQL_NO_DATA {
            return Ok(false);
        }
        Ok(self.num_result_cols_op().await? > 0)
    }

    /// The number of result columns (`SQLNumResultCols`).
    pub fn column_count(&mut self) -> OpFuture<'_, u16> {
        self.op("SQLNumResultCols", |st| async move { Ok(st.num_result_cols_op().await?.max(0) as u16) })
    }

    /// Blocking twin of [`column_count`](Self::column_count).
    pub fn column_count_blocking(&mut self) -> Result<u16> {
        self.column_count().wait()
    }

    /// Fetches the next row (`SQLFetch`); `false` at the end of the result set.
    pub fn fetch(&mut self) -> OpFuture<'_, bool> {
        self.op("SQLFetch", |st| async move { Ok(st.simple_op("SQLFetch", raw::SQLFetch).await? != SqlReturn::SQL_NO_DATA) })
    }

    /// Blocking twin of [`fetch`](Self::fetch).
    pub fn fetch_blocking(&mut self) -> Result<bool> {
        self.fetch().wait()
    }

    /// Moves to the next result set (`SQLMoreResults`), skipping results without columns;
    /// `false` when there is none.
    pub fn more_results(&mut self) -> OpFuture<'_, bool> {
        self.op("SQLMoreResults", |st| async move {
            loop {
                if st.simple_op("SQLMoreResults", raw::SQLMoreResults).await? == SqlReturn::SQL_NO_DATA {
                    return Ok(false);
                }
                if st.num_result_cols_op().await? > 0 {
                    return Ok(true);
                }
            }
        })
    }

    /// Blocking twin of [`more_results`](Self::more_results).
    pub fn more_results_blocking(&mut self) -> Result<bool> {
        self.more_results().wait()
    }

    /// Closes the open cursor (`SQLFreeStmt(SQL_CLOSE)`), after waiting (bounded) for a
    /// leftover operation of a dropped future.
    pub fn close_cursor(&mut self) -> Result<()> {
        self.settle_leftover_blocking()?;
        // SAFETY: our statement id.
        let rc = unsafe { raw::SQLFreeStmt(self.shared.hstmt(), FreeStmtOption::SQL_CLOSE) };
        Diag::stmt(self.shared.hstmt()).check("SQLFreeStmt", rc, &mut self.warnings).map(drop)
    }

    /// Reads column `col` (1-based) of the current row (`SQLGetData`, in pieces for long
    /// values; see [`FromColumn`] for the C type of each Rust type). A NULL is an
    /// [`Error::UnexpectedNull`] unless `T` is an `Option`; a column read twice is an
    /// [`Error::Usage`] ("already read"), while `SQL_NO_DATA` for a column not read yet (the
    /// cursor closed underneath) is an [`Error::Odbc`] with return code `SQL_NO_DATA`.
    pub fn get_data<T: FromColumn>(&mut self, col: u16) -> OpFuture<'_, T> {
        self.op("SQLGetData", move |st| async move {
            if col == 0 {
                return Err(Error::Usage("columns are numbered from 1 (bookmarks are not supported)".into()));
            }
            let mut g = GetData::new(col, T::KIND, st.enc, &mut st.read)?;
            loop {
                let (piece, rc, records) = st.get_data_piece(&mut g).await?;
                if let Some(v) = g.absorb(*piece, rc, records, &mut st.read, &mut st.warnings)? {
                    return T::from_value(v, col);
                }
            }
        })
    }

    /// Blocking twin of [`get_data`](Self::get_data).
    pub fn get_data_blocking<T: FromColumn>(&mut self, col: u16) -> Result<T> {
        self.get_data(col).wait()
    }

    /// One SQLGetData call of `g` into a piece owned by the operation; the piece comes back
    /// with the return code and the records (for `SQL_NO_DATA`, those the handle holds).
    pub(super) async fn get_data_piece(&mut self, g: &mut GetData) -> Result<(Box<Piece>, SqlReturn, Vec<DiagRecord>)> {
        let mut piece = Box::new(g.piece());
        let (pv, len, pi) = piece.args();
        let (pv, pi, col, ctype) = (Addr::of(pv as *const u8), Addr::of(pi as *const SqlLen), g.col(), g.c_type());
        let start = start_fn(move |h| {
            // SAFETY: our statement id; `len` bytes and an indicator in the boxed piece,
            // owned by the operation (`finish`, then the slot) until the driver is done.
            unsafe { raw::SQLGetData(h, col, ctype, pv.ptr(), len, pi.ptr()) }
        });
        let finish = finish_fn::<(Box<Piece>, SqlReturn, Vec<DiagRecord>), _>(move |st, _, rc, mut recs| {
            if rc == SqlReturn::SQL_NO_DATA {
                recs = diag_records(HandleType::SQL_HANDLE_STMT, st.shared.hstmt());
            }
            Ok((piece, rc, recs))
        });
        self.raw("SQLGetData", (), start, finish).await
    }

    /// Drives data-at-execution after an execution returned `rc`: while it is
    /// SQL_NEED_DATA, `SQLParamData` names a parameter and its chunks ([`AtExec`], shared
    /// with the synchronous API) go out with `SQLPutData`, each call an asynchronous
    /// operation that owns its chunk. The final `SQLParamData`'s code is the execution's.
    pub(super) async fn data_at_exec(&mut self, rc: SqlReturn) -> Result<SqlReturn> {
        if rc != SqlReturn::SQL_NEED_DATA {
            self.need_data = false;
            return Ok(rc);
        }
        // Boxed: the sequence is rare, and its state (SQLParamData and SQLPutData
        // operations) would otherwise enlarge every execution's future (issue 12 item 3).
        Box::pin(self.data_at_exec_sequence(rc)).await
    }

    async fn data_at_exec_sequence(&mut self, mut rc: SqlReturn) -> Result<SqlReturn> {
        // Stays set if this future is dropped before the sequence ends.
        self.need_data = rc == SqlReturn::SQL_NEED_DATA;
        while rc == SqlReturn::SQL_NEED_DATA {
            let (next, token) = match self.param_data_op().await {
                Ok(v) => v,
                Err(e) => {
                    // The sequence ended with the error (the statement left S8–S10).
                    self.need_data = false;
                    return Err(e);
                }
            };
            rc = next;
            if rc != SqlReturn::SQL_NEED_DATA {
                break;
            }
            if let Err(e) = self.send_at_exec(token).await {
                self.need_data = false;
                cancel_need_data(self.shared.hstmt());
                return Err(e);
            }
        }
        self.need_data = false;
        Ok(rc)
    }

    pub(super) async fn send_at_exec(&mut self, token: usize) -> Result<()> {
        let mut at = AtExec::new(&self.params, token as SqlPointer)?;
        loop {
            let chunk: Box<[u8]> = match at.next_chunk(&mut self.params)? {
                Some(c) => c.into(),
                None => return Ok(()),
            };
            let (p, len) = (Addr::of(chunk.as_ptr()), chunk.len() as SqlLen);
            let start = start_fn(move |h| {
                // SAFETY: our statement id; `len` bytes of the chunk owned by the operation
                // (its `keep`, then the slot) until the driver is done with them.
                unsafe { raw::SQLPutData(h, p.ptr(), len) }
            });
            let finish = finish_fn::<SqlReturn, _>(move |st, _, rc, recs| check_outcome("SQLPutData", rc, recs, &mut st.warnings));
            self.raw("SQLPutData", chunk, start, finish).await?;
        }
    }

    /// `SQLParamData`: its code and the token of the parameter it asks for.
    pub(super) async fn param_data_op(&mut self) -> Result<(SqlReturn, usize)> {
        // A pointer-sized slot (a `usize`, so the closure is `Send`).
        let out: Box<usize> = Box::new(0);
        let p = Addr::of(&*out as *const usize);
        let start = start_fn(move |h| {
            // SAFETY: our statement id; the out slot is pointer-sized heap memory owned by
            // `finish`.
            unsafe { raw::SQLParamData(h, p.ptr::<SqlPointer>()) }
        });
        let finish = finish_fn::<(SqlReturn, usize), _>(move |st, _, rc, recs| {
            let rc = check_outcome("SQLParamData", rc, recs, &mut st.warnings)?;
            Ok((rc, *out))
        });
        self.raw("SQLParamData", (), start, finish).await
    }

    /// Switches to block fetching: binds one heap buffer per entry of `columns` to columns
    /// 1, 2, … and fetches up to `rowset_size` rows per [`AsyncBlockCursor::fetch`] (less
    /// when the driver refuses arrays). Waits (bounded) for a leftover operation first.
    pub fn bind_block(&mut self, rowset_size: usize, columns: &[BufferDesc]) -> Result<AsyncBlockCursor<'_>> {
        AsyncBlockCursor::new(self, rowset_size, columns)
    }
}
