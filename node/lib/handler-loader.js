'use strict';
/*
 * Handler modules: loading them (`--handlers PATH`), checking their method names, running
 * their init() and dispose(). The contract is docs/handlers.md.
 *
 * A module exports (as ESM named exports, an ESM default export object, or CommonJS
 * `module.exports = {…}`):
 *   methods    required: an object whose own enumerable function properties are handlers
 *              `(params, ctx) => result | Promise<result>`, called with `this` = methods
 *   namespace  optional string: the methods are served as `namespace + "." + name`
 *   init       optional `(host, options) => void | Promise`: awaited before the host serves
 *              its first request
 *   dispose    optional `() => void | Promise`: awaited at shutdown
 *
 * Goals: never a silent override — a method name taken by a built-in, by a reserved prefix
 * (`rpc.`, `$/`, `compile`) or by another module is an error naming both sources, and the host
 * exits with code 2 before serving anything; so is a module that fails to load or exports
 * the wrong shape. Loading is `import(pathToFileURL(abs))`, which takes ESM and CommonJS alike.
 */

const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { createLogger } = require('./log');
const { reservedBy, BUILTIN_NAMES, BUILTIN_SOURCE, PROTOCOL_VERSION, HOST_VERSION } = require('./builtins');

class HandlerLoadError extends Error {
  constructor(message) {
    super(message);
    this.name = 'HandlerLoadError';
  }
}

/**
 * @typedef {object} HandlerModule
 * @property {string} path absolute path
 * @property {string|undefined} namespace
 * @property {{name: string, fn: Function, owner: object}[]} methods full names
 * @property {Function|undefined} init
 * @property {Function|undefined} dispose
 * @property {object|undefined} self `this` for init/dispose (the CommonJS / default export)
 */

/**
 * Pick an export: a named export wins; otherwise the property of the default export
 * (which is `module.exports` for CommonJS).
 */
function pickExport(namespaceObject, key) {
  if (namespaceObject[key] !== undefined) return { value: namespaceObject[key], self: undefined };
  const fallback = namespaceObject.default;
  if (fallback !== null && (typeof fallback === 'object' || typeof fallback === 'function') && fallback[key] !== undefined) {
    return { value: fallback[key], self: fallback };
  }
  return { value: undefined, self: undefined };
}

/**
 * Import one module and check its shape.
 * @param {string} file as given on the command line
 * @returns {Promise<HandlerModule>}
 */
async function loadHandlerModule(file) {
  const abs = path.resolve(file);
  let loaded;
  try {
    loaded = await import(pathToFileURL(abs).href);
  } catch (err) {
    throw new HandlerLoadError(loadFailure(abs, err));
  }
  const methods = pickExport(loaded, 'methods').value;
  const namespace = pickExport(loaded, 'namespace').value;
  const init = pickExport(loaded, 'init');
  const dispose = pickExport(loaded, 'dispose');

  if (methods === null || typeof methods !== 'object') {
    throw new HandlerLoadError(`handler module ${abs} exports no "methods" object (see docs/handlers.md)`);
  }
  if (namespace !== undefined && (typeof namespace !== 'string' || !/^[^\s.][^\s]*$/.test(namespace) || namespace.endsWith('.'))) {
    throw new HandlerLoadError(`handler module ${abs}: "namespace" must be a non-empty string without spaces, got ${JSON.stringify(namespace)}`);
  }
  for (const [key, exported] of [['init', init], ['dispose', dispose]]) {
    if (exported.value !== undefined && typeof exported.value !== 'function') {
      throw new HandlerLoadError(`handler module ${abs}: "${key}" must be a function`);
    }
  }
  const list = [];
  for (const name of Object.keys(methods)) {
    if (typeof methods[name] !== 'function') {
      throw new HandlerLoadError(`handler module ${abs}: methods.${name} is not a function`);
    }
    if (name === '') throw new HandlerLoadError(`handler module ${abs}: a method name is empty`);
    list.push({ name: namespace === undefined ? name : `${namespace}.${name}`, fn: methods[name], owner: methods });
  }
  return {
    path: abs,
    namespace,
    methods: list,
    init: init.value,
    dispose: dispose.value,
    self: init.self ?? dispose.self,
  };
}

/**
 * What to say about a module that failed to load. A syntax error: once, as compilers say it,
 * `<file>:<line>:<column>: SyntaxError: <message>`, the line and a caret (column in code
 * points; Node's ES-module SyntaxError has no location in its stack: syntax-location.js
 * finds it); anything else: the error's stack.
 */
function loadFailure(abs, err) {
  if (err instanceof SyntaxError || (err && err.name === 'SyntaxError')) {
    const at = require('./syntax-location').locateSyntaxError(abs);
    if (at !== null) {
      const caret = `${[...at.lineText].slice(0, at.column - 1).map((c) => (c === '\t' ? '\t' : ' ')).join('')}^`;
      return `handler module ${abs}:${at.line}:${at.column}: SyntaxError: ${err.message}\n    ${at.lineText}\n    ${caret}`;
    }
  }
  return `handler module ${abs} failed to load: ${err && err.stack ? err.stack : err}`;
}

/**
 * Load every module, in order, and check that no method name is reserved or taken twice.
 * @param {string[]} files
 * @returns {Promise<HandlerModule[]>}
 * @throws {HandlerLoadError}
 */
async function loadHandlerModules(files) {
  const modules = [];
  for (const file of files) modules.push(await loadHandlerModule(file));
  checkMethodNames(modules);
  return modules;
}

/**
 * @param {HandlerModule[]} modules
 * @throws {HandlerLoadError} naming both sources of a clash
 */
function checkMethodNames(modules) {
  const owners = new Map();
  for (const mod of modules) {
    for (const { name } of mod.methods) {
      const reserved = reservedBy(name);
      if (reserved !== null) {
        throw new HandlerLoadError(`method "${name}" of handler module ${mod.path} collides with a name reserved by ${reserved}`);
      }
      const other = owners.get(name);
      if (other !== undefined) {
        const where = other === mod.path ? 'the same module' : `handler module ${other}`;
        throw new HandlerLoadError(`method "${name}" of handler module ${mod.path} collides with method "${name}" of ${where}`);
      }
      owners.set(name, mod.path);
    }
  }
}

/**
 * The dispatcher's method table: built-ins first, then every module's methods.
 * @param {Record<string, Function>} builtins
 * @param {HandlerModule[]} modules (already checked)
 * @returns {Map<string, import('./dispatcher').MethodEntry>}
 */
function buildMethodTable(builtins, modules) {
  const table = new Map();
  const builtinLog = createLogger('rpc-host');
  for (const name of BUILTIN_NAMES) {
    table.set(name, { fn: builtins[name], owner: builtins, source: BUILTIN_SOURCE, log: builtinLog });
  }
  for (const mod of modules) {
    for (const { name, fn, owner } of mod.methods) {
      if (table.has(name)) throw new HandlerLoadError(`method "${name}" of handler module ${mod.path} is already defined`);
      table.set(name, { fn, owner, source: mod.path, log: createLogger(name) });
    }
  }
  return table;
}

/**
 * Run each module's init(host, options), one after the other, in command-line order.
 * @param {HandlerModule[]} modules
 * @param {{notify: Function, request: Function}} connection what modules may send to Python
 * @returns {Promise<void>}
 * @throws {HandlerLoadError} if an init() throws or rejects
 */
async function initModules(modules, connection) {
  for (const mod of modules) {
    if (mod.init === undefined) continue;
    const host = {
      protocol: PROTOCOL_VERSION,
      version: HOST_VERSION,
      log: createLogger(path.basename(mod.path)),
      methods: mod.methods.map((m) => m.name),
      notify: (method, params) => connection.notify(method, params),
      request: (method, params, signal) => connection.request(method, params, signal),
    };
    try {
      await mod.init.call(mod.self, host, { path: mod.path, namespace: mod.namespace });
    } catch (err) {
      throw new HandlerLoadError(`init() of handler module ${mod.path} failed: ${err && err.stack ? err.stack : err}`);
    }
  }
}

/**
 * Call every module's dispose(), last loaded first; failures are logged, never thrown.
 * @param {HandlerModule[]} modules
 * @param {object} log
 * @returns {Promise<void>}
 */
async function disposeModules(modules, log) {
  for (const mod of modules.slice().reverse()) {
    if (mod.dispose === undefined) continue;
    try {
      await mod.dispose.call(mod.self);
    } catch (err) {
      log.error(`dispose() of handler module ${mod.path} failed: ${err && err.stack ? err.stack : err}`);
    }
  }
}

module.exports = { loadHandlerModules, loadHandlerModule, buildMethodTable, initModules, disposeModules, HandlerLoadError };
