//! The driver contract: how frames move between a network driver and the
//! stack.
//!
//! A driver implements [`Device`]. Frames are whole Ethernet II frames with
//! their 14-byte header intact (no preamble, no FCS), exactly as a Zephyr L2
//! module or a Linux TAP device hands them over.
//!
//! * [`Device::receive`] copies one waiting frame into the stack's buffer, or
//!   says there is none. It never blocks.
//! * [`Device::transmit`] takes one frame or answers [`TxBusy`]; the stack then
//!   keeps the frame and offers it again at its next run. It never blocks.
//!
//! Both calls get the current time, so wrappers (pcap writer, simulated link,
//! fault injector) can stamp or schedule frames without a clock of their own.

#[cfg(feature = "std")]
pub mod fault;
#[cfg(feature = "std")]
pub mod pcap;
#[cfg(feature = "std")]
pub mod sim;

use crate::time::Instant;

/// The driver cannot take a frame right now; offer it again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxBusy;

/// A network driver as the stack sees it.
pub trait Device {
    /// Copies one received frame into `buf` and returns its length, or
    /// returns `None` when no frame is waiting. A frame longer than `buf` is
    /// dropped by the driver (and counted there), never truncated.
    fn receive(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize>;

    /// Hands one complete frame to the driver. Returns [`TxBusy`] when the
    /// driver has no room now; the frame stays with the caller.
    fn transmit(&mut self, now: Instant, frame: &[u8]) -> Result<(), TxBusy>;
}

impl<D: Device + ?Sized> Device for &mut D {
    fn receive(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        (**self).receive(now, buf)
    }
    fn transmit(&mut self, now: Instant, frame: &[u8]) -> Result<(), TxBusy> {
        (**self).transmit(now, frame)
    }
}
