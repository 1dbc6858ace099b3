'use strict';
/*
 * Loading TypeScript inside a worker thread, shared by the two workers that use it
 * (typescript-worker.js: transpileModule; typecheck-worker.js: builder programs).
 *
 * The worker says in its first message whether the module it was given can serve it:
 *
 *   → {type: "init", ok: false, reason: "load", message}            require() threw
 *   → {type: "init", ok: false, reason: "no-transpile", version}    no such API (TypeScript 7+,
 *                                                                   the Go port)
 * (the "ok: true" message is the worker's own, once it is ready).
 */

const { parentPort, workerData } = require('node:worker_threads');

/**
 * The TypeScript module named by `workerData.modulePath` if it has the function `api`;
 * otherwise posts the init message that says why and returns null.
 * @param {string} api e.g. "transpileModule"
 */
function loadTypeScript(api) {
  let loaded;
  try {
    loaded = require(workerData.modulePath);
  } catch (err) {
    parentPort.postMessage({ type: 'init', ok: false, reason: 'load', message: String((err && err.message) || err) });
    return null;
  }
  if (loaded === null || typeof loaded !== 'object' || typeof loaded[api] !== 'function') {
    const version = loaded && typeof loaded.version === 'string' ? loaded.version : null;
    parentPort.postMessage({ type: 'init', ok: false, reason: 'no-transpile', version });
    return null;
  }
  return loaded;
}

module.exports = { loadTypeScript };
