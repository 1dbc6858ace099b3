'use strict';
// The command line, the Node version check and the first statements of rpc-host.js.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const { checkNodeVersion } = require('../lib/node-version');
const { parseOptions, UsageError } = require('../lib/cli-options');
const { spawnSync } = require('node:child_process');
const { startHost, NODE_DIR } = require('../test-support/wire');

test('checkNodeVersion accepts 20 and newer, names the version found otherwise', () => {
  for (const ok of ['v20.0.0', 'v20.20.2', 'v22.11.0', 'v24.1.0', '30.0.0']) assert.equal(checkNodeVersion(ok), null, ok);
  for (const old of ['v18.19.1', 'v16.20.2', 'v12.22.12', 'v0.10.48', 'garbage']) {
    const message = checkNodeVersion(old);
    assert.ok(message.includes(`Node.js ${old} is too old`), message);
    assert.match(message, /needs Node\.js >= 20/);
    assert.match(message, /Install Node\.js 20 LTS or newer/);
  }
});

test('a host started on an old Node exits 3 with the message on stderr', (t) => {
  // Pretend to be Node 18 before rpc-host.js runs.
  const preload = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rpcbridge-')), 'old-node.js');
  fs.writeFileSync(preload, "Object.defineProperty(process, 'version', { value: 'v18.20.4' });\n");
  t.after(() => fs.rmSync(path.dirname(preload), { recursive: true, force: true }));
  const run = spawnSync(process.execPath, ['--require', preload, path.join(NODE_DIR, 'rpc-host.js')], { input: '', encoding: 'utf8' });
  assert.equal(run.status, 3);
  assert.equal(run.stdout, '');
  const record = JSON.parse(run.stderr.trim().split('\n')[0]);
  assert.equal(record.level, 'error');
  assert.match(record.msg, /Node\.js v18\.20\.4 is too old; the host needs Node\.js >= 20/);
});

test('parseOptions: defaults, repeatable --handlers, both --x v and --x=v', () => {
  assert.deepEqual(parseOptions([]), { handlers: [], maxBodySize: 268435456, graceMs: 5000, help: false });
  assert.deepEqual(parseOptions(['--handlers', 'a.mjs', '--handlers=b.cjs', '--max-body-size', '1024', '--grace-ms=0']), {
    handlers: ['a.mjs', 'b.cjs'],
    maxBodySize: 1024,
    graceMs: 0,
    help: false,
  });
  for (const bad of [['--nope'], ['--grace-ms', '-1'], ['--max-body-size', '0'], ['--max-body-size', '1e3'], ['--max-body-size', String(2 ** 53)], ['--handlers'], ['stray']]) {
    assert.throws(() => parseOptions(bad), UsageError, bad.join(' '));
  }
});

test('an unknown option or a bad value: exit 2 with a message and the usage', async (t) => {
  for (const args of [['--frobnicate'], ['--grace-ms', 'soon']]) {
    const host = startHost(t, args);
    assert.deepEqual(await host.finished(), { code: 2, signal: null });
    const record = host.records.find((r) => r.level === 'error');
    assert.ok(record, host.stderrText);
    assert.match(record.msg, /usage: node rpc-host\.js/);
    assert.match(record.msg, args[0] === '--frobnicate' ? /Unknown option '--frobnicate'/ : /--grace-ms needs an integer from 0/);
    assert.equal(host.stdoutBytes, 0);
  }
});

test('files loaded before the version check use only syntax old Node versions parse', () => {
  const files = ['rpc-host.js', 'lib/stdout-guard.js', 'lib/log.js', 'lib/node-version.js'];
  const modern = [
    [/\?\./, 'optional chaining'],
    [/\?\?/, 'nullish coalescing'],
    [/(\|\||&&|\?\?)=/, 'logical assignment'],
    [/\bcatch\s*\{/, 'optional catch binding'],
    [/\basync\b|\bawait\b/, 'async/await'],
    [/(^|[^\w$])#[A-Za-z_]/, 'private fields'],
    [/\d_\d/, 'numeric separators'],
    [/\.\.\.[A-Za-z_$]/, 'spread / rest'],
  ];
  for (const file of files) {
    const code = fs
      .readFileSync(path.join(NODE_DIR, file), 'utf8')
      .replace(/^#!.*\n/, '')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\/\/.*$/gm, '');
    assert.doesNotMatch(code, /require\(['"]node:/, `${file} uses node: specifiers`);
    const source = code.replace(/'(?:[^'\\\n]|\\.)*'/g, "''");
    for (const [pattern, feature] of modern) assert.doesNotMatch(source, pattern, `${file} uses ${feature}`);
  }
});

test('the stdout guard is the first module rpc-host.js requires', () => {
  const code = fs.readFileSync(path.join(NODE_DIR, 'rpc-host.js'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  const first = /require\((['"])([^'"]+)\1\)/.exec(code);
  assert.equal(first[2], './lib/stdout-guard');
});
