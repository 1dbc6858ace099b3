'use strict';
/*
 * JSON-RPC errors: the standard codes and the RpcError class handlers throw.
 *
 * A handler that throws an RpcError has it sent to the caller unchanged: `code`, `message`
 * and `data` (docs/protocol.md §3). Anything else a handler throws becomes -32603.
 *
 * Errors are recognised by a brand (Symbol.for('rpcbridge.RpcError')) as well as by
 * `instanceof`, so an RpcError from another copy of this file (a handler module that bundles
 * its own) is still passed through.
 */

const BRAND = Symbol.for('rpcbridge.RpcError');

/** Standard and rpcbridge error codes (docs/protocol.md §3). */
const ErrorCodes = Object.freeze({
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  ServerError: -32000,
  RequestCancelled: -32800,
});

class RpcError extends Error {
  /**
   * @param {number} code an integer JSON-RPC error code
   * @param {string} message a short description
   * @param {*} [data] any JSON value, sent as `error.data` (omitted when undefined)
   */
  constructor(code, message, data) {
    super(message);
    if (!Number.isInteger(code)) throw new TypeError(`RpcError code must be an integer, got ${code}`);
    this.name = 'RpcError';
    this.code = code;
    if (data !== undefined) this.data = data;
  }

  /** The `error` member of a response. */
  toJSON() {
    const error = { code: this.code, message: this.message };
    if (this.data !== undefined) error.data = this.data;
    return error;
  }

  /**
   * True for an RpcError of this or any other copy of this module.
   * @param {*} value
   */
  static isRpcError(value) {
    return value instanceof RpcError || (value !== null && typeof value === 'object' && value[BRAND] === true);
  }
}
Object.defineProperty(RpcError.prototype, BRAND, { value: true });

for (const [name, code] of Object.entries(ErrorCodes)) RpcError[name] = code;

module.exports = { RpcError, ErrorCodes };
