'use strict';
// How the host ends (docs/protocol.md §5), observed from outside the process.

const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { setTimeout: delay } = require('node:timers/promises');
const { startHost, request, HOST, fixture, isAlive } = require('../test-support/wire');

const SLEEPY = ['--handlers', fixture('sleepy.mjs')];

test('stdin EOF: in-flight requests are still answered, then exit 0', async (t) => {
  const host = startHost(t, SLEEPY);
  host.send(request(1, 'sleep', { ms: 300, value: 'finished' }));
  host.send(request(2, 'rpc.echo', ['quick']));
  host.end();
  assert.deepEqual(await host.finished(), { code: 0, signal: null });
  assert.equal(host.messages.find((m) => m.id === 1).result, 'finished');
  assert.deepEqual(host.messages.find((m) => m.id === 2).result, ['quick']);
  assert.ok(host.records.some((r) => r.msg === 'shutting down (stdin closed)'));
  assert.deepEqual(host.stdoutProblems, []);
});

test('an 8 MB reply followed by stdin close arrives whole', async (t) => {
  const host = startHost(t, SLEEPY);
  host.send(request(1, 'big', { size: 8_000_000 }));
  host.end();
  assert.deepEqual(await host.finished(), { code: 0, signal: null });
  const answer = host.messages.find((m) => m.id === 1);
  assert.ok(answer, `no answer; got ${host.stdoutBytes} bytes`);
  assert.equal(answer.result.length, 8_000_000);
});

test('rpc.shutdown: in-flight requests finish, then null, later requests get -32000, exit 0, dispose called', async (t) => {
  const host = startHost(t, [...SLEEPY, '--handlers', fixture('counter.cjs')]);
  await host.call('counter.increment', { by: 3 });
  host.send(request(1, 'sleep', { ms: 200, value: 'in flight' }));
  host.send(request(2, 'rpc.shutdown'));
  await delay(50);
  host.send(request(3, 'rpc.echo', ['too late']));
  assert.equal((await host.answerFor(3)).error.code, -32000);
  const shutdown = await host.answerFor(2);
  assert.deepEqual(shutdown, { jsonrpc: '2.0', id: 2, result: null });
  assert.equal(host.messages.find((m) => m.id === 1).result, 'in flight');
  assert.ok(host.messages.indexOf(shutdown) > host.messages.findIndex((m) => m.id === 1), 'null comes after the in-flight answer');
  assert.deepEqual(await host.finished(), { code: 0, signal: null });
  assert.ok(host.records.some((r) => r.msg === 'disposed with count 3'), 'dispose() ran');
});

test('SIGTERM: graceful, in-flight answered, exit 0', async (t) => {
  const host = startHost(t, SLEEPY);
  await host.call('rpc.echo');
  host.send(request(1, 'sleep', { ms: 200, value: 'done' }));
  await delay(50);
  host.child.kill('SIGTERM');
  assert.deepEqual(await host.finished(), { code: 0, signal: null });
  assert.equal(host.messages.find((m) => m.id === 1).result, 'done');
  assert.ok(host.records.some((r) => r.msg === 'shutting down (SIGTERM)'));
});

test('SIGINT is left to the parent: a host whose stdin is a pipe keeps serving', async (t) => {
  const host = startHost(t);
  await host.call('rpc.echo');
  host.child.kill('SIGINT');
  await delay(100);
  assert.deepEqual((await host.call('rpc.echo', ['still serving'])).result, ['still serving']);
  host.end();
  assert.deepEqual(await host.finished(), { code: 0, signal: null });
});

test('requests still running after --grace-ms are answered -32000 and their signal aborted', async (t) => {
  const host = startHost(t, [...SLEEPY, '--grace-ms', '150']);
  await host.call('rpc.echo');
  host.send(request(1, 'waitForAbort'));
  host.send(request(2, 'stubborn', { ms: 10_000 }));
  await host.record((r) => r.msg === 'waiting 1');
  const closedAt = Date.now();
  host.end();
  assert.deepEqual(await host.finished(), { code: 0, signal: null });
  assert.ok(Date.now() - closedAt < 3000, 'the grace period bounds the exit');
  for (const id of [1, 2]) {
    const { error } = host.messages.find((m) => m.id === id);
    assert.equal(error.code, -32000);
    assert.match(error.message, /grace period 150 ms/);
  }
  assert.ok(host.records.some((r) => r.msg === 'aborted 1 with -32000'));
});

test('stdin EOF ends the host even when a handler module keeps a timer alive', async (t) => {
  const host = startHost(t, ['--handlers', fixture('leaky.mjs')]);
  assert.equal((await host.call('ping')).result, 'pong');
  host.end();
  assert.deepEqual(await host.finished(5000), { code: 0, signal: null });
});

test('stdin EOF while init() never finishes: queued requests get -32000, exit 0', async (t) => {
  const host = startHost(t, ['--handlers', fixture('stuck-init.mjs'), '--grace-ms', '100']);
  host.send(request(1, 'never'));
  host.send(request(2, 'rpc.shutdown'));
  await delay(200);
  host.end();
  assert.deepEqual(await host.finished(), { code: 0, signal: null });
  assert.equal(host.messages.find((m) => m.id === 1).error.code, -32000);
  assert.equal(host.messages.find((m) => m.id === 2).error.code, -32000);
});

test('EPIPE on stdout (the reader went away): exit 0, quietly', async (t) => {
  const host = startHost(t);
  await host.call('rpc.echo');
  host.child.stdout.destroy();
  host.send(request(1, 'rpc.echo', ['x'.repeat(200_000)]));
  assert.deepEqual(await host.finished(5000), { code: 0, signal: null });
  assert.ok(!host.records.some((r) => r.level === 'error'), host.stderrText);
});

test('an uncaught exception is logged and the host exits 1', async (t) => {
  const host = startHost(t, SLEEPY);
  assert.equal((await host.call('crashSoon')).result, 'crashing');
  assert.deepEqual(await host.finished(), { code: 1, signal: null });
  const record = host.records.find((r) => r.level === 'error' && /uncaught exception/.test(r.msg));
  assert.ok(record, host.stderrText);
  assert.match(record.msg, /uncaught from a timer/);
});

test('parent gone (ppid changed) while stdin stays open: the host exits within ~1 s', async (t) => {
  // An intermediate process starts the host with stdin/stdout inherited (we keep holding their
  // pipes, so no EOF reaches the host), prints the host's pid, and is then killed.
  const script = `
    const { spawn } = require('node:child_process');
    const host = spawn(process.execPath, [${JSON.stringify(HOST)}], { stdio: ['inherit', 'inherit', 'ignore'] });
    process.stderr.write(host.pid + '\\n');
    setInterval(() => {}, 1000);
  `;
  const parent = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => parent.kill('SIGKILL'));
  let text = '';
  const hostPid = await new Promise((resolve) => {
    parent.stderr.on('data', (chunk) => {
      text += chunk;
      if (text.includes('\n')) resolve(Number(text.trim()));
    });
  });
  t.after(() => {
    try {
      process.kill(hostPid, 'SIGKILL');
    } catch {}
  });
  await delay(300); // let the host start and take its ppid
  assert.ok(isAlive(hostPid));
  parent.kill('SIGKILL');
  const deadline = Date.now() + 4000;
  while (isAlive(hostPid) && Date.now() < deadline) await delay(50);
  assert.equal(isAlive(hostPid), false, 'the host should have noticed its parent died');
});
