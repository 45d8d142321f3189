//! [`Co`], the handle a generator's body receives: `yield_`, and `yield_from` (PEP 380)
//! inline on this stack or delegated to the sub's own.

use std::cell::Cell;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;
use std::{fmt, mem};

use corosensei::Yielder;

use super::stacks::{read_name, usable_size, write_name};
use super::{
    Abandon, Body, Delegate, Finished, Generator, GeneratorState, Inner, Kind, Link, Out, Resume,
    Slot, Status, abandon, cannot_yield_unwinding, ignored_generator_exit, is_stop_iteration,
    none_value, panic_error, pep479, stack_pointer,
};
use crate::errors::{GeneratorExit, RuntimeError, TypeError};

/// The coroutine handle a generator's body receives. Any plain function given `&Co` can
/// yield on behalf of the generator: there is no function colouring.
pub struct Co<Y, S> {
    pub(super) yielder: *const Yielder<Resume<S>, Out<Y, S>>,
    /// How many inline `yield_from` bodies are running on this stack.
    pub(super) depth: Cell<u32>,
    /// Inline subs at depths `1..=closing` are being closed (GeneratorExit was delivered).
    pub(super) closing: Cell<u32>,
    pub(super) stack_lowest: usize,
    pub(super) stack_size: usize,
    /// Where this stack's owner name is (an inline sub puts its own there while it runs).
    pub(super) name_addr: usize,
    pub(super) _not_send: PhantomData<*mut ()>,
}

impl<Y, S> fmt::Debug for Co<Y, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Co")
            .field("depth", &self.depth.get())
            .field("stack_size", &self.stack_size)
            .finish()
    }
}

impl<Y, S> Co<Y, S> {
    /// Python's `yield value`: suspends the generator and hands `value` to its resumer.
    /// `Ok(s)` is what the resumer sends next; `Err(e)` is an error thrown in at this point
    /// (`throw`, or `GeneratorExit` from `close`), which the body may handle or propagate.
    /// While a panic unwinds (a destructor running), it returns an error instead of
    /// suspending.
    ///
    /// # Errors
    ///
    /// - The error thrown in by [`Generator::throw`], or `GeneratorExit` from
    ///   [`Generator::close`] (let it propagate, or the close fails).
    /// - A `RuntimeError` when called while a panic unwinds.
    #[inline(always)] // the switch must sit in the body: a call/ret around it costs two
    // mispredicted returns per resume (the return stack buffer spans both stacks)
    pub fn yield_(&self, value: Y) -> anyhow::Result<S> {
        if std::thread::panicking() {
            return Err(cannot_yield_unwinding());
        }
        let closing = self.closing.get();
        if closing != 0 {
            abandon(value, closing);
        }
        // SAFETY: `self` only exists while the body runs on the yielder's coroutine.
        match unsafe { &*self.yielder }.suspend(Out::Value(value)) {
            Resume::Send(v) => Ok(v),
            Resume::Throw(e) => Err(self.thrown(e)),
            Resume::Start | Resume::SubDone => {
                Err(RuntimeError::new("generator started twice").into())
            }
        }
    }

    #[cold]
    fn thrown(&self, e: anyhow::Error) -> anyhow::Error {
        let depth = self.depth.get();
        if depth != 0 && e.is::<GeneratorExit>() {
            // PEP 380: GeneratorExit closes every delegated-to sub on the way out.
            self.closing.set(depth);
        }
        e
    }

    /// Bytes left on this stack below the caller's frame.
    fn room(&self) -> usize {
        stack_pointer().saturating_sub(self.stack_lowest)
    }

    /// Runs an unstarted sub's body on this stack with this handle (see the module doc).
    fn run_inline<R>(
        &self,
        body: Body<Y, S, R>,
        name: &'static str,
        kind: Kind,
    ) -> anyhow::Result<R> {
        let depth = self.depth.get() + 1;
        self.depth.set(depth);
        // An overflow in the sub names the sub.
        // SAFETY: the name slot of the stack this body runs on.
        let outer = unsafe { read_name(self.name_addr) };
        // SAFETY: as above.
        unsafe { write_name(self.name_addr, name) };
        let result = panic::catch_unwind(AssertUnwindSafe(|| body(self)));
        // SAFETY: as above.
        unsafe { write_name(self.name_addr, outer) };
        self.depth.set(depth - 1);
        let closed = self.closing.get() >= depth;
        if closed {
            // This sub's close is over; its delegator (if inline too) is still closing.
            self.closing.set(depth - 1);
        }
        match result {
            // PEP 380: a value returned while GeneratorExit is in flight is ignored.
            Ok(Ok(_)) if closed => Err(GeneratorExit.into()),
            Ok(Err(e)) if closed && (e.is::<GeneratorExit>() || is_stop_iteration(&e)) => {
                Err(GeneratorExit.into())
            }
            Ok(r) => pep479(kind, r),
            Err(payload) => match payload.downcast_ref::<Abandon>() {
                Some(Abandon(d)) if *d == depth => Err(ignored_generator_exit(kind)),
                Some(_) => panic::resume_unwind(payload),
                None => Err(panic_error(payload)),
            },
        }
    }

    /// Drives a sub on its own stack: values out, send/throw/close in (PEP 380). Suspended
    /// here, this generator's resumer drives the sub directly (see `Generator::forward`)
    /// and comes back here only with the sub's outcome.
    fn delegate<R: 'static>(&self, sub: &Generator<Y, S, R>) -> anyhow::Result<R>
    where
        Y: 'static,
        S: 'static,
    {
        let mut step = match sub.status.get() {
            Status::Unstarted => sub.start(),
            _ => match none_value::<S>() {
                // PEP 380 primes the sub with next().
                Some(none) => sub.resume(Resume::Send(none)),
                None => Err(TypeError::new(
                    "yield_from of a generator that already started needs S = () \
                     (Python primes it with send(None))",
                )
                .into()),
            },
        };
        let slot = Slot {
            sub,
            done: Cell::new(None),
        };
        let erased: &(dyn Delegate<Y, S> + 'static) = &slot;
        let link = Link {
            status: NonNull::from(&sub.status),
            delegating: NonNull::from(&sub.delegating),
            driving: Cell::new(false),
            sub: NonNull::from(erased),
        };
        loop {
            let y = match step? {
                GeneratorState::Returned(r) => return Ok(r),
                GeneratorState::Yielded(y) => y,
            };
            // What `yield_` checks before it suspends.
            if std::thread::panicking() {
                step = sub.throw_inner(cannot_yield_unwinding());
                continue;
            }
            let closing = self.closing.get();
            if closing != 0 {
                abandon(y, closing);
            }
            // SAFETY: `self` only exists while the body runs on the yielder's coroutine.
            step = match unsafe { &*self.yielder }.suspend(Out::Delegating(y, NonNull::from(&link)))
            {
                Resume::SubDone => match slot.done.take() {
                    Some(Finished::Ended(r)) => return r,
                    Some(Finished::Closed(e)) => return Err(self.thrown(e)),
                    None => unreachable!("a sub finished with no outcome"),
                },
                // `forward` sends no other resume here; if one came, pass it on as before.
                Resume::Send(v) => sub.resume(Resume::Send(v)),
                Resume::Throw(e) => {
                    let e = self.thrown(e);
                    if e.is::<GeneratorExit>() {
                        // PEP 380: the sub is closed, not thrown into; its close error wins.
                        sub.close()?;
                        return Err(e);
                    }
                    sub.throw_inner(e)
                }
                Resume::Start => Err(RuntimeError::new("generator started twice").into()),
            };
        }
    }
}

impl<Y: 'static, S: 'static> Co<Y, S> {
    /// Python's `yield from sub` (PEP 380): values `sub` yields go to this generator's
    /// resumer, sent values and thrown errors go to `sub`, `close` closes `sub` first (an
    /// error from that replaces `GeneratorExit`), and the result is `sub`'s return value.
    /// An error `sub` raises comes out here. Works at any depth; a resume through any
    /// number of inline levels costs one stack switch.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> anyhow::Result<()> {
    /// use tulip::Generator;
    ///
    /// // def inner():
    /// //     x = yield "inner ready"
    /// //     return x * 2
    /// // def outer():
    /// //     result = yield from inner()
    /// //     yield f"inner returned {result}"
    /// let outer = Generator::<String, i32>::new(|co| {
    ///     let inner = Generator::<String, i32, i32>::new(|co| {
    ///         let x = co.yield_("inner ready".to_string())?;
    ///         Ok(x * 2)
    ///     });
    ///     let result = co.yield_from(inner)?;
    ///     co.yield_(format!("inner returned {result}"))?;
    ///     Ok(())
    /// });
    /// // the sub's yield reaches outer's caller; the sent 21 reaches the sub
    /// assert_eq!(outer.next()?.as_yielded().as_deref(), Some("inner ready"));
    /// assert_eq!(outer.send(21)?.as_yielded().as_deref(), Some("inner returned 42"));
    /// assert!(outer.next()?.is_returned());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// - The error `sub` raises (an error thrown in and not handled by `sub` included).
    /// - `GeneratorExit` when this generator is closed (or the error closing `sub` raised).
    pub fn yield_from<R: 'static>(&self, sub: Generator<Y, S, R>) -> anyhow::Result<R> {
        // Inline only while the sub's whole own stack fits in what is left here: a sub that
        // completes on its own stack then completes inline too.
        if sub.status.get() == Status::Unstarted
            && usable_size(sub.stack_size).is_some_and(|need| self.room() >= need)
        {
            let (name, kind) = (sub.name, sub.kind);
            // SAFETY: unstarted and owned: nothing else borrows `inner`.
            let inner = mem::replace(unsafe { &mut *sub.inner.get() }, Inner::Finished);
            sub.status.set(Status::Finished);
            drop(sub);
            let Inner::Unstarted(body) = inner else {
                unreachable!("an unstarted generator has a body")
            };
            return self.run_inline(body, name, kind);
        }
        self.delegate(&sub)
    }

    /// `yield from` a generator shared with others (e.g. through `Rc`): like
    /// [`Co::yield_from`], but the sub always runs on its own stack, and delegating to a
    /// generator that is running (this one, or one up the chain) is
    /// `ValueError("generator already executing")`. Delegating to a started generator
    /// primes it with None, which needs `S = ()`.
    ///
    /// # Errors
    ///
    /// As [`Co::yield_from`]; also `ValueError("generator already executing")` for a running
    /// `sub`, and `TypeError` for a started `sub` whose `S` is not `()`.
    pub fn yield_from_ref<R: 'static>(&self, sub: &Generator<Y, S, R>) -> anyhow::Result<R> {
        self.delegate(sub)
    }
}

impl<Y, S: Default + PartialEq> Co<Y, S> {
    /// Python's `yield from iterable` for an iterable that is not a generator (PEP 380's
    /// other path): each item is yielded in turn, and the result is Python's `None` once the
    /// iterator is exhausted. The iterator has only `next`: a value sent in that is not
    /// "None" (`S::default()`, what [`Generator::next`] sends) is Python's
    /// `AttributeError("'list_iterator' object has no attribute 'send'")` raised here, in
    /// the delegator; an error thrown in (and `close`'s `GeneratorExit`) is raised here too,
    /// the iterator being dropped, not closed.
    ///
    /// The message names the iterator as Python would for the Rust types that stand for
    /// Python's: a `Vec` or slice is a `list_iterator`, an array a `tuple_iterator`, a range a
    /// `range_iterator`, a `HashSet` a `set_iterator`; any other is an `iterator`.
    ///
    /// # Examples
    ///
    /// ```
    /// # fn main() -> anyhow::Result<()> {
    /// use tulip::Generator;
    ///
    /// // def g(): yield from [1, 2]
    /// let g = Generator::<i32>::new(|co| co.yield_from_iter(vec![1, 2]));
    /// let items: Vec<i32> = g.into_iter().collect::<anyhow::Result<_>>()?;
    /// assert_eq!(items, [1, 2]);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// - `AttributeError` (an [`Exception`](crate::Exception) by that name) for a sent
    ///   non-None value.
    /// - The error thrown in by [`Generator::throw`], or `GeneratorExit` from
    ///   [`Generator::close`].
    pub fn yield_from_iter<I: IntoIterator<Item = Y>>(&self, iterable: I) -> anyhow::Result<()> {
        let it = iterable.into_iter();
        for item in it {
            let sent = self.yield_(item)?;
            if sent != S::default() {
                return Err(no_send(py_iter_name::<I::IntoIter>()));
            }
        }
        Ok(())
    }
}

#[cold]
pub(super) fn no_send(name: &str) -> anyhow::Error {
    crate::errors::Exception::new(
        "AttributeError",
        format!("'{name}' object has no attribute 'send'"),
    )
    .into()
}

/// The Python type name of the iterator a Rust iterator stands for (see `yield_from_iter`).
pub(super) fn py_iter_name<I>() -> &'static str {
    let t = std::any::type_name::<I>();
    let known = [
        ("alloc::vec::into_iter::IntoIter<", "list_iterator"),
        ("core::slice::iter::Iter<", "list_iterator"),
        ("core::array::iter::IntoIter<", "tuple_iterator"),
        ("core::ops::range::Range<", "range_iterator"),
        ("std::collections::hash::set::IntoIter<", "set_iterator"),
        ("std::collections::hash::set::Iter<", "set_iterator"),
    ];
    known
        .iter()
        .find(|(prefix, _)| t.starts_with(prefix))
        .map_or("iterator", |(_, name)| name)
}
