'use strict';
/*
 * LSP base-protocol framing: bytes in → frame bodies out, and message → one frame Buffer.
 *
 * What it does: `FrameReader.push(chunk)` takes whatever stdin delivered and calls back, in
 * stream order, with
 *   - onFrame(body)                     a complete body (a Buffer, not yet decoded),
 *   - onGarbage({bytes, length, reason}) bytes that were skipped (stray output, an unusable
 *                                        header block, a truncated frame at end of stream),
 *   - onOversized({length, limit})      a frame whose body is over the limit (its bytes are
 *                                        then discarded as they arrive, never buffered).
 * `end()` reports whatever an interrupted frame left behind. `encodeFrame(message)` builds
 * `Content-Length: N\r\n\r\n` + body as ONE Buffer, so a frame is one write() — or, for a
 * body with a large non-ASCII piece, as a list of Buffers that the writer hands to the OS in
 * one writev (see "Encoding" below).
 * The rules are docs/protocol.md §1; this file is the Node side's single source for them.
 *
 * Goals: linear time in the bytes received whatever the chunking (a 32 MiB body in 64 KiB
 * chunks costs one copy, not 512 concatenations; a header split across chunks is carried
 * over, never scanned twice); never hang and never lose a good frame because of a bad one;
 * no allocation per chunk in the common case (a whole frame inside one chunk is handed over
 * as a zero-copy subarray).
 *
 * Plan: a small state machine over four states.
 *   HEAD     scanning a header block byte by byte (each byte once): lines must look like
 *            `Name: value\r\n` with an HTTP token name and printable ASCII value, the block
 *            ends at an empty line and is at most 8 KiB. The first byte that cannot belong to
 *            such a block starts a garbage run (SKIP). A complete block that cannot be
 *            used (no or bad Content-Length, foreign charset) is garbage as a whole, with
 *            whatever follows it up to the next header — unless its first line hides a
 *            "content-length:" (`xContent-Length: 2`: a stray write glued to the header),
 *            in which case only the bytes before that are garbage. When a chunk ends
 *            inside a header, the header bytes (< 8 KiB) are carried over and the scan
 *            resumes where it stopped.
 *   BODY     copying into a Buffer allocated once at the announced length (or, when the whole
 *            body is inside the current chunk, taking a subarray).
 *   DISCARD  counting down the bytes of an oversized body without keeping them.
 *   SKIP     after garbage: searching, case-insensitively and also in the middle of a line,
 *            for the next "content-length:"; only the few bytes that could be the start of
 *            that word are carried over between chunks. The skipped run is reported once,
 *            when the reader resynchronises (or at end of stream), keeping at most the first
 *            64 KiB of it.
 *
 * Encoding: the message is a JsonText (messages.js: a string, or pieces that concatenated
 * are the text; the pieces keep a large result apart from its envelope, so it is never
 * copied to be joined). Each piece is sized first (`Buffer.byteLength`, or, for a large piece
 * that ICU transcodes faster, by transcoding it: utf8.js), then the header is known. Without
 * a transcoded piece the frame is one Buffer of exactly the frame's size, every piece written
 * into it with `utf8Write`. With one, the transcoded chunks are not copied again: the frame is
 * the list [header and the pieces before, chunks…, the pieces after], in order.
 */

const { prefersTranscode, transcodeChunks } = require('./utf8');

/** Maximum size of a header block, terminating empty line included (docs/protocol.md §1). */
const MAX_HEADER_BYTES = 8 * 1024;
/** Default body limit: 256 MiB. */
const DEFAULT_MAX_BODY_SIZE = 256 * 1024 * 1024;
/** How many bytes of one garbage run are kept for the report. */
const GARBAGE_KEEP = 64 * 1024;

const HEAD = 0;
const BODY = 1;
const DISCARD = 2;
const SKIP = 3;

// Header scanner states.
const H_LINE_START = 0; // at the start of a line: a name byte or the CR of the empty line
const H_NAME = 1; // inside a name
const H_VALUE = 2; // after the colon
const H_LINE_CR = 3; // after the CR ending a header line
const H_END_CR = 4; // after the CR of the empty line

const CR = 13;
const LF = 10;
const CRLF = Buffer.from('\r\n', 'latin1');
const COLON = 58;

/** TOKEN[b] is 1 for the bytes allowed in a header name (RFC 9110 token). */
const TOKEN = new Uint8Array(256);
for (const ch of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TOKEN[ch.charCodeAt(0)] = 1;
}

/** "content-length:" as lowercase bytes, for the resynchronising search. */
const RESYNC = Buffer.from('content-length:', 'latin1');

/** Does byte `b` match RESYNC[j]? Letters in any case, '-' and ':' exactly. */
function resyncByte(b, j) {
  const want = RESYNC[j];
  return b === want || (want >= 0x61 && want <= 0x7a && (b | 0x20) === want);
}

/**
 * Find "content-length:" (ASCII case-insensitive) in buf[from, to).
 * @returns {number} its index, or -1
 */
function findResync(buf, from, to = buf.length) {
  const last = to - RESYNC.length;
  for (let i = from; i <= last; i++) {
    if ((buf[i] | 0x20) !== 0x63) continue; // 'c' / 'C'
    let j = 1;
    while (j < RESYNC.length && resyncByte(buf[i + j], j)) j++;
    if (j === RESYNC.length) return i;
  }
  return -1;
}

/** How many bytes at the end of buf[from..] could be the beginning of "content-length:". */
function partialResyncLength(buf, from) {
  const start = Math.max(from, buf.length - (RESYNC.length - 1));
  for (let i = start; i < buf.length; i++) {
    let j = 0;
    while (i + j < buf.length && resyncByte(buf[i + j], j)) j++;
    if (i + j === buf.length) return buf.length - i;
  }
  return 0;
}

const ONLY_CONTENT_LENGTH = /^content-length:[ \t]*([0-9]+)[ \t]*$/i;

/**
 * Parse a complete header block (ASCII text without the final CRLF CRLF).
 * @returns {{length: number} | {error: string}}
 */
function parseHeaderBlock(text) {
  const common = ONLY_CONTENT_LENGTH.exec(text); // the block every sane writer sends
  if (common !== null) return { length: Number(common[1]) };
  let length = -1;
  const lines = text.split('\r\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^[0-9]+$/.test(value)) return { error: `Content-Length is not a decimal number: ${JSON.stringify(value)}` };
      const n = Number(value);
      if (length !== -1 && n !== length) return { error: 'conflicting Content-Length headers' };
      length = n;
    } else if (name === 'content-type') {
      const charset = charsetOf(value);
      if (charset !== null && charset !== 'utf-8' && charset !== 'utf8') {
        return { error: `unsupported charset ${JSON.stringify(charset)} (only utf-8)` };
      }
    }
  }
  if (length === -1) return { error: 'header block without Content-Length' };
  return { length };
}

/** The charset parameter of a Content-Type value, lowercased and unquoted, or null. */
function charsetOf(contentType) {
  const params = contentType.split(';');
  for (let i = 1; i < params.length; i++) {
    const eq = params[i].indexOf('=');
    if (eq < 0) continue;
    if (params[i].slice(0, eq).trim().toLowerCase() !== 'charset') continue;
    return params[i].slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
  }
  return null;
}

function noop() {}

class FrameReader {
  /**
   * @param {object} options
   * @param {number} [options.maxBodySize] largest accepted body in bytes (default 256 MiB)
   * @param {(body: Buffer) => void} options.onFrame
   * @param {(garbage: {bytes: Buffer, length: number, reason: string}) => void} [options.onGarbage]
   * @param {(info: {length: number, limit: number}) => void} [options.onOversized]
   */
  constructor({ maxBodySize = DEFAULT_MAX_BODY_SIZE, onFrame, onGarbage = noop, onOversized = noop }) {
    this.maxBodySize = maxBodySize;
    this.onFrame = onFrame;
    this.onGarbage = onGarbage;
    this.onOversized = onOversized;

    this._state = HEAD;
    /** Unconsumed bytes from the previous push (a partial header, or a partial "content-length:"). */
    this._carry = null;
    // HEAD
    this._hState = H_LINE_START;
    this._hScanned = 0; // bytes of the current header block already scanned
    // BODY
    this._body = null;
    this._bodyFilled = 0;
    // DISCARD
    this._discardLeft = 0;
    // SKIP: the current garbage run
    this._garbageParts = [];
    this._garbageKept = 0;
    this._garbageLength = 0;
    this._garbageReason = '';
  }

  /**
   * Feed bytes; callbacks fire synchronously, in stream order.
   * @param {Buffer} chunk
   */
  push(chunk) {
    // Carried-over bytes (a partial header block, < 8 KiB, or a partial "content-length:") are
    // joined with at most the next 8 KiB of the chunk, so a straddling header never makes
    // us copy a whole big chunk; the rest of the chunk is then consumed in place.
    while (this._carry !== null) {
      const carry = this._carry;
      this._carry = null;
      const take = Math.min(chunk.length, MAX_HEADER_BYTES);
      this._consume(Buffer.concat([carry, chunk.subarray(0, take)]));
      chunk = chunk.subarray(take);
      if (chunk.length === 0) return;
    }
    this._consume(chunk);
  }

  /** Run the state machine over `buf`; a partial header or resync word is left in _carry. */
  _consume(buf) {
    let pos = 0;
    const end = buf.length;
    while (pos < end) {
      switch (this._state) {
        case HEAD:
          pos = this._scanHeader(buf, pos);
          break;
        case BODY: {
          const body = this._body;
          const want = body.length - this._bodyFilled;
          const take = Math.min(want, end - pos);
          buf.copy(body, this._bodyFilled, pos, pos + take);
          this._bodyFilled += take;
          pos += take;
          if (take === want) {
            this._body = null;
            this._state = HEAD;
            this.onFrame(body);
          }
          break;
        }
        case DISCARD: {
          const take = Math.min(this._discardLeft, end - pos);
          this._discardLeft -= take;
          pos += take;
          if (this._discardLeft === 0) this._state = HEAD;
          break;
        }
        case SKIP:
          pos = this._skipGarbage(buf, pos);
          break;
      }
    }
  }

  /**
   * End of stream: report what an interrupted frame left behind, as garbage.
   */
  end() {
    const carry = this._carry;
    this._carry = null;
    switch (this._state) {
      case HEAD:
        if (carry !== null && carry.length > 0) {
          this.onGarbage({ bytes: carry, length: carry.length, reason: 'end of stream inside a frame header' });
        }
        break;
      case BODY:
        this.onGarbage({
          bytes: this._body.subarray(0, this._bodyFilled),
          length: this._bodyFilled,
          reason: `end of stream inside a frame body (${this._bodyFilled} of ${this._body.length} bytes received)`,
        });
        this._body = null;
        break;
      case DISCARD:
        this.onGarbage({
          bytes: Buffer.alloc(0),
          length: 0,
          reason: `end of stream inside an oversized body (${this._discardLeft} bytes missing)`,
        });
        break;
      case SKIP:
        if (carry !== null) this._addGarbage(carry, 0, carry.length);
        this._reportGarbage();
        break;
    }
    this._state = HEAD;
    this._hState = H_LINE_START;
    this._hScanned = 0;
  }

  /** HEAD state: scan from where the last push stopped. Returns the new position. */
  _scanHeader(buf, start) {
    const end = buf.length;
    let i = start + this._hScanned;
    let s = this._hState;
    const limit = Math.min(end, start + MAX_HEADER_BYTES);
    for (; i < limit; i++) {
      const b = buf[i];
      switch (s) {
        case H_LINE_START:
          if (TOKEN[b] === 1) s = H_NAME;
          else if (b === CR && i > start) s = H_END_CR;
          else return this._badHeader(buf, start, 'stray bytes where a header was expected');
          break;
        case H_NAME:
          if (b === COLON) s = H_VALUE;
          else if (TOKEN[b] !== 1) return this._badHeader(buf, start, 'stray bytes where a header was expected');
          break;
        case H_VALUE:
          if (b === CR) s = H_LINE_CR;
          else if (b < 0x20 ? b !== 9 : b > 0x7e) return this._badHeader(buf, start, 'stray bytes where a header was expected');
          break;
        case H_LINE_CR:
          if (b === LF) s = H_LINE_START;
          else return this._badHeader(buf, start, 'stray bytes where a header was expected');
          break;
        case H_END_CR:
          if (b === LF) {
            this._hState = H_LINE_START;
            this._hScanned = 0;
            return this._headerDone(buf, start, i + 1);
          }
          return this._badHeader(buf, start, 'stray bytes where a header was expected');
      }
    }
    if (i - start >= MAX_HEADER_BYTES) {
      return this._badHeader(buf, start, `header block over ${MAX_HEADER_BYTES} bytes`);
    }
    // The chunk ended inside the header: keep its bytes (< 8 KiB) and resume later.
    this._hState = s;
    this._hScanned = i - start;
    this._carry = Buffer.from(buf.subarray(start, end));
    return end;
  }

  /** A complete header block spans buf[start, bodyStart). */
  _headerDone(buf, start, bodyStart) {
    const parsed = parseHeaderBlock(buf.latin1Slice(start, bodyStart - 4));
    if (parsed.error !== undefined) return this._unusableBlock(buf, start, bodyStart, parsed.error);
    const length = parsed.length;
    if (length > this.maxBodySize) {
      this._state = DISCARD;
      this._discardLeft = length;
      this.onOversized({ length, limit: this.maxBodySize });
      return bodyStart;
    }
    if (buf.length - bodyStart >= length) {
      // The whole body is here: hand over a view, no copy.
      this.onFrame(buf.subarray(bodyStart, bodyStart + length));
      return bodyStart + length;
    }
    this._state = BODY;
    this._body = Buffer.allocUnsafe(length);
    this._bodyFilled = 0;
    return bodyStart;
  }

  /**
   * A syntactically complete header block buf[start, end) that cannot be used. If its first
   * line hides a "content-length:" (a stray write glued to the next header: `xContent-Length:
   * 2`), only the bytes before it are garbage. Otherwise the whole block is, and so is what
   * follows it up to the next "content-length:" (its body, most likely).
   */
  _unusableBlock(buf, start, end, reason) {
    const firstLineEnd = buf.indexOf(CRLF, start);
    const glued = findResync(buf, start + 1, firstLineEnd + 2);
    this._state = SKIP;
    if (glued >= 0) {
      this._garbageReason = 'stray bytes glued to a header';
      this._addGarbage(buf, start, glued);
      this._reportGarbage();
      this._state = HEAD;
      return glued;
    }
    this._garbageReason = reason;
    this._addGarbage(buf, start, end);
    return end;
  }

  /** Bytes at `start` cannot begin a header block: garbage up to the next "content-length:". */
  _badHeader(buf, start, reason) {
    this._hState = H_LINE_START;
    this._hScanned = 0;
    this._state = SKIP;
    this._garbageReason = reason;
    // The block's first byte is garbage for sure; the search resumes right after it.
    this._addGarbage(buf, start, start + 1);
    return start + 1;
  }

  /** SKIP state: look for the next "content-length:". */
  _skipGarbage(buf, pos) {
    const found = findResync(buf, pos);
    if (found >= 0) {
      this._addGarbage(buf, pos, found);
      this._reportGarbage();
      this._state = HEAD;
      return found;
    }
    const keep = partialResyncLength(buf, pos);
    this._addGarbage(buf, pos, buf.length - keep);
    if (keep > 0) this._carry = Buffer.from(buf.subarray(buf.length - keep));
    return buf.length;
  }

  _addGarbage(buf, from, to) {
    if (to <= from) return;
    this._garbageLength += to - from;
    const room = GARBAGE_KEEP - this._garbageKept;
    if (room > 0) {
      const part = Buffer.from(buf.subarray(from, Math.min(to, from + room)));
      this._garbageParts.push(part);
      this._garbageKept += part.length;
    }
  }

  _reportGarbage() {
    if (this._garbageLength === 0) return;
    const bytes = this._garbageParts.length === 1 ? this._garbageParts[0] : Buffer.concat(this._garbageParts);
    const garbage = { bytes, length: this._garbageLength, reason: this._garbageReason };
    this._garbageParts = [];
    this._garbageKept = 0;
    this._garbageLength = 0;
    this.onGarbage(garbage);
  }
}

/**
 * One complete frame: `Content-Length: N\r\n\r\n` + the UTF-8 body.
 * @param {string|string[]|object} message JSON text, JSON text in pieces (messages.js
 *   JsonText), or a value to serialise with JSON.stringify
 * @returns {Buffer|Buffer[]} the frame in one Buffer, or (a large piece transcoded in chunks)
 *   its bytes as a list of Buffers, in order
 */
function encodeFrame(message) {
  if (typeof message !== 'string') return encodePieces(Array.isArray(message) ? message : [JSON.stringify(message)]);
  if (prefersTranscode(message)) return encodePieces([message]);
  // The common case, one string: one Buffer of exactly the frame's size.
  const size = Buffer.byteLength(message, 'utf8');
  const head = `Content-Length: ${size}\r\n\r\n`;
  const frame = Buffer.allocUnsafe(head.length + size);
  frame.latin1Write(head, 0);
  frame.utf8Write(message, head.length);
  return frame;
}

/** @param {string[]} pieces */
function encodePieces(pieces) {
  const count = pieces.length;
  // sizes[i]: the UTF-8 length of a piece written with utf8Write, or -1 if it was transcoded.
  const sizes = new Array(count);
  let transcoded = null; // piece index → its chunks
  let size = 0;
  for (let i = 0; i < count; i++) {
    const piece = pieces[i];
    if (prefersTranscode(piece)) {
      const chunks = transcodeChunks(piece);
      if (transcoded === null) transcoded = new Array(count);
      transcoded[i] = chunks;
      sizes[i] = -1;
      for (let k = 0; k < chunks.length; k++) size += chunks[k].length;
    } else {
      const bytes = Buffer.byteLength(piece, 'utf8');
      sizes[i] = bytes;
      size += bytes;
    }
  }
  const head = `Content-Length: ${size}\r\n\r\n`;
  if (transcoded === null) {
    const frame = Buffer.allocUnsafe(head.length + size);
    let offset = frame.latin1Write(head, 0);
    for (let i = 0; i < count; i++) if (sizes[i] > 0) offset += frame.utf8Write(pieces[i], offset);
    return frame;
  }
  const frame = [];
  let lead = head; // Latin-1 text that goes before the next run of written pieces
  for (let i = 0; i < count; ) {
    if (sizes[i] < 0) {
      if (lead !== '') frame.push(Buffer.from(lead, 'latin1'));
      lead = '';
      const chunks = transcoded[i++];
      for (let k = 0; k < chunks.length; k++) frame.push(chunks[k]);
      continue;
    }
    let end = i;
    let bytes = lead.length;
    while (end < count && sizes[end] >= 0) bytes += sizes[end++];
    if (bytes === 0) {
      i = end; // only empty pieces
      continue;
    }
    const run = Buffer.allocUnsafe(bytes);
    let offset = lead === '' ? 0 : run.latin1Write(lead, 0);
    lead = '';
    for (; i < end; i++) if (sizes[i] > 0) offset += run.utf8Write(pieces[i], offset);
    frame.push(run);
  }
  return frame;
}

module.exports = { FrameReader, encodeFrame, MAX_HEADER_BYTES, DEFAULT_MAX_BODY_SIZE };
