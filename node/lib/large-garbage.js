'use strict';
/*
 * Collecting the garbage of a very large message as soon as it is garbage.
 *
 * What it does: `note(bytes)` is told the size of every frame body received and of every large
 * frame sent; `collect()`, called each time an input chunk has been handled, runs one full V8
 * garbage collection if a message of 8 MiB or more was noted since the last one.
 *
 * Goals: issue 6 ("no more than ~3 copies of a body at once"): a 16 MiB round trip must not
 * peak at 11+ copies of its body in the host, and many of them back to back must not climb
 * to ~19; and nothing else may get slower: smaller messages never trigger anything.
 *
 * Why a forced collection (measured with benchmarks.memory, 16 MiB echo, Node 20.20): a large
 * message leaves big dead objects behind, most of them outside V8's heap, where V8 counts them
 * lazily. Receiving and decoding one: the 64 KiB input chunks, the body Buffer, the UTF-16
 * Buffer of the ICU decode and the decoded JSON text (utf8.js), ~4.8 body sizes. Answering one:
 * the parsed params, JSON.stringify's rope and its flattened copy, the UTF-8 reply, ~5.2. V8
 * collects them late, so they pile up: even with the encoding fixes (framer.js, messages.js)
 * the host peaked at 9.8 copies of the body on the first call, 15-16 back to back. A full
 * collection at the two moments where one message's garbage is complete and the next one's
 * has not started yet frees it first:
 *   - after the input chunk that completed a large body: it was just decoded and parsed, its
 *     handler has not run (handlers start in a microtask, dispatcher.js);
 *   - after the first input chunk that follows a large reply: by then the reply was encoded
 *     and handed to the OS (in the echo benchmark: the first chunk of the next request).
 * Result: 5.9-6.25 copies on the first call (the peak is now the encoding: the params, the
 * rope, its flat copy and the UTF-8 reply, alive together) instead of 9.8, and 8.4-9.5 back to
 * back (flat over 40 calls) instead of 15-16; RSS kept after ~130 MiB instead of 150-200.
 * Each collection takes ~4-5 ms, and the memory it returns to the system is faulted in again
 * by the next large message: 16 MiB echoes are ~6 % slower than without it (benchmark suite:
 * 99-105 → 92-98 MiB/s, ratio to the floor ~0.9-0.99). Collecting right after the reply's
 * write completes instead of at the next input was measured too: same peaks, ~10 ms more per
 * call (more memory re-faulted). One collection per round trip (after the body only): 10.7-11.8
 * copies back to back, at about the same cost. Below 8 MiB the relative cost grows (a 1 MiB
 * round trip takes ~7 ms) while the garbage stays small in absolute terms: V8's own heuristics
 * keep it.
 *
 * A full collection costs more the more the heap holds (a handler module may keep a big one):
 * if the last one took over 1 ms per MiB of the message it was for, the next ones are skipped,
 * and only every 8th is tried again, to notice when the heap is small again.
 *
 * Plan: `gc` is not exposed to scripts without --expose-gc on the command line, which the host
 * does not control (Python starts it). `v8.setFlagsFromString('--expose-gc')` followed by
 * `vm.runInNewContext('gc')` gets V8's gc extension in a fresh context only (handler modules
 * never see a global `gc`), once, on first use; the flag is turned off again right away, so
 * later vm contexts do not get it either. If that ever fails, collect() does nothing and V8
 * decides, as before.
 */

const v8 = require('node:v8');
const vm = require('node:vm');
const { performance } = require('node:perf_hooks');

const MiB = 1024 * 1024;
/** A message at least this big has its garbage collected early. */
const LARGE_MESSAGE = 8 * MiB;
/**
 * Most a collection may take per MiB of the message it is for: ~a tenth of the time that
 * message's round trip takes (measured: 0.2-0.35 ms per MiB with the host's usual heap).
 */
const MAX_MS_PER_MIB = 1;
/** While collections cost more than that, only one chance in this many is taken. */
const RETRY_EVERY = 8;

let cachedGc;

/** V8's gc() function, or null if it cannot be had. */
function v8Gc() {
  if (cachedGc === undefined) {
    cachedGc = null;
    try {
      v8.setFlagsFromString('--expose-gc');
      const gc = vm.runInNewContext('gc');
      if (typeof gc === 'function') cachedGc = gc;
    } catch {
      // not available: V8 collects on its own schedule
    } finally {
      v8.setFlagsFromString('--no-expose-gc');
    }
  }
  return cachedGc;
}

class LargeGarbage {
  /**
   * @param {object} [options]
   * @param {number} [options.threshold] message size from which a collection is due
   * @param {() => ((() => void)|null)} [options.getGc] where gc() comes from (tests)
   * @param {() => number} [options.now] a clock in ms (tests)
   */
  constructor({ threshold = LARGE_MESSAGE, getGc = v8Gc, now = () => performance.now() } = {}) {
    this.threshold = threshold;
    this._getGc = getGc;
    this._now = now;
    this._largest = 0; // the largest message noted since the last collect()
    this._lastMs = 0; // how long the last collection took
    this._skipped = 0;
    /** Collections run so far, and skipped because they were too slow. */
    this.collections = 0;
    this.skips = 0;
  }

  /** A message (a frame body received, a frame sent) of `bytes` bytes. */
  note(bytes) {
    if (bytes >= this.threshold && bytes > this._largest) this._largest = bytes;
  }

  /** An input chunk has been handled: collect if a large message was noted since last time. */
  collect() {
    const largest = this._largest;
    if (largest === 0) return;
    this._largest = 0;
    if (this._lastMs > (largest / MiB) * MAX_MS_PER_MIB && ++this._skipped % RETRY_EVERY !== 0) {
      this.skips++;
      return;
    }
    const gc = this._getGc();
    if (gc === null) return;
    const start = this._now();
    gc();
    this._lastMs = this._now() - start;
    this.collections++;
  }
}

module.exports = { LargeGarbage, LARGE_MESSAGE, v8Gc };
