//! `did you mean`: the closest candidate by edit distance, if it is close enough.
//!
//! Each suggestion compares a name with every name in scope, so a program with thousands of
//! unknown names would take time quadratic in its size: past [`BUDGET`] suggestions in one
//! check, the rest go without one.

use std::cell::Cell;

/// Suggestions made in one check, at most.
pub const BUDGET: usize = 500;

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

pub fn closest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let spent = LEFT.with(|l| {
        let left = l.get();
        l.set(left.saturating_sub(1));
        left == 0
    });
    if spent || name.len() > 4 * LONGEST || name.chars().count() > LONGEST {
        return None;
    }
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name && c.len() <= 4 * LONGEST && c.len().abs_diff(name.len()) <= 4 * limit)
        .map(|c| (distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
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
