//! The program a document belongs to: every .conv file under the program's root, read from
//! disk, with the editor's unsaved buffers taking precedence. The root is the folder
//! `conv check` would be run in: the document's folder, or an ancestor that imports the
//! document's folder as a module path (see [`root_of`]).

use conv_compiler::Sources;
use conv_lang::FileId;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub struct Program {
    pub sources: Sources,
    /// The folder module paths are relative to.
    pub root: PathBuf,
    /// The path of each user file, by id.
    pub paths: Vec<PathBuf>,
}

impl Program {
    pub fn file_of(&self, path: &Path) -> Option<FileId> {
        self.paths.iter().position(|p| p == path).map(|i| FileId(i as u32))
    }
}

/// How far above the document's folder a program root is looked for.
const MAX_LEVELS: usize = 8;

/// The module paths a file imports (`lib.gates` for `import lib.gates.{standard}`), read
/// from the start of its lines, which is where imports are written.
fn imports(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let rest = line.trim_start().strip_prefix("import")?;
            if !rest.starts_with([' ', '\t']) {
                return None;
            }
            let path: String =
                rest.trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.').collect();
            Some(path.trim_end_matches('.').to_string())
        })
        .collect()
}

/// The program root of `document`, as `conv check` resolves modules: module paths are
/// relative to the folder the program is checked from, so a file in `deploy/lib/` that is
/// imported as `lib.gates` belongs to the program rooted at `deploy/`. Starting from the
/// document's folder, each ancestor (up to eight levels) becomes the root when the path
/// from it down to the document is used as a module path: when the document imports a
/// module starting with the name of the first folder below that ancestor (`lib.` from
/// `deploy/`), or a `.conv` file directly in the ancestor does. The highest such ancestor
/// wins; when there is none, the root is the document's own folder.
pub fn root_of(document: &Path, open: &HashMap<PathBuf, String>) -> PathBuf {
    let folder = document.parent().map(Path::to_path_buf).unwrap_or_default();
    let own = open.get(document).cloned().or_else(|| std::fs::read_to_string(document).ok()).unwrap_or_default();
    let own_imports = imports(&own);
    let mut root = folder.clone();
    let mut below = folder.as_path();
    for _ in 0..MAX_LEVELS {
        let Some(parent) = below.parent() else { break };
        let Some(first) = document.strip_prefix(parent).ok().and_then(|r| r.components().next()) else { break };
        let prefix = format!("{}.", first.as_os_str().to_string_lossy());
        let uses = |paths: &[String]| paths.iter().any(|p| p.starts_with(&prefix));
        let mut qualifies = uses(&own_imports);
        if !qualifies && let Ok(entries) = std::fs::read_dir(parent) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "conv") && path.is_file() {
                    let text = open.get(&path).cloned().or_else(|| std::fs::read_to_string(&path).ok());
                    if text.is_some_and(|t| uses(&imports(&t))) {
                        qualifies = true;
                        break;
                    }
                }
            }
        }
        if qualifies {
            root = parent.to_path_buf();
        }
        below = parent;
    }
    root
}

pub fn load(document: &Path, open: &HashMap<PathBuf, String>) -> Program {
    let root = root_of(document, open);
    let mut files = Vec::new();
    walk(&root, &mut files);
    if !files.iter().any(|f| f == document) {
        files.push(document.to_path_buf());
    }
    files.sort();
    let mut sources = Sources::new();
    for file in &files {
        let text = match open.get(file) {
            Some(t) => t.clone(),
            None => std::fs::read_to_string(file).unwrap_or_default(),
        };
        let relative = file.strip_prefix(&root).unwrap_or(file).to_string_lossy().into_owned();
        let module = conv_compiler::sources::module_path(&relative);
        sources.add_module(file.display().to_string(), module, text);
    }
    Program { sources, root, paths: files }
}

/// Every `.conv` file under `dir`, as `conv check DIR` finds them.
pub fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" {
                walk(&path, out);
            }
        } else if name.ends_with(".conv") {
            out.push(path);
        }
    }
}
