//! Timers (layer 2, the talk's "Call at"): [`TimerHandle`] and the timer heap.
//!
//! The heap is a 4-ary min-heap of small plain entries `(when, seq, slot)`; the callbacks live
//! in a slab indexed by `slot`. `seq` is unique per timer: it breaks ties between equal
//! deadlines (so they fire **FIFO**; CPython's heap compares only `when`, giving an order that
//! asyncio documents as undefined) and tells a live heap entry from a stale one whose timer was
//! cancelled (the slab slot then holds another `seq`, or none).
//!
//! Cancelled timers leave stale heap entries, removed lazily with asyncio's clean-up: with more
//! than 100 entries of which over half are stale, the heap is rebuilt; otherwise stale entries
//! are popped from the head only.

use std::cell::Cell;
use std::fmt;
use std::mem;
use std::rc::Weak;
use std::time::{Duration, Instant};

use crate::callbacks::Callback;

/// asyncio's `_MIN_SCHEDULED_TIMER_HANDLES`: below this many entries the heap is never rebuilt.
const MIN_SCHEDULED_TIMER_HANDLES: usize = 100;

/// One heap entry: deadline in nanoseconds from the heap's base instant, sequence, slab slot.
#[derive(Clone, Copy)]
struct Entry {
    when: i64,
    seq: u64,
    slot: u32,
}

impl Entry {
    fn key(&self) -> (i64, u64) {
        (self.when, self.seq)
    }
}

/// A slab slot.
enum Slot {
    Free,
    /// In the heap, waiting for its deadline.
    Scheduled {
        seq: u64,
        cb: Callback,
    },
    /// Moved to the ready queue as entry `ready_seq` this iteration; freed after the batch.
    Due {
        seq: u64,
        ready_seq: u64,
    },
}

/// What cancelling a timer found.
pub(crate) enum Cancelled {
    /// It was waiting: here is its callback, to drop outside any borrow.
    Scheduled(Callback),
    /// It was already due: cancel this ready-queue entry instead.
    Due(u64),
    /// It already ran or was cancelled.
    Gone,
}

/// The loop's timers.
pub(crate) struct Timers {
    /// Deadlines are stored as signed nanoseconds from here (so past instants keep their order).
    base: Instant,
    heap: Vec<Entry>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Stale heap entries: asyncio's `_timer_cancelled_count`.
    cancelled: usize,
    next_seq: u64,
    /// Slots moved to the ready queue this iteration.
    due: Vec<u32>,
}

impl Timers {
    pub(crate) fn new(base: Instant) -> Self {
        Timers {
            base,
            heap: Vec::new(),
            slots: Vec::new(),
            free: Vec::new(),
            cancelled: 0,
            next_seq: 0,
            due: Vec::new(),
        }
    }

    fn nanos(&self, t: Instant) -> i64 {
        let clamp = |d: Duration| d.as_nanos().min(i64::MAX as u128) as i64;
        if t >= self.base {
            clamp(t - self.base)
        } else {
            -clamp(self.base - t)
        }
    }

    /// Schedules `cb` at `when`; returns its `(slot, seq)`.
    pub(crate) fn push(&mut self, when: Instant, cb: Callback) -> (u32, u64) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Slot::Scheduled { seq, cb };
                slot
            }
            None => {
                let slot = u32::try_from(self.slots.len()).expect("too many timers");
                self.slots.push(Slot::Scheduled { seq, cb });
                slot
            }
        };
        let when = self.nanos(when);
        self.heap.push(Entry { when, seq, slot });
        let last = self.heap.len() - 1;
        sift_up(&mut self.heap, last);
        (slot, seq)
    }

    fn is_live(&self, e: &Entry) -> bool {
        matches!(self.slots[e.slot as usize], Slot::Scheduled { seq, .. } if seq == e.seq)
    }

    fn free_slot(&mut self, slot: u32) {
        self.slots[slot as usize] = Slot::Free;
        self.free.push(slot);
    }

    /// Cancels timer `(slot, seq)`.
    pub(crate) fn cancel(&mut self, slot: u32, seq: u64) -> Cancelled {
        match self.slots.get(slot as usize) {
            Some(Slot::Scheduled { seq: s, .. }) if *s == seq => {
                let Slot::Scheduled { cb, .. } =
                    mem::replace(&mut self.slots[slot as usize], Slot::Free)
                else {
                    unreachable!()
                };
                self.free.push(slot);
                // Its heap entry is now stale.
                self.cancelled += 1;
                Cancelled::Scheduled(cb)
            }
            Some(Slot::Due { seq: s, ready_seq }) if *s == seq => Cancelled::Due(*ready_seq),
            _ => Cancelled::Gone,
        }
    }

    /// asyncio's clean-up at the start of an iteration: rebuild the heap when it holds more
    /// than 100 entries and over half are stale, else pop stale entries off the head.
    /// Inline and free when nothing was cancelled (`cancelled` counts stale entries exactly).
    #[inline]
    pub(crate) fn cleanup(&mut self) {
        if self.cancelled != 0 {
            self.cleanup_stale();
        }
    }

    #[cold]
    fn cleanup_stale(&mut self) {
        let n = self.heap.len();
        if n > MIN_SCHEDULED_TIMER_HANDLES && self.cancelled * 2 > n {
            let mut heap = mem::take(&mut self.heap);
            heap.retain(|e| self.is_live(e));
            heapify(&mut heap);
            self.heap = heap;
            self.cancelled = 0;
        } else {
            while let Some(head) = self.heap.first() {
                if self.is_live(head) {
                    break;
                }
                pop(&mut self.heap);
                self.cancelled -= 1;
            }
        }
    }

    /// How long until the first deadline (zero if it passed), or `None` without timers.
    /// Call after [`Timers::cleanup`], which leaves a live entry at the head.
    pub(crate) fn next_timeout(&self, now: Instant) -> Option<Duration> {
        let head = self.heap.first()?;
        let dt = head.when.saturating_sub(self.nanos(now));
        Some(Duration::from_nanos(dt.max(0) as u64))
    }

    /// Moves every timer due at `now` (`when < now + 1 ns`, the clock's resolution) to the
    /// ready queue through `push`, in deadline order (FIFO among equal deadlines).
    pub(crate) fn pop_due(&mut self, now: Instant, mut push: impl FnMut(Callback) -> u64) {
        let end = self.nanos(now).saturating_add(1);
        while let Some(head) = self.heap.first().copied() {
            if head.when >= end {
                break;
            }
            pop(&mut self.heap);
            if !self.is_live(&head) {
                // asyncio leaves its count too high here; tulip keeps it exact.
                self.cancelled -= 1;
                continue;
            }
            let slot = &mut self.slots[head.slot as usize];
            let Slot::Scheduled { cb, .. } = mem::replace(slot, Slot::Free) else {
                unreachable!()
            };
            let ready_seq = push(cb);
            self.slots[head.slot as usize] = Slot::Due {
                seq: head.seq,
                ready_seq,
            };
            self.due.push(head.slot);
        }
    }

    /// Frees the slots of the timers that were due this iteration (they ran or were skipped).
    #[inline]
    pub(crate) fn free_due(&mut self) {
        while let Some(slot) = self.due.pop() {
            self.free_slot(slot);
        }
    }

    /// Whether the heap is empty.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Entries in the heap, stale ones included (asyncio's `len(loop._scheduled)`).
    pub(crate) fn scheduled(&self) -> usize {
        self.heap.len()
    }

    /// Stale entries in the heap (asyncio's `loop._timer_cancelled_count`).
    pub(crate) fn cancelled(&self) -> usize {
        self.cancelled
    }

    /// Removes every timer, returning the callbacks for the caller to drop.
    pub(crate) fn clear(&mut self) -> Vec<Callback> {
        let slots = mem::take(&mut self.slots);
        self.heap.clear();
        self.free.clear();
        self.due.clear();
        self.cancelled = 0;
        slots
            .into_iter()
            .filter_map(|s| match s {
                Slot::Scheduled { cb, .. } => Some(cb),
                _ => None,
            })
            .collect()
    }
}

// The 4-ary heap: the children of `i` are `4i+1 ..= 4i+4`. Shallower than a binary heap, and
// a node's children share a cache line or two.

fn sift_up(heap: &mut [Entry], mut i: usize) {
    let item = heap[i];
    while i > 0 {
        let parent = (i - 1) / 4;
        if heap[parent].key() <= item.key() {
            break;
        }
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = item;
}

fn sift_down(heap: &mut [Entry], mut i: usize) {
    let n = heap.len();
    let item = heap[i];
    loop {
        let first = 4 * i + 1;
        if first >= n {
            break;
        }
        let mut best = first;
        for c in first + 1..(first + 4).min(n) {
            if heap[c].key() < heap[best].key() {
                best = c;
            }
        }
        if heap[best].key() >= item.key() {
            break;
        }
        heap[i] = heap[best];
        i = best;
    }
    heap[i] = item;
}

fn pop(heap: &mut Vec<Entry>) -> Option<Entry> {
    let last = heap.pop()?;
    if heap.is_empty() {
        return Some(last);
    }
    let head = mem::replace(&mut heap[0], last);
    sift_down(heap, 0);
    Some(head)
}

fn heapify(heap: &mut [Entry]) {
    if heap.len() > 1 {
        for i in (0..=(heap.len() - 2) / 4).rev() {
            sift_down(heap, i);
        }
    }
}

/// Who owns the timers a [`TimerHandle`] points into (the loop).
pub(crate) trait TimerOwner {
    /// Cancels timer `(slot, seq)` if it has not run yet.
    fn cancel_timer(&self, slot: u32, seq: u64);
}

/// A callback scheduled with `call_later`/`call_at`: asyncio's `TimerHandle`.
///
/// Cancelling it before it runs, even after its deadline passed and it was moved to the ready
/// queue, means it never runs. Dropping a `TimerHandle` does not cancel.
pub struct TimerHandle {
    owner: Weak<dyn TimerOwner>,
    slot: u32,
    seq: u64,
    when: Instant,
    cancelled: Cell<bool>,
}

impl TimerHandle {
    pub(crate) fn new(owner: Weak<dyn TimerOwner>, slot: u32, seq: u64, when: Instant) -> Self {
        TimerHandle {
            owner,
            slot,
            seq,
            when,
            cancelled: Cell::new(false),
        }
    }

    /// The deadline, on the loop's clock ([`std::time::Instant`]).
    pub fn when(&self) -> Instant {
        self.when
    }

    /// Cancels the timer: its callback will not run. Idempotent; no effect once it ran.
    pub fn cancel(&self) {
        if !self.cancelled.replace(true)
            && let Some(owner) = self.owner.upgrade()
        {
            owner.cancel_timer(self.slot, self.seq);
        }
    }

    /// Whether `cancel()` was called.
    pub fn cancelled(&self) -> bool {
        self.cancelled.get()
    }
}

impl fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.cancelled() { " cancelled" } else { "" };
        write!(f, "<TimerHandle{state} when={:?}>", self.when)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_pops_in_key_order() {
        let mut heap = Vec::new();
        let mut x: u64 = 12345;
        for seq in 0..1000u64 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            heap.push(Entry {
                when: (x >> 50) as i64,
                seq,
                slot: 0,
            });
            let n = heap.len();
            sift_up(&mut heap, n - 1);
        }
        let mut last = (i64::MIN, 0);
        while let Some(e) = pop(&mut heap) {
            assert!(e.key() > last);
            last = e.key();
        }
    }

    #[test]
    fn heapify_then_pop_is_sorted() {
        let mut heap: Vec<Entry> = (0..500u64)
            .map(|seq| Entry {
                when: ((seq * 7919) % 101) as i64,
                seq,
                slot: 0,
            })
            .collect();
        heapify(&mut heap);
        let mut last = (i64::MIN, 0);
        while let Some(e) = pop(&mut heap) {
            assert!(e.key() > last);
            last = e.key();
        }
    }
}
