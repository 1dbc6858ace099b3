'use strict';
// FrameReader and encodeFrame (lib/framer.js) against docs/protocol.md §1, without a process.

const test = require('node:test');
const assert = require('node:assert/strict');
const { FrameReader, encodeFrame, MAX_HEADER_BYTES } = require('../lib/framer');
const { decodeUtf8, encodeUtf8, prefersTranscode, transcodeChunks, LARGE, TRANSCODE_STEP } = require('../lib/utf8');
const { resultText, arrayText, joinText } = require('../lib/messages');

/** Feed `chunks` to a fresh reader; return the events as plain values. */
function read(chunks, options = {}) {
  const events = [];
  const reader = new FrameReader({
    ...options,
    onFrame: (body) => events.push({ frame: Buffer.from(body).toString('utf8') }),
    onGarbage: (g) => events.push({ garbage: g.bytes.toString('latin1'), length: g.length, reason: g.reason }),
    onOversized: (o) => events.push({ oversized: o }),
  });
  for (const chunk of chunks) reader.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, 'latin1'));
  reader.end();
  return events;
}

/** All splits of `bytes` into two chunks, and the one-byte-at-a-time split. */
function* splits(bytes) {
  for (let i = 0; i <= bytes.length; i++) yield [bytes.subarray(0, i), bytes.subarray(i)];
  yield Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
}

/** Garbage events merged (a run may be reported in pieces when it is split differently). */
function normalise(events) {
  const out = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (e.garbage !== undefined && last && last.garbage !== undefined && last.reason === e.reason) {
      last.garbage += e.garbage;
      last.length += e.length;
    } else out.push({ ...e });
  }
  return out;
}

const frameText = (body) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

test('a frame split at every byte boundary gives the same frame', () => {
  const stream = Buffer.from(frameText('{"jsonrpc":"2.0","id":1,"method":"rpc.echo","params":["é😀"]}'), 'utf8');
  for (const chunks of splits(stream)) {
    assert.deepEqual(read(chunks), [{ frame: '{"jsonrpc":"2.0","id":1,"method":"rpc.echo","params":["é😀"]}' }]);
  }
});

test('a stream of frames, garbage and bad headers gives the same events however it is split', () => {
  const stream = Buffer.concat([
    Buffer.from('stray\n'),
    Buffer.from(frameText('[1]')),
    Buffer.from('x'),
    Buffer.from(frameText('"glued"')),
    Buffer.from('X-Only: 1\r\n\r\n{}'),
    Buffer.from(frameText('"after"')),
    Buffer.from('content-length: 4\r\ncontent-type: application/vscode-jsonrpc; charset=UTF8\r\n\r\n"é"'),
  ]);
  const expected = [
    { garbage: 'stray\n', length: 6, reason: 'stray bytes where a header was expected' },
    { frame: '[1]' },
    { garbage: 'x', length: 1, reason: 'stray bytes glued to a header' },
    { frame: '"glued"' },
    { garbage: 'X-Only: 1\r\n\r\n{}', length: 15, reason: 'header block without Content-Length' },
    { frame: '"after"' },
    { frame: '"é"' },
  ];
  assert.deepEqual(read([stream]), expected);
  for (const chunks of splits(stream)) assert.deepEqual(normalise(read(chunks)), expected);
});

test('several frames in one chunk', () => {
  const bodies = ['{}', '[]', '"a"', '{"x":[1,2,3]}', ''];
  const events = read([bodies.map(frameText).join('')]);
  assert.deepEqual(events, bodies.map((frame) => ({ frame })));
});

test('a multibyte UTF-8 character split across chunks survives', () => {
  const body = Buffer.from('"€😀"', 'utf8');
  const stream = Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]);
  const headerLength = stream.length - body.length;
  for (let cut = headerLength + 1; cut < stream.length; cut++) {
    assert.deepEqual(read([stream.subarray(0, cut), stream.subarray(cut)]), [{ frame: '"€😀"' }]);
  }
});

test('Content-Length counts bytes, not characters', () => {
  const body = '"ü漢"'; // 4 characters, 7 bytes
  assert.equal(Buffer.byteLength(body), 7);
  assert.deepEqual(read([`Content-Length: 7\r\n\r\n`, Buffer.from(body, 'utf8')]), [{ frame: body }]);
});

test('header names are case-insensitive, values trimmed, unknown headers ignored', () => {
  const events = read(['CONTENT-LENGTH:   2  \r\nX-Whatever: yes\r\n\r\n{}', 'content-length:2\r\n\r\n[]']);
  assert.deepEqual(events, [{ frame: '{}' }, { frame: '[]' }]);
});

test('charset utf-8 and utf8 are accepted in any case; quoted too', () => {
  for (const charset of ['utf-8', 'UTF-8', 'utf8', 'Utf8', '"utf-8"']) {
    const events = read([`Content-Length: 2\r\nContent-Type: application/json; charset=${charset}\r\n\r\n{}`]);
    assert.deepEqual(events, [{ frame: '{}' }], charset);
  }
  assert.deepEqual(read(['Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}']), [{ frame: '{}' }]);
});

test('a foreign charset makes the block garbage and the next frame is read', () => {
  const events = read(['Content-Length: 2\r\nContent-Type: text/plain; charset=latin1\r\n\r\n{}', frameText('"next"')]);
  assert.equal(events.length, 2);
  assert.match(events[0].reason, /charset "latin1"/);
  assert.deepEqual(events[1], { frame: '"next"' });
});

test('a non-numeric or negative Content-Length is garbage', () => {
  for (const value of ['abc', '-5', '5x', '', '0x10', '1.5']) {
    const events = read([`Content-Length: ${value}\r\n\r\n{}`, frameText('"ok"')]);
    assert.equal(events.length, 2, value);
    assert.ok(events[0].garbage.startsWith('Content-Length:'), value);
    assert.deepEqual(events[1], { frame: '"ok"' }, value);
  }
});

test('conflicting Content-Length headers make the block and its body garbage', () => {
  const events = read(['Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}', frameText('"ok"')]);
  assert.deepEqual(events, [
    { garbage: 'Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}', length: 42, reason: 'conflicting Content-Length headers' },
    { frame: '"ok"' },
  ]);
});

test('stray text glued to the first header line is the only garbage', () => {
  for (const stray of ['x', 'progress: 50%', 'Content-Length: oops ']) {
    const events = read([stray + frameText('"glued"')]);
    assert.deepEqual(events, [
      { garbage: stray, length: stray.length, reason: 'stray bytes glued to a header' },
      { frame: '"glued"' },
    ]);
  }
});

test('a header block over 8 KiB is garbage, one of exactly 8 KiB is fine', () => {
  const filler = (n) => `X-Pad: ${'a'.repeat(n)}\r\n`;
  const base = 'Content-Length: 2\r\n'.length + '\r\n'.length + 'X-Pad: \r\n'.length;
  const exact = `Content-Length: 2\r\n${filler(MAX_HEADER_BYTES - base)}\r\n{}`;
  assert.deepEqual(read([exact]), [{ frame: '{}' }]);
  const over = `Content-Length: 2\r\n${filler(MAX_HEADER_BYTES - base + 1)}\r\n{}`;
  const events = read([over, frameText('"ok"')]);
  assert.match(events[0].reason, /header block over 8192 bytes/);
  assert.deepEqual(events.at(-1), { frame: '"ok"' });
});

test('a bare LF line ending is not a header line', () => {
  const events = read(['Content-Length: 2\n\n{}', frameText('"ok"')]);
  assert.equal(events.length, 2);
  assert.equal(events[0].garbage, 'Content-Length: 2\n\n{}');
  assert.deepEqual(events[1], { frame: '"ok"' });
});

test('resync finds "content-length:" in any case in the middle of a line', () => {
  const events = read(['garbage... cOnTeNt-LeNgTh: 2\r\n\r\n{}']);
  assert.deepEqual(events, [
    { garbage: 'garbage... ', length: 11, reason: 'stray bytes where a header was expected' },
    { frame: '{}' },
  ]);
});

test('resync needs the exact "-" and ":" (a CR or 0x1A in their place is no header)', () => {
  const events = read(['junk content\rlength: 2 content-length\x1a 2 ', frameText('{}')]);
  assert.deepEqual(events.at(-1), { frame: '{}' });
  assert.equal(events.length, 2);
});

test('an empty line where a header should start is garbage', () => {
  const events = read(['\r\n', frameText('{}')]);
  assert.deepEqual(events, [{ garbage: '\r\n', length: 2, reason: 'stray bytes where a header was expected' }, { frame: '{}' }]);
});

test('an oversized body is reported at once and discarded as it arrives', () => {
  const body = Buffer.alloc(5000, 'a');
  const stream = Buffer.concat([Buffer.from('Content-Length: 5000\r\n\r\n'), body, Buffer.from(frameText('"next"'))]);
  const expected = [{ oversized: { length: 5000, limit: 100 } }, { frame: '"next"' }];
  assert.deepEqual(read([stream], { maxBodySize: 100 }), expected);
  const chunks = [];
  for (let i = 0; i < stream.length; i += 333) chunks.push(stream.subarray(i, i + 333));
  assert.deepEqual(read(chunks, { maxBodySize: 100 }), expected);
});

test('the oversized event comes before the body has arrived', () => {
  const events = [];
  const reader = new FrameReader({ maxBodySize: 10, onFrame: () => events.push('frame'), onOversized: () => events.push('oversized') });
  reader.push(Buffer.from('Content-Length: 1000000\r\n\r\n'));
  assert.deepEqual(events, ['oversized']);
  reader.push(Buffer.alloc(999_999));
  reader.push(Buffer.from('x' + frameText('1')));
  assert.deepEqual(events, ['oversized', 'frame']);
});

test('end of stream inside a header, a body or an oversized body is reported as garbage', () => {
  assert.deepEqual(read(['Content-Len']), [{ garbage: 'Content-Len', length: 11, reason: 'end of stream inside a frame header' }]);
  const inBody = read(['Content-Length: 10\r\n\r\n{"a":']);
  assert.equal(inBody.length, 1);
  assert.equal(inBody[0].garbage, '{"a":');
  assert.match(inBody[0].reason, /end of stream inside a frame body \(5 of 10 bytes received\)/);
  const inDiscard = read(['Content-Length: 10\r\n\r\nabc'], { maxBodySize: 5 });
  assert.deepEqual(inDiscard[0], { oversized: { length: 10, limit: 5 } });
  assert.match(inDiscard[1].reason, /end of stream inside an oversized body \(7 bytes missing\)/);
  assert.deepEqual(read(['just garbage, no frame']), [
    { garbage: 'just garbage, no frame', length: 22, reason: 'stray bytes where a header was expected' },
  ]);
  assert.deepEqual(read([]), []);
});

test('a long garbage run is reported once, keeping its first 64 KiB', () => {
  const junk = Buffer.alloc(200_000, 'z');
  const events = [];
  const reader = new FrameReader({ onFrame: (b) => events.push(b.toString()), onGarbage: (g) => events.push(g) });
  for (let i = 0; i < junk.length; i += 4096) reader.push(junk.subarray(i, i + 4096));
  reader.push(Buffer.from(frameText('{}')));
  assert.equal(events.length, 2);
  assert.equal(events[0].length, 200_000);
  assert.equal(events[0].bytes.length, 64 * 1024);
  assert.equal(events[1], '{}');
});

test('a 32 MiB body in 64 KiB chunks arrives intact as one frame', () => {
  const body = Buffer.alloc(32 * 1024 * 1024, 'b');
  body.write('{"x":"', 0);
  body.write('"}', body.length - 2);
  const stream = Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]);
  const frames = [];
  const reader = new FrameReader({ onFrame: (b) => frames.push(b) });
  for (let i = 0; i < stream.length; i += 65536) reader.push(stream.subarray(i, i + 65536));
  assert.equal(frames.length, 1);
  assert.ok(frames[0].equals(body));
});

test('a frame inside one chunk is handed over without a copy', () => {
  const chunk = Buffer.from(frameText('{"a":1}'));
  let body;
  new FrameReader({ onFrame: (b) => (body = b) }).push(chunk);
  assert.equal(body.buffer, chunk.buffer);
});

test('encodeFrame writes exactly "Content-Length: N\\r\\n\\r\\n" + the UTF-8 body', () => {
  const frame = encodeFrame({ jsonrpc: '2.0', id: 1, result: 'é😀' });
  const body = '{"jsonrpc":"2.0","id":1,"result":"é😀"}';
  assert.equal(frame.toString('utf8'), `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  assert.equal(encodeFrame('[]').toString(), 'Content-Length: 2\r\n\r\n[]');
});

test('encodeFrame and decodeUtf8 agree with Buffer for large ASCII, mixed and astral text', () => {
  const samples = [
    'a'.repeat(LARGE * 2),
    '漢字テスト😀ü "q" \\ '.repeat(LARGE / 4),
    ('x'.repeat(40) + '😀').repeat(LARGE / 20),
  ];
  for (const text of samples) {
    const json = JSON.stringify({ text });
    const frame = bytesOf(encodeFrame(json)); // a list of Buffers for the mixed text
    const expected = Buffer.from(json, 'utf8');
    const head = `Content-Length: ${expected.length}\r\n\r\n`;
    assert.equal(frame.subarray(0, head.length).toString('latin1'), head);
    assert.ok(frame.subarray(head.length).equals(expected));
    assert.equal(decodeUtf8(expected), json);
    assert.ok(encodeUtf8(json).equals(expected));
  }
});

test('decodeUtf8 rejects invalid UTF-8, small and large', () => {
  for (const bad of [Buffer.from([0x22, 0xff, 0x22]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80])]) {
    assert.equal(decodeUtf8(bad), undefined);
    assert.equal(decodeUtf8(Buffer.concat([Buffer.alloc(LARGE, 'a'), bad])), undefined);
  }
  assert.equal(decodeUtf8(Buffer.from('"ok é"')), '"ok é"');
});

/** The frame the host sent before frames could be lists: header + UTF-8 of the whole text. */
function frameOf(text) {
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'latin1'), body]);
}

/** encodeFrame's result as one Buffer (it is a list when a piece was transcoded in chunks). */
function bytesOf(frame) {
  return Array.isArray(frame) ? Buffer.concat(frame) : frame;
}

const MIXED = '漢字テスト😀ü "q" \\ \n';

test('transcodeChunks never splits a surrogate pair, wherever the step boundary falls', () => {
  const step = TRANSCODE_STEP;
  for (let at = step - 3; at <= step + 1; at++) {
    // an emoji (two code units) starting at `at`, in text ICU transcodes (mostly CJK)
    const text = '漢'.repeat(at) + '😀' + '字'.repeat(step) + '🎉😀';
    assert.ok(prefersTranscode(text));
    const chunks = transcodeChunks(text);
    assert.ok(chunks.length >= 2, 'several steps');
    assert.ok(Buffer.concat(chunks).equals(Buffer.from(text, 'utf8')), `pair at ${at}`);
  }
});

test('encodeFrame of JSON text in pieces is byte-identical to encodeFrame of the joined text', () => {
  const head = '{"jsonrpc":"2.0","id":7,"result":';
  const bigMixed = JSON.stringify({ text: MIXED.repeat(LARGE / 4), more: '🎉'.repeat(100) });
  const bigAscii = JSON.stringify({ code: 'function f(a) { return a + "x"; }\n'.repeat(LARGE / 8) });
  const cases = [
    [head, bigMixed, '}'], // transcoded in chunks: a list of Buffers
    [head, bigAscii, '}'], // V8's writer: one Buffer
    [head, 'null', '}'],
    ['', bigMixed, ''], // empty pieces
    [bigMixed], // the large piece first: the header gets a Buffer of its own
    ['[', head, bigMixed, '}', ',', head, bigAscii, '}', ',', '{"jsonrpc":"2.0","id":9,"result":"é"}', ']'],
  ];
  for (const pieces of cases) {
    const joined = pieces.join('');
    const frame = encodeFrame(pieces);
    assert.ok(bytesOf(frame).equals(frameOf(joined)), `pieces of lengths ${pieces.map((p) => p.length)}`);
    assert.ok(bytesOf(encodeFrame(joined)).equals(frameOf(joined)), 'joined');
  }
  assert.ok(Array.isArray(encodeFrame([head, bigMixed, '}'])), 'a transcoded piece is not copied into one frame Buffer');
  assert.ok(!Array.isArray(encodeFrame([head, bigAscii, '}'])));
});

test('a large non-ASCII body split across chunks inside multi-byte characters round-trips byte-exact', () => {
  // Text whose UTF-8 has 2-, 3- and 4-byte sequences everywhere, well over LARGE.
  const params = { text: MIXED.repeat(40_000), emoji: '😀🎉👍🏽'.repeat(5_000) };
  const request = frameOf(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'rpc.echo', params }));
  // Cut into odd-sized chunks (prime lengths), so cuts land inside characters and the header.
  const chunks = [];
  for (let i = 0, size = 7; i < request.length; i += size, size = size === 7 ? 65_521 : size === 65_521 ? 1_009 : 7) {
    chunks.push(request.subarray(i, i + size));
  }
  const bodies = [];
  const reader = new FrameReader({ onFrame: (body) => bodies.push(Buffer.from(body)) });
  for (const chunk of chunks) reader.push(chunk);
  assert.equal(bodies.length, 1);
  const message = JSON.parse(decodeUtf8(bodies[0]));
  assert.deepEqual(message.params, params);
  const reply = resultText(message.id, message.params);
  assert.ok(Array.isArray(reply), 'a large result stays apart from its envelope');
  const expected = frameOf(`{"jsonrpc":"2.0","id":1,"result":${JSON.stringify(params)}}`);
  assert.ok(bytesOf(encodeFrame(reply)).equals(expected));
  assert.ok(bytesOf(encodeFrame(arrayText([reply, '{"jsonrpc":"2.0","id":2,"result":0}']))).equals(
    frameOf(`[${joinText(reply)},{"jsonrpc":"2.0","id":2,"result":0}]`),
  ));
});
