//! Signature help: inside the parentheses of a call, the function's parameters with their
//! types and defaults, and which one the cursor is writing (by the commas before it, or by
//! the name of a named argument, `window: ...`).

use crate::context::{self, FrameKind};
use conv_compiler::refs::{References, SymbolKind};
use conv_lang::FileId;
use conv_lang::ast::{FnDecl, ItemKind};
use tower_lsp_server::ls_types::*;

/// The declaration of the function `name` (qualified by a module's last segment when
/// called as `gates.http_ok(`) that a call in `file` means.
fn function<'r>(
    refs: &'r References,
    file: FileId,
    name: &str,
    qualifier: Option<&str>,
) -> Option<(&'r conv_compiler::refs::Symbol, &'r FnDecl)> {
    let visible = refs.visible.iter().find(|(f, _)| *f == file).map(|(_, v)| v.as_slice()).unwrap_or(&[]);
    let candidates = refs.symbols.iter().filter(|s| s.kind == SymbolKind::Function && s.name == name);
    let module_matches = |s: &conv_compiler::refs::Symbol| {
        let source = refs.sources.get(s.file);
        let path = if source.module.is_empty() { source.name.trim_end_matches(".conv") } else { &source.module };
        qualifier.is_none_or(|q| path.rsplit(['.', '/']).next() == Some(q))
    };
    let mut best = None;
    for s in candidates.filter(|s| module_matches(s)) {
        // Prefer what the file sees: its own functions and imports, then the rest.
        let rank = (!(s.file == file || visible.contains(&s.name)), s.is_std);
        if best.as_ref().is_none_or(|(r, _)| rank < *r) {
            best = Some((rank, s));
        }
    }
    let s = best?.1;
    let decl = refs.parsed.iter().find(|(f, _)| *f == s.file)?.1.file.items.iter().find_map(|i| match &i.kind {
        ItemKind::Fn(f) if i.span == s.item_span => Some(f),
        _ => None,
    })?;
    Some((s, decl))
}

pub fn signature_help(refs: &References, file: FileId, offset: usize) -> Option<SignatureHelp> {
    let text = refs.sources.get(file).text.as_str();
    let ctx = context::at(text, offset);
    let call = ctx.frames.iter().rposition(|f| matches!(f.kind, FrameKind::Call { .. }))?;
    // Inside a block or a list written as an argument, the call is not what is being typed.
    if ctx.frames[call + 1..].iter().any(|f| !matches!(f.kind, FrameKind::Paren)) {
        return None;
    }
    let frame = &ctx.frames[call];
    let FrameKind::Call { name, qualifier } = &frame.kind else { return None };
    let (symbol, decl) = function(refs, file, name, qualifier.as_deref())?;
    let source = &refs.sources.get(symbol.file).text;
    let slice = |s: conv_lang::Span| source.get(s.start..s.end).unwrap_or("");
    let mut label = format!("{name}(");
    let mut parameters = Vec::new();
    for (i, p) in decl.params.iter().enumerate() {
        if i > 0 {
            label.push_str(", ");
        }
        let mut param = format!("{}: {}", p.name.name, slice(p.ty.span));
        if let Some(d) = &p.default {
            param.push_str(&format!(" = {}", slice(d.span)));
        }
        let start = label.encode_utf16().count() as u32;
        label.push_str(&param);
        let end = label.encode_utf16().count() as u32;
        parameters.push(ParameterInformation {
            label: ParameterLabel::LabelOffsets([start, end]),
            documentation: p.doc.clone().map(Documentation::String),
        });
    }
    label.push_str(&format!(") -> {}", slice(decl.ret.span)));
    let active = match &frame.named_arg {
        Some(arg) => decl.params.iter().position(|p| p.name.name == *arg).unwrap_or(frame.commas),
        None => frame.commas,
    } as u32;
    Some(SignatureHelp {
        signatures: vec![SignatureInformation {
            label,
            documentation: symbol.doc.clone().map(Documentation::String),
            parameters: Some(parameters),
            active_parameter: Some(active),
        }],
        active_signature: Some(0),
        active_parameter: Some(active),
    })
}
