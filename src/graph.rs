//! A generic directed acyclic graph over any node type, on petgraph.
//!
//! Edges point from a dependency to its dependent. The graph knows nothing about
//! resources: it offers topological order, every cycle with all of its members (petgraph's
//! `toposort` names only one), and the in-degree bookkeeping a ready-queue walk needs.

use petgraph::algo::kosaraju_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;
use std::collections::HashMap;
use std::hash::Hash;

/// One cycle: its members, and the edges between them.
pub type Cycle<'a, N, E> = (Vec<&'a N>, Vec<(&'a N, &'a N, &'a E)>);

/// A DAG (once [`Dag::cycles`] is empty) of `N` with edge labels `E`.
#[derive(Debug, Clone)]
pub struct Dag<N: Ord + Clone + Hash, E: Clone> {
    g: DiGraph<N, E>,
    /// Hashed: a graph of 50,000 resources spent half of `validate` comparing node names
    /// in an ordered index; order is given where it is asked for.
    index: HashMap<N, NodeIndex>,
}

impl<N: Ord + Clone + Hash, E: Clone> Default for Dag<N, E> {
    fn default() -> Self {
        Dag {
            g: DiGraph::new(),
            index: HashMap::new(),
        }
    }
}

impl<N: Ord + Clone + Hash, E: Clone> Dag<N, E> {
    /// An empty graph.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a node (idempotent).
    pub fn add_node(&mut self, n: N) -> NodeIndex {
        if let Some(i) = self.index.get(&n) {
            return *i;
        }
        let i = self.g.add_node(n.clone());
        self.index.insert(n, i);
        i
    }

    /// Adds an edge `from -> to`: `to` depends on `from`. Duplicate edges are kept once.
    pub fn add_edge(&mut self, from: N, to: N, label: E) {
        let a = self.add_node(from);
        let b = self.add_node(to);
        if self.g.find_edge(a, b).is_none() {
            self.g.add_edge(a, b, label);
        }
    }

    /// True when the node exists.
    pub fn contains(&self, n: &N) -> bool {
        self.index.contains_key(n)
    }

    /// Nodes in their natural order.
    pub fn nodes(&self) -> impl Iterator<Item = &N> {
        let mut v: Vec<&N> = self.g.node_weights().collect();
        v.sort();
        v.into_iter()
    }

    /// Every edge as (from, to, label), sorted by (from, to).
    pub fn edges(&self) -> Vec<(&N, &N, &E)> {
        let mut out: Vec<_> = self
            .g
            .edge_indices()
            .filter_map(|e| {
                let (a, b) = self.g.edge_endpoints(e)?;
                Some((&self.g[a], &self.g[b], &self.g[e]))
            })
            .collect();
        out.sort_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)));
        out
    }

    /// The nodes `n` depends on, sorted.
    pub fn dependencies(&self, n: &N) -> Vec<&N> {
        self.neighbors(n, Direction::Incoming)
    }

    /// The nodes that depend on `n`, sorted.
    pub fn dependents(&self, n: &N) -> Vec<&N> {
        self.neighbors(n, Direction::Outgoing)
    }

    fn neighbors(&self, n: &N, dir: Direction) -> Vec<&N> {
        let Some(i) = self.index.get(n) else {
            return Vec::new();
        };
        let mut v: Vec<&N> = self
            .g
            .neighbors_directed(*i, dir)
            .map(|j| &self.g[j])
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Every cycle: each strongly connected component with more than one node, or a node
    /// with an edge to itself. Members are sorted; each cycle comes with the edges inside it.
    pub fn cycles(&self) -> Vec<Cycle<'_, N, E>> {
        let mut out = Vec::new();
        // Kosaraju walks with an explicit stack: a 200,000-long chain of locals must not
        // overflow the call stack as a recursive Tarjan does.
        for scc in kosaraju_scc(&self.g) {
            let self_loop = scc.len() == 1 && self.g.find_edge(scc[0], scc[0]).is_some();
            if scc.len() < 2 && !self_loop {
                continue;
            }
            let mut members: Vec<&N> = scc.iter().map(|i| &self.g[*i]).collect();
            members.sort();
            let inside: std::collections::BTreeSet<NodeIndex> = scc.iter().copied().collect();
            let mut edges = Vec::new();
            for &a in &scc {
                for e in self.g.edges_directed(a, Direction::Outgoing) {
                    use petgraph::visit::EdgeRef;
                    if inside.contains(&e.target()) {
                        edges.push((&self.g[a], &self.g[e.target()], e.weight()));
                    }
                }
            }
            edges.sort_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)));
            out.push((members, edges));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// A topological order (dependencies first), ties broken by node order so the result is
    /// deterministic. `None` when the graph has a cycle.
    pub fn topo_order(&self) -> Option<Vec<&N>> {
        // In-degrees by index (distinct dependencies, as `dependencies` counts them); only
        // the ready set is ordered by node.
        let distinct = |i: NodeIndex, dir: Direction| {
            let mut v: Vec<NodeIndex> = self.g.neighbors_directed(i, dir).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let mut indeg: Vec<usize> = self
            .g
            .node_indices()
            .map(|i| distinct(i, Direction::Incoming).len())
            .collect();
        let mut ready: std::collections::BTreeSet<(&N, NodeIndex)> = self
            .g
            .node_indices()
            .filter(|i| indeg[i.index()] == 0)
            .map(|i| (&self.g[i], i))
            .collect();
        let mut out = Vec::with_capacity(indeg.len());
        while let Some((n, i)) = ready.pop_first() {
            out.push(n);
            for j in distinct(i, Direction::Outgoing) {
                let d = &mut indeg[j.index()];
                *d -= 1;
                if *d == 0 {
                    ready.insert((&self.g[j], j));
                }
            }
        }
        (out.len() == indeg.len()).then_some(out)
    }
}

/// Where a node of a [`ReadyWalk`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkState {
    /// Some dependency has not finished.
    Waiting,
    /// Handed out by [`ReadyWalk::next_ready`].
    Running,
    /// Finished.
    Done,
    /// Failed, or skipped because a dependency did not complete.
    Failed,
}

/// The ready set of a concurrent walk over nodes `0..n`: a node is ready once all its
/// dependencies are done, and a failure skips everything downstream. Each finish costs
/// the finished node's dependents, so a walk costs O(nodes + edges).
#[derive(Debug, Clone)]
pub struct ReadyWalk {
    missing: Vec<usize>,
    dependents: Vec<Vec<usize>>,
    state: Vec<WalkState>,
    ready: std::collections::VecDeque<usize>,
}

impl ReadyWalk {
    /// A walk where node `i` depends on each node of `deps[i]` (indices below `deps.len()`;
    /// duplicates are ignored).
    pub fn new(deps: &[Vec<usize>]) -> ReadyWalk {
        let n = deps.len();
        let mut missing = vec![0; n];
        let mut dependents = vec![Vec::new(); n];
        for (i, d) in deps.iter().enumerate() {
            let mut d: Vec<usize> = d.iter().copied().filter(|&j| j != i && j < n).collect();
            d.sort_unstable();
            d.dedup();
            missing[i] = d.len();
            for j in d {
                dependents[j].push(i);
            }
        }
        let ready = (0..n).filter(|&i| missing[i] == 0).collect();
        ReadyWalk {
            missing,
            dependents,
            state: vec![WalkState::Waiting; n],
            ready,
        }
    }

    /// A walk over a petgraph graph whose edges point from a dependency to its dependent:
    /// node `i` of the walk is the graph's node index `i`.
    pub fn over<N, E>(g: &DiGraph<N, E>) -> ReadyWalk {
        let deps: Vec<Vec<usize>> = g
            .node_indices()
            .map(|i| {
                g.neighbors_directed(i, Direction::Incoming)
                    .map(|d| d.index())
                    .collect()
            })
            .collect();
        ReadyWalk::new(&deps)
    }

    /// The next node whose dependencies are all done, now marked running.
    pub fn next_ready(&mut self) -> Option<usize> {
        let i = self.ready.pop_front()?;
        self.state[i] = WalkState::Running;
        Some(i)
    }

    /// Marks `i` done; its dependents whose dependencies are now all done become ready.
    pub fn done(&mut self, i: usize) {
        self.state[i] = WalkState::Done;
        for k in 0..self.dependents[i].len() {
            let d = self.dependents[i][k];
            self.missing[d] -= 1;
            if self.missing[d] == 0 && self.state[d] == WalkState::Waiting {
                self.ready.push_back(d);
            }
        }
    }

    /// Marks `i` failed and skips everything downstream of it. Returns the skipped nodes,
    /// each with the dependency whose failure or skip it follows, in walk order.
    pub fn failed(&mut self, i: usize) -> Vec<(usize, usize)> {
        self.state[i] = WalkState::Failed;
        let mut out = Vec::new();
        let mut queue = std::collections::VecDeque::from([i]);
        while let Some(j) = queue.pop_front() {
            for k in 0..self.dependents[j].len() {
                let d = self.dependents[j][k];
                if self.state[d] == WalkState::Waiting {
                    self.state[d] = WalkState::Failed;
                    self.ready.retain(|&r| r != d);
                    out.push((d, j));
                    queue.push_back(d);
                }
            }
        }
        out
    }

    /// The state of node `i`.
    pub fn state(&self, i: usize) -> WalkState {
        self.state[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ready_walk_starts_nodes_when_their_dependencies_are_done() {
        // 0 -> 1 -> 3, 0 -> 2 -> 3, 4 alone, 5 after 1.
        let mut w = ReadyWalk::new(&[vec![], vec![0], vec![0], vec![1, 2, 2], vec![], vec![1]]);
        assert_eq!(
            (w.next_ready(), w.next_ready(), w.next_ready()),
            (Some(0), Some(4), None)
        );
        w.done(0);
        assert_eq!(
            (w.next_ready(), w.next_ready(), w.next_ready()),
            (Some(1), Some(2), None)
        );
        w.done(2);
        assert_eq!(w.next_ready(), None, "3 still waits for 1");
        // 1 fails: 3 and 5 are skipped, each naming the node it followed.
        assert_eq!(w.failed(1), vec![(3, 1), (5, 1)]);
        assert_eq!(w.next_ready(), None);
        w.done(4);
        assert_eq!(w.state(3), WalkState::Failed);
        assert_eq!(w.state(4), WalkState::Done);
    }

    #[test]
    fn a_walk_over_a_petgraph_graph_follows_its_edges() {
        let mut g: DiGraph<&str, ()> = DiGraph::new();
        let (a, b, c) = (g.add_node("a"), g.add_node("b"), g.add_node("c"));
        g.add_edge(a, c, ());
        g.add_edge(b, c, ());
        let mut w = ReadyWalk::over(&g);
        assert_eq!(
            (w.next_ready(), w.next_ready(), w.next_ready()),
            (Some(0), Some(1), None)
        );
        w.done(0);
        assert_eq!(w.next_ready(), None);
        w.done(1);
        assert_eq!(w.next_ready(), Some(2));
    }

    #[test]
    fn topo_orders_dependencies_first() {
        let mut g: Dag<&str, ()> = Dag::new();
        g.add_edge("a", "b", ());
        g.add_edge("b", "c", ());
        g.add_edge("a", "c", ());
        g.add_node("d");
        assert_eq!(
            g.topo_order().expect("acyclic"),
            vec![&"a", &"b", &"c", &"d"]
        );
        assert!(g.cycles().is_empty());
    }

    #[test]
    fn cycles_name_every_member() {
        let mut g: Dag<&str, u8> = Dag::new();
        g.add_edge("a", "b", 1);
        g.add_edge("b", "c", 2);
        g.add_edge("c", "a", 3);
        g.add_edge("x", "x", 4);
        let cycles = g.cycles();
        assert_eq!(cycles.len(), 2);
        assert_eq!(cycles[0].0, vec![&"a", &"b", &"c"]);
        assert_eq!(cycles[0].1.len(), 3);
        assert_eq!(cycles[1].0, vec![&"x"]);
        assert!(g.topo_order().is_none());
    }
}
