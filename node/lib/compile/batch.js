'use strict';
/*
 * `compileFiles`: many files on disk in one call (docs/compile.md, "compileFiles"). The host
 * reads the sources and writes the outputs itself; the answer holds per-file diagnostics, not
 * the code. This is what `rpcbridge compile` uses: one round trip for a whole project instead
 * of one per file, and no source or output text crossing the pipe to Python.
 *
 * Plan: ONE `esbuild.build()` over the files (bundle off), which is what the esbuild CLI does
 * with the same files: esbuild reads them, compiles them in parallel in its Go service, finds
 * each file's nearest tsconfig.json itself (following "extends") and writes the outputs
 * (`write: true`), so the output equals the esbuild CLI's by construction and no text
 * crosses to this process. Each file is an entry point `{in: path, out}`, `out` being its
 * output path below the common directory of all outputs, without the extension; the files are
 * grouped by that extension (esbuild gives every output of a build the same one: `.js`, or
 * `outExtension`), one build per group, run at once. Files without `out` are only checked
 * (`write: false`).
 *
 * esbuild's build fails as a whole when one file has an error (no output at all). Then the
 * files named in the errors are set aside with their diagnostics and the rest is built again;
 * if an error names no file of the batch (a broken tsconfig.json, say), each remaining file is
 * built alone so that every failure lands on the files it concerns. Errors are rare, so the
 * common case stays one build.
 *
 *   params  {files: [{path, out?}], sourcemap?: boolean, jsx?, target?, format?, minify?,
 *            tsconfig?: true | "path/to/tsconfig.json"}
 *   result  {files: [{path, out, ok, diagnostics}], diagnostics: [not about one file],
 *            engine: "esbuild", engineVersion}
 */

const fs = require('node:fs');
const path = require('node:path');
const { invalidParam } = require('./errors');
const { fromEsbuild } = require('./diagnostics');

const KEYS = Object.freeze(['files', 'sourcemap', 'jsx', 'target', 'format', 'minify', 'tsconfig']);
const JSX_MODE = Object.freeze({ automatic: 'automatic', classic: 'transform', preserve: 'preserve' });
const FORMATS = Object.freeze(['esm', 'cjs', 'iife']);
/** Where esbuild "writes" (write is off: nothing is ever written there). */
const VIRTUAL_OUTDIR = path.join(path.sep, '__rpcbridge_out__');

const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);
const isPlainObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

function bad(field, message) {
  return invalidParam(field, `compileFiles: ${message}`);
}

/**
 * @typedef {object} BatchOptions
 * @property {{path: string, abs: string, out: string|null}[]} files
 * @property {object} esbuild the build options every file shares
 * @property {boolean} sourcemap
 */

/**
 * Check the params of `compileFiles`.
 * @returns {BatchOptions}
 * @throws {import('../rpc-error').RpcError} -32602 naming the field
 */
function parseBatchParams(params) {
  if (!isPlainObject(params)) throw bad(null, 'params must be an object such as {"files": [{"path": "src/a.ts", "out": "build/a.js"}]}');
  for (const key of Object.keys(params)) {
    if (!KEYS.includes(key)) throw bad(key, `unknown param "${key}" (known: ${KEYS.join(', ')})`);
  }
  if (!Array.isArray(params.files) || params.files.length === 0) throw bad('files', '"files" must be a non-empty array of {"path", "out"} objects');
  const outs = new Map();
  const sources = new Map();
  const files = params.files.map((entry, i) => {
    const item = typeof entry === 'string' ? { path: entry } : entry;
    if (!isPlainObject(item) || typeof item.path !== 'string' || item.path === '') {
      throw bad('files', `"files[${i}]" must be a path or an object {"path": string, "out"?: string}`);
    }
    for (const key of Object.keys(item)) {
      if (key !== 'path' && key !== 'out') throw bad('files', `unknown key "${key}" in "files[${i}]" (known: path, out)`);
    }
    if (hasOwn(item, 'out') && (typeof item.out !== 'string' || item.out === '')) throw bad('files', `"files[${i}].out" must be a non-empty string`);
    const out = hasOwn(item, 'out') ? path.resolve(item.out) : null;
    const abs = path.resolve(item.path);
    if (sources.has(abs)) throw bad('files', `"files[${i}]" and "files[${sources.get(abs)}]" are the same file: ${item.path}`);
    sources.set(abs, i);
    if (out !== null) {
      if (path.extname(out) === '') throw bad('files', `"files[${i}].out" needs an extension (".js", ".mjs"…): ${item.out}`);
      if (outs.has(out)) throw bad('files', `"files[${i}].out" and "files[${outs.get(out)}].out" are the same file: ${item.out}`);
      outs.set(out, i);
    }
    return { path: item.path, abs, out };
  });

  const options = { jsx: 'automatic' };
  if (hasOwn(params, 'jsx')) {
    const jsx = params.jsx;
    if (!isPlainObject(jsx)) throw bad('jsx', '"jsx" must be an object such as {"runtime": "automatic"}');
    for (const key of Object.keys(jsx)) {
      if (!['runtime', 'importSource', 'factory', 'fragment', 'development'].includes(key)) throw bad(`jsx.${key}`, `unknown param "jsx.${key}"`);
    }
    if (hasOwn(jsx, 'runtime')) {
      if (!hasOwn(JSX_MODE, jsx.runtime)) throw bad('jsx.runtime', '"jsx.runtime" must be "automatic", "classic" or "preserve"');
      options.jsx = JSX_MODE[jsx.runtime];
    }
    for (const [key, option] of [['importSource', 'jsxImportSource'], ['factory', 'jsxFactory'], ['fragment', 'jsxFragment']]) {
      if (!hasOwn(jsx, key)) continue;
      if (typeof jsx[key] !== 'string' || jsx[key] === '') throw bad(`jsx.${key}`, `"jsx.${key}" must be a non-empty string`);
      options[option] = jsx[key];
    }
    if (hasOwn(jsx, 'development')) {
      if (typeof jsx.development !== 'boolean') throw bad('jsx.development', '"jsx.development" must be true or false');
      options.jsxDev = jsx.development;
    }
  }
  if (hasOwn(params, 'target')) {
    if (typeof params.target !== 'string' || params.target === '') throw bad('target', '"target" must be a non-empty string such as "es2020"');
    options.target = params.target;
  }
  if (hasOwn(params, 'format')) {
    if (!FORMATS.includes(params.format)) throw bad('format', '"format" must be "esm", "cjs" or "iife"');
    options.format = params.format;
  }
  if (hasOwn(params, 'minify')) {
    if (typeof params.minify !== 'boolean') throw bad('minify', '"minify" must be true or false');
    options.minify = params.minify;
  }
  let sourcemap = false;
  if (hasOwn(params, 'sourcemap')) {
    if (typeof params.sourcemap !== 'boolean') throw bad('sourcemap', '"sourcemap" must be true or false (a .map file beside each output)');
    sourcemap = params.sourcemap;
  }
  if (sourcemap) options.sourcemap = 'linked';
  if (hasOwn(params, 'tsconfig')) {
    const tsconfig = params.tsconfig;
    if (tsconfig !== true && (typeof tsconfig !== 'string' || tsconfig === '')) {
      throw bad('tsconfig', '"tsconfig" must be true (each file\'s nearest tsconfig.json, the default) or the path of one tsconfig.json for all');
    }
    if (typeof tsconfig === 'string') {
      const file = path.resolve(tsconfig);
      if (!fs.existsSync(file)) throw bad('tsconfig', `"tsconfig": no such file: ${tsconfig}`);
      options.tsconfig = file;
    }
  }
  return { files, esbuild: options, sourcemap };
}

/**
 * Compile a batch.
 * @param {object} esbuild the loaded esbuild module
 * @param {*} params
 * @returns {Promise<object>} the result (see the header)
 */
async function compileFiles(esbuild, params) {
  const opts = parseBatchParams(params);
  const results = opts.files.map((file) => ({ path: file.path, out: file.out, ok: true, diagnostics: [] }));
  const unplaced = [];
  const byAbs = new Map(opts.files.map((file, i) => [file.abs, i]));
  const cwd = process.cwd();
  const place = (message) => {
    const file = message.location && message.location.file ? path.resolve(cwd, message.location.file) : null;
    return file !== null && byAbs.has(file) ? byAbs.get(file) : -1;
  };
  const note = (message, severity) => {
    const diagnostic = fromEsbuild(message, severity);
    const at = place(message);
    if (diagnostic.file !== null) diagnostic.file = at >= 0 ? opts.files[at].path : path.relative(cwd, path.resolve(cwd, diagnostic.file)) || diagnostic.file;
    if (at >= 0) results[at].diagnostics.push(diagnostic);
    return { diagnostic, at };
  };

  // One build per kind of output: the files written to disk, grouped by the extension of
  // their `out` (esbuild writes them itself, in parallel, from Go: `write: true`, an outdir and
  // each file's `out` below it), and the files only checked (`write: false`).
  const groups = new Map();
  opts.files.forEach((file, i) => {
    const key = file.out === null ? '' : path.extname(file.out); // never '' with an out (checked)
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(i);
  });
  await Promise.all([...groups].map(([extension, indices]) => buildGroup(extension, indices)));
  return { files: results, diagnostics: unplaced, engine: 'esbuild', engineVersion: esbuild.version };

  async function buildGroup(extension, indices) {
    const write = extension !== '';
    const outdir = write ? commonDirectory(indices.map((i) => path.dirname(opts.files[i].out))) : VIRTUAL_OUTDIR;
    const entry = (i) => {
      if (!write) return { in: opts.files[i].abs, out: `f${i}` };
      const out = opts.files[i].out;
      return { in: opts.files[i].abs, out: path.relative(outdir, out.slice(0, out.length - extension.length)) };
    };
    const options = { ...opts.esbuild, outdir, write, bundle: false, logLevel: 'silent', absWorkingDir: cwd };
    if (write && extension !== '.js') options.outExtension = { '.js': extension };
    let pending = indices;
    while (pending.length > 0) {
      const { failed, stuck } = await build(pending, options, entry);
      if (stuck) {
        await Promise.all(pending.map((i) => build([i], options, entry)));
        return;
      }
      if (failed.length === 0) return;
      const gone = new Set(failed);
      pending = pending.filter((i) => !gone.has(i));
    }
  }

  async function build(indices, options, entry) {
    try {
      const built = await esbuild.build({ ...options, entryPoints: indices.map(entry) });
      for (const warning of built.warnings) if (note(warning, 'warning').at < 0) unplaced.push(relocated(fromEsbuild(warning, 'warning'), cwd));
      return { failed: [], stuck: false };
    } catch (err) {
      if (!err || !Array.isArray(err.errors) || err.errors.length === 0) throw err;
      const failed = new Set();
      for (const error of err.errors) {
        const at = place(error);
        if (at >= 0) failed.add(at);
      }
      if (failed.size === 0) {
        if (indices.length > 1) return { failed: [], stuck: true };
        // Alone and still failing on something outside the file (its tsconfig.json, a
        // missing file): it is this file's failure.
        const i = indices[0];
        results[i].ok = false;
        for (const m of err.errors) results[i].diagnostics.push(relocated(fromEsbuild(m, 'error'), cwd));
        for (const m of err.warnings || []) results[i].diagnostics.push(relocated(fromEsbuild(m, 'warning'), cwd));
        return { failed: [i], stuck: false };
      }
      for (const error of err.errors) note(error, 'error');
      for (const warning of err.warnings || []) if (failed.has(place(warning))) note(warning, 'warning');
      for (const i of failed) results[i].ok = false;
      return { failed: [...failed], stuck: false };
    }
  }
}

/** The deepest directory that holds every one of `dirs` (absolute paths). */
function commonDirectory(dirs) {
  let common = dirs[0];
  for (const dir of dirs) {
    while (dir !== common && !dir.startsWith(common.endsWith(path.sep) ? common : common + path.sep)) common = path.dirname(common);
  }
  return common;
}

function relocated(diagnostic, cwd) {
  if (diagnostic.file !== null) diagnostic.file = path.relative(cwd, path.resolve(cwd, diagnostic.file)) || diagnostic.file;
  return diagnostic;
}

module.exports = { compileFiles, parseBatchParams, commonDirectory, VIRTUAL_OUTDIR };
