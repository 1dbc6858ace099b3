'use strict';
/*
 * The host's built-in methods (docs/protocol.md §2, "Built-ins of the host").
 *
 *   rpc.hello     → {protocol: 1, host: <package.json version>, node: process.version, pid,
 *                    methods: [every method, sorted]}: Python's version handshake
 *   rpc.echo      → its params unchanged (null when there are none)
 *   rpc.shutdown  → stop taking requests, let in-flight ones finish, dispose the modules,
 *                   then answer null; the host then flushes stdout and exits 0
 *
 * rpc.hello and rpc.shutdown take no params: absent, {} or [] are accepted, anything else is
 * -32602. Names in RESERVED_PREFIXES / RESERVED_NAMES can never be taken by a handler module.
 */

const { RpcError, ErrorCodes } = require('./rpc-error');
const { version } = require('../package.json');

/** The protocol number rpc.hello reports; Python refuses a host with another. */
const PROTOCOL_VERSION = 1;

const BUILTIN_SOURCE = 'the host itself (built-in, node/lib/builtins.js)';
const BUILTIN_NAMES = Object.freeze(['rpc.echo', 'rpc.hello', 'rpc.shutdown']);

/** Names a handler module may not use, and who they are reserved for. */
const RESERVED_PREFIXES = Object.freeze({
  'rpc.': 'the host: the "rpc." prefix is reserved for its built-ins',
  '$/': 'the protocol: the "$/" prefix is reserved for protocol notifications',
});
const RESERVED_NAMES = Object.freeze({
  compile: 'the compiler: "compile" is reserved',
});

/**
 * Who reserves `name`, or null if a handler module may use it.
 * @param {string} name
 * @returns {string|null}
 */
function reservedBy(name) {
  if (BUILTIN_NAMES.includes(name)) return BUILTIN_SOURCE;
  for (const prefix of Object.keys(RESERVED_PREFIXES)) {
    if (name.startsWith(prefix)) return RESERVED_PREFIXES[prefix];
  }
  return Object.hasOwn(RESERVED_NAMES, name) ? RESERVED_NAMES[name] : null;
}

function takesNoParams(method, params) {
  if (params === undefined) return;
  const empty = Array.isArray(params) ? params.length === 0 : Object.keys(params).length === 0;
  if (!empty) throw new RpcError(ErrorCodes.InvalidParams, `Invalid params: ${method} takes no params`);
}

/**
 * The built-in handlers.
 * @param {object} hooks
 * @param {() => string[]} hooks.listMethods every method name the host serves
 * @param {() => Promise<void>} hooks.shutdown starts the graceful shutdown; resolves once
 *   in-flight requests are done and the modules are disposed
 * @returns {Record<string, (params: *, ctx: object) => *>}
 */
function createBuiltins({ listMethods, shutdown }) {
  return {
    'rpc.hello'(params) {
      takesNoParams('rpc.hello', params);
      return { protocol: PROTOCOL_VERSION, host: version, node: process.version, pid: process.pid, methods: listMethods() };
    },
    'rpc.echo'(params) {
      return params === undefined ? null : params;
    },
    'rpc.shutdown'(params) {
      takesNoParams('rpc.shutdown', params);
      return shutdown().then(() => null);
    },
  };
}

module.exports = { createBuiltins, reservedBy, BUILTIN_NAMES, BUILTIN_SOURCE, PROTOCOL_VERSION, HOST_VERSION: version };
