//! The narrow interface to Alibaba Cloud ECS: signing ([`sign`]), credentials ([`creds`]),
//! typed operations ([`ops`]), the HTTP client with retries ([`client`], [`retry`]) and one
//! error type ([`error`]). It knows nothing about plans, state or addresses beyond an id.

pub mod client;
pub mod creds;
pub mod error;
pub mod ops;
pub mod retry;
pub mod sign;
pub mod waiter;
