//! A per-thread pool of `Rc` allocations (layer 0, used by futures and tasks).
//!
//! A future or a task lives in one `Rc` allocation, and the hot workloads make and drop one
//! per handoff or per task: malloc and free then cost as much as the rest of the handoff, and
//! a batch of 1000 tasks goes past glibc's small per-thread cache into its slow path. So the
//! last handle of a future drops the value in place and keeps the allocation here, and the
//! next future of the same size and alignment is written into it.
//!
//! `Rc::from_raw` allows a pointer from `Rc::<U>::into_raw` when `U` has the size and
//! alignment of `T`, so one class serves every type of one layout. A pooled allocation still
//! counts one strong reference; only this module holds it, as a raw pointer.

use std::cell::{Cell, RefCell};
use std::mem::{self, MaybeUninit};
use std::ptr;
use std::rc::Rc;

/// Values up to this size are pooled, in classes of 8 bytes.
const MAX_SIZE: usize = 512;
const CLASSES: usize = MAX_SIZE / 8 + 1;
/// At most this many spare allocations per class (a batch of 1000 tasks fits).
const MAX_PER_CLASS: usize = 1024;

/// Frees one spare allocation.
type FreeFn = unsafe fn(*mut u8);

struct Pool {
    /// Spare allocations by class.
    spare: RefCell<[Vec<*mut u8>; CLASSES]>,
    /// How to free a spare allocation of each class (any type of the class's layout will do).
    free: [Cell<Option<FreeFn>>; CLASSES],
}

impl Drop for Pool {
    fn drop(&mut self) {
        for (spare, free) in self.spare.get_mut().iter_mut().zip(&self.free) {
            for p in spare.drain(..) {
                if let Some(free) = free.get() {
                    // SAFETY: every spare pointer came from `recycle` for this class's layout.
                    unsafe { free(p) }
                }
            }
        }
    }
}

thread_local! {
    static POOL: Pool = const {
        Pool {
            spare: RefCell::new([const { Vec::new() }; CLASSES]),
            free: [const { Cell::new(None) }; CLASSES],
        }
    };
}

/// The class of `V`, if values of its layout are pooled.
const fn class_of<V>() -> Option<usize> {
    let size = mem::size_of::<V>();
    if size == 0 || size > MAX_SIZE || !size.is_multiple_of(8) || mem::align_of::<V>() != 8 {
        None
    } else {
        Some(size / 8)
    }
}

/// Frees a spare allocation made for a `V`.
unsafe fn free_spare<V>(p: *mut u8) {
    // SAFETY: `p` came from `Rc::<V>::into_raw` and its value was dropped; `MaybeUninit<V>`
    // has `V`'s layout and no drop glue, so this only releases the memory.
    drop(unsafe { Rc::from_raw(p as *const MaybeUninit<V>) })
}

/// `Rc::new(value)`, in a spare allocation of the same layout when there is one.
#[inline]
pub(crate) fn rc_new<V>(value: V) -> Rc<V> {
    let Some(class) = class_of::<V>() else {
        return Rc::new(value);
    };
    let spare = POOL
        .try_with(|pool| pool.spare.borrow_mut()[class].pop())
        .ok()
        .flatten();
    match spare {
        None => Rc::new(value),
        Some(p) => {
            // SAFETY: `p` is an `Rc` allocation for a type of `V`'s size and alignment whose
            // value was dropped and whose one strong reference the pool held: writing a `V`
            // there and taking that reference back is `Rc::from_raw`'s allowed case.
            unsafe {
                ptr::write(p as *mut V, value);
                Rc::from_raw(p as *const V)
            }
        }
    }
}

/// Drops `rc`; if it was the only reference (strong and weak), the value is dropped and the
/// allocation kept for [`rc_new`].
#[inline]
pub(crate) fn recycle<V>(rc: Rc<V>) {
    let Some(class) = class_of::<V>() else {
        return drop(rc);
    };
    if Rc::strong_count(&rc) != 1 || Rc::weak_count(&rc) != 0 {
        return drop(rc);
    }
    let p = Rc::into_raw(rc) as *mut V;
    // SAFETY: the last reference, so nothing else sees the value; the allocation stays
    // owned (one strong count) by `p`. The value's drop may recycle others: no borrow is held.
    unsafe { ptr::drop_in_place(p) };
    let kept = POOL
        .try_with(|pool| {
            let mut spare = pool.spare.borrow_mut();
            let spare = &mut spare[class];
            if spare.len() >= MAX_PER_CLASS {
                return false;
            }
            if spare.capacity() == 0 {
                pool.free[class].set(Some(free_spare::<V>));
            }
            spare.push(p as *mut u8);
            true
        })
        .unwrap_or(false);
    if !kept {
        // SAFETY: as in `free_spare`: the value is gone, only the memory is left.
        unsafe { free_spare::<V>(p as *mut u8) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counted<'a>(&'a Cell<u32>, #[allow(dead_code)] [u64; 3]);
    impl Drop for Counted<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn a_recycled_allocation_is_reused_by_a_type_of_the_same_layout() {
        let drops = Cell::new(0);
        let a = rc_new(Counted(&drops, [1, 2, 3]));
        let addr = Rc::as_ptr(&a) as usize;
        recycle(a);
        assert_eq!(drops.get(), 1, "the value is dropped at once");
        let b = rc_new([7u64; 4]); // 32 bytes, like `Counted`
        assert_eq!(Rc::as_ptr(&b) as usize, addr);
        assert_eq!(*b, [7; 4]);
        assert_eq!(Rc::strong_count(&b), 1);
        assert_eq!(Rc::weak_count(&b), 0);
    }

    #[test]
    fn shared_values_are_not_recycled() {
        let drops = Cell::new(0);
        let a = rc_new(Counted(&drops, [0; 3]));
        let b = a.clone();
        recycle(a);
        assert_eq!(drops.get(), 0);
        let w = Rc::downgrade(&b);
        recycle(b);
        assert_eq!(drops.get(), 1, "dropped normally");
        assert!(w.upgrade().is_none());
    }
}
