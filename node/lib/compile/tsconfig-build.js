'use strict';
/*
 * `compile` with a tsconfig.json from disk (the `tsconfig` param): one source under the
 * settings of a tsconfig.json file, with esbuild's own semantics.
 *
 * esbuild's transform() cannot read files, so it cannot follow "extends"; its build() can.
 * So this is `esbuild.build()` with the source as `stdin` (named by `filename`, in its
 * directory), `tsconfig` set to the file and write off: esbuild reads the file and its
 * "extends" chain as its CLI would, and applies what a single file honours ("use strict" from
 * strict/alwaysStrict, jsx, jsxFactory, jsxImportSource, experimentalDecorators,
 * useDefineForClassFields, target for class fields...). As with esbuild's CLI, the file's jsx
 * settings win over the `jsx` params; `target` (the language level), `format`, `minify` and
 * `sourcemap` are the params'.
 *
 * The result has the shape of the esbuild engine's (esbuild-engine.js): code, map (the v3 map
 * with `sources: [filename]`), diagnostics (a message about the tsconfig.json names that file).
 */

const path = require('node:path');
const { fromEsbuild } = require('./diagnostics');
const { invalidParam } = require('./errors');
const { esbuildOptions } = require('./esbuild-engine');

const VIRTUAL_OUTFILE = path.join(path.sep, '__rpcbridge_out__', 'out.js');

/**
 * @param {object} esbuild the loaded module
 * @param {import('./params').CompileOptions} opts with `tsconfigFile` set (a path or null)
 * @returns {Promise<{code: string|null, map: string|null, diagnostics: object[], engineVersion: string}>}
 */
async function compileWithTsconfigFile(esbuild, opts) {
  const { loader, sourcefile, tsconfigRaw, ...shared } = esbuildOptions({ ...opts, tsconfigRaw: undefined, target: opts.target });
  const abs = path.resolve(opts.filename);
  const cwd = process.cwd();
  const options = {
    ...shared,
    stdin: { contents: opts.source, sourcefile: path.basename(abs), resolveDir: path.dirname(abs), loader },
    outfile: VIRTUAL_OUTFILE,
    write: false,
    bundle: false,
    absWorkingDir: cwd,
  };
  if (opts.tsconfigFile !== null) options.tsconfig = opts.tsconfigFile;
  const named = (message, severity) => {
    const diagnostic = fromEsbuild(message, severity);
    if (diagnostic.file !== null && path.resolve(cwd, diagnostic.file) === abs) diagnostic.file = opts.filename;
    return diagnostic;
  };
  let built;
  try {
    built = await esbuild.build(options);
  } catch (err) {
    if (!err || !Array.isArray(err.errors) || err.errors.length === 0) throw err;
    const unplaced = err.errors.find((m) => !m.location);
    if (unplaced !== undefined) throw invalidParam(opts.tsconfigFile ? 'tsconfig' : null, `compile: the esbuild engine rejected the compile options: ${unplaced.text}`);
    return {
      code: null,
      map: null,
      diagnostics: err.errors.map((m) => named(m, 'error')).concat((err.warnings || []).map((m) => named(m, 'warning'))),
      engineVersion: esbuild.version,
    };
  }
  let code = '';
  let map = null;
  for (const file of built.outputFiles) {
    if (file.path.endsWith('.map')) map = file.text;
    else code = file.text;
  }
  if (map !== null) {
    const parsed = JSON.parse(map);
    parsed.sources = [opts.filename];
    map = JSON.stringify(parsed);
  }
  return { code, map: opts.sourcemap === true ? map : null, diagnostics: built.warnings.map((m) => named(m, 'warning')), engineVersion: esbuild.version };
}

module.exports = { compileWithTsconfigFile };
