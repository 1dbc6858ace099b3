'use strict';
/*
 * UTF-8 <-> JavaScript strings for frame bodies, as fast as Node allows and without large
 * intermediate copies.
 *
 * What it does: `decodeUtf8(bytes)` returns the text of a body, or undefined when the bytes are
 * not valid UTF-8 (the caller answers -32700). For the other direction, `transcodeChunks(text)`
 * returns the UTF-8 bytes of a large string as a list of Buffers when ICU's transcoder is the
 * faster way to get them (`prefersTranscode(text)`), and the frame encoder writes every other
 * string straight into its frame with `Buffer.byteLength` + `buf.utf8Write`.
 *
 * Goals: strict (invalid UTF-8 is an error, never silently replaced by U+FFFD); fast for both
 * the many-small-messages case and the few-huge-messages case; and, for a huge message, as few
 * whole-body copies alive at once as possible (issue 6: ~3 copies of a body at most).
 *
 * Plan (measured on Node 20.20, 2-core VM; node/bench/codec.js prints them):
 *   - decoding below 64 KiB: simdutf validation (`buffer.isUtf8`) + V8's decoder. TextDecoder
 *     with {fatal: true} costs the same, the transcode path below is 3-10x slower here.
 *   - decoding from 64 KiB: pure ASCII (`buffer.isAscii`) is copied as Latin-1 (a one-byte
 *     string); otherwise ICU's `transcode(buf, 'utf8', 'utf16le')` + a UCS-2 view is ~1.7x
 *     faster than `toString('utf8')` for text mixing ASCII, CJK and emoji (decode + JSON.parse:
 *     1 MiB 6.4 → 3.3 ms, 16 MiB 97 → 65 ms). It costs one transient UTF-16 copy of the body
 *     (the Buffer that `ucs2Slice` copies into a string), which the host's GC hint
 *     (lib/large-garbage.js) collects; `toString('utf8')` would not make it, but is 25-35 ms
 *     slower per 16 MiB body, a fifth of a whole round trip: not taken. Transcoding in pieces
 *     and joining them does not help either: JSON.parse flattens the joined rope, a copy of
 *     the same size.
 *   - encoding from 64 Ki characters: for text with many non-ASCII characters (a sample of 128
 *     characters decides) ICU transcodes the string's UTF-16 128 Ki code units at a time,
 *     through one reused 256 KiB scratch Buffer, into a list of UTF-8 Buffers that the frame
 *     writer hands to the OS as they are (one writev, no copy into a frame Buffer). 16 MiB
 *     of mixed text: ~3 ms, where V8's UTF-8 writer (`byteLength` + `utf8Write`) takes ~13 ms
 *     and transcoding the whole string at once (`Buffer.from(text, 'utf16le')` + transcode +
 *     a copy into the frame, the previous plan) 13-16 ms plus three whole-size transient
 *     copies. Mostly-ASCII text (compiled code) is 3-4x faster through V8's writer: it takes
 *     that path. JSON.stringify never produces lone surrogates and a step never ends between
 *     the two halves of a pair, so both paths give identical bytes for JSON text.
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
 * Is ICU's transcoder the faster way to the UTF-8 of `text`? False for short strings and for
 * mostly-ASCII ones such as compiled code, where V8's writer is 3-6x faster.
 * @param {string} text
 * @returns {boolean}
 */
function prefersTranscode(text) {
  const length = text.length;
  if (length < LARGE) return false;
  const step = Math.floor(length / SAMPLES);
  let mixed = 0;
  for (let k = 0; k < SAMPLES; k++) {
    // One sample per step, at a position inside it that varies from step to step: a fixed
    // offset would see the same character of a text that repeats with a period dividing step.
    if (text.charCodeAt(k * step + ((k * 40503) % step)) > 0x7f && ++mixed >= MIXED_SAMPLES) return true;
  }
  return false;
}

/** UTF-16 code units transcoded per step (measured: 64-256 Ki are equally fast). */
const STEP = 128 * 1024;
/** The step's UTF-16 bytes; allocated on first use, then reused. */
let scratch = null;

/**
 * The UTF-8 bytes of `text`, transcoded by ICU STEP code units at a time.
 * @param {string} text
 * @returns {Buffer[]} in order; concatenated, they are the UTF-8 of `text`
 */
function transcodeChunks(text) {
  if (scratch === null) scratch = Buffer.allocUnsafeSlow(STEP * 2);
  const chunks = [];
  const length = text.length;
  let start = 0;
  while (start < length) {
    let end = start + STEP;
    if (end >= length) {
      end = length;
    } else {
      const last = text.charCodeAt(end - 1);
      if (last >= 0xd800 && last <= 0xdbff) end--; // keep a surrogate pair in one step
    }
    // A slice of a flat string is a view; ucs2Write copies its code units into the scratch.
    const units = scratch.ucs2Write(text.slice(start, end), 0);
    chunks.push(transcode(scratch.subarray(0, units), 'utf16le', 'utf8'));
    start = end;
  }
  return chunks;
}

/**
 * @param {string} text
 * @returns {Buffer} its UTF-8 bytes, in one Buffer
 */
function encodeUtf8(text) {
  if (!prefersTranscode(text)) return Buffer.from(text, 'utf8');
  const chunks = transcodeChunks(text);
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

module.exports = { decodeUtf8, encodeUtf8, prefersTranscode, transcodeChunks, LARGE, TRANSCODE_STEP: STEP };
