//! `asyncio.sleep` (layer 8).

use std::time::Duration;

use anyhow::Result;

use crate::event_loop::get_running_loop;
use crate::tasks::{TaskCo, WaitKind};

/// `await asyncio.sleep(delay)`: suspends the calling task for `delay`. A zero delay is a bare
/// yield that costs exactly one loop iteration; otherwise a timer resolves a future the task
/// waits for, and the timer is cancelled however the wait ends (e.g. by cancellation).
///
/// # Examples
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use std::time::{Duration, Instant};
///
/// tulip::run(|co| {
///     let start = Instant::now();
///     tulip::sleep(co, Duration::from_millis(10))?; // asyncio: await asyncio.sleep(0.01)
///     assert!(start.elapsed() >= Duration::from_millis(10));
///     Ok(())
/// })?;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// - `CancelledError` when the task is cancelled while it sleeps.
/// - `RuntimeError("no running event loop")` for a non-zero delay outside a running loop.
#[inline(always)] // no call/ret around the stack switch of a zero sleep (see `Co::yield_`)
#[track_caller] // the task tree shows the user's `sleep`
pub fn sleep(co: &TaskCo, delay: Duration) -> Result<()> {
    if delay.is_zero() {
        return co.yield_now();
    }
    sleep_timer(co, delay)
}

#[track_caller]
fn sleep_timer(co: &TaskCo, delay: Duration) -> Result<()> {
    let lp = get_running_loop()?;
    let fut = lp.create_future::<()>();
    let waker = fut.clone();
    let timer = lp.call_later(delay, move || {
        if !waker.done() {
            let _ = waker.set_result(());
        }
    })?;
    let waited = co.wait_as(&fut, WaitKind::Sleep);
    timer.cancel();
    waited
}

/// `await asyncio.sleep(delay, result)`: sleeps as [`sleep`], then returns `result`.
///
/// ```
/// # fn main() -> anyhow::Result<()> {
/// use std::time::Duration;
///
/// let word = tulip::run(|co| tulip::sleep_with(co, Duration::from_millis(1), "done"))?;
/// assert_eq!(word, "done");
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// As [`sleep`]; `result` is dropped when the sleep fails.
#[track_caller]
pub fn sleep_with<T>(co: &TaskCo, delay: Duration, result: T) -> Result<T> {
    sleep(co, delay)?;
    Ok(result)
}
