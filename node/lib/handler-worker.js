'use strict';
/*
 * The handler thread's own side (a worker_threads Worker started by lib/handler-thread.js):
 * it loads the handler modules, runs their init(), serves their methods and runs dispose().
 *
 * Why a thread: a handler that never yields (`while (true) {}`, a catastrophic regex, a heap
 * that fills up) would otherwise stop the host's only event loop, and with it every other
 * call, every `$/cancelRequest` and the shutdown. Here it stops only this thread, which the
 * main thread can end with `worker.terminate()` (V8's TerminateExecution interrupts any
 * JavaScript, a regex backtracking included) and replace (docs/reliability.md).
 *
 * Messages (structured clone over the worker's port; `seq` numbers the calls of one thread):
 *   main → here   (arrays of messages: what the main thread sent in one turn)
 *                 {t:"init"}  {t:"call", seq, id, method, params}  {t:"abort", seq, code, message}
 *                 {t:"reply", rid, result | error}  {t:"ping"}  {t:"dispose"}
 *   here → main   {t:"loaded", methods, disposers} | {t:"loadError", message}   {t:"ready"} | {t:"initError", message}
 *                 {t:"done", seq, json} | {t:"fail", seq, error}  {t:"ack", seq}
 *                 {t:"notify", method, params}  {t:"progress", seq, value}
 *                 {t:"request", rid, seq, method, params}  {t:"cancel", rid}  {t:"pong"}  {t:"disposed"}
 *
 * Shared memory (workerData.state, an Int32Array over a SharedArrayBuffer), written here only:
 *   [STARTED] the seq of the last call whose handler was started (calls arrive in seq order),
 *             so the main thread knows which calls never ran when it has to end this thread:
 *             those are run again on the next thread, whatever they are;
 *   [RUNNING] the seq of the call whose handler is running synchronously right now (0: none),
 *             so the main thread knows who blocks the thread.
 *
 * The result of a handler is serialised HERE (JSON.stringify, exactly as on the main thread:
 * toJSON, undefined → null, a cycle or a BigInt → -32603) and crosses as a string, which the
 * dispatcher writes as it is (messages.js RawJson): one serialisation per answer, not a
 * structured clone and a JSON.stringify.
 */

// A worker's process.stderr is forwarded by the main thread, asynchronously: a record written
// by a handler could then arrive after the handler's answer, or never (when the host exits or
// the thread is ended). So this thread writes fd 2 itself, synchronously, as the main thread
// does (stderr is a blocking pipe or file); this must happen before log.js captures the writer.
const fs = require('node:fs');

process.stderr.write = writeStderrSync;
// console.* and process.stdout.write of this thread become stderr records, as on the main one.
require('./stdout-guard');
const { parentPort, workerData } = require('node:worker_threads');
const { loadHandlerModules, initModules, disposeModules } = require('./handler-loader');
const { RpcError, ErrorCodes } = require('./rpc-error');
const { errorObjectOf } = require('./messages');
const { log, createLogger, captureProcessWarnings } = require('./log');

captureProcessWarnings();

const STARTED = 0;
const RUNNING = 1;
const state = new Int32Array(workerData.state);

/** @type {Map<string, {fn: Function, owner: object, log: object}>} */
const table = new Map();
let modules = [];
/** seq → the running call's abort controller holder */
const calls = new Map();
/** rid → {resolve, reject} for requests to Python */
const requests = new Map();
let nextRid = 1;

process.on('unhandledRejection', (reason) => {
  log.error(`unhandled promise rejection (the host keeps serving): ${describe(reason)}`);
});

/** One call's `ctx` (the same members as lib/request-context.js on the main thread). */
class WorkerContext {
  #call;

  constructor(call) {
    this.id = call.id;
    this.method = call.method;
    this.#call = call;
  }

  get signal() {
    const call = this.#call;
    if (call.controller === null) {
      call.controller = new AbortController();
      if (call.abortReason !== undefined) call.controller.abort(call.abortReason);
    }
    return call.controller.signal;
  }

  get log() {
    return this.#call.entry.log;
  }

  notify(method, params) {
    notify(method, params);
  }

  progress(value) {
    if (this.id === undefined || this.#call.finished) return;
    parentPort.postMessage({ t: 'progress', seq: this.#call.seq, value });
  }

  request(method, params) {
    return request(method, params, this.signal, this.#call.seq);
  }
}
WorkerContext.prototype.RpcError = RpcError;

function notify(method, params) {
  if (typeof method !== 'string') throw new TypeError('notify(method, params): method must be a string');
  parentPort.postMessage({ t: 'notify', method, params });
}

function request(method, params, signal, seq = 0) {
  if (typeof method !== 'string') return Promise.reject(new TypeError('request(method, params): method must be a string'));
  return new Promise((resolve, reject) => {
    if (signal !== undefined && signal.aborted) return reject(signal.reason);
    const rid = nextRid++;
    const pending = { resolve, reject, signal, onAbort: null };
    if (signal !== undefined) {
      pending.onAbort = () => {
        if (!requests.delete(rid)) return;
        parentPort.postMessage({ t: 'cancel', rid });
        reject(signal.reason);
      };
      signal.addEventListener('abort', pending.onAbort, { once: true });
    }
    requests.set(rid, pending);
    parentPort.postMessage({ t: 'request', rid, seq, method, params });
    return undefined;
  });
}

function receiveReply({ rid, result, error }) {
  const pending = requests.get(rid);
  if (pending === undefined) return;
  requests.delete(rid);
  if (pending.onAbort !== null) pending.signal.removeEventListener('abort', pending.onAbort);
  if (error !== undefined) pending.reject(new RpcError(error.code, error.message, error.data));
  else pending.resolve(result);
}

function runCall(message) {
  const { seq } = message;
  const entry = table.get(message.method);
  const call = { seq, id: message.id, method: message.method, entry, controller: null, abortReason: undefined, finished: false };
  calls.set(seq, call);
  if (unsent.length > 0) postAnswers();
  Atomics.store(state, STARTED, seq);
  Atomics.store(state, RUNNING, seq);
  let result;
  try {
    result = entry.fn.call(entry.owner, message.params, new WorkerContext(call));
  } catch (err) {
    Atomics.store(state, RUNNING, 0);
    failed(call, err);
    return;
  }
  Atomics.store(state, RUNNING, 0);
  if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
    try {
      result.then(
        (value) => succeeded(call, value),
        (err) => failed(call, err),
      );
    } catch (err) {
      failed(call, err);
    }
  } else {
    succeeded(call, result);
  }
}

function succeeded(call, value) {
  call.finished = true;
  calls.delete(call.seq);
  if (call.id === undefined) return;
  let json;
  try {
    json = value === undefined ? 'null' : JSON.stringify(value);
  } catch (err) {
    const error = {
      code: ErrorCodes.InternalError,
      message: `the result of ${call.method} cannot be sent as JSON: ${err.message}`,
      data: { name: err.name, message: err.message, stack: err.stack },
    };
    answer({ t: 'fail', seq: call.seq, error });
    return;
  }
  answer({ t: 'done', seq: call.seq, json: json === undefined ? 'null' : json });
}

function failed(call, err) {
  call.finished = true;
  calls.delete(call.seq);
  if (call.id === undefined) {
    call.entry.log.error(`notification handler ${call.method} failed: ${describe(err)}`);
    return;
  }
  const error = errorObjectOf(err);
  if (error.code === ErrorCodes.InternalError) {
    call.entry.log.debug(`${call.method} (id ${JSON.stringify(call.id)}) threw: ${describe(err)}`);
  }
  answer({ t: 'fail', seq: call.seq, error });
}

/**
 * Post an answer once the ticks the handler queued have run: what they log (process.emitWarning,
 * say) then reaches stderr before the answer reaches Python, as on the main thread. Answers
 * still waiting for that are posted before the next call starts, though: that call might never
 * yield, and an answer must never be lost behind it.
 */
let unsent = [];

function answer(message) {
  unsent.push(message);
  if (unsent.length === 1) process.nextTick(postAnswers);
}

function postAnswers() {
  const list = unsent;
  unsent = [];
  for (let i = 0; i < list.length; i++) postAnswer(list[i]);
}

function postAnswer(message) {
  try {
    parentPort.postMessage(message);
  } catch {
    // `data` cannot be cloned (a function in it): keep code and message
    const { code, message: text } = message.error;
    parentPort.postMessage({ t: 'fail', seq: message.seq, error: { code, message: String(text) } });
  }
}

function abortCall({ seq, code, message }) {
  parentPort.postMessage({ t: 'ack', seq });
  const call = calls.get(seq);
  if (call === undefined || call.abortReason !== undefined) return;
  call.abortReason = new RpcError(code, message);
  if (call.controller !== null) call.controller.abort(call.abortReason);
}

parentPort.on('message', (batch) => {
  for (let i = 0; i < batch.length; i++) receive(batch[i]);
});

function receive(message) {
  switch (message.t) {
    case 'call':
      runCall(message);
      break;
    case 'abort':
      abortCall(message);
      break;
    case 'reply':
      receiveReply(message);
      break;
    case 'init':
      initModules(modules, { notify, request: (method, params, signal) => request(method, params, signal) }).then(
        () => parentPort.postMessage({ t: 'ready' }),
        (err) => parentPort.postMessage({ t: 'initError', message: err.message }),
      );
      break;
    case 'ping':
      parentPort.postMessage({ t: 'pong' });
      break;
    case 'dispose':
      disposeModules(modules, log).then(() => parentPort.postMessage({ t: 'disposed' }));
      break;
    default:
      log.warn(`handler thread: unknown message ${JSON.stringify(message.t)} ignored`);
  }
}

loadHandlerModules(workerData.files).then(
  (loaded) => {
    modules = loaded;
    const names = [];
    for (const mod of loaded) {
      for (const { name, fn, owner } of mod.methods) {
        table.set(name, { fn, owner, log: createLogger(name) });
        names.push({ name, path: mod.path });
      }
    }
    parentPort.postMessage({ t: 'loaded', methods: names, disposers: loaded.filter((mod) => mod.dispose !== undefined).length });
  },
  (err) => parentPort.postMessage({ t: 'loadError', message: err && err.name === 'HandlerLoadError' ? err.message : String(err && err.stack) }),
);

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

function writeStderrSync(chunk, encoding, callback) {
  if (typeof encoding === 'function') callback = encoding;
  const data = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : chunk;
  let offset = 0;
  while (offset < data.length) {
    try {
      offset += fs.writeSync(2, data, offset);
    } catch (err) {
      if (err.code !== 'EAGAIN') break; // stderr closed: a log line is not a reason to die
      Atomics.wait(PAUSE, 0, 0, 1); // a non-blocking pipe that is full: wait for the reader
    }
  }
  if (typeof callback === 'function') process.nextTick(callback);
  return true;
}

function describe(err) {
  if (err instanceof Error) return err.stack || `${err.name}: ${err.message}`;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return Object.prototype.toString.call(err);
  }
}
