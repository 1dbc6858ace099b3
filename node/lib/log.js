'use strict';
/*
 * The host's structured stderr logger.
 *
 * What it does: every log line the host writes is ONE line of JSON on stderr,
 *
 *   {"time":"2026-11-27T20:15:00.123Z","level":"info","msg":"...","src":"rpc-host"}
 *
 * with `level` one of debug | info | warn | error (docs/protocol.md §4). Python reads the
 * lines and forwards them to the `rpcbridge.host` logger at that level. Newlines inside a
 * message stay escaped by JSON, so a stack trace is still one record.
 *
 * Goals: stdout never sees a byte from here; the writer is captured at load time, so later
 * monkey-patching of process.stderr.write cannot loop back into us; a closed stderr never
 * crashes the host (a logger must not be a reason to die).
 *
 * Plan: `createLogger(src)` returns an object with debug/info/warn/error methods formatting
 * their arguments with util.format (so "%s", objects and Errors print as console.log would);
 * `writeRecord(level, src, msg)` is the single place a record is built and written, used by
 * the stdout guard for console.* and process.stdout.write too. `flushStderr()` resolves once
 * everything written so far has left the process, for an orderly exit.
 *
 * This file is loaded before the Node version check (via the stdout guard), so it sticks to
 * syntax that old Node versions can parse (no ?., ??, class fields).
 */

const util = require('util');

const stderr = process.stderr;
const stderrWrite = stderr.write;
// A reader that went away must not turn into an unhandled 'error' event (which would kill us).
stderr.on('error', function ignoreStderrError() {});

const LEVELS = ['debug', 'info', 'warn', 'error'];

/**
 * Write one record to stderr.
 * @param {'debug'|'info'|'warn'|'error'} level
 * @param {string} src where the record comes from ("rpc-host", "console.log", a method name…)
 * @param {string} msg the text; newlines are kept (escaped by JSON)
 */
function writeRecord(level, src, msg) {
  const line = JSON.stringify({ time: new Date().toISOString(), level: level, msg: msg, src: src });
  try {
    stderrWrite.call(stderr, line + '\n');
  } catch (err) {
    // stderr destroyed or closed: nothing sensible left to do with a log line.
  }
}

/**
 * A logger whose records carry `src`.
 * @param {string} src
 * @returns {{debug: Function, info: Function, warn: Function, error: Function, src: string, child: Function}}
 */
function createLogger(src) {
  const logger = { src: src };
  LEVELS.forEach(function (level) {
    logger[level] = function () {
      writeRecord(level, src, util.format.apply(null, arguments));
    };
  });
  logger.child = function (childSrc) {
    return createLogger(childSrc);
  };
  return logger;
}

/**
 * Resolve once stderr has handed every queued byte to the OS (or after `timeoutMs`).
 * Pipes are asynchronous in Node: process.exit() right after a write can lose it.
 * @param {number} [timeoutMs=2000]
 * @returns {Promise<void>}
 */
function flushStderr(timeoutMs) {
  const limit = Date.now() + (timeoutMs === undefined ? 2000 : timeoutMs);
  return new Promise(function (resolve) {
    (function poll() {
      if (!stderr.writableLength || stderr.destroyed || Date.now() >= limit) resolve();
      else setTimeout(poll, 2);
    })();
  });
}

/**
 * Turn Node's own process warnings (normally printed as plain "(node:PID) Warning: …" lines)
 * into records, so every stderr line of a healthy host is JSON.
 */
function captureProcessWarnings() {
  process.removeAllListeners('warning');
  process.on('warning', function (warning) {
    const name = warning && warning.name ? warning.name : 'Warning';
    const text = warning && warning.message !== undefined ? warning.message : String(warning);
    writeRecord('warn', 'process.warning', name + ': ' + text);
  });
}

module.exports = {
  LEVELS: LEVELS,
  writeRecord: writeRecord,
  createLogger: createLogger,
  flushStderr: flushStderr,
  captureProcessWarnings: captureProcessWarnings,
  log: createLogger('rpc-host'),
};
