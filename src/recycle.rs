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

use std::cell::Cell;
use std::mem::{self, MaybeUninit};
use std::ptr;
use std::rc::Rc;

/// Values up to this size are pooled, in classes of 8 bytes.
const MAX_SIZE: usize = 512;
const CLASSES: usize = MAX_SIZE / 8 + 1;
/// At most this many spare allocations per class (a batch of 1000 tasks fits).
const MAX_PER_CLASS: u32 = 1024;

/// Frees one spare allocation.
type FreeFn = unsafe fn(*mut u8);

/// One class: an intrusive list threaded through the spare allocations' value bytes (every
/// pooled value is at least 8 bytes and 8-aligned, so the next pointer fits).
struct Class {
    head: Cell<*mut u8>,
    len: Cell<u32>,
    /// How to free a spare allocation of this class (any type of its layout will do).
    free: Cell<Option<FreeFn>>,
}

thread_local! {
    /// No destructor, so an access is a plain thread-local load (no registration check).
    static CLASSES_: [Class; CLASSES] = const {
        [const {
            Class { head: Cell::new(ptr::null_mut()), len: Cell::new(0), free: Cell::new(None) }
        }; CLASSES]
    };
    /// Frees the spare allocations when the thread exits; registered by the first `keep`.
    static RELEASE: Release = const { Release };
}

struct Release;

impl Drop for Release {
    fn drop(&mut self) {
        CLASSES_.with(|classes| {
            for class in classes {
                let mut p = class.head.replace(ptr::null_mut());
                class.len.set(MAX_PER_CLASS); // whatever comes later is freed at once
                while !p.is_null() {
                    // SAFETY: `p` is a spare allocation of this class: its first word holds
                    // the next one, and `free` was set when the first one was kept.
                    unsafe {
                        let next = *(p as *const *mut u8);
                        (class.free.get().expect("set with the first spare"))(p);
                        p = next;
                    }
                }
            }
        });
    }
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
    let p = CLASSES_.with(|classes| {
        let c = &classes[class];
        let p = c.head.get();
        if !p.is_null() {
            // SAFETY: a spare allocation's first word links to the next (see `keep`).
            c.head.set(unsafe { *(p as *const *mut u8) });
            c.len.set(c.len.get() - 1);
        }
        p
    });
    if p.is_null() {
        return Rc::new(value);
    }
    // SAFETY: `p` is an `Rc` allocation for a type of `V`'s size and alignment whose value
    // was dropped and whose one strong reference the pool held: writing a `V` there and
    // taking that reference back is `Rc::from_raw`'s allowed case.
    unsafe {
        ptr::write(p as *mut V, value);
        Rc::from_raw(p as *const V)
    }
}

/// Drops `rc`; if it was the only reference (strong and weak), the value is dropped and the
/// allocation kept for [`rc_new`].
#[inline]
pub(crate) fn recycle<V>(rc: Rc<V>) {
    // SAFETY: `drop_in_place` is the value's own drop.
    unsafe { recycle_with(rc, |p| ptr::drop_in_place(p)) }
}

/// [`recycle`], with `drop_value` to drop the value in place (a type's cheaper equivalent of
/// its drop when it knows its fields).
///
/// # Safety
/// `drop_value(p)` must drop the value at `p` exactly as `ptr::drop_in_place(p)` would.
#[inline(always)] // the last drop of every future: its caller already paid for the call
pub(crate) unsafe fn recycle_with<V>(rc: Rc<V>, drop_value: impl FnOnce(*mut V)) {
    let Some(class) = class_of::<V>() else {
        return drop(rc);
    };
    if Rc::strong_count(&rc) != 1 || Rc::weak_count(&rc) != 0 {
        return drop(rc);
    }
    let p = Rc::into_raw(rc) as *mut V;
    // The last reference, so nothing else sees the value; the allocation stays owned (one
    // strong count) by `p`. The value's drop may recycle others: no borrow is held. The
    // memory goes back from a guard, so a drop that unwinds (a user `Drop` panicked; the
    // rest of the value was dropped by its glue) leaks nothing.
    let _reclaim = Reclaim::<V> { p, class };
    drop_value(p);
}

/// Returns an allocation whose value was dropped to its class, or to the allocator.
struct Reclaim<V> {
    p: *mut V,
    class: usize,
}

impl<V> Drop for Reclaim<V> {
    #[inline(always)]
    fn drop(&mut self) {
        if !keep(self.class, self.p as *mut u8, free_spare::<V>) {
            // SAFETY: as in `free_spare`: the value is gone, only the memory is left.
            unsafe { free_spare::<V>(self.p as *mut u8) }
        }
    }
}

/// Puts a spare allocation (value dropped) on its class's list; false when the class is full.
#[inline]
fn keep(class: usize, p: *mut u8, free: FreeFn) -> bool {
    CLASSES_.with(|classes| {
        let c = &classes[class];
        let len = c.len.get();
        if len >= MAX_PER_CLASS {
            return false;
        }
        if c.free.get().is_none() && !first_keep(c, free) {
            return false;
        }
        // SAFETY: the value bytes are ours until `rc_new` takes the allocation back.
        unsafe { *(p as *mut *mut u8) = c.head.get() };
        c.head.set(p);
        c.len.set(len + 1);
        true
    })
}

/// Sets up a class for its first spare; false if the thread is exiting (then nothing is
/// kept: the destructor that frees the spares already ran, or never will).
#[cold]
fn first_keep(c: &Class, free: FreeFn) -> bool {
    // Touching `RELEASE` registers its destructor.
    if RELEASE.try_with(|_| ()).is_err() {
        c.len.set(MAX_PER_CLASS);
        return false;
    }
    c.free.set(Some(free));
    true
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
    fn a_thread_frees_its_spares_when_it_exits() {
        std::thread::spawn(|| {
            let a = rc_new([1u64; 5]);
            let b = rc_new([2u64; 5]);
            recycle(a);
            recycle(b); // two spares; `Release` frees both as the thread exits
            let c = rc_new([3u64; 5]);
            assert_eq!(*c, [3; 5]);
        })
        .join()
        .expect("the thread and its pool's destructor ran");
    }

    /// Drops its counter, then panics.
    struct Boom<'a>(#[allow(dead_code)] Counted<'a>);
    impl Drop for Boom<'_> {
        fn drop(&mut self) {
            panic!("boom");
        }
    }

    fn spares<V>() -> u32 {
        CLASSES_.with(|c| c[class_of::<V>().unwrap()].len.get())
    }

    #[test]
    fn a_value_whose_drop_panics_gives_its_memory_back() {
        let drops = Cell::new(0);
        let before = spares::<Boom>();
        let a = rc_new(Boom(Counted(&drops, [0; 3])));
        let addr = Rc::as_ptr(&a) as usize;
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| recycle(a)));
        assert!(r.is_err(), "the panic goes on");
        assert_eq!(drops.get(), 1, "the rest of the value is dropped");
        assert_eq!(spares::<Boom>(), before + 1, "the allocation is kept");
        let b = rc_new([9u64; 4]);
        assert_eq!(Rc::as_ptr(&b) as usize, addr, "and reused");
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
