//! The dependency graph as Graphviz DOT or a Mermaid flowchart, in a stable order.

use crate::config::check::Node;
use crate::diag::Span;
use crate::graph::Dag;

fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// DOT, edges pointing from a dependency to its dependent.
pub fn dot(g: &Dag<Node, Span>) -> String {
    let mut out = String::from("digraph imgform {\n  rankdir = \"LR\"\n");
    for n in g.nodes() {
        let shape = match n {
            Node::Resource(_) => "box",
            Node::Output(_) => "note",
            _ => "ellipse",
        };
        out.push_str(&format!("  {} [shape = {shape}]\n", quote(&n.to_string())));
    }
    for (a, b, _) in g.edges() {
        out.push_str(&format!(
            "  {} -> {}\n",
            quote(&a.to_string()),
            quote(&b.to_string())
        ));
    }
    out.push_str("}\n");
    out
}

/// A Mermaid `flowchart LR`.
pub fn mermaid(g: &Dag<Node, Span>) -> String {
    let ids: std::collections::BTreeMap<String, String> = g
        .nodes()
        .enumerate()
        .map(|(i, n)| (n.to_string(), format!("n{i}")))
        .collect();
    let mut out = String::from("flowchart LR\n");
    for n in g.nodes() {
        let name = n.to_string();
        let label = name.replace('"', "#quot;");
        let (open, close) = match n {
            Node::Resource(_) => ("[\"", "\"]"),
            Node::Output(_) => ("[/\"", "\"/]"),
            _ => ("(\"", "\")"),
        };
        out.push_str(&format!("  {}{open}{label}{close}\n", ids[&name]));
    }
    for (a, b, _) in g.edges() {
        out.push_str(&format!(
            "  {} --> {}\n",
            ids[&a.to_string()],
            ids[&b.to_string()]
        ));
    }
    out
}
