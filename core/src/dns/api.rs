//! The resolver's public calls on [`Stack`] and their types.

use core::fmt;
use core::task::Poll;

use heapless::Vec;

use super::DnsQuery;
use crate::addr::Ipv4Addr;
use crate::config::DNS_MAX_ADDRESSES;
use crate::Stack;

/// Why [`Stack::dns_query`] could not start a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsStartError {
    /// Neither an IPv4 literal nor a valid host name (labels of 1 to 63
    /// letters, digits, `-` or `_`, at most 253 characters).
    InvalidName,
    /// No DNS server is configured (by hand or by DHCP).
    NoServers,
    /// All `DNS_QUERIES` slots hold a query, pending or finished but not
    /// taken with [`Stack::dns_result`].
    TableFull,
}

impl fmt::Display for DnsStartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DnsStartError::InvalidName => "invalid host name",
            DnsStartError::NoServers => "no DNS server configured",
            DnsStartError::TableFull => "too many DNS queries in flight",
        })
    }
}

/// How a query failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsError {
    /// The name does not exist (RCODE 3, NXDOMAIN).
    NxDomain,
    /// The servers failed (RCODE 2, SERVFAIL, or another error code, or a
    /// truncated response without an address).
    ServFail,
    /// The servers refused to answer (RCODE 5).
    Refused,
    /// The name exists but has no A record.
    NoData,
    /// No server answered in time.
    Timeout,
    /// Every answer was unusable (a CNAME loop or a chain longer than 8
    /// links).
    Malformed,
    /// The handle names no query: stale, cancelled or already taken.
    UnknownQuery,
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DnsError::NxDomain => "no such name",
            DnsError::ServFail => "DNS server failure",
            DnsError::Refused => "DNS query refused",
            DnsError::NoData => "no address for this name",
            DnsError::Timeout => "DNS query timed out",
            DnsError::Malformed => "unusable DNS answer",
            DnsError::UnknownQuery => "unknown DNS query",
        })
    }
}

/// Why [`Stack::dns_set_servers`] refused a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsServersError {
    /// More than `DNS_SERVERS` addresses.
    TooMany,
    /// 0.0.0.0, a broadcast or a multicast address.
    Invalid,
}

impl fmt::Display for DnsServersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DnsServersError::TooMany => "too many DNS servers",
            DnsServersError::Invalid => "invalid DNS server address",
        })
    }
}

/// The addresses of a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsAnswer {
    /// The A records, in the order of the response, at most
    /// `DNS_MAX_ADDRESSES` (never empty).
    pub addresses: Vec<Ipv4Addr, DNS_MAX_ADDRESSES>,
    /// Seconds the answer stays valid (the smallest TTL of the records it
    /// comes from; what is left of it for a cached answer); `u32::MAX` for
    /// an IPv4 literal.
    pub ttl: u32,
}

impl Stack {
    /// Starts resolving `name`: an IPv4 literal (`"192.0.2.7"`) or a cached
    /// name completes at once ([`Stack::dns_result`] is `Ready`
    /// immediately, and no [`Event::DnsDone`](crate::event::Event::DnsDone)
    /// follows); any other name is asked of the servers by the next
    /// [`Stack::dispatch`], and an `Event::DnsDone` tells when it is
    /// finished. Cache expiry is judged at the time the stack last ran.
    pub fn dns_query(&mut self, name: &str) -> Result<DnsQuery, DnsStartError> {
        let now = self.net.clock;
        self.dns.start(&mut self.net, name, now)
    }

    /// `Ready(outcome)` once finished, which frees the query's slot (a
    /// second call gives `Ready(Err(UnknownQuery))`); `Pending` while in
    /// flight.
    pub fn dns_result(&mut self, q: DnsQuery) -> Poll<Result<DnsAnswer, DnsError>> {
        self.dns.take(q)
    }

    /// Abandons a query (no event follows); stale handles are ignored.
    pub fn dns_cancel(&mut self, q: DnsQuery) {
        self.dns.cancel(q);
    }

    /// Sets the servers given by hand (they are tried before the ones DHCP
    /// learned); `Err(TooMany)` beyond `DNS_SERVERS`, `Err(Invalid)` for
    /// 0.0.0.0, broadcast or multicast addresses. An empty list removes
    /// them.
    pub fn dns_set_servers(&mut self, servers: &[Ipv4Addr]) -> Result<(), DnsServersError> {
        self.dns.servers.set_manual(servers)
    }

    /// The servers in the order they are tried: by hand first, then learned
    /// from DHCP (deduplicated), at most `DNS_SERVERS`.
    pub fn dns_servers(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        self.dns.servers.list().into_iter()
    }

    /// Empties the cache.
    pub fn dns_flush_cache(&mut self) {
        self.dns.cache.flush();
    }
}
