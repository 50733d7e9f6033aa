// What package.json contributes besides the grammar: the problem matcher, checked against
// real `conv check` output (conv-check-output.txt, written with `--color never`); the
// snippets, whose bodies, expanded with their default values, must pass `conv check` when a
// `conv` binary is at hand (CONV, else target/debug/conv of the repository); the icon.
// Run with `npm run test:contributions`; needs nothing but Node.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const root = path.join(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/// VS Code's multi-line matching: each pattern matches one line, in order; the last one's
/// line completes a problem.
function problems(matcher, text) {
  const patterns = matcher.pattern.map((p) => ({ ...p, re: new RegExp(p.regexp) }));
  const lines = text.split(/\r?\n/);
  const found = [];
  for (let i = 0; i + patterns.length <= lines.length; i++) {
    const problem = {};
    const ok = patterns.every((p, k) => {
      const m = p.re.exec(lines[i + k]);
      if (!m) return false;
      for (const field of ['code', 'severity', 'message', 'file', 'line', 'column']) {
        if (p[field] !== undefined) problem[field] = m[p[field]];
      }
      return true;
    });
    if (ok) found.push(problem);
  }
  return found;
}

test('the problem matcher reads conv check output', () => {
  const matchers = pkg.contributes.problemMatchers;
  assert.equal(matchers.length, 1);
  const [matcher] = matchers;
  assert.equal(matcher.name, 'conv');
  assert.equal(matcher.owner, 'conv');
  assert.deepEqual(matcher.fileLocation, ['autoDetect', '${workspaceFolder}']);
  const output = fs.readFileSync(path.join(__dirname, 'conv-check-output.txt'), 'utf8');
  assert.deepEqual(problems(matcher, output), [
    {
      code: 'E0201',
      severity: 'Error',
      message: 'unknown name `db_prxy`',
      file: 'broken/main.conv',
      line: '8',
      column: '17',
    },
    {
      code: 'E0301',
      severity: 'Error',
      message: 'expected String, found Int',
      file: 'broken/teams/db.conv',
      line: '3',
      column: '13',
    },
    {
      code: 'W0501',
      severity: 'Warning',
      message: 'production is critical, but service api has no health gate',
      file: 'warned/main.conv',
      line: '6',
      column: '9',
    },
  ]);
  // Summary lines and source excerpts are not problems.
  assert.deepEqual(problems(matcher, 'broken: 2 errors, 0 warnings\n 8 │   depends_on = [db_prxy]\n'), []);
});

/// A snippet body with every placeholder replaced by its default (`${1:api}` is `api`,
/// `$0` nothing).
function expand(body) {
  const text = Array.isArray(body) ? body.join('\n') : body;
  return text.replace(/\$\{\d+:([^}]*)\}/g, '$1').replace(/\$\d+/g, '');
}

const snippets = JSON.parse(fs.readFileSync(path.join(root, 'snippets', 'conv.json'), 'utf8'));

test('the snippets are declared and well formed', () => {
  assert.deepEqual(pkg.contributes.snippets, [{ language: 'conv', path: './snippets/conv.json' }]);
  assert.deepEqual(Object.keys(snippets), ['environment', 'service', 'release', 'stage']);
  for (const [name, s] of Object.entries(snippets)) {
    assert.equal(s.prefix, name);
    assert.ok(s.description, `${name} has a description`);
    assert.ok(expand(s.body).startsWith(`${name} `), `${name}'s body starts with its keyword`);
    assert.ok(!expand(s.body).includes('$'), `${name}: every placeholder expands`);
  }
});

function convBinary() {
  const candidates = [
    process.env.CONV,
    process.env.CARGO_TARGET_DIR && path.join(process.env.CARGO_TARGET_DIR, 'debug', 'conv'),
    path.join(root, '..', '..', 'target', 'debug', 'conv'),
  ];
  return candidates.find((c) => c && fs.existsSync(c));
}

test('the snippets, expanded, are a program conv check accepts', (t) => {
  const conv = convBinary();
  if (!conv) {
    t.skip('no conv binary (set CONV to check the snippets with conv check)');
    return;
  }
  // The release's rollout takes the stage snippet as a second stage.
  const release = expand(snippets.release.body).replace(
    'strategy = rollout {\n',
    'strategy = rollout {\n' + expand(snippets.stage.body).replace(/^/gm, '    ') + '\n',
  );
  const program = [expand(snippets.environment.body), expand(snippets.service.body), release].join('\n\n') + '\n';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conv-snippets-'));
  fs.writeFileSync(path.join(dir, 'main.conv'), program);
  try {
    execFileSync(conv, ['check', '--color', 'never', dir], { stdio: 'pipe' });
  } catch (e) {
    assert.fail(`conv check rejects the snippets:\n${program}\n${e.stderr}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the icon is a 128x128 PNG and the repository a URL', () => {
  assert.equal(pkg.icon, 'images/icon.png');
  const png = fs.readFileSync(path.join(root, pkg.icon));
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.toString('latin1', 12, 16), 'IHDR');
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [128, 128]);
  assert.deepEqual(pkg.repository, { type: 'git', url: 'https://github.com/conv-lang/conv' });
});
