//! The files of one program, as text, handed in by whoever read them.

use conv_lang::{Diagnostic, FileId, Span, codes};

/// Larger files are refused (E0109) rather than ground through.
pub const MAX_FILE_BYTES: usize = 32 << 20;

#[derive(Debug, Clone)]
pub struct Source {
    pub id: FileId,
    /// How the file is shown to users: a path relative to where conv was run, or `std/gates.conv`.
    pub name: String,
    /// The module path other files import it by: `teams.gates` for teams/gates.conv.
    pub module: String,
    pub text: String,
}

#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<Source>,
    load_diagnostics: Vec<Diagnostic>,
    /// Files kept only to show their load diagnostics.
    unparsable: Vec<FileId>,
}

impl Sources {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file; its module path is taken from its name (`teams/gates.conv` is `teams.gates`).
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        let name = name.into();
        let module = module_path(&name);
        self.add_module(name, module, text)
    }

    /// Adds a file with an explicit module path (relative to the program root).
    pub fn add_module(
        &mut self,
        name: impl Into<String>,
        module: impl Into<String>,
        text: impl Into<String>,
    ) -> FileId {
        let id = FileId(self.files.len() as u32);
        self.files.push(Source { id, name: name.into(), module: module.into(), text: text.into() });
        id
    }

    /// Adds a standard-library file.
    pub fn add_std(&mut self, name: &str, text: &str) -> FileId {
        self.add_module(name, String::new(), text)
    }

    /// Adds a file read as bytes. Bytes that are not UTF-8 become an E0108 diagnostic and
    /// the file is kept, decoded lossily, so the diagnostic can show where.
    pub fn add_bytes(&mut self, name: impl Into<String>, bytes: Vec<u8>) -> FileId {
        let name = name.into();
        let module = module_path(&name);
        self.add_module_bytes(name, module, bytes)
    }

    /// [`Sources::add_bytes`] with an explicit module path.
    pub fn add_module_bytes(&mut self, name: impl Into<String>, module: impl Into<String>, bytes: Vec<u8>) -> FileId {
        if bytes.len() > MAX_FILE_BYTES {
            let size = bytes.len();
            let id = self.add_module(name, module, String::new());
            self.load_diagnostics.push(
                Diagnostic::error(
                    &codes::FILE_TOO_LARGE,
                    id,
                    Span::new(0, 0),
                    format!("file is too large: {} MiB", size >> 20),
                )
                .with_primary_label("not read")
                .with_note(format!("conv reads .conv files of up to {} MiB", MAX_FILE_BYTES >> 20))
                .with_help("split the program across several files of one directory"),
            );
            self.unparsable.push(id);
            return id;
        }
        match String::from_utf8(bytes) {
            Ok(text) => self.add_module(name, module, text),
            Err(err) => {
                let valid_up_to = err.utf8_error().valid_up_to();
                let text = String::from_utf8_lossy(err.as_bytes()).into_owned();
                // Lossy decoding keeps the valid prefix byte for byte, so the offset holds.
                let bad = text[valid_up_to..].chars().next().map(char::len_utf8).unwrap_or(0);
                let id = self.add_module(name, module, text);
                self.load_diagnostics.push(
                    Diagnostic::error(
                        &codes::NOT_UTF8,
                        id,
                        Span::new(valid_up_to, valid_up_to + bad),
                        "file is not valid UTF-8",
                    )
                    .with_primary_label(format!("invalid byte at offset {valid_up_to}"))
                    .with_help("save the file as UTF-8"),
                );
                self.unparsable.push(id);
                id
            }
        }
    }

    pub fn get(&self, id: FileId) -> &Source {
        &self.files[id.0 as usize]
    }

    /// The files to parse: all but those kept only for their load diagnostics.
    pub fn iter(&self) -> impl Iterator<Item = &Source> {
        self.files.iter().filter(|s| !self.unparsable.contains(&s.id))
    }

    pub fn all(&self) -> &[Source] {
        &self.files
    }

    pub fn load_diagnostics(&self) -> &[Diagnostic] {
        &self.load_diagnostics
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// `teams/gates.conv` as `teams.gates`.
pub fn module_path(relative: &str) -> String {
    let without_ext = relative.strip_suffix(".conv").unwrap_or(relative);
    without_ext.split(['/', '\\']).filter(|s| !s.is_empty() && *s != ".").collect::<Vec<_>>().join(".")
}
