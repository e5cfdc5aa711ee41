//! `getaddrinfo`, `freeaddrinfo` and `gai_strerror` for C, with glibc's
//! `EAI_*` codes ([`crate::resolve`] decides what a call gives).
//!
//! The results live in a fixed pool: [`ADDRINFO_MAX`] blocks (build-time
//! `WOLFIP_ADDRINFO_MAX`, default 16), each one `struct addrinfo`, its
//! `struct sockaddr_in` and room for `ai_canonname`. One result of a call
//! takes one block; a call takes all it needs or none (`EAI_MEMORY`).
//! `freeaddrinfo` gives back the blocks of the list it is handed, from that
//! element on, following the pool's own links (not `ai_next`, which the
//! caller may have changed); a pointer that is not the start of a block in
//! use (a second free, someone else's memory) is ignored.

use super::{eng, set_errno};
use crate::errno::Errno;
use crate::resolve::{self, AddrList, Eai, Hints, MAX_RESULTS};
use core::cell::UnsafeCell;
use core::ffi::CStr;
use core::mem::size_of;
use libc::{addrinfo, c_char, c_int, sockaddr_in, socklen_t};
use std::sync::{Mutex, MutexGuard};
use wolfip_core::config::env_or;

/// Result blocks in the pool (`WOLFIP_ADDRINFO_MAX`; Zephyr:
/// `DNS_RESOLVER_AI_MAX_ENTRIES`).
pub const ADDRINFO_MAX: usize = env_or(option_env!("WOLFIP_ADDRINFO_MAX"), 16);

const _: () = assert!(
    ADDRINFO_MAX >= 1 && ADDRINFO_MAX < u16::MAX as usize,
    "WOLFIP_ADDRINFO_MAX must be 1..65535"
);

/// Room for `ai_canonname`: the longest DNS name (253 characters) and its
/// NUL fit.
pub const CANONNAME_MAX: usize = 256;

/// One result: what C sees, in one piece.
#[repr(C)]
struct Block {
    ai: addrinfo,
    sin: sockaddr_in,
    canon: [c_char; CANONNAME_MAX],
}

/// A block of the pool. `repr(transparent)`: a pointer to the slot is a
/// pointer to its `addrinfo`.
#[repr(transparent)]
struct Slot(UnsafeCell<Block>);

// SAFETY: a block is written only by the thread that took it from the free
// list under the pool's lock, before the call returns it; afterwards only
// the C caller reads it, until it gives the block back. No two threads
// ever touch one block at once unless the C caller shares a result it
// owns, which is read-only.
unsafe impl Sync for Slot {}

impl Slot {
    const fn new() -> Slot {
        Slot(UnsafeCell::new(Block {
            ai: addrinfo {
                ai_flags: 0,
                ai_family: 0,
                ai_socktype: 0,
                ai_protocol: 0,
                ai_addrlen: 0,
                ai_addr: core::ptr::null_mut(),
                ai_canonname: core::ptr::null_mut(),
                ai_next: core::ptr::null_mut(),
            },
            sin: sockaddr_in {
                sin_family: 0,
                sin_port: 0,
                sin_addr: libc::in_addr { s_addr: 0 },
                sin_zero: [0; 8],
            },
            canon: [0; CANONNAME_MAX],
        }))
    }
}

/// Which blocks are in use, and how the blocks of one result are linked.
struct Links {
    used: [bool; ADDRINFO_MAX],
    /// The next block of the same result (`NONE`: the last).
    next: [u16; ADDRINFO_MAX],
}

const NONE: u16 = u16::MAX;

struct Pool {
    slots: [Slot; ADDRINFO_MAX],
    links: Mutex<Links>,
}

static POOL: Pool = Pool {
    slots: [const { Slot::new() }; ADDRINFO_MAX],
    links: Mutex::new(Links {
        used: [false; ADDRINFO_MAX],
        next: [NONE; ADDRINFO_MAX],
    }),
};

impl Pool {
    fn links(&self) -> MutexGuard<'_, Links> {
        self.links.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes `n` free blocks, linked in order; `None` when fewer are free.
    fn take(&self, n: usize) -> Option<([usize; MAX_RESULTS], usize)> {
        let mut got = [0usize; MAX_RESULTS];
        let mut l = self.links();
        let free = (0..ADDRINFO_MAX).filter(|&i| !l.used[i]);
        let mut k = 0;
        for (slot, i) in got.iter_mut().take(n).zip(free) {
            *slot = i;
            k += 1;
        }
        if k < n {
            return None;
        }
        for (j, &i) in got[..n].iter().enumerate() {
            l.used[i] = true;
            l.next[i] = if j + 1 < n { got[j + 1] as u16 } else { NONE };
        }
        Some((got, n))
    }

    /// The index of the block `p` starts, if it is one of ours.
    fn index_of(&self, p: *const addrinfo) -> Option<usize> {
        let base = self.slots.as_ptr() as usize;
        let off = (p as usize).checked_sub(base)?;
        let i = off / size_of::<Slot>();
        (off % size_of::<Slot>() == 0 && i < ADDRINFO_MAX).then_some(i)
    }

    /// Gives back the blocks of the result from `p` on.
    fn give_back(&self, p: *const addrinfo) {
        let Some(mut i) = self.index_of(p) else {
            return;
        };
        let mut l = self.links();
        if !l.used[i] {
            return;
        }
        // Freed from the middle: the list's earlier blocks end here now
        // (glibc frees from the element given to the end).
        for n in l.next.iter_mut().filter(|n| usize::from(**n) == i) {
            *n = NONE;
        }
        while l.used[i] {
            l.used[i] = false;
            let n = l.next[i];
            l.next[i] = NONE;
            if n == NONE {
                break;
            }
            i = usize::from(n);
        }
    }

    /// Blocks in use (for tests and diagnostics).
    fn in_use(&self) -> usize {
        self.links().used.iter().filter(|&&u| u).count()
    }

    fn block(&self, i: usize) -> *mut Block {
        self.slots[i].0.get()
    }
}

/// Blocks of the result pool in use now.
pub fn addrinfo_in_use() -> usize {
    POOL.in_use()
}

/// Writes the results into blocks of the pool; the list's head, or
/// `EAI_MEMORY`.
fn store(list: &AddrList, canon: Option<&[u8]>) -> Result<*mut addrinfo, Eai> {
    let items = list.as_slice();
    if canon.is_some_and(|c| c.len() >= CANONNAME_MAX) {
        return Err(Eai::OVERFLOW);
    }
    let (blocks, n) = POOL.take(items.len()).ok_or(Eai::MEMORY)?;
    let blocks = &blocks[..n];
    for (j, (item, &i)) in items.iter().zip(blocks).enumerate() {
        let b = POOL.block(i);
        let next = blocks
            .get(j + 1)
            .map_or(core::ptr::null_mut(), |&k| POOL.block(k).cast::<addrinfo>());
        let sin = super::addr::to_sin(item.addr);
        // SAFETY: block `i` was just taken from the free list under the
        // pool's lock, so this thread is its only user (see `Slot`); the
        // pointers written point into the static pool.
        unsafe {
            let canonname = match canon {
                Some(name) if j == 0 => {
                    let dst = core::ptr::addr_of_mut!((*b).canon).cast::<u8>();
                    core::ptr::copy_nonoverlapping(name.as_ptr(), dst, name.len());
                    *dst.add(name.len()) = 0;
                    dst.cast::<c_char>()
                }
                _ => core::ptr::null_mut(),
            };
            core::ptr::addr_of_mut!((*b).sin).write(sin);
            core::ptr::addr_of_mut!((*b).ai).write(addrinfo {
                ai_flags: item.flags,
                ai_family: libc::AF_INET,
                ai_socktype: item.socktype,
                ai_protocol: item.protocol,
                ai_addrlen: size_of::<sockaddr_in>() as socklen_t,
                ai_addr: core::ptr::addr_of_mut!((*b).sin).cast::<libc::sockaddr>(),
                ai_canonname: canonname,
                ai_next: next,
            });
        }
    }
    Ok(blocks
        .first()
        .map_or(core::ptr::null_mut(), |&i| POOL.block(i).cast::<addrinfo>()))
}

/// A nullable C string as bytes.
///
/// # Safety
/// `s` must be null or a valid NUL-terminated string.
unsafe fn bytes<'a>(s: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: non-null and NUL-terminated (contract).
    (!s.is_null()).then(|| unsafe { CStr::from_ptr(s) }.to_bytes())
}

/// `getaddrinfo(3)` for IPv4: literals and `localhost` at once, other names
/// through the stack's DNS resolver (the call blocks until it answers or
/// gives up). Returns 0 and the list in `*res`, or an `EAI_*` code (see
/// `docs/c-api.md`). `res` NULL is `EAI_SYSTEM` with `errno` `EFAULT`.
///
/// # Safety
/// `node` and `service` must be NULL or valid NUL-terminated strings,
/// `hints` NULL or a valid `struct addrinfo`, `res` valid for writing.
#[no_mangle]
pub unsafe extern "C" fn wolfip_getaddrinfo(
    node: *const c_char,
    service: *const c_char,
    hints: *const addrinfo,
    res: *mut *mut addrinfo,
) -> c_int {
    if res.is_null() {
        set_errno(Errno::EFAULT);
        return Eai::SYSTEM.0;
    }
    // SAFETY: contract.
    let (node, service) = unsafe { (bytes(node), bytes(service)) };
    let h = if hints.is_null() {
        Hints::default()
    } else {
        // SAFETY: a valid addrinfo (contract).
        let h = unsafe { &*hints };
        Hints {
            flags: h.ai_flags,
            family: h.ai_family,
            socktype: h.ai_socktype,
            protocol: h.ai_protocol,
        }
    };
    let engine = match eng() {
        Ok(e) => e,
        Err(e) => {
            set_errno(e);
            return Eai::SYSTEM.0;
        }
    };
    let canon = node.filter(|_| h.flags & libc::AI_CANONNAME != 0);
    match resolve::getaddrinfo(engine, node, service, &h).and_then(|l| store(&l, canon)) {
        Ok(head) => {
            // SAFETY: valid for writing (contract).
            unsafe { *res = head };
            0
        }
        Err(e) => e.0,
    }
}

/// `freeaddrinfo(3)`: gives the blocks of a list from `getaddrinfo` back
/// to the pool, from `res` to the end of its list. NULL, a pointer the
/// pool did not hand out, and a second free of the same list are ignored.
#[no_mangle]
pub extern "C" fn wolfip_freeaddrinfo(res: *mut addrinfo) {
    POOL.give_back(res);
}

/// `gai_strerror(3)`: glibc's text for an `EAI_*` code, in a static
/// string.
#[no_mangle]
pub extern "C" fn wolfip_gai_strerror(errcode: c_int) -> *const c_char {
    Eai(errcode).message().as_ptr()
}
