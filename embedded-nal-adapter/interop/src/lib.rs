//! Interoperability tests of `wolfip-nal` with real clients and servers;
//! everything is in `tests/` (the library is empty on purpose: the
//! package exists to keep the clients' dependencies out of the adapter).
