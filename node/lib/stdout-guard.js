'use strict';
/*
 * The stdout guard: after this module is loaded, stdout belongs to the framer alone.
 *
 * What it does, on require (it must be the first thing rpc-host.js loads):
 *   1. captures the real stdout writer and exports it as `writeStdout` (the frame writer is
 *      its only user);
 *   2. replaces EVERY function of the global `console` object that writes (log, info, debug,
 *      warn, error, trace, dir, dirxml, table, assert, count, countReset, group,
 *      groupCollapsed, groupEnd, time, timeEnd, timeLog, clear, … whatever this Node has) so
 *      that its text becomes one JSON record on stderr with `src: "console.<name>"`;
 *   3. replaces `process.stdout.write` (and `.end`) the same way, `src: "stdout.write"`.
 *
 * Goals: a stray print anywhere in a handler module or a library it uses can never corrupt a
 * frame (the most common failure of stdio JSON-RPC peers: research/node-peers.md §5), and it
 * still reaches the developer, at a sensible level.
 *
 * Plan: rather than re-implementing each console method (formatting, group indentation,
 * counters, timers, tables), we build a private `Console` whose stdout and stderr are a tiny
 * sink object, and wrap each method of the global console so that it notes its own name and
 * level and then calls the private console's method of the same name. Whatever that method
 * writes arrives at the sink, which turns it into a record with the noted name and level.
 * The methods are replaced in place on the existing console object, so code holding a
 * reference to it (or `require('console')`) is covered too.
 *
 * Levels: console.debug → debug; warn → warn; error, trace and a failed assert → error;
 * everything else (log, info, dir, table, count, time…) → info.
 *
 * Not covered (documented in docs/handlers.md): fs.writeSync(1, …), child processes spawned
 * with stdio 'inherit', native code writing to fd 1. The framer's reader on the Python side
 * recovers from such stray bytes, but they cost a warning.
 *
 * Loaded before the Node version check, so it uses only syntax old Node versions can parse.
 */

const consoleModule = require('console');
const writeRecord = require('./log').writeRecord;

const stdout = process.stdout;
const realWrite = stdout.write;

/**
 * Write bytes to the real stdout. The frame writer is the only caller.
 * @param {Buffer} buf
 * @param {(err?: Error|null) => void} [callback]
 * @returns {boolean} false when the stream wants the caller to wait for 'drain'
 */
function writeStdout(buf, callback) {
  return realWrite.call(stdout, buf, callback);
}

const LEVEL_OF = {
  debug: 'debug',
  warn: 'warn',
  error: 'error',
  trace: 'error',
  assert: 'error',
};

let currentLevel = 'info';
let currentSrc = 'console';

function stripFinalNewline(text) {
  return text.charCodeAt(text.length - 1) === 10 ? text.slice(0, -1) : text;
}

function textOf(chunk, encoding) {
  if (typeof chunk === 'string') return chunk;
  if (chunk instanceof Uint8Array) {
    const enc = typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8';
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString(enc);
  }
  return String(chunk);
}

// console.trace's stack would start with our wrapper: drop frames that point into this file.
function withoutGuardFrames(text) {
  return text
    .split('\n')
    .filter(function (line) {
      return line.indexOf(__filename) < 0;
    })
    .join('\n');
}

// The private console writes here; each write is one call of one console method.
const sink = {
  write: function (chunk) {
    let text = stripFinalNewline(textOf(chunk));
    if (currentSrc === 'console.trace') text = withoutGuardFrames(text);
    if (text.length > 0) writeRecord(currentLevel, currentSrc, text);
    return true;
  },
  // Console may probe these; the sink never errors and is never a TTY.
  on: function () { return sink; },
  once: function () { return sink; },
  removeListener: function () { return sink; },
  listenerCount: function () { return 0; },
  isTTY: false,
};

function makePrivateConsole() {
  try {
    return new consoleModule.Console({ stdout: sink, stderr: sink, ignoreErrors: false, colorMode: false });
  } catch (err) {
    return new consoleModule.Console(sink, sink); // very old Node: positional form
  }
}

function wrapConsoleMethod(privateConsole, name) {
  const method = privateConsole[name];
  const level = LEVEL_OF[name] || 'info';
  const src = 'console.' + name;
  return function () {
    const outerLevel = currentLevel;
    const outerSrc = currentSrc;
    currentLevel = level;
    currentSrc = src;
    try {
      return method.apply(privateConsole, arguments);
    } finally {
      currentLevel = outerLevel;
      currentSrc = outerSrc;
    }
  };
}

function guardConsole(target) {
  const privateConsole = makePrivateConsole();
  const names = Object.getOwnPropertyNames(target);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (name === 'Console' || typeof target[name] !== 'function') continue;
    // Methods the private console lacks (profile, timeStamp, context…) belong to the
    // inspector and never write to stdout: leave them alone.
    if (typeof privateConsole[name] !== 'function') continue;
    try {
      target[name] = wrapConsoleMethod(privateConsole, name);
    } catch (err) {
      // a non-writable property: nothing we can do, and nothing that prints.
    }
  }
}

function guardProcessStdout() {
  stdout.write = function write(chunk, encoding, callback) {
    if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    const text = stripFinalNewline(textOf(chunk, encoding));
    if (text.length > 0) writeRecord('info', 'stdout.write', text);
    if (typeof callback === 'function') process.nextTick(callback, null);
    return true;
  };
  // Ending stdout would end the protocol channel: treat it as a last write.
  stdout.end = function end(chunk, encoding, callback) {
    if (typeof chunk === 'function') {
      callback = chunk;
      chunk = undefined;
    } else if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    if (chunk !== undefined && chunk !== null) stdout.write(chunk, encoding);
    if (typeof callback === 'function') process.nextTick(callback);
    return stdout;
  };
}

guardConsole(console);
if (global.console !== console) guardConsole(global.console);
if (consoleModule !== console && typeof consoleModule.log === 'function') guardConsole(consoleModule);
guardProcessStdout();

module.exports = {
  writeStdout: writeStdout,
  stdout: stdout,
};
