//! imgform: plan and apply for Alibaba Cloud ECS custom images, described in HCL.
//!
//! # A map of the codebase
//!
//! A request flows from the command line to the cloud through these modules:
//!
//! - [`cli`] parses argv, calls one operation per command, prints (through [`render`]) and
//!   says how the command ended; `main.rs` alone turns that into the exit code.
//! - [`ops`] holds the operations the commands call (plan, apply, adopting a Terraform
//!   state) and the run context they share ([`ops::Run`]); they print nothing.
//! - [`config`] reads `*.hcl` files with hcl-edit into a spanned [`config::Config`],
//!   gathers variable values, extracts references, builds the dependency graph, evaluates
//!   expressions (with unknowns) and validates every instance against its schema:
//!   [`config::check::load`] is the entry point.
//! - [`resource`] owns the resource kinds, one file each: schemas with the provider's
//!   attribute names, what forces replacement, the API's value rules, and the
//!   [`resource::Kind`] implementation (create request, waits, updates, read-back,
//!   delete); [`resource::KINDS`] registers them.
//! - [`plan`] is the pure planner, in named phases ([`plan::phases`]; one diff per
//!   attribute, by the schema's type; the objects its creates name checked in the cloud in
//!   batches, [`plan::checks`], by the rules of [`resource::objects`]) and the saved plan
//!   file.
//! - [`apply`] reaches the cloud: the session (clients, batched pollers), refresh, import,
//!   and the apply walk, generic over the kind.
//! - [`cloud`] is the ECS client: signing, credentials, typed operations, retries, one
//!   error type, the transport, and the waiter every wait goes through.
//! - [`state`] is what imgform knows exists: the SQLite and PostgreSQL backends behind one
//!   trait, the lock guards, and the state edits commands make.
//! - [`localcloud`] is the simulated ECS region (`cloud serve`, `--cloud local`), also
//!   in-process behind the client's transport for tests of the core.
//! - [`events`] carries apply progress from the walk to renderers.
//! - [`graph`] is a generic DAG (cycles with every member, topological order) and the
//!   ready-set walker over a petgraph graph.
//! - [`diag`] holds diagnostics with source spans, collected rather than stopped at.
//! - [`addr`] owns resource addresses and their one string form.
//! - [`value`] is the evaluated value type with an explicit `Unknown`.
//! - [`render`] formats diagnostics, validate JSON and graphs for people and programs.
//! - [`crash`] holds the kill harness's crash points (`IMGFORM_CRASH_AT`): named points of
//!   a create, the N-th state write, the N-th API answer.
//!
//! Core modules never print; only `cli` and `render` write to stdout/stderr.

#![warn(missing_docs)]

pub mod addr;
pub mod apply;
pub mod cli;
pub mod cloud;
pub mod config;
pub mod crash;
pub mod diag;
pub mod events;
pub mod graph;
pub mod localcloud;
pub mod ops;
pub mod plan;
pub mod render;
pub mod resource;
pub mod state;
pub mod value;
