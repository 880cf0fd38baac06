//! Formatting for people and programs: diagnostics (rustc-style snippets, and Terraform's
//! `validate -json` shape) and dependency graphs (DOT, Mermaid). Renderers format what core
//! computed; they compute nothing themselves.

pub mod apply;
pub mod diag;
pub mod graph;
pub mod json;
pub mod plan;
pub mod state;
pub mod value;
