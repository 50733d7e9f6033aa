//! End to end with a real editor: headless Neovim (Debian's `neovim`, 0.7) loads the setup in
//! editors/nvim, attaches to `conv lsp`, opens a file with an error, and checks that the
//! diagnostic arrives, that go to definition lands on the declaration and that a workspace
//! symbol query finds it. Skipped, with a note, where Neovim is not installed, except in CI.

mod common;

use common::repo_root;
use std::process::{Command, Stdio};

const SCRIPT: &str = r#"
local conv, file, out, nvim_dir = CONV, FILE, OUT, NVIM_DIR
vim.opt.rtp:prepend(nvim_dir)
require('conv.lsp').setup({ cmd = { conv, 'lsp' }, root_markers = {} })
vim.cmd('edit ' .. file)
vim.cmd('setfiletype conv')
local result = {}
local ok = vim.wait(15000, function() return #vim.diagnostic.get(0) > 0 end, 50)
if not ok then
  vim.cmd('cquit 1')
end
local d = vim.diagnostic.get(0)[1]
result.code = d.code
result.message = d.message
result.line = d.lnum
-- Go to definition from `staging` in `env = staging`.
local row, col
for i, l in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
  local c = l:find('env = staging', 1, true)
  if c then row, col = i - 1, c - 1 + 6 end
end
local params = { textDocument = { uri = vim.uri_from_bufnr(0) }, position = { line = row, character = col } }
local responses = vim.lsp.buf_request_sync(0, 'textDocument/definition', params, 10000)
for _, r in pairs(responses or {}) do
  if r.result then
    local loc = r.result[1] or r.result
    result.definition_line = loc.range.start.line
  end
end
-- Workspace symbols: `stg` finds the environment `staging`.
local symbols = vim.lsp.buf_request_sync(0, 'workspace/symbol', { query = 'stg' }, 10000)
for _, r in pairs(symbols or {}) do
  if r.result and r.result[1] then
    result.symbol_name = r.result[1].name
    result.symbol_line = r.result[1].location.range.start.line
    result.symbol_count = #r.result
  end
end
local f = io.open(out, 'w')
f:write(vim.fn.json_encode(result))
f:close()
vim.cmd('qall!')
"#;

#[test]
fn neovim_gets_diagnostics_goes_to_definition_and_finds_workspace_symbols() {
    if Command::new("nvim").arg("--version").stdout(Stdio::null()).status().is_err() {
        assert!(std::env::var_os("CI").is_none(), "neovim must be installed in CI (.ci/run installs it)");
        eprintln!("note: nvim is not installed; skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo_root().join("tests/fixtures/lsp/main.conv")).unwrap();
    let file = dir.path().join("main.conv");
    std::fs::write(&file, &text).unwrap();
    let out = dir.path().join("result.json");
    let lua = |s: &std::path::Path| format!("{:?}", s.display().to_string());
    let script = SCRIPT.replace(
        "CONV, FILE, OUT, NVIM_DIR",
        &format!(
            "{}, {}, {}, {}",
            lua(std::path::Path::new(env!("CARGO_BIN_EXE_conv"))),
            lua(&file),
            lua(&out),
            lua(&repo_root().join("editors/nvim"))
        ),
    );
    let script_path = dir.path().join("check.lua");
    std::fs::write(&script_path, script).unwrap();
    let status = Command::new("nvim")
        .args(["--headless", "--clean", "-c", &format!("luafile {}", script_path.display())])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "neovim timed out waiting for diagnostics");
    let result: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(result["code"], "E0201", "{result}");
    assert!(result["message"].as_str().unwrap().contains("unknown name `db_prxy`"), "{result}");
    let declaration = text.lines().position(|l| l.starts_with("environment staging")).unwrap();
    assert_eq!(result["definition_line"], declaration as u64, "{result}");
    assert_eq!(
        (&result["symbol_name"], &result["symbol_line"], &result["symbol_count"]),
        (&serde_json::json!("staging"), &serde_json::json!(declaration), &serde_json::json!(1)),
        "{result}"
    );
}
