'use strict';
// The protocol on the raw wire: `node rpc-host.js` as a child, bytes in, frames out.

const test = require('node:test');
const assert = require('node:assert/strict');
const { setTimeout: delay } = require('node:timers/promises');
const { startHost, frame, request, notification, fixture } = require('../test-support/wire');

const SLEEPY = ['--handlers', fixture('sleepy.mjs')];

test('rpc.hello reports protocol 1, versions, pid and the sorted method list', async (t) => {
  const host = startHost(t, SLEEPY);
  const { result } = await host.call('rpc.hello');
  assert.equal(result.protocol, 1);
  assert.equal(result.host, require('../package.json').version);
  assert.equal(result.node, process.version);
  assert.equal(result.pid, host.pid);
  assert.ok(result.methods.includes('rpc.echo') && result.methods.includes('rpc.shutdown') && result.methods.includes('sleep'));
  assert.deepEqual(result.methods, [...result.methods].sort());
  host.end();
  assert.deepEqual(await host.finished(), { code: 0, signal: null });
  assert.deepEqual(host.stdoutProblems, []);
});

test('a small stream split at every byte is answered the same', async (t) => {
  const host = startHost(t);
  const stream = Buffer.concat([
    frame(request(1, 'rpc.echo', { text: 'a€😀' })),
    frame(notification('$/setTrace', { value: 'off' })),
    frame(request(2, 'rpc.echo', ['b'])),
  ]);
  for (let i = 0; i < stream.length; i++) {
    host.write(stream.subarray(i, i + 1));
    if (i % 16 === 0) await delay(1); // let some bytes travel alone
  }
  assert.deepEqual((await host.answerFor(1)).result, { text: 'a€😀' });
  assert.deepEqual((await host.answerFor(2)).result, ['b']);
  assert.equal(host.messages.length, 2);
});

test('several frames in one write are all answered', async (t) => {
  const host = startHost(t);
  host.write(Buffer.concat([1, 2, 3, 4, 5].map((id) => frame(request(id, 'rpc.echo', [id])))));
  await host.messageCount(5);
  assert.deepEqual(host.messages.map((m) => m.result[0]).sort(), [1, 2, 3, 4, 5]);
});

test('a multibyte character split across two writes survives', async (t) => {
  const host = startHost(t);
  const bytes = frame(request(1, 'rpc.echo', ['😀']));
  const cut = bytes.indexOf(Buffer.from('😀')) + 2;
  host.write(bytes.subarray(0, cut));
  await delay(30);
  host.write(bytes.subarray(cut));
  assert.deepEqual((await host.answerFor(1)).result, ['😀']);
});

test('a 32 MiB body makes the round trip intact', async (t) => {
  const host = startHost(t);
  const text = '漢字 and ascii, "quotes" \\ 😀 '.repeat(1 << 20).slice(0, 32 << 20);
  const answer = await host.call('rpc.echo', { text });
  assert.ok(answer.result.text === text);
});

test('a large non-ASCII body written in pieces cut inside characters gets a byte-exact answer', async (t) => {
  const host = startHost(t);
  const raw = [];
  host.child.stdout.on('data', (chunk) => raw.push(chunk));
  // Over 8 MiB (the host then collects its garbage early: lib/large-garbage.js), every UTF-8
  // length, surrogate pairs in JavaScript.
  const params = { text: '漢字 and ascii, "quotes" \\ 😀 한국어 ü '.repeat(1 << 18), flags: '🏳️‍🌈👍🏽'.repeat(1000) };
  const bytes = frame(request(1, 'rpc.echo', params));
  assert.ok(bytes.length > 8 << 20);
  const emoji = Buffer.from('😀');
  for (let at = 0; at < bytes.length; ) {
    // cut one byte into the next emoji at least 1 MiB further on
    const next = bytes.indexOf(emoji, at + (1 << 20));
    const end = next < 0 ? bytes.length : next + 1 + (at % 3);
    host.write(bytes.subarray(at, end));
    at = end;
    await delay(1);
  }
  const answer = await host.answerFor(1);
  assert.ok(answer.result.text === params.text && answer.result.flags === params.flags);
  const body = Buffer.from(`{"jsonrpc":"2.0","id":1,"result":${JSON.stringify(params)}}`, 'utf8');
  const expected = Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'latin1'), body]);
  assert.ok(Buffer.concat(raw).equals(expected), 'the frame on stdout, byte for byte');
  assert.deepEqual(host.stdoutProblems, []);
});

test('1000 concurrent requests are all answered with matching ids', async (t) => {
  const host = startHost(t, SLEEPY);
  const ids = Array.from({ length: 1000 }, (_, i) => i + 1);
  host.write(Buffer.concat(ids.map((id) => frame(request(id, id % 2 ? 'rpc.echo' : 'sleep', id % 2 ? [id] : { ms: id % 7, value: id })))));
  await host.messageCount(1000);
  const byId = new Map(host.messages.map((m) => [m.id, m]));
  assert.equal(byId.size, 1000);
  for (const id of ids) {
    const answer = byId.get(id);
    assert.deepEqual(answer.result, id % 2 ? [id] : id, `id ${id}`);
  }
});

test('answers arrive out of order as handlers finish', async (t) => {
  const host = startHost(t, SLEEPY);
  host.send(request(1, 'sleep', { ms: 300, value: 'slow' }));
  host.send(request(2, 'sleep', { ms: 10, value: 'fast' }));
  host.send(request(3, 'rpc.echo', ['instant']));
  await host.messageCount(3);
  assert.deepEqual(host.messages.map((m) => m.id), [3, 2, 1]);
});

test('every error code on the wire', async (t) => {
  const host = startHost(t, SLEEPY);
  // -32700: not JSON, then not UTF-8; the host keeps serving.
  host.write(frame('{"jsonrpc": "2.0", "id": 1,'));
  host.write(frame(Buffer.from([0x7b, 0xc3, 0x28, 0x7d])));
  await host.messageCount(2);
  for (const m of host.messages) {
    assert.equal(m.id, null);
    assert.equal(m.error.code, -32700);
  }
  // -32600 variants.
  host.send({ jsonrpc: '1.0', id: 10, method: 'rpc.echo' });
  host.send({ jsonrpc: '2.0', id: 11, method: 11 });
  host.send({ jsonrpc: '2.0', id: 12, method: 'rpc.echo', params: 'text' });
  host.send({ jsonrpc: '2.0', id: 1.5, method: 'rpc.echo' });
  host.send('"just a string"');
  for (const id of [10, 11, 12]) assert.equal((await host.answerFor(id)).error.code, -32600);
  await host.waitUntil(() => (host.messages.filter((m) => m.id === null && m.error.code === -32600).length === 2 ? true : undefined));
  // -32601, -32602.
  assert.deepEqual((await host.call('no.such.method')).error, { code: -32601, message: 'Method not found: no.such.method', data: { method: 'no.such.method' } });
  assert.equal((await host.call('rpc.hello', { extra: 1 })).error.code, -32602);
  // -32603 with a stack; non-Error throws; unserialisable results.
  const boom = (await host.call('boom')).error;
  assert.equal(boom.code, -32603);
  assert.equal(boom.data.name, 'TypeError');
  assert.equal(boom.data.message, 'kaboom');
  assert.match(boom.data.stack, /sleepy\.mjs/);
  assert.equal((await host.call('asyncBoom')).error.data.message, 'async kaboom');
  assert.equal((await host.call('throwString')).error.message, 'just a string');
  assert.equal((await host.call('cyclic')).error.code, -32603);
  // A handler's own RpcError passes through.
  assert.deepEqual((await host.call('fail', { code: -32099, message: 'custom', data: { k: [1] } })).error, {
    code: -32099,
    message: 'custom',
    data: { k: [1] },
  });
  // -32800.
  host.send(request(50, 'sleep', { ms: 5000 }));
  await delay(20);
  host.send(notification('$/cancelRequest', { id: 50 }));
  assert.deepEqual((await host.answerFor(50)).error, { code: -32800, message: 'Request cancelled' });
  assert.deepEqual(host.stdoutProblems, []);
});

test('batches: mixed, empty, invalid element, only notifications', async (t) => {
  const host = startHost(t, SLEEPY);
  host.send([request(1, 'rpc.echo', ['a']), notification('started'), request(2, 'sleep', { ms: 20, value: 'b' }), 7, request(3, 'nope')]);
  const batchAnswer = await host.waitUntil(() => host.messages.find(Array.isArray));
  assert.equal(batchAnswer.length, 4);
  const byId = new Map(batchAnswer.map((m) => [m.id, m]));
  assert.deepEqual(byId.get(1).result, ['a']);
  assert.equal(byId.get(2).result, 'b');
  assert.equal(byId.get(3).error.code, -32601);
  assert.equal(byId.get(null).error.code, -32600);

  host.send([]);
  host.send([notification('started'), notification('rpc.echo', [1])]);
  host.send(request(9, 'rpc.echo', ['after']));
  await host.answerFor(9);
  const afterBatch = host.messages.slice(1);
  assert.deepEqual(afterBatch[0], { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: empty batch' } });
  assert.equal(afterBatch.length, 2, 'a batch of notifications is not answered');
});

test('cancel before start: request and cancel in ONE write → exactly one -32800, the handler never runs', async (t) => {
  const host = startHost(t, SLEEPY);
  host.write(Buffer.concat([frame(request(1, 'started')), frame(notification('$/cancelRequest', { id: 1 }))]));
  assert.deepEqual((await host.answerFor(1)).error, { code: -32800, message: 'Request cancelled' });
  await host.call('rpc.echo'); // a later answer proves the queue moved on
  await delay(50);
  assert.equal(host.messages.filter((m) => m.id === 1).length, 1);
  assert.ok(!host.records.some((r) => r.msg === 'started 1'), 'the handler must not have started');
});

test('cancel while running: -32800 at once, ctx.signal aborted, no second answer', async (t) => {
  const host = startHost(t, SLEEPY);
  host.send(request(1, 'waitForAbort'));
  host.send(request(2, 'stubborn', { ms: 1000, value: 'late' }));
  await host.record((r) => r.msg === 'waiting 1', 'the handler to start');
  const sentAt = Date.now();
  host.write(Buffer.concat([frame(notification('$/cancelRequest', { id: 1 })), frame(notification('$/cancelRequest', { id: 2 }))]));
  assert.equal((await host.answerFor(1)).error.code, -32800);
  assert.equal((await host.answerFor(2)).error.code, -32800);
  assert.ok(Date.now() - sentAt < 600, 'answered at once, not when the handler finished');
  await host.record((r) => r.msg === 'aborted 1 with -32800', 'the abort seen by the handler');
  await host.record((r) => r.msg === 'stubborn 2 finished', 'the stubborn handler to finish');
  await host.call('rpc.echo'); // anything the stubborn handler sent would be before this answer
  assert.equal(host.messages.filter((m) => m.id === 2).length, 1);
});

test('$/progress notifications carry the request id as token', async (t) => {
  const host = startHost(t, SLEEPY);
  host.send(request('job-1', 'steps', { steps: 3 }));
  assert.equal((await host.answerFor('job-1')).result, 3);
  const progress = host.messages.filter((m) => m.method === '$/progress');
  assert.deepEqual(
    progress.map((m) => m.params),
    [1, 2, 3].map((step) => ({ token: 'job-1', value: { step, of: 3 } })),
  );
});

test('host → Python: ctx.request sends a request and resolves with the answer', async (t) => {
  const host = startHost(t, SLEEPY);
  host.send(request(1, 'askPython', { method: 'py.double', params: [21] }));
  const outgoing = await host.waitUntil(() => host.messages.find((m) => m.method === 'py.double'));
  assert.deepEqual(outgoing.params, [21]);
  host.send({ jsonrpc: '2.0', id: outgoing.id, result: 42 });
  assert.deepEqual((await host.answerFor(1)).result, { answer: 42 });
});

test('backpressure: when Python stops reading, the host stops reading stdin; nothing is lost', async (t) => {
  const host = startHost(t);
  await host.call('rpc.echo');
  host.child.stdout.pause();
  const payload = 'x'.repeat(1 << 20);
  for (let id = 1; id <= 32; id++) host.send(request(id, 'rpc.echo', [payload]));
  await delay(500);
  const stillQueued = host.child.stdin.writableLength;
  assert.ok(stillQueued > 16 << 20, `the host kept reading: only ${stillQueued} bytes are still queued`);
  host.child.stdout.resume();
  await host.messageCount(33, 20_000);
  for (let id = 1; id <= 32; id++) assert.equal(host.messages.find((m) => m.id === id).result[0].length, 1 << 20);
});

test('garbage on stdin is skipped with a warning record and the next request is answered', async (t) => {
  const host = startHost(t);
  host.write('stray text from somewhere\n');
  host.write(frame(request(1, 'rpc.echo', ['one'])));
  host.write('x');
  host.write(frame(request(2, 'rpc.echo', ['glued'])));
  host.write('X-Custom: no length\r\n\r\n');
  host.write(frame(request(3, 'rpc.echo', ['after a header block without Content-Length'])));
  assert.deepEqual((await host.answerFor(1)).result, ['one']);
  assert.deepEqual((await host.answerFor(2)).result, ['glued']);
  assert.equal((await host.answerFor(3)).result.length, 1);
  const warnings = await host.waitUntil(() => {
    const found = host.records.filter((r) => r.level === 'warn' && /not a frame/.test(r.msg));
    return found.length >= 3 ? found : undefined;
  });
  assert.match(warnings[0].msg, /stray text from somewhere/);
  assert.match(warnings[1].msg, /glued to a header: "x"/);
  assert.match(warnings[2].msg, /without Content-Length/);
});

test('an oversized frame gets -32600 with {length, limit}, and the next request is answered', async (t) => {
  const host = startHost(t, ['--max-body-size', '1000']);
  host.send(request(1, 'rpc.echo', ['x'.repeat(5000)]));
  host.send(request(2, 'rpc.echo', ['small']));
  await host.messageCount(2);
  const [oversized, next] = host.messages;
  assert.equal(oversized.id, null);
  assert.equal(oversized.error.code, -32600);
  assert.equal(oversized.error.data.limit, 1000);
  assert.ok(oversized.error.data.length > 5000);
  assert.deepEqual(next, { jsonrpc: '2.0', id: 2, result: ['small'] });
  await host.record((r) => r.level === 'warn' && /over the limit/.test(r.msg));
});

test('an unhandled rejection in a handler module is logged and the host keeps serving', async (t) => {
  const host = startHost(t, SLEEPY);
  assert.equal((await host.call('leakRejection')).result, 'leaked');
  await host.record((r) => r.level === 'error' && /unhandled promise rejection.*nobody catches me/s.test(r.msg));
  assert.deepEqual((await host.call('rpc.echo', ['still here'])).result, ['still here']);
});
