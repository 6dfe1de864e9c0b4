//! Shared output helpers of the CLI: aligned text tables, diagnostics on stderr, and
//! reading a result set into a table with the safe API.

use odbc_dm::abi::SqlDataType;
use odbc_dm::api::{Cursor, DiagRecord, Error};
use odbc_dm::config::mask_passwords;

/// A result set held as text, ready to print.
pub struct Table {
    pub headers: Vec<String>,
    /// Right-align the column (numeric SQL types).
    pub right: Vec<bool>,
    /// Cells; `None` is SQL NULL.
    pub rows: Vec<Vec<Option<String>>>,
}

/// Rows the streaming printer reads before it fixes the column widths
/// (docs/decisions.md #48): later rows are printed as fetched with these widths, so a
/// longer value later in the result pushes its row's alignment out, and memory stays
/// bounded whatever the size of the result.
pub const PREVIEW_ROWS: usize = 100;

/// A cell as printed: control characters escaped, NULL spelled out.
fn cell_text(v: &Option<String>) -> String {
    match v {
        Some(s) => printable(s),
        None => "NULL".to_string(),
    }
}

/// Column widths and alignment of a printed table, fixed from the header and the
/// first rows.
pub struct Layout {
    widths: Vec<usize>,
    right: Vec<bool>,
}

impl Layout {
    /// Widths from the header and `rows`.
    pub fn new(headers: &[String], right: &[bool], rows: &[Vec<Option<String>>]) -> Layout {
        let mut widths: Vec<usize> = headers.iter().map(|h| display_width(&printable(h))).collect();
        for r in rows {
            for (i, c) in r.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(display_width(&cell_text(c)));
                }
            }
        }
        Layout { widths, right: right.to_vec() }
    }

    fn line(&self, cells: &[String], align_right: bool) -> String {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let w = self.widths.get(i).copied().unwrap_or(0);
                let pad = " ".repeat(w.saturating_sub(display_width(c)));
                if align_right && self.right.get(i).copied().unwrap_or(false) {
                    format!("{pad}{c}")
                } else {
                    format!("{c}{pad}")
                }
            })
            .collect();
        format!(" {} ", parts.join(" | ")).trim_end().to_string()
    }

    /// Header line and separator line, each ending in a newline.
    pub fn header(&self, headers: &[String]) -> String {
        let header: Vec<String> = headers.iter().map(|h| printable(h)).collect();
        let sep: Vec<String> = self.widths.iter().map(|w| "-".repeat(w + 2)).collect();
        format!("{}\n{}\n", self.line(&header, false), sep.join("+"))
    }

    /// One row line, ending in a newline.
    pub fn row(&self, cells: &[Option<String>]) -> String {
        let cells: Vec<String> = cells.iter().map(cell_text).collect();
        let mut l = self.line(&cells, true);
        l.push('\n');
        l
    }
}

/// `(N rows)`.
pub fn count_line(n: u64) -> String {
    match n {
        1 => "(1 row)".to_string(),
        n => format!("({n} rows)"),
    }
}

impl Table {
    /// The table as lines: header, separator, rows (no trailing row count).
    pub fn render(&self) -> String {
        let layout = Layout::new(&self.headers, &self.right, &self.rows);
        let mut out = layout.header(&self.headers);
        for r in &self.rows {
            out.push_str(&layout.row(r));
        }
        out
    }

    /// `(N rows)`.
    pub fn count_line(&self) -> String {
        count_line(self.rows.len() as u64)
    }
}

/// Whether values of an SQL type are numbers (right-aligned).
pub fn is_numeric(t: SqlDataType) -> bool {
    matches!(
        t,
        SqlDataType::SQL_NUMERIC
            | SqlDataType::SQL_DECIMAL
            | SqlDataType::SQL_INTEGER
            | SqlDataType::SQL_SMALLINT
            | SqlDataType::SQL_FLOAT
            | SqlDataType::SQL_REAL
            | SqlDataType::SQL_DOUBLE
            | SqlDataType::SQL_BIGINT
            | SqlDataType::SQL_TINYINT
            | SqlDataType::SQL_BIT
    )
}

/// Reads the whole result set of `cursor` as text (`SQLDescribeCol` for the header,
/// `SQLFetch` + `SQLGetData(SQL_C_CHAR)` for the cells). For small results (the demo);
/// `query` streams instead ([`read_header`], [`read_row`]).
pub fn read_table(cursor: &mut Cursor<'_>) -> Result<Table, Error> {
    let (headers, right) = read_header(cursor)?;
    let mut rows = Vec::new();
    while let Some(r) = read_row(cursor, headers.len())? {
        rows.push(r);
    }
    Ok(Table { headers, right, rows })
}

/// Column names and right-alignment flags of a result set.
pub fn read_header(cursor: &mut Cursor<'_>) -> Result<(Vec<String>, Vec<bool>), Error> {
    let n = cursor.column_count()?;
    let mut headers = Vec::with_capacity(n as usize);
    let mut right = Vec::with_capacity(n as usize);
    for c in 1..=n {
        let d = cursor.describe_col(c)?;
        headers.push(d.name);
        right.push(is_numeric(d.data_type));
    }
    Ok((headers, right))
}

/// Fetches the next row as text; `None` at the end.
pub fn read_row(cursor: &mut Cursor<'_>, n: usize) -> Result<Option<Vec<Option<String>>>, Error> {
    let Some(mut row) = cursor.next_row()? else { return Ok(None) };
    let mut cells = Vec::with_capacity(n);
    for c in 1..=n as u16 {
        cells.push(row.get::<Option<String>>(c)?);
    }
    Ok(Some(cells))
}

/// Prints an error to stderr: every diagnostic record as `SQLSTATE: message`, or the
/// error text for errors without records. Passwords are masked.
pub fn print_error(e: &Error) {
    let records = e.records();
    if records.is_empty() {
        eprintln!("odbc-dm: {}", mask_passwords(&e.to_string()));
    }
    for r in records {
        eprintln!("{}", record_line(r));
    }
}

/// `SQLSTATE: message`.
pub fn record_line(r: &DiagRecord) -> String {
    format!("{}: {}", r.state, mask_passwords(&r.message))
}

/// Prints warnings (SUCCESS_WITH_INFO records) as notes on stderr.
pub fn print_notes(records: &[DiagRecord]) {
    for r in records {
        eprintln!("note: {}", record_line(r));
    }
}

/// Control characters would break the alignment: show them escaped.
fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Terminal columns taken by `s` (East Asian wide characters and emoji count 2,
/// combining marks and variation selectors 0). An approximation of `wcswidth`.
pub fn display_width(s: &str) -> usize {
    s.chars().map(char_width).sum()
}

fn char_width(c: char) -> usize {
    let cp = c as u32;
    let zero = matches!(cp,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF
        | 0x200B..=0x200F | 0x20D0..=0x20FF | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F | 0xE0100..=0xE01EF);
    if zero {
        return 0;
    }
    let wide = matches!(cp,
        0x1100..=0x115F | 0x231A..=0x231B | 0x2329..=0x232A | 0x23E9..=0x23EC | 0x23F0 | 0x23F3
        | 0x25FD..=0x25FE | 0x2614..=0x2615 | 0x2648..=0x2653 | 0x267F | 0x2693 | 0x26A1
        | 0x26AA..=0x26AB | 0x26BD..=0x26BE | 0x26C4..=0x26C5 | 0x26CE | 0x26D4 | 0x26EA
        | 0x26F2..=0x26F3 | 0x26F5 | 0x26FA | 0x26FD | 0x2705 | 0x270A..=0x270B | 0x2728 | 0x274C
        | 0x274E | 0x2753..=0x2755 | 0x2757 | 0x2795..=0x2797 | 0x27B0 | 0x27BF | 0x2B1B..=0x2B1C
        | 0x2B50 | 0x2B55 | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xA960..=0xA97F | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE10..=0xFE19
        | 0xFE30..=0xFE6F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x16FE0..=0x18CFF | 0x1B000..=0x1B2FF
        | 0x1F004 | 0x1F0CF | 0x1F18E | 0x1F191..=0x1F19A | 0x1F200..=0x1F251 | 0x1F300..=0x1F64F
        | 0x1F680..=0x1F6FF | 0x1F7E0..=0x1F7EB | 0x1F90C..=0x1F9FF | 0x1FA70..=0x1FAFF
        | 0x20000..=0x3FFFD);
    if wide {
        2
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("é"), 1);
        assert_eq!(display_width("e\u{301}"), 1);
        assert_eq!(display_width("中文"), 4);
        assert_eq!(display_width("😀"), 2);
    }

    #[test]
    fn table_alignment() {
        let t = Table {
            headers: vec!["id".into(), "word".into()],
            right: vec![true, false],
            rows: vec![vec![Some("1".into()), Some("中文".into())], vec![Some("10".into()), None]],
        };
        assert_eq!(t.render(), " id | word\n----+------\n  1 | 中文\n 10 | NULL\n");
        assert_eq!(t.count_line(), "(2 rows)");
    }
}
