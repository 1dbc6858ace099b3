'use strict';
/*
 * Host-side cost of one echo, without any process or pipe: frame body → decodeUtf8 →
 * JSON.parse → JSON.stringify → encodeFrame, for small and large messages, with the
 * transcode paths of lib/utf8.js (ICU decode; chunked ICU encode of a large non-ASCII
 * result, kept apart from its envelope) and with plain Buffer#toString / V8's UTF-8 writer.
 *
 *   node bench/codec.js
 */
const { isUtf8 } = require('node:buffer');
const utf8 = require('../lib/utf8');

const { mixed } = require('./mixed-text');

const plain = {
  decodeUtf8: (bytes) => (isUtf8(bytes) ? bytes.toString('utf8') : undefined),
  prefersTranscode: () => false,
};
const chosen = { decodeUtf8: utf8.decodeUtf8, prefersTranscode: utf8.prefersTranscode };

/** An echo function built on lib/ loaded afresh with `codec` in lib/utf8.js. */
function echoWith(codec) {
  for (const name of ['../lib/framer', '../lib/messages']) delete require.cache[require.resolve(name)];
  Object.assign(utf8, codec);
  const { encodeFrame } = require('../lib/framer');
  const { resultText } = require('../lib/messages');
  const { decodeUtf8 } = codec;
  return (body) => {
    const message = JSON.parse(decodeUtf8(body));
    return encodeFrame(resultText(message.id, message.params));
  };
}
const echoTranscode = echoWith(chosen);
const echoPlain = echoWith(plain);

function timeIt(fn, arg) {
  const reps = Math.max(5, Math.floor(4e7 / arg.length));
  for (let i = 0; i < Math.min(reps, 10); i++) fn(arg);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) fn(arg);
  return Number(process.hrtime.bigint() - t0) / reps / 1e3; // µs
}

for (const [label, size, ascii] of [
  ['100 B ascii', 60, true],
  ['64 KiB ascii', 64 << 10, true],
  ['64 KiB mixed', 64 << 10, false],
  ['1 MiB ascii', 1 << 20, true],
  ['1 MiB mixed', 1 << 20, false],
  ['16 MiB mixed', 16 << 20, false],
]) {
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'rpc.echo', params: { text: mixed(size, ascii) } }));
  const a = timeIt(echoTranscode, body);
  const b = timeIt(echoPlain, body);
  const fmt = (us) => (us < 1000 ? `${us.toFixed(1)} µs` : `${(us / 1000).toFixed(2)} ms`);
  console.log(`${label.padEnd(14)} transcode ${fmt(a).padStart(10)}   toString/from ${fmt(b).padStart(10)}   ×${(b / a).toFixed(2)}`);
}
