'use strict';
// Handler modules (lib/handler-loader.js): loading, naming, init/dispose, failures — on the wire.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { setTimeout: delay } = require('node:timers/promises');
const { startHost, request, notification, fixture, NODE_DIR } = require('../test-support/wire');

const GREETER = path.join(NODE_DIR, '..', 'examples', 'handlers', 'greeter.mjs');

/** Start a host that must refuse to serve; return its exit and the error record. */
async function refused(t, args) {
  const host = startHost(t, args);
  const exit = await host.finished();
  const error = host.records.find((r) => r.level === 'error');
  assert.equal(host.stdoutBytes, 0, 'nothing on stdout');
  return { exit, message: error ? error.msg : host.stderrText };
}

test('ESM, CommonJS and default-export modules load; namespace prefixes; rpc.hello lists all', async (t) => {
  const host = startHost(t, [
    '--handlers',
    fixture('sleepy.mjs'),
    '--handlers',
    fixture('counter.cjs'),
    `--handlers=${fixture('default-export.mjs')}`,
  ]);
  assert.equal((await host.call('counter.increment', { by: 2 })).result, 2);
  assert.equal((await host.call('dflt.whoami')).result, 'default export');
  assert.equal((await host.call('sleep', { value: 'esm' })).result, 'esm');
  const { methods } = (await host.call('rpc.hello')).result;
  for (const name of ['counter.increment', 'counter.isReady', 'dflt.whoami', 'sleep', 'rpc.echo', 'rpc.hello', 'rpc.shutdown']) {
    assert.ok(methods.includes(name), name);
  }
  assert.ok(!methods.includes('increment'), 'namespaced methods are only served with their prefix');
  assert.deepEqual(methods, [...methods].sort());
});

test('init() is awaited before the first request is served, even one sent at once', async (t) => {
  const host = startHost(t, ['--handlers', fixture('counter.cjs')]);
  host.send(request(1, 'counter.isReady'));
  host.send(request(2, 'rpc.hello'));
  assert.equal((await host.answerFor(1)).result, true);
  assert.equal((await host.answerFor(2)).result.protocol, 1);
  const initRecord = host.records.find((r) => /^init done/.test(r.msg));
  assert.equal(initRecord.src, 'counter.cjs');
  assert.match(initRecord.msg, /methods: counter\.isReady,counter\.increment/);
});

test('dispose() is called when the host shuts down', async (t) => {
  const host = startHost(t, ['--handlers', fixture('counter.cjs')]);
  await host.call('counter.increment');
  host.end();
  assert.deepEqual(await host.finished(), { code: 0, signal: null });
  assert.ok(host.records.some((r) => r.msg === 'disposed with count 1' && r.src === 'counter.cjs'));
});

test('two modules with the same method name: exit 2 naming both', async (t) => {
  const { exit, message } = await refused(t, ['--handlers', fixture('collide-a.mjs'), '--handlers', fixture('collide-b.mjs')]);
  assert.deepEqual(exit, { code: 2, signal: null });
  assert.match(message, /method "same" of handler module .*collide-b\.mjs collides with method "same" of handler module .*collide-a\.mjs/);
});

test('a method named like a built-in or a reserved name: exit 2 naming both sources', async (t) => {
  const builtin = await refused(t, ['--handlers', fixture('reserved-builtin.mjs')]);
  assert.equal(builtin.exit.code, 2);
  assert.match(builtin.message, /method "rpc\.echo" of handler module .*reserved-builtin\.mjs collides with a name reserved by the host itself \(built-in/);
  const compile = await refused(t, ['--handlers', fixture('reserved-compile.mjs')]);
  assert.equal(compile.exit.code, 2);
  assert.match(compile.message, /method "compile" of handler module .*reserved-compile\.mjs collides with a name reserved by the compiler/);
});

test('a module that fails to load, exports no methods, or does not exist: exit 2 with the error', async (t) => {
  const broken = await refused(t, ['--handlers', fixture('broken.mjs')]);
  assert.equal(broken.exit.code, 2);
  assert.match(broken.message, /broken\.mjs failed to load: Error: this module is broken on purpose/);
  const empty = await refused(t, ['--handlers', fixture('no-methods.mjs')]);
  assert.equal(empty.exit.code, 2);
  assert.match(empty.message, /exports no "methods" object/);
  const missing = await refused(t, ['--handlers', fixture('does-not-exist.mjs')]);
  assert.equal(missing.exit.code, 2);
  assert.match(missing.message, /does-not-exist\.mjs failed to load/);
});

test('an init() that throws: exit 2 with the error, nothing served', async (t) => {
  const host = startHost(t, ['--handlers', fixture('failing-init.mjs')]);
  host.send(request(1, 'rpc.hello'));
  assert.deepEqual(await host.finished(), { code: 2, signal: null });
  assert.ok(host.records.some((r) => r.level === 'error' && /init\(\) of handler module .*failing-init\.mjs failed: Error: init refuses/.test(r.msg)));
  assert.equal(host.messages.length, 0);
});

test('console.* and process.stdout.write in a handler never reach stdout; they become stderr records', async (t) => {
  const host = startHost(t, ['--handlers', fixture('sleepy.mjs')]);
  assert.equal((await host.call('chatty')).result, 'chatted');
  assert.deepEqual((await host.call('rpc.echo', ['next'])).result, ['next']);
  assert.deepEqual(host.stdoutProblems, []);
  const expected = [
    ['info', 'console.log', /^log line \{ a: 1 \}$/],
    ['info', 'console.info', /^info line$/],
    ['debug', 'console.debug', /^debug line$/],
    ['warn', 'console.warn', /^warn line$/],
    ['error', 'console.error', /^error line$/],
    ['info', 'console.table', /│ \(index\) │ x │ y │/],
    ['info', 'console.dir', /deep/],
    ['error', 'console.trace', /^Trace: trace line\n\s+at Object\.chatty/],
    ['info', 'console.count', /^c: 1$/],
    ['info', 'console.group', /^grp$/],
    ['info', 'console.timeEnd', /^t: [\d.]+m?s$/],
    ['error', 'console.assert', /^Assertion failed: assert line$/],
    ['info', 'stdout.write', /^raw write$/],
    ['info', 'stdout.write', /^raw buffer$/],
    ['warn', 'chatty', /^ctx log line$/],
    ['warn', 'process.warning', /^Warning: careful$/],
  ];
  const records = host.records;
  for (const [level, src, pattern] of expected) {
    assert.ok(
      records.some((r) => r.level === level && r.src === src && pattern.test(r.msg)),
      `${level} ${src} ${pattern}\n${host.stderrText}`,
    );
  }
  for (const record of records) {
    assert.deepEqual(Object.keys(record), ['time', 'level', 'msg', 'src']);
    assert.ok(!Number.isNaN(Date.parse(record.time)));
  }
});

test('the greeter example: greet, -32602 on bad params, progress, cancellation', async (t) => {
  const host = startHost(t, ['--handlers', GREETER]);
  assert.deepEqual((await host.call('greeter.greet', { name: 'Ada' })).result, { message: 'Hello, Ada.' });
  assert.deepEqual((await host.call('greeter.greet', { name: 'Grace', excited: true })).result, { message: 'Hello, Grace!' });
  assert.deepEqual((await host.call('greeter.greet', { name: '' })).error, {
    code: -32602,
    message: 'Invalid params: "name" must be a non-empty string',
    data: { field: 'name' },
  });
  assert.equal((await host.call('greeter.greet')).error.code, -32602);

  host.send(request(1, 'greeter.slowCount', { to: 3, delayMs: 5 }));
  assert.deepEqual((await host.answerFor(1)).result, { counted: 3 });
  const progress = host.messages.filter((m) => m.method === '$/progress' && m.params.token === 1);
  assert.deepEqual(progress.map((m) => m.params.value), [1, 2, 3].map((count) => ({ count, of: 3 })));

  host.send(request(2, 'greeter.slowCount', { to: 1000, delayMs: 20 }));
  await host.waitUntil(() => host.messages.find((m) => m.method === '$/progress' && m.params.token === 2));
  host.send(notification('$/cancelRequest', { id: 2 }));
  assert.equal((await host.answerFor(2)).error.code, -32800);
  const countAtCancel = host.messages.filter((m) => m.method === '$/progress' && m.params.token === 2).length;
  await delay(100);
  assert.equal(host.messages.filter((m) => m.method === '$/progress' && m.params.token === 2).length, countAtCancel);
  assert.ok(host.records.some((r) => r.src === 'greeter.mjs' && /greeter ready/.test(r.msg)));
});
