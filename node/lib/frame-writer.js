'use strict';
/*
 * The only path from the host to its stdout: messages in, whole frames out.
 *
 * What it does: `send(json)` encodes one JSON text as a frame and hands it to the real stdout
 * writer (captured by the stdout guard) in a single write() call, so nothing can ever land
 * inside a frame. It reports backpressure (write() returned false → `onBlocked`, then
 * 'drain' → `onDrained`; the host pauses stdin in between) and failures (`onError`: EPIPE
 * means Python is gone), and `flush()` resolves once every frame has been handed to the OS,
 * which is the condition for exiting without losing replies (research/node-peers.md TL;DR 5).
 *
 * Goals: no per-message closure or timer; a frame is never split over two writes; when many
 * replies are produced in one synchronous burst (one stdin chunk full of small requests),
 * they leave in one write() instead of one syscall each; a large frame is never copied.
 *
 * Plan: `cork()`/`uncork()` bracket such a burst (the dispatcher brackets the handlers it
 * starts for one chunk). While corked, small frames are collected and joined into one Buffer
 * at `uncork()`; a frame of 64 KiB or more flushes the collection first and is written on its
 * own, so big payloads are never copied a second time. A frame that the encoder returns as a
 * list of Buffers (a large non-ASCII body, transcoded in chunks: framer.js) is always written
 * on its own, through `writev` (the channel corks the stream, writes each Buffer and uncorks:
 * one writev syscall, one completion). Each write() gets the same shared completion callback,
 * which counts finished writes; `flush()` waits for that count.
 */

const { encodeFrame } = require('./framer');

/** Frames at least this big are written on their own even while corked. */
const COALESCE_LIMIT = 64 * 1024;

function noop() {}

function listLength(list) {
  let bytes = 0;
  for (let i = 0; i < list.length; i++) bytes += list[i].length;
  return bytes;
}

class FrameWriter {
  /**
   * @param {object} options
   * @param {(buf: Buffer, cb: (err?: Error|null) => void) => boolean} options.write the real stdout writer
   * @param {(list: Buffer[], cb: (err?: Error|null) => void) => boolean} [options.writev] writes
   *   the Buffers of one frame together, `cb` once (default: `write` of their concatenation)
   * @param {import('node:events').EventEmitter} options.stream the stream 'drain' comes from
   * @param {(bytes: number) => void} [options.onLargeFrame] a frame of 64 KiB or more was
   *   handed to the stream (its size)
   * @param {() => void} [options.onBlocked] write() returned false: stop producing input
   * @param {() => void} [options.onDrained] the stream drained: input may resume
   * @param {(err: Error) => void} [options.onError] a write failed (EPIPE: the reader is gone)
   */
  constructor({ write, writev, stream, onLargeFrame = noop, onBlocked = noop, onDrained = noop, onError = noop }) {
    this._write = write;
    this._writev = writev ?? ((list, cb) => write(Buffer.concat(list), cb));
    this._stream = stream;
    this._onLargeFrame = onLargeFrame;
    this._onBlocked = onBlocked;
    this._onDrained = onDrained;
    this._onError = onError;

    this._corked = 0;
    this._pending = [];
    this._pendingBytes = 0;

    this._issued = 0; // write() calls made
    this._completed = 0; // write() callbacks received
    this._flushWaiters = [];
    this.blocked = false;
    this.failed = null;

    this._written = (err) => {
      this._completed++;
      if (err && this.failed === null) {
        this.failed = err;
        this._onError(err);
      }
      if (this._completed === this._issued && this._flushWaiters.length > 0) this._resolveFlush();
    };
    this._drained = () => {
      this.blocked = false;
      this._onDrained();
    };
  }

  /**
   * Send one message as one frame.
   * @param {string|string[]|object} message JSON text (preferred: no second serialisation),
   *   JSON text in pieces (messages.js JsonText), or a value
   */
  send(message) {
    const frame = encodeFrame(message);
    // A list is a large frame: encodeFrame only splits bodies of 64 KiB and more.
    const large = Array.isArray(frame) || frame.length >= COALESCE_LIMIT;
    if (large) this._onLargeFrame(Array.isArray(frame) ? listLength(frame) : frame.length);
    if (this._corked === 0) {
      this._writeFrame(frame);
    } else if (large) {
      this._flushPending();
      this._writeFrame(frame);
    } else {
      this._pending.push(frame);
      this._pendingBytes += frame.length;
      if (this._pendingBytes >= COALESCE_LIMIT) this._flushPending();
    }
  }

  /** Start collecting frames (nestable). */
  cork() {
    this._corked++;
  }

  /** Stop collecting; the collected frames leave in one write(). */
  uncork() {
    if (this._corked > 0 && --this._corked === 0) this._flushPending();
  }

  /** Number of write() calls not yet completed. */
  get pendingWrites() {
    return this._issued - this._completed + (this._pending.length > 0 ? 1 : 0);
  }

  /**
   * Resolve when every frame sent so far has been handed to the OS (or the stream failed).
   * @returns {Promise<void>}
   */
  flush() {
    this._flushPending();
    if (this._completed === this._issued || this.failed !== null) return Promise.resolve();
    return new Promise((resolve) => this._flushWaiters.push(resolve));
  }

  _resolveFlush() {
    const waiters = this._flushWaiters;
    this._flushWaiters = [];
    for (const resolve of waiters) resolve();
  }

  _flushPending() {
    const pending = this._pending;
    if (pending.length === 0) return;
    const buf = pending.length === 1 ? pending[0] : Buffer.concat(pending, this._pendingBytes);
    this._pending = [];
    this._pendingBytes = 0;
    this._writeFrame(buf);
  }

  /** @param {Buffer|Buffer[]} buf a frame, frames, or one frame as a list of Buffers */
  _writeFrame(buf) {
    if (this.failed !== null) return;
    this._issued++;
    let ok;
    try {
      ok = Array.isArray(buf) ? this._writev(buf, this._written) : this._write(buf, this._written);
    } catch (err) {
      this._written(err);
      return;
    }
    if (!ok && !this.blocked) {
      this.blocked = true;
      this._stream.once('drain', this._drained);
      this._onBlocked();
    }
  }
}

module.exports = { FrameWriter, COALESCE_LIMIT };
