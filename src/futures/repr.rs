//! asyncio's reprs of a future: `<Future pending cb=[Task.task_wakeup()]>`.

use std::fmt;

use super::{Callback, Future, FutureCore, FutureTail, Reading};
use crate::errors::{PyRepr, py_repr};

/// asyncio's `repr(future)` but for the result, which needs `T: PyRepr` (see
/// [`Future::repr`]): `<Future pending cb=[Task.task_wakeup()]>`, `<Future cancelled>`,
/// `<Future finished exception=ValueError('bad')>`, `<Future finished>`.
impl<T> fmt::Debug for Future<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.repr_with(|_| None))
    }
}

impl<T: PyRepr> Future<T> {
    /// asyncio's `repr(future)`, exactly: the state, then `result=` (the value as
    /// `reprlib.repr` shows it) or `exception=`, the done callbacks (`cb=[...]`) and, in
    /// debug mode, where it was created:
    ///
    /// ```
    /// let lp = tulip::EventLoop::new()?;
    /// let fut = lp.create_future::<i32>();
    /// assert_eq!(fut.repr(), "<Future pending>");
    /// fut.set_result(4)?;
    /// assert_eq!(fut.repr(), "<Future finished result=4>");
    /// # lp.close()?;
    /// # Ok::<(), anyhow::Error>(())
    /// ```
    ///
    /// Without `T: PyRepr`, `{:?}` prints the same but for the result (`<Future finished>`).
    pub fn repr(&self) -> String {
        self.0.repr_with(|v| Some(crate::errors::py_reprlib(v)))
    }
}

impl<T: 'static, X: ?Sized + FutureTail<T>> FutureCore<T, X> {
    /// The repr, with `result` formatting a finished value (`None`: left out).
    pub(crate) fn repr_with(&self, result: impl FnOnce(&T) -> Option<String>) -> String {
        let info = self.repr_info(result);
        format!("<{} {}>", self.kind.get().name(), info.join(" "))
    }

    /// asyncio's `_future_repr_info`: the state, `result=`/`exception=`, `cb=[...]`, and
    /// `created at` in debug mode.
    pub(crate) fn repr_info(&self, result: impl FnOnce(&T) -> Option<String>) -> Vec<String> {
        let mut info = vec![self.state_word().to_string()];
        // The value and the error are read through handles the future keeps alive: their
        // `PyRepr` and `Display` are user code, run with no borrow held.
        if let Some(e) = self.failure() {
            info.push(format!("exception={}", py_repr(&e.to_error())));
        } else if let Some(v) = self.finished_value() {
            let _reading = Reading::enter(&self.readers);
            if let Some(r) = result(v) {
                info.push(format!("result={r}"));
            }
        }
        if let Some(cb) = self.callbacks_repr() {
            info.push(cb);
        }
        if self.lp.get_debug() {
            info.push(format!("created at {}", self.created));
        }
        info
    }

    /// asyncio's `_format_callbacks`: `cb=[a()]`, `cb=[a(), b()]`, `cb=[a(), <N more>, z()]`.
    fn callbacks_repr(&self) -> Option<String> {
        let names: Vec<String> = {
            let cbs = self.callbacks.borrow();
            cbs.first
                .iter()
                .chain(&cbs.rest)
                .map(Callback::py_name)
                .collect()
        };
        let inner = match names.as_slice() {
            [] => return None,
            [a] => format!("{a}()"),
            [a, b] => format!("{a}(), {b}()"),
            [a, .., z] => format!("{a}(), <{} more>, {z}()", names.len() - 2),
        };
        Some(format!("cb=[{inner}]"))
    }
}
