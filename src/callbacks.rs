//! Callbacks (layer 1, the talk's "Callback"): [`Handle`], the loop's one-shot callbacks and
//! the ready queue that holds them.
//!
//! A queued callback is a `Callback`: a vtable pointer and two words of inline storage. A
//! closure of up to two words (a function, a closure holding one `Rc`, an `Rc` and an index)
//! lives inside the entry; a bigger one is boxed. So `call_soon` of a small closure allocates
//! nothing but queue capacity.
//!
//! Cancelling a [`Handle`] swaps its queued entry for a no-op in place (the queue is indexed by
//! a sequence number), so the entry keeps its place and its count in the batch, as asyncio's
//! cancelled handles do, and what the closure captured is released at once.

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;
use std::mem::{self, MaybeUninit};
use std::panic::{self, AssertUnwindSafe, Location};
use std::ptr;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Something the loop can run once: a plain closure, or one of the loop's own calls (a reader
/// firing, a call from another thread) that names the user's callback for error reports.
pub(crate) trait Callable: 'static {
    /// The user's callback, for "Exception in callback NAME()".
    fn name(&self) -> &'static str;
    /// Runs it.
    fn call(self);
    /// Where it was scheduled, when that was recorded (debug mode).
    fn location(&self) -> Option<&'static Location<'static>> {
        None
    }
    /// What it steps (a task), for debug mode's slow-callback report.
    fn subject(&self) -> Option<Rc<dyn Subject>> {
        None
    }
}

/// What a callback steps, as a higher layer describes it (the loop never names tasks).
pub(crate) trait Subject {
    /// The repr the slow-callback report shows, e.g. `<Task pending name='Task-1' ...>`.
    fn subject_repr(&self) -> String;
}

/// A closure and where it was scheduled: what `call_soon` queues in debug mode.
pub(crate) struct Located<F> {
    pub(crate) f: F,
    pub(crate) at: &'static Location<'static>,
}

impl<F: FnOnce() + 'static> Callable for Located<F> {
    fn name(&self) -> &'static str {
        std::any::type_name::<F>()
    }
    fn call(self) {
        (self.f)()
    }
    fn location(&self) -> Option<&'static Location<'static>> {
        Some(self.at)
    }
}

/// A plain `FnOnce` closure, named by its type.
struct Plain<F>(F);

impl<F: FnOnce() + 'static> Callable for Plain<F> {
    fn name(&self) -> &'static str {
        std::any::type_name::<F>()
    }
    fn call(self) {
        (self.0)()
    }
}

/// A callable too big for the inline storage, moved to the heap.
struct Boxed<C>(Box<C>);

impl<C: Callable> Callable for Boxed<C> {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn call(self) {
        (*self.0).call()
    }
    fn location(&self) -> Option<&'static Location<'static>> {
        self.0.location()
    }
    fn subject(&self) -> Option<Rc<dyn Subject>> {
        self.0.subject()
    }
}

/// The inline storage: two words.
type Storage = MaybeUninit<[usize; 2]>;

/// How to call and drop the callable stored in a [`Callback`].
struct VTable {
    /// Moves the callable out and runs it, first writing its name to the `&'static str`:
    /// a panic is caught by the caller's `catch_unwind`, around a whole batch, which then
    /// still knows whom to blame.
    call: unsafe fn(*mut Storage, &mut &'static str),
    drop: unsafe fn(*mut Storage),
    /// The callable's [`Callable::location`] (read by the debug batch runner only).
    location: unsafe fn(*const Storage) -> Option<&'static Location<'static>>,
    /// The callable's [`Callable::subject`] (debug batch runner only).
    subject: unsafe fn(*const Storage) -> Option<Rc<dyn Subject>>,
    /// The callable's [`Callable::name`], read in place (handle reprs only).
    name: unsafe fn(*const Storage) -> &'static str,
}

/// A panic caught while a callback ran, with the callback's name.
pub(crate) struct CallbackPanic {
    /// The user's callback (a type name).
    pub name: &'static str,
    /// What `catch_unwind` caught.
    pub payload: Box<dyn Any + Send>,
    /// Where the callback was scheduled, when recorded (debug mode).
    pub location: Option<&'static Location<'static>>,
    /// Its number in the ready queue (a timer's report finds its deadline by it).
    pub seq: u64,
}

/// A panic payload that is not a panic: an error leaving the loop (asyncio's `SystemExit`
/// and `KeyboardInterrupt` raised out of `Handle._run`). Thrown with `resume_unwind`, which
/// skips the panic hook; the batch runner stops and returns the error.
pub(crate) struct Escape(pub anyhow::Error);

/// One callback the debug batch runner ran, and how long it took.
pub(crate) struct Ran {
    /// The user's callback (a type name).
    pub name: &'static str,
    /// Where it was scheduled, when recorded.
    pub location: Option<&'static Location<'static>>,
    /// What it stepped (a task), if it says.
    pub subject: Option<Rc<dyn Subject>>,
    pub elapsed: Duration,
    /// Its number in the ready queue.
    pub seq: u64,
}

/// A one-shot callback in the ready queue: no allocation for callables of up to two words.
pub(crate) struct Callback {
    vtable: &'static VTable,
    data: Storage,
    /// The stored callable may be `!Send` (it usually holds an `Rc`).
    _not_send: PhantomData<*const ()>,
}

/// Gives each inline callable type its static vtable.
struct Shims<C>(PhantomData<C>);

impl<C: Callable> Shims<C> {
    const VTABLE: VTable = VTable {
        call: Self::call,
        drop: Self::drop,
        location: Self::location,
        subject: Self::subject,
        name: Self::name,
    };

    /// Moves the callable out, records its name, and runs it. No `catch_unwind` here: one
    /// per callback kept this from being a tail call and cost the caller a result to check.
    unsafe fn call(data: *mut Storage, name: &mut &'static str) {
        // SAFETY: `Callback::inline` wrote a `C` there and the caller never touches it again.
        let c: C = unsafe { ptr::read(data.cast::<C>()) };
        *name = c.name();
        c.call()
    }

    unsafe fn drop(data: *mut Storage) {
        // SAFETY: as above; this is the only other way the value leaves.
        unsafe { ptr::drop_in_place(data.cast::<C>()) }
    }

    unsafe fn location(data: *const Storage) -> Option<&'static Location<'static>> {
        // SAFETY: `Callback::inline` wrote a `C` there; this only reads it in place.
        unsafe { (*data.cast::<C>()).location() }
    }

    unsafe fn subject(data: *const Storage) -> Option<Rc<dyn Subject>> {
        // SAFETY: as in `location`.
        unsafe { (*data.cast::<C>()).subject() }
    }

    unsafe fn name(data: *const Storage) -> &'static str {
        // SAFETY: as in `location`.
        unsafe { (*data.cast::<C>()).name() }
    }
}

const fn fits_inline<C>() -> bool {
    mem::size_of::<C>() <= mem::size_of::<Storage>()
        && mem::align_of::<C>() <= mem::align_of::<Storage>()
}

impl Callback {
    /// Wraps a closure.
    #[inline]
    pub(crate) fn new<F: FnOnce() + 'static>(f: F) -> Self {
        Self::from_callable(Plain(f))
    }

    /// Wraps a callable, inline when it fits in two words, boxed otherwise.
    #[inline]
    pub(crate) fn from_callable<C: Callable>(c: C) -> Self {
        if fits_inline::<C>() {
            Self::inline(c)
        } else {
            Self::inline(Boxed(Box::new(c)))
        }
    }

    /// A callback that does nothing: what a cancelled entry becomes.
    pub(crate) fn noop() -> Self {
        Self::new(|| {})
    }

    /// Builds the callback for closure `f` directly in `slot` (see `ReadyQueue` on why).
    #[inline]
    pub(crate) fn write_fn<F: FnOnce() + 'static>(slot: &mut MaybeUninit<Callback>, f: F) {
        Self::write_in_place(slot, Plain(f))
    }

    /// Builds the callback for `c` directly in `slot`, field by field.
    #[inline]
    pub(crate) fn write_in_place<C: Callable>(slot: &mut MaybeUninit<Callback>, c: C) {
        if !fits_inline::<C>() {
            slot.write(Self::inline(Boxed(Box::new(c))));
            return;
        }
        let p = slot.as_mut_ptr();
        // SAFETY: `p` is valid for writes of a `Callback`; `C` fits in its storage (checked
        // above). Every field is written (`_not_send` has no bytes).
        unsafe {
            (&raw mut (*p).vtable).write(&Shims::<C>::VTABLE);
            (&raw mut (*p).data).cast::<C>().write(c);
        }
    }

    #[inline]
    fn inline<C: Callable>(c: C) -> Self {
        assert!(fits_inline::<C>());
        let mut data = Storage::uninit();
        // SAFETY: `C` fits in `data` (size and alignment checked above).
        unsafe { ptr::write(data.as_mut_ptr().cast::<C>(), c) };
        Callback {
            vtable: &Shims::<C>::VTABLE,
            data,
            _not_send: PhantomData,
        }
    }

    /// Runs the callback, catching a panic.
    #[cfg(test)]
    pub(crate) fn call(self) -> Result<(), CallbackPanic> {
        let mut me = mem::ManuallyDrop::new(self);
        let mut name = "";
        // SAFETY: `me` is initialised and never used or dropped again.
        panic::catch_unwind(AssertUnwindSafe(|| unsafe {
            Self::call_in_place(&mut *me, &mut name)
        }))
        .map_err(|payload| CallbackPanic {
            name,
            payload,
            location: None,
            seq: 0,
        })
    }

    /// Runs the callback at `this` where it lies, having written its name to `name`. A panic
    /// unwinds out of here.
    ///
    /// # Safety
    /// `this` points to an initialised callback that the caller gives up: it is neither used
    /// nor dropped afterwards (not even if the call unwinds).
    #[inline]
    unsafe fn call_in_place(this: *mut Callback, name: &mut &'static str) {
        // SAFETY: per the contract; the shim moves the callable out before running it.
        unsafe { ((*this).vtable.call)(&raw mut (*this).data, name) }
    }
}

impl Callback {
    /// The callable's name, read in place.
    pub(crate) fn name(&self) -> &'static str {
        // SAFETY: `data` holds the initialised callable of this vtable.
        unsafe { (self.vtable.name)(&self.data) }
    }
}

impl Drop for Callback {
    fn drop(&mut self) {
        // SAFETY: the value is still there (`call` does not drop `self`).
        unsafe { (self.vtable.drop)(&mut self.data) }
    }
}

/// The loop's FIFO of callbacks ready to run, with a sequence number per entry.
///
/// A ring buffer whose capacity is zero or a power of two: entry `seq` lives at index
/// `seq & (capacity - 1)`, the live entries are `head..tail`. Numbers only grow, so an entry's
/// number says whether it is still queued and where.
///
/// Entries are run where they lie ([`ReadyQueue::run_batch`]) rather than moved out first: a
/// callback written by `push` and read back as a whole 24-byte value a few nanoseconds later
/// stalls on store-to-load forwarding (the write and the read are split into different
/// chunks), which cost a third of a `call_soon`-and-run.
#[derive(Default)]
pub(crate) struct ReadyQueue {
    /// Its length is its capacity.
    buf: Vec<MaybeUninit<Callback>>,
    head: u64,
    tail: u64,
}

impl ReadyQueue {
    #[inline]
    fn index(&self, seq: u64) -> usize {
        (seq & (self.buf.len() as u64).wrapping_sub(1)) as usize
    }

    /// The slot of entry `seq`, without a bounds check (the index is masked already).
    ///
    /// # Safety
    /// The buffer is not empty.
    #[inline]
    unsafe fn slot(&mut self, seq: u64) -> &mut MaybeUninit<Callback> {
        let i = self.index(seq);
        debug_assert!(i < self.buf.len());
        // SAFETY: the length is a power of two (see the type's doc), not zero per the
        // contract, so masking with length - 1 gives an index below it.
        unsafe { self.buf.get_unchecked_mut(i) }
    }

    /// Appends a callback and returns its sequence number.
    #[inline]
    pub(crate) fn push(&mut self, cb: Callback) -> u64 {
        let (seq, slot) = self.reserve();
        slot.write(cb);
        seq
    }

    /// Appends a closure, built in its slot, and returns its sequence number. Building the
    /// entry in place (rather than moving a built `Callback` in) keeps the closure's words
    /// stored as they are later read: see the type's doc on store forwarding.
    #[inline]
    pub(crate) fn push_fn<F: FnOnce() + 'static>(&mut self, f: F) -> u64 {
        let (seq, slot) = self.reserve();
        Callback::write_in_place(slot, Plain(f));
        seq
    }

    /// Appends a callable (debug mode's, which knows where it was scheduled).
    #[inline]
    pub(crate) fn push_callable<C: Callable>(&mut self, c: C) -> u64 {
        let (seq, slot) = self.reserve();
        Callback::write_in_place(slot, c);
        seq
    }

    /// Counts a new entry at the tail and returns its number and its (uninitialised) slot.
    #[inline]
    fn reserve(&mut self) -> (u64, &mut MaybeUninit<Callback>) {
        if self.len() == self.buf.len() {
            self.grow();
        }
        let seq = self.tail;
        self.tail = seq + 1;
        // SAFETY: there was room for one more entry, so the buffer is not empty.
        (seq, unsafe { self.slot(seq) })
    }

    /// Doubles the capacity. The buffer is reallocated in place where the allocator can (a
    /// big one is remapped, not copied); then each entry whose index gains the new top bit
    /// moves up by the old capacity.
    #[cold]
    fn grow(&mut self) {
        let old = self.buf.len();
        let cap = (old * 2).max(16);
        self.buf.resize_with(cap, MaybeUninit::uninit);
        for seq in self.head..self.tail {
            if seq & old as u64 != 0 {
                let from = (seq & (old as u64).wrapping_sub(1)) as usize;
                // SAFETY: `from` holds the initialised entry `seq` (under the old mask); it
                // moves exactly once, to its index under the new mask, which was free.
                let cb = unsafe { self.buf[from].assume_init_read() };
                self.buf[from + old].write(cb);
            }
        }
    }

    /// Runs the callbacks queued now, in order, each taken off the queue (borrowing `queue`
    /// only for that) before it runs; what they queue waits for the next batch. A panic is
    /// caught and handed to `on_panic` with the callback's name, and the batch goes on.
    ///
    /// One `catch_unwind` covers the whole batch (entered again after a panic): it costs
    /// nothing until something panics, and lets each callback's shim end in a tail call.
    pub(crate) fn run_batch(
        queue: &RefCell<ReadyQueue>,
        mut on_panic: impl FnMut(CallbackPanic),
    ) -> Result<(), anyhow::Error> {
        // The batch ends at a sequence number: what runs meanwhile only appends.
        let (mut left, end) = {
            let q = queue.borrow();
            (q.len(), q.tail)
        };
        let mut name = "";
        while left != 0 {
            // `left` is passed by value so that the loop keeps it in a register; after a
            // panic it is worked out again from the queue.
            match panic::catch_unwind(AssertUnwindSafe(|| Self::run_n(queue, left, &mut name))) {
                Ok(()) => return Ok(()),
                Err(payload) => match payload.downcast::<Escape>() {
                    // The rest of the batch stays queued, as in asyncio.
                    Ok(escape) => return Err(escape.0),
                    Err(payload) => on_panic(CallbackPanic {
                        name,
                        payload,
                        location: None,
                        // The entry that panicked was taken off the head last.
                        seq: queue.borrow().head.wrapping_sub(1),
                    }),
                },
            }
            left = end.saturating_sub(queue.borrow().head) as usize;
        }
        Ok(())
    }

    /// [`ReadyQueue::run_batch`] for debug mode: each callback is timed and handed to
    /// `after` with its name and where it was scheduled; a panic goes to `on_panic` first.
    /// One `catch_unwind` and two clock reads per callback: debug mode only.
    pub(crate) fn run_batch_debug(
        queue: &RefCell<ReadyQueue>,
        mut on_panic: impl FnMut(CallbackPanic),
        mut after: impl FnMut(Ran),
    ) -> Result<(), anyhow::Error> {
        let end = queue.borrow().tail;
        loop {
            let (entry, seq): (*mut Callback, u64) = {
                let mut q = queue.borrow_mut();
                let seq = q.head;
                if seq == q.tail || seq >= end {
                    return Ok(());
                }
                q.head = seq + 1;
                // SAFETY: entry `seq` is queued, so the buffer is not empty.
                (unsafe { q.slot(seq) }.as_mut_ptr(), seq)
            };
            // SAFETY: the entry is initialised and no longer queued (as in `run_n`); this
            // reads it in place before the call moves it out.
            let (location, subject) = unsafe {
                let data = &raw const (*entry).data;
                (
                    ((*entry).vtable.location)(data),
                    ((*entry).vtable.subject)(data),
                )
            };
            let mut name = "";
            let start = Instant::now();
            // SAFETY: as in `run_n`: the entry is given up, whether the call returns or not.
            let res = panic::catch_unwind(AssertUnwindSafe(|| unsafe {
                Callback::call_in_place(entry, &mut name)
            }));
            let elapsed = start.elapsed();
            if let Err(payload) = res {
                let payload = match payload.downcast::<Escape>() {
                    Ok(escape) => return Err(escape.0),
                    Err(payload) => payload,
                };
                on_panic(CallbackPanic {
                    name,
                    payload,
                    location,
                    seq,
                });
            }
            after(Ran {
                name,
                location,
                subject,
                elapsed,
                seq,
            });
        }
    }

    /// Runs up to `n` callbacks from the front (fewer if the queue runs dry, which it cannot
    /// while the loop runs: only `close` empties it). A panic unwinds out.
    #[inline]
    fn run_n(queue: &RefCell<ReadyQueue>, n: usize, name: &mut &'static str) {
        for _ in 0..n {
            let entry: *mut Callback = {
                let mut q = queue.borrow_mut();
                let seq = q.head;
                if seq == q.tail {
                    return;
                }
                q.head = seq + 1;
                // SAFETY: entry `seq` is queued, so the buffer is not empty.
                unsafe { q.slot(seq) }.as_mut_ptr()
            };
            // SAFETY: the entry was initialised and is no longer counted as queued, so
            // nothing else reads or drops it, even if the call unwinds. The slot stays valid
            // until user code pushes (the buffer may then grow or reuse the slot), and the
            // shim moves the callable out before it runs any user code.
            unsafe { Callback::call_in_place(entry, name) };
        }
    }

    /// How many callbacks are queued.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        (self.tail - self.head) as usize
    }

    /// The name of queued entry `seq`'s callback, if it is still queued (a handle's repr).
    pub(crate) fn name_of(&self, seq: u64) -> Option<&'static str> {
        if !(self.head..self.tail).contains(&seq) {
            return None;
        }
        // SAFETY: entries `head..tail` are initialised; the name is read in place.
        Some(unsafe { self.buf[self.index(seq)].assume_init_ref().name() })
    }

    /// Whether nothing is queued.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.head == self.tail
    }

    /// Replaces the entry `seq` by a no-op if it is still queued; returns the callback, for the
    /// caller to drop once no borrow is held (dropping it may run user code).
    pub(crate) fn cancel(&mut self, seq: u64) -> Option<Callback> {
        if !(self.head..self.tail).contains(&seq) {
            return None;
        }
        let i = self.index(seq);
        // SAFETY: entries `head..tail` are initialised.
        let slot = unsafe { self.buf[i].assume_init_mut() };
        Some(mem::replace(slot, Callback::noop()))
    }

    /// Empties the queue, returning the callbacks (as a queue) for the caller to drop.
    /// Numbering goes on where it was, so old handles never match new entries.
    pub(crate) fn take_all(&mut self) -> ReadyQueue {
        let tail = self.tail;
        mem::replace(
            self,
            ReadyQueue {
                buf: Vec::new(),
                head: tail,
                tail,
            },
        )
    }
}

impl Drop for ReadyQueue {
    fn drop(&mut self) {
        for seq in self.head..self.tail {
            let i = self.index(seq);
            // Counted as gone first, so that a panicking drop cannot lead to a double drop.
            self.head = seq + 1;
            // SAFETY: entries `head..tail` are initialised; each is dropped once.
            unsafe { self.buf[i].assume_init_drop() };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;

    #[test]
    fn small_closures_are_inline_and_big_ones_boxed() {
        let rc = Rc::new(5);
        let r = rc.clone();
        let small = move || assert_eq!(*r, 5);
        fn fits<F>(_: &F) -> bool {
            fits_inline::<Plain<F>>()
        }
        assert!(fits(&small));
        let big = [7u64; 8];
        assert!(!fits(&move || assert_eq!(big[0], 7)));
        let cb = Callback::new(small);
        assert!(cb.call().is_ok());
        let cb = Callback::new(move || assert_eq!(big[7], 7));
        assert!(cb.call().is_ok());
        assert_eq!(Rc::strong_count(&rc), 1);
    }

    #[test]
    fn panics_are_caught_with_the_name() {
        fn boom() {
            panic!("boom")
        }
        let err = Callback::new(boom).call().err().unwrap();
        assert!(err.name.ends_with("boom"), "{}", err.name);
    }

    #[test]
    fn dropping_an_unrun_callback_drops_its_captures() {
        let rc = Rc::new(());
        let r = rc.clone();
        drop(Callback::new(move || drop(r)));
        let r = rc.clone();
        let big = [0u8; 64];
        drop(Callback::new(move || drop((r, big))));
        assert_eq!(Rc::strong_count(&rc), 1);
    }

    #[test]
    fn cancel_replaces_only_queued_entries() {
        let cell = RefCell::new(ReadyQueue::default());
        let a = cell.borrow_mut().push(Callback::noop());
        let b = cell.borrow_mut().push(Callback::noop());
        ReadyQueue::run_n(&cell, 1, &mut "");
        let mut q = cell.borrow_mut();
        assert!(q.cancel(a).is_none());
        assert!(q.cancel(b).is_some());
        assert!(q.cancel(b + 1).is_none());
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn the_ring_grows_in_order_and_drops_what_is_left() {
        let rc = Rc::new(());
        let log = Rc::new(RefCell::new(Vec::new()));
        let cell = RefCell::new(ReadyQueue::default());
        let mut next = 0;
        // Wrap around a few times at different sizes, then grow with a wrapped ring.
        for round in 0..5 {
            for _ in 0..(7 + round * 13) {
                let (l, n) = (log.clone(), next);
                cell.borrow_mut()
                    .push(Callback::new(move || l.borrow_mut().push(n)));
                next += 1;
            }
            for _ in 0..(5 + round * 11) {
                ReadyQueue::run_n(&cell, 1, &mut "");
            }
        }
        let left = cell.borrow().len();
        ReadyQueue::run_batch(&cell, |_| unreachable!()).unwrap();
        assert!(cell.borrow().is_empty());
        assert_eq!(*log.borrow(), (0..next).collect::<Vec<_>>());
        assert!(left > 0);
        let r = rc.clone();
        let seq = cell.borrow_mut().push(Callback::new(move || drop(r)));
        let r = rc.clone();
        cell.borrow_mut().push(Callback::new(move || drop(r)));
        assert_eq!(seq, next);
        let taken = cell.borrow_mut().take_all();
        assert!(cell.borrow_mut().cancel(seq).is_none());
        assert_eq!(cell.borrow_mut().push(Callback::noop()), seq + 2);
        drop(taken);
        drop(cell);
        assert_eq!(Rc::strong_count(&rc), 1);
    }

    #[test]
    fn a_batch_runs_only_its_entries_and_goes_on_after_a_panic() {
        let log = Rc::new(RefCell::new(Vec::new()));
        let cell = Rc::new(RefCell::new(ReadyQueue::default()));
        fn boom() {
            panic!("boom")
        }
        for i in 0..4 {
            let (l, c) = (log.clone(), cell.clone());
            cell.borrow_mut().push(Callback::new(move || {
                l.borrow_mut().push(i);
                // Queued during the batch: left for the next one.
                c.borrow_mut().push(Callback::noop());
            }));
            if i % 2 == 0 {
                cell.borrow_mut().push(Callback::new(boom));
            }
        }
        let mut caught = Vec::new();
        ReadyQueue::run_batch(&cell, |p| caught.push(p.name)).unwrap();
        assert_eq!(*log.borrow(), [0, 1, 2, 3]);
        assert_eq!(caught.len(), 2);
        assert!(caught.iter().all(|n| n.ends_with("boom")), "{caught:?}");
        assert_eq!(cell.borrow().len(), 4);
    }
}
