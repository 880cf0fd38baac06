//! The one integration test binary (ripgrep's layout): one module per area.

mod cli;
mod fmt;
mod util;
mod validate;
