'use strict';
// FrameWriter (lib/frame-writer.js): one write per frame (or per corked burst), backpressure,
// flush and failure reporting, against a fake stream.

const test = require('node:test');
const assert = require('node:assert/strict');
const { EventEmitter } = require('node:events');
const { FrameWriter, COALESCE_LIMIT } = require('../lib/frame-writer');

/** A stream double: records writes, completes them on demand, returns `ready` from write(). */
function fakeStream() {
  const stream = new EventEmitter();
  stream.writes = [];
  stream.callbacks = [];
  stream.ready = true;
  stream.write = (buf, cb) => {
    stream.writes.push(Buffer.from(buf).toString('utf8'));
    stream.callbacks.push(cb);
    return stream.ready;
  };
  stream.complete = (err = null) => {
    const callbacks = stream.callbacks.splice(0);
    for (const cb of callbacks) cb(err);
  };
  return stream;
}

function writerFor(stream, events = []) {
  return new FrameWriter({
    write: stream.write,
    stream,
    onBlocked: () => events.push('blocked'),
    onDrained: () => events.push('drained'),
    onError: (err) => events.push(`error ${err.message}`),
  });
}

test('each message is one write of exactly one frame', () => {
  const stream = fakeStream();
  const writer = writerFor(stream);
  writer.send('{"a":1}');
  writer.send({ b: 'é' });
  assert.deepEqual(stream.writes, ['Content-Length: 7\r\n\r\n{"a":1}', 'Content-Length: 10\r\n\r\n{"b":"é"}']);
});

test('while corked, small frames leave together in one write at uncork', () => {
  const stream = fakeStream();
  const writer = writerFor(stream);
  writer.cork();
  writer.cork();
  writer.send('1');
  writer.send('2');
  writer.uncork();
  assert.equal(stream.writes.length, 0, 'nested cork');
  writer.uncork();
  assert.deepEqual(stream.writes, ['Content-Length: 1\r\n\r\n1Content-Length: 1\r\n\r\n2']);
});

test('while corked, a big frame flushes what was collected and goes out on its own', () => {
  const stream = fakeStream();
  const writer = writerFor(stream);
  const big = JSON.stringify('x'.repeat(COALESCE_LIMIT));
  writer.cork();
  writer.send('1');
  writer.send(big);
  writer.send('2');
  writer.uncork();
  assert.equal(stream.writes.length, 3);
  assert.equal(stream.writes[0], 'Content-Length: 1\r\n\r\n1');
  assert.ok(stream.writes[1].endsWith(big));
  assert.equal(stream.writes[2], 'Content-Length: 1\r\n\r\n2');
});

test('write() returning false reports blocked once; drain reports drained', () => {
  const stream = fakeStream();
  const events = [];
  const writer = writerFor(stream, events);
  stream.ready = false;
  writer.send('1');
  writer.send('2');
  assert.deepEqual(events, ['blocked']);
  assert.equal(writer.blocked, true);
  stream.emit('drain');
  assert.deepEqual(events, ['blocked', 'drained']);
  assert.equal(writer.blocked, false);
});

test('flush() resolves only after every write callback', async () => {
  const stream = fakeStream();
  const writer = writerFor(stream);
  await writer.flush(); // nothing written: resolved at once
  writer.send('1');
  writer.send('2');
  let flushed = false;
  const done = writer.flush().then(() => (flushed = true));
  await new Promise(setImmediate);
  assert.equal(flushed, false);
  stream.complete();
  await done;
  assert.equal(flushed, true);
});

test('a failed write is reported once and later frames are not written', async () => {
  const stream = fakeStream();
  const events = [];
  const writer = writerFor(stream, events);
  writer.send('1');
  writer.send('2');
  stream.complete(new Error('EPIPE'));
  writer.send('3');
  assert.deepEqual(events, ['error EPIPE']);
  assert.equal(stream.writes.length, 2);
  await writer.flush();
});

/** JSON text that encodeFrame transcodes in chunks: a list of Buffers. */
function largeMixedPieces(id) {
  return [`{"jsonrpc":"2.0","id":${id},"result":`, JSON.stringify('漢字テスト😀ü "q" \\ 한국어 '.repeat(COALESCE_LIMIT / 4)), '}'];
}

test('a frame encoded as a list of Buffers leaves through writev, once, on its own, byte-identical', async () => {
  const stream = fakeStream();
  const vectors = [];
  const events = [];
  const writer = new FrameWriter({
    write: stream.write,
    writev: (list, cb) => {
      vectors.push(list.length);
      return stream.write(Buffer.concat(list), cb);
    },
    stream,
    onLargeFrame: (bytes) => events.push(bytes),
  });
  const pieces = largeMixedPieces(1);
  const body = Buffer.from(pieces.join(''), 'utf8');
  writer.cork();
  writer.send('1');
  writer.send(pieces);
  writer.send('2');
  writer.uncork();
  assert.equal(vectors.length, 1);
  assert.ok(vectors[0] > 2, 'header + chunks');
  assert.equal(stream.writes.length, 3);
  assert.equal(stream.writes[0], 'Content-Length: 1\r\n\r\n1');
  assert.equal(stream.writes[1], `Content-Length: ${body.length}\r\n\r\n${body.toString('utf8')}`);
  assert.equal(stream.writes[2], 'Content-Length: 1\r\n\r\n2');
  assert.deepEqual(events, [Buffer.byteLength(stream.writes[1])], 'onLargeFrame: large frames only, with their size');
  stream.complete();
  await writer.flush();
});

test('without a writev option, a list frame is written as one Buffer', () => {
  const stream = fakeStream();
  const writer = writerFor(stream);
  const pieces = largeMixedPieces(2);
  writer.send(pieces);
  const body = pieces.join('');
  assert.deepEqual(stream.writes, [`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`]);
});
