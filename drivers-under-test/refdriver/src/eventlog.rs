//! Per-connection event log, read by tests through the driver-specific connection
//! attribute [`crate::SQL_ATTR_REFDRIVER_EVENT_LOG`] as UTF-8 JSON (format in README).

use crate::util::{lock, os_tid, thread_name};
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

/// At most this many events are kept; older ones are dropped (and counted).
pub const MAX_EVENTS: usize = 100_000;

#[derive(Clone, Debug)]
pub enum Event {
    /// One entry-point invocation.
    Call {
        func: &'static str,
        handle: usize,
        handle_type: &'static str,
        round: u32,
        tid: i64,
        thread: String,
        ret: i16,
        args: Vec<usize>,
        t_us: u64,
    },
    /// One notification callback made by the driver.
    Callback {
        func: &'static str,
        handle: usize,
        handle_type: &'static str,
        /// Round of the call whose SQL_STILL_EXECUTING this callback answers.
        round: u32,
        tid: i64,
        thread: String,
        context: usize,
        f_last: bool,
        /// Callback start minus the instant the paired call returned, in µs (positive = after).
        rel_us: i64,
        cb_ret: i16,
        t_us: u64,
    },
}

struct Inner {
    events: VecDeque<(u64, Event)>,
    next_seq: u64,
    dropped: u64,
}

pub struct EventLog {
    epoch: Instant,
    inner: Mutex<Inner>,
}

impl Default for EventLog {
    fn default() -> Self {
        EventLog { epoch: Instant::now(), inner: Mutex::new(Inner { events: VecDeque::new(), next_seq: 1, dropped: 0 }) }
    }
}

/// What a callback invocation looked like (made on some thread, logged later).
#[derive(Clone, Debug)]
pub struct CallbackRecord {
    pub tid: i64,
    pub thread: String,
    pub context: usize,
    pub f_last: bool,
    pub at: Instant,
    pub ret: i16,
}

impl CallbackRecord {
    /// A record of a callback about to be made on this thread (`ret` is filled in after
    /// the call). Everything but the return code is gathered *before* the call, so that
    /// the worker does as little as possible once the DM has been told (the DM re-invokes
    /// the function at once, on its own thread: decision #126).
    pub fn before(context: usize, f_last: bool) -> CallbackRecord {
        CallbackRecord { tid: os_tid(), thread: thread_name(), context, f_last, at: Instant::now(), ret: 0 }
    }
}

/// `at - returned_at` in µs, rounded down (toward −∞), so that the sign is exact: a
/// callback made even a few ns before the return is negative, never 0 (a callback made on
/// the calling thread can take less than 1 µs on a fast machine).
fn rel_us(at: Instant, returned_at: Instant) -> i64 {
    if at >= returned_at {
        (at - returned_at).as_micros() as i64
    } else {
        -((returned_at - at).as_nanos().div_ceil(1000) as i64)
    }
}

impl EventLog {
    pub fn now_us(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_micros() as u64
    }

    fn push(&self, e: Event) {
        let mut g = lock(&self.inner);
        let seq = g.next_seq;
        g.next_seq += 1;
        if g.events.len() >= MAX_EVENTS {
            g.events.pop_front();
            g.dropped += 1;
        }
        g.events.push_back((seq, e));
    }

    #[allow(clippy::too_many_arguments)]
    pub fn call(&self, func: &'static str, handle: usize, handle_type: &'static str, round: u32, ret: i16, args: &[usize]) {
        self.push(Event::Call {
            func,
            handle,
            handle_type,
            round,
            tid: os_tid(),
            thread: thread_name(),
            ret,
            args: args.to_vec(),
            t_us: self.now_us(Instant::now()),
        });
    }

    pub fn callback(
        &self,
        func: &'static str,
        handle: usize,
        handle_type: &'static str,
        round: u32,
        rec: CallbackRecord,
        returned_at: Instant,
    ) {
        self.push(Event::Callback {
            func,
            handle,
            handle_type,
            round,
            tid: rec.tid,
            thread: rec.thread,
            context: rec.context,
            f_last: rec.f_last,
            rel_us: rel_us(rec.at, returned_at),
            cb_ret: rec.ret,
            t_us: self.now_us(rec.at),
        });
    }

    pub fn clear(&self) {
        let mut g = lock(&self.inner);
        g.events.clear();
        g.dropped = 0;
    }

    pub fn events(&self) -> Vec<(u64, Event)> {
        lock(&self.inner).events.iter().cloned().collect()
    }

    /// The whole log as JSON: `{"dropped":N,"events":[...]}`.
    pub fn to_json(&self) -> String {
        let (events, dropped) = {
            let g = lock(&self.inner);
            (g.events.iter().cloned().collect::<Vec<_>>(), g.dropped)
        };
        let mut s = String::with_capacity(64 + events.len() * 200);
        let _ = write!(s, "{{\"dropped\":{dropped},\"events\":[");
        for (i, (seq, e)) in events.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            match e {
                Event::Call { func, handle, handle_type, round, tid, thread, ret, args, t_us } => {
                    let _ = write!(
                        s,
                        "{{\"seq\":{seq},\"kind\":\"call\",\"func\":\"{func}\",\"handle\":{handle},\"handle_type\":\"{handle_type}\",\"round\":{round},\"tid\":{tid},\"thread\":{},\"ret\":{ret},\"still_executing\":{},\"args\":[",
                        json_str(thread),
                        *ret == 2
                    );
                    for (j, a) in args.iter().enumerate() {
                        if j > 0 {
                            s.push(',');
                        }
                        let _ = write!(s, "{a}");
                    }
                    let _ = write!(s, "],\"t_us\":{t_us}}}");
                }
                Event::Callback { func, handle, handle_type, round, tid, thread, context, f_last, rel_us, cb_ret, t_us } => {
                    let _ = write!(
                        s,
                        "{{\"seq\":{seq},\"kind\":\"callback\",\"func\":\"{func}\",\"handle\":{handle},\"handle_type\":\"{handle_type}\",\"round\":{round},\"tid\":{tid},\"thread\":{},\"context\":{context},\"f_last\":{},\"rel_us\":{rel_us},\"cb_ret\":{cb_ret},\"t_us\":{t_us}}}",
                        json_str(thread),
                        *f_last as i32
                    );
                }
            }
        }
        s.push_str("]}");
        s
    }
}

/// JSON string literal with escaping.
pub fn json_str(v: &str) -> String {
    let mut s = String::with_capacity(v.len() + 2);
    s.push('"');
    for c in v.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::rel_us;
    use std::time::{Duration, Instant};

    #[test]
    fn rel_us_sign_is_exact_below_one_microsecond() {
        let t = Instant::now();
        let later = t + Duration::from_nanos(300);
        assert_eq!(rel_us(t, later), -1, "300 ns before the return is before it");
        assert_eq!(rel_us(later, t), 0, "300 ns after is 0 µs after");
        assert_eq!(rel_us(t, t + Duration::from_micros(5)), -5);
        assert_eq!(rel_us(t + Duration::from_nanos(5_001), t), 5);
    }
}
