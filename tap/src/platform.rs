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
