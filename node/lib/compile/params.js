'use strict';
/*
 * The params of `compile`: checked, defaults applied, in one normalised object the engines
 * read (docs/compile.md, "Params").
 *
 * Every problem is -32602 with a message naming the param (`compile: "sourcemap" must be
 * false, true or "inline"`) and `data: {field}`; a key inside `jsx` is named with a dot
 * ("jsx.runtime"). The first problem found is reported: unknown keys first, then the params
 * in the order of the table below, then the combinations an engine cannot do.
 *
 *   source       string, required
 *   filename     non-empty string, default "input.tsx"; its extension picks the loader
 *   loader       "ts" | "tsx" | "js" | "jsx"; wins over the extension
 *   jsx          {runtime: "automatic" (default) | "classic" | "preserve", importSource,
 *                 factory, fragment (non-empty strings), development (boolean)}
 *   target       non-empty string, default "esnext" (the engine checks the value)
 *   format       "esm" | "cjs" | "iife"; absent: module syntax is kept as written
 *   sourcemap    false (default) | true | "inline"
 *   minify       boolean, default false (not with the typescript engine)
 *   tsconfigRaw  object, or string (tsconfig.json text, comments and trailing commas allowed):
 *                parsed here (tsconfig.js), so the engines get an object
 *   tsconfig     true (the nearest tsconfig.json of `filename`, found on disk) | a path to a
 *                tsconfig.json; the engine reads it and follows "extends" (esbuild: its CLI's
 *                rules; typescript: tsc's). Not with tsconfigRaw
 *   engine       "esbuild" (default) | "typescript"
 *
 * null is not "absent": an optional param is either left out or of its type.
 */

const path = require('node:path');
const { invalidParam } = require('./errors');
const { parseTsconfigRaw, tsconfigFileParam } = require('./tsconfig');

const DEFAULT_FILENAME = 'input.tsx';
const DEFAULT_TARGET = 'esnext';

const KEYS = Object.freeze(['source', 'filename', 'loader', 'jsx', 'target', 'format', 'sourcemap', 'minify', 'tsconfigRaw', 'tsconfig', 'engine']);
const JSX_KEYS = Object.freeze(['runtime', 'importSource', 'factory', 'fragment', 'development']);

const LOADERS = Object.freeze(['ts', 'tsx', 'js', 'jsx']);
/** File extension (lower case) → loader. */
const LOADER_OF_EXTENSION = Object.freeze({
  '.ts': 'ts',
  '.mts': 'ts',
  '.cts': 'ts',
  '.tsx': 'tsx',
  '.js': 'js',
  '.mjs': 'js',
  '.cjs': 'js',
  '.jsx': 'jsx',
});
const JSX_RUNTIMES = Object.freeze(['automatic', 'classic', 'preserve']);
const FORMATS = Object.freeze(['esm', 'cjs', 'iife']);
const ENGINES = Object.freeze(['esbuild', 'typescript']);

const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);
const isPlainObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
const quoted = (values) => values.map((v) => JSON.stringify(v)).join(', ').replace(/, ([^,]*)$/, ' or $1');

/**
 * The loader for a file name, from its extension; undefined for an unknown one.
 * @param {string} filename
 * @returns {string|undefined}
 */
function loaderOfFilename(filename) {
  const extension = path.extname(filename).toLowerCase();
  return hasOwn(LOADER_OF_EXTENSION, extension) ? LOADER_OF_EXTENSION[extension] : undefined;
}

function oneOf(value, allowed, field) {
  if (!allowed.includes(value)) throw invalidParam(field, `compile: "${field}" must be ${quoted(allowed)}`);
  return value;
}

function nonEmptyString(value, field, example = '') {
  if (typeof value !== 'string' || value === '') throw invalidParam(field, `compile: "${field}" must be a non-empty string${example}`);
  return value;
}

function boolean(value, field) {
  if (typeof value !== 'boolean') throw invalidParam(field, `compile: "${field}" must be true or false`);
  return value;
}

/**
 * @typedef {object} CompileOptions
 * @property {string} source
 * @property {string} filename
 * @property {'ts'|'tsx'|'js'|'jsx'} loader
 * @property {{runtime: 'automatic'|'classic'|'preserve', importSource?: string, factory?: string,
 *   fragment?: string, development?: boolean}} jsx
 * @property {string} target
 * @property {'esm'|'cjs'|'iife'|undefined} format
 * @property {false|true|'inline'} sourcemap
 * @property {boolean} minify
 * @property {object|undefined} tsconfigRaw parsed: a plain object, its compilerOptions (if any) too
 * @property {string|null} [tsconfigFile] the tsconfig.json to read from disk (absolute); null:
 *   `tsconfig: true` found none; absent without a `tsconfig` param
 * @property {'esbuild'|'typescript'} engine
 */

/**
 * Check the params of a `compile` call and apply the defaults.
 * @param {*} params as received (an object, an array or undefined)
 * @returns {CompileOptions}
 * @throws {import('../rpc-error').RpcError} -32602 with data {field}
 */
function parseCompileParams(params) {
  if (!isPlainObject(params)) {
    throw invalidParam(null, 'compile: params must be an object such as {"source": "..."}');
  }
  for (const key of Object.keys(params)) {
    if (!KEYS.includes(key)) throw invalidParam(key, `compile: unknown param "${key}" (known: ${KEYS.join(', ')})`);
  }

  if (!hasOwn(params, 'source')) throw invalidParam('source', 'compile: "source" is required (the text to compile)');
  if (typeof params.source !== 'string') throw invalidParam('source', 'compile: "source" must be a string');
  const source = params.source;

  const filename = hasOwn(params, 'filename') ? nonEmptyString(params.filename, 'filename') : DEFAULT_FILENAME;
  const explicitLoader = hasOwn(params, 'loader') ? oneOf(params.loader, LOADERS, 'loader') : undefined;

  let jsx = { runtime: 'automatic' };
  if (hasOwn(params, 'jsx')) {
    const given = params.jsx;
    if (!isPlainObject(given)) throw invalidParam('jsx', 'compile: "jsx" must be an object such as {"runtime": "automatic"}');
    for (const key of Object.keys(given)) {
      if (!JSX_KEYS.includes(key)) throw invalidParam(`jsx.${key}`, `compile: unknown param "jsx.${key}" (known: ${JSX_KEYS.join(', ')})`);
    }
    jsx = { runtime: hasOwn(given, 'runtime') ? oneOf(given.runtime, JSX_RUNTIMES, 'jsx.runtime') : 'automatic' };
    for (const key of ['importSource', 'factory', 'fragment']) {
      if (hasOwn(given, key)) jsx[key] = nonEmptyString(given[key], `jsx.${key}`);
    }
    if (hasOwn(given, 'development')) jsx.development = boolean(given.development, 'jsx.development');
  }

  const target = hasOwn(params, 'target') ? nonEmptyString(params.target, 'target', ' such as "es2020" or "esnext"') : DEFAULT_TARGET;
  const format = hasOwn(params, 'format') ? oneOf(params.format, FORMATS, 'format') : undefined;

  let sourcemap = false;
  if (hasOwn(params, 'sourcemap')) {
    sourcemap = params.sourcemap;
    if (sourcemap !== false && sourcemap !== true && sourcemap !== 'inline') {
      throw invalidParam('sourcemap', 'compile: "sourcemap" must be false, true or "inline"');
    }
  }

  const minify = hasOwn(params, 'minify') ? boolean(params.minify, 'minify') : false;

  let tsconfigRaw;
  if (hasOwn(params, 'tsconfigRaw')) {
    tsconfigRaw = params.tsconfigRaw;
    if (typeof tsconfigRaw !== 'string' && !isPlainObject(tsconfigRaw)) {
      throw invalidParam('tsconfigRaw', 'compile: "tsconfigRaw" must be an object (the contents of a tsconfig.json) or a string (its text)');
    }
    tsconfigRaw = parseTsconfigRaw(tsconfigRaw);
  }

  const engine = hasOwn(params, 'engine') ? oneOf(params.engine, ENGINES, 'engine') : 'esbuild';

  let tsconfigFile;
  if (hasOwn(params, 'tsconfig')) {
    if (tsconfigRaw !== undefined) throw invalidParam('tsconfig', 'compile: "tsconfig" and "tsconfigRaw" cannot be given together');
    tsconfigFile = tsconfigFileParam(params.tsconfig, filename);
  }

  const loader = explicitLoader ?? loaderOfFilename(filename);
  if (loader === undefined) {
    throw invalidParam(
      'filename',
      `compile: cannot choose a loader for "filename" ${JSON.stringify(filename)}: its extension is not one of ` +
        `${Object.keys(LOADER_OF_EXTENSION).join(' ')}; rename it or pass "loader" ("ts", "tsx", "js" or "jsx")`,
    );
  }

  if (engine === 'typescript') {
    if (minify) {
      throw invalidParam('minify', 'compile: "minify" is not supported by the typescript engine (transpileModule does not minify); use the esbuild engine');
    }
    if (format === 'iife') {
      throw invalidParam('format', 'compile: "format" "iife" is not supported by the typescript engine; use "esm" or "cjs", or the esbuild engine');
    }
  }

  const opts = { source, filename, loader, jsx, target, format, sourcemap, minify, tsconfigRaw, engine };
  if (tsconfigFile !== undefined) opts.tsconfigFile = tsconfigFile;
  return opts;
}

module.exports = { parseCompileParams, loaderOfFilename, LOADER_OF_EXTENSION, KEYS, JSX_KEYS, DEFAULT_FILENAME, DEFAULT_TARGET };
