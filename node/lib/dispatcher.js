'use strict';
/*
 * The JSON-RPC 2.0 dispatcher: frame bodies in, handler calls and answers out.
 *
 * What it does (docs/protocol.md §2–3):
 *   - decodes a body (strict UTF-8, then JSON; failures → -32700 with id null) and tells
 *     requests, notifications, responses and batches apart;
 *   - validates each message (-32600: not an object, jsonrpc ≠ "2.0", method not a string,
 *     params neither object nor array, id neither integer nor string; empty batch);
 *   - runs handlers concurrently and answers each request when its handler settles, in any
 *     order (-32601 unknown method with data {method}; an RpcError thrown by a handler passes
 *     through unchanged; anything else thrown → -32603 with data {name, message, stack});
 *   - batches: array in → array out; an invalid element gets its own error in the array;
 *     a batch of only notifications gets no answer at all;
 *   - `$/cancelRequest {id}`: answers that request with -32800 at once and exactly once,
 *     aborts its ctx.signal, and drops whatever the handler produces later;
 *   - hands responses from Python to the host's own outgoing requests (ctx.request,
 *     lib/outgoing-requests.js).
 *
 * Goals: correctness of the cancel race and of "exactly one answer per request", and speed
 * in the hot path: no timer hop per message, no closure per synchronous call, one Map lookup
 * per answer, no AbortController unless a handler asks for ctx.signal.
 *
 * Plan: every request becomes a `Call` registered in `inflight` (id → Call) when it is
 * *received*; handlers are *started* from a queue in one microtask per input chunk (and only
 * once the handler modules' init() has finished). Because a whole chunk is parsed before that
 * microtask runs, a request and its $/cancelRequest arriving together are seen in that order
 * and the handler never starts. Whatever answers a call first (its handler, a cancel, the
 * shutdown) marks it answered and removes it from `inflight`; every later outcome is dropped.
 * Answers go through the FrameWriter; the handlers started for one chunk run corked, so their
 * synchronous answers leave in one write.
 */

const { decodeUtf8 } = require('./utf8');
const { RpcError, ErrorCodes } = require('./rpc-error');
const { RequestContext } = require('./request-context');
const { OutgoingRequests } = require('./outgoing-requests');
const {
  isValidId,
  arrayText,
  resultText,
  errorText,
  notificationText,
  errorObjectOf,
  errorObject,
} = require('./messages');

/** One request or notification received from Python. */
class Call {
  /**
   * @param {number|string|undefined} id undefined for a notification
   * @param {string} method
   * @param {*} params
   * @param {MethodEntry} entry
   * @param {Batch|null} batch
   */
  constructor(id, method, params, entry, batch) {
    this.id = id;
    this.method = method;
    this.params = params;
    this.entry = entry;
    this.batch = batch;
    this.started = false;
    this.answered = false;
    this._controller = null;
    this._abortReason = undefined;
  }

  /** The call's AbortSignal, created on first use. */
  signal() {
    if (this._controller === null) {
      this._controller = new AbortController();
      if (this._abortReason !== undefined) this._controller.abort(this._abortReason);
    }
    return this._controller.signal;
  }

  abort(reason) {
    if (this._abortReason !== undefined) return;
    this._abortReason = reason;
    if (this._controller !== null) this._controller.abort(reason);
  }
}

/** The answers of one batch, sent together once every request in it is answered. */
class Batch {
  constructor() {
    /** @type {import('./messages').JsonText[]} */
    this.parts = [];
    this.pending = 0;
    this.sealed = false;
  }
}

/**
 * @typedef {object} MethodEntry
 * @property {(params: *, ctx: RequestContext) => *} fn the handler
 * @property {object|undefined} owner `this` for the handler (the module's methods object)
 * @property {string} source where it comes from ("built-in" or a module path), for messages
 * @property {object} log the logger handed out as ctx.log
 */

class Dispatcher {
  /**
   * @param {object} options
   * @param {import('./frame-writer').FrameWriter} options.writer
   * @param {Map<string, MethodEntry>} options.methods
   * @param {object} options.log host logger
   */
  constructor({ writer, methods, log }) {
    this.writer = writer;
    this.methods = methods;
    this.log = log;

    /** @type {Map<number|string, Call>} requests received and not yet answered */
    this.inflight = new Map();
    this.ready = false;
    this.accepting = true;

    this._queue = [];
    this._startScheduled = false;
    this._startQueued = () => this._startAll();

    /** The host's own requests to Python, answered by responses we receive. */
    this.outgoing = new OutgoingRequests({ writer, log });

    this._drainWaiters = [];
  }

  // ---------------------------------------------------------------- input

  /**
   * Handle one complete frame body.
   * @param {Buffer} body
   */
  receiveFrame(body) {
    let text;
    try {
      text = decodeUtf8(body);
    } catch (err) {
      // Only a body beyond V8's string limit (~512 M characters) gets here.
      this.writer.send(errorText(null, errorObject(ErrorCodes.ParseError, `Parse error: the body cannot be decoded: ${err.message}`)));
      return;
    }
    if (text === undefined) {
      this.writer.send(errorText(null, errorObject(ErrorCodes.ParseError, 'Parse error: the body is not valid UTF-8')));
      return;
    }
    let message;
    try {
      message = JSON.parse(text);
    } catch (err) {
      this.writer.send(errorText(null, errorObject(ErrorCodes.ParseError, `Parse error: ${err.message}`)));
      return;
    }
    if (Array.isArray(message)) {
      this._receiveBatch(message);
    } else {
      const reply = this._receive(message, null);
      if (reply !== undefined) this.writer.send(reply);
    }
  }

  /**
   * A frame was over the body limit (the framer discards its bytes): answer -32600.
   * @param {{length: number, limit: number}} info
   */
  receiveOversized({ length, limit }) {
    this.writer.send(
      errorText(
        null,
        errorObject(
          ErrorCodes.InvalidRequest,
          `Invalid Request: a frame body of ${length} bytes is over the limit of ${limit} bytes`,
          { length, limit },
        ),
      ),
    );
  }

  _receiveBatch(list) {
    if (list.length === 0) {
      this.writer.send(errorText(null, errorObject(ErrorCodes.InvalidRequest, 'Invalid Request: empty batch')));
      return;
    }
    const batch = new Batch();
    for (let i = 0; i < list.length; i++) {
      const reply = this._receive(list[i], batch);
      if (reply !== undefined) batch.parts.push(reply);
    }
    batch.sealed = true;
    if (batch.pending === 0) this._sendBatch(batch);
  }

  _sendBatch(batch) {
    if (batch.parts.length > 0) this.writer.send(arrayText(batch.parts));
  }

  /**
   * Classify and validate one message.
   * @returns {string|undefined} the text of an immediate answer (an error), if any
   */
  _receive(message, batch) {
    if (message === null || typeof message !== 'object' || Array.isArray(message)) {
      return invalid(null, 'a message must be a JSON object');
    }
    const method = message.method;
    const id = message.id;
    if (method === undefined && ('result' in message || 'error' in message)) {
      this.outgoing.receive(message);
      return undefined;
    }
    const hasId = id !== undefined;
    if (hasId && !isValidId(id)) return invalid(null, '"id" must be an integer or a string');
    const replyId = hasId ? id : null;
    if (message.jsonrpc !== '2.0') return invalid(replyId, '"jsonrpc" must be "2.0"');
    if (typeof method !== 'string') return invalid(replyId, '"method" must be a string');
    const params = message.params;
    if (params !== undefined && (params === null || typeof params !== 'object')) {
      return invalid(replyId, '"params" must be an object or an array');
    }
    if (!hasId) {
      this._receiveNotification(method, params);
      return undefined;
    }
    return this._receiveRequest(id, method, params, batch);
  }

  _receiveRequest(id, method, params, batch) {
    if (!this.accepting) {
      return errorText(id, errorObject(ErrorCodes.ServerError, 'Server error: the host is shutting down and takes no new requests'));
    }
    const entry = this.methods.get(method);
    if (entry === undefined) {
      return errorText(id, errorObject(ErrorCodes.MethodNotFound, `Method not found: ${method}`, { method }));
    }
    if (this.inflight.has(id)) {
      // Answering with this id would be taken as the answer of the first request.
      this.log.warn(`request id ${JSON.stringify(id)} is already in flight; the second request is refused`);
      return invalid(null, `id ${JSON.stringify(id)} is already used by a request in flight`);
    }
    const call = new Call(id, method, params, entry, batch);
    this.inflight.set(id, call);
    if (batch !== null) batch.pending++;
    this._enqueue(call);
    return undefined;
  }

  _receiveNotification(method, params) {
    if (method === '$/cancelRequest') {
      this._cancel(params);
      return;
    }
    if (method.startsWith('$/')) return; // other protocol notifications are optional: ignored
    const entry = this.methods.get(method);
    if (entry === undefined) {
      this.log.warn(`ignored a notification for the unknown method ${JSON.stringify(method)}`);
      return;
    }
    if (!this.accepting) {
      this.log.debug(`ignored a notification for ${method}: the host is shutting down`);
      return;
    }
    this._enqueue(new Call(undefined, method, params, entry, null));
  }

  _cancel(params) {
    if (params === null || typeof params !== 'object') return;
    const call = this.inflight.get(params.id);
    if (call === undefined) return; // unknown or already answered: ignored
    this._answerWithError(call, new RpcError(ErrorCodes.RequestCancelled, 'Request cancelled'));
  }

  // ---------------------------------------------------------------- running handlers

  _enqueue(call) {
    this._queue.push(call);
    if (this.ready && !this._startScheduled) {
      this._startScheduled = true;
      queueMicrotask(this._startQueued);
    }
  }

  /** Start every queued call that was not cancelled meanwhile. */
  _startAll() {
    this._startScheduled = false;
    if (!this.ready) return;
    const queue = this._queue;
    this._queue = [];
    this.writer.cork();
    try {
      for (let i = 0; i < queue.length; i++) {
        const call = queue[i];
        if (!call.answered) this._run(call);
      }
    } finally {
      this.writer.uncork();
    }
  }

  _run(call) {
    call.started = true;
    const entry = call.entry;
    let result;
    try {
      result = entry.fn.call(entry.owner, call.params, new RequestContext(call, this));
    } catch (err) {
      this._settleError(call, err);
      return;
    }
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      try {
        result.then(
          (value) => this._settleResult(call, value),
          (err) => this._settleError(call, err),
        );
      } catch (err) {
        this._settleError(call, err);
      }
    } else {
      this._settleResult(call, result);
    }
  }

  _settleResult(call, value) {
    if (call.id === undefined || call.answered) return; // a notification, or answered already
    if (call._abortReason !== undefined) return this._answerWithError(call, call._abortReason); // abortSignals()
    let text;
    try {
      text = resultText(call.id, value);
    } catch (err) {
      text = errorText(
        call.id,
        errorObject(ErrorCodes.InternalError, `the result of ${call.method} cannot be sent as JSON: ${err.message}`, {
          name: err.name,
          message: err.message,
          stack: err.stack,
        }),
      );
    }
    this._answer(call, text);
  }

  _settleError(call, err) {
    if (call.id === undefined) {
      call.entry.log.error(`notification handler ${call.method} failed: ${describe(err)}`);
      return;
    }
    if (call.answered) return;
    if (call._abortReason !== undefined) return this._answerWithError(call, call._abortReason); // abortSignals()
    const error = errorObjectOf(err);
    if (error.code === ErrorCodes.InternalError) {
      call.entry.log.debug(`${call.method} (id ${JSON.stringify(call.id)}) threw: ${describe(err)}`);
    }
    this._answer(call, errorText(call.id, error));
  }

  _answerWithError(call, error) {
    this._answer(call, errorText(call.id, error.toJSON()));
    call.abort(error);
  }

  /** The one place a request is answered. */
  _answer(call, text) {
    call.answered = true;
    this.inflight.delete(call.id);
    const batch = call.batch;
    if (batch === null) {
      this.writer.send(text);
    } else {
      batch.parts.push(text);
      if (--batch.pending === 0 && batch.sealed) this._sendBatch(batch);
    }
    if (this._drainWaiters.length > 0) this._checkDrained();
  }

  // ---------------------------------------------------------------- host → Python

  /**
   * Send a notification to Python.
   * @param {string} method
   * @param {*} [params]
   */
  notify(method, params) {
    if (typeof method !== 'string') throw new TypeError('notify(method, params): method must be a string');
    this.writer.send(notificationText(method, params));
  }

  /**
   * Send a request to Python and wait for its answer (see OutgoingRequests#send).
   * @param {string} method
   * @param {*} [params]
   * @param {AbortSignal} [signal]
   * @returns {Promise<*>}
   */
  request(method, params, signal) {
    return this.outgoing.send(method, params, signal);
  }

  /**
   * No more answers can come from Python (stdin closed): reject every outgoing request.
   * @param {Error} reason
   */
  closeOutgoing(reason) {
    this.outgoing.close(reason);
  }

  // ---------------------------------------------------------------- lifecycle

  /** The handler modules are initialised: start handlers, including those queued so far. */
  setReady() {
    this.ready = true;
    if (this._queue.length > 0 && !this._startScheduled) {
      this._startScheduled = true;
      queueMicrotask(this._startQueued);
    }
  }

  /** From now on every new request is answered -32000. */
  stopAccepting() {
    this.accepting = false;
  }

  /**
   * Resolve once no request is in flight, ignoring those for which `except(call)` is true.
   * @param {(call: Call) => boolean} [except]
   * @returns {Promise<void>}
   */
  whenDrained(except = () => false) {
    if (this._busy(except) === 0) return Promise.resolve();
    return new Promise((resolve) => this._drainWaiters.push({ resolve, except }));
  }

  _busy(except) {
    let n = 0;
    for (const call of this.inflight.values()) if (!except(call)) n++;
    return n;
  }

  _checkDrained() {
    const waiters = this._drainWaiters;
    this._drainWaiters = [];
    for (const waiter of waiters) {
      if (this._busy(waiter.except) === 0) waiter.resolve();
      else this._drainWaiters.push(waiter);
    }
  }

  /**
   * Abort the signal of every request in flight with `error`, without answering them yet, so
   * that their handlers can react first (the shutdown's grace period is over). Whatever such a
   * handler settles with, the request is answered with `error`, as by abortInflight().
   * @param {RpcError} error
   * @param {(call: Call) => boolean} [except]
   */
  abortSignals(error, except = () => false) {
    for (const call of Array.from(this.inflight.values())) if (!except(call)) call.abort(error);
  }

  /**
   * Answer every request still in flight with `error` and abort its signal.
   * @param {RpcError} error
   * @param {(call: Call) => boolean} [except]
   * @returns {number} how many were answered
   */
  abortInflight(error, except = () => false) {
    let n = 0;
    for (const call of Array.from(this.inflight.values())) {
      if (except(call)) continue;
      this._answerWithError(call, error);
      n++;
    }
    return n;
  }
}

function invalid(id, reason) {
  return errorText(id, errorObject(ErrorCodes.InvalidRequest, `Invalid Request: ${reason}`));
}

function describe(err) {
  if (err instanceof Error) return err.stack || `${err.name}: ${err.message}`;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return Object.prototype.toString.call(err);
  }
}

module.exports = { Dispatcher, Call };
