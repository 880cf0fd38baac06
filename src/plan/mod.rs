//! Plans: what will happen ([`model`]) and the pure function from configuration and
//! refreshed state to a plan ([`build`]). Synchronous and deterministic: no network (data
//! sources and imports are read through the [`build::Reader`] the caller supplies) and no
//! printing. [`mod@file`] holds the saved plan file's format and staleness checks.

pub mod build;
pub mod checks;
pub mod configuration;
pub mod diff;
pub mod file;
pub mod model;
pub mod phases;
