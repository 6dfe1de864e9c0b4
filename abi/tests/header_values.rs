//! Checks the hand-written ABI of `odbc-dm-abi` against unixODBC's C headers.
//!
//! Why this exists: odbc-dm talks to drivers and applications only through this crate's
//! hand-written constants and fn-pointer types, and nothing else ties them to the C side.
//! A wrong value or a missing parameter compiles fine and fails at run time, as a wrong
//! attribute forwarded to a driver or a corrupted call stack. So our own ABI must never
//! drift from the C headers: every named constant in every table (each newtype's
//! `C_CONSTANTS`, `STATUS_VALUES`, `ATTRIBUTE_VALUES`, `INFO_VALUES`) must equal the value
//! of the same name in <sql.h>/<sqlext.h>/<sqlspi.h>/<sqlucode.h> (Debian's unixodbc-dev),
//! and every entry point in `fns::ENTRY_POINT_NAMES` must have the header prototype's
//! number of parameters, each of the C parameter's size.
//!
//! The documented exceptions are the Windows SDK names (§0 Constants, §6.6 the
//! SQLGetFunctions bitmap, §7.6 unixODBC header gaps of /work/shared/spec/odbc-rules.md):
//! - names in `NOT_IN_UNIXODBC` must be *absent* from the headers (checked with `#ifdef`);
//! - names in `WINDOWS_ONLY` are either absent from the headers or defined there with a
//!   different value, which is reported as the known difference, not a failure
//!   (SQL_API_SQLCANCELHANDLE: 1550 in the Windows SDK, 1022 in unixODBC, §6.6, §7.6);
//! - SQLCompleteAsync (W:sql.h, §0 Signatures) may be missing from unixODBC's prototypes.
//!
//! A name that the headers do not define at all and that is not listed as Windows-only
//! fails the test (it is most likely a typo). Without `cc` or the headers the test prints
//! "SKIPPED: unixodbc-dev not installed" to stderr (uncaptured) and passes; set
//! `ODBC_DM_REQUIRE_HEADERS=1` to make that a failure instead.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use odbc_dm_abi::fns::{ENTRY_POINT_ARITIES, ENTRY_POINT_NAMES, ENTRY_POINT_PARAM_SIZES};
use odbc_dm_abi::*;

/// Every constant table of the crate. `every_table_is_checked` makes sure a newtype or a
/// value table added later is listed here too.
const TABLES: &[(&str, &[(&str, i64)])] = &[
    ("SqlReturn", SqlReturn::C_CONSTANTS),
    ("HandleType", HandleType::C_CONSTANTS),
    ("EnvAttr", EnvAttr::C_CONSTANTS),
    ("ConnAttr", ConnAttr::C_CONSTANTS),
    ("StmtAttr", StmtAttr::C_CONSTANTS),
    ("InfoType", InfoType::C_CONSTANTS),
    ("FunctionId", FunctionId::C_CONSTANTS),
    ("DiagField", DiagField::C_CONSTANTS),
    ("CDataType", CDataType::C_CONSTANTS),
    ("SqlDataType", SqlDataType::C_CONSTANTS),
    ("FetchOrientation", FetchOrientation::C_CONSTANTS),
    ("FreeStmtOption", FreeStmtOption::C_CONSTANTS),
    ("CompletionType", CompletionType::C_CONSTANTS),
    ("DriverCompletion", DriverCompletion::C_CONSTANTS),
    ("ParamIoType", ParamIoType::C_CONSTANTS),
    ("DescField", DescField::C_CONSTANTS),
    ("SetPosOperation", SetPosOperation::C_CONSTANTS),
    ("LockType", LockType::C_CONSTANTS),
    ("BulkOperation", BulkOperation::C_CONSTANTS),
    ("RowIdentifier", RowIdentifier::C_CONSTANTS),
    ("Nullability", Nullability::C_CONSTANTS),
    ("STATUS_VALUES", STATUS_VALUES),
    ("ATTRIBUTE_VALUES", ATTRIBUTE_VALUES),
    ("INFO_VALUES", INFO_VALUES),
];

/// Entry points that the Windows SDK declares and unixODBC may not (§0 Signatures:
/// `SQLRETURN SQLCompleteAsync(SQLSMALLINT, SQLHANDLE, RETCODE *)`, W:sql.h), with the
/// Windows arity, checked instead when the header lacks the prototype.
const WINDOWS_ONLY_ENTRY_POINTS: &[(&str, usize)] = &[("SQLCompleteAsync", 3)];

const HEADERS: &[&str] = &["sql.h", "sqlext.h", "sqlspi.h", "sqlucode.h"];

/// Marker the generated C prints for a name that is not `#define`d.
const ABSENT: &str = "@absent";

// ---------------------------------------------------------------------------------------
// Plumbing: temp dir, uncaptured notices, compiling and running C.
// ---------------------------------------------------------------------------------------

/// Writes to the real stderr, bypassing libtest's capture, so notices are never silent.
fn notice(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

fn work_dir(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("header_values-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

fn includes() -> String {
    HEADERS.iter().map(|h| format!("#include <{h}>\n")).collect()
}

/// Compiles a probe that includes the four headers. `false` (after printing the SKIPPED
/// notice) when `cc` or the headers are missing.
fn toolchain_available(dir: &Path, test: &str) -> bool {
    let probe = dir.join("probe.c");
    std::fs::write(&probe, format!("{}int main(void) {{ return 0; }}\n", includes())).unwrap();
    let why = match Command::new("cc").arg("-c").arg(&probe).arg("-o").arg(dir.join("probe.o")).output() {
        Err(e) => format!("cannot run `cc`: {e}"),
        Ok(out) if !out.status.success() => {
            format!("`cc` cannot compile #include <{}>:\n{}", HEADERS.join(">, <"), String::from_utf8_lossy(&out.stderr))
        }
        Ok(_) => return true,
    };
    let msg = format!(
        "SKIPPED: unixodbc-dev not installed — {test} did not check the ABI against the C \
         headers ({why}). Install unixodbc-dev and a C compiler to run it."
    );
    if std::env::var_os("ODBC_DM_REQUIRE_HEADERS").is_some_and(|v| v != "0") {
        panic!("{msg} (ODBC_DM_REQUIRE_HEADERS is set)");
    }
    notice(&msg);
    count_skip(&format!("SKIPPED {test}: unixodbc-dev not installed"));
    let _ = std::fs::remove_dir_all(dir);
    false
}

/// Appends a skip to the workspace's skips log (`ODBC_DM_SKIPS_LOG`, default
/// target/odbc-test/skips.log), which drivers-under-test/test.sh counts in its summary.
fn count_skip(line: &str) {
    let log = std::env::var_os("ODBC_DM_SKIPS_LOG")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/odbc-test/skips.log"));
    if let Some(dir) = log.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(&log) {
        let _ = writeln!(f, "{line}");
    }
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Compiles `source` into `dir/<stem>` and returns what the program prints.
fn compile_and_run(dir: &Path, stem: &str, source: &str) -> String {
    let c = dir.join(format!("{stem}.c"));
    let exe = dir.join(stem);
    std::fs::write(&c, source).unwrap();
    run(Command::new("cc").arg("-std=gnu11").arg(&c).arg("-o").arg(&exe), &format!("compiling {}", c.display()));
    run(&mut Command::new(&exe), &format!("running {}", exe.display()))
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

// ---------------------------------------------------------------------------------------
// 1. Constant values.
// ---------------------------------------------------------------------------------------

/// Every `odbc_newtype!` struct and `odbc_values!` table declared in src/ must be in
/// `TABLES`, or its constants would silently escape the header check.
#[test]
fn every_table_is_checked() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut declared = BTreeSet::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (i, _) in text.match_indices("odbc_newtype! {") {
            let rest = &text[i..];
            let s = rest.find("pub struct ").expect("odbc_newtype! without pub struct") + "pub struct ".len();
            let name: String = rest[s..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            declared.insert(name);
        }
        for (i, m) in text.match_indices("odbc_values! {") {
            let rest = &text[i + m.len()..];
            let name = rest[..rest.find(';').expect("odbc_values! without table name")].trim();
            declared.insert(name.to_string());
        }
    }
    assert!(declared.len() > 5, "found too few tables in {}: {declared:?}", src.display());
    let listed: BTreeSet<String> = TABLES.iter().map(|(t, _)| t.to_string()).collect();
    let missing: Vec<_> = declared.difference(&listed).collect();
    assert!(missing.is_empty(), "tables declared in src/ but not checked by TABLES in this test: {missing:?}");
}

#[test]
fn constants_match_unixodbc_headers() {
    let dir = work_dir("constants");
    if !toolchain_available(&dir, "constants_match_unixodbc_headers") {
        return;
    }

    let not_in_unixodbc: BTreeSet<&str> = NOT_IN_UNIXODBC.iter().copied().collect();
    let windows_only: BTreeMap<&str, i64> = WINDOWS_ONLY.iter().copied().collect();

    // Every name we ask the headers about: table entries plus both exception lists.
    let mut names: BTreeSet<&str> = TABLES.iter().flat_map(|(_, t)| t.iter().map(|(n, _)| *n)).collect();
    names.extend(not_in_unixodbc.iter().copied());
    names.extend(windows_only.keys().copied());

    let mut c = includes();
    c.push_str("#include <stdio.h>\nint main(void) {\n");
    for name in &names {
        assert!(is_ident(name), "not a C identifier: {name:?}");
        c.push_str(&format!(
            "#ifdef {name}\n    printf(\"{name} %lld\\n\", (long long)({name}));\n#else\n    printf(\"{name} {ABSENT}\\n\");\n#endif\n"
        ));
    }
    c.push_str("    return 0;\n}\n");

    let out = compile_and_run(&dir, "constants", &c);
    let mut header: BTreeMap<&str, Option<i64>> = BTreeMap::new();
    for line in out.lines() {
        let (name, value) = line.split_once(' ').unwrap_or_else(|| panic!("bad output line {line:?}"));
        let value =
            if value == ABSENT { None } else { Some(value.parse::<i64>().unwrap_or_else(|e| panic!("bad value in {line:?}: {e}"))) };
        let name = names.get(name).unwrap_or_else(|| panic!("unexpected name in output: {line:?}"));
        header.insert(name, value);
    }
    assert_eq!(header.len(), names.len(), "the generated program did not print every name:\n{out}");

    let mut unknown = Vec::new(); // names the headers lack and nobody declared Windows-only
    let mut wrong = Vec::new(); // value differs from the header
    let mut known = Vec::new(); // documented Windows/unixODBC differences
    let mut checked = 0usize;

    for (table, consts) in TABLES {
        for &(name, ours) in *consts {
            checked += 1;
            let windows = windows_only.get(name).copied();
            match header[name] {
                None if windows.is_some() || not_in_unixodbc.contains(name) => {
                    if let Some(w) = windows.filter(|w| *w != ours) {
                        wrong.push(format!("{table}::{name} = {ours}, but WINDOWS_ONLY says {w}"));
                    }
                }
                None => unknown.push(format!("{table}::{name} (ours = {ours})")),
                Some(h) if not_in_unixodbc.contains(name) => {
                    wrong.push(format!("{table}::{name} is listed in NOT_IN_UNIXODBC, but the headers define it as {h}"))
                }
                Some(h) if h == ours => {}
                Some(h) if windows == Some(ours) => {
                    known.push(format!("{table}::{name} = {ours} (Windows SDK), unixODBC has {h} (§0, §6.6, §7.6)"))
                }
                Some(h) => wrong.push(format!("{table}::{name} = {ours}, header = {h}")),
            }
        }
    }

    // The exception lists themselves (§0, §7.6).
    for name in &not_in_unixodbc {
        if let Some(h) = header[name] {
            wrong.push(format!("NOT_IN_UNIXODBC lists {name}, but the headers define it as {h}"));
        }
    }
    for (name, w) in &windows_only {
        match header[name] {
            None => known.push(format!("{name} = {w} is Windows-only; unixODBC does not define it (§0, §7.6)")),
            Some(h) if h != *w => known.push(format!("{name}: Windows SDK {w}, unixODBC {h} — the known difference (§0, §6.6, §7.6)")),
            Some(h) => {
                wrong.push(format!("WINDOWS_ONLY lists {name} = {w}, but unixODBC defines the same value {h}; it is not Windows-only"))
            }
        }
    }
    // The Rust items that carry the Windows-only values must agree with WINDOWS_ONLY.
    for (name, rust) in [
        ("SQL_API_SQLCANCELHANDLE", FunctionId::SQL_API_SQLCANCELHANDLE_MS.0 as i64),
        ("SQL_API_SQLCOMPLETEASYNC", FunctionId::SQL_API_SQLCOMPLETEASYNC.0 as i64),
        ("SQL_CP_DRIVER_AWARE", SQL_CP_DRIVER_AWARE as i64),
    ] {
        if windows_only.get(name) != Some(&rust) {
            wrong.push(format!("Rust value of {name} (Windows SDK) is {rust}, WINDOWS_ONLY says {:?}", windows_only.get(name)));
        }
    }

    notice(&format!(
        "header_values: checked {checked} constants of {} tables against <{}>; documented differences:\n  {}",
        TABLES.len(),
        HEADERS.join(">, <"),
        known.join("\n  ")
    ));

    let mut report = String::new();
    if !unknown.is_empty() {
        report.push_str(&format!(
            "\n{} name(s) do not exist in unixODBC's headers and are not listed in WINDOWS_ONLY / \
             NOT_IN_UNIXODBC (typo?):\n  {}\n",
            unknown.len(),
            unknown.join("\n  ")
        ));
    }
    if !wrong.is_empty() {
        report.push_str(&format!("\n{} value(s) differ from the headers:\n  {}\n", wrong.len(), wrong.join("\n  ")));
    }
    assert!(report.is_empty(), "the ABI drifted from unixODBC's headers:{report}");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------
// 2. Entry-point prototypes: arity and parameter sizes.
// ---------------------------------------------------------------------------------------

/// One `SQLRETURN NAME(...)` prototype from the preprocessed headers.
#[derive(Debug, Clone, PartialEq)]
struct Prototype {
    name: String,
    /// The C type of each parameter, parameter name removed (`"SQLCHAR *"`).
    params: Vec<String>,
}

fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with('#') {
            continue; // line markers of `cc -E`
        }
        let mut chars = line.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
            } else if c.is_ascii_alphanumeric() || c == '_' {
                let mut t = String::new();
                while let Some(&c) = chars.peek().filter(|c| c.is_ascii_alphanumeric() || **c == '_') {
                    t.push(c);
                    chars.next();
                }
                tokens.push(t);
            } else if c == '"' || c == '\'' {
                // A literal: keep it as one token so its contents cannot look like syntax.
                let mut t = String::from(c);
                chars.next();
                while let Some(d) = chars.next() {
                    t.push(d);
                    if d == '\\' {
                        if let Some(e) = chars.next() {
                            t.push(e);
                        }
                    } else if d == c {
                        break;
                    }
                }
                tokens.push(t);
            } else {
                tokens.push(c.to_string());
                chars.next();
            }
        }
    }
    tokens
}

const C_TYPE_WORDS: &[&str] = &["void", "char", "short", "int", "long", "signed", "unsigned", "float", "double", "const", "volatile"];

/// The C type of one parameter declaration (its tokens), without the parameter name.
fn param_type(tokens: &[String]) -> String {
    let mut t: Vec<&str> = tokens.iter().map(String::as_str).collect();
    let mut array = false;
    if t.last() == Some(&"]") {
        let open = t.iter().rposition(|x| *x == "[").expect("unbalanced [ ]");
        t.truncate(open);
        array = true;
    }
    if t.len() >= 2 {
        let last = *t.last().unwrap();
        if is_ident(last) && !C_TYPE_WORDS.contains(&last) {
            t.pop();
        }
    }
    let mut ty = t.join(" ");
    if array {
        ty.push_str(" *");
    }
    ty
}

/// Every `SQLRETURN NAME ( params ) ;` declaration in the tokens.
fn prototypes(tokens: &[String]) -> Vec<Prototype> {
    let mut found = Vec::new();
    let mut i = 0;
    while i + 2 < tokens.len() {
        if tokens[i] == "SQLRETURN" && is_ident(&tokens[i + 1]) && tokens[i + 2] == "(" {
            let name = tokens[i + 1].clone();
            let mut depth = 0usize;
            let mut params: Vec<Vec<String>> = vec![Vec::new()];
            let mut j = i + 2;
            while j < tokens.len() {
                let t = &tokens[j];
                match t.as_str() {
                    "(" => {
                        depth += 1;
                        if depth > 1 {
                            params.last_mut().unwrap().push(t.clone());
                        }
                    }
                    ")" => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                        params.last_mut().unwrap().push(t.clone());
                    }
                    "," if depth == 1 => params.push(Vec::new()),
                    _ => params.last_mut().unwrap().push(t.clone()),
                }
                j += 1;
            }
            if tokens.get(j + 1).map(String::as_str) == Some(";") {
                let params = if params.len() == 1 && (params[0].is_empty() || params[0] == ["void"]) {
                    Vec::new()
                } else {
                    params.iter().map(|p| param_type(p)).collect()
                };
                found.push(Prototype { name, params });
            }
            i = j;
        } else {
            i += 1;
        }
    }
    found
}

#[test]
fn prototype_parser() {
    let text = "# 1 \"x.h\"\nSQLRETURN SQLFoo (SQLHSTMT hstmt, SQLCHAR *szText, SQLSMALLINT, unsigned int,\n  SQLCHAR state[6]);\n\
                SQLRETURN SQLBar(void);\ntypedef SQLRETURN (*cb)(SQLPOINTER p, int f);\n\
                SQLRETURN SQLBaz(SQLPOINTER ctx, SQLRETURN (*f)(SQLPOINTER, int));";
    let p = prototypes(&tokenize(text));
    assert_eq!(
        p,
        vec![
            Prototype {
                name: "SQLFoo".into(),
                params: vec!["SQLHSTMT".into(), "SQLCHAR *".into(), "SQLSMALLINT".into(), "unsigned int".into(), "SQLCHAR *".into()],
            },
            Prototype { name: "SQLBar".into(), params: vec![] },
            Prototype { name: "SQLBaz".into(), params: vec!["SQLPOINTER".into(), "SQLRETURN ( * f ) ( SQLPOINTER , int )".into()] },
        ]
    );
}

#[test]
fn entry_points_match_unixodbc_prototypes() {
    let dir = work_dir("entry_points");
    if !toolchain_available(&dir, "entry_points_match_unixodbc_prototypes") {
        return;
    }
    assert_eq!(ENTRY_POINT_ARITIES.len(), ENTRY_POINT_NAMES.len());
    assert_eq!(ENTRY_POINT_PARAM_SIZES.len(), ENTRY_POINT_NAMES.len());

    let src = dir.join("prototypes.c");
    std::fs::write(&src, includes()).unwrap();
    let pre = run(Command::new("cc").arg("-E").arg(&src), "cc -E on the headers");
    let mut declared: BTreeMap<String, Vec<Prototype>> = BTreeMap::new();
    for p in prototypes(&tokenize(&pre)) {
        declared.entry(p.name.clone()).or_default().push(p);
    }
    assert!(declared.len() > 50, "found only {} prototypes in the preprocessed headers", declared.len());

    let windows_only: BTreeMap<&str, usize> = WINDOWS_ONLY_ENTRY_POINTS.iter().copied().collect();
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    let mut size_checks = Vec::new(); // (name, our sizes, C parameter types)

    for (&(name, ours), &(name2, sizes)) in ENTRY_POINT_ARITIES.iter().zip(ENTRY_POINT_PARAM_SIZES) {
        assert_eq!(name, name2);
        assert_eq!(sizes.len(), ours, "{name}: ENTRY_POINT_PARAM_SIZES disagrees with ENTRY_POINT_ARITIES");
        match declared.get(name) {
            None => match windows_only.get(name) {
                Some(&w) if w == ours => {
                    notes.push(format!("{name} is not declared by unixODBC (Windows SDK only, §0); arity {ours} as in W:sql.h"))
                }
                Some(&w) => failures.push(format!("{name}: ours has {ours} parameters, the Windows SDK {w} (§0)")),
                None => failures.push(format!("{name}: unixODBC's headers declare no such function (typo?)")),
            },
            Some(protos) => {
                for p in protos {
                    if p.params.len() != ours {
                        failures.push(format!(
                            "{name}: ours has {ours} parameters, the header {} ({})",
                            p.params.len(),
                            p.params.join(", ")
                        ));
                    }
                }
                let p = &protos[0];
                if p.params.len() == ours {
                    size_checks.push((name, sizes, p.params.clone()));
                }
            }
        }
    }

    // Parameter sizes: sizeof of each C parameter type against size_of of ours.
    let mut c = includes();
    c.push_str("#include <stdio.h>\nint main(void) {\n");
    for (name, _, params) in &size_checks {
        for (i, ty) in params.iter().enumerate() {
            c.push_str(&format!("    printf(\"{name} {i} %zu\\n\", sizeof({ty}));\n"));
        }
    }
    c.push_str("    return 0;\n}\n");
    let out = compile_and_run(&dir, "param_sizes", &c);
    let mut c_sizes: BTreeMap<(String, usize), usize> = BTreeMap::new();
    for line in out.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        assert_eq!(f.len(), 3, "bad output line {line:?}");
        c_sizes.insert((f[0].to_string(), f[1].parse().unwrap()), f[2].parse().unwrap());
    }
    for (name, sizes, params) in &size_checks {
        for (i, (ours, ty)) in sizes.iter().zip(params).enumerate() {
            let theirs = c_sizes[&(name.to_string(), i)];
            if *ours != theirs {
                failures.push(format!("{name}: parameter {} is {ours} bytes in Rust, but `{ty}` is {theirs} bytes in C", i + 1));
            }
        }
    }

    notice(&format!(
        "header_values: checked {} entry points ({} against unixODBC prototypes, arity and parameter sizes){}{}",
        ENTRY_POINT_NAMES.len(),
        size_checks.len(),
        if notes.is_empty() { "" } else { "; notes:\n  " },
        notes.join("\n  ")
    ));
    assert!(failures.is_empty(), "{} entry-point type(s) drifted from unixODBC's prototypes:\n  {}", failures.len(), failures.join("\n  "));
    let _ = std::fs::remove_dir_all(&dir);
}
