//! Linux TAP device for wolfip.
