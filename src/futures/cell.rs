//! The cell that holds a future's state: a `RefCell` in debug builds, unchecked in release.

#[cfg(debug_assertions)]
use std::cell::RefCell;

/// A `RefCell` whose borrow flag is checked in debug builds only.
///
/// A future's state and callback list are borrowed on every handoff, and never while user
/// code runs (it could reach the same future): a user value is cloned, formatted or dropped
/// only after the borrow ends (an error as its own `Arc` handle, a done future's result
/// through [`FutureCore::finished_value`], a callback or a refused value once out of the
/// cell). Writers look with a shared borrow first and write only to a pending state (a
/// cancelled one only swaps its message, and `take_result` empties a done one, never while
/// a clone reads it), with no user code between borrow and release.
/// The tests (debug builds) keep the `RefCell` and would panic on any overlap; release
/// builds skip the flag.
pub(crate) struct TrustCell<V>(
    #[cfg(debug_assertions)] RefCell<V>,
    #[cfg(not(debug_assertions))] std::cell::UnsafeCell<V>,
);

#[cfg(debug_assertions)]
impl<V> TrustCell<V> {
    pub(crate) fn new(v: V) -> Self {
        TrustCell(RefCell::new(v))
    }
    pub(crate) fn borrow(&self) -> std::cell::Ref<'_, V> {
        self.0.borrow()
    }
    pub(crate) fn borrow_mut(&self) -> std::cell::RefMut<'_, V> {
        self.0.borrow_mut()
    }
    pub(crate) fn get_mut(&mut self) -> &mut V {
        self.0.get_mut()
    }
    pub(crate) fn into_inner(self) -> V {
        self.0.into_inner()
    }
}

#[cfg(not(debug_assertions))]
impl<V> TrustCell<V> {
    #[inline(always)]
    pub(crate) fn new(v: V) -> Self {
        TrustCell(std::cell::UnsafeCell::new(v))
    }
    #[inline(always)]
    pub(crate) fn borrow(&self) -> TrustRef<'_, V> {
        // SAFETY: no `borrow_mut` overlaps (see the type's doc; debug builds check it).
        TrustRef(unsafe { &*self.0.get() })
    }
    #[inline(always)]
    pub(crate) fn borrow_mut(&self) -> TrustMut<'_, V> {
        // SAFETY: no other borrow overlaps (see the type's doc; debug builds check it).
        TrustMut(unsafe { &mut *self.0.get() })
    }
    #[inline(always)]
    pub(crate) fn get_mut(&mut self) -> &mut V {
        self.0.get_mut()
    }
    #[inline(always)]
    pub(crate) fn into_inner(self) -> V {
        self.0.into_inner()
    }
}

/// A release build's `Ref`: the same shape, no flag.
#[cfg(not(debug_assertions))]
pub(crate) struct TrustRef<'a, V>(&'a V);

#[cfg(not(debug_assertions))]
impl<V> std::ops::Deref for TrustRef<'_, V> {
    type Target = V;
    #[inline(always)]
    fn deref(&self) -> &V {
        self.0
    }
}

/// A release build's `RefMut`: the same shape, no flag.
#[cfg(not(debug_assertions))]
pub(crate) struct TrustMut<'a, V>(&'a mut V);

#[cfg(not(debug_assertions))]
impl<V> std::ops::Deref for TrustMut<'_, V> {
    type Target = V;
    #[inline(always)]
    fn deref(&self) -> &V {
        self.0
    }
}

#[cfg(not(debug_assertions))]
impl<V> std::ops::DerefMut for TrustMut<'_, V> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut V {
        self.0
    }
}
