'use strict';
// The handler thread (lib/handler-thread.js), the watchdog (lib/watchdog.js) and rpc.stats
// (lib/host-stats.js), on the wire: a real host process per test.

const test = require('node:test');
const assert = require('node:assert/strict');
const { setTimeout: delay } = require('node:timers/promises');
const { startHost, request, notification, frame, fixture } = require('../test-support/wire');

const RUNAWAY = ['--handlers', fixture('runaway.mjs')];

const cancel = (id) => notification('$/cancelRequest', { id });

test('handlers run in a worker thread by default, on the main thread with --handler-thread main', async (t) => {
  const worker = startHost(t, RUNAWAY);
  const main = startHost(t, [...RUNAWAY, '--handler-thread', 'main']);
  const inWorker = (await worker.call('thread')).result;
  const inMain = (await main.call('thread')).result;
  assert.deepEqual(inWorker, { pid: worker.pid, isMainThread: false });
  assert.deepEqual(inMain, { pid: main.pid, isMainThread: true });
  assert.equal((await worker.call('rpc.stats')).result.handlerThread.mode, 'worker');
  assert.equal((await main.call('rpc.stats')).result.handlerThread.mode, 'main');
});

for (const [method, params] of [
  ['spin', undefined],
  ['spinLater', undefined],
  ['regex', { length: 40 }],
]) {
  test(`a cancelled ${method} is ended: built-ins answer meanwhile, queued calls run on a new thread`, async (t) => {
    const host = startHost(t, [...RUNAWAY, '--preempt-ms', '50']);
    await host.call('echo', ['warm']);
    host.send(request(1, method, params));
    await delay(50);
    host.send(request(2, 'echo', ['queued behind']));
    assert.deepEqual((await host.call('rpc.echo', ['main thread free'])).result, ['main thread free']);
    host.send(cancel(1));
    assert.equal((await host.answerFor(1)).error.code, -32800, 'the cancel is answered at once');
    assert.deepEqual((await host.answerFor(2)).result, ['queued behind'], 'the never-started call ran on the new thread');
    const { handlerThread } = (await host.call('rpc.stats')).result;
    assert.equal(handlerThread.restarts, 1);
    assert.equal(handlerThread.lastRestart.reason, 'preempted');
    assert.equal(handlerThread.lastRestart.culprit.method, method);
    assert.ok(host.records.some((r) => r.level === 'warn' && /ending the handler thread: the call/.test(r.msg)));
  });
}

test('a call that had started on the ended thread is answered -32001 naming the culprit', async (t) => {
  const host = startHost(t, [...RUNAWAY, '--preempt-ms', '50']);
  await host.call('echo', ['ready']); // the thread is up: the calls below start at once
  host.send(request(1, 'sleep', { ms: 5000, value: 'late' })); // long: a loaded machine must not finish it first
  await delay(50);
  host.send(request(2, 'spin'));
  await delay(50);
  host.send(cancel(2));
  const { error } = await host.answerFor(1);
  assert.equal(error.code, -32001);
  assert.equal(error.data.reason, 'preempted');
  assert.deepEqual(error.data.culprit, { id: 2, method: 'spin' });
  assert.match(error.message, /Handler interrupted: .*spin \(id 2\)/);
  assert.equal((await host.call('echo', ['after'])).result[0], 'after');
});

test('a cancelled call is NOT preempted while another live call runs synchronously', async (t) => {
  const host = startHost(t, [...RUNAWAY, '--preempt-ms', '30']);
  host.send(request(1, 'sleep', { ms: 10_000 }));
  host.send(request(2, 'busy', { ms: 400 }));
  await delay(50);
  host.send(cancel(1)); // the thread is busy with call 2, which is still wanted
  assert.equal((await host.answerFor(1)).error.code, -32800);
  assert.equal((await host.answerFor(2)).result, 400, 'the busy call finished');
  assert.equal((await host.call('rpc.stats')).result.handlerThread.restarts, 0);
});

test('a handler over --handler-heap-mb: -32002 naming it, and the next call is answered', async (t) => {
  const host = startHost(t, [...RUNAWAY, '--handler-heap-mb', '64']);
  await host.call('echo', [0]);
  host.send(request(1, 'allocate', { megabytes: 4096 }));
  const { error } = await host.waitUntil(() => host.messages.find((m) => m.id === 1), 'the out-of-memory answer', 20_000);
  assert.equal(error.code, -32002);
  assert.equal(error.data.reason, 'out-of-memory');
  assert.deepEqual(error.data.culprit, { id: 1, method: 'allocate' });
  assert.equal(error.data.heapLimitMb, 64);
  assert.deepEqual((await host.call('echo', ['fresh'])).result, ['fresh']);
});

test('process.exit(code) in the handler thread ends the host with that code', async (t) => {
  const host = startHost(t, RUNAWAY);
  await host.call('exit', { code: 7 });
  assert.deepEqual(await host.finished(), { code: 7, signal: null });
});

test('an uncaught exception in the handler thread ends the host with code 1 and the stack', async (t) => {
  const host = startHost(t, RUNAWAY);
  await host.call('throwLater', { message: 'boom in a timer' });
  assert.deepEqual(await host.finished(), { code: 1, signal: null });
  assert.ok(host.records.some((r) => r.level === 'error' && /uncaught exception in the handler thread.*boom in a timer/s.test(r.msg)));
});

test('the watchdog ends a host whose main thread is stuck, with a record saying so', async (t) => {
  const host = startHost(t, [...RUNAWAY, '--handler-thread', 'main', '--watchdog-ms', '300']);
  await host.call('echo', [1]);
  const sent = Date.now();
  host.send(request(1, 'spin'));
  assert.deepEqual(await host.finished(5000), { code: null, signal: 'SIGKILL' });
  assert.ok(Date.now() - sent >= 300, 'not before the limit');
  const record = host.records.find((r) => r.src === 'watchdog');
  assert.ok(record, host.stderrText);
  assert.equal(record.level, 'error');
  assert.match(record.msg, /main thread has been blocked for \d+ ms \(limit 300 ms/);
});

test('the watchdog leaves a busy but live host alone', async (t) => {
  const host = startHost(t, [...RUNAWAY, '--handler-thread', 'main', '--watchdog-ms', '600']);
  assert.equal((await host.call('busy', { ms: 300 })).result, 300);
  await delay(700);
  assert.deepEqual((await host.call('echo', ['alive'])).result, ['alive']);
});

test('rpc.stats: calls in flight, the thread, and the event-loop delay of the window since the last report', async (t) => {
  const host = startHost(t, [...RUNAWAY, '--handler-thread', 'main', '--watchdog-ms', '0']);
  await host.call('rpc.stats'); // start a fresh window
  await delay(50); // the monitor's first samples of the window (it measures between two of them)
  host.send(request(1, 'sleep', { ms: 300 }));
  assert.equal((await host.call('busy', { ms: 150 })).result, 150); // blocks the main loop 150 ms
  const stats = (await host.call('rpc.stats')).result;
  assert.equal(stats.inFlight, 1, 'the sleeping call (not rpc.stats itself)');
  assert.equal(stats.watchdogMs, 0);
  assert.ok(stats.eventLoopDelay.maxMs >= 100, JSON.stringify(stats.eventLoopDelay));
  assert.ok(stats.eventLoopDelay.windowMs >= 150);
  const next = (await host.call('rpc.stats')).result;
  assert.ok(next.eventLoopDelay.maxMs < stats.eventLoopDelay.maxMs, 'each report starts a new window');
  assert.equal((await host.call('rpc.stats', { extra: 1 })).error.code, -32602);
});

test('a call cancelled before the stuck thread started it is not run on the new thread', async (t) => {
  const host = startHost(t, [...RUNAWAY, '--preempt-ms', '50']);
  await host.call('echo', ['ready']);
  host.send(request(1, 'spin'));
  await delay(50);
  host.send(request(2, 'exit', { code: 9 })); // queued behind the spin: would end the host if run
  host.send(cancel(2));
  host.send(cancel(1));
  assert.equal((await host.answerFor(2)).error.code, -32800);
  await host.record((r) => /will run on a new thread/.test(r.msg));
  assert.deepEqual((await host.call('echo', ['alive'])).result, ['alive']);
  await delay(100);
  assert.equal(host.child.exitCode, null, 'the cancelled call never ran');
});

test('a thread out of memory in init(): exit 2 with the reason, not a restart loop', async (t) => {
  const host = startHost(t, ['--handlers', fixture('hungry-init.mjs'), '--handler-heap-mb', '64']);
  host.send(request(1, 'never'));
  assert.deepEqual(await host.finished(), { code: 2, signal: null });
  assert.ok(host.records.some((r) => r.level === 'error' && /ran out of memory while loading the handler modules or running their init\(\)/.test(r.msg)), host.stderrText);
});

test('a call answered just before a spin in the same batch keeps its answer', async (t) => {
  const host = startHost(t, [...RUNAWAY, '--preempt-ms', '50']);
  await host.call('echo', ['ready']);
  // One write, one input chunk: both calls reach the thread in one message.
  host.write(Buffer.concat([frame(request(1, 'echo', ['before the spin'])), frame(request(2, 'spin'))]));
  assert.deepEqual((await host.answerFor(1)).result, ['before the spin']);
  host.send(cancel(2));
  assert.equal((await host.answerFor(2)).error.code, -32800);
  assert.deepEqual((await host.call('echo', ['after'])).result, ['after']);
});
