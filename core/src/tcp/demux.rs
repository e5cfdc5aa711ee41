//! Constant-time demultiplexing of incoming segments.
//!
//! One open-addressing hash table maps a connection's 4-tuple to the slot
//! that owns it: a socket, or a half-open entry of the SYN queue. Listening
//! sockets are entered with the remote half zero. A lookup costs at most
//! three probes sequences (exact 4-tuple, listener on the address, listener
//! on the wildcard address), whatever the number of sockets; the table is
//! kept at most half full, so each probe sequence is short.
//!
//! The hash is keyed with a secret, so a remote host cannot choose 4-tuples
//! that collide on purpose.

use crate::addr::{Ipv4Addr, SocketAddrV4};
use crate::config::{TCP_SOCKETS, TCP_SYN_BACKLOG};

/// Slots: at least twice the entries, a power of two.
const SLOTS: usize = (2 * (TCP_SOCKETS + TCP_SYN_BACKLOG) + 2).next_power_of_two();

/// What a table entry points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// A socket slot.
    Socket(u16),
    /// A SYN-queue entry.
    Request(u16),
}

/// A connection's addresses, or a listener's (remote all zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// Our address and port.
    pub local: SocketAddrV4,
    /// The peer's address and port (zero for a listener).
    pub remote: SocketAddrV4,
}

const UNSPECIFIED: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0);

impl Key {
    /// The key of a listener on `local`.
    pub const fn listener(local: SocketAddrV4) -> Key {
        Key {
            local,
            remote: UNSPECIFIED,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    key: Key,
    owner: Owner,
}

/// Bytes one slot of the table takes.
pub const SLOT_BYTES: usize = core::mem::size_of::<Option<Entry>>();

/// The table was full (cannot happen while the entries stay within
/// `TCP_SOCKETS + TCP_SYN_BACKLOG`, but is reported rather than assumed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableFull;

/// The demultiplexing table.
pub struct Demux {
    slots: [Option<Entry>; SLOTS],
    seed: u64,
    len: usize,
}

impl Demux {
    /// An empty table whose hash is keyed with `seed`.
    pub const fn new(seed: u64) -> Self {
        Demux {
            slots: [None; SLOTS],
            seed,
            len: 0,
        }
    }

    fn hash(&self, key: &Key) -> usize {
        // A keyed multiply-xorshift mix (as in splitmix64) of the 96 bits.
        let a = u64::from(key.local.ip().to_bits()) << 32 | u64::from(key.remote.ip().to_bits());
        let b = u64::from(key.local.port()) << 16 | u64::from(key.remote.port());
        let mut z = a ^ self.seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z ^= b.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ self.seed.rotate_left(17);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z as usize) & (SLOTS - 1)
    }

    fn find(&self, key: &Key) -> Option<usize> {
        let mut i = self.hash(key);
        for _ in 0..SLOTS {
            match &self.slots[i] {
                None => return None,
                Some(e) if e.key == *key => return Some(i),
                Some(_) => i = (i + 1) & (SLOTS - 1),
            }
        }
        None
    }

    /// The owner of exactly `key`.
    pub fn get(&self, key: &Key) -> Option<Owner> {
        self.find(key).and_then(|i| self.slots[i].map(|e| e.owner))
    }

    /// The owner of a segment from `remote` to `local`: the connection,
    /// else a listener on `local`, else a listener on the wildcard address.
    pub fn lookup(&self, local: SocketAddrV4, remote: SocketAddrV4) -> Option<Owner> {
        self.get(&Key { local, remote })
            .or_else(|| self.get(&Key::listener(local)))
            .or_else(|| {
                self.get(&Key::listener(SocketAddrV4::new(
                    Ipv4Addr::UNSPECIFIED,
                    local.port(),
                )))
            })
    }

    /// Adds or replaces the owner of `key`.
    pub fn insert(&mut self, key: Key, owner: Owner) -> Result<(), TableFull> {
        if let Some(i) = self.find(&key) {
            self.slots[i] = Some(Entry { key, owner });
            return Ok(());
        }
        if self.len + 1 > SLOTS - 1 {
            return Err(TableFull);
        }
        let mut i = self.hash(&key);
        while self.slots[i].is_some() {
            i = (i + 1) & (SLOTS - 1);
        }
        self.slots[i] = Some(Entry { key, owner });
        self.len += 1;
        Ok(())
    }

    /// Removes `key` (if it is owned by `owner`); backward-shift deletion
    /// keeps every probe sequence unbroken without tombstones.
    pub fn remove(&mut self, key: &Key, owner: Owner) {
        let Some(mut hole) = self.find(key) else {
            return;
        };
        if self.slots[hole].map(|e| e.owner) != Some(owner) {
            return;
        }
        self.slots[hole] = None;
        self.len -= 1;
        let mut i = hole;
        loop {
            i = (i + 1) & (SLOTS - 1);
            let Some(e) = self.slots[i] else { return };
            let home = self.hash(&e.key);
            // Move `e` into the hole if its home is not in (hole, i].
            let dist_home = i.wrapping_sub(home) & (SLOTS - 1);
            let dist_hole = i.wrapping_sub(hole) & (SLOTS - 1);
            if dist_home >= dist_hole {
                self.slots[hole] = Some(e);
                self.slots[i] = None;
                hole = i;
            }
        }
    }

    /// Entries in the table.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: u32) -> Key {
        Key {
            local: SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 2), 80),
            remote: SocketAddrV4::new(Ipv4Addr::from_bits(0xc633_6400 + (i % 7)), 1024 + i as u16),
        }
    }

    #[test]
    fn insert_lookup_remove_against_a_model() {
        let mut d = Demux::new(0x1234_5678);
        let mut model: Vec<Option<Owner>> = vec![None; 200];
        let mut x: u64 = 99;
        let cap = TCP_SOCKETS + TCP_SYN_BACKLOG;
        for step in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let i = (x % 200) as usize;
            let live = model.iter().filter(|m| m.is_some()).count();
            if model[i].is_none() && live < cap {
                d.insert(key(i as u32), Owner::Socket(step as u16)).unwrap();
                model[i] = Some(Owner::Socket(step as u16));
            } else if let Some(o) = model[i] {
                d.remove(&key(i as u32), o);
                model[i] = None;
            }
            if step % 97 == 0 {
                for (j, m) in model.iter().enumerate() {
                    assert_eq!(d.get(&key(j as u32)), *m, "step {step} key {j}");
                }
                assert_eq!(d.len(), model.iter().filter(|m| m.is_some()).count());
            }
        }
    }

    #[test]
    fn listeners_match_after_connections() {
        let mut d = Demux::new(7);
        let local = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 2), 80);
        let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 80);
        let peer = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 5555);
        assert_eq!(d.lookup(local, peer), None);
        d.insert(Key::listener(any), Owner::Socket(1)).unwrap();
        assert_eq!(d.lookup(local, peer), Some(Owner::Socket(1)));
        d.insert(Key::listener(local), Owner::Socket(2)).unwrap();
        assert_eq!(
            d.lookup(local, peer),
            Some(Owner::Socket(2)),
            "specific address wins"
        );
        d.insert(
            Key {
                local,
                remote: peer,
            },
            Owner::Request(0),
        )
        .unwrap();
        assert_eq!(d.lookup(local, peer), Some(Owner::Request(0)));
        d.remove(
            &Key {
                local,
                remote: peer,
            },
            Owner::Socket(9),
        );
        assert_eq!(
            d.lookup(local, peer),
            Some(Owner::Request(0)),
            "wrong owner: not removed"
        );
    }
}
