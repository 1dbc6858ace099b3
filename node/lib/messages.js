'use strict';
/*
 * JSON-RPC 2.0 message shapes: building the JSON text of what the host sends, and turning
 * whatever a handler threw into the `error` member of a response.
 *
 * Goals: responses are built as text directly (no wrapper object per reply, and the member
 * order is always jsonrpc, id, result|error); a result that cannot be serialised (a cycle, a
 * BigInt) becomes a -32603 error instead of an exception in the dispatcher; a large result is
 * never copied to add its envelope.
 *
 * Plan: every builder returns a `JsonText`: a string, or, when the serialised member is large
 * (64 Ki characters or more), the pieces `[head, json, tail]` whose concatenation is the text.
 * `head + json + tail` would be a rope that V8 flattens, a full copy of the result, on first
 * use; the frame encoder (framer.js) writes the pieces one after the other instead.
 */

const { RpcError, ErrorCodes } = require('./rpc-error');

/** Serialised members at least this long stay apart from their envelope. */
const SEPARATE = 64 * 1024;

/**
 * @typedef {string|string[]} JsonText a JSON text, or pieces that concatenated make one
 */

/**
 * `head + json + tail`: one string when `json` is short, else the three pieces.
 * @returns {JsonText}
 */
function wrap(head, json, tail) {
  return json.length < SEPARATE ? head + json + tail : [head, json, tail];
}

/**
 * The JSON array of several texts (the answers of a batch).
 * @param {JsonText[]} texts
 * @returns {JsonText}
 */
function arrayText(texts) {
  if (texts.every((text) => typeof text === 'string')) return `[${texts.join(',')}]`;
  const pieces = ['['];
  for (let i = 0; i < texts.length; i++) {
    if (i > 0) pieces.push(',');
    const text = texts[i];
    if (typeof text === 'string') pieces.push(text);
    else for (let j = 0; j < text.length; j++) pieces.push(text[j]);
  }
  pieces.push(']');
  return pieces;
}

/** The concatenation of a JsonText (for tests and logs: it copies a large text). */
function joinText(text) {
  return typeof text === 'string' ? text : text.join('');
}

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
 * A result already serialised elsewhere (by the handler thread, lib/handler-worker.js): its
 * JSON text is sent as it is.
 */
class RawJson {
  /** @param {string} json */
  constructor(json) {
    this.json = json;
  }
}

/**
 * The JSON text of a success response. Throws if `result` cannot be serialised.
 * @param {number|string|null} id
 * @param {*} result `undefined` is sent as null
 * @returns {JsonText}
 */
function resultText(id, result) {
  const json = result === undefined ? 'null' : result instanceof RawJson ? result.json : JSON.stringify(result);
  // JSON.stringify returns undefined for a function or a symbol: send null, as for undefined.
  return wrap(`{"jsonrpc":"2.0","id":${idText(id)},"result":`, json === undefined ? 'null' : json, '}');
}

/**
 * The JSON text of an error response.
 * @param {number|string|null} id
 * @param {{code: number, message: string, data?: *}} error
 * @returns {JsonText}
 */
function errorText(id, error) {
  let json;
  try {
    json = JSON.stringify(error);
  } catch (err) {
    // `data` could not be serialised: keep code and message, explain the loss.
    const fallback = { code: error.code, message: String(error.message), data: { unserializable: String(err.message) } };
    json = JSON.stringify(fallback);
  }
  return wrap(`{"jsonrpc":"2.0","id":${idText(id)},"error":`, json, '}');
}

/**
 * The JSON text of a notification (`params` omitted when undefined).
 * @param {string} method
 * @param {*} [params]
 * @returns {JsonText}
 */
function notificationText(method, params) {
  return params === undefined
    ? `{"jsonrpc":"2.0","method":${JSON.stringify(method)}}`
    : wrap(`{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":`, String(JSON.stringify(params)), '}');
}

/**
 * The JSON text of a request from the host (`params` omitted when undefined).
 * @param {number|string} id
 * @param {string} method
 * @param {*} [params]
 * @returns {JsonText}
 */
function requestText(id, method, params) {
  return params === undefined
    ? `{"jsonrpc":"2.0","id":${idText(id)},"method":${JSON.stringify(method)}}`
    : wrap(`{"jsonrpc":"2.0","id":${idText(id)},"method":${JSON.stringify(method)},"params":`, String(JSON.stringify(params)), '}');
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
  RawJson,
  SEPARATE,
  wrap,
  arrayText,
  joinText,
  isValidId,
  resultText,
  errorText,
  notificationText,
  requestText,
  errorObjectOf,
  errorObject,
};
