//! `did you mean`: the closest candidate by edit distance, if it is close enough.
//!
//! Each suggestion compares a name with every name in scope, so a program with thousands of
//! unknown names would take time quadratic in its size. The work is budgeted per check, in
//! cells of the edit-distance table (a candidate refused by its length costs one): once
//! [`BUDGET`] is spent, the rest of the unknown names go without a suggestion. Counting
//! suggestions instead bounds nothing when each compares with a hundred thousand names.

use std::cell::Cell;

/// Work for suggestions in one check, in cells of the edit-distance table: about 50 ms. A
/// program of a thousand names affords a few hundred suggestions.
pub const BUDGET: usize = 50_000_000;

/// Names longer than this get no suggestion: the edit distance is quadratic in the length.
const LONGEST: usize = 64;

thread_local! {
    static LEFT: Cell<usize> = const { Cell::new(BUDGET) };
}

/// Starts a check with a full budget of suggestions.
pub fn reset_budget() {
    LEFT.with(|l| l.set(BUDGET));
}

/// Whether a suggestion may still be made; callers test it before gathering candidates.
pub fn budget_left() -> bool {
    LEFT.with(|l| l.get() > 0)
}

fn spend(cost: usize) {
    LEFT.with(|l| l.set(l.get().saturating_sub(cost.max(1))));
}

pub fn closest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    if !budget_left() || name.len() > 4 * LONGEST || name.chars().count() > LONGEST {
        return None;
    }
    let a: Vec<char> = name.chars().collect();
    let limit = (a.len() / 3).max(1);
    let mut best: Option<(usize, &str)> = None;
    let mut rows = (Vec::new(), Vec::new());
    for c in candidates {
        if !budget_left() {
            return None;
        }
        if c == name || c.len() > 4 * LONGEST || c.len().abs_diff(name.len()) > 4 * limit {
            spend(1);
            continue;
        }
        let (d, cells) = bounded_distance(&a, c, limit, &mut rows);
        spend(cells);
        if let Some(d) = d
            && best.is_none_or(|(bd, bc)| (d, c) < (bd, bc))
        {
            best = Some((d, c));
        }
    }
    // Whether the budget ran out within this name depends only on the candidates, not on
    // their order: the same program always gets the same suggestions.
    if !budget_left() {
        return None;
    }
    best.map(|(_, c)| c)
}

/// The edit distance from `a` to `b` if it is at most `limit`, and the cells computed: rows
/// stop as soon as every entry of one exceeds `limit`.
fn bounded_distance(a: &[char], b: &str, limit: usize, rows: &mut (Vec<usize>, Vec<usize>)) -> (Option<usize>, usize) {
    let (previous, current) = rows;
    previous.clear();
    let mut n = 0;
    for (j, _) in b.chars().enumerate() {
        previous.push(j);
        n = j + 1;
    }
    previous.push(n);
    let mut cells = n + 1;
    for (i, ca) in a.iter().enumerate() {
        current.clear();
        current.push(i + 1);
        let mut row_min = i + 1;
        for (j, cb) in b.chars().enumerate() {
            let substitution = previous[j] + usize::from(*ca != cb);
            let v = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
            current.push(v);
            row_min = row_min.min(v);
        }
        cells += n + 1;
        std::mem::swap(previous, current);
        if row_min > limit {
            return (None, cells);
        }
    }
    let d = previous[n];
    ((d <= limit).then_some(d), cells)
}

/// Levenshtein distance over characters.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    bounded_distance(&a, b, usize::MAX - 1, &mut (Vec::new(), Vec::new())).0.unwrap_or(usize::MAX)
}

/// ` (did you mean `x`?)` or nothing.
pub fn did_you_mean<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<String> {
    closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_near_misses_only() {
        assert_eq!(closest("db_prxy", ["db_proxy", "api"]), Some("db_proxy"));
        assert_eq!(closest("zzz", ["db_proxy", "api"]), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
