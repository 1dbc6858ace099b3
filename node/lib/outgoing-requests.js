'use strict';
/*
 * The host's own requests to Python (ctx.request / host.request in handler modules).
 *
 * What it does: `send(method, params, signal)` gives the request a fresh integer id (the
 * host's ids are its own: they never meet Python's, since each side matches answers only
 * against the requests it sent), writes it, and returns a Promise settled by Python's
 * response: its `result`, or an RpcError built from its `error`. If `signal` aborts first,
 * Python is told with `$/cancelRequest {id}` and the Promise rejects with `signal.reason`.
 * `close(reason)` rejects everything still pending once Python can no longer answer.
 *
 * Plan: one Map id → pending entry; the dispatcher hands every response it receives to
 * `receive(message)`. A response for an id that is not pending (answered, cancelled, or
 * never sent) is logged and ignored.
 */

const { RpcError, ErrorCodes } = require('./rpc-error');
const { requestText, notificationText } = require('./messages');

class OutgoingRequests {
  /**
   * @param {object} options
   * @param {{send: (json: string) => void}} options.writer
   * @param {object} options.log
   */
  constructor({ writer, log }) {
    this.writer = writer;
    this.log = log;
    this._pending = new Map();
    this._nextId = 1;
    this._closed = null;
  }

  /** Number of requests waiting for Python's answer. */
  get size() {
    return this._pending.size;
  }

  /**
   * Send a request to Python and wait for its answer.
   * @param {string} method
   * @param {*} [params]
   * @param {AbortSignal} [signal] aborting it sends $/cancelRequest and rejects with signal.reason
   * @returns {Promise<*>}
   */
  send(method, params, signal) {
    if (typeof method !== 'string') return Promise.reject(new TypeError('request(method, params): method must be a string'));
    return new Promise((resolve, reject) => {
      if (this._closed !== null) return reject(this._closed);
      if (signal !== undefined && signal.aborted) return reject(signal.reason);
      const id = this._nextId++;
      let text;
      try {
        text = requestText(id, method, params);
      } catch (err) {
        return reject(err); // params cannot be serialised
      }
      const pending = { resolve, reject, signal, onAbort: null };
      if (signal !== undefined) {
        pending.onAbort = () => {
          if (!this._pending.delete(id)) return;
          this.writer.send(notificationText('$/cancelRequest', { id }));
          reject(signal.reason);
        };
        signal.addEventListener('abort', pending.onAbort, { once: true });
      }
      this._pending.set(id, pending);
      this.writer.send(text);
      return undefined;
    });
  }

  /**
   * A response from Python (a message with `result` or `error` and no `method`).
   * @param {{id: *, result?: *, error?: *}} message
   */
  receive(message) {
    const id = message.id;
    const pending = this._pending.get(id);
    if (pending === undefined) {
      const what = id === null || id === undefined ? 'a message it could not read' : `unknown id ${JSON.stringify(id)}`;
      const error = 'error' in message ? `: ${JSON.stringify(message.error)}` : '';
      this.log.warn(`Python sent a response for ${what}${error}`);
      return;
    }
    this._forget(id, pending);
    if ('error' in message) {
      const e = message.error !== null && typeof message.error === 'object' ? message.error : {};
      const code = Number.isInteger(e.code) ? e.code : ErrorCodes.InternalError;
      pending.reject(new RpcError(code, typeof e.message === 'string' ? e.message : 'error from Python', e.data));
    } else {
      pending.resolve(message.result);
    }
  }

  /**
   * No more answers can come (stdin closed): reject every pending request, and later ones.
   * @param {Error} reason
   */
  close(reason) {
    this._closed = reason;
    for (const [id, pending] of Array.from(this._pending)) {
      this._forget(id, pending);
      pending.reject(reason);
    }
  }

  _forget(id, pending) {
    this._pending.delete(id);
    if (pending.onAbort !== null) pending.signal.removeEventListener('abort', pending.onAbort);
  }
}

module.exports = { OutgoingRequests };
