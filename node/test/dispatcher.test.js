'use strict';
// The dispatcher (lib/dispatcher.js) without a process: frames in, answers collected.

const test = require('node:test');
const assert = require('node:assert/strict');
const { setTimeout: delay } = require('node:timers/promises');
const { Dispatcher } = require('../lib/dispatcher');
const { RpcError } = require('../lib/rpc-error');
const { createBuiltins } = require('../lib/builtins');

function silentLogger(records = []) {
  const logger = {};
  for (const level of ['debug', 'info', 'warn', 'error']) logger[level] = (msg) => records.push({ level, msg });
  return logger;
}

/** A dispatcher serving `handlers` (name → function), ready, with its output collected. */
function setup(handlers = {}, { ready = true } = {}) {
  const sent = [];
  const logs = [];
  const texts = []; // what the writer was given: strings, or pieces (messages.js JsonText)
  const writer = {
    send: (text) => {
      texts.push(text);
      sent.push(JSON.parse(typeof text === 'string' ? text : text.join('')));
    },
    cork() {},
    uncork() {},
  };
  const log = silentLogger(logs);
  const builtins = createBuiltins({ listMethods: () => ['rpc.echo'], shutdown: async () => {} });
  const methods = new Map();
  for (const [name, fn] of Object.entries({ ...builtins, ...handlers })) methods.set(name, { fn, owner: undefined, source: 'test', log });
  const dispatcher = new Dispatcher({ writer, methods, log });
  if (ready) dispatcher.setReady();
  const feed = (message) => dispatcher.receiveFrame(Buffer.from(typeof message === 'string' ? message : JSON.stringify(message)));
  return { dispatcher, sent, logs, feed, texts };
}

const req = (id, method, params) => (params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params });
const note = (method, params) => ({ jsonrpc: '2.0', method, params });
const settle = () => new Promise((resolve) => setImmediate(resolve));

test('a request is answered with its result and its id unchanged (integer and string)', async () => {
  const { sent, feed } = setup();
  feed(req(1, 'rpc.echo', { a: [1, 'é'] }));
  feed(req('abc', 'rpc.echo', [1, 2]));
  feed(req(3, 'rpc.echo'));
  await settle();
  assert.deepEqual(sent, [
    { jsonrpc: '2.0', id: 1, result: { a: [1, 'é'] } },
    { jsonrpc: '2.0', id: 'abc', result: [1, 2] },
    { jsonrpc: '2.0', id: 3, result: null },
  ]);
});

test('-32700 with id null for a body that is not JSON or not UTF-8, and the next one is served', async () => {
  const { dispatcher, sent, feed } = setup();
  feed('{"jsonrpc":"2.0",');
  dispatcher.receiveFrame(Buffer.from([0x7b, 0xff, 0x7d]));
  dispatcher.receiveFrame(Buffer.alloc(0));
  feed(req(1, 'rpc.echo', ['ok']));
  await settle();
  assert.equal(sent.length, 4);
  for (const answer of sent.slice(0, 3)) {
    assert.equal(answer.id, null);
    assert.equal(answer.error.code, -32700);
  }
  assert.match(sent[1].error.message, /not valid UTF-8/);
  assert.deepEqual(sent[3].result, ['ok']);
});

test('-32600 for every kind of invalid request, with the id when it is usable', async () => {
  const cases = [
    [42, null],
    ['"text"', null],
    ['null', null],
    [{ jsonrpc: '2.0' }, null],
    [{ jsonrpc: '1.0', id: 1, method: 'rpc.echo' }, 1],
    [{ id: 2, method: 'rpc.echo' }, 2],
    [{ jsonrpc: '2.0', id: 3, method: 7 }, 3],
    [{ jsonrpc: '2.0', id: 4, method: 'rpc.echo', params: 'str' }, 4],
    [{ jsonrpc: '2.0', id: 5, method: 'rpc.echo', params: null }, 5],
    [{ jsonrpc: '2.0', id: 6, method: 'rpc.echo', params: 6 }, 6],
    [{ jsonrpc: '2.0', id: 1.5, method: 'rpc.echo' }, null],
    [{ jsonrpc: '2.0', id: null, method: 'rpc.echo' }, null],
    [{ jsonrpc: '2.0', id: { x: 1 }, method: 'rpc.echo' }, null],
    [{ jsonrpc: '2.0', id: true, method: 'rpc.echo' }, null],
    [{ jsonrpc: '2.0', method: 'rpc.echo', params: 'not-a-structure' }, null],
  ];
  for (const [message, id] of cases) {
    const { sent, feed } = setup();
    feed(typeof message === 'string' ? message : JSON.stringify(message));
    await settle();
    assert.equal(sent.length, 1, JSON.stringify(message));
    assert.equal(sent[0].id, id, JSON.stringify(message));
    assert.equal(sent[0].error.code, -32600, JSON.stringify(message));
  }
});

test('-32601 for an unknown method, with data {method}', async () => {
  const { sent, feed } = setup();
  feed(req(1, 'no.such'));
  await settle();
  assert.deepEqual(sent, [{ jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'Method not found: no.such', data: { method: 'no.such' } } }]);
});

test('-32602 when a built-in gets params it does not take', async () => {
  const { sent, feed } = setup();
  feed(req(1, 'rpc.hello', { unexpected: true }));
  feed(req(2, 'rpc.hello', {}));
  feed(req(3, 'rpc.hello', []));
  await settle();
  assert.equal(sent[0].error.code, -32602);
  assert.equal(sent[1].result.protocol, 1);
  assert.equal(sent[2].result.protocol, 1);
});

test('-32603 with data {name, message, stack} for a thrown Error, sync or async', async () => {
  const { sent, feed } = setup({
    sync: () => {
      throw new TypeError('bad sync');
    },
    async: async () => {
      throw new RangeError('bad async');
    },
    string: () => {
      throw 'just text';
    },
  });
  feed(req(1, 'sync'));
  feed(req(2, 'async'));
  feed(req(3, 'string'));
  await settle();
  const [a, b, c] = [1, 2, 3].map((id) => sent.find((m) => m.id === id));
  assert.equal(a.error.code, -32603);
  assert.equal(a.error.message, 'bad sync');
  assert.equal(a.error.data.name, 'TypeError');
  assert.equal(a.error.data.message, 'bad sync');
  assert.match(a.error.data.stack, /TypeError: bad sync\n\s+at /);
  assert.equal(b.error.data.name, 'RangeError');
  assert.deepEqual(c.error, { code: -32603, message: 'just text', data: { name: 'string', message: 'just text', stack: null } });
});

test('a result that cannot be serialised becomes -32603', async () => {
  const { sent, feed } = setup({
    cyclic: () => {
      const o = {};
      o.o = o;
      return o;
    },
    bigint: () => 10n,
  });
  feed(req(1, 'cyclic'));
  feed(req(2, 'bigint'));
  await settle();
  assert.equal(sent[0].error.code, -32603);
  assert.match(sent[0].error.message, /cannot be sent as JSON/);
  assert.equal(sent[1].error.code, -32603);
});

test('a thrown RpcError passes through unchanged (also one from another copy of the module)', async () => {
  const foreign = Object.assign(new Error('foreign'), { code: 4242, data: { why: 'copy' } });
  foreign[Symbol.for('rpcbridge.RpcError')] = true;
  const { sent, feed } = setup({
    mine: (params, ctx) => {
      throw new ctx.RpcError(-32602, 'Invalid params: x', { field: 'x' });
    },
    theirs: () => {
      throw foreign;
    },
    plain: () => {
      throw new RpcError(7, 'seven');
    },
  });
  feed(req(1, 'mine'));
  feed(req(2, 'theirs'));
  feed(req(3, 'plain'));
  await settle();
  assert.deepEqual(sent[0].error, { code: -32602, message: 'Invalid params: x', data: { field: 'x' } });
  assert.deepEqual(sent[1].error, { code: 4242, message: 'foreign', data: { why: 'copy' } });
  assert.deepEqual(sent[2].error, { code: 7, message: 'seven' });
});

test('a handler returning undefined answers null', async () => {
  const { sent, feed } = setup({ nothing: () => {}, asyncNothing: async () => {} });
  feed(req(1, 'nothing'));
  feed(req(2, 'asyncNothing'));
  await settle();
  assert.deepEqual(sent.map((m) => m.result), [null, null]);
  assert.ok(sent.every((m) => 'result' in m));
});

test('handlers run concurrently and answers leave as they finish, out of order', async () => {
  const { sent, feed } = setup({ sleep: ({ ms }) => delay(ms, ms) });
  feed(req(1, 'sleep', { ms: 60 }));
  feed(req(2, 'sleep', { ms: 5 }));
  feed(req(3, 'sleep', { ms: 30 }));
  await delay(120);
  assert.deepEqual(sent.map((m) => m.id), [2, 3, 1]);
  assert.deepEqual(sent.map((m) => m.result), [5, 30, 60]);
});

test('handlers get (params, ctx) with this = the owner', async () => {
  let seen;
  const { dispatcher, sent, feed } = setup();
  const owner = { tag: 'owner' };
  dispatcher.methods.set('probe', {
    fn(params, ctx) {
      seen = { params, id: ctx.id, method: ctx.method, self: this, hasLog: typeof ctx.log.info, RpcError: ctx.RpcError };
      return 'ok';
    },
    owner,
    source: 'test',
    log: silentLogger(),
  });
  feed(req(9, 'probe', { p: 1 }));
  await settle();
  assert.deepEqual(sent, [{ jsonrpc: '2.0', id: 9, result: 'ok' }]);
  assert.deepEqual(seen, { params: { p: 1 }, id: 9, method: 'probe', self: owner, hasLog: 'function', RpcError });
});

test('batch: mixed requests, notifications and invalid elements answered in one array', async () => {
  let notified = 0;
  const { sent, feed } = setup({ sleep: ({ ms }) => delay(ms, ms), ping: () => (notified++, 'pong') });
  feed([req(1, 'sleep', { ms: 20 }), note('ping'), 5, req(2, 'rpc.echo', ['x']), req(3, 'missing'), { jsonrpc: '2.0', id: 4 }]);
  await delay(60);
  assert.equal(sent.length, 1);
  const answers = sent[0];
  assert.ok(Array.isArray(answers));
  assert.equal(answers.length, 5);
  const byId = (id) => answers.filter((a) => a.id === id);
  assert.equal(byId(1)[0].result, 20);
  assert.deepEqual(byId(2)[0].result, ['x']);
  assert.equal(byId(3)[0].error.code, -32601);
  assert.equal(byId(4)[0].error.code, -32600);
  assert.equal(byId(null)[0].error.code, -32600);
  assert.equal(notified, 1);
});

test('batch: empty array → one -32600 (not an array); only notifications → no answer', async () => {
  const { sent, feed } = setup({ ping: () => 'pong' });
  feed([]);
  feed([note('ping'), note('ping')]);
  await settle();
  assert.deepEqual(sent, [{ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: empty batch' } }]);
});

test('notifications are run and never answered; unknown ones are ignored', async () => {
  const calls = [];
  const { sent, feed, logs } = setup({ hear: (params, ctx) => calls.push([params, ctx.id]) });
  feed(note('hear', { a: 1 }));
  feed(note('nobody.listens', {}));
  feed(note('$/setTrace', { value: 'off' }));
  await settle();
  assert.deepEqual(calls, [[{ a: 1 }, undefined]]);
  assert.deepEqual(sent, []);
  assert.ok(logs.some((r) => /nobody\.listens/.test(r.msg)));
});

test('cancel before start (request + cancel in the same input): one -32800, the handler never runs', async () => {
  let ran = 0;
  const { sent, feed } = setup({ work: () => (ran++, 'done') });
  feed(req(1, 'work'));
  feed(note('$/cancelRequest', { id: 1 }));
  await settle();
  await delay(10);
  assert.equal(ran, 0);
  assert.deepEqual(sent, [{ jsonrpc: '2.0', id: 1, error: { code: -32800, message: 'Request cancelled' } }]);
});

test('cancel while running: -32800 at once, signal aborted with it, the late result dropped', async () => {
  let signal;
  const { sent, feed } = setup({
    slow: async (params, ctx) => {
      signal = ctx.signal;
      await delay(40);
      return 'late';
    },
  });
  feed(req(7, 'slow'));
  await settle();
  assert.equal(signal.aborted, false);
  feed(note('$/cancelRequest', { id: 7 }));
  assert.deepEqual(sent, [{ jsonrpc: '2.0', id: 7, error: { code: -32800, message: 'Request cancelled' } }]);
  assert.equal(signal.aborted, true);
  assert.equal(signal.reason.code, -32800);
  feed(note('$/cancelRequest', { id: 7 })); // already answered: ignored
  await delay(60);
  assert.equal(sent.length, 1);
});

test('a signal first read after the cancel is already aborted', async () => {
  let aborted;
  const { feed, sent } = setup({
    lazy: async (params, ctx) => {
      await delay(20);
      aborted = ctx.signal.aborted;
      return 'ignored';
    },
  });
  feed(req(1, 'lazy'));
  await settle();
  feed(note('$/cancelRequest', { id: 1 }));
  await delay(40);
  assert.equal(aborted, true);
  assert.equal(sent.length, 1);
});

test('a cancel for an unknown id, a string id of the same digits, or bad params is ignored', async () => {
  const { sent, feed } = setup({ slow: () => delay(20, 'done') });
  feed(req(1, 'slow'));
  feed(note('$/cancelRequest', { id: 99 }));
  feed(note('$/cancelRequest', { id: '1' }));
  feed(note('$/cancelRequest', [1]));
  feed({ jsonrpc: '2.0', method: '$/cancelRequest' });
  await delay(40);
  assert.deepEqual(sent, [{ jsonrpc: '2.0', id: 1, result: 'done' }]);
});

test('cancelling one element of a batch puts -32800 in the batch answer', async () => {
  const { sent, feed } = setup({ slow: () => delay(30, 'slow'), fast: () => 'fast' });
  feed([req(1, 'slow'), req(2, 'fast')]);
  await settle();
  feed(note('$/cancelRequest', { id: 1 }));
  await delay(50);
  assert.equal(sent.length, 1);
  assert.deepEqual(
    sent[0].sort((a, b) => a.id - b.id),
    [
      { jsonrpc: '2.0', id: 1, error: { code: -32800, message: 'Request cancelled' } },
      { jsonrpc: '2.0', id: 2, result: 'fast' },
    ],
  );
});

test('a second request with an id still in flight is refused with id null', async () => {
  const { sent, feed, logs } = setup({ slow: () => delay(20, 'first') });
  feed(req(1, 'slow'));
  feed(req(1, 'slow'));
  await delay(40);
  assert.equal(sent[0].id, null);
  assert.equal(sent[0].error.code, -32600);
  assert.deepEqual(sent[1], { jsonrpc: '2.0', id: 1, result: 'first' });
  assert.ok(logs.some((r) => r.level === 'warn'));
});

test('requests received before setReady() wait; a cancel meanwhile answers at once', async () => {
  let ran = 0;
  const { dispatcher, sent, feed } = setup({ work: () => ++ran }, { ready: false });
  feed(req(1, 'work'));
  feed(req(2, 'work'));
  feed(note('$/cancelRequest', { id: 2 }));
  await delay(10);
  assert.equal(ran, 0);
  assert.deepEqual(sent, [{ jsonrpc: '2.0', id: 2, error: { code: -32800, message: 'Request cancelled' } }]);
  dispatcher.setReady();
  await settle();
  assert.equal(ran, 1);
  assert.deepEqual(sent[1], { jsonrpc: '2.0', id: 1, result: 1 });
});

test('ctx.progress sends $/progress {token: id, value} until the request is answered', async () => {
  let ctxRef;
  const { sent, feed } = setup({
    work: async (params, ctx) => {
      ctxRef = ctx;
      ctx.progress({ pct: 50 });
      return 'done';
    },
  });
  feed(req('job', 'work'));
  await settle();
  ctxRef.progress({ pct: 100 }); // after the answer: dropped
  assert.deepEqual(sent, [
    { jsonrpc: '2.0', method: '$/progress', params: { token: 'job', value: { pct: 50 } } },
    { jsonrpc: '2.0', id: 'job', result: 'done' },
  ]);
});

test('ctx.notify sends a notification (params omitted when undefined)', async () => {
  const { sent, feed } = setup({
    tell: (params, ctx) => {
      ctx.notify('python.event', { n: 1 });
      ctx.notify('python.bare');
      return true;
    },
  });
  feed(req(1, 'tell'));
  await settle();
  assert.deepEqual(sent.slice(0, 2), [
    { jsonrpc: '2.0', method: 'python.event', params: { n: 1 } },
    { jsonrpc: '2.0', method: 'python.bare' },
  ]);
});

test('ctx.request: host → Python request resolved by its result, rejected by its error', async () => {
  const { sent, feed } = setup({ ask: (params, ctx) => ctx.request('py.add', params) });
  feed(req(1, 'ask', [1, 2]));
  feed(req(2, 'ask', [0]));
  await settle();
  const [first, second] = sent;
  assert.equal(first.method, 'py.add');
  assert.deepEqual(first.params, [1, 2]);
  assert.ok(Number.isInteger(first.id));
  feed({ jsonrpc: '2.0', id: first.id, result: 3 });
  feed({ jsonrpc: '2.0', id: second.id, error: { code: -32001, message: 'no zeros', data: { z: 0 } } });
  await settle();
  assert.deepEqual(sent.slice(2), [
    { jsonrpc: '2.0', id: 1, result: 3 },
    { jsonrpc: '2.0', id: 2, error: { code: -32001, message: 'no zeros', data: { z: 0 } } },
  ]);
});

test('ctx.request: cancelling the incoming request cancels the outgoing one on Python\'s side', async () => {
  let outcome;
  const { sent, feed } = setup({
    ask: async (params, ctx) => {
      try {
        await ctx.request('py.slow');
      } catch (err) {
        outcome = err;
      }
    },
  });
  feed(req(1, 'ask'));
  await settle();
  const outgoingId = sent[0].id;
  feed(note('$/cancelRequest', { id: 1 }));
  await settle();
  assert.deepEqual(sent.slice(1), [
    { jsonrpc: '2.0', id: 1, error: { code: -32800, message: 'Request cancelled' } },
    { jsonrpc: '2.0', method: '$/cancelRequest', params: { id: outgoingId } },
  ]);
  assert.equal(outcome.code, -32800);
  feed({ jsonrpc: '2.0', id: outgoingId, result: 'too late' }); // unknown by now: logged, ignored
  await settle();
  assert.equal(sent.length, 3);
});

test('closeOutgoing rejects pending host → Python requests; a response for an unknown id is logged', async () => {
  const { dispatcher, feed, logs } = setup();
  const pending = dispatcher.request('py.never', {});
  dispatcher.closeOutgoing(new RpcError(-32000, 'closed'));
  await assert.rejects(pending, { code: -32000 });
  await assert.rejects(dispatcher.request('py.after'), { code: -32000 });
  feed({ jsonrpc: '2.0', id: 12345, result: 1 });
  feed({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
  assert.equal(logs.filter((r) => r.level === 'warn').length, 2);
});

test('an oversized frame is answered -32600 with data {length, limit}', () => {
  const { dispatcher, sent } = setup();
  dispatcher.receiveOversized({ length: 500, limit: 100 });
  assert.equal(sent[0].id, null);
  assert.equal(sent[0].error.code, -32600);
  assert.deepEqual(sent[0].error.data, { length: 500, limit: 100 });
});

test('shutdown helpers: -32000 for new requests, whenDrained, abortInflight', async () => {
  let signal;
  const { dispatcher, sent, feed } = setup({
    forever: (params, ctx) => {
      signal = ctx.signal;
      return new Promise(() => {});
    },
    quick: () => delay(10, 'quick'),
  });
  feed(req(1, 'forever'));
  feed(req(2, 'quick'));
  await settle();
  dispatcher.stopAccepting();
  feed(req(3, 'rpc.echo'));
  assert.equal(sent.at(-1).error.code, -32000);
  let drainedExceptForever = false;
  dispatcher.whenDrained((call) => call.method === 'forever').then(() => (drainedExceptForever = true));
  await delay(30);
  assert.equal(drainedExceptForever, true);
  const drained = dispatcher.whenDrained();
  assert.equal(dispatcher.abortInflight(new RpcError(-32000, 'shutting down')), 1);
  await drained;
  assert.equal(signal.aborted, true);
  assert.deepEqual(sent.find((m) => m.id === 1).error, { code: -32000, message: 'shutting down' });
});

test('a large result, batch answer, notification or request reaches the writer in pieces, never joined', async () => {
  const big = '漢字 "q" \\ 😀 '.repeat(10_000); // > 64 Ki characters once serialised
  const { sent, texts, feed } = setup({
    tell: (params, ctx) => {
      ctx.notify('python.event', { big });
      ctx.request('py.take', { big }).catch(() => {});
      return 'told';
    },
  });
  feed(req(1, 'rpc.echo', { big }));
  await settle();
  assert.ok(Array.isArray(texts[0]));
  assert.equal(texts[0][0], '{"jsonrpc":"2.0","id":1,"result":');
  assert.equal(texts[0][2], '}');
  assert.deepEqual(sent[0], { jsonrpc: '2.0', id: 1, result: { big } });

  feed([req(2, 'rpc.echo', { big }), req(3, 'rpc.echo', ['small'])]);
  await settle();
  assert.ok(Array.isArray(texts[1]));
  assert.equal(texts[1][0], '[');
  assert.ok(texts[1].every((piece) => typeof piece === 'string'), 'a flat list of strings');
  assert.deepEqual(sent[1], [
    { jsonrpc: '2.0', id: 2, result: { big } },
    { jsonrpc: '2.0', id: 3, result: ['small'] },
  ]);

  feed(req(4, 'tell'));
  await settle();
  const [notification, request, answer] = texts.slice(2);
  assert.ok(Array.isArray(notification) && Array.isArray(request));
  assert.deepEqual(sent[2], { jsonrpc: '2.0', method: 'python.event', params: { big } });
  assert.deepEqual({ ...sent[3], id: 0 }, { jsonrpc: '2.0', id: 0, method: 'py.take', params: { big } });
  assert.equal(answer, '{"jsonrpc":"2.0","id":4,"result":"told"}', 'small texts stay strings');
});

test('abortSignals: handlers see the abort first; whatever they settle with, the answer is the error', async () => {
  const seen = [];
  const onAbort = (settleWith) => (params, ctx) =>
    new Promise((resolve, reject) => {
      ctx.signal.addEventListener('abort', () => {
        seen.push(ctx.id);
        if (settleWith === 'value') resolve('a partial result');
        else reject(new Error('gave up'));
      });
    });
  const { dispatcher, sent, feed } = setup({ resolves: onAbort('value'), rejects: onAbort('error') });
  feed(req(1, 'resolves'));
  feed(req(2, 'rejects'));
  await settle();
  const error = new RpcError(-32000, 'the host shut down before the request finished');
  dispatcher.abortSignals(error);
  assert.deepEqual(sent, [], 'nothing is answered by abortSignals itself');
  await settle();
  assert.deepEqual(seen, [1, 2]);
  assert.deepEqual(
    sent.map((m) => [m.id, m.error]),
    [1, 2].map((id) => [id, { code: -32000, message: 'the host shut down before the request finished' }]),
  );
  assert.equal(dispatcher.abortInflight(error), 0, 'all answered already');
});
