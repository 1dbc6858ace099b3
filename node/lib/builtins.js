'use strict';
/*
 * The host's built-in methods (docs/protocol.md §2, "Built-ins of the host").
 *
 *   rpc.hello     → {protocol: 1, host: <package.json version>, node: process.version, pid,
 *                    methods: [every method, sorted], engines: {esbuild, typescript}}: Python's
 *                    version handshake; `engines` holds the compilers' installed versions (read
 *                    from their package.json files, not loaded; null when not installed)
 *   rpc.echo      → its params unchanged (null when there are none)
 *   rpc.stats     → {inFlight, outgoing, eventLoopDelay: {meanMs, p50Ms, p99Ms, maxMs, windowMs},
 *                    handlerThread: {mode, inFlight, waiting, running, restarts, …}, watchdogMs,
 *                    uptimeMs, memory: {rss, heapUsed}}: what the host is doing now and how
 *                    late its event loop ran since the previous rpc.stats (lib/host-stats.js)
 *   rpc.shutdown  → stop taking requests, let in-flight ones finish, dispose the modules,
 *                   then answer null; the host then flushes stdout and exits 0
 *   compile       → the compiler (lib/compile/, docs/compile.md)
 *   compileFiles  → many files on disk in one call, read and written by the host (docs/compile.md)
 *   typecheck     → semantic diagnostics of a TypeScript project kept warm (docs/compile.md)
 *
 * rpc.hello, rpc.stats and rpc.shutdown take no params: absent, {} or [] are accepted, anything else is
 * -32602. Names in RESERVED_PREFIXES / RESERVED_NAMES can never be taken by a handler module.
 *
 * Warm-up: WARMUP_DELAY_MS after the first rpc.hello, esbuild is loaded and its service
 * started in the background, so that a first compile that comes later does not pay ~10 ms for
 * it. Not sooner: loading it blocks the event loop for ~12 ms in all (in steps of 2–6 ms,
 * measured), and the calls a client makes right after its handshake must not wait for that; a
 * compile in that window loads esbuild itself. The handshake itself is never slowed down. RPCBRIDGE_COMPILE_WARMUP=0
 * turns the warm-up off (esbuild is then loaded by the first compile); RPCBRIDGE_COMPILE_WARMUP=now
 * starts it as soon as the host serves, before any rpc.hello: `rpcbridge compile` sets it, since
 * its host is started while Python is still importing (~200 ms in which the host is idle) and its
 * first call after the handshake is the compile itself (measured: the 600-file compileFiles
 * ~28 ms sooner, median of 12 paired runs).
 */

const { RpcError, ErrorCodes } = require('./rpc-error');
const { version } = require('../package.json');

/** The protocol number rpc.hello reports; Python refuses a host with another. */
const PROTOCOL_VERSION = 1;

/** How long after the first rpc.hello esbuild is warmed up (docs/compile.md, "Warm-up"). */
const WARMUP_DELAY_MS = 100;

const BUILTIN_SOURCE = 'the host itself (built-in, node/lib/builtins.js)';
const BUILTIN_NAMES = Object.freeze(['compile', 'compileFiles', 'rpc.echo', 'rpc.hello', 'rpc.shutdown', 'rpc.stats', 'typecheck']);

/** Names a handler module may not use, and who they are reserved for. */
const RESERVED_PREFIXES = Object.freeze({
  'rpc.': 'the host: the "rpc." prefix is reserved for its built-ins',
  '$/': 'the protocol: the "$/" prefix is reserved for protocol notifications',
});
const RESERVED_NAMES = Object.freeze({
  compile: 'the compiler: "compile" is reserved',
  compileFiles: 'the compiler: "compileFiles" is reserved',
  typecheck: 'the type checker: "typecheck" is reserved',
});

/**
 * Who reserves `name`, or null if a handler module may use it.
 * @param {string} name
 * @returns {string|null}
 */
function reservedBy(name) {
  if (Object.hasOwn(RESERVED_NAMES, name)) return RESERVED_NAMES[name];
  if (BUILTIN_NAMES.includes(name)) return BUILTIN_SOURCE;
  for (const prefix of Object.keys(RESERVED_PREFIXES)) {
    if (name.startsWith(prefix)) return RESERVED_PREFIXES[prefix];
  }
  return null;
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
 * @param {() => object} [hooks.stats] serves `rpc.stats` (lib/host-stats.js)
 * @param {import('./compile').Compiler} [hooks.compiler] serves `compile`; by default one is
 *   created on first use (lib/compile/ is not even loaded before: start-up stays as fast)
 * @returns {Record<string, (params: *, ctx: object) => *>}
 */
function createBuiltins({ listMethods, shutdown, stats = () => ({}), compiler = null }) {
  const theCompiler = () => {
    if (compiler === null) compiler = new (require('./compile').Compiler)();
    return compiler;
  };
  const warmUpWhen = process.env.RPCBRIDGE_COMPILE_WARMUP;
  let warmUpScheduled = warmUpWhen === '0' || warmUpWhen === 'now';
  if (warmUpWhen === 'now') setImmediate(() => theCompiler().warmUp()).unref();
  return {
    'rpc.hello'(params) {
      takesNoParams('rpc.hello', params);
      if (!warmUpScheduled) {
        warmUpScheduled = true;
        setTimeout(() => theCompiler().warmUp(), WARMUP_DELAY_MS).unref();
      }
      return {
        protocol: PROTOCOL_VERSION,
        host: version,
        node: process.version,
        pid: process.pid,
        methods: listMethods(),
        engines: require('./compile/packages').engineVersions(),
      };
    },
    compile(params, ctx) {
      return theCompiler().compile(params, ctx);
    },
    compileFiles(params, ctx) {
      return theCompiler().compileFiles(params, ctx);
    },
    typecheck(params, ctx) {
      return theCompiler().typecheck(params, ctx);
    },
    'rpc.echo'(params) {
      return params === undefined ? null : params;
    },
    'rpc.stats'(params) {
      takesNoParams('rpc.stats', params);
      return stats();
    },
    'rpc.shutdown'(params) {
      takesNoParams('rpc.shutdown', params);
      return shutdown().then(() => null);
    },
  };
}

module.exports = { createBuiltins, reservedBy, BUILTIN_NAMES, BUILTIN_SOURCE, PROTOCOL_VERSION, HOST_VERSION: version };
