'use strict';
/*
 * UTF-8 <-> JavaScript strings for complete frame bodies, as fast as Node allows.
 *
 * What it does: `decodeUtf8(bytes)` returns the text of a body, or undefined when the bytes are
 * not valid UTF-8 (the caller answers -32700); `encodeUtf8(text)` returns the UTF-8 bytes.
 *
 * Goals: strict (invalid UTF-8 is an error, never silently replaced by U+FFFD) and fast for
 * both the many-small-messages case and the few-huge-messages case.
 *
 * Plan (measured on Node 20.20, 2-core VM; node/bench/codec.js prints them):
 *   - below 64 KiB: simdutf validation (`buffer.isUtf8`) + V8's decoder. TextDecoder with
 *     {fatal: true} costs the same, the transcode path below is 3-10x slower here.
 *   - from 64 KiB: pure ASCII (`buffer.isAscii`) is copied as Latin-1 (a one-byte string);
 *     otherwise ICU's `transcode(buf, 'utf8', 'utf16le')` + a UCS-2 view is ~1.7x faster
 *     than `toString('utf8')` for text mixing ASCII, CJK and emoji (decode + JSON.parse:
 *     1 MiB 6.4 → 3.3 ms, 16 MiB 97 → 65 ms).
 *   - encoding from 64 Ki characters: transcoding the string's UTF-16 is ~2.6x faster than
 *     V8's UTF-8 writer for text with many non-ASCII characters (16 MiB: 23 → 9 ms), but 2-6x
 *     slower for mostly-ASCII text (compiled code: 16 MiB 2-4 ms → 12-15 ms). A sample of 128
 *     characters decides. JSON.stringify never produces lone surrogates, so both paths give
 *     identical bytes for JSON text.
 */

const { isUtf8, isAscii, transcode } = require('node:buffer');

/** Bodies and strings at least this long take the transcode paths. */
const LARGE = 64 * 1024;

/**
 * @param {Buffer} bytes a complete body
 * @returns {string|undefined} the text, or undefined if `bytes` is not valid UTF-8
 */
function decodeUtf8(bytes) {
  const length = bytes.length;
  if (length < LARGE) return isUtf8(bytes) ? bytes.utf8Slice(0, length) : undefined;
  if (isAscii(bytes)) return bytes.latin1Slice(0, length);
  if (!isUtf8(bytes)) return undefined;
  return transcode(bytes, 'utf8', 'utf16le').ucs2Slice();
}

/** Characters sampled to estimate how much of a string is non-ASCII. */
const SAMPLES = 128;
/** Non-ASCII samples from which ICU beats V8's UTF-8 writer (measured crossover: ~5-10 %). */
const MIXED_SAMPLES = 8;

/**
 * The UTF-8 bytes of `text` if ICU's transcoder is the faster way to get them, else null
 * (then Buffer.byteLength + buf.utf8Write is: small strings, and mostly-ASCII ones such as
 * compiled code, where V8's writer is 2-6x faster than transcoding).
 * @param {string} text
 * @returns {Buffer|null}
 */
function transcodeIfFaster(text) {
  const length = text.length;
  if (length < LARGE) return null;
  const step = Math.floor(length / SAMPLES);
  let mixed = 0;
  for (let i = step >> 1; i < length; i += step) {
    if (text.charCodeAt(i) > 0x7f && ++mixed >= MIXED_SAMPLES) {
      return transcode(Buffer.from(text, 'utf16le'), 'utf16le', 'utf8');
    }
  }
  return null;
}

/**
 * @param {string} text
 * @returns {Buffer} its UTF-8 bytes
 */
function encodeUtf8(text) {
  return transcodeIfFaster(text) ?? Buffer.from(text, 'utf8');
}

module.exports = { decodeUtf8, encodeUtf8, transcodeIfFaster, LARGE };
