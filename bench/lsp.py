#!/usr/bin/env python3
"""Time from an edit to fresh diagnostics in `conv lsp`, on a generated program of about
5,000 lines (conv-gen 400 services x 5 environments). Prints the median of 20 edits.

Run: cargo build --release -p conv-cli -p conv-bench && python3 bench/lsp.py
"""
import json, os, statistics, subprocess, sys, tempfile, time

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
conv = os.path.join(root, "target", "release", "conv")
gen = os.path.join(root, "target", "release", "conv-gen")
work = tempfile.mkdtemp()
subprocess.run([gen, sys.argv[1] if len(sys.argv) > 1 else "400", "5", work], check=True)
path = os.path.join(work, "main.conv")
text = open(path).read()
uri = "file://" + path

server = subprocess.Popen([conv, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

def send(msg):
    body = json.dumps(msg).encode()
    server.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    server.stdin.flush()

def read():
    length = 0
    while True:
        line = server.stdout.readline()
        if line == b"\r\n":
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(server.stdout.read(length))

def wait_diagnostics():
    while True:
        msg = read()
        if msg.get("method") == "textDocument/publishDiagnostics":
            return msg

send({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
read()
send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": uri, "languageId": "conv", "version": 1, "text": text}}})
wait_diagnostics()
times = []
for i in range(20):
    edited = text.replace('version = "1.0.0"', 'version = "1.0.%d"' % i, 1) + ("\n" if i % 2 else "")
    start = time.perf_counter()
    send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": uri, "version": i + 2}, "contentChanges": [{"text": edited}]}})
    wait_diagnostics()
    times.append((time.perf_counter() - start) * 1000)
send({"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
server.kill()
print("lines: %d, edit to diagnostics: median %.1f ms, min %.1f ms, max %.1f ms" % (text.count("\n"), statistics.median(times), min(times), max(times)))
