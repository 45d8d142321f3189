//! Scheduling callbacks: `call_soon`, `call_later`, `call_at` (and their `*_in` variants
//! running in a context), the loop's clock.

use std::panic::Location;
use std::time::{Duration, Instant};

use super::{EventLoop, ExceptionContext, Handle, TimerHandle};
use crate::callbacks::Located;
use crate::contextvars::{self, Context};
use crate::timers::Deadline;

impl EventLoop {
    /// Schedules `f` to run in a later iteration, after every callback scheduled before it
    /// (FIFO). Returns a [`Handle`] that can cancel it.
    ///
    /// # Errors
    ///
    /// `RuntimeError("Event loop is closed")` on a closed loop.
    #[track_caller]
    pub fn call_soon(&self, f: impl FnOnce() + 'static) -> anyhow::Result<Handle> {
        self.check_closed()?;
        if contextvars::in_use() {
            // asyncio: the callback runs in a copy of the context current now.
            let vars = contextvars::capture();
            return self.call_soon_unchecked(move || contextvars::run_in(vars, f));
        }
        self.call_soon_unchecked(f)
    }

    /// `call_soon` after the checks, with the callback as given.
    #[inline(always)]
    #[track_caller]
    fn call_soon_unchecked(&self, f: impl FnOnce() + 'static) -> anyhow::Result<Handle> {
        let seq = if self.inner().debug.get() {
            // Debug mode: the callback remembers where it was scheduled, for the reports.
            self.push_located(f, Location::caller())
        } else {
            self.inner().ready.borrow_mut().push_fn(f)
        };
        Ok(Handle::new(self.downgrade(), seq))
    }

    /// `call_soon`'s debug path, out of line so that the usual one stays small.
    #[cold]
    #[inline(never)]
    fn push_located(&self, f: impl FnOnce() + 'static, at: &'static Location<'static>) -> u64 {
        self.inner()
            .ready
            .borrow_mut()
            .push_callable(Located { f, at })
    }

    /// `call_at`'s debug path, out of line.
    #[cold]
    #[inline(never)]
    fn push_timer_located(
        &self,
        when: Deadline,
        f: impl FnOnce() + 'static,
        at: &'static Location<'static>,
    ) -> (u32, u64) {
        self.inner()
            .timers
            .borrow_mut()
            .push_callable(when, Located { f, at })
    }

    /// `schedule` of a callable that names what it steps (task steps and wake-ups). Inlined
    /// as `schedule` is: it is most of a bare yield's cost.
    #[inline(always)]
    pub(crate) fn schedule_callable(
        &self,
        c: impl crate::callbacks::Callable,
    ) -> anyhow::Result<()> {
        self.check_closed()?;
        self.inner().ready.borrow_mut().push_callable(c);
        Ok(())
    }

    /// `call_soon` without a [`Handle`]: the hot path for done callbacks and task steps.
    pub(crate) fn schedule(&self, f: impl FnOnce() + 'static) -> anyhow::Result<()> {
        self.check_closed()?;
        self.inner().ready.borrow_mut().push_fn(f);
        Ok(())
    }

    /// Schedules `f` to run `delay` from now ([`EventLoop::time`] + `delay`).
    ///
    /// # Errors
    ///
    /// `RuntimeError("Event loop is closed")` on a closed loop.
    #[inline]
    #[track_caller]
    pub fn call_later(
        &self,
        delay: Duration,
        f: impl FnOnce() + 'static,
    ) -> anyhow::Result<TimerHandle> {
        let now = self.time();
        // A delay too long for `Instant` is as good as forever: a century from now.
        let when = now
            .checked_add(delay)
            .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86400)))
            .unwrap_or(now);
        self.call_at(when, f)
    }

    /// Schedules `f` to run at `when` on the loop's clock. A past deadline runs in the next
    /// iteration, after the callbacks already queued; timers run in deadline order, and (in
    /// tulip) FIFO among equal deadlines.
    ///
    /// # Errors
    ///
    /// `RuntimeError("Event loop is closed")` on a closed loop.
    #[inline]
    #[track_caller]
    pub fn call_at(
        &self,
        when: Instant,
        f: impl FnOnce() + 'static,
    ) -> anyhow::Result<TimerHandle> {
        self.check_closed()?;
        if contextvars::in_use() {
            // asyncio: the callback runs in a copy of the context current now.
            let vars = contextvars::capture();
            return self.call_at_unchecked(when, move || contextvars::run_in(vars, f));
        }
        self.call_at_unchecked(when, f)
    }

    /// `call_at` after the checks, with the callback as given.
    #[inline(always)]
    #[track_caller]
    fn call_at_unchecked(
        &self,
        when: Instant,
        f: impl FnOnce() + 'static,
    ) -> anyhow::Result<TimerHandle> {
        let when = Deadline::of(when);
        let (slot, seq) = if self.inner().debug.get() {
            self.push_timer_located(when, f, Location::caller())
        } else {
            self.inner().timers.borrow_mut().push(when, f)
        };
        self.inner().quiet.set(false);
        Ok(TimerHandle::new(self.downgrade(), slot, seq, when))
    }

    /// `call_soon(f, context=ctx)`: as [`EventLoop::call_soon`], but `f` runs in `ctx`
    /// itself (entered with [`Context::run`]), so what it sets stays in `ctx`.
    ///
    /// # Errors
    ///
    /// `RuntimeError("Event loop is closed")` on a closed loop. If `ctx` is already entered
    /// when the callback runs, its `RuntimeError` goes to the exception handler, as asyncio's.
    #[track_caller]
    pub fn call_soon_in(
        &self,
        ctx: &Context,
        f: impl FnOnce() + 'static,
    ) -> anyhow::Result<Handle> {
        self.check_closed()?;
        let run = self.run_in_context(ctx.clone(), f);
        self.call_soon_unchecked(run)
    }

    /// `call_later(delay, f, context=ctx)`: as [`EventLoop::call_later`], run in `ctx`.
    ///
    /// # Errors
    ///
    /// As [`EventLoop::call_soon_in`].
    #[track_caller]
    pub fn call_later_in(
        &self,
        delay: Duration,
        ctx: &Context,
        f: impl FnOnce() + 'static,
    ) -> anyhow::Result<TimerHandle> {
        let now = self.time();
        let when = now
            .checked_add(delay)
            .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 86400)))
            .unwrap_or(now);
        self.call_at_in(when, ctx, f)
    }

    /// `call_at(when, f, context=ctx)`: as [`EventLoop::call_at`], run in `ctx`.
    ///
    /// # Errors
    ///
    /// As [`EventLoop::call_soon_in`].
    #[track_caller]
    pub fn call_at_in(
        &self,
        when: Instant,
        ctx: &Context,
        f: impl FnOnce() + 'static,
    ) -> anyhow::Result<TimerHandle> {
        self.check_closed()?;
        let run = self.run_in_context(ctx.clone(), f);
        self.call_at_unchecked(when, run)
    }

    /// `f` wrapped to run in `ctx`, reporting a context already entered as asyncio's
    /// `Handle._run` does.
    fn run_in_context(&self, ctx: Context, f: impl FnOnce() + 'static) -> impl FnOnce() + 'static {
        let lp = self.clone();
        move || {
            if let Err(e) = ctx.run(f) {
                lp.call_exception_handler(
                    ExceptionContext::new("Exception in callback Context.run()").with_exception(e),
                );
            }
        }
    }

    /// The loop's clock: the monotonic [`Instant::now`].
    pub fn time(&self) -> Instant {
        Instant::now()
    }
}
