//! The handles `call_soon`, `call_later` and `call_at` return: [`Handle`] and [`TimerHandle`].
//!
//! They sit above both queues and point back into the loop (weakly: dropping a handle does
//! not cancel, and a handle outliving its loop cancels nothing).

use std::cell::Cell;
use std::fmt;
use std::rc::Weak;
use std::time::Instant;

use super::Inner;
use crate::timers::Deadline;

/// A callback scheduled with `call_soon`: it can be cancelled until it runs.
///
/// Like asyncio's `Handle`, a cancelled handle keeps its place in the queue and is skipped; the
/// closure itself is dropped as soon as it is cancelled. Dropping a `Handle` does not cancel.
pub struct Handle {
    owner: Weak<Inner>,
    seq: u64,
    cancelled: Cell<bool>,
}

impl Handle {
    pub(crate) fn new(owner: Weak<Inner>, seq: u64) -> Self {
        Handle {
            owner,
            seq,
            cancelled: Cell::new(false),
        }
    }

    /// Cancels the callback: it will not run. Idempotent; no effect once it ran.
    pub fn cancel(&self) {
        if !self.cancelled.replace(true)
            && let Some(owner) = self.owner.upgrade()
        {
            owner.cancel_ready(self.seq);
        }
    }

    /// Whether `cancel()` was called.
    pub fn cancelled(&self) -> bool {
        self.cancelled.get()
    }
}

/// asyncio's `repr(handle)`: `<Handle zero_error()>` while the callback is queued (its
/// name as Python's qualified name, see [`py_qualname`](crate::py_qualname)),
/// `<Handle cancelled>` once cancelled; `<Handle>` once it ran (tulip no longer has it).
impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.cancelled() {
            return f.write_str("<Handle cancelled>");
        }
        let name = self
            .owner
            .upgrade()
            .and_then(|owner| owner.ready.borrow().name_of(self.seq));
        match name {
            Some(name) => write!(f, "<Handle {}()>", crate::errors::py_qualname(name)),
            None => f.write_str("<Handle>"),
        }
    }
}

/// `cancelled` in a handle's `seq` word (seqs stay below 2^62).
const HANDLE_CANCELLED: u64 = 1 << 63;

/// A callback scheduled with `call_later`/`call_at`: asyncio's `TimerHandle`.
///
/// Cancelling it before it runs, even after its deadline passed and it was moved to the ready
/// queue, means it never runs. Dropping a `TimerHandle` does not cancel.
///
/// 32 bytes (callers keep many of them): a thin pointer to the loop, the cancelled flag in the
/// top bit of `seq`, and the deadline as a `Deadline`.
pub struct TimerHandle {
    owner: Weak<Inner>,
    /// The timer's seq; the top bit is `cancelled`.
    seq: Cell<u64>,
    slot: u32,
    when: Deadline,
}

impl TimerHandle {
    #[inline]
    pub(crate) fn new(owner: Weak<Inner>, slot: u32, seq: u64, when: Deadline) -> Self {
        TimerHandle {
            owner,
            seq: Cell::new(seq),
            slot,
            when,
        }
    }

    /// The deadline, on the loop's clock ([`std::time::Instant`]).
    pub fn when(&self) -> Instant {
        self.when.instant()
    }

    /// asyncio's `handle.when()`: the deadline in loop-time seconds (`CLOCK_MONOTONIC`,
    /// Python's `time.monotonic()`; see [`EventLoop::time_secs`](crate::EventLoop::time_secs)).
    pub fn when_secs(&self) -> f64 {
        self.when.monotonic_secs()
    }

    /// Cancels the timer: its callback will not run. Idempotent; no effect once it ran.
    pub fn cancel(&self) {
        let seq = self.seq.get();
        if seq & HANDLE_CANCELLED == 0 {
            self.seq.set(seq | HANDLE_CANCELLED);
            if let Some(owner) = self.owner.upgrade() {
                owner.cancel_timer(self.slot, seq);
            }
        }
    }

    /// Whether `cancel()` was called.
    pub fn cancelled(&self) -> bool {
        self.seq.get() & HANDLE_CANCELLED != 0
    }
}

/// asyncio's `repr(timer_handle)`: `<TimerHandle when=12345.678 zero_error()>` while it
/// waits, `when` in loop-time seconds ([`TimerHandle::when_secs`]) as Python prints a float;
/// `<TimerHandle cancelled when=...>` once cancelled; without the name once it ran.
impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let when = crate::errors::py_float_repr(self.when_secs());
        if self.cancelled() {
            return write!(f, "<TimerHandle cancelled when={when}>");
        }
        let name = self.owner.upgrade().and_then(|owner| {
            let seq = self.seq.get() & !HANDLE_CANCELLED;
            owner.timers.borrow().name_of(self.slot, seq)
        });
        match name {
            Some(name) => write!(
                f,
                "<TimerHandle when={when} {}()>",
                crate::errors::py_qualname(name)
            ),
            None => write!(f, "<TimerHandle when={when}>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::mem;
    use std::time::Duration;

    use super::*;
    use crate::timers::base;

    #[test]
    fn a_handle_is_32_bytes_and_keeps_its_deadline_exactly() {
        assert_eq!(mem::size_of::<TimerHandle>(), 32);
        let now = Instant::now();
        let far = Duration::new(400 * 365 * 86400, 999_999_999);
        let cases = [
            now,
            now + Duration::from_nanos(1),
            now.checked_sub(Duration::from_secs(1)).unwrap_or(now),
            now + far,
            now.checked_sub(far).unwrap_or(now),
            base(),
        ];
        for when in cases {
            let h = TimerHandle::new(Weak::new(), 0, 5, Deadline::of(when));
            assert_eq!(h.when(), when);
            assert!(!h.cancelled());
            h.cancel();
            assert!(h.cancelled());
        }
    }
}
