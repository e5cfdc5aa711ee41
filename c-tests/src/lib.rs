//! # wolfip-c-tests
//!
//! No library code: this package holds C programs and the Rust tests that
//! build and run them, each once against the Linux kernel's sockets and
//! once against the wolfip BSD layer's C library (`libwolfip_bsd.a`,
//! `<wolfip_posix.h>`), and compare the two.
//!
//! * `errno/`: the errno conformance suite, one program of several hundred
//!   cases, one output line each; `errno/linux.out` is the Linux snapshot and
//!   `errno/DIFFERENCES.md` lists the cases where wolfip knowingly differs
//!   (`tests/errno_conformance.rs`).
//! * `tests/common/`: the shared harness (building the C library and the
//!   programs, network namespaces, running with a time limit).
//!
//! The tests need root and `/dev/net/tun`; without them they print why and
//! pass, unless `CI=true`.
