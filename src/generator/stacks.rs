//! Coroutine stacks: a per-thread pool of guarded mappings, each with its owner's name at
//! its top for the overflow report.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use corosensei::stack::{DefaultStack, Stack, StackPointer};

use super::overflow::install_overflow_handler;
use crate::errors::RuntimeError;

/// Bytes of stack a generator gets unless it asks for another size: enough for a panic with
/// `RUST_BACKTRACE=1` in a debug build (measured: under 24 KiB) ten times over. Reserved
/// address space costs no memory until it is touched.
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;

/// The smallest stack a generator gets, whatever it asks for.
pub const MIN_STACK_SIZE: usize = 16 * 1024;

/// Idle stacks kept per thread; the rest are unmapped when their generator finishes.
const POOL_LIMIT: usize = 1024;

/// Bytes at the top of every pooled stack that hold the owner's name for overflow reports.
const META: usize = 64;

/// Counters of this thread's stack pool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackPoolStats {
    /// Stacks mapped fresh (pool misses).
    pub mapped: u64,
    /// Stacks taken from the pool (hits).
    pub reused: u64,
    /// Stacks idle in the pool now.
    pub idle: usize,
}

/// This thread's stack pool counters (tests use them to check reuse).
pub fn stack_pool_stats() -> StackPoolStats {
    POOL.with(|p| {
        let p = p.borrow();
        StackPoolStats {
            idle: p.free.len(),
            ..p.stats
        }
    })
}

struct Pool {
    free: Vec<PoolStack>,
    stats: StackPoolStats,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool { free: Vec::new(), stats: StackPoolStats { mapped: 0, reused: 0, idle: 0 } })
    };
    /// Guard pages of this thread's stacks: lowest address -> (end of mapping, usable size).
    static GUARDS: RefCell<BTreeMap<usize, (usize, usize)>> = const { RefCell::new(BTreeMap::new()) };
}

fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *PAGE.get_or_init(|| unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize)
}

/// A corosensei stack from the pool, with the owner's name stored at its top.
pub(super) struct PoolStack {
    inner: DefaultStack,
    /// Usable bytes (without the guard page and the name slot).
    pub(super) size: usize,
}

// SAFETY: delegates to DefaultStack (guard page included); the base is lowered by META
// bytes (still aligned) to keep the owner's name out of the coroutine's way.
unsafe impl Stack for PoolStack {
    #[inline]
    fn base(&self) -> StackPointer {
        StackPointer::new(self.inner.base().get() - META).expect("non-null stack base")
    }

    #[inline]
    fn limit(&self) -> StackPointer {
        self.inner.limit()
    }
}

impl PoolStack {
    fn map(size: usize) -> anyhow::Result<PoolStack> {
        let page = page_size();
        let too_big = || {
            RuntimeError::new(format!(
                "coroutine stack size {size} is larger than a stack can be"
            ))
        };
        // DefaultStack::new panics on overflow: check first.
        let rounded = size
            .checked_add(META + page - 1)
            .filter(|n| *n <= isize::MAX as usize / 2)
            .ok_or_else(too_big)?
            & !(page - 1);
        install_overflow_handler();
        let inner = DefaultStack::new(rounded).map_err(|e| map_error(rounded, e))?;
        let stack = PoolStack {
            inner,
            size: rounded - META,
        };
        let lo = stack.inner.limit().get();
        let end = stack.inner.base().get();
        GUARDS.with(|g| g.borrow_mut().insert(lo, (end, stack.size)));
        stack.set_owner("<idle>");
        Ok(stack)
    }

    fn name_slot(&self) -> *mut &'static str {
        (self.inner.base().get() - META) as *mut &'static str
    }

    /// Records who runs on this stack, for the overflow report.
    pub(super) fn set_owner(&self, name: &'static str) {
        // SAFETY: the slot is inside the mapping, above the coroutine's base.
        unsafe { self.name_slot().write(name) }
    }

    pub(super) fn lowest_usable(&self) -> usize {
        self.inner.limit().get() + page_size()
    }
}

impl Drop for PoolStack {
    fn drop(&mut self) {
        let lo = self.inner.limit().get();
        let _ = GUARDS.try_with(|g| g.borrow_mut().remove(&lo));
    }
}

fn map_error(size: usize, e: std::io::Error) -> anyhow::Error {
    if e.raw_os_error() == Some(libc::ENOMEM) {
        let max = std::fs::read_to_string("/proc/sys/vm/max_map_count")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "?".into());
        RuntimeError::new(format!(
            "cannot map a {size}-byte coroutine stack: {e}; too many live coroutines \
             (Linux allows vm.max_map_count = {max} memory mappings per process and each \
             coroutine stack takes 2) or not enough address space"
        ))
        .into()
    } else {
        RuntimeError::new(format!("cannot map a {size}-byte coroutine stack: {e}")).into()
    }
}

pub(super) fn take_stack(size: usize) -> anyhow::Result<PoolStack> {
    let page = page_size();
    let want = size
        .checked_add(META + page - 1)
        .map(|n| (n & !(page - 1)) - META);
    let reused = POOL.with(|p| {
        let mut p = p.borrow_mut();
        let want = want?;
        let i = match p.free.last() {
            Some(s) if s.size == want => p.free.len() - 1,
            _ => p.free.iter().rposition(|s| s.size == want)?,
        };
        p.stats.reused += 1;
        Some(p.free.swap_remove(i))
    });
    if let Some(stack) = reused {
        return Ok(stack);
    }
    let stack = PoolStack::map(size)?;
    POOL.with(|p| p.borrow_mut().stats.mapped += 1);
    Ok(stack)
}

pub(super) fn release_stack(stack: PoolStack) {
    stack.set_owner("<idle>");
    let _ = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        if p.free.len() < POOL_LIMIT {
            p.free.push(stack);
        }
        // else: dropped here, unmapped
    });
}

/// The overflowing stack's (usable size, owner name), if `addr` is in one of this thread's
/// guard pages.
pub(super) fn guard_hit(addr: usize) -> Option<(usize, &'static str)> {
    GUARDS
        .try_with(|g| {
            let g = g.try_borrow().ok()?;
            let (&lo, &(end, size)) = g.range(..=addr).next_back()?;
            if addr >= lo + page_size() {
                return None;
            }
            // SAFETY: the name slot of a live mapping, written at map time.
            let name = unsafe { *((end - META) as *const &'static str) };
            Some((size, name))
        })
        .ok()
        .flatten()
}
