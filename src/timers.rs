//! Timers (layer 2, the talk's "Call at"): [`TimerHandle`] and the timer heap.
//!
//! The heap is a 4-ary min-heap of 16-byte plain entries `(when, tie, slot)`; the callbacks
//! live in a slab indexed by `slot`. `tie` grows with every timer: it breaks ties between equal
//! deadlines (so they fire **FIFO**; CPython's heap compares only `when`, giving an order that
//! asyncio documents as undefined). It is 32 bits, so before it wraps the heap is renumbered
//! in order (once per 4 billion timers). Handles name a timer by `(slot, seq)`, with a 62-bit
//! `seq` that does not wrap (a century at a billion timers a second).
//!
//! Cancelled timers leave stale heap entries, removed lazily with asyncio's clean-up: with more
//! than 100 entries of which over half are stale, the heap is rebuilt; otherwise stale entries
//! are popped from the head only. A slot stays reserved while its heap entry exists, so an
//! entry is live exactly when its slot is `SCHEDULED`.
//!
//! When a big share of the heap is due at once (a burst of timers, as in timers_fire), the due
//! entries are taken out in one sequential pass and sorted, rather than popped one by one.

use std::mem::{self, MaybeUninit};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::callbacks::{Callable, Callback};

/// asyncio's `_MIN_SCHEDULED_TIMER_HANDLES`: below this many entries the heap is never rebuilt.
const MIN_SCHEDULED_TIMER_HANDLES: usize = 100;

/// `pop_due` considers taking the due timers out in one pass from this heap size on.
const BATCH_MIN: usize = 256;

/// How many entries ahead `pop_due_batch` prefetches slab slots.
const PREFETCH_AHEAD: usize = 8;

/// Asks the CPU to load `t`'s cache line: a hint only.
#[inline]
fn prefetch<T>(t: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and has no visible effect; SSE is in x86_64's baseline.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (t as *const T).cast(),
        )
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = t;
}

/// One heap entry: deadline in nanoseconds from the base instant (see [`Deadline`]), tie-breaker (creation
/// order), slab slot. 16 bytes: four entries, a node's children, fill one cache line.
#[derive(Clone, Copy)]
struct Entry {
    when: i64,
    tie: u32,
    slot: u32,
}

impl Entry {
    /// `(when, tie)` as one number: compared without branches (a heap's comparisons are
    /// coin flips for the branch predictor).
    #[inline]
    fn key(&self) -> u128 {
        let when = (self.when as u64) ^ (1 << 63); // order-preserving from i64
        (u128::from(when) << 32) | u128::from(self.tie)
    }
}

/// A slab slot, 32 bytes: `tag` is a state (top two bits) and the timer's `seq`; `data` holds
/// the callback while `SCHEDULED`, the ready-queue number while `DUE`. The callback is built in
/// place (see [`Timers::push`]).
struct Slot {
    tag: u64,
    data: MaybeUninit<Callback>,
}

const STATE_SHIFT: u32 = 62;
/// Not in use (on the free list, or never used).
const FREE: u64 = 0;
/// In the heap, waiting for its deadline.
const SCHEDULED: u64 = 1 << STATE_SHIFT;
/// Cancelled while in the heap: reserved until its stale entry leaves the heap.
const CANCELLED: u64 = 2 << STATE_SHIFT;
/// Moved to the ready queue; its record stays until the slot is reused (see `free_due`).
const DUE: u64 = 3 << STATE_SHIFT;
const STATE_MASK: u64 = 3 << STATE_SHIFT;

impl Slot {
    #[inline]
    fn state(&self) -> u64 {
        self.tag & STATE_MASK
    }

    /// Takes the callback out of a `SCHEDULED` slot, leaving it in state `next` (same seq).
    #[inline]
    fn take_callback(&mut self, next: u64) -> Callback {
        assert_eq!(self.state(), SCHEDULED);
        self.tag = next | (self.tag & !STATE_MASK);
        // SAFETY: a SCHEDULED slot holds an initialised callback; the state no longer says
        // so, so it is read out exactly once.
        unsafe { self.data.assume_init_read() }
    }

    /// Records the ready-queue number of a slot just made `DUE`.
    #[inline]
    fn set_ready_seq(&mut self, ready_seq: u64) {
        debug_assert_eq!(self.state(), DUE);
        // SAFETY: `data` is 8-aligned and at least 8 bytes; a DUE slot holds no callback.
        unsafe { self.data.as_mut_ptr().cast::<u64>().write(ready_seq) }
    }

    /// Records the deadline of a slot just made `DUE`, after its ready-queue number (for
    /// the report of a timer callback that fails: `<TimerHandle when=...>`).
    #[inline]
    fn set_due_when(&mut self, when: i64) {
        debug_assert_eq!(self.state(), DUE);
        // SAFETY: `data` is 8-aligned and at least 16 bytes; a DUE slot holds no callback.
        unsafe { self.data.as_mut_ptr().cast::<i64>().add(1).write(when) }
    }

    /// The deadline of a `DUE` slot (written by `fire`, as its ready-queue number).
    fn due_when(&self) -> i64 {
        // SAFETY: `fire` wrote an i64 there when it made the slot DUE; `data` is 8-aligned.
        unsafe { self.data.as_ptr().cast::<i64>().add(1).read() }
    }

    /// The ready-queue number of a `DUE` slot (or, if `push` panicked before it was
    /// recorded, stale bytes: a wrong number, never undefined behaviour).
    #[inline]
    fn ready_seq(&self) -> u64 {
        // SAFETY: `fire` wrote a u64 there when it made the slot DUE; `data` is 8-aligned.
        unsafe { self.data.as_ptr().cast::<u64>().read() }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.state() == SCHEDULED {
            // SAFETY: a SCHEDULED slot holds an initialised callback.
            unsafe { self.data.assume_init_drop() }
        }
    }
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
    heap: Vec<Entry>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Stale heap entries: asyncio's `_timer_cancelled_count`.
    cancelled: usize,
    next_seq: u64,
    next_tie: u32,
    /// `next_tie` never reaches this: `u32::MAX`, lower in tests.
    tie_limit: u32,
    /// Slots moved to the ready queue this iteration.
    due: Vec<u32>,
}

impl Timers {
    pub(crate) fn new() -> Self {
        Timers {
            heap: Vec::new(),
            slots: Vec::new(),
            free: Vec::new(),
            cancelled: 0,
            next_seq: 0,
            next_tie: 0,
            tie_limit: u32::MAX,
            due: Vec::new(),
        }
    }

    /// Schedules `f` at `when`; returns its `(slot, seq)`.
    ///
    /// The callback is built directly in its slab slot: built on the stack and moved in, it
    /// was stored in 8-byte pieces and reloaded in 16-byte ones, which stalled on
    /// store-to-load forwarding (as in the ready queue, see `ReadyQueue`).
    #[inline]
    pub(crate) fn push<F: FnOnce() + 'static>(&mut self, when: Deadline, f: F) -> (u32, u64) {
        let (slot, seq) = self.schedule(when);
        let s = &mut self.slots[slot as usize];
        Callback::write_fn(&mut s.data, f);
        s.tag = SCHEDULED | seq;
        (slot, seq)
    }

    /// `push` of a callable (debug mode's, which knows where it was scheduled).
    pub(crate) fn push_callable<C: Callable>(&mut self, when: Deadline, c: C) -> (u32, u64) {
        let (slot, seq) = self.schedule(when);
        let s = &mut self.slots[slot as usize];
        Callback::write_in_place(&mut s.data, c);
        s.tag = SCHEDULED | seq;
        (slot, seq)
    }

    /// `push` but for the callback: a free slot (in the heap at `when`) and a new seq.
    fn schedule(&mut self, when: Deadline) -> (u32, u64) {
        let seq = self.next_seq;
        // 2^62 timers would take a century at a billion a second.
        self.next_seq += 1;
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                let slot = u32::try_from(self.slots.len()).expect("too many timers");
                self.slots.push(Slot {
                    tag: FREE,
                    data: MaybeUninit::uninit(),
                });
                slot
            }
        };
        if self.next_tie == self.tie_limit {
            self.renumber();
        }
        let tie = self.next_tie;
        self.next_tie += 1;
        let when = when.nanos();
        push(&mut self.heap, Entry { when, tie, slot });
        (slot, seq)
    }

    /// Gives the heap's entries the ties `0..len` in their order, so that `tie` can go on
    /// growing. A sorted array is a heap.
    #[cold]
    fn renumber(&mut self) {
        self.heap.sort_unstable_by_key(Entry::key);
        for (i, e) in self.heap.iter_mut().enumerate() {
            e.tie = u32::try_from(i).expect("too many timers");
        }
        self.next_tie = self.heap.len() as u32;
        assert!(self.next_tie < self.tie_limit, "too many timers");
    }

    #[inline]
    fn is_live(&self, e: &Entry) -> bool {
        self.slots[e.slot as usize].state() == SCHEDULED
    }

    /// Frees the slot of a stale entry that left the heap.
    #[inline]
    fn free_stale(&mut self, e: &Entry) {
        self.slots[e.slot as usize].tag = FREE;
        self.free.push(e.slot);
        self.cancelled -= 1;
    }

    /// Cancels timer `(slot, seq)`.
    #[inline]
    pub(crate) fn cancel(&mut self, slot: u32, seq: u64) -> Cancelled {
        let Some(s) = self.slots.get_mut(slot as usize) else {
            return Cancelled::Gone;
        };
        if s.tag == SCHEDULED | seq {
            // Its heap entry is now stale.
            self.cancelled += 1;
            Cancelled::Scheduled(s.take_callback(CANCELLED))
        } else if s.tag == DUE | seq {
            Cancelled::Due(s.ready_seq())
        } else {
            Cancelled::Gone
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
        if self.cancelled == n && self.due.is_empty() {
            // Every entry is stale (a mass cancellation): no slot holds a callback or a ready
            // entry that has not run (`due` is empty between iterations), so the whole slab
            // is free. Emptied at once; the slots are then reused from the first, in order.
            // A late `cancel` finds no slot, or one with another seq: `Gone`, as before.
            self.heap.clear();
            debug_assert!(self.slots.iter().all(|s| s.state() != SCHEDULED));
            // SAFETY: shrinking only forgets the slots, and none is SCHEDULED, the only state
            // whose drop does anything.
            unsafe { self.slots.set_len(0) };
            self.free.clear();
            self.cancelled = 0;
        } else if n > MIN_SCHEDULED_TIMER_HANDLES && self.cancelled * 2 > n {
            let mut heap = mem::take(&mut self.heap);
            let mut kept = 0;
            for i in 0..heap.len() {
                // The slots are visited at random: fetch ahead.
                if let Some(ahead) = heap.get(i + PREFETCH_AHEAD) {
                    prefetch(&self.slots[ahead.slot as usize]);
                }
                let e = heap[i];
                if self.is_live(&e) {
                    heap[kept] = e;
                    kept += 1;
                } else {
                    self.free_stale(&e);
                }
            }
            heap.truncate(kept);
            heapify(&mut heap);
            self.heap = heap;
            debug_assert_eq!(self.cancelled, 0);
        } else {
            while let Some(&head) = self.heap.first() {
                if self.is_live(&head) {
                    break;
                }
                pop(&mut self.heap);
                self.free_stale(&head);
            }
        }
    }

    /// How long until the first deadline (zero if it passed), or `None` without timers.
    /// Call after [`Timers::cleanup`], which leaves a live entry at the head.
    pub(crate) fn next_timeout(&self, now: Instant) -> Option<Duration> {
        let head = self.heap.first()?;
        let dt = head.when.saturating_sub(Deadline::of(now).nanos());
        Some(Duration::from_nanos(dt.max(0) as u64))
    }

    /// Moves every timer due at `now` (`when < now + 1 ns`, the clock's resolution) to the
    /// ready queue through `push`, in deadline order (FIFO among equal deadlines).
    pub(crate) fn pop_due(&mut self, now: Instant, mut push: impl FnMut(Callback) -> u64) {
        let end = Deadline::of(now).nanos().saturating_add(1);
        if self.heap.len() >= BATCH_MIN && self.mostly_due(end) {
            self.pop_due_batch(end, &mut push);
            return;
        }
        while let Some(head) = self.heap.first().copied() {
            if head.when >= end {
                break;
            }
            pop(&mut self.heap);
            self.fire(head, &mut push);
        }
    }

    /// Whether at least a quarter of a sample of leaves is due. Leaves hold the bigger keys,
    /// so this underestimates the due share of the whole heap.
    fn mostly_due(&self, end: i64) -> bool {
        let n = self.heap.len();
        let first_leaf = (n - 2) / 4 + 1;
        let span = n - first_leaf;
        (0..8)
            .filter(|k| self.heap[first_leaf + span * k / 8].when < end)
            .count()
            >= 2
    }

    /// `pop_due` for a big share of the heap: one sequential pass moves the due entries to the
    /// end of the heap's vector, the rest is heapified again, and the due ones are sorted.
    /// Popping them one by one costs a sift-down with a cache miss per level each; this costs
    /// a few sequential passes, and no memory besides the heap's.
    #[cold]
    fn pop_due_batch(&mut self, end: i64, push: &mut impl FnMut(Callback) -> u64) {
        let mut heap = mem::take(&mut self.heap);
        let (mut kept, mut due_from) = (0, heap.len());
        while kept < due_from {
            if heap[kept].when < end {
                due_from -= 1;
                heap.swap(kept, due_from);
            } else {
                kept += 1;
            }
        }
        let (rest, due) = heap.split_at_mut(due_from);
        heapify(rest);
        // Within a span of 4 s (the usual case) `(when - first, tie)` fits in a u64, cheaper
        // to compare than the u128 key.
        let first = due.iter().map(|e| e.when).min().unwrap_or(end);
        // Exact: `first <= end` and both are i64, so the difference is below 2^64.
        if end.wrapping_sub(first) as u64 <= u64::from(u32::MAX) {
            due.sort_unstable_by_key(|e| ((e.when - first) as u64) << 32 | u64::from(e.tie));
        } else {
            due.sort_unstable_by_key(Entry::key);
        }
        for (i, &e) in due.iter().enumerate() {
            // The slots are visited in deadline order, that is at random: fetch ahead.
            if let Some(ahead) = due.get(i + PREFETCH_AHEAD) {
                prefetch(&self.slots[ahead.slot as usize]);
            }
            self.fire(e, push);
        }
        heap.truncate(due_from);
        self.heap = heap;
    }

    /// Moves the callback of a popped due entry to the ready queue (or drops a stale entry).
    #[inline]
    fn fire(&mut self, e: Entry, push: &mut impl FnMut(Callback) -> u64) {
        let s = &mut self.slots[e.slot as usize];
        if s.state() != SCHEDULED {
            // asyncio leaves its count too high here; tulip keeps it exact.
            self.free_stale(&e);
            return;
        }
        let cb = s.take_callback(DUE);
        let ready_seq = push(cb);
        let s = &mut self.slots[e.slot as usize];
        s.set_ready_seq(ready_seq);
        s.set_due_when(e.when);
        self.due.push(e.slot);
    }

    /// Frees the slots of the timers that were due this iteration (they ran or were skipped).
    /// The slots keep their `Due` record until reused: a late `cancel` then finds a ready
    /// entry that already ran, which is a no-op, so the slab need not be touched again here.
    #[inline]
    pub(crate) fn free_due(&mut self) {
        if !self.due.is_empty() {
            self.free.append(&mut self.due);
        }
    }

    /// The deadline of the timer that became ready-queue entry `ready_seq` in this
    /// iteration, if one did (what a failing timer callback is reported with).
    pub(crate) fn due_deadline(&self, ready_seq: u64) -> Option<Deadline> {
        self.due.iter().find_map(|&slot| {
            let s = &self.slots[slot as usize];
            (s.state() == DUE && s.ready_seq() == ready_seq)
                .then(|| Deadline::from_nanos(s.due_when()))
        })
    }

    /// The callback name of timer `(slot, seq)` while it waits (a handle's repr).
    pub(crate) fn name_of(&self, slot: u32, seq: u64) -> Option<&'static str> {
        let s = self.slots.get(slot as usize)?;
        // SAFETY: a SCHEDULED slot holds an initialised callback.
        (s.tag == SCHEDULED | seq).then(|| unsafe { s.data.assume_init_ref() }.name())
    }

    /// Whether an iteration has nothing to do here: no timer to clean up, fire or free.
    #[inline]
    pub(crate) fn is_idle(&self) -> bool {
        // An empty heap has no stale entries either.
        self.heap.is_empty() && self.due.is_empty()
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
        let cbs = (self.slots.iter_mut())
            .filter(|s| s.state() == SCHEDULED)
            .map(|s| s.take_callback(FREE))
            .collect();
        self.slots.clear();
        self.heap.clear();
        self.free.clear();
        self.due.clear();
        self.cancelled = 0;
        cbs
    }
}

// The 4-ary heap: the children of `i` are `4i+1 ..= 4i+4`. Shallower than a binary heap, and
// a node's children share a cache line or two.

// The entry being placed is passed by value rather than read back from the slice: written
// and reloaded at once, its halves would stall on store-to-load forwarding.

#[inline]
fn push(heap: &mut Vec<Entry>, item: Entry) {
    let mut i = heap.len();
    heap.push(item);
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

/// Places `item` in the hole at `i`, moving smaller children up.
fn sift_down(heap: &mut [Entry], mut i: usize, item: Entry) {
    let n = heap.len();
    loop {
        let first = 4 * i + 1;
        if first >= n {
            break;
        }
        let best = if first + 4 <= n {
            // A tournament: two independent comparisons, then one.
            let pick = |a: usize, b: usize| if heap[b].key() < heap[a].key() { b } else { a };
            let (x, y) = (pick(first, first + 1), pick(first + 2, first + 3));
            pick(x, y)
        } else {
            let mut best = first;
            for c in first + 1..n {
                if heap[c].key() < heap[best].key() {
                    best = c;
                }
            }
            best
        };
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
    let head = heap[0];
    sift_down(heap, 0, last);
    Some(head)
}

fn heapify(heap: &mut [Entry]) {
    if heap.len() > 1 {
        for i in (0..=(heap.len() - 2) / 4).rev() {
            sift_down(heap, i, heap[i]);
        }
    }
}

/// The process-wide instant that deadlines are measured from.
pub(crate) fn base() -> Instant {
    static BASE: OnceLock<Instant> = OnceLock::new();
    *BASE.get_or_init(Instant::now)
}

/// The base instant on `CLOCK_MONOTONIC`, in seconds (read right after the base itself, so
/// within a microsecond of it; `Instant` is that clock on Linux, but opaque).
fn monotonic_base() -> f64 {
    static MONO: OnceLock<f64> = OnceLock::new();
    *MONO.get_or_init(|| {
        let base = base();
        let mono = crate::sys::monotonic_secs();
        mono - base.elapsed().as_secs_f64()
    })
}

/// "Before the base" in [`Deadline::nanos`]'s field (nanoseconds stay below 2^30).
const BEFORE: u32 = 1 << 31;

/// An instant as its exact distance from a process-wide base: 12 bytes where an `Instant`
/// takes 16 (4 of them padding), and measured once per timer for both the heap and the handle.
/// Packed to 4-byte alignment so that it takes 12 bytes inside a [`TimerHandle`] too (its
/// fields are only ever copied, never borrowed).
#[derive(Clone, Copy)]
#[repr(C, packed(4))]
pub(crate) struct Deadline {
    secs: u64,
    /// Nanoseconds of the distance; the top bit: the instant is before the base.
    nanos: u32,
}

impl Deadline {
    #[inline]
    pub(crate) fn of(t: Instant) -> Deadline {
        let base = base();
        let (d, before) = match t.checked_duration_since(base) {
            Some(d) => (d, 0),
            None => (base - t, BEFORE),
        };
        Deadline {
            secs: d.as_secs(),
            nanos: d.subsec_nanos() | before,
        }
    }

    /// The deadline `nanos` from the base (signed), as [`Deadline::nanos`] gives it.
    fn from_nanos(n: i64) -> Deadline {
        let d = n.unsigned_abs();
        Deadline {
            secs: d / 1_000_000_000,
            nanos: (d % 1_000_000_000) as u32 | if n < 0 { BEFORE } else { 0 },
        }
    }

    /// Python's loop time of this deadline: seconds on `CLOCK_MONOTONIC`, which is
    /// `time.monotonic()`, asyncio's `loop.time()`.
    pub(crate) fn monotonic_secs(self) -> f64 {
        monotonic_base() + self.nanos() as f64 / 1e9
    }

    /// The instant back, exactly.
    pub(crate) fn instant(self) -> Instant {
        let d = Duration::new(self.secs, self.nanos & !BEFORE);
        // In range: `of` measured this distance from a real instant.
        if self.nanos & BEFORE == 0 {
            base() + d
        } else {
            base() - d
        }
    }

    /// Signed nanoseconds from the base, saturating (2^63 ns is three centuries).
    #[inline]
    fn nanos(self) -> i64 {
        // Seconds and nanoseconds rather than `as_nanos`: no 128-bit arithmetic.
        let n = i64::try_from(self.secs)
            .unwrap_or(i64::MAX)
            .saturating_mul(1_000_000_000)
            .saturating_add(i64::from(self.nanos & !BEFORE));
        if self.nanos & BEFORE == 0 { n } else { -n }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;

    /// Pops what is due at `base + at_us` and returns the fired ids in order.
    fn fire_at(timers: &mut Timers, base: Instant, at_us: u64) -> Vec<u32> {
        let mut cbs = Vec::new();
        timers.pop_due(base + Duration::from_micros(at_us), |cb| {
            cbs.push(cb);
            cbs.len() as u64
        });
        let log = Rc::new(RefCell::new(Vec::new()));
        LOG.with(|l| *l.borrow_mut() = Some(log.clone()));
        for cb in cbs {
            assert!(cb.call().is_ok());
        }
        timers.free_due();
        log.take()
    }

    thread_local! {
        static LOG: RefCell<Option<Rc<RefCell<Vec<u32>>>>> = const { RefCell::new(None) };
    }

    #[test]
    fn renumbering_the_ties_keeps_the_order() {
        let base = Instant::now();
        let mut timers = Timers::new();
        timers.tie_limit = 64;
        // The model: live timers by (deadline, creation order).
        let mut model = std::collections::BTreeMap::new();
        let mut x: u64 = 99;
        let mut id = 0u32;
        for now in 0..400u64 {
            for _ in 0..3 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let when = now + (x >> 60); // a few equal deadlines per step
                let cb = move || LOG.with(|l| l.borrow().as_ref().unwrap().borrow_mut().push(id));
                let (slot, seq) = timers.push(Deadline::of(base + Duration::from_micros(when)), cb);
                if x.is_multiple_of(9) {
                    timers.cancel(slot, seq);
                } else {
                    model.insert((when, id), id);
                }
                id += 1;
            }
            let fired = fire_at(&mut timers, base, now);
            let due: Vec<_> = model.keys().take_while(|k| k.0 <= now).copied().collect();
            let want: Vec<u32> = due.iter().map(|k| model.remove(k).unwrap()).collect();
            assert_eq!(fired, want, "at {now}");
            timers.cleanup();
        }
        assert!(timers.next_tie < 64 && id == 1200);
    }

    #[test]
    fn a_batch_spanning_hours_fires_in_order() {
        let base = Instant::now() + Duration::from_secs(7200);
        let mut timers = Timers::new();
        let mut want = Vec::new();
        for id in 0..600u32 {
            // Interleaved: deadlines an hour in the past and within the next millisecond.
            let when = if id % 2 == 0 {
                want.push((0, id));
                base - Duration::from_secs(3600) + Duration::from_nanos(u64::from(id % 7))
            } else {
                want.push((1, id));
                base + Duration::from_micros(u64::from(id % 5))
            };
            let cb = move || LOG.with(|l| l.borrow().as_ref().unwrap().borrow_mut().push(id));
            timers.push(Deadline::of(when), cb);
        }
        want.sort_by_key(|&(half, id)| (half, if half == 0 { id % 7 } else { id % 5 }, id));
        let want: Vec<u32> = want.into_iter().map(|(_, id)| id).collect();
        assert_eq!(fire_at(&mut timers, base, 10), want);
    }

    /// Schedules 2000 timers over 50 deadlines, cancels some, fires them in a few steps.
    #[test]
    fn batch_and_single_pops_fire_in_deadline_then_fifo_order() {
        let base = Instant::now();
        let mut timers = Timers::new();
        // 2000 timers over 50 distinct deadlines; every 7th cancelled.
        let mut expect = Vec::new();
        let mut handles = Vec::new();
        for id in 0..2000u32 {
            let when_us = (u64::from(id) * 7919) % 50;
            let cb = move || LOG.with(|l| l.borrow().as_ref().unwrap().borrow_mut().push(id));
            handles.push(timers.push(Deadline::of(base + Duration::from_micros(when_us)), cb));
            if id % 7 == 0 {
                let (slot, seq) = handles[id as usize];
                assert!(matches!(timers.cancel(slot, seq), Cancelled::Scheduled(_)));
            } else {
                expect.push((when_us, id));
            }
        }
        expect.sort();
        let cancelled = timers.cancelled();
        // Most of the heap is due: the batch path.
        let first = fire_at(&mut timers, base, 39);
        let n = expect.iter().filter(|(w, _)| *w < 40).count();
        let want: Vec<u32> = expect[..n].iter().map(|&(_, id)| id).collect();
        assert_eq!(first, want);
        let stale_left = cancelled - timers.cancelled();
        assert!(stale_left > 0 && timers.scheduled() + first.len() + stale_left == 2000);
        // The rest, one at a time or in a batch, continues the order.
        let mut rest = Vec::new();
        for at in 40..50 {
            rest.extend(fire_at(&mut timers, base, at));
        }
        let want: Vec<u32> = expect[n..].iter().map(|&(_, id)| id).collect();
        assert_eq!(rest, want);
        assert_eq!((timers.scheduled(), timers.cancelled()), (0, 0));
        // Handles of fired timers find no callback (at most a ready entry that already ran);
        // their slots are reused.
        for &(slot, seq) in &handles {
            assert!(!matches!(timers.cancel(slot, seq), Cancelled::Scheduled(_)));
        }
        let (slot, _) = timers.push(Deadline::of(base), || {});
        assert!((slot as usize) < 2000);
    }

    #[test]
    fn cancelling_every_timer_empties_the_slab() {
        let base = Instant::now();
        let mut timers = Timers::new();
        // 150 timers fire (their slots go back to the free list), then 400 are all cancelled.
        for _ in 0..150 {
            timers.push(Deadline::of(base), || {});
        }
        assert!(fire_at(&mut timers, base, 0).is_empty());
        let handles: Vec<_> = (0..400u64)
            .map(|i| timers.push(Deadline::of(base + Duration::from_secs(9 + i)), || {}))
            .collect();
        for &(slot, seq) in &handles {
            assert!(matches!(timers.cancel(slot, seq), Cancelled::Scheduled(_)));
        }
        timers.cleanup();
        assert_eq!((timers.scheduled(), timers.cancelled()), (0, 0));
        assert!(timers.slots.is_empty() && timers.free.is_empty());
        // The slots are reused from the first; late cancels find nothing, whatever the slot.
        let (slot, seq) = timers.push(Deadline::of(base), || {});
        assert_eq!(slot, 0);
        for &(slot, seq) in &handles {
            assert!(matches!(timers.cancel(slot, seq), Cancelled::Gone));
        }
        assert!(matches!(timers.cancel(slot, seq), Cancelled::Scheduled(_)));
    }

    #[test]
    fn heap_pops_in_key_order() {
        let mut heap = Vec::new();
        let mut x: u64 = 12345;
        for tie in 0..1000u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            push(
                &mut heap,
                Entry {
                    when: (x >> 50) as i64,
                    tie,
                    slot: 0,
                },
            );
        }
        let mut last = 0u128;
        while let Some(e) = pop(&mut heap) {
            assert!(e.key() > last);
            last = e.key();
        }
    }

    #[test]
    fn heapify_then_pop_is_sorted() {
        let mut heap: Vec<Entry> = (0..500u32)
            .map(|tie| Entry {
                when: ((tie * 7919) % 101) as i64,
                tie,
                slot: 0,
            })
            .collect();
        heapify(&mut heap);
        let mut last = 0u128;
        while let Some(e) = pop(&mut heap) {
            assert!(e.key() > last);
            last = e.key();
        }
    }
}
