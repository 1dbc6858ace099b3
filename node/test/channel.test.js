'use strict';
// The isolated channel (`--channel-fd N`, docs/protocol.md §5): frames over a socketpair end at
// fd 3, while fd 1 and fd 2 only carry logs and stray output.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { setTimeout: delay } = require('node:timers/promises');
const { Writable } = require('node:stream');
const { startChannelHost, frame } = require('../test-support/channel-host');
const { corkedWrite } = require('../lib/channel');
const { startHost, request, fixture } = require('../test-support/wire');

const SLEEPY = ['--handlers', fixture('sleepy.mjs')];

test('rpc.hello and rpc.echo round trip over the channel; fd 1 stays silent; rpc.shutdown ends it', async (t) => {
  const host = startChannelHost(t);
  const hello = await host.call('rpc.hello');
  assert.equal(hello.result.protocol, 1);
  assert.equal(hello.result.pid, host.child.pid);
  assert.deepEqual((await host.call('rpc.echo', ['über', { n: 1 }])).result, ['über', { n: 1 }]);
  assert.deepEqual((await host.call('rpc.shutdown')).result, null);
  assert.deepEqual(await host.finished(), { code: 0, signal: null });
  assert.equal(host.stdoutText, '');
  assert.deepEqual(host.channelProblems, []);
  assert.ok(host.records.every((r) => r.level !== undefined), host.stderrText);
});

test('writes to fd 1 past the stdout guard cannot corrupt the channel; console output is still a record', async (t) => {
  const host = startChannelHost(t, ['--handlers', fixture('stray-writes.mjs')]);
  assert.equal((await host.call('strayWrites')).result, 'strayed');
  assert.deepEqual((await host.call('rpc.echo', ['next'])).result, ['next']);
  await host.waitUntil(() => (host.stdoutText.includes('inheriting child') ? true : undefined), 'the stray bytes on fd 1');
  assert.match(host.stdoutText, /^junk from fs\.writeSync\(1\)\njunk from an inheriting child\n$/);
  const consoleRecord = await host.record((r) => r.src === 'console.log');
  assert.equal(consoleRecord.msg, 'console line { a: 1 }');
  assert.equal((await host.record((r) => r.src === 'stdout.write')).msg, 'process.stdout.write line');
  assert.ok(host.stderrText.includes('junk from fs.writeSync(2)\n'));
  host.end();
  assert.deepEqual(await host.finished(), { code: 0, signal: null });
  assert.deepEqual(host.channelProblems, []);
  assert.equal(host.messages.length, 2);
});

test('end of input (half-close): in-flight requests are still answered, then exit 0', async (t) => {
  const host = startChannelHost(t, SLEEPY);
  host.write(frame(request(1, 'sleep', { ms: 300, value: 'finished' })));
  host.write(frame(request(2, 'rpc.echo', ['quick'])));
  host.end(); // possibly before the host has even attached its listeners
  assert.deepEqual(await host.finished(), { code: 0, signal: null });
  assert.equal(host.messages.find((m) => m.id === 1).result, 'finished');
  assert.deepEqual(host.messages.find((m) => m.id === 2).result, ['quick']);
  assert.ok(host.records.some((r) => r.msg === 'shutting down (channel fd 3 closed)'), host.stderrText);
  assert.deepEqual(host.channelProblems, []);
});

test('an 8 MB answer followed by end of input arrives whole', async (t) => {
  const host = startChannelHost(t, SLEEPY);
  host.write(frame(request(1, 'big', { size: 8_000_000 })));
  host.end();
  assert.deepEqual(await host.finished(), { code: 0, signal: null });
  const answer = host.messages.find((m) => m.id === 1);
  assert.ok(answer, `no answer; got ${host.channelBytes} bytes`);
  assert.equal(answer.result.length, 8_000_000);
  assert.deepEqual(host.channelProblems, []);
});

test('backpressure: when Python stops reading the channel, the host stops reading it; nothing is lost', async (t) => {
  const host = startChannelHost(t);
  await host.call('rpc.echo');
  host.channel.pause();
  const payload = 'x'.repeat(1 << 20);
  for (let id = 1; id <= 32; id++) host.write(frame(request(id, 'rpc.echo', [payload])));
  await delay(500);
  const stillQueued = host.channel.writableLength;
  assert.ok(stillQueued > 16 << 20, `the host kept reading: only ${stillQueued} bytes are still queued`);
  host.channel.resume();
  await host.messageCount(33, 20_000);
  for (let id = 1; id <= 32; id++) assert.equal(host.messages.find((m) => m.id === id).result[0].length, 1 << 20);
});

test('Python gone (its end closed while the host writes): exit 0, quietly', async (t) => {
  const host = startChannelHost(t, SLEEPY);
  await host.call('rpc.echo');
  const before = host.channelBytes;
  host.write(frame(request(1, 'big', { size: 8_000_000 })));
  await host.waitUntil(() => (host.channelBytes > before ? true : undefined), 'the first bytes of the answer');
  host.channel.destroy();
  assert.deepEqual(await host.finished(), { code: 0, signal: null });
  assert.deepEqual(host.records.filter((r) => r.level === 'error' || r.level === 'warn'), []);
});

test('a channel fd above 15 that Node left inheritable gets a warning, and still works', async (t) => {
  const low = startChannelHost(t);
  const high = startChannelHost(t, [], { fd: 20 }); // fds 3-19 closed: Node stops marking at 16
  assert.deepEqual((await low.call('rpc.echo', ['low'])).result, ['low']);
  assert.deepEqual((await high.call('rpc.echo', ['high'])).result, ['high']);
  const warning = await high.record((r) => r.level === 'warn');
  assert.match(warning.msg, /^channel fd 20 is not close-on-exec: every child process the host starts inherits it/);
  low.end();
  high.end();
  assert.deepEqual(await low.finished(), { code: 0, signal: null });
  assert.deepEqual(await high.finished(), { code: 0, signal: null });
  assert.deepEqual(low.records.filter((r) => r.level === 'warn'), []);
  assert.ok(high.records.some((r) => r.msg === 'shutting down (channel fd 20 closed)'));
});

test('a bad --channel-fd: exit 2 with a message, before serving anything', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpcbridge-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = fs.openSync(path.join(dir, 'not-a-socket'), 'w');
  t.after(() => fs.closeSync(file));
  const cases = [
    [['--channel-fd', 'three'], {}, /--channel-fd needs an integer from 3 to 2147483647, got "three"/],
    [['--channel-fd=-1'], {}, /--channel-fd needs an integer from 3 to 2147483647, got "-1"/],
    [['--channel-fd', '1'], {}, /--channel-fd 1: fds 0-2 are stdin, stdout and stderr/],
    [['--channel-fd', '1000'], {}, /--channel-fd 1000: fd 1000 is not open/],
    [['--channel-fd', '3'], { stdio: ['pipe', 'pipe', 'pipe', file] }, /--channel-fd 3: fd 3 is not a socket \(it is a regular file\)/],
  ];
  await Promise.all(
    cases.map(async ([args, options, message]) => {
      const host = startHost(t, args, options);
      assert.deepEqual(await host.finished(), { code: 2, signal: null }, args.join(' '));
      const record = host.records.find((r) => r.level === 'error');
      assert.ok(record, host.stderrText);
      assert.match(record.msg, message);
      assert.equal(host.stdoutBytes, 0);
    }),
  );
  assert.equal(fs.statSync(path.join(dir, 'not-a-socket')).size, 0, 'nothing was written to the file');
});

test('corkedWrite hands the Buffers of one frame to the stream in one writev, with one callback', async () => {
  const vectors = [];
  const stream = new Writable({
    highWaterMark: 16,
    writev(chunks, cb) {
      vectors.push(chunks.map((c) => c.chunk.toString()));
      setImmediate(cb);
    },
  });
  let calls = 0;
  const done = new Promise((resolve) => {
    const ok = corkedWrite(stream, (buf, cb) => stream.write(buf, cb), [Buffer.from('head:'), Buffer.from('a'.repeat(20)), Buffer.from('b')], () => {
      calls++;
      resolve();
    });
    assert.equal(ok, false, 'over the highWaterMark: wait for drain');
  });
  await done;
  assert.deepEqual(vectors, [['head:', 'a'.repeat(20), 'b']]);
  assert.equal(calls, 1);
});

test('a large non-ASCII echo crosses the channel intact (a frame written as several Buffers)', async (t) => {
  const host = startChannelHost(t);
  const text = '漢字 "q" \\ 😀 한국어 '.repeat(1 << 16);
  assert.equal((await host.call('rpc.echo', { text })).result.text, text);
  assert.deepEqual(host.channelProblems, []);
});
