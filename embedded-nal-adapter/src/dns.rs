//! Name lookups over the core's DNS resolver: `embedded-nal`'s `nb` [`Dns`]
//! for [`NalStack`] and `embedded-nal-async`'s for [`AsyncStack`].
//!
//! Literals (`inet_aton` forms as glibc takes them, IPv6 literals) and
//! `localhost` are answered without a query. Any other name is a query of
//! the core (`Stack::dns_query`), which ends it by itself: an answer, an
//! error, or a timeout after its retries.
//!
//! The `nb` lookup has to be called again until it is done, with the same
//! name: the pending queries are kept here, in a fixed table of
//! `WOLFIP_DNS_QUERIES` entries keyed by the engine and the name. A query
//! whose caller never came back stays until its slot is needed and the
//! query has ended.

use core::future::poll_fn;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::task::Poll;
use std::sync::{Mutex, MutexGuard};

use crate::{AsyncStack, Error, NalStack};
use embedded_nal::AddrType;
use wolfip_bsd::engine::{Engine, Port};
use wolfip_bsd::resolve::inet_aton;
use wolfip_bsd::Errno;
use wolfip_core::config::DNS_QUERIES;
use wolfip_core::dns::{DnsAnswer, DnsError, DnsQuery, DnsStartError};

/// The longest name kept (a DNS name has at most 253 characters, 254
/// with the final dot).
const NAME_MAX: usize = 255;

/// One pending query of the `nb` lookup.
struct Pending {
    /// The engine's address: queries of two engines never mix.
    engine: usize,
    name: [u8; NAME_MAX],
    len: usize,
    query: DnsQuery,
}

impl Pending {
    fn is(&self, engine: usize, name: &[u8]) -> bool {
        self.engine == engine && self.name[..self.len].eq_ignore_ascii_case(name)
    }
}

/// The pending queries of every `nb` lookup (taken before the port's lock,
/// never while holding it).
static PENDING: Mutex<[Option<Pending>; DNS_QUERIES]> = Mutex::new([const { None }; DNS_QUERIES]);

fn pending() -> MutexGuard<'static, [Option<Pending>; DNS_QUERIES]> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

fn engine_id<P: Port>(engine: &'static Engine<P>) -> usize {
    engine as *const Engine<P> as usize
}

/// The answer of a name that needs no query: an address literal or
/// `localhost`; `None` for a name to look up. This stack has no IPv6: an
/// IPv6 literal is returned as it is (connecting to it fails with
/// `EAFNOSUPPORT`), any other name asked for IPv6 only is `EAFNOSUPPORT`.
pub(crate) fn literal(name: &str, addr_type: &AddrType) -> Option<Result<IpAddr, Error>> {
    if let Ok(a) = name.parse::<Ipv6Addr>() {
        return Some(match addr_type {
            AddrType::IPv4 => Err(Error(Errno::EAFNOSUPPORT)),
            _ => Ok(IpAddr::V6(a)),
        });
    }
    if *addr_type == AddrType::IPv6 {
        return Some(Err(Error(Errno::EAFNOSUPPORT)));
    }
    if let Some(a) = inet_aton(name.as_bytes()) {
        return Some(Ok(IpAddr::V4(a)));
    }
    let bare = name.strip_suffix('.').unwrap_or(name);
    if bare.eq_ignore_ascii_case("localhost") {
        return Some(Ok(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    }
    None
}

/// The first address of a finished query.
fn first(r: Result<DnsAnswer, DnsError>) -> Result<IpAddr, Error> {
    let answer = r.map_err(Error::from_dns)?;
    answer
        .addresses
        .first()
        .map(|a| IpAddr::V4(*a))
        .ok_or(Error(Errno::ENOENT))
}

impl<P: Port> embedded_nal::Dns for NalStack<P> {
    type Error = Error;

    /// The first IPv4 address of `hostname`: at once for a literal or
    /// `localhost`; otherwise the first call starts a query and returns
    /// `WouldBlock`, and calls with the same name return `WouldBlock`
    /// until it ended. Errors: `ENETUNREACH` (no DNS server), `ENOENT`
    /// (no such name, kind `NotFound`), `ETIMEDOUT`, `ENOBUFS` (the table
    /// of pending queries is full), `EINVAL` (not a host name).
    fn get_host_by_name(
        &mut self,
        hostname: &str,
        addr_type: AddrType,
    ) -> nb::Result<IpAddr, Error> {
        if let Some(r) = literal(hostname, &addr_type) {
            return r.map_err(nb::Error::Other);
        }
        let name = hostname.as_bytes();
        if name.len() > NAME_MAX {
            return Err(nb::Error::Other(Error(Errno::EINVAL)));
        }
        let engine = self.engine();
        let id = engine_id(engine);
        let port = engine.port();
        let mut table = pending();
        if let Some(slot) = table
            .iter_mut()
            .find(|s| s.as_ref().is_some_and(|p| p.is(id, name)))
        {
            let Some(p) = slot.as_ref() else {
                return Err(nb::Error::WouldBlock);
            };
            let q = p.query;
            return match port.with(|stack, _, _| stack.dns_result(q)) {
                Poll::Pending => Err(nb::Error::WouldBlock),
                Poll::Ready(r) => {
                    *slot = None;
                    first(r).map_err(nb::Error::Other)
                }
            };
        }
        let free = match table.iter().position(Option::is_none) {
            Some(i) => i,
            None => reclaim(engine, &mut table).ok_or(nb::Error::Other(Error(Errno::ENOBUFS)))?,
        };
        let q = start_query(engine, hostname, Some(&mut table)).map_err(nb::Error::Other)?;
        // The query's retransmission timer is a new deadline for the port.
        port.wake();
        // A cached name is answered at once.
        if let Poll::Ready(r) = port.with(|stack, _, _| stack.dns_result(q)) {
            return first(r).map_err(nb::Error::Other);
        }
        let mut stored = [0u8; NAME_MAX];
        stored[..name.len()].copy_from_slice(name);
        table[free] = Some(Pending {
            engine: id,
            name: stored,
            len: name.len(),
            query: q,
        });
        Err(nb::Error::WouldBlock)
    }

    /// Not supported (no reverse lookups): `EOPNOTSUPP`, kind
    /// `Unsupported`.
    fn get_host_by_address(
        &mut self,
        _addr: IpAddr,
        _result: &mut [u8],
    ) -> nb::Result<usize, Error> {
        Err(nb::Error::Other(Error(Errno::EOPNOTSUPP)))
    }
}

/// Frees every `nb` entry of `engine` whose query ended but whose caller
/// never came back for it (its answer is dropped), and with it the core's
/// query slot; returns the first index freed.
fn reclaim<P: Port>(
    engine: &'static Engine<P>,
    table: &mut [Option<Pending>; DNS_QUERIES],
) -> Option<usize> {
    let id = engine_id(engine);
    engine.port().with(|stack, _, _| {
        let mut first = None;
        for (i, slot) in table.iter_mut().enumerate() {
            if slot
                .as_ref()
                .is_some_and(|p| p.engine == id && stack.dns_result(p.query).is_ready())
            {
                *slot = None;
                first = first.or(Some(i));
            }
        }
        first
    })
}

/// Starts a query; when the core's query table is full, first frees the
/// finished `nb` lookups nobody came back for (they hold core slots) and
/// tries once more.
fn start_query<P: Port>(
    engine: &'static Engine<P>,
    host: &str,
    table: Option<&mut [Option<Pending>; DNS_QUERIES]>,
) -> Result<DnsQuery, Error> {
    let port = engine.port();
    let q = port.with(|stack, _, _| stack.dns_query(host));
    if q != Err(DnsStartError::TableFull) {
        return q.map_err(Error::from_dns_start);
    }
    match table {
        Some(t) => {
            reclaim(engine, t);
        }
        None => {
            reclaim(engine, &mut pending());
        }
    }
    port.with(|stack, _, _| stack.dns_query(host))
        .map_err(Error::from_dns_start)
}

/// Cancels a query whose future was dropped before it ended.
struct InFlight<P: Port + 'static> {
    engine: &'static Engine<P>,
    query: Option<DnsQuery>,
}

impl<P: Port> Drop for InFlight<P> {
    fn drop(&mut self) {
        if let Some(q) = self.query.take() {
            self.engine.port().with(|stack, _, _| stack.dns_cancel(q));
        }
    }
}

impl<P: Port> embedded_nal_async::Dns for AsyncStack<P> {
    type Error = Error;

    /// The first IPv4 address of `host`: at once for a literal or
    /// `localhost`, otherwise when the core's query ends (the future is
    /// woken by the port; dropping it cancels the query). Errors as for
    /// [`NalStack`]'s lookup.
    async fn get_host_by_name(&self, host: &str, addr_type: AddrType) -> Result<IpAddr, Error> {
        if let Some(r) = literal(host, &addr_type) {
            return r;
        }
        let engine = self.engine();
        let port = engine.port();
        let q = start_query(engine, host, None)?;
        port.wake();
        let mut flight = InFlight {
            engine,
            query: Some(q),
        };
        let r = poll_fn(|cx| {
            let (r, seen) = port.with(|stack, _, _| (stack.dns_result(q), port.epoch()));
            if r.is_pending() {
                // The counter was read with the result, under the lock.
                port.register_waker(seen, cx.waker());
            }
            r
        })
        .await;
        // Ready freed the core's slot: nothing to cancel.
        flight.query = None;
        first(r)
    }

    /// Not supported (no reverse lookups): `EOPNOTSUPP`.
    async fn get_host_by_address(&self, _addr: IpAddr, _result: &mut [u8]) -> Result<usize, Error> {
        Err(Error(Errno::EOPNOTSUPP))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        let v4 = |s: &str| literal(s, &AddrType::Either);
        assert_eq!(
            v4("192.0.2.1"),
            Some(Ok(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))))
        );
        assert_eq!(v4("127.1"), Some(Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))));
        assert_eq!(v4("LocalHost."), Some(Ok(IpAddr::V4(Ipv4Addr::LOCALHOST))));
        assert_eq!(v4("::1"), Some(Ok(IpAddr::V6(Ipv6Addr::LOCALHOST))));
        assert_eq!(v4("example.test"), None);
        assert_eq!(
            literal("::1", &AddrType::IPv4),
            Some(Err(Error(Errno::EAFNOSUPPORT)))
        );
        assert_eq!(
            literal("example.test", &AddrType::IPv6),
            Some(Err(Error(Errno::EAFNOSUPPORT)))
        );
    }
}
