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
use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::mem::{self, ManuallyDrop, MaybeUninit};
use std::panic::{self, AssertUnwindSafe};
use std::ptr;
use std::rc::Weak;

/// Something the loop can run once: a plain closure, or one of the loop's own calls (a reader
/// firing, a call from another thread) that names the user's callback for error reports.
pub(crate) trait Callable: 'static {
    /// The user's callback, for "Exception in callback NAME()".
    fn name(&self) -> &'static str;
    /// Runs it.
    fn call(self);
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
}

/// The inline storage: two words.
type Storage = MaybeUninit<[usize; 2]>;

/// How to call and drop the callable stored in a [`Callback`].
struct VTable {
    call: unsafe fn(*mut Storage) -> Result<(), CallbackPanic>,
    drop: unsafe fn(*mut Storage),
}

/// A panic caught while a callback ran, with the callback's name.
pub(crate) struct CallbackPanic {
    /// The user's callback (a type name).
    pub name: &'static str,
    /// What `catch_unwind` caught.
    pub payload: Box<dyn Any + Send>,
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
    };

    /// Moves the callable out and runs it; a panic is caught here, where its name is known.
    unsafe fn call(data: *mut Storage) -> Result<(), CallbackPanic> {
        // SAFETY: `Callback::inline` wrote a `C` there and the caller never touches it again.
        let c: C = unsafe { ptr::read(data.cast::<C>()) };
        let name = c.name();
        panic::catch_unwind(AssertUnwindSafe(move || c.call()))
            .map_err(|payload| CallbackPanic { name, payload })
    }

    unsafe fn drop(data: *mut Storage) {
        // SAFETY: as above; this is the only other way the value leaves.
        unsafe { ptr::drop_in_place(data.cast::<C>()) }
    }
}

const fn fits_inline<C>() -> bool {
    mem::size_of::<C>() <= mem::size_of::<Storage>()
        && mem::align_of::<C>() <= mem::align_of::<Storage>()
}

impl Callback {
    /// Wraps a closure.
    pub(crate) fn new<F: FnOnce() + 'static>(f: F) -> Self {
        Self::from_callable(Plain(f))
    }

    /// Wraps a callable, inline when it fits in two words, boxed otherwise.
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
    pub(crate) fn call(self) -> Result<(), CallbackPanic> {
        let mut me = ManuallyDrop::new(self);
        // SAFETY: the value is moved out exactly once; `me` is never dropped.
        unsafe { (me.vtable.call)(&mut me.data) }
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
/// The entry numbered `head` is at the front; numbers only grow, so an entry's number says
/// whether it is still queued and where.
#[derive(Default)]
pub(crate) struct ReadyQueue {
    queue: VecDeque<Callback>,
    head: u64,
}

impl ReadyQueue {
    /// Appends a callback and returns its sequence number.
    pub(crate) fn push(&mut self, cb: Callback) -> u64 {
        let seq = self.head + self.queue.len() as u64;
        self.queue.push_back(cb);
        seq
    }

    /// Takes the front callback.
    pub(crate) fn pop(&mut self) -> Option<Callback> {
        let cb = self.queue.pop_front()?;
        self.head += 1;
        Some(cb)
    }

    /// How many callbacks are queued.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Replaces the entry `seq` by a no-op if it is still queued; returns the callback, for the
    /// caller to drop once no borrow is held (dropping it may run user code).
    pub(crate) fn cancel(&mut self, seq: u64) -> Option<Callback> {
        let index = usize::try_from(seq.checked_sub(self.head)?).ok()?;
        let slot = self.queue.get_mut(index)?;
        Some(mem::replace(slot, Callback::noop()))
    }

    /// Empties the queue, returning the callbacks for the caller to drop.
    pub(crate) fn take_all(&mut self) -> VecDeque<Callback> {
        self.head += self.queue.len() as u64;
        mem::take(&mut self.queue)
    }
}

/// Who owns the ready queue a [`Handle`] points into (the loop).
pub(crate) trait ReadyOwner {
    /// Cancels the queued entry `seq`, if it has not run yet.
    fn cancel_ready(&self, seq: u64);
}

/// A callback scheduled with `call_soon`: it can be cancelled until it runs.
///
/// Like asyncio's `Handle`, a cancelled handle keeps its place in the queue and is skipped; the
/// closure itself is dropped as soon as it is cancelled. Dropping a `Handle` does not cancel.
pub struct Handle {
    owner: Weak<dyn ReadyOwner>,
    seq: u64,
    cancelled: Cell<bool>,
}

impl Handle {
    pub(crate) fn new(owner: Weak<dyn ReadyOwner>, seq: u64) -> Self {
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

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.cancelled() { " cancelled" } else { "" };
        write!(f, "<Handle{state} seq={}>", self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

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
        let mut q = ReadyQueue::default();
        let a = q.push(Callback::noop());
        let b = q.push(Callback::noop());
        assert!(q.pop().is_some());
        assert!(q.cancel(a).is_none());
        assert!(q.cancel(b).is_some());
        assert!(q.cancel(b + 1).is_none());
        assert_eq!(q.len(), 1);
    }
}
