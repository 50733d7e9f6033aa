//! The seeds: every .conv file of the examples, the standard library and the fixtures.

use std::path::{Path, PathBuf};

/// The repository root, from where this crate sits in it.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// The seed files under `root`, in a fixed order (so a seed gives the same run everywhere).
pub fn seeds(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for dir in ["examples", "stdlib", "tests/fixtures"] {
        walk(&root.join(dir), &mut files);
    }
    files.sort();
    files.into_iter().filter_map(|p| std::fs::read(&p).ok().map(|bytes| (p, bytes))).collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "conv") {
            out.push(path);
        }
    }
}
