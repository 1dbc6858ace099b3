'use strict';
/*
 * JSON-RPC 2.0 message shapes: building the JSON text of what the host sends, and turning
 * whatever a handler threw into the `error` member of a response.
 *
 * Goals: responses are built as text directly (no wrapper object per reply, and the member
 * order is always jsonrpc, id, result|error); a result that cannot be serialised (a cycle, a
 * BigInt) becomes a -32603 error instead of an exception in the dispatcher.
 */

const { RpcError, ErrorCodes } = require('./rpc-error');

/**
 * True for a valid request id: an integer or a string (docs/protocol.md §2).
 * @param {*} id
 */
function isValidId(id) {
  return typeof id === 'string' || Number.isInteger(id);
}

function idText(id) {
  return typeof id === 'number' ? String(id) : JSON.stringify(id === undefined ? null : id);
}

/**
 * The JSON text of a success response. Throws if `result` cannot be serialised.
 * @param {number|string|null} id
 * @param {*} result `undefined` is sent as null
 * @returns {string}
 */
function resultText(id, result) {
  const json = result === undefined ? 'null' : JSON.stringify(result);
  // JSON.stringify returns undefined for a function or a symbol: send null, as for undefined.
  return `{"jsonrpc":"2.0","id":${idText(id)},"result":${json === undefined ? 'null' : json}}`;
}

/**
 * The JSON text of an error response.
 * @param {number|string|null} id
 * @param {{code: number, message: string, data?: *}} error
 * @returns {string}
 */
function errorText(id, error) {
  try {
    return `{"jsonrpc":"2.0","id":${idText(id)},"error":${JSON.stringify(error)}}`;
  } catch (err) {
    // `data` could not be serialised: keep code and message, explain the loss.
    const fallback = { code: error.code, message: String(error.message), data: { unserializable: String(err.message) } };
    return `{"jsonrpc":"2.0","id":${idText(id)},"error":${JSON.stringify(fallback)}}`;
  }
}

/**
 * The JSON text of a notification (`params` omitted when undefined).
 * @param {string} method
 * @param {*} [params]
 */
function notificationText(method, params) {
  return params === undefined
    ? `{"jsonrpc":"2.0","method":${JSON.stringify(method)}}`
    : `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`;
}

/**
 * The JSON text of a request from the host (`params` omitted when undefined).
 * @param {number|string} id
 * @param {string} method
 * @param {*} [params]
 */
function requestText(id, method, params) {
  return params === undefined
    ? `{"jsonrpc":"2.0","id":${idText(id)},"method":${JSON.stringify(method)}}`
    : `{"jsonrpc":"2.0","id":${idText(id)},"method":${JSON.stringify(method)},"params":${JSON.stringify(params)}}`;
}

/**
 * The `error` member for anything a handler threw: an RpcError passes through unchanged,
 * anything else is -32603 with `data: {name, message, stack}`.
 * @param {*} thrown
 * @returns {{code: number, message: string, data?: *}}
 */
function errorObjectOf(thrown) {
  if (RpcError.isRpcError(thrown)) {
    const error = { code: thrown.code, message: String(thrown.message) };
    if (thrown.data !== undefined) error.data = thrown.data;
    return error;
  }
  if (thrown instanceof Error) {
    const message = thrown.message === undefined ? '' : String(thrown.message);
    return {
      code: ErrorCodes.InternalError,
      message: message || 'Internal error',
      data: { name: String(thrown.name), message, stack: thrown.stack === undefined ? null : String(thrown.stack) },
    };
  }
  // `throw "text"`, `throw {…}`, `throw undefined`…
  let message;
  try {
    message = typeof thrown === 'string' ? thrown : JSON.stringify(thrown) ?? String(thrown);
  } catch {
    message = Object.prototype.toString.call(thrown);
  }
  return {
    code: ErrorCodes.InternalError,
    message: message || 'Internal error',
    data: { name: thrown === null ? 'null' : typeof thrown, message, stack: null },
  };
}

/**
 * An `error` member from a code and a message.
 * @param {number} code
 * @param {string} message
 * @param {*} [data]
 */
function errorObject(code, message, data) {
  return data === undefined ? { code, message } : { code, message, data };
}

module.exports = {
  isValidId,
  resultText,
  errorText,
  notificationText,
  requestText,
  errorObjectOf,
  errorObject,
};
