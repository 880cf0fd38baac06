//! The one integration test binary (ripgrep's layout): one module per area.

mod architecture;
mod checks;
mod cli;
mod client;
mod conformance;
mod core;
mod corpus;
mod dynamic;
mod e2e;
mod files;
mod fmt;
mod fuzz;
mod fuzz_readers;
mod killharness;
mod language;
mod localcloud;
mod modules;
mod pg;
mod prtools;
mod refresh;
mod reliability;
mod render;
mod sensitive;
mod signing;
mod util;
mod validate;
