// The conv extension: starts `conv lsp` over stdio and connects it to VS Code.
'use strict';

const os = require('os');
const path = require('path');
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

const CLIENT_ID = 'conv';
const CLIENT_NAME = 'conv language server';

/** @type {LanguageClient | undefined} */
let client;
/** @type {vscode.OutputChannel | undefined} */
let outputChannel;

/** The configured `conv` executable, with `~` expanded. */
function convPath() {
  const configured = vscode.workspace.getConfiguration('conv').get('path');
  let command = typeof configured === 'string' && configured.trim() !== '' ? configured.trim() : 'conv';
  if (command === '~' || command.startsWith('~/')) {
    command = path.join(os.homedir(), command.slice(1));
  }
  return command;
}

function createClient() {
  const command = convPath();
  const folder = vscode.workspace.workspaceFolders && vscode.workspace.workspaceFolders[0];
  // No `transport` field: the server speaks over stdin and stdout by default, and setting
  // TransportKind.stdio would append a `--stdio` argument that `conv lsp` does not take.
  const executable = {
    command,
    args: ['lsp'],
    options: folder && folder.uri.scheme === 'file' ? { cwd: folder.uri.fsPath } : undefined,
  };
  /** @type {import('vscode-languageclient/node').ServerOptions} */
  const serverOptions = { run: executable, debug: executable };
  /** @type {import('vscode-languageclient/node').LanguageClientOptions} */
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'conv' },
      { scheme: 'untitled', language: 'conv' },
    ],
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.conv'),
    },
    outputChannel,
  };
  return new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
}

async function startClient() {
  client = createClient();
  try {
    await client.start();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const choice = await vscode.window.showErrorMessage(
      `Could not start the conv language server (\`${convPath()} lsp\`): ${message}. ` +
        'Install conv or set "conv.path" to the conv executable.',
      'Open Settings'
    );
    if (choice === 'Open Settings') {
      await vscode.commands.executeCommand('workbench.action.openSettings', 'conv.path');
    }
  }
}

async function stopClient() {
  const running = client;
  client = undefined;
  if (running) {
    try {
      await running.stop();
    } catch {
      // The server may already be gone; there is nothing left to stop.
    }
  }
}

async function restartClient() {
  await stopClient();
  await startClient();
}

/** @param {vscode.ExtensionContext} context */
async function activate(context) {
  outputChannel = vscode.window.createOutputChannel(CLIENT_NAME);
  context.subscriptions.push(
    outputChannel,
    vscode.commands.registerCommand('conv.restartServer', restartClient),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('conv.path')) {
        void restartClient();
      }
    })
  );
  await startClient();
}

function deactivate() {
  return stopClient();
}

module.exports = { activate, deactivate };
