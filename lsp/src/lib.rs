//! `conv lsp`: the language server. It reuses the compiler unchanged: diagnostics are the
//! ones `conv check` gives, with the same codes and messages, and navigation follows the
//! same name resolution.

mod complete;
mod context;
mod convert;
mod features;
mod hints;
mod outline;
mod schema;
mod signature;
mod workspace;

use convert::Text;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer, LspService, Server};

/// Serves LSP over stdin and stdout until the client exits.
pub fn serve_stdio() {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_io().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the language server: {err}");
            return;
        }
    };
    runtime.block_on(async {
        let (service, socket) = LspService::new(|client| Backend {
            client,
            open: Mutex::new(HashMap::new()),
            folders: Mutex::new(Vec::new()),
        });
        Server::new(tokio::io::stdin(), tokio::io::stdout(), socket).serve(service).await;
    });
}

struct Backend {
    client: Client,
    /// Unsaved buffers by path.
    open: Mutex<HashMap<PathBuf, String>>,
    /// The workspace folders the editor announced, for workspace symbols.
    folders: Mutex<Vec<PathBuf>>,
}

/// A document's text: the editor's buffer if open, else the file on disk.
fn text_of(path: &Path, open: &HashMap<PathBuf, String>) -> Option<String> {
    open.get(path).cloned().or_else(|| std::fs::read_to_string(path).ok())
}

fn path_of(uri: &Uri) -> Option<PathBuf> {
    uri.to_file_path().map(|p| p.into_owned())
}

/// Runs a request's work; a panic becomes an LSP error and the server lives on.
fn guarded<T>(f: impl FnOnce() -> Option<T>) -> Result<Option<T>> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => Ok(v),
        Err(_) => Err(Error::internal_error()),
    }
}

/// [`guarded`] for work that may refuse with a message: the refusal becomes a
/// `RequestFailed` error (-32803) that the editor shows.
fn guarded_refusal<T>(f: impl FnOnce() -> std::result::Result<Option<T>, String>) -> Result<Option<T>> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(message)) => Err(Error { code: ErrorCode::ServerError(-32803), message: message.into(), data: None }),
        Err(_) => Err(Error::internal_error()),
    }
}

impl Backend {
    fn snapshot(&self) -> HashMap<PathBuf, String> {
        self.open.lock().map(|m| m.clone()).unwrap_or_default()
    }

    async fn publish(&self, uri: &Uri) {
        let Some(path) = path_of(uri) else { return };
        let open = self.snapshot();
        let result = std::panic::catch_unwind(|| features::diagnostics(&path, &open));
        let Ok(per_file) = result else {
            self.client.log_message(MessageType::ERROR, "conv: checking failed; please report this file").await;
            return;
        };
        for (uri, diags) in per_file {
            self.client.publish_diagnostics(uri, diags, None).await;
        }
    }
}

pub(crate) fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: features::TOKEN_TYPES.to_vec(),
        token_modifiers: vec![SemanticTokenModifier::DECLARATION, SemanticTokenModifier::DOCUMENTATION],
    }
}

impl LanguageServer for Backend {
    #[allow(deprecated)]
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let mut folders: Vec<PathBuf> =
            params.workspace_folders.iter().flatten().filter_map(|f| path_of(&f.uri)).collect();
        if folders.is_empty() {
            folders.extend(params.root_uri.as_ref().and_then(path_of));
        }
        if let Ok(mut f) = self.folders.lock() {
            *f = folders;
        }
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: Default::default(),
                })),
                signature_help_provider: Some(SignatureHelpOptions {
                    trigger_characters: Some(vec!["(".into(), ",".into()]),
                    retrigger_characters: Some(vec![":".into()]),
                    work_done_progress_options: Default::default(),
                }),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                document_highlight_provider: Some(OneOf::Left(true)),
                inlay_hint_provider: Some(OneOf::Left(true)),
                document_formatting_provider: Some(OneOf::Left(true)),
                document_symbol_provider: Some(OneOf::Left(true)),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![".".into(), "=".into(), "[".into(), "{".into()]),
                    ..Default::default()
                }),
                code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
                semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
                    SemanticTokensOptions {
                        legend: legend(),
                        full: Some(SemanticTokensFullOptions::Bool(true)),
                        range: None,
                        ..Default::default()
                    },
                )),
                ..Default::default()
            },
            server_info: Some(ServerInfo { name: "conv".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
            ..Default::default()
        })
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        if let (Some(path), Ok(mut open)) = (path_of(&params.text_document.uri), self.open.lock()) {
            open.insert(path, params.text_document.text);
        }
        self.publish(&params.text_document.uri).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        if let (Some(path), Some(change), Ok(mut open)) =
            (path_of(&params.text_document.uri), params.content_changes.into_iter().last(), self.open.lock())
        {
            open.insert(path, change.text);
        }
        self.publish(&params.text_document.uri).await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        if let (Some(path), Ok(mut open)) = (path_of(&params.text_document.uri), self.open.lock()) {
            open.remove(&path);
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        let open = self.snapshot();
        guarded(|| features::hover(&path_of(&p.text_document.uri)?, p.position, &open))
    }

    async fn goto_definition(&self, params: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        let open = self.snapshot();
        guarded(|| {
            features::definition(&path_of(&p.text_document.uri)?, p.position, &open).map(GotoDefinitionResponse::Scalar)
        })
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let p = params.text_document_position;
        let open = self.snapshot();
        guarded(|| features::references(&path_of(&p.text_document.uri)?, p.position, &open))
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let p = params.text_document_position;
        let open = self.snapshot();
        if !features::is_identifier(&params.new_name) {
            return Err(Error::invalid_params(format!("`{}` is not a valid name", params.new_name)));
        }
        guarded_refusal(|| {
            let Some(path) = path_of(&p.text_document.uri) else { return Ok(None) };
            features::rename(&path, p.position, &params.new_name, &open)
        })
    }

    async fn prepare_rename(&self, params: TextDocumentPositionParams) -> Result<Option<PrepareRenameResponse>> {
        let open = self.snapshot();
        guarded_refusal(|| {
            let Some(path) = path_of(&params.text_document.uri) else { return Ok(None) };
            features::prepare_rename(&path, params.position, &open)
        })
    }

    async fn document_highlight(&self, params: DocumentHighlightParams) -> Result<Option<Vec<DocumentHighlight>>> {
        let p = params.text_document_position_params;
        let open = self.snapshot();
        guarded(|| features::highlights(&path_of(&p.text_document.uri)?, p.position, &open))
    }

    async fn signature_help(&self, params: SignatureHelpParams) -> Result<Option<SignatureHelp>> {
        let p = params.text_document_position_params;
        let open = self.snapshot();
        guarded(|| features::signature_help(&path_of(&p.text_document.uri)?, p.position, &open))
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        let open = self.snapshot();
        guarded(|| features::inlay_hints(&path_of(&params.text_document.uri)?, params.range, &open))
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        let open = self.snapshot();
        guarded(|| {
            let path = path_of(&params.text_document.uri)?;
            Some(outline::folding_ranges(&text_of(&path, &open)?))
        })
    }

    async fn symbol(&self, params: WorkspaceSymbolParams) -> Result<Option<WorkspaceSymbolResponse>> {
        let open = self.snapshot();
        let mut folders = self.folders.lock().map(|f| f.clone()).unwrap_or_default();
        guarded(|| {
            // The open programs' roots, then the editor's folders.
            let mut roots: Vec<PathBuf> = open.keys().map(|doc| workspace::root_of(doc, &open)).collect();
            roots.append(&mut folders);
            roots.sort();
            roots.dedup();
            // A folder inside another is walked with it.
            let nested: Vec<PathBuf> =
                roots.iter().filter(|r| roots.iter().any(|o| o != *r && r.starts_with(o))).cloned().collect();
            roots.retain(|r| !nested.contains(r));
            Some(WorkspaceSymbolResponse::Flat(outline::workspace_symbols(&roots, &open, &params.query)))
        })
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        let open = self.snapshot();
        guarded(|| {
            features::completion(&path_of(&p.text_document.uri)?, p.position, &open).map(CompletionResponse::Array)
        })
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        let open = self.snapshot();
        guarded(|| {
            let path = path_of(&params.text_document.uri)?;
            let text = text_of(&path, &open)?;
            features::format(&text)
        })
    }

    async fn document_symbol(&self, params: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>> {
        let open = self.snapshot();
        guarded(|| {
            let path = path_of(&params.text_document.uri)?;
            let text = text_of(&path, &open)?;
            Some(DocumentSymbolResponse::Nested(features::symbols(&text)))
        })
    }

    async fn semantic_tokens_full(&self, params: SemanticTokensParams) -> Result<Option<SemanticTokensResult>> {
        let open = self.snapshot();
        guarded(|| {
            let path = path_of(&params.text_document.uri)?;
            let text = text_of(&path, &open)?;
            Some(SemanticTokensResult::Tokens(SemanticTokens {
                result_id: None,
                data: features::semantic_tokens(&text),
            }))
        })
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri.clone();
        guarded(|| Some(features::quick_fixes(&uri, &params.context.diagnostics)))
    }
}

/// Where the standard library's files are written so that editors can open them.
pub(crate) fn stdlib_file(name: &str) -> Option<PathBuf> {
    let dir = std::env::temp_dir().join(format!("conv-stdlib-{}", env!("CARGO_PKG_VERSION")));
    let (_, file, text) = conv_compiler::stdlib::MODULES.iter().find(|(_, n, _)| *n == name)?;
    let path = dir.join(file);
    if std::fs::read_to_string(&path).ok().as_deref() != Some(*text) {
        std::fs::create_dir_all(path.parent()?).ok()?;
        std::fs::write(&path, text).ok()?;
    }
    Some(path)
}

pub(crate) fn uri_of(path: &Path) -> Option<Uri> {
    Uri::from_file_path(path)
}

pub(crate) fn text_range(text: &str, span: conv_lang::Span) -> Range {
    Text::new(text).range(span)
}
