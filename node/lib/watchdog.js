'use strict';
/*
 * The backstop watchdog: ends the host, with a reason on stderr, when its main thread has been
 * blocked for `limitMs` (--watchdog-ms, default 10 s; 0: off).
 *
 * Why: with handler modules in the handler thread (lib/handler-thread.js) the main thread only
 * frames, dispatches and runs the built-ins, and a stuck handler is ended there. But with
 * `--handler-thread main`, or a bug in the host itself, nothing running on the main thread can
 * notice that the main thread is stuck. A stuck host is worse than a dead one: Python sees no
 * exit, only calls that time out one by one. Ended, it is reported at once (`HostUnresponsive`,
 * a `HostExited`), and a restart policy replaces it.
 *
 * Plan: the main thread bumps a counter in a SharedArrayBuffer every `limitMs / 8` ms (an
 * unref'd timer: it never keeps the host alive); a small worker (lib/watchdog-thread.js) sleeps
 * in Atomics.wait and checks that the counter moves. When it has not moved for `limitMs`, the
 * worker writes one error record straight to fd 2 (the main thread, which would forward the
 * worker's process.stderr, is the one that is stuck) and sends SIGKILL to the process: nothing
 * else ends a process whose JavaScript never yields. A pause of the whole process (SIGSTOP,
 * a suspended laptop) is not mistaken for a stuck loop: the worker's own sleep overshoots too,
 * and it then starts counting afresh.
 */

const path = require('node:path');
const { Worker } = require('node:worker_threads');

const BEAT = 0;

class Watchdog {
  /**
   * @param {object} options
   * @param {number} options.limitMs
   */
  constructor({ limitMs }) {
    this.limitMs = limitMs;
    this._cells = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
    this._timer = null;
    this._worker = null;
  }

  /** Start watching. */
  start() {
    const every = Math.max(1, Math.floor(this.limitMs / 8));
    this._timer = setInterval(() => Atomics.add(this._cells, BEAT, 1), every);
    this._timer.unref();
    this._worker = new Worker(path.join(__dirname, 'watchdog-thread.js'), {
      workerData: { cells: this._cells.buffer, limitMs: this.limitMs, pid: process.pid },
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 },
    });
    this._worker.unref();
    this._worker.on('error', () => {}); // a watchdog that fails must not take the host with it
    return this;
  }

  /** Stop watching (tests; the host's exit ends the thread anyway). */
  stop() {
    if (this._timer !== null) clearInterval(this._timer);
    this._timer = null;
    if (this._worker !== null) this._worker.terminate();
    this._worker = null;
  }
}

module.exports = { Watchdog };
