//! Runnable programs that show crdtype at work: see the `[[example]]` entries of this crate.
