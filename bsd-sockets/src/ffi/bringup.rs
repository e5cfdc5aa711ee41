//! Bring-up from C: the hosted stack with its service thread and TAP
//! devices, or the embedded contract (registered drivers, frames and time
//! handed in by the application).

use super::{ret_int, set_errno};
use crate::errno::Errno;
use crate::hosted;
use crate::table::{FD_BASE, FD_MAX};
use core::ffi::CStr;
use libc::{c_char, c_int, c_void};
use wolfip_core::phy::{Device, TxBusy};
use wolfip_core::wire::EthernetAddress;
use wolfip_core::{IfaceId, Instant, Ipv4Addr, Ipv4Cidr};

/// Keeps the host from handing out descriptor numbers of our range: each
/// free number in it is filled with `/dev/null`, opened close-on-exec.
fn reserve_fd_range() {
    let path = c"/dev/null";
    for fd in FD_BASE..FD_BASE + FD_MAX as c_int {
        // SAFETY: fcntl F_GETFD takes no pointers; -1 means `fd` is free.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1 {
            continue;
        }
        // SAFETY: `path` is a valid NUL-terminated string.
        let null = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if null < 0 {
            return;
        }
        if null != fd {
            // SAFETY: dup3 and close take no pointers; `null` is ours.
            unsafe {
                libc::dup3(null, fd, libc::O_CLOEXEC);
                libc::close(null);
            }
        }
    }
}

fn started(r: Result<(), Errno>) -> c_int {
    if r.is_ok() {
        static RESERVED: std::sync::Once = std::sync::Once::new();
        RESERVED.call_once(reserve_fd_range);
    }
    ret_int(r.map(|()| 0))
}

/// Brings the stack up: loopback 127.0.0.1/8 ready, the service thread
/// started. Calling it again is harmless. Returns 0, or -1 with errno.
#[no_mangle]
pub extern "C" fn wolfip_init() -> c_int {
    started(hosted::init().map(|_| ()))
}

/// Brings the stack up without a service thread (the embedded contract on
/// a host): the application hands frames in with [`wolfip_input`] and
/// time with [`wolfip_service`]. Returns 0, or -1 with errno.
#[no_mangle]
pub extern "C" fn wolfip_init_driven() -> c_int {
    started(hosted::init_driven().map(|_| ()))
}

/// A C string argument, `EINVAL` when it is not UTF-8, `EFAULT` when null.
///
/// # Safety
/// `s` must be null or a valid NUL-terminated string.
pub(super) unsafe fn arg<'a>(s: *const c_char) -> Result<&'a str, Errno> {
    if s.is_null() {
        return Err(Errno::EFAULT);
    }
    // SAFETY: non-null and NUL-terminated (contract).
    unsafe { CStr::from_ptr(s) }
        .to_str()
        .map_err(|_| Errno::EINVAL)
}

/// Parses `cidr` and the optional `gateway`.
///
/// # Safety
/// Both must be null or valid NUL-terminated strings.
unsafe fn addresses(
    cidr: *const c_char,
    gateway: *const c_char,
) -> Result<(Option<Ipv4Cidr>, Option<Ipv4Addr>), Errno> {
    let cidr = if cidr.is_null() {
        None
    } else {
        // SAFETY: contract.
        Some(unsafe { arg(cidr) }?.parse().map_err(|_| Errno::EINVAL)?)
    };
    let gateway = if gateway.is_null() {
        None
    } else {
        // SAFETY: contract.
        Some(
            unsafe { arg(gateway) }?
                .parse()
                .map_err(|_| Errno::EINVAL)?,
        )
    };
    Ok((cidr, gateway))
}

/// Attaches the TAP interface `ifname` (created if missing, set up) with
/// the address `ipv4_cidr` ("192.0.2.2/24"; NULL: none yet, for
/// `wolfip_dhcp_start`) and, unless `gateway` is NULL, a default route. Starts the stack if needed. Returns the
/// interface index, or -1 with errno.
///
/// # Safety
/// The strings must be valid and NUL-terminated (`ipv4_cidr` and
/// `gateway` may be NULL).
#[no_mangle]
pub unsafe extern "C" fn wolfip_tap_attach(
    ifname: *const c_char,
    ipv4_cidr: *const c_char,
    gateway: *const c_char,
) -> c_int {
    let r = (|| {
        // SAFETY: contract.
        let name = unsafe { arg(ifname) }?;
        // SAFETY: contract.
        let (cidr, gw) = unsafe { addresses(ipv4_cidr, gateway) }?;
        hosted::tap_attach(name, cidr, gw).map(|id| c_int::from(id.0))
    })();
    if r.is_ok() {
        started(Ok(()));
    }
    ret_int(r)
}

/// A network driver registered by the application (embedded bring-up).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)] // the C name
pub struct wolfip_driver {
    /// Passed back to `transmit`.
    pub ctx: *mut c_void,
    /// Sends one Ethernet frame; returns 0, or nonzero when the driver is
    /// busy (the stack keeps the frame and tries again later).
    pub transmit:
        Option<unsafe extern "C" fn(ctx: *mut c_void, frame: *const u8, len: usize) -> c_int>,
    /// The interface's MAC address (unicast).
    pub mac: [u8; 6],
    /// The largest IP datagram the link carries; 0: 1500.
    pub mtu: u16,
}

struct CDriver(wolfip_driver);

// SAFETY: the driver's context is used only under the stack's lock, one
// call at a time; the registering application promises that `transmit` may
// be called from any thread (docs/porting.md).
unsafe impl Send for CDriver {}

impl Device for CDriver {
    fn receive(&mut self, _: Instant, _: &mut [u8]) -> Option<usize> {
        // Frames come in through wolfip_input.
        None
    }
    fn transmit(&mut self, _: Instant, frame: &[u8]) -> Result<(), TxBusy> {
        let Some(f) = self.0.transmit else {
            return Ok(());
        };
        // SAFETY: the application registered `f` for exactly this call;
        // `frame` is valid for `len` bytes during it.
        match unsafe { f(self.0.ctx, frame.as_ptr(), frame.len()) } {
            0 => Ok(()),
            _ => Err(TxBusy),
        }
    }
}

/// Registers a driver; returns its interface index, or -1 with errno.
///
/// # Safety
/// `drv` must point to a valid `struct wolfip_driver`; its `ctx` and
/// `transmit` must stay valid for the life of the process.
#[no_mangle]
pub unsafe extern "C" fn wolfip_driver_register(drv: *const wolfip_driver) -> c_int {
    if drv.is_null() {
        set_errno(Errno::EFAULT);
        return -1;
    }
    // SAFETY: valid pointer (contract).
    let d = unsafe { *drv };
    if d.transmit.is_none() {
        set_errno(Errno::EINVAL);
        return -1;
    }
    let r = hosted::driver_register(
        Box::new(CDriver(d)),
        EthernetAddress(d.mac),
        usize::from(d.mtu),
    );
    ret_int(r.map(|id| c_int::from(id.0)))
}

/// The interface an index names (`ENODEV` for the loopback and
/// out-of-range values).
pub(super) fn iface(index: c_int) -> Result<IfaceId, Errno> {
    u8::try_from(index)
        .ok()
        .filter(|&i| i > 0)
        .map(IfaceId)
        .ok_or(Errno::ENODEV)
}

/// Sets an interface's address (`NULL`: none) and default gateway (`NULL`:
/// none). Returns 0, or -1 with errno.
///
/// # Safety
/// The strings must be NULL or valid and NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn wolfip_if_config(
    index: c_int,
    ipv4_cidr: *const c_char,
    gateway: *const c_char,
) -> c_int {
    let r = (|| {
        // SAFETY: contract.
        let (cidr, gw) = unsafe { addresses(ipv4_cidr, gateway) }?;
        hosted::if_config(iface(index)?, cidr, gw).map(|()| 0)
    })();
    ret_int(r)
}

/// Hands one received Ethernet frame of interface `index` to the stack.
/// Returns 0, or -1 with errno.
///
/// # Safety
/// `frame` must point to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn wolfip_input(index: c_int, frame: *const u8, len: usize) -> c_int {
    let r = (|| {
        if frame.is_null() {
            return Err(Errno::EFAULT);
        }
        // SAFETY: `len` readable bytes (contract).
        let f = unsafe { core::slice::from_raw_parts(frame, len) };
        hosted::input(iface(index)?, f).map(|()| 0)
    })();
    ret_int(r)
}

/// Runs the timers at `now_us` (microseconds of the application's
/// monotonic clock; in the threaded mode the stack's own clock is used)
/// and transmits. Returns the time at which the stack next needs to run,
/// in the same microseconds, or -1 when only a frame can wake it.
#[no_mangle]
pub extern "C" fn wolfip_service(now_us: u64) -> i64 {
    match hosted::service(Instant::from_micros(now_us)) {
        Ok(Some(t)) => i64::try_from(t.total_micros()).unwrap_or(i64::MAX),
        Ok(None) => -1,
        Err(e) => {
            set_errno(e);
            -1
        }
    }
}
