//! Injectable faults, selected with the `Fault=` connection-string keyword.
//! Each fault does exactly what its name says and nothing else (README "Fault modes").

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// The notification callback runs on the calling thread, inside the entry point.
    pub callback_on_calling_thread: bool,
    /// The worker calls back before SQL_STILL_EXECUTING is returned; the entry point waits for it.
    pub callback_before_return: bool,
    /// No callback is ever made.
    pub no_callback: bool,
    /// Two callbacks for each SQL_STILL_EXECUTING.
    pub double_callback: bool,
    /// The callback carries [`GARBAGE_CONTEXT`] instead of the context attribute's value.
    pub wrong_context: bool,
    /// Async calls never complete on their own (SQLCancel/SQLCancelHandle still end them).
    pub still_executing_forever: bool,
    /// SQLGetFunctions claims SQLBrowseConnect(W) and SQLProcedures(W), which are not exported.
    pub lying_functions: bool,
    /// SQLExecDirectW panics inside the driver (caught at the FFI boundary → SQL_ERROR HY000).
    pub panic_in_call: bool,
    /// SQLGetDiagRecW reports a text length smaller than the real one.
    pub diag_overflow: bool,
}

/// The context value passed by the WrongContext fault.
pub const GARBAGE_CONTEXT: usize = 0xDEAD_BEEF;

impl Faults {
    /// Parses a `Fault=` value: names separated by `,`, `+`, `|`, `;` or spaces, case-insensitive.
    pub fn parse(v: &str) -> Result<Faults, String> {
        let mut f = Faults::default();
        for name in v.split(|c: char| c == ',' || c == '+' || c == '|' || c == ';' || c.is_whitespace()) {
            let n = name.trim();
            if n.is_empty() {
                continue;
            }
            match n.to_ascii_lowercase().as_str() {
                "none" => {}
                "callbackoncallingthread" => f.callback_on_calling_thread = true,
                "callbackbeforereturn" => f.callback_before_return = true,
                "nocallback" => f.no_callback = true,
                "doublecallback" => f.double_callback = true,
                "wrongcontext" => f.wrong_context = true,
                "stillexecutingforever" => f.still_executing_forever = true,
                "lyingfunctions" => f.lying_functions = true,
                "panicincall" => f.panic_in_call = true,
                "diagoverflow" => f.diag_overflow = true,
                other => return Err(format!("unknown fault '{other}'")),
            }
        }
        Ok(f)
    }
}
