//! Host platform services for the stack: entropy from the kernel and a
//! termination flag for long-running programs.

use std::io::Read;

use wolfip_core::rand::EntropySource;

use crate::sys;

/// Entropy from the kernel's `/dev/urandom`.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

impl EntropySource for OsEntropy {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        let filled = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(buf));
        if let Err(e) = filled {
            // A stack keyed with predictable numbers must not start.
            panic!("cannot read /dev/urandom: {e}");
        }
    }
}

/// Makes SIGINT and SIGTERM set a flag instead of killing the process, so a
/// program can flush its capture files and print its counters on the way
/// out. Poll the flag with [`terminating`].
pub fn catch_termination() -> std::io::Result<()> {
    sys::on_termination()
}

/// Whether SIGINT or SIGTERM arrived since [`catch_termination`].
pub fn terminating() -> bool {
    sys::TERMINATE.load(std::sync::atomic::Ordering::SeqCst)
}

/// A [`Stack`](wolfip_core::Stack) on the heap, keyed from the kernel's
/// entropy. The stack is megabytes large with big configurations and
/// `Stack::new` builds it by value, which can overflow the caller's stack
/// (a program's main thread has 8 MiB, a debug build needs room for more
/// than one copy): it is built on a short-lived thread with room for it.
pub fn boxed_stack() -> std::io::Result<Box<wolfip_core::Stack>> {
    let bytes = core::mem::size_of::<wolfip_core::Stack>();
    std::thread::Builder::new()
        .name("wolfip-build".into())
        .stack_size(4 * bytes + (8 << 20))
        .spawn(|| Box::new(wolfip_core::Stack::new(&mut OsEntropy)))?
        .join()
        .map_err(|_| std::io::Error::other("building the stack panicked"))
}
