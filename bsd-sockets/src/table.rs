//! The descriptor table: a fixed number of slots (`WOLFIP_FD_MAX`, Zephyr's
//! `ZVFS_OPEN_MAX`), numbered from `FD_BASE` so that on a hosted system our
//! descriptors stay apart from the host's files and sockets.

use crate::errno::Errno;
use wolfip_core::config::env_or;
use wolfip_core::{TcpHandle, UdpHandle};

/// Descriptors in the table. Zephyr: `ZVFS_OPEN_MAX`.
pub const FD_MAX: usize = env_or(option_env!("WOLFIP_FD_MAX"), 32);
/// The number of the first descriptor (hosted builds keep ours above the
/// host's usual range, so both can be told apart).
pub const FD_BASE: i32 = env_or(option_env!("WOLFIP_FD_BASE"), 1000) as i32;

const _: () = assert!(
    FD_MAX >= 1 && FD_MAX <= 65536,
    "WOLFIP_FD_MAX must be 1..=65536"
);
const _: () = assert!(
    FD_BASE >= 3 && FD_BASE as usize + FD_MAX < i32::MAX as usize,
    "WOLFIP_FD_BASE out of range"
);

/// The protocol socket behind a descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// A TCP socket (`SOCK_STREAM`).
    Tcp(TcpHandle),
    /// A UDP socket (`SOCK_DGRAM`).
    Udp(UdpHandle),
}

/// What a descriptor remembers beyond its protocol socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The protocol socket.
    pub proto: Proto,
    /// `O_NONBLOCK`.
    pub nonblock: bool,
    /// `SO_REUSEADDR`.
    pub reuse_addr: bool,
    /// `shutdown(SHUT_RD)` was called.
    pub shut_rd: bool,
    /// `shutdown(SHUT_WR)` was called.
    pub shut_wr: bool,
    /// A non-blocking connect was started and its outcome not yet reported
    /// by a later `connect` call (Linux reports success once with 0).
    pub connecting: bool,
    /// A failed connect was already reported once: the next `connect` is
    /// ECONNABORTED, as on Linux.
    pub connect_failed_reported: bool,
    /// `listen` was called.
    pub listening: bool,
}

impl Entry {
    /// A fresh descriptor for `proto`.
    pub const fn new(proto: Proto, nonblock: bool) -> Entry {
        Entry {
            proto,
            nonblock,
            reuse_addr: false,
            shut_rd: false,
            shut_wr: false,
            connecting: false,
            connect_failed_reported: false,
            listening: false,
        }
    }
}

/// The fixed-size table.
#[derive(Debug)]
pub struct FdTable {
    slots: [Option<Entry>; FD_MAX],
}

impl Default for FdTable {
    fn default() -> Self {
        Self::new()
    }
}

impl FdTable {
    /// An empty table.
    pub const fn new() -> FdTable {
        FdTable {
            slots: [None; FD_MAX],
        }
    }

    /// Whether a descriptor is free.
    pub fn has_room(&self) -> bool {
        self.slots.iter().any(|s| s.is_none())
    }

    /// Takes the lowest free descriptor (POSIX), EMFILE when full.
    pub fn alloc(&mut self, entry: Entry) -> Result<i32, Errno> {
        let i = self
            .slots
            .iter()
            .position(|s| s.is_none())
            .ok_or(Errno::EMFILE)?;
        self.slots[i] = Some(entry);
        Ok(FD_BASE + i as i32)
    }

    fn index(fd: i32) -> Option<usize> {
        let i = fd.checked_sub(FD_BASE)?;
        usize::try_from(i).ok().filter(|&i| i < FD_MAX)
    }

    /// Whether `fd` is in our range (open or not): hosted wrappers pass
    /// other descriptors to the host's libc.
    pub fn is_ours(fd: i32) -> bool {
        Self::index(fd).is_some()
    }

    /// The entry of an open descriptor; EBADF otherwise.
    pub fn get(&mut self, fd: i32) -> Result<&mut Entry, Errno> {
        Self::index(fd)
            .and_then(|i| self.slots[i].as_mut())
            .ok_or(Errno::EBADF)
    }

    /// Frees `fd`, returning its entry; EBADF if it was not open.
    pub fn remove(&mut self, fd: i32) -> Result<Entry, Errno> {
        Self::index(fd)
            .and_then(|i| self.slots[i].take())
            .ok_or(Errno::EBADF)
    }

    /// Open descriptors.
    pub fn open_count(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }
}
