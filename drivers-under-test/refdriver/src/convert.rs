//! Conversions between SQLite values and application C buffers (SQLGetData, SQLBindCol,
//! SQLBindParameter).

use crate::diag::DiagRec;
use crate::engine::sqlt;
use crate::handles::ParamBinding;
use crate::util::{put, write_bytes, write_cstr, write_wstr_chars};
use rusqlite::types::Value;
use std::ffi::c_void;

/// C type codes (sqlext.h).
pub mod ct {
    pub const CHAR: i16 = 1;
    pub const LONG: i16 = 4;
    pub const SHORT: i16 = 5;
    pub const FLOAT: i16 = 7;
    pub const DOUBLE: i16 = 8;
    pub const DEFAULT: i16 = 99;
    pub const BINARY: i16 = -2;
    pub const BIT: i16 = -7;
    pub const TINYINT: i16 = -6;
    pub const WCHAR: i16 = -8;
    pub const SSHORT: i16 = -15;
    pub const SLONG: i16 = -16;
    pub const ULONG: i16 = -18;
    pub const SBIGINT: i16 = -25;
    pub const STINYINT: i16 = -26;
    pub const UBIGINT: i16 = -27;
    /// SQL_C_TYPE_DATE: ODBC 3's code only (this driver is a strict ODBC 3 driver: the
    /// ODBC 2 codes SQL_C_DATE 9 / SQL_C_TIMESTAMP 11 are "out of range"; the DM maps them).
    pub const TYPE_DATE: i16 = 91;
    /// SQL_C_TYPE_TIMESTAMP (see [`TYPE_DATE`]).
    pub const TYPE_TIMESTAMP: i16 = 93;
}

pub const SQL_NULL_DATA: isize = -1;
pub const SQL_DATA_AT_EXEC: isize = -2;
pub const SQL_NTS: isize = -3;

/// The C type SQL_C_DEFAULT stands for, given the column's SQL type.
pub fn default_c_type(sql_type: i16) -> i16 {
    match sql_type {
        sqlt::BIGINT => ct::SBIGINT,
        sqlt::INTEGER => ct::SLONG,
        sqlt::SMALLINT => ct::SSHORT,
        sqlt::DOUBLE | 6 => ct::DOUBLE,
        7 => ct::FLOAT,
        sqlt::VARBINARY | -2 | -4 => ct::BINARY,
        sqlt::WVARCHAR | -8 | -10 => ct::WCHAR,
        _ => ct::CHAR,
    }
}

pub fn value_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => {
            let s = format!("{f}");
            s
        }
        Value::Text(t) => t.clone(),
        Value::Blob(b) => b.iter().map(|x| format!("{x:02X}")).collect(),
    }
}

pub enum Conv {
    Ok,
    /// Data truncated (01004) or fractional truncation (01S07): SQL_SUCCESS_WITH_INFO.
    Info(DiagRec),
    /// The column was already fully returned (SQLGetData → SQL_NO_DATA).
    NoData,
    Err(DiagRec),
}

fn as_i64(v: &Value) -> Result<(i64, bool), DiagRec> {
    match v {
        Value::Integer(i) => Ok((*i, false)),
        Value::Real(f) => {
            if !f.is_finite() || *f > i64::MAX as f64 || *f < i64::MIN as f64 {
                return Err(DiagRec::new("22003", "Numeric value out of range"));
            }
            Ok((f.trunc() as i64, f.fract() != 0.0))
        }
        Value::Text(t) => {
            let t = t.trim();
            if let Ok(i) = t.parse::<i64>() {
                Ok((i, false))
            } else if let Ok(f) = t.parse::<f64>() {
                as_i64(&Value::Real(f))
            } else {
                Err(DiagRec::new("22018", "Invalid character value for cast specification"))
            }
        }
        Value::Blob(_) => Err(DiagRec::new("07006", "Restricted data type attribute violation")),
        Value::Null => Ok((0, false)),
    }
}

fn as_f64(v: &Value) -> Result<f64, DiagRec> {
    match v {
        Value::Integer(i) => Ok(*i as f64),
        Value::Real(f) => Ok(*f),
        Value::Text(t) => t.trim().parse::<f64>().map_err(|_| DiagRec::new("22018", "Invalid character value for cast specification")),
        Value::Blob(_) => Err(DiagRec::new("07006", "Restricted data type attribute violation")),
        Value::Null => Ok(0.0),
    }
}

/// Writes `v` into an application buffer as C type `c_type`.
/// `offset`/`done` carry piecewise SQLGetData progress (fresh for SQLBindCol).
///
/// # Safety
/// `target` must be null or valid for `buf_len` bytes (or the fixed size of `c_type`);
/// `ind` must be null or valid for one SQLLEN write.
#[allow(clippy::too_many_arguments)]
pub unsafe fn write_value(
    v: &Value,
    sql_type: i16,
    c_type: i16,
    target: *mut c_void,
    buf_len: isize,
    ind: *mut isize,
    offset: &mut usize,
    done: &mut bool,
) -> Conv {
    if *done {
        return Conv::NoData;
    }
    let c_type = if c_type == ct::DEFAULT { default_c_type(sql_type) } else { c_type };
    if matches!(v, Value::Null) {
        if ind.is_null() {
            return Conv::Err(DiagRec::new("22002", "Indicator variable required but not supplied"));
        }
        // SAFETY: ind non-null, valid per contract.
        unsafe { put(ind, SQL_NULL_DATA) };
        *done = true;
        return Conv::Ok;
    }
    macro_rules! fixed {
        ($t:ty, $val:expr) => {{
            // SAFETY: target valid for a value of the fixed C type per contract.
            unsafe {
                put(target as *mut $t, $val);
                put(ind, std::mem::size_of::<$t>() as isize);
            }
            *done = true;
        }};
    }
    match c_type {
        ct::CHAR | ct::WCHAR | ct::BINARY => {
            let trunc = || DiagRec::new("01004", "String data, right truncated");
            if c_type == ct::WCHAR {
                let units: Vec<u16> = value_text(v).encode_utf16().collect();
                let rest = &units[(*offset).min(units.len())..];
                let s = String::from_utf16_lossy(rest);
                // SAFETY: target valid for buf_len bytes = buf_len/2 u16s.
                let w = unsafe { write_wstr_chars(&s, target as *mut u16, buf_len / 2) };
                // SAFETY: ind valid per contract.
                unsafe { put(ind, (rest.len() * 2) as isize) };
                if w.truncated && !target.is_null() {
                    let written = if buf_len / 2 > 0 { (buf_len / 2 - 1) as usize } else { 0 };
                    // respect the surrogate-pair adjustment of write_wstr_chars
                    let written = if written > 0 && written < rest.len() && (0xD800..0xDC00).contains(&rest[written - 1]) {
                        written - 1
                    } else {
                        written
                    };
                    *offset += written;
                    return Conv::Info(trunc());
                }
            } else {
                let bytes: Vec<u8> = match (c_type, v) {
                    (ct::BINARY, Value::Blob(b)) => b.clone(),
                    (ct::BINARY, Value::Integer(i)) => i.to_le_bytes().to_vec(),
                    (ct::BINARY, Value::Real(f)) => f.to_le_bytes().to_vec(),
                    _ => value_text(v).into_bytes(),
                };
                let rest = &bytes[(*offset).min(bytes.len())..];
                // SAFETY: target valid for buf_len bytes per contract.
                let w = unsafe {
                    if c_type == ct::BINARY {
                        write_bytes(rest, target, buf_len)
                    } else {
                        write_cstr(rest, target, buf_len)
                    }
                };
                // SAFETY: ind valid per contract.
                unsafe { put(ind, rest.len() as isize) };
                if w.truncated && !target.is_null() {
                    let written = if c_type == ct::BINARY { buf_len.max(0) as usize } else { (buf_len - 1).max(0) as usize };
                    *offset += written;
                    return Conv::Info(trunc());
                }
            }
            if !target.is_null() {
                *done = true;
            }
            Conv::Ok
        }
        ct::SLONG | ct::LONG | ct::ULONG => match as_i64(v) {
            Ok((i, frac)) => {
                let ok =
                    if c_type == ct::ULONG { (0..=u32::MAX as i64).contains(&i) } else { (i32::MIN as i64..=i32::MAX as i64).contains(&i) };
                if !ok {
                    return Conv::Err(DiagRec::new("22003", "Numeric value out of range"));
                }
                if c_type == ct::ULONG {
                    fixed!(u32, i as u32)
                } else {
                    fixed!(i32, i as i32)
                }
                frac_info(frac)
            }
            Err(d) => Conv::Err(d),
        },
        ct::SSHORT | ct::SHORT => match as_i64(v) {
            Ok((i, frac)) => {
                if !(i16::MIN as i64..=i16::MAX as i64).contains(&i) {
                    return Conv::Err(DiagRec::new("22003", "Numeric value out of range"));
                }
                fixed!(i16, i as i16);
                frac_info(frac)
            }
            Err(d) => Conv::Err(d),
        },
        ct::TINYINT | ct::STINYINT => match as_i64(v) {
            Ok((i, frac)) => {
                if !(i8::MIN as i64..=i8::MAX as i64).contains(&i) {
                    return Conv::Err(DiagRec::new("22003", "Numeric value out of range"));
                }
                fixed!(i8, i as i8);
                frac_info(frac)
            }
            Err(d) => Conv::Err(d),
        },
        ct::BIT => match as_i64(v) {
            Ok((i, _)) => {
                if !(0..=1).contains(&i) {
                    return Conv::Err(DiagRec::new("22003", "Numeric value out of range"));
                }
                fixed!(u8, i as u8);
                Conv::Ok
            }
            Err(d) => Conv::Err(d),
        },
        ct::SBIGINT | ct::UBIGINT => match as_i64(v) {
            Ok((i, frac)) => {
                if c_type == ct::UBIGINT && i < 0 {
                    return Conv::Err(DiagRec::new("22003", "Numeric value out of range"));
                }
                fixed!(i64, i);
                frac_info(frac)
            }
            Err(d) => Conv::Err(d),
        },
        ct::DOUBLE => match as_f64(v) {
            Ok(f) => {
                fixed!(f64, f);
                Conv::Ok
            }
            Err(d) => Conv::Err(d),
        },
        ct::FLOAT => match as_f64(v) {
            Ok(f) => {
                fixed!(f32, f as f32);
                Conv::Ok
            }
            Err(d) => Conv::Err(d),
        },
        ct::TYPE_DATE | ct::TYPE_TIMESTAMP => match parse_timestamp(&value_text(v)) {
            Some(ts) if c_type == ct::TYPE_DATE => {
                fixed!(DateStruct, DateStruct { year: ts.year, month: ts.month, day: ts.day });
                Conv::Ok
            }
            Some(ts) => {
                fixed!(TimestampStruct, ts);
                Conv::Ok
            }
            None => Conv::Err(DiagRec::new("22018", "Invalid character value for cast specification")),
        },
        _ => Conv::Err(DiagRec::new("HY003", format!("Program type {c_type} out of range or not supported"))),
    }
}

/// SQL_DATE_STRUCT.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct DateStruct {
    pub year: i16,
    pub month: u16,
    pub day: u16,
}

/// SQL_TIMESTAMP_STRUCT (fraction in nanoseconds).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimestampStruct {
    pub year: i16,
    pub month: u16,
    pub day: u16,
    pub hour: u16,
    pub minute: u16,
    pub second: u16,
    pub fraction: u32,
}

/// `YYYY-MM-DD[ HH:MM:SS[.fffffffff]]` (the text this driver stores date/times as).
fn parse_timestamp(t: &str) -> Option<TimestampStruct> {
    let t = t.trim();
    let (date, time) = t.split_once([' ', 'T']).unwrap_or((t, ""));
    let mut d = date.splitn(3, '-');
    let (year, month, day) = (d.next()?.parse().ok()?, d.next()?.parse().ok()?, d.next()?.parse().ok()?);
    let (mut hour, mut minute, mut second, mut fraction) = (0, 0, 0, 0u32);
    if !time.is_empty() {
        let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
        let mut p = hms.splitn(3, ':');
        hour = p.next()?.parse().ok()?;
        minute = p.next()?.parse().ok()?;
        second = p.next().unwrap_or("0").parse().ok()?;
        if !frac.is_empty() {
            let digits: String = frac.chars().take(9).collect();
            fraction = format!("{digits:0<9}").parse().ok()?;
        }
    }
    let valid = (1..=12).contains(&month) && (1..=31).contains(&day) && hour < 24 && minute < 60 && second < 62;
    valid.then_some(TimestampStruct { year, month, day, hour, minute, second, fraction })
}

/// The text this driver stores a SQL_TIMESTAMP_STRUCT as.
fn timestamp_text(ts: &TimestampStruct, with_time: bool) -> String {
    let mut s = format!("{:04}-{:02}-{:02}", ts.year, ts.month, ts.day);
    if with_time {
        s.push_str(&format!(" {:02}:{:02}:{:02}", ts.hour, ts.minute, ts.second));
        if ts.fraction != 0 {
            let f = format!("{:09}", ts.fraction);
            s.push('.');
            s.push_str(f.trim_end_matches('0'));
        }
    }
    s
}

fn frac_info(frac: bool) -> Conv {
    if frac {
        Conv::Info(DiagRec::new("01S07", "Fractional truncation"))
    } else {
        Conv::Ok
    }
}

/// An input parameter's value as read at execute time.
pub enum ParamVal {
    Value(Value),
    DataAtExec,
}

/// Reads a bound input parameter from the application's buffers.
///
/// # Safety
/// The buffers recorded in `b` must still be valid (the ODBC deferred-buffer contract).
pub unsafe fn read_param(b: &ParamBinding) -> Result<ParamVal, DiagRec> {
    let ind = b.ind as *const isize;
    let indv = if ind.is_null() {
        None
    } else {
        // SAFETY: the application bound a valid SQLLEN indicator.
        Some(unsafe { ind.read_unaligned() })
    };
    if indv == Some(SQL_NULL_DATA) {
        return Ok(ParamVal::Value(Value::Null));
    }
    if indv == Some(SQL_DATA_AT_EXEC) || indv.is_some_and(|v| v <= -100) {
        return Ok(ParamVal::DataAtExec);
    }
    let p = b.value as *const u8;
    if p.is_null() {
        return Ok(ParamVal::Value(Value::Null));
    }
    let c_type = if b.c_type == ct::DEFAULT { default_c_type(b.sql_type) } else { b.c_type };
    // SAFETY (whole block): the application bound `value` for the C type `c_type`, with the
    // length given by the indicator (or NUL termination for SQL_NTS).
    let v = unsafe {
        match c_type {
            ct::CHAR => {
                let len = match indv {
                    None | Some(SQL_NTS) => SQL_NTS,
                    Some(n) => n,
                };
                Value::Text(crate::util::read_str(p, len).unwrap_or_default())
            }
            ct::WCHAR => {
                let len = match indv {
                    None | Some(SQL_NTS) => SQL_NTS as i32,
                    Some(n) => (n / 2) as i32,
                };
                Value::Text(crate::util::read_wstr(p as *const u16, len).unwrap_or_default())
            }
            ct::BINARY => {
                let len = indv.unwrap_or(b.buf_len).max(0) as usize;
                Value::Blob(std::slice::from_raw_parts(p, len).to_vec())
            }
            ct::SLONG | ct::LONG => Value::Integer((p as *const i32).read_unaligned() as i64),
            ct::ULONG => Value::Integer((p as *const u32).read_unaligned() as i64),
            ct::SSHORT | ct::SHORT => Value::Integer((p as *const i16).read_unaligned() as i64),
            ct::TINYINT | ct::STINYINT => Value::Integer((p as *const i8).read_unaligned() as i64),
            ct::BIT => Value::Integer(p.read() as i64),
            ct::SBIGINT | ct::UBIGINT => Value::Integer((p as *const i64).read_unaligned()),
            ct::DOUBLE => Value::Real((p as *const f64).read_unaligned()),
            ct::FLOAT => Value::Real((p as *const f32).read_unaligned() as f64),
            ct::TYPE_TIMESTAMP => Value::Text(timestamp_text(&(p as *const TimestampStruct).read_unaligned(), true)),
            ct::TYPE_DATE => {
                let d = (p as *const DateStruct).read_unaligned();
                let ts = TimestampStruct { year: d.year, month: d.month, day: d.day, hour: 0, minute: 0, second: 0, fraction: 0 };
                Value::Text(timestamp_text(&ts, false))
            }
            other => return Err(DiagRec::new("HY003", format!("Program type {other} out of range or not supported"))),
        }
    };
    Ok(ParamVal::Value(v))
}

/// Turns data-at-execution bytes collected by SQLPutData into a value of the bound C type.
pub fn dae_value(b: &ParamBinding, data: &[u8]) -> Value {
    match b.c_type {
        ct::WCHAR => {
            let u: Vec<u16> = data.chunks_exact(2).map(|c| u16::from_ne_bytes([c[0], c[1]])).collect();
            Value::Text(String::from_utf16_lossy(&u))
        }
        ct::BINARY => Value::Blob(data.to_vec()),
        _ => Value::Text(String::from_utf8_lossy(data).into_owned()),
    }
}
