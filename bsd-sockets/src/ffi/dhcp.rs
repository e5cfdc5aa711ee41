//! The stack's own clients from C: DHCP on an interface, and the DNS
//! servers the resolver asks (`wolfip_getaddrinfo`).
//!
//! The interface index is the one `wolfip_tap_attach` or
//! `wolfip_driver_register` returned. Errors return -1 with `errno`, mapped
//! in [`crate::errno`].

use super::bringup::{arg, iface};
use super::{eng, ret_int};
use crate::engine::Port;
use crate::errno::Errno;
use libc::{c_char, c_int, in_addr};
use wolfip_core::config::DNS_SERVERS;
use wolfip_core::dhcp::{DhcpConfig, DhcpError, DhcpLease, DhcpState};
use wolfip_core::{Duration, IfaceId, Ipv4Addr};

/// A DHCP lease as C sees it. Addresses in network byte order, as in
/// `struct sockaddr_in`; an absent one (no router, fewer DNS servers) is
/// 0.0.0.0.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
#[allow(non_camel_case_types)] // the C name
pub struct wolfip_dhcp_lease {
    /// Our address.
    pub address: in_addr,
    /// The subnet's mask.
    pub netmask: in_addr,
    /// The default router (option 3).
    pub router: in_addr,
    /// The server that granted the lease (option 54).
    pub server: in_addr,
    /// DNS servers (option 6), in the server's order.
    pub dns: [in_addr; 3],
    /// The lease's length in seconds, counted from when it was granted;
    /// `UINT32_MAX` for an infinite lease (as DHCP writes it).
    pub lease_secs: u32,
    /// When renewal starts (T1), seconds after the grant.
    pub renew_secs: u32,
    /// When rebinding starts (T2), seconds after the grant.
    pub rebind_secs: u32,
}

fn in_addr_of(a: Option<Ipv4Addr>) -> in_addr {
    in_addr {
        s_addr: u32::from_ne_bytes(a.unwrap_or(Ipv4Addr::UNSPECIFIED).octets()),
    }
}

fn secs(d: Duration) -> u32 {
    u32::try_from(d.total_millis() / 1000).unwrap_or(u32::MAX)
}

impl From<&DhcpLease> for wolfip_dhcp_lease {
    fn from(l: &DhcpLease) -> wolfip_dhcp_lease {
        let mut dns = [in_addr_of(None); 3];
        for (d, s) in dns.iter_mut().zip(l.dns_servers.iter()) {
            *d = in_addr_of(*s);
        }
        wolfip_dhcp_lease {
            address: in_addr_of(Some(l.address.address())),
            netmask: in_addr_of(Some(l.address.netmask())),
            router: in_addr_of(l.router),
            server: in_addr_of(Some(l.server)),
            dns,
            lease_secs: l.lease_time.map_or(u32::MAX, secs),
            renew_secs: secs(l.renew_after),
            rebind_secs: secs(l.rebind_after),
        }
    }
}

/// Copies `lease` to the caller's `out` (NULL: not wanted).
///
/// # Safety
/// `out` must be NULL or valid for writing.
unsafe fn write_lease(lease: &DhcpLease, out: *mut wolfip_dhcp_lease) {
    if !out.is_null() {
        // SAFETY: valid for writing (contract).
        unsafe { out.write(lease.into()) };
    }
}

/// Whether `id` names an Ethernet interface of the stack.
fn exists(id: IfaceId) -> Result<(), Errno> {
    if eng()?.port().with(|stack, _, _| stack.mac(id).is_some()) {
        Ok(())
    } else {
        Err(Errno::ENODEV)
    }
}

/// Starts the DHCP client of interface `ifindex`, sending `hostname`
/// (option 12) unless it is NULL. The interface needs no address first
/// (`wolfip_tap_attach(name, NULL, NULL)`); the lease's address, default
/// route and DNS servers are applied when it is granted. Returns 0, or -1
/// with errno: `ENODEV` (no such interface), `EALREADY` (already running),
/// `EINVAL` (empty or too long hostname).
///
/// # Safety
/// `hostname` must be NULL or a valid NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn wolfip_dhcp_start(ifindex: c_int, hostname: *const c_char) -> c_int {
    let r = (|| {
        let id = iface(ifindex)?;
        let hostname = if hostname.is_null() {
            None
        } else {
            // SAFETY: contract.
            Some(unsafe { arg(hostname) }?)
        };
        let cfg = DhcpConfig {
            hostname,
            ..DhcpConfig::default()
        };
        eng()?
            .call(|stack, _, _| stack.dhcp_start(id, &cfg).map_err(Errno::from))
            .map(|()| 0)
    })();
    ret_int(r)
}

/// Stops the DHCP client of `ifindex`, releasing its lease (the address,
/// route and DNS servers it gave are removed). Returns 0, or -1 with errno
/// `ENODEV` or `EINVAL` (not running).
#[no_mangle]
pub extern "C" fn wolfip_dhcp_stop(ifindex: c_int) -> c_int {
    let r = (|| {
        let id = iface(ifindex)?;
        eng()?
            .call(|stack, _, _| stack.dhcp_stop(id).map_err(Errno::from))
            .map(|()| 0)
    })();
    ret_int(r)
}

/// Blocks until the DHCP client of `ifindex` holds a lease, at most
/// `timeout_ms` milliseconds (negative: no limit), and copies the lease to
/// `out` (NULL: not wanted). Returns 0, or -1 with errno: `ETIMEDOUT`,
/// `ENODEV`, `EINVAL` (the client is not running).
///
/// # Safety
/// `out` must be NULL or valid for writing.
#[no_mangle]
pub unsafe extern "C" fn wolfip_dhcp_wait(
    ifindex: c_int,
    timeout_ms: c_int,
    out: *mut wolfip_dhcp_lease,
) -> c_int {
    let r = (|| {
        let id = iface(ifindex)?;
        exists(id)?;
        let e = eng()?;
        let deadline = u64::try_from(timeout_ms)
            .ok()
            .map(|ms| e.port().now() + Duration::from_millis(ms));
        let got = e.wait_until(deadline, |stack, _, _| match stack.dhcp_lease(id) {
            Some(l) => Some(Ok(l)),
            None if stack.dhcp_state(id) == DhcpState::Stopped => Some(Err(DhcpError::NotRunning)),
            None => None,
        });
        let lease = got.ok_or(Errno::ETIMEDOUT)??;
        // SAFETY: contract.
        unsafe { write_lease(&lease, out) };
        Ok(0)
    })();
    ret_int(r)
}

/// Copies the lease `ifindex` holds to `out` at once. Returns 0, or -1
/// with errno `EAGAIN` (no lease now), `ENODEV`, `EFAULT` (`out` NULL).
///
/// # Safety
/// `out` must be valid for writing.
#[no_mangle]
pub unsafe extern "C" fn wolfip_dhcp_lease(ifindex: c_int, out: *mut wolfip_dhcp_lease) -> c_int {
    let r = (|| {
        let id = iface(ifindex)?;
        if out.is_null() {
            return Err(Errno::EFAULT);
        }
        exists(id)?;
        let lease = eng()?
            .port()
            .with(|stack, _, _| stack.dhcp_lease(id))
            .ok_or(Errno::EAGAIN)?;
        // SAFETY: contract.
        unsafe { write_lease(&lease, out) };
        Ok(0)
    })();
    ret_int(r)
}

/// Sets the DNS servers asked first, before those learned by DHCP
/// (`count` 0: none set by hand). At most `WOLFIP_DNS_SERVERS`. Returns 0,
/// or -1 with errno: `ENOBUFS` (too many), `EINVAL` (0.0.0.0, a broadcast
/// or multicast address, negative `count`), `EFAULT` (`servers` NULL).
///
/// # Safety
/// `servers` must point to `count` readable `struct in_addr`.
#[no_mangle]
pub unsafe extern "C" fn wolfip_dns_set_servers(servers: *const in_addr, count: c_int) -> c_int {
    let r = (|| {
        let n = usize::try_from(count).map_err(|_| Errno::EINVAL)?;
        if n > 0 && servers.is_null() {
            return Err(Errno::EFAULT);
        }
        if n > DNS_SERVERS {
            return Err(wolfip_core::dns::DnsServersError::TooMany.into());
        }
        let mut list = [Ipv4Addr::UNSPECIFIED; DNS_SERVERS];
        for (k, slot) in list.iter_mut().take(n).enumerate() {
            // SAFETY: `count` readable in_addr (contract); k < count.
            let a = unsafe { servers.add(k).read_unaligned() };
            *slot = Ipv4Addr::from(a.s_addr.to_ne_bytes());
        }
        eng()?
            .call(|stack, _, _| stack.dns_set_servers(&list[..n]).map_err(Errno::from))
            .map(|()| 0)
    })();
    ret_int(r)
}
