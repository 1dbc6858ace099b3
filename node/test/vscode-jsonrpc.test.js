'use strict';
// Conformance oracle: vscode-jsonrpc 10.0.0 (a dev dependency only) as a client of our host.
// (The Python peers are in tests/interop/: python-lsp-jsonrpc as a client of this host, and
// rpcbridge as the client of vscode-json-language-server.)

const test = require('node:test');
const assert = require('node:assert/strict');
const {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  CancellationTokenSource,
  ResponseError,
  Trace,
} = require('vscode-jsonrpc/node');
const { startHost, fixture } = require('../test-support/wire');

test('a vscode-jsonrpc client: hello, concurrent echoes, out-of-order answers, cancellation → -32800, errors, shutdown', async (t) => {
  const host = startHost(t, ['--handlers', fixture('sleepy.mjs')]);
  host.child.stdout.removeAllListeners('data'); // the client reads stdout, not our parser
  const connection = createMessageConnection(new StreamMessageReader(host.child.stdout), new StreamMessageWriter(host.child.stdin));
  const errors = [];
  connection.onError((err) => errors.push(err));
  connection.listen();
  t.after(() => connection.dispose());

  const hello = await connection.sendRequest('rpc.hello');
  assert.equal(hello.protocol, 1);
  assert.ok(hello.methods.includes('sleep'));

  const payloads = Array.from({ length: 20 }, (_, i) => ({ i, text: `échо ${i} 😀` }));
  const echoes = await Promise.all(payloads.map((p) => connection.sendRequest('rpc.echo', p)));
  assert.deepEqual(echoes, payloads);

  const slowFirst = connection.sendRequest('sleep', { ms: 150, value: 'slow' });
  const fastSecond = connection.sendRequest('sleep', { ms: 5, value: 'fast' });
  assert.deepEqual(await Promise.all([slowFirst, fastSecond]), ['slow', 'fast']);

  const source = new CancellationTokenSource();
  const cancelled = connection.sendRequest('sleep', { ms: 10_000, value: 'never' }, source.token);
  setTimeout(() => source.cancel(), 50);
  await assert.rejects(cancelled, (err) => err instanceof ResponseError && err.code === -32800);

  await assert.rejects(connection.sendRequest('no.such.method'), (err) => err instanceof ResponseError && err.code === -32601 && err.data.method === 'no.such.method');
  await assert.rejects(connection.sendRequest('fail', { code: -32099, message: 'custom', data: [1] }), (err) => err.code === -32099 && err.message === 'custom');

  assert.equal(await connection.sendRequest('rpc.shutdown'), null);
  assert.deepEqual(await host.finished(), { code: 0, signal: null });
  assert.deepEqual(errors, []);
});

test('a vscode-jsonrpc client: 50 concurrent compiles, one cancelled through its token; a notification and requests from the host', async (t) => {
  const host = startHost(t, ['--handlers', fixture('sleepy.mjs')]);
  host.child.stdout.removeAllListeners('data');
  const logged = []; // everything vscode-jsonrpc complains about (a response without id, a failed handler…)
  const logger = { error: (m) => logged.push(`error: ${m}`), warn: (m) => logged.push(`warn: ${m}`), info() {}, log() {} };
  const connection = createMessageConnection(new StreamMessageReader(host.child.stdout), new StreamMessageWriter(host.child.stdin), logger);
  const traced = [];
  // The tracer is the only place vscode-jsonrpc reports an answer whose request is no longer
  // pending, i.e. a second answer to a cancelled request.
  await connection.trace(Trace.Messages, { log: (message) => traced.push(String(message)) });
  const errors = [];
  connection.onError((err) => errors.push(err));
  const notified = new Promise((resolve) => connection.onNotification('client/notified', resolve));
  connection.onRequest('client.add', ({ a, b }) => a + b);
  connection.listen();
  t.after(() => connection.dispose());

  assert.equal((await connection.sendRequest('rpc.hello')).protocol, 1);

  // Written back to back, before any answer: the 26th request is cancelled right after it
  // (its `$/cancelRequest` follows it on the wire, ahead of the 24 requests after it).
  const CANCELLED = 25;
  const pending = [];
  for (let i = 0; i < 50; i++) {
    const source = new CancellationTokenSource();
    const params = { source: `export const v${i}: number = ${i};`, filename: `m${i}.ts` };
    pending.push(connection.sendRequest('compile', params, source.token));
    if (i === CANCELLED) source.cancel();
  }
  const settled = await Promise.allSettled(pending);
  settled.forEach((outcome, i) => {
    if (i === CANCELLED) {
      assert.equal(outcome.status, 'rejected', `compile ${i}`);
      assert.ok(outcome.reason instanceof ResponseError);
      assert.equal(outcome.reason.code, -32800);
    } else {
      assert.equal(outcome.status, 'fulfilled', `compile ${i}: ${outcome.reason}`);
      assert.equal(outcome.value.code, `export const v${i} = ${i};\n`);
      assert.deepEqual(outcome.value.diagnostics, []);
      assert.equal(outcome.value.engine, 'esbuild');
    }
  });

  // A notification from a handler (ctx.notify) reaches the client's onNotification.
  const text = 'notify 你好 🌏 é';
  assert.equal(await connection.sendRequest('notifyMe', { method: 'client/notified', params: { text } }), 'notified');
  assert.deepEqual(await notified, { text });

  // A request from a handler (ctx.request) is answered by the client's onRequest …
  assert.deepEqual(await connection.sendRequest('askPython', { method: 'client.add', params: { a: 2, b: 3 } }), { answer: 5 });
  // … and one the client has no handler for comes back as vscode-jsonrpc's -32601, passed on unchanged.
  await assert.rejects(
    connection.sendRequest('askPython', { method: 'client.missing', params: {} }),
    (err) => err instanceof ResponseError && err.code === -32601 && /client\.missing/.test(err.message),
  );

  assert.equal(await connection.sendRequest('rpc.shutdown'), null);
  assert.deepEqual(await host.finished(), { code: 0, signal: null });
  assert.deepEqual(errors, []);
  assert.deepEqual(logged, []);
  assert.deepEqual(traced.filter((m) => /without active response promise/.test(m)), []);
  assert.ok(traced.some((m) => /Received response 'compile - \(\d+\)'.*Request failed: .*\(-32800\)/.test(m)), 'the tracer saw the -32800');
});
