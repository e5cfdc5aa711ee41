//! Linux TAP device and network-namespace helpers for wolfip.
//!
//! This is the only crate of the project with `unsafe` code; all of it is in
//! the private `sys` module, one small block per system call, each with the
//! reason it is sound.
//!
//! * [`TapDevice`] is a Linux TAP interface (`/dev/net/tun`, `IFF_TAP |
//!   IFF_NO_PI`) implementing the stack's [`Device`] contract: whole
//!   Ethernet II frames, never blocking.
//! * [`netns`] moves a thread into a fresh network namespace, so tests can
//!   create interfaces without touching the host's.
//! * [`Clock`] turns [`std::time::Instant`] into the stack's injected
//!   [`wolfip_core::time::Instant`].
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

mod clock;
pub mod netns;
mod platform;
mod sys;
mod wake;

use std::fs::OpenOptions;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;

use wolfip_core::phy::{Device, TxBusy};
use wolfip_core::time::Instant;

pub use clock::{to_std, Clock};
pub use platform::{boxed_stack, catch_termination, terminating, OsEntropy};
pub use wake::{poll_host, preserve_errno, wait_readable_any, Waker};

/// The clone device through which TAP interfaces are created or attached.
pub const TUN_PATH: &str = "/dev/net/tun";

/// Size of the internal receive buffer: larger than any frame a TAP device
/// can carry (65535-byte MTU plus Ethernet and VLAN headers), so a read is
/// never silently truncated.
const RX_BUF_LEN: usize = 65_536 + 64;

/// How many oversize frames one `receive` call discards before giving up,
/// so a flood of them cannot stall the caller.
const MAX_RX_DISCARDS: usize = 64;

/// Counters of a [`TapDevice`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TapStats {
    /// Frames handed to the stack.
    pub rx_frames: u64,
    /// Frames discarded because they did not fit the stack's buffer.
    pub rx_dropped_oversize: u64,
    /// Failed reads other than "nothing waiting".
    pub rx_errors: u64,
    /// Frames written to the kernel.
    pub tx_frames: u64,
    /// Frames the kernel refused (e.g. the link is down); they are dropped.
    pub tx_errors: u64,
    /// Transmissions answered with [`TxBusy`] (`EAGAIN`, `ENOBUFS`).
    pub tx_busy: u64,
}

/// A Linux TAP interface, opened non-blocking; see the [crate
/// documentation](crate).
///
/// The interface lives as long as the descriptor (unless it was made
/// persistent by someone else); dropping the `TapDevice` removes an
/// interface that [`open`](Self::open) created.
#[derive(Debug)]
pub struct TapDevice {
    fd: OwnedFd,
    name: String,
    rx_buf: Box<[u8]>,
    stats: TapStats,
}

impl TapDevice {
    /// Attaches to the TAP interface `name` in the calling thread's network
    /// namespace, asking the kernel to create it if it does not exist (this
    /// is how `TUNSETIFF` works). The descriptor is non-blocking and
    /// close-on-exec; the interface starts down (see [`set_up`](Self::set_up)).
    ///
    /// Needs `CAP_NET_ADMIN` to create an interface. `name` must be 1 to 15
    /// printable ASCII bytes without `/` or `:`; a `%d` in it lets the
    /// kernel pick a number, and [`name`](Self::name) reports the result.
    pub fn open(name: &str) -> io::Result<TapDevice> {
        let mut req = sys::IfReq::new(name)?;
        // std adds O_CLOEXEC on its own; it is spelled out for the reader.
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(TUN_PATH)?;
        let fd = OwnedFd::from(file);
        req.set_flags((libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short);
        sys::ifreq_ioctl(fd.as_fd(), libc::TUNSETIFF as libc::c_ulong, &mut req)?;
        Ok(TapDevice {
            fd,
            name: req.name(),
            rx_buf: vec![0u8; RX_BUF_LEN].into_boxed_slice(),
            stats: TapStats::default(),
        })
    }

    /// The interface name the kernel gave.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The counters so far.
    pub fn stats(&self) -> TapStats {
        self.stats
    }

    /// Brings the Linux side of the interface up (`ip link set NAME up`),
    /// in the calling thread's network namespace.
    pub fn set_up(&self) -> io::Result<()> {
        sys::update_if_flags(&self.name, |f| f | libc::IFF_UP as libc::c_short)
    }

    /// Takes the Linux side of the interface down.
    pub fn set_down(&self) -> io::Result<()> {
        sys::update_if_flags(&self.name, |f| f & !(libc::IFF_UP as libc::c_short))
    }

    /// Sets the interface MTU (the IP payload size, without the Ethernet
    /// header).
    pub fn set_mtu(&self, mtu: u32) -> io::Result<()> {
        let mtu = libc::c_int::try_from(mtu)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "MTU too large"))?;
        let sock = sys::ctl_socket()?;
        let mut req = sys::IfReq::new(&self.name)?;
        req.set_mtu(mtu);
        sys::ifreq_ioctl(sock.as_fd(), libc::SIOCSIFMTU as libc::c_ulong, &mut req)
    }

    /// The interface MTU.
    pub fn mtu(&self) -> io::Result<u32> {
        let sock = sys::ctl_socket()?;
        let mut req = sys::IfReq::new(&self.name)?;
        sys::ifreq_ioctl(sock.as_fd(), libc::SIOCGIFMTU as libc::c_ulong, &mut req)?;
        u32::try_from(req.mtu()).map_err(|_| io::Error::other("negative MTU"))
    }

    /// Waits until a frame can be read or `timeout` passes (`None`: no
    /// limit). Returns whether a frame is waiting. Interrupted waits are
    /// resumed with the time left.
    pub fn wait_readable(&self, timeout: Option<std::time::Duration>) -> io::Result<bool> {
        sys::poll_one(self.fd.as_fd(), libc::POLLIN, timeout)
    }

    /// Waits until a frame can be written or `timeout` passes.
    pub fn wait_writable(&self, timeout: Option<std::time::Duration>) -> io::Result<bool> {
        sys::poll_one(self.fd.as_fd(), libc::POLLOUT, timeout)
    }
}

impl AsRawFd for TapDevice {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for TapDevice {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl Device for TapDevice {
    fn receive(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
        for _ in 0..MAX_RX_DISCARDS {
            // Read into the large internal buffer: reading straight into a
            // short `buf` would silently truncate a long frame.
            let n = match sys::read(self.fd.as_fd(), &mut self.rx_buf) {
                Ok(Some(0)) | Ok(None) => return None,
                Ok(Some(n)) => n,
                Err(_) => {
                    self.stats.rx_errors += 1;
                    return None;
                }
            };
            if n > buf.len() {
                self.stats.rx_dropped_oversize += 1;
                continue;
            }
            buf[..n].copy_from_slice(&self.rx_buf[..n]);
            self.stats.rx_frames += 1;
            return Some(n);
        }
        None
    }

    fn transmit(&mut self, _now: Instant, frame: &[u8]) -> Result<(), TxBusy> {
        match sys::write(self.fd.as_fd(), frame) {
            Ok(n) if n == frame.len() => {
                self.stats.tx_frames += 1;
                Ok(())
            }
            // A TAP write is one whole frame; a short one should not happen.
            Ok(_) => {
                self.stats.tx_errors += 1;
                Ok(())
            }
            Err(e)
                if e.kind() == io::ErrorKind::WouldBlock
                    || e.raw_os_error() == Some(libc::ENOBUFS) =>
            {
                self.stats.tx_busy += 1;
                Err(TxBusy)
            }
            Err(_) => {
                self.stats.tx_errors += 1;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_names_before_touching_the_system() {
        for bad in [
            "",
            "a/b",
            "a:b",
            "with space",
            ".",
            "..",
            "sixteen_chars_xx",
        ] {
            let err = TapDevice::open(bad).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        }
        assert!(sys::check_ifname("fifteen_chars_x").is_ok());
    }

    #[test]
    fn ifreq_fields_roundtrip() {
        let mut req = sys::IfReq::new("wtest0").unwrap();
        assert_eq!(req.name(), "wtest0");
        req.set_flags(0x1003);
        assert_eq!(req.flags(), 0x1003);
        req.set_mtu(9000);
        assert_eq!(req.mtu(), 9000);
    }
}
