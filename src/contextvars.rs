//! Context variables (layer 0, beside the errors): Python's `contextvars` with asyncio's
//! semantics. [`ContextVar`], [`Token`], [`Context`], [`copy_context`].
//!
//! Each thread has a current context: a mutable [`Context`] holding an immutable map from
//! variables to values. [`ContextVar::set`] replaces the current context's map by a new one,
//! so a copy ([`copy_context`]) is one reference count, as CPython's HAMT makes it O(1)
//! (here a set costs a copy of the map's few entries: contexts hold a handful of variables).
//!
//! The loop layers use it as asyncio does: a callback runs in a copy of the context current
//! when it was scheduled, a task in a copy of the context current when it was created.
//!
//! Cost when unused: nothing is captured until the first [`ContextVar`] or [`Context`] of
//! the process is made ([`in_use`], one load of a static); until then the current context
//! stays `None` on every thread and the loop's hot paths are what they were.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::errors::{PyException, RuntimeError, ValueError, py_str_repr};

static IN_USE: AtomicBool = AtomicBool::new(false);
static NEXT_VAR: AtomicU64 = AtomicU64::new(1);

/// Whether a [`ContextVar`] or a [`Context`] was ever made in this process: until then there
/// is nothing to capture, and callbacks and tasks skip it.
#[inline(always)]
pub(crate) fn in_use() -> bool {
    IN_USE.load(Ordering::Relaxed)
}

fn mark_used() {
    IN_USE.store(true, Ordering::Relaxed);
}

type Value = Arc<dyn Any + Send + Sync>;

/// An immutable map from variable ids to values, shared by every context that copied it:
/// a snapshot. `Send`, so that `to_thread` carries it to a worker thread.
#[derive(Clone, Default)]
pub(crate) struct Vars(Option<Arc<Vec<(u64, Value)>>>);

impl Vars {
    fn get(&self, id: u64) -> Option<&Value> {
        let v = self.0.as_ref()?;
        v.binary_search_by_key(&id, |(k, _)| *k)
            .ok()
            .map(|i| &v[i].1)
    }

    /// The map with `id` set to `value` (a new map: this one may be shared).
    fn with(&self, id: u64, value: Value) -> Vars {
        let mut v: Vec<(u64, Value)> = self.0.as_deref().cloned().unwrap_or_default();
        match v.binary_search_by_key(&id, |(k, _)| *k) {
            Ok(i) => v[i].1 = value,
            Err(i) => v.insert(i, (id, value)),
        }
        Vars(Some(Arc::new(v)))
    }

    /// The map without `id`.
    fn without(&self, id: u64) -> Vars {
        let Some(old) = self.0.as_deref() else {
            return Vars(None);
        };
        let v: Vec<(u64, Value)> = old.iter().filter(|(k, _)| *k != id).cloned().collect();
        Vars(if v.is_empty() {
            None
        } else {
            Some(Arc::new(v))
        })
    }

    fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |v| v.len())
    }
}

/// A context's state; the thread's current one is in [`CURRENT`].
struct ContextInner {
    /// Replaced, never mutated in place: copies share the map.
    vars: Cell<Vars>,
    /// Entered by [`Context::run`] (Python refuses to enter a context twice).
    entered: Cell<bool>,
}

impl ContextInner {
    fn new(vars: Vars) -> Rc<Self> {
        Rc::new(ContextInner {
            vars: Cell::new(vars),
            entered: Cell::new(false),
        })
    }

    fn vars(&self) -> Vars {
        let v = self.vars.take();
        self.vars.set(v.clone());
        v
    }
}

thread_local! {
    /// The current context; `None` is an empty one not made yet (every thread starts so, and
    /// a task or callback whose context was empty enters `None`).
    static CURRENT: Cell<Option<Rc<ContextInner>>> = const { Cell::new(None) };
}

/// The current context, made (empty) if there is none yet.
fn current_or_make() -> Rc<ContextInner> {
    CURRENT.with(|c| {
        let ctx = c
            .take()
            .unwrap_or_else(|| ContextInner::new(Vars::default()));
        c.set(Some(ctx.clone()));
        ctx
    })
}

fn current() -> Option<Rc<ContextInner>> {
    CURRENT.with(|c| {
        let ctx = c.take();
        c.set(ctx.clone());
        ctx
    })
}

/// A snapshot of the current context's variables: what a callback captures when scheduled.
pub(crate) fn capture() -> Vars {
    current().map(|c| c.vars()).unwrap_or_default()
}

/// Puts the current context back when a run ends, however it ends.
struct Restore(Option<Option<Rc<ContextInner>>>);

impl Drop for Restore {
    fn drop(&mut self) {
        if let Some(prev) = self.0.take() {
            let mine = CURRENT.with(|c| c.replace(prev));
            // Dropped after the thread's state is whole again: a value's drop is user code.
            drop(mine);
        }
    }
}

/// Runs `f` in a new context holding `vars` (a copy of the context a callback was scheduled
/// in): what it sets stays there.
pub(crate) fn run_in<R>(vars: Vars, f: impl FnOnce() -> R) -> R {
    let ctx = if vars.len() == 0 {
        None
    } else {
        Some(ContextInner::new(vars))
    };
    let _restore = Restore(Some(CURRENT.with(|c| c.replace(ctx))));
    f()
}

/// Runs `f` with the current context swapped for `ctx`'s, and keeps what `f` leaves current
/// in `ctx` afterwards: a task's step (the body may have made the context by setting a
/// variable, or switched it inside [`Context::run`] while suspended). The context is entered
/// meanwhile, as asyncio's step runs in `context.run`: the body cannot enter it again.
pub(crate) fn run_swapped<R>(ctx: &Cell<Option<Context>>, f: impl FnOnce() -> R) -> R {
    struct Back<'a> {
        ctx: &'a Cell<Option<Context>>,
        prev: Option<Option<Rc<ContextInner>>>,
        /// The context this step entered, to leave.
        entered: Option<Rc<ContextInner>>,
    }
    impl Drop for Back<'_> {
        fn drop(&mut self) {
            if let Some(entered) = self.entered.take() {
                entered.entered.set(false);
            }
            if let Some(prev) = self.prev.take() {
                let mine = CURRENT.with(|c| c.replace(prev));
                let old = self.ctx.replace(mine.map(Context));
                drop(old);
            }
        }
    }
    let inner = ctx.take().map(|c| c.0);
    // Already entered (its `run` is on the stack below this step): left to that `run`.
    let entered = inner.as_ref().filter(|c| !c.entered.replace(true)).cloned();
    let _back = Back {
        ctx,
        prev: Some(CURRENT.with(|c| c.replace(inner))),
        entered,
    };
    f()
}

/// Moves the current context into `ctx` (a task whose step made the first variable).
pub(crate) fn adopt(ctx: &Cell<Option<Context>>) {
    let mine = CURRENT.with(|c| c.take());
    let old = ctx.replace(mine.map(Context));
    drop(old);
}

/// Python's `LookupError`, as [`ContextVar::get`] raises it: its one argument is the
/// variable, printed as its repr (`LookupError(<ContextVar name='x' at 0x...>)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupError(pub String);

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LookupError {}

impl PyException for LookupError {
    fn py_name(&self) -> &str {
        "LookupError"
    }
    fn py_arg(&self) -> Option<&str> {
        Some(&self.0)
    }
    fn py_args_repr(&self) -> String {
        // The argument is the variable object, not a string: no quotes.
        self.0.clone()
    }
}

struct VarInner<T> {
    id: u64,
    name: String,
    default: Option<T>,
    default_repr: Option<String>,
}

/// Python's `contextvars.ContextVar`: a variable whose value depends on the current context.
///
/// A cheap clonable handle (clones are the same variable); `Send + Sync`, so it can be a
/// `static` (through `LazyLock`). Values are `Clone + Send + Sync`: `to_thread` carries the
/// context to a worker thread, as asyncio's does.
///
/// ```
/// use tulip::{ContextVar, copy_context};
///
/// let request_id = ContextVar::<u32>::new("request_id");
/// assert!(request_id.get().is_err()); // LookupError: unset, no default
/// let token = request_id.set(7);
/// let ctx = copy_context();
/// request_id.set(8);
/// assert_eq!(ctx.run(|| request_id.get().unwrap()).unwrap(), 7); // the copy kept 7
/// assert_eq!(request_id.get().unwrap(), 8);
/// request_id.reset(&token).unwrap();
/// assert!(request_id.get().is_err());
/// ```
pub struct ContextVar<T: 'static> {
    inner: Arc<VarInner<T>>,
}

impl<T> Clone for ContextVar<T> {
    fn clone(&self) -> Self {
        ContextVar {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> ContextVar<T> {
    /// `ContextVar(name)`: no default.
    pub fn new(name: impl Into<String>) -> Self {
        Self::make(name.into(), None, None)
    }

    /// `ContextVar(name, default=value)`.
    pub fn with_default(name: impl Into<String>, default: T) -> Self
    where
        T: fmt::Debug,
    {
        let repr = format!("{default:?}");
        Self::make(name.into(), Some(default), Some(repr))
    }

    fn make(name: String, default: Option<T>, default_repr: Option<String>) -> Self {
        mark_used();
        ContextVar {
            inner: Arc::new(VarInner {
                id: NEXT_VAR.fetch_add(1, Ordering::Relaxed),
                name,
                default,
                default_repr,
            }),
        }
    }

    /// `var.name`.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    fn lookup(&self) -> Option<T> {
        let vars = current()?.vars();
        let v = vars.get(self.inner.id)?;
        v.downcast_ref::<T>().cloned()
    }

    /// `var.get()`: the value in the current context, else the default.
    ///
    /// # Errors
    ///
    /// `LookupError(<ContextVar name='x' at 0x...>)` when neither is there.
    pub fn get(&self) -> anyhow::Result<T> {
        if let Some(v) = self.lookup() {
            return Ok(v);
        }
        if let Some(d) = &self.inner.default {
            return Ok(d.clone());
        }
        crate::errors::register_py_exception::<LookupError>();
        Err(LookupError(format!("{self:?}")).into())
    }

    /// `var.get(default)`: the value in the current context, else `default` (which wins over
    /// the variable's own default, as in Python).
    pub fn get_or(&self, default: T) -> T {
        self.lookup().unwrap_or(default)
    }

    /// `var.set(value)`: sets the value in the current context; the [`Token`] lets
    /// [`ContextVar::reset`] put the old one back.
    pub fn set(&self, value: T) -> Token<T> {
        let ctx = current_or_make();
        let vars = ctx.vars();
        let old = vars.get(self.inner.id).cloned();
        ctx.vars.set(vars.with(self.inner.id, Arc::new(value)));
        Token {
            inner: Rc::new(TokenInner {
                var_id: self.inner.id,
                var_repr: format!("{self:?}"),
                old,
                ctx,
                used: Cell::new(false),
            }),
            _t: PhantomData,
        }
    }

    /// `var.reset(token)`: gives the variable the value it had before the `set` that made
    /// `token` (or none).
    ///
    /// # Errors
    ///
    /// As CPython, with the token's repr:
    /// - `RuntimeError("<Token used var=... at 0x...> has already been used once")`;
    /// - `ValueError("<Token var=... at 0x...> was created by a different ContextVar")`;
    /// - `ValueError("<Token var=... at 0x...> was created in a different Context")`.
    pub fn reset(&self, token: &Token<T>) -> anyhow::Result<()> {
        let t = &token.inner;
        if t.used.get() {
            return Err(RuntimeError::new(format!("{token:?} has already been used once")).into());
        }
        if t.var_id != self.inner.id {
            return Err(ValueError::new(format!(
                "{token:?} was created by a different ContextVar"
            ))
            .into());
        }
        let same = current().is_some_and(|c| Rc::ptr_eq(&c, &t.ctx));
        if !same {
            return Err(
                ValueError::new(format!("{token:?} was created in a different Context")).into(),
            );
        }
        t.used.set(true);
        let vars = t.ctx.vars();
        let new = match &t.old {
            Some(v) => vars.with(self.inner.id, v.clone()),
            None => vars.without(self.inner.id),
        };
        t.ctx.vars.set(new);
        Ok(())
    }
}

impl<T> fmt::Debug for ContextVar<T> {
    /// `<ContextVar name='x' default=5 at 0x...>`, as Python's repr.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<ContextVar name={}", py_str_repr(&self.inner.name))?;
        if let Some(d) = &self.inner.default_repr {
            write!(f, " default={d}")?;
        }
        write!(
            f,
            " at {:#x}>",
            Arc::as_ptr(&self.inner) as *const () as usize
        )
    }
}

struct TokenInner {
    var_id: u64,
    var_repr: String,
    old: Option<Value>,
    ctx: Rc<ContextInner>,
    used: Cell<bool>,
}

/// Python's `contextvars.Token`: what [`ContextVar::set`] returns, for
/// [`ContextVar::reset`]. Usable once, in the context it was made in.
pub struct Token<T> {
    inner: Rc<TokenInner>,
    _t: PhantomData<fn() -> T>,
}

impl<T: Clone + 'static> Token<T> {
    /// `token.old_value`: the value before the `set`; `None` is Python's `Token.MISSING`.
    pub fn old_value(&self) -> Option<T> {
        self.inner.old.as_ref()?.downcast_ref::<T>().cloned()
    }
}

impl<T> fmt::Debug for Token<T> {
    /// `<Token var=<ContextVar ...> at 0x...>`, with `used` once reset, as Python's repr.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let used = if self.inner.used.get() { " used" } else { "" };
        write!(
            f,
            "<Token{used} var={} at {:#x}>",
            self.inner.var_repr,
            Rc::as_ptr(&self.inner) as usize
        )
    }
}

/// Python's `contextvars.Context`: a mapping of variables to values that code can run in.
/// A cheap handle (clones are the same context); not `Send` (a context belongs to one
/// thread; [`crate::to_thread`] takes a copy across).
#[derive(Clone)]
pub struct Context(Rc<ContextInner>);

/// `contextvars.copy_context()`: a new context with the current one's values (O(1)).
pub fn copy_context() -> Context {
    mark_used();
    Context(ContextInner::new(capture()))
}

impl Context {
    /// `contextvars.Context()`: an empty context.
    pub fn new() -> Self {
        mark_used();
        Context(ContextInner::new(Vars::default()))
    }

    /// A context holding `vars`.
    pub(crate) fn from_vars(vars: Vars) -> Self {
        Context(ContextInner::new(vars))
    }

    /// `ctx.run(f)`: runs `f` with this context current; what `f` sets stays in this context.
    ///
    /// # Errors
    ///
    /// `RuntimeError("cannot enter context: <_contextvars.Context object at 0x...> is already
    /// entered")` when this context is already entered (by an outer `run`).
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> anyhow::Result<R> {
        if self.0.entered.get() {
            return Err(RuntimeError::new(format!(
                "cannot enter context: {self:?} is already entered"
            ))
            .into());
        }
        struct Leave<'a>(&'a ContextInner);
        impl Drop for Leave<'_> {
            fn drop(&mut self) {
                self.0.entered.set(false);
            }
        }
        self.0.entered.set(true);
        let _leave = Leave(&self.0);
        let _restore = Restore(Some(CURRENT.with(|c| c.replace(Some(self.0.clone())))));
        Ok(f())
    }

    /// `ctx.get(var)`: the variable's value in this context (not its default).
    pub fn get<T: Clone + 'static>(&self, var: &ContextVar<T>) -> Option<T> {
        self.0
            .vars()
            .get(var.inner.id)?
            .downcast_ref::<T>()
            .cloned()
    }

    /// `var in ctx`.
    pub fn contains<T>(&self, var: &ContextVar<T>) -> bool {
        self.0.vars().get(var.inner.id).is_some()
    }

    /// `len(ctx)`: how many variables have a value here.
    pub fn len(&self) -> usize {
        self.0.vars().len()
    }

    /// Whether no variable has a value here.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `ctx.copy()`: a new context with the same values.
    pub fn copy(&self) -> Context {
        Context(ContextInner::new(self.0.vars()))
    }
}

impl Default for Context {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Context {
    /// `<_contextvars.Context object at 0x...>`, as Python's repr.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<_contextvars.Context object at {:#x}>",
            Rc::as_ptr(&self.0) as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::{ErrorExt, py_repr};

    #[test]
    fn set_get_reset_and_copies() {
        let v = ContextVar::<i32>::new("v");
        let e = v.get().unwrap_err();
        assert!(py_repr(&e).starts_with("LookupError(<ContextVar name='v' at 0x"));
        let t1 = v.set(1);
        let snap = copy_context();
        let t2 = v.set(2);
        assert_eq!(t2.old_value(), Some(1));
        assert_eq!(snap.get(&v), Some(1));
        assert_eq!(v.get().unwrap(), 2);
        v.reset(&t2).unwrap();
        assert!(v.reset(&t2).unwrap_err().isinstance::<RuntimeError>());
        snap.run(|| {
            assert!(v.reset(&t1).unwrap_err().isinstance::<ValueError>());
            v.set(10);
            assert!(snap.run(|| ()).is_err());
        })
        .unwrap();
        assert_eq!(snap.get(&v), Some(10));
        assert_eq!(v.get().unwrap(), 1);
        v.reset(&t1).unwrap();
        assert!(v.get().is_err());
        assert_eq!(v.get_or(3), 3);
    }

    #[test]
    fn run_in_keeps_sets_out_of_the_caller() {
        let v = ContextVar::with_default("w", 0u8);
        assert!(format!("{v:?}").starts_with("<ContextVar name='w' default=0 at 0x"));
        v.set(1);
        let vars = capture();
        run_in(vars, || {
            assert_eq!(v.get().unwrap(), 1);
            v.set(2);
        });
        assert_eq!(v.get().unwrap(), 1);
        let slot = Cell::new(None);
        run_swapped(&slot, || v.set(5));
        assert_eq!(v.get().unwrap(), 1);
        let ctx = slot.take().unwrap();
        assert_eq!(ctx.get(&v), Some(5));
    }
}
