//! Network namespaces for tests: a private, empty network stack per thread,
//! so TAP interfaces and addresses never touch the host's.

use std::fs::OpenOptions;

use crate::{sys, TUN_PATH};

/// Moves the **calling thread** into a new, empty network namespace and
/// brings its loopback interface up, so `127.0.0.1` works there.
///
/// Precisely, `unshare(CLONE_NEWNET)` changes the network namespace of the
/// calling thread only:
///
/// * everything this thread does afterwards (creating sockets, opening TAP
///   devices, interface ioctls) happens in the new namespace;
/// * threads it spawns afterwards, and processes it starts afterwards
///   (e.g. `std::process::Command::new("ip")`), inherit the new namespace;
/// * other threads of the process, including the one that spawned it, stay
///   where they were, and so do sockets and descriptors opened before the
///   call;
/// * there is no way back for the thread short of `setns(2)`, so call this
///   from a dedicated thread (e.g. one spawned by a test), not from `main`
///   or a shared worker.
///
/// The namespace disappears when its last thread and process exit and its
/// last socket or device is closed, taking its interfaces with it.
///
/// Needs `CAP_SYS_ADMIN` (in practice: root).
pub fn unshare_net() -> std::io::Result<()> {
    sys::unshare(libc::CLONE_NEWNET)?;
    sys::update_if_flags("lo", |f| f | libc::IFF_UP as libc::c_short)
}

/// Whether the process runs with effective user id 0.
pub fn is_root() -> bool {
    sys::geteuid() == 0
}

/// Whether `/dev/net/tun` can be opened for reading and writing (opening it
/// creates nothing; the descriptor is closed again at once).
pub fn tun_available() -> bool {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(TUN_PATH)
        .is_ok()
}
