//! Coroutine stacks: slots carved from large arenas, each with a guard page below it and its
//! owner's name at its top for the overflow report.
//!
//! **Arenas.** An arena is one `mmap` (read/write, private, anonymous, `MAP_NORESERVE`,
//! `MADV_NOHUGEPAGE`) of up to 4 GiB of address space, cut into slots of one size class: a
//! guard page, then the usable stack. Slots are carved one by one as they are first needed;
//! a slot is never unmapped, it goes back to a free list. A generator asking for a bigger
//! stack ([`Generator::with_stack_size`](super::Generator::with_stack_size)) gets a slot from
//! the arenas of its own size class, guarded the same way.
//!
//! **Guards.** Where the kernel supports it (Linux >= 6.13) the guard page is installed with
//! `madvise(MADV_GUARD_INSTALL)`: a marker in the page tables, not a mapping, so a million
//! guarded stacks keep `/proc/self/maps` at a few dozen lines and the only ceiling is memory
//! (a suspended task costs about one touched stack page plus its share of page tables).
//! Support is detected once per process by trying it on a scratch page (the guard must make
//! `write(2)` from that page fail with `EFAULT`), not from the kernel version. Elsewhere, or
//! with `TULIP_STACK_GUARD=mprotect` in the environment (read once, for testing), the guard
//! page is `mprotect(PROT_NONE)`: the same arenas, but two mappings per slot, so Linux's
//! `vm.max_map_count` (65,530 by default) caps the stacks again. tulip then refuses the next
//! stack itself, with a `RuntimeError` naming the limit and `sysctl vm.max_map_count`, at
//! (max_map_count - mappings in use at the first stack - 1,000) / 2 stacks, before the
//! kernel's `ENOMEM` would also break `malloc` for the rest of the process.
//! `TULIP_STACK_LIMIT=N` (read once) lowers that cap to N stacks, with either guard.
//!
//! **Memory.** A freed slot goes on top of its thread's cache (LIFO, up to 1,024 slots per
//! size class: the next coroutine reuses a stack whose pages are already there). Past that,
//! the oldest half of the cache moves to the process-wide free list, which keeps up to 1,024
//! slots per size class as they are; the memory of any slot beyond that is given back with
//! `MADV_DONTNEED` (the guard stays). So what stays resident after a burst is the pages the
//! coroutines touched in those slots (2,048 per size class plus 1,024 per thread), the page
//! tables of every slot ever carved, and the arenas' address space (which costs nothing).
//!
//! **Threads.** Arenas and the free lists are process-wide, so a stack may be freed on any
//! thread: it goes into that thread's cache, and a thread's cache moves to the shared free
//! list when the thread exits. Taking and freeing a stack touch only the thread's cache,
//! except when it is empty or full (then one lock, for a batch of slots).
//!
//! The overflow handler finds a slot from a faulting address with no lock and no allocation:
//! the arenas are published in a fixed table of atomics, and a slot is arena base + a
//! multiple of its size.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use corosensei::stack::{Stack, StackPointer};

use super::overflow::install_overflow_handler;
use crate::errors::RuntimeError;

/// Bytes of stack a generator gets unless it asks for another size: enough for a panic with
/// `RUST_BACKTRACE=1` in a debug build (measured: under 24 KiB) with room to spare, and
/// small enough that a million suspended tasks cost 0.14 KiB of page tables each.
/// Reserved address space costs no memory until it is touched.
pub const DEFAULT_STACK_SIZE: usize = 64 * 1024;

/// The smallest stack a generator gets, whatever it asks for.
pub const MIN_STACK_SIZE: usize = 16 * 1024;

/// Idle slots a thread keeps per size class; past that, the oldest half goes to the shared
/// free list.
const CACHE_LIMIT: usize = 1024;

/// Idle slots the shared free list keeps resident per size class; the rest are given back.
const HOT_LIMIT: usize = 1024;

/// Slots a thread takes from the shared free list at once.
const REFILL: usize = 64;

/// Address space of one arena (less if the system refuses it).
const ARENA_BYTES: usize = 4 << 30;

/// Arenas the overflow handler can know of.
const MAX_ARENAS: usize = 4096;

/// Bytes at the top of every slot that hold the owner's name for overflow reports.
const META: usize = 64;

/// Mappings left for the rest of the process when the fallback guard caps the stacks.
const MAP_HEADROOM: usize = 1000;

/// `madvise` advice that installs guard markers (Linux 6.13, not in every libc yet).
const MADV_GUARD_INSTALL: libc::c_int = 102;

/// How stack guard pages are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackGuard {
    /// `madvise(MADV_GUARD_INSTALL)`: no mapping per stack.
    Madvise,
    /// `mprotect(PROT_NONE)`: two mappings per stack, capped below `vm.max_map_count`.
    Mprotect,
}

/// Counters of this thread's stack cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackPoolStats {
    /// Slots this thread took from the shared arenas (fresh or freed by other threads).
    pub mapped: u64,
    /// Stacks taken from this thread's cache (hits).
    pub reused: u64,
    /// Slots idle in this thread's cache now.
    pub idle: usize,
}

/// Process-wide counters of the stack arenas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackArenaStats {
    /// How guard pages are made in this process.
    pub guard: StackGuard,
    /// Slots carved so far (each is a live stack or idle in some free list).
    pub carved: usize,
    /// The most slots this process will carve.
    pub limit: usize,
    /// Idle slots in the shared free list (not in a thread's cache).
    pub shared_idle: usize,
    /// Of those, slots whose memory was given back.
    pub shared_cold: usize,
    /// Arenas mapped.
    pub arenas: usize,
}

/// This thread's stack cache counters (tests use them to check reuse).
pub fn stack_pool_stats() -> StackPoolStats {
    CACHE.with(|c| {
        let c = c.borrow();
        StackPoolStats {
            idle: c.classes.iter().map(|k| k.free.len()).sum(),
            ..c.stats
        }
    })
}

/// The process's stack arena counters.
pub fn stack_arena_stats() -> StackArenaStats {
    let cfg = config();
    let s = lock_shared();
    StackArenaStats {
        guard: cfg.guard,
        carved: s.carved,
        limit: cfg.limit,
        shared_idle: s.classes.iter().map(|k| k.hot.len() + k.cold.len()).sum(),
        shared_cold: s.classes.iter().map(|k| k.cold.len()).sum(),
        arenas: ARENA_COUNT.load(Ordering::Acquire),
    }
}

fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *PAGE.get_or_init(|| unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize)
}

// ---- configuration, decided once per process ----

struct Config {
    guard: StackGuard,
    limit: usize,
    /// Why the limit is what it is, for the refusal message.
    limit_reason: String,
}

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let forced = std::env::var("TULIP_STACK_GUARD").is_ok_and(|v| v == "mprotect");
        let guard = if !forced && madvise_guard_works() {
            StackGuard::Madvise
        } else {
            StackGuard::Mprotect
        };
        let user = std::env::var("TULIP_STACK_LIMIT")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok());
        let (mut limit, mut limit_reason) = (usize::MAX, String::new());
        if guard == StackGuard::Mprotect {
            let max = max_map_count();
            let in_use = std::fs::read_to_string("/proc/self/maps")
                .map(|m| m.lines().count())
                .unwrap_or(0);
            limit = max.saturating_sub(in_use + MAP_HEADROOM) / 2;
            limit_reason = format!(
                "each stack takes 2 of the vm.max_map_count = {max} memory mappings Linux \
                 allows a process, its guard page being an mprotect ({}); raise it with \
                 `sysctl vm.max_map_count=N`",
                if forced {
                    "TULIP_STACK_GUARD=mprotect"
                } else {
                    "this kernel has no MADV_GUARD_INSTALL, Linux >= 6.13"
                }
            );
        }
        if let Some(n) = user.filter(|n| *n < limit) {
            limit = n;
            limit_reason = format!("set by TULIP_STACK_LIMIT={n}");
        }
        Config {
            guard,
            limit,
            limit_reason,
        }
    })
}

fn max_map_count() -> usize {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(65_530)
}

/// Whether `MADV_GUARD_INSTALL` works here: on a scratch page it must succeed and then make
/// the kernel's own access to the page fail (a write(2) from it gives `EFAULT`).
fn madvise_guard_works() -> bool {
    let page = page_size();
    // SAFETY: a private scratch mapping and pipe, both released before returning; the guarded
    // page is only read by the kernel, which reports EFAULT instead of faulting.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            page,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return false;
        }
        let mut ok = libc::madvise(p, page, MADV_GUARD_INSTALL) == 0;
        if ok {
            let mut fds = [0; 2];
            ok = libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) == 0;
            if ok {
                let n = libc::write(fds[1], p, 1);
                ok =
                    n == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EFAULT);
                libc::close(fds[0]);
                libc::close(fds[1]);
            }
        }
        libc::munmap(p, page);
        ok
    }
}

// ---- the arena table the fault handler reads ----

struct ArenaEntry {
    base: AtomicUsize,
    end: AtomicUsize,
    slot: AtomicUsize,
}

static ARENAS: [ArenaEntry; MAX_ARENAS] = [const {
    ArenaEntry {
        base: AtomicUsize::new(0),
        end: AtomicUsize::new(0),
        slot: AtomicUsize::new(0),
    }
}; MAX_ARENAS];

/// Entries of `ARENAS` filled in (published with Release after the entry).
static ARENA_COUNT: AtomicUsize = AtomicUsize::new(0);

/// The overflowing stack's (usable size, owner name), if `addr` is in a slot's guard page.
/// Called from the signal handler: atomics and plain reads only.
pub(super) fn guard_hit(addr: usize) -> Option<(usize, &'static str)> {
    let page = page_size_for_handler();
    let n = ARENA_COUNT.load(Ordering::Acquire);
    for a in &ARENAS[..n.min(MAX_ARENAS)] {
        let (base, end) = (
            a.base.load(Ordering::Relaxed),
            a.end.load(Ordering::Relaxed),
        );
        if addr < base || addr >= end {
            continue;
        }
        let slot = a.slot.load(Ordering::Relaxed);
        let lo = base + (addr - base) / slot * slot;
        if addr >= lo + page {
            return None;
        }
        let meta = lo + slot - META;
        // SAFETY: the name slot is inside the arena, which is never unmapped; it holds a
        // `&'static str` written by `write_name`, or zeros (given back, never taken since).
        let name = if unsafe { (meta as *const usize).read() } == 0 {
            "<unknown>"
        } else {
            // SAFETY: see above: it holds a name.
            unsafe { read_name(meta) }
        };
        return Some((slot - page - META, name));
    }
    None
}

fn page_size_for_handler() -> usize {
    PAGE_FOR_HANDLER.load(Ordering::Relaxed)
}

/// The page size, for the handler (no `OnceLock` there); set before any arena is published.
static PAGE_FOR_HANDLER: AtomicUsize = AtomicUsize::new(4096);

// ---- shared free lists ----

struct SharedClass {
    /// Bytes per slot, guard page included.
    slot: usize,
    /// Idle slots with their memory (LIFO: the most recently freed at the end).
    hot: Vec<usize>,
    /// Idle slots whose memory was given back.
    cold: Vec<usize>,
    /// The uncarved rest of this class's newest arena.
    next: usize,
    end: usize,
}

struct Shared {
    classes: Vec<SharedClass>,
    carved: usize,
}

static SHARED: Mutex<Shared> = Mutex::new(Shared {
    classes: Vec::new(),
    carved: 0,
});

fn lock_shared() -> std::sync::MutexGuard<'static, Shared> {
    // A panic while holding it leaves consistent lists (pushes and pops only).
    SHARED.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn class(&mut self, slot: usize) -> &mut SharedClass {
        let i = match self.classes.iter().position(|c| c.slot == slot) {
            Some(i) => i,
            None => {
                self.classes.push(SharedClass {
                    slot,
                    hot: Vec::new(),
                    cold: Vec::new(),
                    next: 0,
                    end: 0,
                });
                self.classes.len() - 1
            }
        };
        &mut self.classes[i]
    }

    /// Puts idle slots back: resident ones while the class has fewer than `HOT_LIMIT`, the
    /// rest after giving their memory back.
    fn give_back(&mut self, slot: usize, slots: &mut Vec<usize>) {
        let class = self.class(slot);
        let room = HOT_LIMIT.saturating_sub(class.hot.len()).min(slots.len());
        let cold_from = slots.len() - room;
        // the most recently freed (at the end) stay resident
        class.hot.extend(slots.drain(cold_from..));
        if slots.is_empty() {
            return;
        }
        slots.sort_unstable();
        let mut i = 0;
        while i < slots.len() {
            let mut j = i + 1;
            while j < slots.len() && slots[j] == slots[j - 1] + slot {
                j += 1;
            }
            // SAFETY: idle slots of a live arena, used by no coroutine; guard markers and
            // PROT_NONE survive MADV_DONTNEED, the data is zeroed on the next touch.
            unsafe { libc::madvise(slots[i] as *mut _, (j - i) * slot, libc::MADV_DONTNEED) };
            i = j;
        }
        class.cold.append(slots);
    }
}

// ---- this thread's cache ----

struct CacheClass {
    slot: usize,
    /// Idle slots, LIFO (the most recently freed at the end).
    free: Vec<usize>,
}

struct Cache {
    classes: Vec<CacheClass>,
    stats: StackPoolStats,
}

impl Cache {
    fn class(&mut self, slot: usize) -> &mut CacheClass {
        let i = match self.classes.iter().position(|c| c.slot == slot) {
            Some(i) => i,
            None => {
                self.classes.push(CacheClass {
                    slot,
                    free: Vec::new(),
                });
                self.classes.len() - 1
            }
        };
        &mut self.classes[i]
    }
}

impl Drop for Cache {
    fn drop(&mut self) {
        // The thread exits: its idle slots go to the shared free list.
        let mut shared = lock_shared();
        for c in &mut self.classes {
            shared.give_back(c.slot, &mut c.free);
        }
    }
}

thread_local! {
    static CACHE: RefCell<Cache> = const {
        RefCell::new(Cache {
            classes: Vec::new(),
            stats: StackPoolStats { mapped: 0, reused: 0, idle: 0 },
        })
    };
}

/// The slot size (guard page + usable stack + name) for a stack of `size` bytes.
fn slot_size(size: usize) -> Option<usize> {
    let page = page_size();
    size.checked_add(META + 2 * page - 1)
        .filter(|n| *n <= isize::MAX as usize / 2)
        .map(|n| n & !(page - 1))
}

/// Usable bytes of the stack a generator asking for `size` bytes gets.
pub(super) fn usable_size(size: usize) -> Option<usize> {
    slot_size(size).map(|s| s - page_size() - META)
}

/// A slot of an arena, owned by one coroutine.
pub(super) struct PoolStack {
    /// Lowest address of the slot (its guard page).
    lo: usize,
    slot: usize,
    /// Usable bytes (without the guard page and the name).
    pub(super) size: usize,
}

// SAFETY: the slot is mapped read/write above its guard page for as long as this value
// owns it (arenas are never unmapped); the base is lowered by META bytes (still aligned)
// to keep the owner's name out of the coroutine's way.
unsafe impl Stack for PoolStack {
    #[inline]
    fn base(&self) -> StackPointer {
        StackPointer::new(self.lo + self.slot - META).expect("non-null stack base")
    }

    #[inline]
    fn limit(&self) -> StackPointer {
        StackPointer::new(self.lo + self.slot - META - self.size).expect("non-null stack limit")
    }
}

impl PoolStack {
    fn name_slot(&self) -> *mut usize {
        (self.lo + self.slot - META) as *mut usize
    }

    /// Address of the owner's name, for an inline sub to put its own there for a while.
    pub(super) fn name_addr(&self) -> usize {
        self.name_slot() as usize
    }

    /// Records who runs on this stack, for the overflow report.
    pub(super) fn set_owner(&self, name: &'static str) {
        // SAFETY: the name slot is inside this slot, above the coroutine's base.
        unsafe { write_name(self.name_addr(), name) }
    }

    pub(super) fn lowest_usable(&self) -> usize {
        self.lo + page_size()
    }
}

/// Writes `name` at `addr`, a name slot (two words: pointer, length).
///
/// # Safety
/// `addr` must be the name slot of a slot owned by the caller's coroutine.
pub(super) unsafe fn write_name(addr: usize, name: &'static str) {
    let p = addr as *mut usize;
    // SAFETY: per the contract; the handler reads it only on this thread's fault.
    unsafe {
        p.write(name.as_ptr() as usize);
        p.add(1).write(name.len());
    }
}

/// Reads the name at a name slot written by `write_name`.
///
/// # Safety
/// As for `write_name`, and the slot must hold a name.
pub(super) unsafe fn read_name(addr: usize) -> &'static str {
    let p = addr as *const usize;
    // SAFETY: per the contract, the two words are a `&'static str`'s pointer and length.
    unsafe {
        std::str::from_utf8_unchecked(std::slice::from_raw_parts(
            p.read() as *const u8,
            p.add(1).read(),
        ))
    }
}

impl Drop for PoolStack {
    fn drop(&mut self) {
        let (lo, slot) = (self.lo, self.slot);
        let cached = CACHE.try_with(|c| {
            let mut c = c.borrow_mut();
            let class = c.class(slot);
            class.free.push(lo);
            if class.free.len() > CACHE_LIMIT {
                // the oldest half goes to the shared list
                let mut old: Vec<usize> = class.free.drain(..CACHE_LIMIT / 2).collect();
                lock_shared().give_back(slot, &mut old);
            }
        });
        if cached.is_err() {
            // This thread's cache is gone (thread exit): straight to the shared list.
            lock_shared().give_back(slot, &mut vec![lo]);
        }
    }
}

fn too_big(size: usize) -> anyhow::Error {
    RuntimeError::new(format!(
        "coroutine stack size {size} is larger than a stack can be"
    ))
    .into()
}

/// A stack of at least `size` usable bytes: from this thread's cache, else the shared free
/// list, else carved from an arena.
pub(super) fn take_stack(size: usize) -> anyhow::Result<PoolStack> {
    let slot = slot_size(size).ok_or_else(|| too_big(size))?;
    let stack = |lo| PoolStack {
        lo,
        slot,
        size: slot - page_size() - META,
    };
    let hit = CACHE.with(|c| {
        let mut c = c.borrow_mut();
        let lo = c.class(slot).free.pop()?;
        c.stats.reused += 1;
        Some(lo)
    });
    match hit {
        Some(lo) => Ok(stack(lo)),
        None => take_cold(slot).map(stack),
    }
}

/// The cache had none: refill it from the shared list, or carve fresh slots.
#[cold]
fn take_cold(slot: usize) -> anyhow::Result<usize> {
    // Ordered coldest first: the end is the hottest, taken now, the rest stay in that order.
    let mut batch = Vec::new();
    let fresh = {
        let mut shared = lock_shared();
        let class = shared.class(slot);
        let hot = REFILL.min(class.hot.len());
        let cold = (REFILL - hot).min(class.cold.len());
        batch.extend(class.cold.drain(class.cold.len() - cold..));
        batch.extend(class.hot.drain(class.hot.len() - hot..));
        if batch.is_empty() {
            Some(carve(&mut shared, slot)?)
        } else {
            None
        }
    };
    if let Some((lo, n)) = fresh {
        if let Err(e) = install_guards(lo, slot, n) {
            // Unusable without their guards: leave the slots out (address space only).
            return Err(RuntimeError::new(format!(
                "cannot install a coroutine stack's guard page: {e}"
            ))
            .into());
        }
        batch.extend((0..n).rev().map(|i| lo + i * slot));
    }
    let lo = batch.pop().expect("a non-empty batch");
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        c.stats.mapped += 1 + batch.len() as u64;
        c.class(slot).free.extend(batch);
    });
    Ok(lo)
}

/// Up to `REFILL` fresh, contiguous slots of `slot` bytes (first, count) from the class's
/// newest arena (mapping one if full), within the process's limit.
fn carve(shared: &mut Shared, slot: usize) -> anyhow::Result<(usize, usize)> {
    let cfg = config();
    if shared.carved >= cfg.limit {
        return Err(RuntimeError::new(format!(
            "cannot make another coroutine stack: {} stacks exist, the limit is {} ({})",
            shared.carved, cfg.limit, cfg.limit_reason
        ))
        .into());
    }
    let class = shared.class(slot);
    if class.next + slot > class.end {
        let (base, len) = map_arena(slot)?;
        class.next = base;
        class.end = base + len;
    }
    let n = REFILL
        .min((class.end - class.next) / slot)
        .min(cfg.limit - shared.carved);
    let class = shared.class(slot);
    let lo = class.next;
    class.next += n * slot;
    shared.carved += n;
    Ok((lo, n))
}

/// Maps an arena for slots of `slot` bytes and publishes it to the fault handler.
fn map_arena(slot: usize) -> anyhow::Result<(usize, usize)> {
    install_overflow_handler();
    PAGE_FOR_HANDLER.store(page_size(), Ordering::Relaxed);
    let i = ARENA_COUNT.load(Ordering::Relaxed);
    if i >= MAX_ARENAS {
        return Err(RuntimeError::new(format!(
            "cannot map another coroutine stack arena: all {MAX_ARENAS} are in use"
        ))
        .into());
    }
    let mut len = (ARENA_BYTES / slot).max(1) * slot;
    let base = loop {
        // SAFETY: a fresh anonymous mapping; nothing else refers to it.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p != libc::MAP_FAILED {
            break p as usize;
        }
        let e = std::io::Error::last_os_error();
        if len > slot && e.raw_os_error() == Some(libc::ENOMEM) {
            len = (len / 2 / slot).max(1) * slot; // the system refuses that much: try less
            continue;
        }
        return Err(map_error(slot, e));
    };
    // SAFETY: advice on the mapping just made; huge pages would make every stack 2 MiB.
    unsafe { libc::madvise(base as *mut _, len, libc::MADV_NOHUGEPAGE) };
    let a = &ARENAS[i];
    a.base.store(base, Ordering::Relaxed);
    a.end.store(base + len, Ordering::Relaxed);
    a.slot.store(slot, Ordering::Relaxed);
    ARENA_COUNT.store(i + 1, Ordering::Release);
    Ok((base, len))
}

/// Installs the guard pages of `n` fresh slots from `lo` on: with `MADV_GUARD_INSTALL`, one
/// `process_madvise` for all of them where it takes that advice (Linux 6.13 does), else one
/// call per slot.
fn install_guards(lo: usize, slot: usize, n: usize) -> std::io::Result<()> {
    let page = page_size();
    let guard = config().guard;
    if guard == StackGuard::Madvise && n > 1 {
        // Opened and closed per batch (once per 64 slots): a process keeps no fd of tulip's.
        // SAFETY: pidfd_open of this process.
        let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
        if pidfd >= 0 {
            let iov: Vec<libc::iovec> = (0..n)
                .map(|i| libc::iovec {
                    iov_base: (lo + i * slot) as *mut _,
                    iov_len: page,
                })
                .collect();
            // SAFETY: the iovecs name the guard pages of fresh slots no coroutine uses yet.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_process_madvise,
                    pidfd,
                    iov.as_ptr(),
                    n,
                    MADV_GUARD_INSTALL,
                    0,
                )
            };
            // SAFETY: the pidfd opened above.
            unsafe { libc::close(pidfd as libc::c_int) };
            if r == (n * page) as libc::c_long {
                return Ok(());
            }
            // refused or partial: installing again is harmless, so do each one below
        }
    }
    for i in 0..n {
        let p = (lo + i * slot) as *mut libc::c_void;
        // SAFETY: the guard page of a freshly carved slot, which no coroutine uses yet.
        let r = unsafe {
            match guard {
                StackGuard::Madvise => libc::madvise(p, page, MADV_GUARD_INSTALL),
                StackGuard::Mprotect => libc::mprotect(p, page, libc::PROT_NONE),
            }
        };
        if r != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

fn map_error(slot: usize, e: std::io::Error) -> anyhow::Error {
    if e.raw_os_error() == Some(libc::ENOMEM) {
        RuntimeError::new(format!(
            "cannot map an arena for {slot}-byte coroutine stacks: {e}; not enough address \
             space, or too many memory mappings (Linux allows vm.max_map_count = {} per \
             process)",
            max_map_count()
        ))
        .into()
    } else {
        RuntimeError::new(format!(
            "cannot map an arena for {slot}-byte coroutine stacks: {e}"
        ))
        .into()
    }
}
