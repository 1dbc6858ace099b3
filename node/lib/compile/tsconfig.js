'use strict';
/*
 * `tsconfigRaw`: the contents of a tsconfig.json, given as an object or as its text.
 *
 * The text is read as tsconfig.json files are written: JSON with // and /* *\/ comments and
 * trailing commas. Both engines get the same parsed object (esbuild and the TypeScript worker
 * never see the text), so a bad one is the same -32602 whatever the engine; "extends" is not
 * followed (neither engine can read files here).
 *
 * The params win over it: each engine removes or overrides the settings the params decide
 * (esbuild-engine.js, typescript-engine.js).
 *
 * A tsconfig.json on disk (the `tsconfig` param of `compile`; `compileFiles` always) is NOT
 * parsed here: esbuild reads it itself, following "extends" with its own rules (the same as
 * its CLI), so only finding the nearest one lives here.
 */

const fs = require('node:fs');
const path = require('node:path');
const { invalidParam } = require('./errors');

const isPlainObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * JSON text from JSONC: comments become spaces (line breaks kept, so positions stay), and a
 * comma followed only by blanks before `}` or `]` becomes a space.
 * @param {string} text
 * @returns {string}
 */
function jsoncToJson(text) {
  const out = text.split('');
  let i = 0;
  let lastComma = -1; // position of a comma outside strings not yet followed by a value
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      lastComma = -1;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      i++;
    } else if (c === '/' && text[i + 1] === '/') {
      for (; i < text.length && text[i] !== '\n' && text[i] !== '\r'; i++) out[i] = ' ';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      for (; i < stop; i++) if (text[i] !== '\n' && text[i] !== '\r') out[i] = ' ';
    } else {
      if (c === ',') lastComma = i;
      else if ((c === '}' || c === ']') && lastComma >= 0) out[lastComma] = ' ';
      if (!/\s/.test(c) && c !== ',') lastComma = -1;
      i++;
    }
  }
  return out.join('');
}

/** "line L, column C" of a 0-based offset. */
function where(text, offset) {
  const before = text.slice(0, offset).split(/\r\n|\r|\n/);
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/**
 * The tsconfig object of a tsconfigRaw param, checked.
 * @param {object|string} raw
 * @returns {object} a plain object whose compilerOptions, if any, is a plain object
 * @throws {import('../rpc-error').RpcError} -32602 with data {field: "tsconfigRaw"}
 */
function parseTsconfigRaw(raw) {
  let config = raw;
  if (typeof raw === 'string') {
    const json = jsoncToJson(raw);
    if (json.trim() === '') {
      config = {};
    } else {
      try {
        config = JSON.parse(json);
      } catch (err) {
        const at = /position (\d+)/.exec(err.message);
        const place = at === null ? '' : ` (${where(raw, Number(at[1]))} of its text)`;
        throw invalidParam('tsconfigRaw', `compile: "tsconfigRaw" is not valid tsconfig.json text: ${err.message}${place}`);
      }
    }
  }
  if (!isPlainObject(config)) {
    throw invalidParam('tsconfigRaw', 'compile: "tsconfigRaw" must be a JSON object (the contents of a tsconfig.json), or its text');
  }
  if (config.compilerOptions !== undefined && !isPlainObject(config.compilerOptions)) {
    throw invalidParam('tsconfigRaw', 'compile: "tsconfigRaw": its "compilerOptions" must be an object');
  }
  return config;
}

/** The names a directory's config file may have, in the order esbuild looks for them. */
const CONFIG_NAMES = Object.freeze(['tsconfig.json', 'jsconfig.json']);

/**
 * The nearest tsconfig.json (or jsconfig.json) of a file, as esbuild and tsc find it: in the
 * file's directory, then each parent's.
 * @param {string} file a path (relative to the working directory, or absolute)
 * @returns {string|null} its absolute path, or null when there is none
 */
function findTsconfig(file) {
  let dir = path.dirname(path.resolve(file));
  for (;;) {
    for (const name of CONFIG_NAMES) {
      const candidate = path.join(dir, name);
      if (isFile(candidate)) return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function isFile(file) {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * The `tsconfig` param of `compile`: true → the nearest one of `filename` (null if none),
 * a string → that file, which must exist.
 * @returns {string|null} an absolute path, or null
 * @throws {import('../rpc-error').RpcError} -32602 with data {field: "tsconfig"}
 */
function tsconfigFileParam(value, filename) {
  if (value === true) return findTsconfig(filename);
  if (typeof value !== 'string' || value === '') {
    throw invalidParam('tsconfig', 'compile: "tsconfig" must be true (the nearest tsconfig.json of "filename") or the path of a tsconfig.json');
  }
  const file = path.resolve(value);
  if (!isFile(file)) throw invalidParam('tsconfig', `compile: "tsconfig": no such file: ${value}`);
  return file;
}

module.exports = { parseTsconfigRaw, jsoncToJson, findTsconfig, tsconfigFileParam, CONFIG_NAMES };
