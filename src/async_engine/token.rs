//! Notification contexts (§2.4, §2.10): the value the DM sets as a driver handle's
//! `SQL_ATTR_ASYNC_{STMT,DBC}_NOTIFICATION_CONTEXT`, and that the driver hands back to the
//! callback.
//!
//! A context is a generation-tagged token, never a pointer: `(slot + 1) << 32 | generation`.
//! The callback checks it against a lock-free table of atomics (no lock, no map lookup,
//! nothing to dangle), so a callback for a freed handle, an earlier registration of the same
//! slot, or a garbage value (`0xDEADBEEF`) is recognised and refused with SQL_ERROR (§2.10).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use odbc_dm_abi::HandleType;

const CHUNK: usize = 1024;
const CHUNKS: usize = 1024;
/// Capacity: one slot per handle in notification mode at the same time.
pub const CAPACITY: usize = CHUNK * CHUNKS;

/// One slot: `gen << 2 | kind << 1 | live`, and the DM handle id it stands for.
struct Slot {
    word: AtomicU64,
    handle: AtomicUsize,
}

static TABLE: [OnceLock<Box<[Slot]>>; CHUNKS] = [const { OnceLock::new() }; CHUNKS];

/// Free slots and the next never-used one (allocation only; never touched by callbacks).
static FREE: Mutex<(Vec<usize>, usize)> = Mutex::new((Vec::new(), 0));

fn slot(i: usize) -> Option<&'static Slot> {
    let chunk = TABLE.get(i / CHUNK)?.get()?;
    chunk.get(i % CHUNK)
}

fn slot_or_create(i: usize) -> &'static Slot {
    let chunk =
        TABLE[i / CHUNK].get_or_init(|| (0..CHUNK).map(|_| Slot { word: AtomicU64::new(0), handle: AtomicUsize::new(0) }).collect());
    &chunk[i % CHUNK]
}

/// A registered notification context.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Token(pub u64);

/// What a token stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    pub kind: HandleType,
    pub handle: usize,
}

impl Token {
    /// The context value to give the driver.
    pub fn as_context(self) -> *mut std::ffi::c_void {
        self.0 as usize as *mut std::ffi::c_void
    }

    fn split(v: u64) -> Option<(usize, u32)> {
        let hi = (v >> 32) as usize;
        if hi == 0 || hi > CAPACITY {
            return None;
        }
        Some((hi - 1, v as u32))
    }

    /// Registers a context for a DM handle; `None` when the table is full.
    pub fn register(kind: HandleType, handle: usize) -> Option<Token> {
        let i = {
            let mut free = FREE.lock().unwrap_or_else(|e| e.into_inner());
            match free.0.pop() {
                Some(i) => i,
                None if free.1 < CAPACITY => {
                    free.1 += 1;
                    free.1 - 1
                }
                None => return None,
            }
        };
        let s = slot_or_create(i);
        let old = s.word.load(Ordering::Acquire);
        let gen = ((old >> 2) as u32).wrapping_add(1).max(1);
        let kind_bit = u64::from(kind == HandleType::SQL_HANDLE_DBC);
        s.handle.store(handle, Ordering::Release);
        s.word.store((u64::from(gen) << 2) | (kind_bit << 1) | 1, Ordering::Release);
        Some(Token(((i as u64 + 1) << 32) | u64::from(gen)))
    }

    /// Withdraws the context: later callbacks carrying it are refused.
    pub fn unregister(self) {
        let Some((i, gen)) = Token::split(self.0) else { return };
        let Some(s) = slot(i) else { return };
        let w = s.word.load(Ordering::Acquire);
        if (w >> 2) as u32 == gen && w & 1 == 1 {
            s.word.store(w & !1, Ordering::Release);
            FREE.lock().unwrap_or_else(|e| e.into_inner()).0.push(i);
        }
    }

    /// Checks a context value from a driver: lock-free, allocation-free.
    pub fn check(ctx: usize) -> Option<(Token, Target)> {
        let (i, gen) = Token::split(ctx as u64)?;
        let s = slot(i)?;
        let w = s.word.load(Ordering::Acquire);
        if w & 1 == 0 || (w >> 2) as u32 != gen {
            return None;
        }
        let handle = s.handle.load(Ordering::Acquire);
        let kind = if w & 2 != 0 { HandleType::SQL_HANDLE_DBC } else { HandleType::SQL_HANDLE_STMT };
        // Re-check: the slot was not recycled between the two loads.
        if s.word.load(Ordering::Acquire) != w {
            return None;
        }
        Some((Token(ctx as u64), Target { kind, handle }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_check_unregister() {
        let t = Token::register(HandleType::SQL_HANDLE_STMT, 42).unwrap();
        let (t2, target) = Token::check(t.0 as usize).unwrap();
        assert_eq!(t2, t);
        assert_eq!(target, Target { kind: HandleType::SQL_HANDLE_STMT, handle: 42 });
        t.unregister();
        assert!(Token::check(t.0 as usize).is_none(), "stale context refused");
        let t3 = Token::register(HandleType::SQL_HANDLE_DBC, 7).unwrap();
        assert!(Token::check(t.0 as usize).is_none(), "earlier generation of a reused slot refused");
        assert_eq!(Token::check(t3.0 as usize).unwrap().1.kind, HandleType::SQL_HANDLE_DBC);
        t3.unregister();
    }

    #[test]
    fn garbage_contexts_are_refused() {
        for v in [0usize, 0xDEAD_BEEF, usize::MAX, 1 << 32, (CAPACITY + 1) << 32] {
            assert!(Token::check(v).is_none(), "{v:#x}");
        }
    }
}
