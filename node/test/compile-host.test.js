'use strict';
// `compile` in a running host, on the raw wire: 200 concurrent compiles, cancellation, the
// TypeScript engine missing or unusable (1002), engine failures, the esbuild warm-up, and the
// engines' processes and threads ending with the host.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { setTimeout: delay } = require('node:timers/promises');
const { startHost, frame, request, notification, isAlive, NODE_DIR } = require('../test-support/wire');
const { COMPILE_FIXTURES, bigSource, runCommonJS, childProcesses } = require('../test-support/compile');

const withTypescript = (module) => ({ env: { ...process.env, RPCBRIDGE_TYPESCRIPT_MODULE: module } });
const INSTALL = `npm install --prefix ${NODE_DIR} typescript@~5.9.3`;

test('200 concurrent compiles from one host (both engines), written at once: every answer right', async (t) => {
  const host = startHost(t);
  const frames = [];
  for (let i = 0; i < 200; i++) {
    const engine = i % 4 === 0 ? 'typescript' : 'esbuild';
    const source = `const n${i}: number = ${i};\nexport const value = n${i} * 2;\nexport const el = () => <p>{n${i}}</p>;\n`;
    frames.push(frame(request(i + 1, 'compile', { source, filename: `m${i}.tsx`, engine, format: 'cjs' })));
  }
  host.write(Buffer.concat(frames));
  await host.messageCount(200, 30_000);
  const jsx = { jsx: (type, props) => ({ type, props }) };
  for (let i = 0; i < 200; i++) {
    const answers = host.messages.filter((m) => m.id === i + 1);
    assert.equal(answers.length, 1, `id ${i + 1}`);
    const { result } = answers[0];
    assert.equal(result.engine, i % 4 === 0 ? 'typescript' : 'esbuild');
    const exported = runCommonJS(result.code, { 'react/jsx-runtime': jsx });
    assert.equal(exported.value, i * 2);
    assert.equal(exported.el().props.children, i);
  }
  assert.equal(host.messages.length, 200);
  assert.deepEqual(host.stdoutProblems, []);
});

test('esbuild: a compile cancelled mid-flight is answered -32800 exactly once; its late result is dropped', async (t) => {
  const host = startHost(t);
  const source = bigSource(3000); // ~1.6 MB: esbuild takes ~0.1 s
  await host.call('compile', { source: 'let warm = 1' });
  host.send(request(1, 'compile', { source }));
  // The echo is answered once the host has read the compile request and started it (the
  // dispatcher starts requests in order; esbuild works in its own process meanwhile).
  assert.equal((await host.call('rpc.echo', ['barrier'])).result[0], 'barrier');
  assert.equal(host.messages.filter((m) => m.id === 1).length, 0, 'the compile is still running');
  host.send(notification('$/cancelRequest', { id: 1 }));
  const [cancelled] = await host.answersFor(1);
  assert.equal(cancelled.error.code, -32800);
  // A second compile of the same text ends after the first one has; then nothing more for id 1.
  host.send(request(2, 'compile', { source }));
  assert.equal(typeof (await host.answerFor(2)).result.code, 'string');
  await delay(100);
  assert.equal(host.messages.filter((m) => m.id === 1).length, 1);
  assert.deepEqual(host.stdoutProblems, []);
});

test('typescript: cancelling the running job → one -32800, result dropped; a queued job is never run', async (t) => {
  const host = startHost(t);
  const source = bigSource(600); // TypeScript takes ~0.4 s
  await host.call('compile', { source: 'let warm = 1', engine: 'typescript' });
  host.send(request(1, 'compile', { source, engine: 'typescript' }));
  host.send(request(2, 'compile', { source, engine: 'typescript' }));
  host.send(request(3, 'compile', { source: 'export const small: number = 3;', engine: 'typescript' }));
  assert.equal((await host.call('rpc.echo', ['barrier'])).result[0], 'barrier', 'the worker does not block the host');
  assert.equal(host.messages.filter((m) => [1, 2, 3].includes(m.id)).length, 0, 'the compiles are still running');
  host.send(notification('$/cancelRequest', { id: 1 })); // running
  host.send(notification('$/cancelRequest', { id: 2 })); // waiting behind it
  assert.equal((await host.answerFor(1)).error.code, -32800);
  assert.equal((await host.answerFor(2)).error.code, -32800);
  await host.record((r) => /cancelled typescript job was dropped before it started/.test(r.msg), 'the queued job dropped');
  // id 3 runs after id 1 has finished in the worker (one job at a time).
  assert.match((await host.answerFor(3)).result.code, /small = 3/);
  await delay(50);
  for (const id of [1, 2]) assert.equal(host.messages.filter((m) => m.id === id).length, 1, `id ${id}`);
  assert.equal(host.records.filter((r) => /dropped before it started/.test(r.msg)).length, 1);
});

test('typescript missing (RPCBRIDGE_TYPESCRIPT_MODULE names no package) → 1002 with the install command', async (t) => {
  const host = startHost(t, [], withTypescript('rpcbridge-no-such-typescript'));
  const hello = (await host.call('rpc.hello')).result;
  assert.deepEqual(hello.engines, { esbuild: require('esbuild/package.json').version, typescript: null });
  const { error } = await host.call('compile', { source: 'let a = 1', engine: 'typescript' });
  assert.equal(error.code, 1002);
  assert.deepEqual(error.data, { engine: 'typescript', install: INSTALL });
  assert.ok(error.message.includes(INSTALL), error.message);
  assert.match(error.message, /"rpcbridge-no-such-typescript" is not installed/);
  // esbuild is unaffected, and a second try gives the same answer (nothing is cached).
  assert.equal((await host.call('compile', { source: 'let a = 1' })).result.engine, 'esbuild');
  assert.equal((await host.call('compile', { source: 'let a = 1', engine: 'typescript' })).error.code, 1002);
});

test('typescript 7 (no transpileModule) → 1002 saying so; what its module prints stays off stdout', async (t) => {
  const host = startHost(t, [], withTypescript(path.join(COMPILE_FIXTURES, 'fake-typescript-7.cjs')));
  const { error } = await host.call('compile', { source: 'let a = 1', engine: 'typescript' });
  assert.equal(error.code, 1002);
  assert.deepEqual(error.data, { engine: 'typescript', install: INSTALL });
  assert.match(error.message, /typescript 7\.0\.2 .*has no transpileModule/);
  assert.match(error.message, /~5\.9\.3/);
  await host.record((r) => r.msg === 'fake typescript 7 loaded (console.log)', 'the worker\'s console.log as a record');
  await host.record((r) => r.msg === 'fake typescript 7 loaded (process.stdout.write)', 'the worker\'s stdout.write as a record');
  assert.deepEqual(host.stdoutProblems, []);
});

test('a typescript module that cannot transpile and keeps its worker busy: 1002, and the worker is still ended', async (t) => {
  const host = startHost(t, [], withTypescript(path.join(COMPILE_FIXTURES, 'lingering-typescript-7.cjs')));
  const { error } = await host.call('compile', { source: 'let a = 1', engine: 'typescript' });
  assert.equal(error.code, 1002);
  assert.match(error.message, /typescript 7\.0\.2 .*has no transpileModule/);
  const threads = () => Number(require('node:fs').readFileSync(`/proc/${host.pid}/status`, 'utf8').match(/^Threads:\s+(\d+)/m)[1]);
  const withWorker = threads();
  await delay(1500); // past the grace period (FAILED_WORKER_GRACE_MS): the worker is terminated
  assert.ok(threads() < withWorker, `the worker thread ended (${withWorker} threads, now ${threads()})`);
  assert.equal((await host.call('compile', { source: 'let a = 1' })).result.engine, 'esbuild');
  host.end();
  assert.deepEqual(await host.finished(5_000), { code: 0, signal: null });
});

test('typescript engine failures: a throw is -32603, a dead worker is -32603 and the next compile gets a new one', async (t) => {
  const host = startHost(t, [], withTypescript(path.join(COMPILE_FIXTURES, 'flaky-typescript.cjs')));
  const ok = (await host.call('compile', { source: 'fine', engine: 'typescript' })).result;
  assert.deepEqual(ok, { code: 'fine', map: null, diagnostics: [], engine: 'typescript', engineVersion: '5.9.3-flaky' });
  const thrown = (await host.call('compile', { source: 'throw', engine: 'typescript' })).error;
  assert.equal(thrown.code, -32603);
  assert.match(thrown.message, /flaky typescript threw/);
  assert.equal(thrown.data.name, 'TypeError');
  const died = (await host.call('compile', { source: 'exit', engine: 'typescript' })).error;
  assert.equal(died.code, -32603);
  assert.match(died.message, /TypeScript worker exited \(code 3\)/);
  assert.equal((await host.call('compile', { source: 'again', engine: 'typescript' })).result.code, 'again');
});

test('esbuild: the first rpc.hello warms esbuild up in the background; RPCBRIDGE_COMPILE_WARMUP=0 turns that off', async (t) => {
  const warm = startHost(t);
  await warm.call('rpc.hello');
  await warm.record((r) => r.src === 'compile' && /esbuild [\d.]+ warmed up/.test(r.msg), 'the warm-up record');
  assert.ok(childProcesses(warm.pid).some((c) => c.comm === 'esbuild'), 'the esbuild service runs');

  const cold = startHost(t, [], { env: { ...process.env, RPCBRIDGE_COMPILE_WARMUP: '0' } });
  await cold.call('rpc.hello');
  await delay(200);
  assert.ok(!cold.records.some((r) => /warmed up/.test(r.msg)));
  assert.deepEqual(childProcesses(cold.pid), [], 'nothing started before the first compile');
  assert.equal((await cold.call('compile', { source: 'let a: number = 1' })).result.code, 'let a = 1;\n');
});

test('esbuild: RPCBRIDGE_COMPILE_WARMUP=now warms esbuild up as soon as the host serves, before any rpc.hello', async (t) => {
  const host = startHost(t, [], { env: { ...process.env, RPCBRIDGE_COMPILE_WARMUP: 'now' } });
  await host.record((r) => r.src === 'compile' && /esbuild [\d.]+ warmed up/.test(r.msg), 'the warm-up record');
  assert.ok(childProcesses(host.pid).some((c) => c.comm === 'esbuild'), 'the esbuild service runs');
  assert.equal((await host.call('rpc.hello')).result.protocol, 1);
  await delay(200); // the first rpc.hello schedules no second warm-up
  assert.equal(host.records.filter((r) => /warmed up/.test(r.msg)).length, 1);
  assert.equal((await host.call('compile', { source: 'let a: number = 1' })).result.code, 'let a = 1;\n');
});

test('esbuild: if its service dies, the compiles in flight and the next ones succeed on a new one', async (t) => {
  const host = startHost(t);
  await host.call('compile', { source: 'let a = 1' });
  const [service] = childProcesses(host.pid).filter((c) => c.comm === 'esbuild');
  assert.ok(service, 'the esbuild service is a child of the host');
  const source = bigSource(400);
  for (let id = 1; id <= 10; id++) host.send(request(id, 'compile', { source, filename: `big${id}.tsx` }));
  await host.call('rpc.echo', ['barrier']); // all ten are running
  process.kill(service.pid, 'SIGKILL');
  for (let id = 1; id <= 10; id++) {
    const answer = await host.answerFor(id);
    assert.equal(typeof answer.result?.code, 'string', `id ${id}: ${JSON.stringify(answer.error)}`);
  }
  const { result } = await host.call('compile', { source: 'let b: number = 2' });
  assert.equal(result.code, 'let b = 2;\n');
  const warnings = host.records.filter((r) => r.level === 'warn' && /esbuild service stopped/.test(r.msg));
  assert.equal(warnings.length, 1, 'one restart for all the calls in flight');
  const services = childProcesses(host.pid).filter((c) => c.comm === 'esbuild');
  assert.equal(services.length, 1);
  assert.notEqual(services[0].pid, service.pid);
});

test('the esbuild service and the TypeScript worker end with the host', async (t) => {
  const host = startHost(t);
  await host.call('compile', { source: 'let a = 1' });
  await host.call('compile', { source: 'let a = 1', engine: 'typescript' });
  const services = childProcesses(host.pid).filter((c) => c.comm === 'esbuild');
  assert.equal(services.length, 1);
  host.end();
  assert.deepEqual(await host.finished(), { code: 0, signal: null });
  for (let i = 0; i < 50 && isAlive(services[0].pid); i++) await delay(50);
  assert.equal(isAlive(services[0].pid), false, 'the esbuild service exited');
});
