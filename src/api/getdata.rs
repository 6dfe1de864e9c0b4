//! Chunked `SQLGetData`, written once: [`GetData`] decides what each call reads into and
//! what its result means (01004 = more follows, `SQL_NULL_DATA`, `SQL_NO_TOTAL`,
//! `SQL_NO_DATA`); it makes no call itself. [`read_blocking`] drives it with direct calls
//! (the synchronous [`Row`](super::Row)); the asynchronous statement drives the same
//! machine with one notification-mode operation per piece.

use odbc_dm_abi::*;

use super::column::{ColumnKind, ColumnValue};
use super::error::{diag_records, outcome, DiagRecord, Error, Result};
use super::params::TextEncoding;
use crate::raw;

/// The first buffer for a variable-length value, in bytes.
const FIRST_PIECE: usize = 4096;
/// The largest buffer a piece grows to, in bytes.
const MAX_PIECE: usize = 1 << 22;

/// The buffer and indicator of one `SQLGetData` call. 8-byte aligned storage, so the
/// driver may write any C type into it.
pub(crate) struct Piece {
    buf: PieceBuf,
    /// BufferLength in bytes.
    len: usize,
    ind: SqlLen,
}

enum PieceBuf {
    Fixed(u64),
    Var(Vec<u64>),
}

impl Piece {
    /// TargetValuePtr, BufferLength and StrLen_or_IndPtr for the call. They point into
    /// `self` (a fixed value inline, a variable one on the heap): valid while `self` is
    /// neither moved nor dropped — box the piece first when the call outlives the frame.
    pub(crate) fn args(&mut self) -> (SqlPointer, SqlLen, *mut SqlLen) {
        let p = match &mut self.buf {
            PieceBuf::Fixed(v) => v as *mut u64 as SqlPointer,
            PieceBuf::Var(v) => v.as_mut_ptr() as SqlPointer,
        };
        (p, self.len as SqlLen, &mut self.ind)
    }
}

/// The columns of the current row the API has read (to tell "read already" from a cursor
/// that went away underneath when `SQLGetData` answers `SQL_NO_DATA`), and those it read
/// only in part (a read that did not finish: a dropped future, an error between pieces).
///
/// Columns 1–128 are bits; the rest, and the partial reads, are lists allocated on first
/// use (a statement should cost little memory when 100,000 are open: issue 12 item 3).
#[derive(Default)]
pub(crate) struct ReadColumns {
    low: [u64; 2],
    partial_low: [u64; 2],
    rest: Option<Box<ReadRest>>,
}

#[derive(Default)]
struct ReadRest {
    high: Vec<u16>,
    partial: Vec<u16>,
}

impl ReadColumns {
    #[inline]
    fn bit(col: u16) -> Option<(usize, u64)> {
        (1..=128).contains(&col).then(|| (usize::from((col - 1) / 64), 1u64 << ((col - 1) % 64)))
    }

    fn rest(&mut self) -> &mut ReadRest {
        self.rest.get_or_insert_with(Default::default)
    }

    pub(crate) fn contains(&self, col: u16) -> bool {
        match Self::bit(col) {
            Some((w, b)) => self.low[w] & b != 0,
            None => self.rest.as_ref().is_some_and(|r| r.high.contains(&col)),
        }
    }

    pub(crate) fn mark(&mut self, col: u16) {
        self.unmark_partial(col);
        match Self::bit(col) {
            Some((w, b)) => self.low[w] |= b,
            None => {
                let r = self.rest();
                if !r.high.contains(&col) {
                    r.high.push(col);
                }
            }
        }
    }

    fn is_partial(&self, col: u16) -> bool {
        match Self::bit(col) {
            Some((w, b)) => self.partial_low[w] & b != 0,
            None => self.rest.as_ref().is_some_and(|r| r.partial.contains(&col)),
        }
    }

    fn mark_partial(&mut self, col: u16) {
        match Self::bit(col) {
            Some((w, b)) => self.partial_low[w] |= b,
            None => {
                let r = self.rest();
                if !r.partial.contains(&col) {
                    r.partial.push(col);
                }
            }
        }
    }

    fn unmark_partial(&mut self, col: u16) {
        match Self::bit(col) {
            Some((w, b)) => self.partial_low[w] &= !b,
            None => {
                if let Some(r) = self.rest.as_mut() {
                    r.partial.retain(|&c| c != col);
                }
            }
        }
    }

    /// A new row (or no row): nothing read.
    pub(crate) fn clear(&mut self) {
        self.low = [0; 2];
        self.partial_low = [0; 2];
        if let Some(r) = self.rest.as_mut() {
            r.high.clear();
            r.partial.clear();
        }
    }
}

/// The reading of one column, piece by piece.
pub(crate) struct GetData {
    col: u16,
    kind: ColumnKind,
    enc: TextEncoding,
    /// The column was read by this API before (in this row).
    already_read: bool,
    /// Bytes of the terminator the driver writes after each text piece (0 for binary).
    term: usize,
    /// BufferLength of the next variable-length piece.
    size: usize,
    spare: Vec<u64>,
    out: Vec<u8>,
    /// Pieces that returned data.
    pieces: usize,
}

impl GetData {
    /// Reads column `col` as `kind`, text in `enc`; `read` tells which columns were read.
    /// A column read only in part is an error: the driver would return the rest of the
    /// value, which the API would take for the whole. The column counts as read in part
    /// from here until the read ends (so a future dropped while a piece is with the driver
    /// leaves it so).
    pub(crate) fn new(col: u16, kind: ColumnKind, enc: TextEncoding, read: &mut ReadColumns) -> Result<GetData> {
        if read.is_partial(col) {
            return Err(Error::Usage(format!(
                "column {col} was read in part by a read that did not finish (a dropped future or an error); the rest of it is not a value"
            )));
        }
        let already_read = read.contains(col);
        read.mark_partial(col);
        let term = match (kind, enc) {
            (ColumnKind::Text, TextEncoding::Utf8) => 1,
            (ColumnKind::Text, TextEncoding::Utf16) => 2,
            _ => 0,
        };
        Ok(GetData { col, kind, enc, already_read, term, size: FIRST_PIECE, spare: Vec::new(), out: Vec::new(), pieces: 0 })
    }

    /// The TargetType of every call.
    pub(crate) fn c_type(&self) -> CDataType {
        self.kind.c_type(self.enc)
    }

    /// The column number.
    pub(crate) fn col(&self) -> u16 {
        self.col
    }

    /// The buffer of the next call.
    pub(crate) fn piece(&mut self) -> Piece {
        match self.kind.fixed_size() {
            Some(n) => Piece { buf: PieceBuf::Fixed(0), len: n, ind: 0 },
            None => {
                let mut v = std::mem::take(&mut self.spare);
                v.clear();
                v.resize(self.size / 8, 0);
                Piece { buf: PieceBuf::Var(v), len: self.size, ind: 0 }
            }
        }
    }

    /// Takes back a call's piece with its return code and diagnostic records (all of them:
    /// the records of SUCCESS_WITH_INFO, ERROR and, for `SQL_NO_DATA`, whatever the handle
    /// holds). `Ok(Some(value))`: the value is complete (`ColumnValue::Null` for NULL);
    /// `Ok(None)`: call again with the next [`piece`](Self::piece). Marks the column in
    /// `read` as read in part after a truncated piece, and as read once it is complete.
    pub(crate) fn absorb(
        &mut self,
        piece: Piece,
        rc: SqlReturn,
        records: Vec<DiagRecord>,
        read: &mut ReadColumns,
        warnings: &mut Vec<DiagRecord>,
    ) -> Result<Option<ColumnValue>> {
        if rc == SqlReturn::SQL_NO_DATA {
            if self.pieces > 0 {
                // The previous piece was the last (some drivers say so only now).
                read.mark(self.col);
                return self.finish().map(Some);
            }
            read.unmark_partial(self.col);
            return Err(self.no_data(records));
        }
        let truncated = records.iter().any(|r| r.state == "01004");
        let records = if truncated { records.into_iter().filter(|r| r.state != "01004").collect() } else { records };
        if let Err(e) = outcome("SQLGetData", rc, records, warnings) {
            if self.pieces == 0 {
                // Nothing of the value was returned: it is not read in part.
                read.unmark_partial(self.col);
            }
            return Err(e);
        }
        self.pieces += 1;
        if !truncated {
            read.mark(self.col);
        }
        if piece.ind == SQL_NULL_DATA {
            return Ok(Some(ColumnValue::Null));
        }
        let v = match piece.buf {
            PieceBuf::Fixed(v) => return Ok(Some(self.kind.decode_fixed(v.to_ne_bytes()))),
            PieceBuf::Var(v) => v,
        };
        // SAFETY: `v` holds `v.len() * 8` initialized bytes (u64s viewed as bytes).
        let bytes = unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, v.len() * 8) };
        let usable = piece.len.min(bytes.len()) - self.term;
        let ind = piece.ind;
        let n = if truncated || ind == SQL_NO_TOTAL { usable } else { (ind.max(0) as usize).min(usable) };
        self.out.extend_from_slice(&bytes[..n]);
        if !truncated {
            return self.finish().map(Some);
        }
        // Grow towards the announced remainder (bounded), or double when it is unknown;
        // a multiple of 8 keeps UTF-16 pieces whole.
        let want = if ind == SQL_NO_TOTAL || ind < 0 { piece.len * 2 } else { (ind as usize).saturating_sub(n) + self.term };
        self.size = want.clamp(piece.len, MAX_PIECE).next_multiple_of(8);
        self.spare = v;
        Ok(None)
    }

    /// The error for `SQL_NO_DATA` on the first call: "read already" only when this API
    /// read the column; otherwise the cursor went away underneath (closed by a cancel, by
    /// SQLCloseCursor or SQLFreeStmt on the raw handle, or the column was read through the
    /// raw handle), reported as the ODBC outcome it is with the handle's records.
    fn no_data(&self, records: Vec<DiagRecord>) -> Error {
        if self.already_read {
            return Error::Usage(format!("column {} was already read", self.col));
        }
        Error::Odbc { function: "SQLGetData", return_code: SqlReturn::SQL_NO_DATA.0, records }
    }

    fn finish(&mut self) -> Result<ColumnValue> {
        let out = std::mem::take(&mut self.out);
        let col = self.col;
        match (self.kind, self.enc) {
            (ColumnKind::Text, TextEncoding::Utf8) => {
                String::from_utf8(out).map(ColumnValue::Text).map_err(|_| Error::InvalidText { column: col, encoding: "UTF-8" })
            }
            (ColumnKind::Text, TextEncoding::Utf16) => {
                let w: Vec<u16> = out.chunks_exact(2).map(|c| u16::from_ne_bytes([c[0], c[1]])).collect();
                String::from_utf16(&w).map(ColumnValue::Text).map_err(|_| Error::InvalidText { column: col, encoding: "UTF-16" })
            }
            _ => Ok(ColumnValue::Bytes(out)),
        }
    }
}

/// Whether a call's return code comes with records worth reading.
pub(crate) fn has_records(rc: SqlReturn) -> bool {
    rc != SqlReturn::SQL_SUCCESS && rc != SqlReturn::SQL_INVALID_HANDLE && rc != SqlReturn::SQL_STILL_EXECUTING
}

/// Reads column `col` of the current row of `h` with blocking `SQLGetData` calls.
pub(crate) fn read_blocking(
    h: SqlHStmt,
    col: u16,
    kind: ColumnKind,
    enc: TextEncoding,
    read: &mut ReadColumns,
    warnings: &mut Vec<DiagRecord>,
) -> Result<ColumnValue> {
    let mut g = GetData::new(col, kind, enc, read)?;
    loop {
        let mut piece = g.piece();
        let (p, len, ind) = piece.args();
        // SAFETY: a statement id owned by the caller; `p` addresses `len` writable bytes and
        // `ind` an indicator, both in `piece`, which lives (unmoved) until the call returns.
        let rc = unsafe { raw::SQLGetData(h, col, g.c_type(), p, len, ind) };
        let records = if has_records(rc) { diag_records(HandleType::SQL_HANDLE_STMT, h) } else { Vec::new() };
        if let Some(v) = g.absorb(piece, rc, records, read, warnings)? {
            return Ok(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(state: &str) -> DiagRecord {
        DiagRecord { state: state.into(), native: 0, message: String::new() }
    }

    /// Plays the driver's side of chunked SQLGetData for `value` (bytes), `term` bytes of
    /// terminator, announcing the remainder or SQL_NO_TOTAL; returns what `GetData` made of
    /// it and the buffer lengths it asked for.
    fn read_in_pieces(kind: ColumnKind, enc: TextEncoding, value: &[u8], term: usize, no_total: bool) -> (ColumnValue, Vec<usize>) {
        let mut read = ReadColumns::default();
        let mut g = GetData::new(3, kind, enc, &mut read).unwrap();
        let mut at = 0;
        let mut lens = Vec::new();
        loop {
            let mut piece = g.piece();
            let (p, len, _) = piece.args();
            let len = len as usize;
            lens.push(len);
            let rest = &value[at..];
            let n = rest.len().min(len - term);
            // SAFETY: `p` addresses `len` writable bytes of the piece; `n + term <= len`.
            unsafe {
                std::ptr::copy_nonoverlapping(rest.as_ptr(), p as *mut u8, n);
                std::ptr::write_bytes((p as *mut u8).add(n), 0, term);
            }
            piece.ind = if no_total && n < rest.len() { SQL_NO_TOTAL } else { rest.len() as SqlLen };
            at += n;
            let (rc, recs) =
                if n < rest.len() { (SqlReturn::SQL_SUCCESS_WITH_INFO, vec![rec("01004")]) } else { (SqlReturn::SQL_SUCCESS, Vec::new()) };
            let mut warnings = Vec::new();
            if let Some(v) = g.absorb(piece, rc, recs, &mut read, &mut warnings).unwrap() {
                assert!(warnings.is_empty(), "01004 is not a warning of the whole read");
                assert!(read.contains(3));
                return (v, lens);
            }
        }
    }

    #[test]
    fn utf16_text_in_pieces_keeps_surrogate_pairs() {
        let text: String = "a𝄞é".chars().cycle().take(5000).collect();
        let bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_ne_bytes).collect();
        for no_total in [false, true] {
            let (v, lens) = read_in_pieces(ColumnKind::Text, TextEncoding::Utf16, &bytes, 2, no_total);
            assert!(matches!(&v, ColumnValue::Text(s) if *s == text), "no_total={no_total}");
            assert!(lens.len() > 1 && lens.iter().all(|l| l % 8 == 0), "{lens:?}");
        }
    }

    #[test]
    fn utf8_text_and_binary_in_pieces() {
        let text: String = "é€𝄞x".chars().cycle().take(7000).collect();
        let (v, _) = read_in_pieces(ColumnKind::Text, TextEncoding::Utf8, text.as_bytes(), 1, false);
        assert!(matches!(&v, ColumnValue::Text(s) if *s == text));
        let bin: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let (v, lens) = read_in_pieces(ColumnKind::Bytes, TextEncoding::Utf8, &bin, 0, true);
        assert!(matches!(&v, ColumnValue::Bytes(b) if *b == bin));
        assert_eq!(lens[..3], [4096, 8192, 16384], "SQL_NO_TOTAL doubles the piece");
    }

    #[test]
    fn no_data_is_already_read_only_for_a_column_read_here() {
        let mut read = ReadColumns::default();
        let mut w = Vec::new();
        let mut g = GetData::new(200, ColumnKind::I64, TextEncoding::Utf8, &mut read).unwrap();
        let p = g.piece();
        let e = g.absorb(p, SqlReturn::SQL_NO_DATA, vec![rec("01000")], &mut read, &mut w).unwrap_err();
        assert!(matches!(&e, Error::Odbc { return_code: 100, records, .. } if records[0].state == "01000"), "{e}");
        read.mark(200);
        read.mark(5);
        assert!(read.contains(200) && read.contains(5) && !read.contains(6));
        let mut g = GetData::new(200, ColumnKind::I64, TextEncoding::Utf8, &mut read).unwrap();
        let p = g.piece();
        let e = g.absorb(p, SqlReturn::SQL_NO_DATA, Vec::new(), &mut read, &mut w).unwrap_err();
        assert!(matches!(&e, Error::Usage(m) if m.contains("already read")), "{e}");
        read.clear();
        assert!(!read.contains(200) && !read.contains(5));
        // NULL, and an error with its records.
        let mut g = GetData::new(1, ColumnKind::Text, TextEncoding::Utf8, &mut read).unwrap();
        let mut p = g.piece();
        p.ind = SQL_NULL_DATA;
        assert!(matches!(g.absorb(p, SqlReturn::SQL_SUCCESS, Vec::new(), &mut read, &mut w), Ok(Some(ColumnValue::Null))));
        let mut g = GetData::new(2, ColumnKind::F64, TextEncoding::Utf8, &mut read).unwrap();
        let p = g.piece();
        let e = g.absorb(p, SqlReturn::SQL_ERROR, vec![rec("22003")], &mut read, &mut w).unwrap_err();
        assert_eq!(e.sqlstate(), Some("22003"));
        assert!(!read.contains(2), "a failed read does not count as read");
        assert!(GetData::new(2, ColumnKind::F64, TextEncoding::Utf8, &mut read).is_ok(), "nor as read in part");
    }

    #[test]
    fn a_column_read_in_part_is_not_read_again() {
        let mut read = ReadColumns::default();
        let mut w = Vec::new();
        // A read whose first piece is with the driver when it is abandoned (dropped future).
        let mut g = GetData::new(4, ColumnKind::Text, TextEncoding::Utf8, &mut read).unwrap();
        let _in_flight = g.piece();
        drop(g);
        let e = GetData::new(4, ColumnKind::Text, TextEncoding::Utf8, &mut read).err().unwrap();
        assert!(matches!(&e, Error::Usage(m) if m.contains("in part")), "{e}");
        // A read abandoned after a truncated piece.
        read.clear();
        let mut g = GetData::new(4, ColumnKind::Text, TextEncoding::Utf8, &mut read).unwrap();
        let p = g.piece();
        assert!(g.absorb(p, SqlReturn::SQL_SUCCESS_WITH_INFO, vec![rec("01004")], &mut read, &mut w).unwrap().is_none());
        let e = GetData::new(4, ColumnKind::Bytes, TextEncoding::Utf8, &mut read).err().unwrap();
        assert!(matches!(&e, Error::Usage(m) if m.contains("in part")), "{e}");
        // Other columns, and the next row, read as usual.
        assert!(GetData::new(5, ColumnKind::Text, TextEncoding::Utf8, &mut read).is_ok());
        read.clear();
        assert!(GetData::new(4, ColumnKind::Text, TextEncoding::Utf8, &mut read).is_ok());
    }
}
