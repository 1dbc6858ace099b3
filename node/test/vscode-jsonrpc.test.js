'use strict';
// Conformance oracle: vscode-jsonrpc 10.0.0 (a dev dependency only) as a client of our host.

const test = require('node:test');
const assert = require('node:assert/strict');
const {
  createMessageConnection,
  StreamMessageReader,
  StreamMessageWriter,
  CancellationTokenSource,
  ResponseError,
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
