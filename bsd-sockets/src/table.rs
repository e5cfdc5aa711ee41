//! The descriptor table: a fixed number of slots (`WOLFIP_FD_MAX`, Zephyr's
//! `ZVFS_OPEN_MAX`), numbered from `FD_BASE` so that on a hosted system our
//! descriptors stay apart from the host's files and sockets.

use crate::errno::Errno;
use wolfip_core::config::env_or;
use wolfip_core::{CongestionAlgorithm, TcpHandle, UdpHandle};

/// Descriptors in the table. Zephyr: `ZVFS_OPEN_MAX`.
pub const FD_MAX: usize = env_or(option_env!("WOLFIP_FD_MAX"), 32);
/// The number of the first descriptor (hosted builds keep ours above the
/// host's usual range, so both can be told apart).
pub const FD_BASE: i32 = env_or(option_env!("WOLFIP_FD_BASE"), 512) as i32;
/// Descriptors one `poll` call may watch (Zephyr: `ZVFS_POLL_MAX`); more is
/// `EINVAL`, as Linux answers past `RLIMIT_NOFILE`.
pub const POLL_MAX: usize = env_or(option_env!("WOLFIP_POLL_MAX"), 64);

const _: () = assert!(
    FD_MAX >= 1 && FD_MAX <= 65536,
    "WOLFIP_FD_MAX must be 1..=65536"
);
const _: () = assert!(
    FD_BASE >= 3 && FD_BASE as usize + FD_MAX < i32::MAX as usize,
    "WOLFIP_FD_BASE out of range"
);
// select(2) works on fd_sets of FD_SETSIZE (1024) bits: every descriptor of
// ours must fit in one.
const _: () = assert!(
    FD_BASE as usize + FD_MAX <= 1024,
    "WOLFIP_FD_BASE + WOLFIP_FD_MAX must be <= 1024 (FD_SETSIZE)"
);
const _: () = assert!(
    POLL_MAX >= 1 && POLL_MAX <= 4096,
    "WOLFIP_POLL_MAX must be 1..=4096"
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
    /// `FD_CLOEXEC` (`SOCK_CLOEXEC`, `F_SETFD`); kept for `F_GETFD`, our
    /// descriptors never survive an exec anyway.
    pub cloexec: bool,
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
    /// The connection was reset and a call reported it (the core forgets
    /// the reset once its error is taken; Linux keeps the socket in a
    /// "connected, then reset" state: poll IN+OUT+HUP+RDHUP, connect
    /// EISCONN).
    pub reset_seen: bool,
    /// The connection ended with an error (reset, refused, timed out) that
    /// a call already reported: Linux leaves both directions shut
    /// (`tcp_done`), so poll still shows IN+OUT+HUP+RDHUP.
    pub error_closed: bool,
    /// The connection was dropped by `shutdown` in SYN-SENT or
    /// `connect(AF_UNSPEC)` (Linux `tcp_disconnect`: no direction is shut,
    /// only ECONNRESET is pending).
    pub disconnected: bool,
    /// The socket options kept by the descriptor (`setsockopt`).
    pub opts: SockOpts,
    /// Calls blocked on this descriptor right now.
    pub busy: u16,
    /// `close` was called while calls were blocked on the descriptor: as on
    /// Linux they are not woken; the socket is closed when the last one
    /// returns, and meanwhile the descriptor is `EBADF` for new calls.
    pub closing: bool,
}

/// Socket options as a descriptor remembers them: those the core does not
/// keep, or keeps without a getter, so `getsockopt` can read them back.
/// An accepted descriptor starts with its listener's (Linux inherits them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SockOpts {
    /// `SO_LINGER`'s `l_onoff`.
    pub linger_on: bool,
    /// `SO_LINGER`'s `l_linger`, seconds (kept while `l_onoff` is 0, as
    /// Linux does).
    pub linger_secs: i32,
    /// `SO_KEEPALIVE`.
    pub keepalive: bool,
    /// `TCP_KEEPIDLE`, seconds.
    pub keep_idle: u16,
    /// `TCP_KEEPINTVL`, seconds.
    pub keep_intvl: u16,
    /// `TCP_KEEPCNT`.
    pub keep_cnt: u8,
    /// `TCP_NODELAY`.
    pub nodelay: bool,
    /// `IP_TTL` set by the user; 0: the default.
    pub ttl: u8,
    /// `IP_TOS`.
    pub tos: u8,
    /// `TCP_MAXSEG` set by the user; 0: none.
    pub maxseg: u16,
    /// `SO_RCVBUF` as read back (twice the size set); 0: the default.
    pub rcvbuf: u32,
    /// `SO_SNDBUF` as read back (twice the size set); 0: the default.
    pub sndbuf: u32,
    /// `TCP_USER_TIMEOUT`, milliseconds; 0: off.
    pub user_timeout_ms: u32,
    /// `SO_RCVTIMEO`, microseconds; 0: wait forever (for the blocking
    /// layer).
    pub rcvtimeo_us: u64,
    /// `SO_SNDTIMEO`, microseconds; 0: wait forever.
    pub sndtimeo_us: u64,
    /// `TCP_CONGESTION`.
    pub congestion: CongestionAlgorithm,
}

impl SockOpts {
    /// A fresh socket's options (Linux's defaults; the core's CUBIC).
    pub const DEFAULT: SockOpts = SockOpts {
        linger_on: false,
        linger_secs: 0,
        keepalive: false,
        keep_idle: 7200,
        keep_intvl: 75,
        keep_cnt: 9,
        nodelay: false,
        ttl: 0,
        tos: 0,
        maxseg: 0,
        rcvbuf: 0,
        sndbuf: 0,
        user_timeout_ms: 0,
        rcvtimeo_us: 0,
        sndtimeo_us: 0,
        congestion: CongestionAlgorithm::Cubic,
    };
}

impl Entry {
    /// A fresh descriptor for `proto`.
    pub const fn new(proto: Proto, nonblock: bool) -> Entry {
        Entry {
            proto,
            nonblock,
            cloexec: false,
            reuse_addr: false,
            shut_rd: false,
            shut_wr: false,
            connecting: false,
            connect_failed_reported: false,
            listening: false,
            reset_seen: false,
            error_closed: false,
            disconnected: false,
            opts: SockOpts::DEFAULT,
            busy: 0,
            closing: false,
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
        self.slot(fd).filter(|e| !e.closing).ok_or(Errno::EBADF)
    }

    /// The entry in `fd`'s slot, also while it is closing.
    pub fn slot(&mut self, fd: i32) -> Option<&mut Entry> {
        Self::index(fd).and_then(|i| self.slots[i].as_mut())
    }

    /// Frees `fd`, returning its entry for the protocol socket to be
    /// closed; EBADF if it was not open. While calls are blocked on it the
    /// slot is only marked closing and `Ok(None)` returned: the last
    /// [`FdTable::leave`] hands the entry back.
    pub fn remove(&mut self, fd: i32) -> Result<Option<Entry>, Errno> {
        let e = self.get(fd)?;
        if e.busy > 0 {
            e.closing = true;
            return Ok(None);
        }
        Ok(Self::index(fd).and_then(|i| self.slots[i].take()))
    }

    /// A call starts blocking on `fd`.
    pub fn enter(&mut self, fd: i32) -> Result<(), Errno> {
        let e = self.get(fd)?;
        e.busy = e.busy.checked_add(1).ok_or(Errno::EMFILE)?;
        Ok(())
    }

    /// A blocked call on `fd` returns; if `close` came meanwhile and this
    /// was the last one, the slot is freed and its entry returned for the
    /// protocol socket to be closed.
    pub fn leave(&mut self, fd: i32) -> Option<Entry> {
        let e = self.slot(fd)?;
        e.busy = e.busy.saturating_sub(1);
        if e.busy == 0 && e.closing {
            return Self::index(fd).and_then(|i| self.slots[i].take());
        }
        None
    }

    /// Open descriptors.
    pub fn open_count(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }
}
