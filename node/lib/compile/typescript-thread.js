'use strict';
/*
 * The main thread's side of the TypeScript worker (typescript-worker.js): start it, wait for
 * its "init", hand it one job at a time, settle each job's promise with the worker's reply.
 *
 * Goals: a slow transpileModule (TypeScript is synchronous: 35–130 ms for a few hundred lines,
 * seconds for a huge file) never blocks the host's event loop, so other calls and cancels keep
 * flowing; and a cancelled job costs nothing if it has not started yet.
 *
 * Plan: the queue lives HERE, not in the worker's message port: only the running job has been
 * posted. A job whose signal aborts while it waits is taken out of the queue and never sent.
 * The running job is not interrupted: terminating the worker and starting a new one would
 * cost a fresh `require("typescript")` (~0.4–0.6 s, measured in docs/compile.md) and make the
 * next compile wait for it, while the job itself is usually shorter than that; its result is
 * dropped by the dispatcher, which has already answered -32800.
 *
 * The worker is unref()'d while idle, so it never keeps the process alive. If it dies (an
 * uncaught error, an OOM), every job it had is rejected and `onExit` tells the engine, which
 * starts a new one on the next compile. Its stdout and stderr are piped to the process's (Node's
 * default for workers), so whatever it prints goes through the stdout guard (lib/stdout-guard.js)
 * and becomes a record on stderr; it never reaches the frames.
 */

const path = require('node:path');
const { Worker } = require('node:worker_threads');
const { engineUnavailable } = require('./errors');
const { typescriptSpecifier, typescriptInstallCommand } = require('./packages');

const WORKER_SCRIPT = path.join(__dirname, 'typescript-worker.js');

class TypeScriptThread {
  /**
   * @param {object} options
   * @param {string} options.modulePath the resolved file of the TypeScript module
   * @param {object} options.log
   * @param {() => void} [options.onExit] called once if the worker stops for any reason
   * @param {string} [options.script] the worker's file (default: typescript-worker.js; the
   *   type checker runs typecheck-worker.js, which speaks the same init/job protocol)
   */
  constructor({ modulePath, log, onExit = () => {}, script = WORKER_SCRIPT }) {
    this.script = script;
    this.modulePath = modulePath;
    this.log = log;
    this.onExit = onExit;
    this.version = null;
    this._worker = null;
    this._queue = [];
    this._running = null;
    this._nextId = 0;
    this._closed = false;
  }

  /**
   * Start the worker.
   * @returns {Promise<string>} TypeScript's version once the worker can transpile; rejects with
   *   `{reason: "load"|"no-transpile"|"exit", message, version}` otherwise
   */
  start() {
    return new Promise((resolve, reject) => {
      let initialised = false;
      // The worker's stdout and stderr are piped to the process's (Node's default): what it
      // prints goes through the stdout guard, and reading them here would keep the process alive.
      const worker = new Worker(this.script, { workerData: { modulePath: this.modulePath } });
      this._worker = worker;
      worker.on('message', (message) => {
        if (message.type === 'init') {
          initialised = true;
          if (message.ok) {
            this.version = message.version;
            worker.unref();
            resolve(message.version);
            this._pump();
          } else {
            reject({ reason: message.reason, message: message.message ?? null, version: message.version ?? null });
          }
          return;
        }
        this._settle(message);
      });
      worker.on('error', (err) => {
        this.log.error(`typescript worker failed: ${err && err.stack ? err.stack : err}`);
        if (!initialised) {
          initialised = true;
          reject({ reason: 'load', message: String((err && err.message) || err), version: null });
        }
        this._failAll(err);
      });
      worker.on('exit', (code) => {
        if (!initialised) {
          initialised = true;
          reject({ reason: 'exit', message: `the worker exited with code ${code} before it was ready`, version: null });
        }
        this._failAll(new Error(`the TypeScript worker exited (code ${code})`));
        if (!this._closed) {
          this._closed = true;
          this.onExit();
        }
      });
    });
  }

  /**
   * Run one job; resolves with the worker's reply (`result` or `crash`).
   * @param {object} job without `id`
   * @param {AbortSignal} [signal] aborting it while the job waits takes it out of the queue
   * @returns {Promise<object>}
   */
  run(job, signal) {
    return new Promise((resolve, reject) => {
      if (this._closed) {
        reject(new Error('the TypeScript worker has stopped'));
        return;
      }
      const entry = { job, resolve, reject, signal, onAbort: null };
      if (signal !== undefined) {
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        entry.onAbort = () => {
          const at = this._queue.indexOf(entry);
          if (at >= 0) {
            this._queue.splice(at, 1);
            this.log.debug('compile: a cancelled typescript job was dropped before it started');
            reject(signal.reason);
          }
        };
        signal.addEventListener('abort', entry.onAbort, { once: true });
      }
      this._queue.push(entry);
      this._pump();
    });
  }

  /** How many jobs wait (not counting the running one). */
  get waiting() {
    return this._queue.length;
  }

  _pump() {
    if (this._running !== null || this._queue.length === 0 || this.version === null || this._closed) return;
    const entry = this._queue.shift();
    this._running = entry;
    entry.job.id = ++this._nextId;
    this._worker.ref();
    this._worker.postMessage(entry.job);
  }

  _settle(reply) {
    const entry = this._running;
    if (entry === null || reply.id !== entry.job.id) {
      this.log.warn(`typescript worker: an unexpected reply (id ${reply.id}) was ignored`);
      return;
    }
    this._running = null;
    detach(entry);
    entry.resolve(reply);
    if (this._queue.length === 0) this._worker.unref();
    else this._pump();
  }

  _failAll(err) {
    const entries = this._running === null ? this._queue : [this._running, ...this._queue];
    this._running = null;
    this._queue = [];
    for (const entry of entries) {
      detach(entry);
      entry.reject(err);
    }
  }

  /** Stop the worker (jobs still queued or running are rejected). */
  async terminate() {
    if (this._worker !== null) await this._worker.terminate();
  }

  /**
   * End a worker that could not start (its module failed to load, or cannot transpile): let it
   * exit on its own, so that what it printed on the way is still forwarded to this thread's
   * stdout guard (terminate() drops the output a worker has not handed over yet: a fake
   * TypeScript 7 that logs while loading lost its last line that way under load); terminate it
   * only if it is still running after `graceMs` (the module left a timer, say). Never keeps
   * the host alive.
   * @param {number} graceMs
   */
  async finish(graceMs) {
    const worker = this._worker;
    if (worker === null || this._closed) return;
    worker.unref();
    let timer = null;
    const exited = new Promise((resolve) => worker.once('exit', () => resolve(true)));
    const late = new Promise((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
      timer.unref();
    });
    const ended = await Promise.race([exited, late]);
    clearTimeout(timer);
    if (!ended) await worker.terminate();
  }
}

/** How long a worker that failed to start may take to exit on its own before it is terminated. */
const FAILED_WORKER_GRACE_MS = 1000;

function detach(entry) {
  if (entry.onAbort !== null) entry.signal.removeEventListener('abort', entry.onAbort);
}

/**
 * Where the TypeScript module a worker loads lives: `{specifier, modulePath}`.
 * @throws {RpcError} 1002 (EngineUnavailable, with the install command) when it cannot be resolved
 */
function resolveTypeScript() {
  const specifier = typescriptSpecifier();
  try {
    return { specifier, modulePath: require.resolve(specifier) };
  } catch (err) {
    const problem = err && err.code === 'MODULE_NOT_FOUND'
      ? `the npm package ${JSON.stringify(specifier)} is not installed (it is an optional dependency of the host)`
      : `resolving ${JSON.stringify(specifier)} failed: ${err && err.message}`;
    throw engineUnavailable('typescript', problem, typescriptInstallCommand());
  }
}

/**
 * A TypeScriptThread started on first use and started again after it stops: what the engine
 * (transpileModule) and the type checker each hold.
 */
class OnDemandTypeScriptThread {
  /**
   * @param {object} options
   * @param {object} options.log
   * @param {string} [options.script] the worker's file (see TypeScriptThread)
   * @param {(failure: *, specifier: string, modulePath: string) => Error} options.unavailable
   *   the error (1002) for a worker that could not start
   * @param {(version: string, ms: number) => void} [options.onStarted]
   */
  constructor({ log, script = WORKER_SCRIPT, unavailable, onStarted = () => {} }) {
    this.log = log;
    this.script = script;
    this.unavailable = unavailable;
    this.onStarted = onStarted;
    /** @type {Promise<TypeScriptThread>|null} */
    this._started = null;
  }

  /**
   * The worker, started on first use.
   * @returns {Promise<TypeScriptThread>}
   * @throws {RpcError} 1002 when TypeScript is missing or its worker cannot start
   */
  get() {
    if (this._started !== null) return this._started;
    let specifier, modulePath;
    try {
      ({ specifier, modulePath } = resolveTypeScript());
    } catch (err) {
      return Promise.reject(err);
    }
    const thread = new TypeScriptThread({
      modulePath,
      log: this.log,
      script: this.script,
      onExit: () => {
        if (this._started === started) this._started = null;
      },
    });
    const t0 = performance.now();
    const started = thread.start().then(
      (version) => {
        this.onStarted(version, performance.now() - t0);
        return thread;
      },
      (failure) => {
        if (this._started === started) this._started = null;
        thread.finish(FAILED_WORKER_GRACE_MS).catch(() => {});
        throw this.unavailable(failure, specifier, modulePath);
      },
    );
    this._started = started;
    return started;
  }

  /** Stop the worker, if there is one. */
  async dispose() {
    const started = this._started;
    this._started = null;
    if (started === null) return;
    try {
      await (await started).terminate();
    } catch {
      // it never started: nothing to stop
    }
  }
}

module.exports = { TypeScriptThread, OnDemandTypeScriptThread, WORKER_SCRIPT, FAILED_WORKER_GRACE_MS, resolveTypeScript };
