//! The one integration test binary (ripgrep's layout): one module per area.

mod cli;
mod client;
mod fmt;
mod signing;
mod util;
mod validate;
