'use strict';
/*
 * `ctx`, the second argument of every handler: what a handler may know and do about the call
 * it is serving (docs/handlers.md is the user-facing description).
 *
 *   ctx.id            the request id (undefined for a notification)
 *   ctx.method        the method name as called
 *   ctx.signal        an AbortSignal, aborted when Python cancels ($/cancelRequest) or when
 *                     the host shuts down before the handler finished; its `reason` is an
 *                     RpcError (-32800 or -32000)
 *   ctx.log           a logger (debug/info/warn/error → stderr records, src = method name)
 *   ctx.notify(m, p)  send a notification to Python
 *   ctx.progress(v)   send `$/progress {token: id, value: v}` (dropped once the call is answered)
 *   ctx.request(m, p) call a method on the Python side; resolves with its result, rejects with
 *                     an RpcError; cancelled on Python's side when ctx.signal aborts
 *   ctx.RpcError      the RpcError class, so modules need not import anything from the host
 *
 * Plan: one small object per call, with the call's bookkeeping behind private fields. The
 * AbortController is created only if the handler reads `ctx.signal` (most fast handlers
 * never do); a call cancelled before that hands out an already-aborted signal.
 */

const { RpcError } = require('./rpc-error');

class RequestContext {
  #call;
  #dispatcher;

  /**
   * @param {import('./dispatcher').Call} call
   * @param {import('./dispatcher').Dispatcher} dispatcher
   */
  constructor(call, dispatcher) {
    this.id = call.id;
    this.method = call.method;
    this.#call = call;
    this.#dispatcher = dispatcher;
  }

  /** @returns {AbortSignal} */
  get signal() {
    return this.#call.signal();
  }

  /** @returns {{debug: Function, info: Function, warn: Function, error: Function}} */
  get log() {
    return this.#call.entry.log;
  }

  /**
   * Send a notification to Python.
   * @param {string} method
   * @param {*} [params] an object or an array; omitted when undefined
   */
  notify(method, params) {
    this.#dispatcher.notify(method, params);
  }

  /**
   * Report progress of this request: `$/progress {token: ctx.id, value}`. A no-op for
   * notifications and once the request has been answered (or cancelled).
   * @param {*} value
   */
  progress(value) {
    if (this.id === undefined || this.#call.answered) return;
    this.#dispatcher.notify('$/progress', { token: this.id, value });
  }

  /**
   * Call a method on the Python side (host → Python request).
   * @param {string} method
   * @param {*} [params]
   * @returns {Promise<*>} its result; rejects with an RpcError, or with ctx.signal.reason
   */
  request(method, params) {
    return this.#dispatcher.request(method, params, this.signal);
  }
}

RequestContext.prototype.RpcError = RpcError;

module.exports = { RequestContext };
