//! Elementary cycles of a small directed graph, each reported once, for diagnostics that
//! show the whole path.

/// The cycles found by a depth-first search: each is the list of nodes in order, starting
/// at its smallest node. Cycles sharing edges are reported once per back edge.
pub fn find_cycles(graph: &[Vec<usize>]) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Active,
        Done,
    }
    let mut state = vec![State::New; graph.len()];
    let mut stack: Vec<usize> = Vec::new();
    let mut cycles: Vec<Vec<usize>> = Vec::new();
    // Iterative DFS: (node, next edge index).
    for root in 0..graph.len() {
        if state[root] != State::New {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = State::Active;
        stack.push(root);
        while let Some((node, edge)) = work.pop() {
            if let Some(&next) = graph[node].get(edge) {
                work.push((node, edge + 1));
                match state[next] {
                    State::New => {
                        state[next] = State::Active;
                        stack.push(next);
                        work.push((next, 0));
                    }
                    State::Active => {
                        let start = stack.iter().position(|n| *n == next).unwrap_or(0);
                        let mut cycle = stack[start..].to_vec();
                        let min = cycle.iter().enumerate().min_by_key(|(_, n)| **n).map(|(i, _)| i).unwrap_or(0);
                        cycle.rotate_left(min);
                        if !cycles.contains(&cycle) {
                            cycles.push(cycle);
                        }
                    }
                    State::Done => {}
                }
            } else {
                state[node] = State::Done;
                stack.pop();
            }
        }
    }
    cycles
}

#[cfg(test)]
mod tests {
    use super::find_cycles;

    #[test]
    fn finds_self_loops_and_longer_cycles() {
        assert_eq!(find_cycles(&[vec![0]]), vec![vec![0]]);
        assert_eq!(find_cycles(&[vec![1], vec![2], vec![0]]), vec![vec![0, 1, 2]]);
        assert!(find_cycles(&[vec![1], vec![2], vec![]]).is_empty());
    }
}
