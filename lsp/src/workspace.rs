//! The program a document belongs to: every .conv file under the document's folder, read
//! from disk, with the editor's unsaved buffers taking precedence.

use conv_compiler::Sources;
use conv_lang::FileId;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub struct Program {
    pub sources: Sources,
    /// The path of each user file, by id.
    pub paths: Vec<PathBuf>,
}

impl Program {
    pub fn file_of(&self, path: &Path) -> Option<FileId> {
        self.paths.iter().position(|p| p == path).map(|i| FileId(i as u32))
    }
}

pub fn load(document: &Path, open: &HashMap<PathBuf, String>) -> Program {
    let root = document.parent().map(Path::to_path_buf).unwrap_or_default();
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
    Program { sources, paths: files }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
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
