//! Reads the files of a program from disk. The only place the front end touches the file system.

use conv_compiler::Sources;
use std::fmt;
use std::path::{Path, PathBuf};

/// Why a program could not be read at all (exit code 2), as opposed to a diagnostic in it.
#[derive(Debug)]
pub enum LoadError {
    Unreadable { path: PathBuf, source: std::io::Error },
    NoSources { dir: PathBuf },
    NotConv { path: PathBuf },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Unreadable { path, source } => {
                write!(f, "cannot read {}: {}", path.display(), plain_io(source))
            }
            LoadError::NoSources { dir } => write!(f, "no .conv files under {}", dir.display()),
            LoadError::NotConv { path } => write!(f, "{} is not a .conv file", path.display()),
        }
    }
}

fn plain_io(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => err.to_string(),
    }
}

/// The .conv files a path stands for: the file itself, or every .conv file under a directory
/// (sorted, skipping hidden directories such as `.conv/` and build output in `target/`).
pub fn conv_files(path: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let meta = std::fs::metadata(path).map_err(|source| LoadError::Unreadable { path: path.to_path_buf(), source })?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    walk(path, &mut files)?;
    files.sort();
    if files.is_empty() {
        return Err(LoadError::NoSources { dir: path.to_path_buf() });
    }
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|source| LoadError::Unreadable { path: dir.to_path_buf(), source })?;
    for entry in entries {
        let entry = entry.map_err(|source| LoadError::Unreadable { path: dir.to_path_buf(), source })?;
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let file_type = entry.file_type().map_err(|source| LoadError::Unreadable { path: path.clone(), source })?;
        if file_type.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" {
                walk(&path, out)?;
            }
        } else if name.ends_with(".conv") {
            out.push(path);
        }
    }
    Ok(())
}

/// Reads one program: a file, or every .conv file under a directory.
///
/// Files are named as the path was typed (`deploy/lib/gates.conv`), but their module paths
/// are taken from the program root (the directory, or the file's folder): `lib.gates`, however
/// the root was reached.
pub fn load_program(path: &Path) -> Result<Sources, LoadError> {
    let mut sources = Sources::new();
    let root = if path.is_dir() { path } else { path.parent().unwrap_or(Path::new("")) };
    for file in conv_files(path)? {
        let bytes = std::fs::read(&file).map_err(|source| LoadError::Unreadable { path: file.clone(), source })?;
        let relative = file.strip_prefix(root).unwrap_or(&file).to_string_lossy().into_owned();
        sources.add_module_bytes(display_name(&file), conv_compiler::sources::module_path(&relative), bytes);
    }
    Ok(sources)
}

pub fn display_name(path: &Path) -> String {
    let shown = path.strip_prefix("./").unwrap_or(path).display().to_string();
    let shown = shown.trim_end_matches('/');
    if shown.is_empty() { ".".to_string() } else { shown.to_string() }
}
