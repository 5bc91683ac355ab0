//! Dominator tree and retained sizes over a graph in compressed sparse rows.
//!
//! An object's retained size is what would become garbage without it: its
//! own bytes plus everything it dominates. The tree is computed with the
//! semi-NCA algorithm (Lengauer–Tarjan semidominators with path compression,
//! then each immediate dominator as the nearest DFS ancestor at or above the
//! semidominator; Georgiadis, "Linear-Time Algorithms for Dominators and
//! Related Problems") over flat arrays indexed by preorder number, from a
//! virtual root whose successors are the real roots. Depth-first search and
//! path compression are iterative, so deep lists never overflow the stack.
//!
//! Memory is what bounds `pdmp stats` on a dump of tiny objects, so the work
//! arrays are few and short-lived: the search keeps its place in each node's
//! edges in an array that then holds the semidominators (no stack of
//! frames), path compression reverses the links it climbs instead of
//! stacking them, the predecessor lists leave out DFS tree edges (the
//! parent is where a semidominator search starts), and neither the
//! preorder numbers of nodes nor their inverse is kept while the
//! semidominators are computed (the search is run again afterwards). At
//! most five `u32` per node and one per edge outside the DFS tree are live
//! at once.

/// `idom` of a node no root reaches.
pub const UNREACHABLE: u32 = u32::MAX;

/// The dominator tree of a graph of `n` nodes plus a virtual root, index `n`.
pub struct Dominators {
    /// Immediate dominator per node: another node, the virtual root (`n`),
    /// or [`UNREACHABLE`].
    idom: Vec<u32>,
    /// Reachable nodes in depth-first preorder (every node after its
    /// dominator), without the virtual root.
    order: Vec<u32>,
    /// Retained bytes per node (0 for unreachable nodes).
    retained: Vec<u64>,
}

/// Marks a node the search has not reached.
const UNSEEN: u32 = u32::MAX;

/// An iterative depth-first search from a virtual root (preorder number 0)
/// whose successors are the roots.
struct Search {
    /// Preorder number per node, or [`UNSEEN`].
    pre: Vec<u32>,
    /// The node of each preorder number (the virtual root's is `n`).
    vertex: Vec<u32>,
    /// The DFS tree parent of each preorder number (0 for the roots).
    parent: Vec<u32>,
    /// Per preorder number, the next of its edges to follow (free for
    /// reuse once the search is done).
    next_edge: Vec<u32>,
}

impl Search {
    fn run(start: &[u32], targets: &[u32], roots: &[u32]) -> Search {
        let n = start.len() - 1;
        let mut pre = vec![UNSEEN; n];
        let mut vertex: Vec<u32> = Vec::with_capacity(n + 1);
        let mut parent: Vec<u32> = Vec::with_capacity(n + 1);
        let mut next_edge: Vec<u32> = Vec::with_capacity(n + 1);
        vertex.push(n as u32);
        parent.push(0);
        next_edge.push(0);
        for &root in roots {
            if pre[root as usize] != UNSEEN {
                continue;
            }
            let top = vertex.len() as u32;
            pre[root as usize] = top;
            vertex.push(root);
            parent.push(0);
            next_edge.push(start[root as usize]);
            // Climbing back up the DFS tree takes the place of a stack.
            let mut p = top;
            loop {
                let v = vertex[p as usize] as usize;
                let e = next_edge[p as usize];
                if e < start[v + 1] {
                    next_edge[p as usize] = e + 1;
                    let w = targets[e as usize];
                    if pre[w as usize] == UNSEEN {
                        let q = vertex.len() as u32;
                        pre[w as usize] = q;
                        vertex.push(w);
                        parent.push(p);
                        next_edge.push(start[w as usize]);
                        p = q;
                    }
                } else if p == top {
                    break;
                } else {
                    p = parent[p as usize];
                }
            }
        }
        Search {
            pre,
            vertex,
            parent,
            next_edge,
        }
    }
}

impl Dominators {
    /// Computes the tree of the graph whose node `i` has successors
    /// `targets[start[i]..start[i+1]]`, from `roots`, with node `i` of
    /// `size(i)` bytes.
    pub fn compute(
        start: &[u32],
        targets: &[u32],
        roots: &[u32],
        size: impl Fn(u32) -> u64,
    ) -> Dominators {
        let n = start.len() - 1;
        let virtual_root = n as u32;
        let successors = |v: u32| -> &[u32] {
            if v == virtual_root {
                roots
            } else {
                &targets[start[v as usize] as usize..start[v as usize + 1] as usize]
            }
        };

        let Search {
            pre,
            vertex,
            parent,
            next_edge,
        } = Search::run(start, targets, roots);
        let reached = vertex.len();
        drop(vertex);
        let pre_of = |w: u32| pre[w as usize];

        // Predecessors of reachable nodes, by preorder number, but for the
        // DFS parent: semidominators start from it (the least candidate a
        // parent edge gives). Counted, then placed with `pred_start[q + 1]`
        // as the next free slot of `q`.
        let reachable = std::iter::once((0, virtual_root)).chain(
            (0..n as u32)
                .filter(|&v| pre_of(v) != UNSEEN)
                .map(|v| (pre_of(v), v)),
        );
        let mut pred_start = vec![0u32; reached + 1];
        for (p, v) in reachable.clone() {
            for &w in successors(v) {
                let q = pre_of(w) as usize;
                if parent[q] != p {
                    pred_start[q + 1] += 1;
                }
            }
        }
        for i in 0..reached {
            pred_start[i + 1] += pred_start[i];
        }
        let mut preds = vec![0u32; pred_start[reached] as usize];
        for (p, v) in reachable {
            for &w in successors(v) {
                let q = pre_of(w) as usize;
                if parent[q] != p {
                    let slot = &mut pred_start[q];
                    preds[*slot as usize] = p;
                    *slot += 1;
                }
            }
        }
        // Each `pred_start[q]` now holds the end of q's predecessors: shift back.
        for q in (1..=reached).rev() {
            pred_start[q] = pred_start[q - 1];
        }
        pred_start[0] = 0;
        drop(pre);

        // Semidominators, in decreasing preorder, with a path-compressed
        // forest: node `p` is linked to `ancestor[p]` once processed.
        let mut semi = next_edge;
        for (i, s) in semi.iter_mut().enumerate() {
            *s = i as u32;
        }
        let mut label: Vec<u32> = (0..reached as u32).collect();
        let mut ancestor = parent.clone();
        // The end of a reversed path (no preorder number is this large).
        const NONE: u32 = u32::MAX;
        for i in (1..reached).rev() {
            let mut best = parent[i];
            for &u in &preds[pred_start[i] as usize..pred_start[i + 1] as usize] {
                // eval(u): the node of least semidominator on u's forest path.
                let candidate = if (u as usize) <= i {
                    u
                } else {
                    // Up the path, each link turned to point back down
                    // (no stack: a path can be as long as the graph)...
                    let (mut x, mut below) = (u, NONE);
                    while ancestor[x as usize] as usize > i {
                        let up = ancestor[x as usize];
                        ancestor[x as usize] = below;
                        below = x;
                        x = up;
                    }
                    // ...then down it, each node taking the least label
                    // above it and linking to the top's ancestor.
                    let top = ancestor[x as usize];
                    let mut a = x as usize;
                    while below != NONE {
                        let y = below as usize;
                        below = ancestor[y];
                        if semi[label[a] as usize] < semi[label[y] as usize] {
                            label[y] = label[a];
                        }
                        ancestor[y] = top;
                        a = y;
                    }
                    label[u as usize]
                };
                best = best.min(semi[candidate as usize]);
            }
            semi[i] = best;
        }
        drop((label, ancestor, preds, pred_start));

        // Immediate dominators: the nearest ancestor of the DFS parent whose
        // preorder number is at most the semidominator (semi-NCA).
        let mut idom_pre = parent;
        for i in 1..reached {
            let mut d = idom_pre[i];
            while d > semi[i] {
                d = idom_pre[d as usize];
            }
            idom_pre[i] = d;
        }
        drop(semi);

        // The node of each preorder number, again: the same search, now
        // that the semidominator arrays are gone.
        let vertex = Search::run(start, targets, roots).vertex;

        // Per node, and retained sizes: a node's dominator precedes it in
        // preorder, so in decreasing preorder children come before parents.
        let mut idom = vec![UNREACHABLE; n];
        let mut retained = vec![0u64; n];
        for p in (1..reached).rev() {
            let v = vertex[p] as usize;
            let d = vertex[idom_pre[p] as usize];
            idom[v] = d;
            retained[v] += size(v as u32);
            if d != virtual_root {
                retained[d as usize] += retained[v];
            }
        }
        let mut order = vertex;
        order.remove(0);
        Dominators {
            idom,
            order,
            retained,
        }
    }

    /// The immediate dominator of `node`: `Some(None)` for the virtual root
    /// (a root dominated by nothing else), `None` when unreachable.
    pub fn idom(&self, node: u32) -> Option<Option<u32>> {
        match self.idom[node as usize] {
            UNREACHABLE => None,
            d if d as usize == self.idom.len() => Some(None),
            d => Some(Some(d)),
        }
    }

    pub fn is_reachable(&self, node: u32) -> bool {
        self.idom[node as usize] != UNREACHABLE
    }

    /// Bytes that `node` retains, its own included.
    pub fn retained(&self, node: u32) -> u64 {
        self.retained[node as usize]
    }

    /// Reachable nodes, each after its dominator.
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// `node` and every node it dominates, in an order where each node comes
    /// after its dominator. Linear in the graph.
    pub fn dominated_by(&self, node: u32) -> Vec<u32> {
        let mut inside = vec![false; self.idom.len()];
        inside[node as usize] = true;
        let mut out = vec![node];
        for &v in &self.order {
            let d = self.idom[v as usize];
            if v != node && (d as usize) < inside.len() && inside[d as usize] {
                inside[v as usize] = true;
                out.push(v);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds CSR arrays from an edge list.
    fn csr(n: usize, edges: &[(u32, u32)]) -> (Vec<u32>, Vec<u32>) {
        let mut start = vec![0u32; n + 1];
        for &(a, _) in edges {
            start[a as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut targets = vec![0; edges.len()];
        for &(a, b) in edges {
            targets[fill[a as usize] as usize] = b;
            fill[a as usize] += 1;
        }
        (start, targets)
    }

    #[test]
    fn diamond_and_shared_children() {
        // 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3, 3 -> 4; 5 is a second root
        // pointing at 4; 6 is unreachable.
        let (start, targets) = csr(7, &[(0, 1), (0, 2), (1, 3), (2, 3), (3, 4), (5, 4)]);
        let size = [1, 10, 100, 1000, 10000, 100000, 7];
        let d = Dominators::compute(&start, &targets, &[0, 5], |i| size[i as usize]);
        assert_eq!(d.idom(0), Some(None));
        assert_eq!(d.idom(1), Some(Some(0)));
        assert_eq!(d.idom(3), Some(Some(0)));
        assert_eq!(d.idom(4), Some(None), "two roots reach 4");
        assert_eq!(d.idom(6), None);
        assert_eq!(d.retained(0), 1111);
        assert_eq!(d.retained(3), 1000);
        assert_eq!(d.retained(5), 100000);
        assert_eq!(d.retained(6), 0);
        let mut under = d.dominated_by(0);
        under.sort();
        assert_eq!(under, vec![0, 1, 2, 3]);
    }

    /// Dominators by the definition, on small graphs: `d` dominates `v`
    /// when `v` is unreachable from the roots once `d` is removed.
    fn naive_idom(n: usize, edges: &[(u32, u32)], roots: &[u32]) -> Vec<Option<Option<u32>>> {
        let reach = |removed: Option<u32>| {
            let mut seen = vec![false; n];
            let mut todo: Vec<u32> = roots
                .iter()
                .copied()
                .filter(|&r| Some(r) != removed)
                .collect();
            while let Some(v) = todo.pop() {
                if std::mem::replace(&mut seen[v as usize], true) {
                    continue;
                }
                for &(a, b) in edges {
                    if a == v && Some(b) != removed {
                        todo.push(b);
                    }
                }
            }
            seen
        };
        let all = reach(None);
        let dominated: Vec<Vec<bool>> = (0..n as u32).map(|d| reach(Some(d))).collect();
        (0..n)
            .map(|v| {
                if !all[v] {
                    return None;
                }
                // Strict dominators of v; the immediate one is dominated by all others.
                let doms: Vec<u32> = (0..n as u32)
                    .filter(|&d| d as usize != v && !dominated[d as usize][v])
                    .collect();
                Some(doms.iter().copied().find(|&d| {
                    doms.iter()
                        .all(|&e| e == d || !dominated[e as usize][d as usize])
                }))
            })
            .collect()
    }

    #[test]
    fn matches_the_definition_on_random_graphs() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |bound: u32| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % u64::from(bound)) as u32
        };
        for round in 0..200 {
            let n = 2 + next(40) as usize;
            let m = next(3 * n as u32);
            let mut edges: Vec<(u32, u32)> = (0..m)
                .map(|_| (next(n as u32), next(n as u32)))
                .filter(|(a, b)| a != b)
                .collect();
            edges.sort_unstable();
            edges.dedup();
            let mut roots: Vec<u32> = (0..1 + next(3)).map(|_| next(n as u32)).collect();
            roots.sort_unstable();
            roots.dedup();
            let (start, targets) = csr(n, &edges);
            let d = Dominators::compute(&start, &targets, &roots, |_| 1);
            let want = naive_idom(n, &edges, &roots);
            for v in 0..n as u32 {
                assert_eq!(d.idom(v), want[v as usize], "round {round}, node {v}");
            }
        }
    }

    #[test]
    fn long_chain_needs_no_recursion() {
        let n = 1_000_000u32;
        let edges: Vec<(u32, u32)> = (0..n - 1).map(|i| (i, i + 1)).collect();
        let (start, targets) = csr(n as usize, &edges);
        let d = Dominators::compute(&start, &targets, &[0], |_| 1);
        assert_eq!(d.retained(0), u64::from(n));
        assert_eq!(d.idom(n - 1), Some(Some(n - 2)));
    }
}
