//! Progress events of an apply (Terraform's hooks): core emits them, renderers (human
//! lines, JSON lines) consume them through an [`EventSink`]. Core never prints.

use crate::addr::ResourceAddr;
use std::time::Duration;

/// What is being done to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// Creating (or resuming a create).
    Create,
    /// Updating in place.
    Update,
    /// Destroying.
    Delete,
    /// Reading a data source.
    Read,
}

impl Verb {
    /// `create`, `update`, `delete`, `read` (JSON `action`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Verb::Create => "create",
            Verb::Update => "update",
            Verb::Delete => "delete",
            Verb::Read => "read",
        }
    }
}

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Work on a resource started.
    Start {
        /// Address.
        addr: ResourceAddr,
        /// What.
        verb: Verb,
        /// The id when resuming or updating.
        id: Option<String>,
    },
    /// Still waiting.
    Progress {
        /// Address.
        addr: ResourceAddr,
        /// What.
        verb: Verb,
        /// Time since start.
        elapsed: Duration,
        /// The cloud's progress percentage, when reported.
        percent: Option<u8>,
        /// The cloud's status word.
        status: String,
    },
    /// Done.
    Complete {
        /// Address.
        addr: ResourceAddr,
        /// What.
        verb: Verb,
        /// Time taken.
        elapsed: Duration,
        /// The object's id.
        id: Option<String>,
    },
    /// Failed.
    Errored {
        /// Address.
        addr: ResourceAddr,
        /// What.
        verb: Verb,
        /// Time taken.
        elapsed: Duration,
        /// Why, with the cloud's Code, Message and RequestId.
        error: String,
    },
    /// Not started because a dependency failed or the run was interrupted.
    Skipped {
        /// Address.
        addr: ResourceAddr,
        /// Why.
        reason: String,
    },
    /// A warning worth a line (retries, lock takeover).
    Warning(String),
    /// The refresh is about to read an object (Terraform's `refresh_start`).
    RefreshStart {
        /// Address.
        addr: ResourceAddr,
        /// The object's id.
        id: String,
    },
    /// The refresh read an object (Terraform's `refresh_complete`).
    RefreshComplete {
        /// Address.
        addr: ResourceAddr,
        /// The object's id.
        id: String,
    },
}

/// Receives events.
pub trait EventSink: Send + Sync {
    /// Handles one event.
    fn emit(&self, e: Event);
}

/// Drops every event.
pub struct Discard;

impl EventSink for Discard {
    fn emit(&self, _: Event) {}
}
