'use strict';
/*
 * The main thread's side of the handler thread: the handler modules run in ONE worker thread
 * (lib/handler-worker.js) while the main thread keeps the framer, the dispatcher and the
 * built-ins; so a handler that never yields cannot stop `$/cancelRequest`, `rpc.*`, the other
 * calls' answers or the shutdown, and the main thread can end it (docs/reliability.md).
 *
 * What it does:
 *   - `start()` starts the worker, which imports the modules and checks their names; resolves
 *     with one stand-in module whose methods forward to the thread (so the dispatcher and
 *     rpc.hello see the same method table as with the modules on the main thread), or rejects
 *     with a HandlerLoadError (the host exits 2);
 *   - `init(connection)` runs the modules' init() in the thread; `dispose()` their dispose(),
 *     then ends the thread;
 *   - each call is posted to the thread; its answer (the result's JSON text, or an error
 *     object) settles the Promise the dispatcher waits for; `ctx.progress`, `ctx.notify`,
 *     `ctx.request` and `host.request` come back as messages and go out through the connection;
 *   - preemption: when a call is cancelled (`$/cancelRequest`, which Python sends when a
 *     `call(timeout=)` expires, or the shutdown's grace period ends) its abort is posted to the
 *     thread, which acknowledges it from its event loop. No acknowledgement and no message at
 *     all within `preemptMs`, while no other live call is running synchronously, means the
 *     thread is stuck: it is terminated (V8 TerminateExecution: it interrupts any JavaScript,
 *     `while (true) {}` and a backtracking regex alike) and a fresh one is started, which loads
 *     the modules and runs init() again;
 *   - out of memory: a thread over its heap limit (`--handler-heap-mb`, V8's resourceLimits;
 *     default: the same limit as the main thread's) is ended by Node with
 *     ERR_WORKER_OUT_OF_MEMORY; it is replaced the same way;
 *   - when a thread is replaced, the calls it had not started yet (the shared STARTED counter
 *     tells) are run on the new one, whatever they are; those it had started are answered
 *     -32001 (HandlerInterrupted) or, after an out-of-memory, -32002 (HandlerOutOfMemory),
 *     with data {reason, culprit: {id, method} | null, heapLimitMb}; Python retries them when
 *     they were marked idempotent;
 *   - anything else that ends the thread keeps its main-thread meaning: an uncaught exception
 *     ends the host with exit code 1, a `process.exit(code)` in a module with that code.
 *
 * Cost: one structured-clone hop each way per call (benchmarks/preemption.py measures it);
 * `--handler-thread main` keeps the modules on the main thread, as before, where only the
 * watchdog (lib/watchdog.js) can end a stuck handler — by ending the whole host.
 */

const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { RpcError, ErrorCodes } = require('./rpc-error');
const { RawJson, errorObjectOf } = require('./messages');
const { HandlerLoadError } = require('./handler-loader');
const { withDefaults, DEFAULT_PREEMPT_MS } = require('./cli-options');

const WORKER_SCRIPT = path.join(__dirname, 'handler-worker.js');


/** Error codes of calls lost with their thread (docs/protocol.md §3). */
const HandlerErrorCodes = Object.freeze({ HandlerInterrupted: -32001, HandlerOutOfMemory: -32002 });

const STARTED = 0;
const RUNNING = 1;

class HandlerThread {
  /**
   * @param {object} options
   * @param {string[]} options.files the handler modules, in command-line order
   * @param {object} options.log
   * @param {number} [options.heapMb] the thread's heap limit (maxOldGenerationSizeMb); 0: Node's default
   * @param {number} [options.preemptMs] how long a cancelled call's thread may stay stuck
   * @param {(code: number, message: string) => void} [options.onFatal] ends the host
   */
  constructor({ files, log, heapMb = 0, preemptMs = DEFAULT_PREEMPT_MS, onFatal = defaultFatal }) {
    this.files = files;
    this.log = log;
    this.heapMb = heapMb;
    this.preemptMs = preemptMs;
    this.onFatal = onFatal;

    this.restarts = 0;
    this.lastRestart = null;

    this._connection = null;
    this._worker = null;
    this._state = null;
    this._ready = false;
    this._stopping = false;
    this._seq = 0;
    /** @type {Map<number, Job>} calls posted or waiting, by seq */
    this._jobs = new Map();
    /** calls waiting for a ready thread, in seq order */
    this._backlog = [];
    /** rid → {controller, seq}: the thread's requests to Python */
    this._requests = new Map();
    /** cancelled calls whose abort the thread has not acknowledged */
    this._unacked = new Set();
    this._checkTimer = null;
    this._lastHeard = 0;
    this._outbox = [];
    this._flush = () => this._flushOutbox();
    this._whenLoaded = null;
    this._disposers = 0;
  }

  // ---------------------------------------------------------------- start, init, dispose

  /**
   * Start the thread and load the modules in it.
   * @returns {Promise<import('./handler-loader').HandlerModule[]>} stand-in modules for the method table
   * @throws {HandlerLoadError}
   */
  start() {
    return this._spawn().then((methods) => [
      {
        path: 'the handler thread',
        namespace: undefined,
        methods: methods.map(({ name }) => ({ name, fn: this._forwarder(name), owner: undefined })),
        init: undefined,
        dispose: undefined,
        self: undefined,
      },
    ]);
  }

  /**
   * Run the modules' init() in the thread.
   * @param {{notify: Function, request: Function}} connection what the thread may send to Python
   * @returns {Promise<void>} rejects with an Error whose message says which init() failed
   */
  init(connection) {
    this._connection = connection;
    return this._initThread();
  }

  /** Run the modules' dispose() in the thread (bounded by the lifecycle), then end it. */
  async dispose() {
    this._stopping = true;
    this._clearCheck();
    const worker = this._worker;
    if (worker === null) return;
    if (this._ready && this._disposers > 0) {
      await new Promise((resolve) => {
        worker.once('exit', resolve);
        worker.on('message', (message) => {
          if (message.t === 'disposed') resolve();
        });
        this._send({ t: 'dispose' });
      });
    }
    // Not awaited: the host's exit ends the thread anyway, and every millisecond here delays it.
    worker.terminate();
  }

  /**
   * Resolves once the thread has handled every message posted so far (the aborts at the end of
   * the shutdown's grace period, say): one round trip. At once when there is no ready thread.
   * @returns {Promise<void>}
   */
  settle() {
    const worker = this._worker;
    if (!this._ready || worker === null) return Promise.resolve();
    return new Promise((resolve) => {
      const onMessage = (message) => {
        if (message.t === 'pong') {
          worker.off('message', onMessage);
          resolve();
        }
      };
      worker.on('message', onMessage);
      worker.once('exit', resolve);
      this._send({ t: 'ping' });
    });
  }

  /** What rpc.stats reports about the thread. */
  stats() {
    let running = null;
    if (this._state !== null) {
      const job = this._jobs.get(Atomics.load(this._state, RUNNING));
      if (job !== undefined) running = { id: job.id, method: job.method };
    }
    return {
      mode: 'worker',
      inFlight: this._jobs.size,
      waiting: this._backlog.length,
      running,
      restarts: this.restarts,
      lastRestart: this.lastRestart,
      heapLimitMb: this.heapMb > 0 ? this.heapMb : null,
      preemptMs: this.preemptMs,
    };
  }

  // ---------------------------------------------------------------- calls

  _forwarder(name) {
    return (params, ctx) => this._call(name, params, ctx);
  }

  _call(method, params, ctx) {
    const seq = ++this._seq;
    if (ctx.id === undefined) {
      // A notification: nothing comes back, nothing to track (a lost one is just lost).
      const job = { seq, id: undefined, method, params, ctx, resolve: null, reject: null, cancelled: false, abortAt: 0 };
      this._post(job);
      return undefined;
    }
    return new Promise((resolve, reject) => {
      const job = { seq, id: ctx.id, method, params, ctx, resolve, reject, cancelled: false, abortAt: 0 };
      this._jobs.set(seq, job);
      ctx.signal.addEventListener('abort', () => this._abort(job, ctx.signal.reason), { once: true });
      this._post(job);
    });
  }

  _post(job) {
    if (!this._ready) {
      this._backlog.push(job);
      return;
    }
    this._send({ t: 'call', seq: job.seq, id: job.id, method: job.method, params: job.params });
  }

  /**
   * Post a message to the thread. Messages sent in one turn of the event loop (the calls one
   * input chunk started, say) leave together, as one array: one wake-up of the thread, not one
   * per call. Batching is one-way: the thread answers each call on its own, so an answer never
   * waits behind a later call that might block.
   */
  _send(message) {
    this._outbox.push(message);
    if (this._outbox.length === 1) queueMicrotask(this._flush);
  }

  _flushOutbox() {
    const batch = this._outbox;
    this._outbox = [];
    if (batch.length > 0 && this._worker !== null) this._worker.postMessage(batch);
  }

  _abort(job, reason) {
    job.cancelled = true;
    const waiting = this._backlog.indexOf(job);
    if (waiting >= 0) {
      // never posted: it will never run
      this._backlog.splice(waiting, 1);
      this._jobs.delete(job.seq);
      return;
    }
    if (!this._jobs.has(job.seq) || this._worker === null) return;
    const error = RpcError.isRpcError(reason) ? reason : new RpcError(ErrorCodes.RequestCancelled, 'Request cancelled');
    job.abortAt = performance.now();
    this._unacked.add(job);
    this._send({ t: 'abort', seq: job.seq, code: error.code, message: error.message });
    this._scheduleCheck(this.preemptMs);
  }

  // ---------------------------------------------------------------- messages from the thread

  _receive(worker, message) {
    if (worker !== this._worker) return; // a thread already replaced
    this._lastHeard = performance.now();
    switch (message.t) {
      case 'done': {
        const job = this._finish(message.seq);
        if (job !== undefined) job.resolve(new RawJson(message.json));
        break;
      }
      case 'fail': {
        const job = this._finish(message.seq);
        const { code, message: text, data } = message.error;
        if (job !== undefined) job.reject(new RpcError(code, text, data));
        break;
      }
      case 'ack': {
        const job = this._jobs.get(message.seq);
        if (job !== undefined) this._unacked.delete(job);
        break;
      }
      case 'progress': {
        const job = this._jobs.get(message.seq);
        if (job !== undefined) job.ctx.progress(message.value);
        break;
      }
      case 'notify':
        this._connection.notify(message.method, message.params);
        break;
      case 'request':
        this._forwardRequest(worker, message);
        break;
      case 'cancel': {
        const pending = this._requests.get(message.rid);
        if (pending !== undefined) {
          this._requests.delete(message.rid);
          pending.controller.abort(new RpcError(ErrorCodes.RequestCancelled, 'Request cancelled'));
        }
        break;
      }
      default:
        break; // loaded, ready, initError, disposed: handled by their waiters
    }
  }

  _finish(seq) {
    const job = this._jobs.get(seq);
    if (job === undefined) return undefined;
    this._jobs.delete(seq);
    this._unacked.delete(job);
    return job;
  }

  _forwardRequest(worker, { rid, seq, method, params }) {
    const controller = new AbortController();
    this._requests.set(rid, { controller, seq });
    this._connection.request(method, params, controller.signal).then(
      (result) => {
        if (this._requests.delete(rid) && worker === this._worker) this._send({ t: 'reply', rid, result });
      },
      (err) => {
        if (this._requests.delete(rid) && worker === this._worker) this._send({ t: 'reply', rid, error: errorObjectOf(err) });
      },
    );
  }

  // ---------------------------------------------------------------- preemption

  _scheduleCheck(ms) {
    if (this._checkTimer !== null) return;
    this._checkTimer = setTimeout(() => {
      this._checkTimer = null;
      this._check();
    }, Math.max(1, Math.ceil(ms)));
    this._checkTimer.unref();
  }

  _clearCheck() {
    if (this._checkTimer !== null) clearTimeout(this._checkTimer);
    this._checkTimer = null;
  }

  /** Is the thread stuck on a cancelled call? Then end it. */
  _check() {
    if (this._unacked.size === 0 || !this._ready || this._stopping) return;
    const now = performance.now();
    let oldest = null;
    for (const job of this._unacked) {
      if (!this._jobs.has(job.seq)) this._unacked.delete(job);
      else if (oldest === null || job.abortAt < oldest.abortAt) oldest = job;
    }
    if (oldest === null) return;
    const quietSince = Math.max(oldest.abortAt, this._lastHeard);
    const wait = quietSince + this.preemptMs - now;
    if (wait > 0) {
      this._scheduleCheck(wait); // the thread spoke meanwhile: it is alive, give it the full time
      return;
    }
    const blocker = this._jobs.get(Atomics.load(this._state, RUNNING));
    if (blocker !== undefined && !blocker.cancelled) {
      // Another call, still wanted, runs synchronously: its own caller's timeout decides.
      this._scheduleCheck(this.preemptMs);
      return;
    }
    const culprit = blocker ?? oldest;
    const stuckMs = Math.round(now - oldest.abortAt);
    this._replace({
      reason: 'preempted',
      culprit,
      why: `the call ${culprit.method} (id ${JSON.stringify(culprit.id)}) kept it busy ${stuckMs} ms after it was cancelled`,
    });
  }

  // ---------------------------------------------------------------- the worker itself

  _spawn() {
    const state = new Int32Array(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
    const options = { workerData: { files: this.files, state: state.buffer } };
    if (this.heapMb > 0) options.resourceLimits = { maxOldGenerationSizeMb: this.heapMb };
    const worker = new Worker(WORKER_SCRIPT, options);
    this._outbox = []; // whatever was meant for the previous thread: its calls are replayed
    this._worker = worker;
    this._state = state;
    this._ready = false;
    this._lastHeard = performance.now();
    let outcome = null; // set by 'error' or by _replace: why the thread ended
    worker.on('message', (message) => this._receive(worker, message));
    worker.on('error', (err) => {
      if (err && err.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        outcome = outcome ?? { reason: 'out-of-memory', why: 'it ran out of memory' };
      } else {
        outcome = outcome ?? { reason: 'crashed', error: err };
      }
    });
    worker.on('exit', (code) => {
      if (this._stopping && worker === this._worker) return;
      const ended = worker._rpcbridgeEnded ?? outcome;
      if (ended === null) {
        this.onFatal(code, `a handler module called process.exit(${code}) (in the handler thread): the host exits with code ${code}`);
      } else if (ended.reason === 'crashed') {
        const err = ended.error;
        this.onFatal(1, `uncaught exception in the handler thread, exiting: ${err && err.stack ? err.stack : err}`);
      } else if (worker._rpcbridgeReady !== true) {
        // Out of memory while loading the modules or in init(): a new thread would do the same.
        this.onFatal(2, `the handler thread ran out of memory while loading the handler modules or running their init()`);
      } else {
        this._lost(worker, state, ended);
      }
    });
    this._whenLoaded = new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message.t === 'loaded') {
          worker.off('message', onMessage);
          this._disposers = message.disposers;
          resolve(message.methods);
        } else if (message.t === 'loadError') {
          worker.off('message', onMessage);
          reject(new HandlerLoadError(message.message));
        }
      };
      worker.on('message', onMessage);
    });
    return this._whenLoaded;
  }

  _initThread() {
    const worker = this._worker;
    return new Promise((resolve, reject) => {
      const onMessage = (message) => {
        if (message.t === 'ready') {
          worker.off('message', onMessage);
          worker._rpcbridgeReady = true;
          this._ready = true;
          this._flushBacklog();
          resolve();
        } else if (message.t === 'initError') {
          worker.off('message', onMessage);
          reject(new Error(message.message));
        }
      };
      worker.on('message', onMessage);
      this._send({ t: 'init' });
    });
  }

  _flushBacklog() {
    const backlog = this._backlog;
    this._backlog = [];
    for (const job of backlog) this._post(job);
  }

  /** End the current thread; its 'exit' event then runs _lost(). */
  _replace(ended) {
    const worker = this._worker;
    if (worker._rpcbridgeEnded !== undefined) return;
    worker._rpcbridgeEnded = ended;
    this._ready = false;
    this.log.warn(`ending the handler thread: ${ended.why}`);
    worker.terminate();
  }

  /** The thread is gone: fail what it started, keep what it did not, start another. */
  _lost(worker, state, ended) {
    if (worker !== this._worker) return;
    this._ready = false;
    this._clearCheck();
    this._unacked.clear();
    const started = Atomics.load(state, STARTED);
    const runningSeq = Atomics.load(state, RUNNING);
    let culprit = ended.culprit ?? null;
    if (culprit === null && runningSeq !== 0) culprit = this._jobs.get(runningSeq) ?? null;
    const heapLimitMb = this.heapMb > 0 ? this.heapMb : null;
    const outOfMemory = ended.reason === 'out-of-memory';
    const why = outOfMemory && culprit !== null
      ? `it ran out of memory while running ${culprit.method} (id ${JSON.stringify(culprit.id)})`
      : ended.why;
    const data = {
      reason: ended.reason,
      culprit: culprit === null ? null : { id: culprit.id, method: culprit.method },
      heapLimitMb,
    };
    const replay = [];
    let failed = 0;
    const waiting = new Set(this._backlog); // never posted to the old thread: they just wait on
    for (const job of Array.from(this._jobs.values()).sort((a, b) => a.seq - b.seq)) {
      if (waiting.has(job)) continue;
      if (job.seq > started) {
        // never started: safe to run on the next thread, unless nobody wants it any more
        if (job.cancelled) this._jobs.delete(job.seq);
        else replay.push(job);
        continue;
      }
      this._jobs.delete(job.seq);
      const error = outOfMemory
        ? new RpcError(HandlerErrorCodes.HandlerOutOfMemory, `Handler out of memory: the handler thread was ended before this call finished: ${why}`, data)
        : new RpcError(HandlerErrorCodes.HandlerInterrupted, `Handler interrupted: the handler thread was ended before this call finished: ${why}`, data);
      job.reject(error);
      if (!job.cancelled) failed++; // a cancelled one was answered -32800 already
    }
    for (const pending of this._requests.values()) {
      pending.controller.abort(new RpcError(ErrorCodes.RequestCancelled, 'the handler thread that sent this request was ended'));
    }
    this._requests.clear();
    this._backlog = replay.concat(this._backlog);
    this.restarts++;
    this.lastRestart = { reason: ended.reason, culprit: data.culprit, at: new Date().toISOString() };
    this.log.warn(
      `the handler thread was ended (${why}); ${failed} started call(s) answered -3200${outOfMemory ? 2 : 1}, ` +
        `${replay.length} not yet started call(s) will run on a new thread (restart ${this.restarts})`,
    );
    if (this._stopping) return;
    this._spawn()
      .then(() => this._initThread())
      .catch((err) => this.onFatal(2, `restarting the handler thread failed: ${err.message}`));
  }
}

/**
 * The handler thread the command line asks for, or null (no modules, or --handler-thread main).
 * @param {ReturnType<import('./cli-options').parseOptions>} options
 * @param {object} log
 * @returns {HandlerThread|null}
 */
function fromOptions(options, log) {
  const settings = withDefaults(options);
  if (settings.handlers.length === 0 || settings.handlerThread !== 'worker') return null;
  return new HandlerThread({ files: settings.handlers, log, heapMb: settings.handlerHeapMb, preemptMs: settings.preemptMs });
}

function defaultFatal(code, message) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

/**
 * @typedef {object} Job
 * @property {number} seq
 * @property {number|string|undefined} id
 * @property {string} method
 * @property {*} params
 * @property {object} ctx the main thread's RequestContext
 * @property {boolean} cancelled
 * @property {number} abortAt when the abort was posted (performance.now())
 */

module.exports = { HandlerThread, fromOptions, HandlerErrorCodes, DEFAULT_PREEMPT_MS };
