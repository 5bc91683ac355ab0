//! Dominator tree and retained sizes over a graph in compressed sparse rows.
//!
//! An object's retained size is what would become garbage without it: its
//! own bytes plus everything it dominates. The tree is computed with the
//! iterative algorithm of Cooper, Harvey and Kennedy ("A Simple, Fast
//! Dominance Algorithm") from a virtual root whose successors are the real
//! roots; depth-first search is iterative too, so deep lists never overflow
//! the stack.

/// `idom` of a node no root reaches.
pub const UNREACHABLE: u32 = u32::MAX;

/// The dominator tree of a graph of `n` nodes plus a virtual root, index `n`.
pub struct Dominators {
    /// Immediate dominator per node: another node, the virtual root (`n`),
    /// or [`UNREACHABLE`].
    idom: Vec<u32>,
    /// Reachable nodes in reverse postorder (every node after its dominator),
    /// without the virtual root.
    order: Vec<u32>,
    /// Retained bytes per node (0 for unreachable nodes).
    retained: Vec<u64>,
}

impl Dominators {
    /// Computes the tree of the graph whose node `i` has successors
    /// `targets[start[i]..start[i+1]]`, from `roots`, with node sizes `size`.
    pub fn compute(start: &[u32], targets: &[u32], roots: &[u32], size: &[u64]) -> Dominators {
        let n = start.len() - 1;
        let virtual_root = n as u32;
        let successors = |v: u32| -> &[u32] {
            if v == virtual_root {
                roots
            } else {
                &targets[start[v as usize] as usize..start[v as usize + 1] as usize]
            }
        };

        // Iterative DFS: postorder numbers, and the postorder itself.
        const UNSEEN: u32 = u32::MAX;
        let mut post_number = vec![UNSEEN; n + 1];
        let mut postorder: Vec<u32> = Vec::with_capacity(n + 1);
        let mut visited = vec![false; n + 1];
        let mut stack: Vec<(u32, u32)> = vec![(virtual_root, 0)];
        visited[n] = true;
        while let Some(top) = stack.last_mut() {
            let (v, next) = *top;
            if let Some(&w) = successors(v).get(next as usize) {
                top.1 += 1;
                if !visited[w as usize] {
                    visited[w as usize] = true;
                    stack.push((w, 0));
                }
            } else {
                post_number[v as usize] = postorder.len() as u32;
                postorder.push(v);
                stack.pop();
            }
        }

        // Predecessors of reachable nodes (the virtual root's included).
        let mut pred_start = vec![0u32; n + 2];
        for &v in &postorder {
            for &w in successors(v) {
                pred_start[w as usize + 1] += 1;
            }
        }
        for i in 0..=n {
            pred_start[i + 1] += pred_start[i];
        }
        let mut fill = pred_start.clone();
        let mut preds = vec![0u32; pred_start[n + 1] as usize];
        for &v in &postorder {
            for &w in successors(v) {
                preds[fill[w as usize] as usize] = v;
                fill[w as usize] += 1;
            }
        }

        // Cooper–Harvey–Kennedy over reverse postorder until stable.
        let mut idom = vec![UNREACHABLE; n + 1];
        idom[n] = virtual_root;
        let intersect = |idom: &[u32], mut a: u32, mut b: u32| {
            while a != b {
                while post_number[a as usize] < post_number[b as usize] {
                    a = idom[a as usize];
                }
                while post_number[b as usize] < post_number[a as usize] {
                    b = idom[b as usize];
                }
            }
            a
        };
        let mut changed = true;
        while changed {
            changed = false;
            for &v in postorder.iter().rev().skip(1) {
                let range = pred_start[v as usize] as usize..pred_start[v as usize + 1] as usize;
                let mut new_idom = UNREACHABLE;
                for &p in &preds[range] {
                    if idom[p as usize] == UNREACHABLE {
                        continue;
                    }
                    new_idom = if new_idom == UNREACHABLE {
                        p
                    } else {
                        intersect(&idom, p, new_idom)
                    };
                }
                if idom[v as usize] != new_idom {
                    idom[v as usize] = new_idom;
                    changed = true;
                }
            }
        }

        // Retained sizes: children before parents (postorder).
        let mut retained = vec![0u64; n + 1];
        for &v in &postorder {
            if v != virtual_root {
                retained[v as usize] += size[v as usize];
                let parent = idom[v as usize];
                retained[parent as usize] += retained[v as usize];
            }
        }
        idom.truncate(n);
        retained.truncate(n);
        let order: Vec<u32> = postorder
            .into_iter()
            .rev()
            .filter(|&v| v != virtual_root)
            .collect();
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
        let d = Dominators::compute(&start, &targets, &[0, 5], &size);
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

    #[test]
    fn long_chain_needs_no_recursion() {
        let n = 1_000_000u32;
        let edges: Vec<(u32, u32)> = (0..n - 1).map(|i| (i, i + 1)).collect();
        let (start, targets) = csr(n as usize, &edges);
        let size = vec![1u64; n as usize];
        let d = Dominators::compute(&start, &targets, &[0], &size);
        assert_eq!(d.retained(0), u64::from(n));
        assert_eq!(d.idom(n - 1), Some(Some(n - 2)));
    }
}
