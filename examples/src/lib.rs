//! Shared code for the wolfip examples.
