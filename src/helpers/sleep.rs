//! `asyncio.sleep` (layer 8).

use std::time::Duration;

use anyhow::Result;

use crate::event_loop::get_running_loop;
use crate::tasks::TaskCo;

/// `await asyncio.sleep(delay)`: suspends the calling task for `delay`. A zero delay is a bare
/// yield that costs exactly one loop iteration; otherwise a timer resolves a future the task
/// waits for, and the timer is cancelled however the wait ends (e.g. by cancellation).
#[inline(always)] // no call/ret around the stack switch of a zero sleep (see `Co::yield_`)
pub fn sleep(co: &TaskCo, delay: Duration) -> Result<()> {
    if delay.is_zero() {
        return co.yield_now();
    }
    sleep_timer(co, delay)
}

fn sleep_timer(co: &TaskCo, delay: Duration) -> Result<()> {
    let lp = get_running_loop()?;
    let fut = lp.create_future::<()>();
    let waker = fut.clone();
    let timer = lp.call_later(delay, move || {
        if !waker.done() {
            let _ = waker.set_result(());
        }
    })?;
    let waited = co.wait(&fut);
    timer.cancel();
    waited
}
