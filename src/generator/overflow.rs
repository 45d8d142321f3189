//! The stack-overflow report: a SIGSEGV/SIGBUS handler, on an alternate signal stack, that
//! names the coroutine whose guard page was hit and aborts (anything else goes to the
//! previous handler).

use std::cell::Cell;
use std::sync::Once;
use std::{fmt, mem};

use super::forced_unwind_type_id;
use super::stacks::guard_hit;

thread_local! {
    static ALTSTACK_CHECKED: Cell<bool> = const { Cell::new(false) };
}

static mut PREV_SEGV: mem::MaybeUninit<libc::sigaction> = mem::MaybeUninit::uninit();
static mut PREV_BUS: mem::MaybeUninit<libc::sigaction> = mem::MaybeUninit::uninit();

/// Installs the SIGSEGV/SIGBUS handler once per process and makes sure this thread has an
/// alternate signal stack (the faulting stack has no room left for the handler).
pub(super) fn install_overflow_handler() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Learn the payload type now, outside any unwinding.
        forced_unwind_type_id();
        // SAFETY: plain sigaction calls; PREV_* are written once, before the handler runs.
        unsafe {
            let mut sa: libc::sigaction = mem::zeroed();
            sa.sa_sigaction = on_fault as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGSEGV, &sa, (&raw mut PREV_SEGV).cast());
            libc::sigaction(libc::SIGBUS, &sa, (&raw mut PREV_BUS).cast());
        }
    });
    if !ALTSTACK_CHECKED.replace(true) {
        // SAFETY: queries, then installs a leaked mapping if the thread has no altstack
        // (threads started by std already have one).
        unsafe {
            let mut old: libc::stack_t = mem::zeroed();
            libc::sigaltstack(std::ptr::null(), &mut old);
            if old.ss_flags & libc::SS_DISABLE != 0 {
                let len = 64 * 1024;
                let mem = libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                );
                if mem != libc::MAP_FAILED {
                    let st = libc::stack_t {
                        ss_sp: mem,
                        ss_flags: 0,
                        ss_size: len,
                    };
                    libc::sigaltstack(&st, std::ptr::null_mut());
                }
            }
        }
    }
}

/// Formats into a fixed buffer: a signal handler must not allocate.
struct FixedBuf {
    buf: [u8; 512],
    len: usize,
}

impl fmt::Write for FixedBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

extern "C" fn on_fault(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    if let Some((size, name)) = guard_hit(addr) {
        use fmt::Write;
        let mut out = FixedBuf {
            buf: [0; 512],
            len: 0,
        };
        let _ = write!(
            out,
            "\ntulip: stack overflow in generator `{name}` (stack size {size} bytes = {} KiB); \
             give it a bigger stack with Generator::with_stack_size\n",
            size / 1024
        );
        // SAFETY: write(2) and abort(3) are async-signal-safe.
        unsafe {
            libc::write(2, out.buf.as_ptr().cast(), out.len);
            libc::abort();
        }
    }
    // Not a coroutine's guard page: put the previous handler back; returning re-runs the
    // faulting access under it (std's own overflow report, or the default action).
    // SAFETY: PREV_* were filled by sigaction before this handler was installed.
    unsafe {
        let prev = if sig == libc::SIGBUS {
            (&raw const PREV_BUS).cast::<libc::sigaction>()
        } else {
            (&raw const PREV_SEGV).cast::<libc::sigaction>()
        };
        libc::sigaction(sig, prev, std::ptr::null_mut());
    }
}
