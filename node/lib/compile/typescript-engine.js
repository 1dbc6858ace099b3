'use strict';
/*
 * The TypeScript engine (`engine: "typescript"`): `ts.transpileModule` in a worker thread,
 * for callers who need tsc's exact emit or TypeScript's error codes (TS1005, TS17002 …).
 *
 * The package is an optionalDependency pinned `~5.9.3`: `typescript@latest` is 7.x, the Go
 * port, whose `require("typescript")` has no `transpileModule`. Nothing is loaded before the
 * first TypeScript compile; then the module named by RPCBRIDGE_TYPESCRIPT_MODULE (default
 * "typescript") is resolved here and loaded in the worker (typescript-thread.js). Missing, or
 * without transpileModule → 1002 ENGINE_UNAVAILABLE with the command that installs the pin.
 * A failure is not remembered: installing the package makes the next compile work.
 *
 * Options mapping (compilerOptions, as tsconfig.json strings; precedence
 * {newLine: "lf"} < tsconfigRaw.compilerOptions (or a tsconfig.json on disk: the `tsconfig`
 * param, parsed in the worker by TypeScript, "extends" and all, whose jsx settings win as in
 * esbuild's CLI) < the params):
 *   target                  params.target (default "esnext")
 *   module                  format "esm" → "esnext", "cjs" → "commonjs", absent → "preserve"
 *                           (import/export and `import x = require()` kept as written)
 *   jsx                     automatic → "react-jsx" ("react-jsxdev" with development),
 *                           classic → "react", preserve → "preserve"
 *   jsxImportSource, jsxFactory, jsxFragmentFactory   jsx.importSource, .factory, .fragment
 *   sourceMap, inlineSources   true when sourcemap is true or "inline"; inlineSourceMap false
 *                           ("inline" is built here from the external map, like esbuild's)
 * transpileModule emits code even when the source has syntax errors: any diagnostic of
 * category Error makes the compile fail (1001, in index.js). A diagnostic without a file is
 * about the options (a bad target, a bad tsconfigRaw value): -32602.
 *
 * The explicit loader must win over the file name's extension, but transpileModule takes the
 * kind of file (and, for .mts/.cts, the module format) from its name only: unless the name ends
 * in `.<loader>`, TypeScript is given `<filename>.<loader>`, and the diagnostics and the map are
 * renamed back to `filename`. (The one visible trace: the file name in `jsx.development` output.)
 */

const path = require('node:path');
const { RpcError, ErrorCodes } = require('../rpc-error');
const { optionRejected, engineUnavailable } = require('./errors');
const { LineIndex, fromTypeScript } = require('./diagnostics');
const { appendInlineMap, stripMapComment, normaliseTypeScriptMap } = require('./source-maps');
const { typescriptInstallCommand, TYPESCRIPT_RANGE } = require('./packages');
const { OnDemandTypeScriptThread } = require('./typescript-thread');

const BASE_OPTIONS = Object.freeze({ newLine: 'lf' });
const JSX_OPTION = Object.freeze({ automatic: 'react-jsx', classic: 'react', preserve: 'preserve' });
const MODULE_OPTION = Object.freeze({ esm: 'esnext', cjs: 'commonjs' });

class TypeScriptEngine {
  constructor({ log }) {
    this.log = log;
    this._thread = new OnDemandTypeScriptThread({
      log,
      unavailable,
      onStarted: (version, ms) => log.debug(`compile: typescript ${version} loaded in a worker in ${ms.toFixed(0)} ms`),
    });
  }

  /**
   * The worker, started on first use.
   * @returns {Promise<TypeScriptThread>}
   * @throws {RpcError} 1002 when TypeScript is missing or cannot transpile
   */
  thread() {
    return this._thread.get();
  }

  /**
   * @param {import('./params').CompileOptions} opts
   * @param {AbortSignal} [signal] aborts the job while it waits for the worker
   * @returns {Promise<{code: string, map: string|null, diagnostics: object[], engineVersion: string}>}
   */
  async compile(opts, signal) {
    const thread = await this.thread();
    const compiledAs = typescriptFileName(opts.filename, opts.loader);
    const job = { source: opts.source, fileName: compiledAs, compilerOptions: compilerOptions(opts) };
    if (opts.tsconfigFile) job.tsconfigFile = opts.tsconfigFile; // read in the worker, with tsc's rules
    const reply = await thread.run(job, signal);
    if (reply.type === 'crash') {
      throw new RpcError(ErrorCodes.InternalError, `compile: typescript failed: ${reply.message}`, {
        name: reply.name,
        message: reply.message,
        stack: reply.stack,
      });
    }
    const optionError = reply.diagnostics.find((d) => d.category === 1 && (d.file === null || d.start === null));
    if (optionError !== undefined) throw optionsRejected(optionError, opts);

    let diagnostics = [];
    if (reply.diagnostics.length > 0) {
      const index = new LineIndex(opts.source);
      diagnostics = reply.diagnostics.map((d) => fromTypeScript(d, index, { compiledAs, filename: opts.filename }));
    }
    let code = reply.outputText;
    let map = null;
    if (opts.sourcemap !== false && reply.sourceMapText !== null) {
      code = stripMapComment(code);
      const mapText = normaliseTypeScriptMap(reply.sourceMapText, opts.filename);
      if (opts.sourcemap === 'inline') code = appendInlineMap(code, mapText);
      else map = mapText;
    }
    return { code, map, diagnostics, engineVersion: thread.version };
  }

  /** Stop the worker, if there is one. */
  async dispose() {
    await this._thread.dispose();
  }
}

/** compilerOptions: {newLine: "lf"} < tsconfigRaw.compilerOptions < what the params decide. */
function compilerOptions(opts) {
  const { jsx } = opts;
  const fromTsconfig = opts.tsconfigRaw === undefined ? undefined : opts.tsconfigRaw.compilerOptions;
  const options = {
    ...BASE_OPTIONS,
    ...fromTsconfig,
    target: opts.target,
    module: opts.format === undefined ? 'preserve' : MODULE_OPTION[opts.format],
    jsx: jsx.runtime === 'automatic' && jsx.development === true ? 'react-jsxdev' : JSX_OPTION[jsx.runtime],
    sourceMap: opts.sourcemap !== false,
    inlineSourceMap: false,
    inlineSources: opts.sourcemap !== false,
  };
  if (jsx.importSource !== undefined) options.jsxImportSource = jsx.importSource;
  if (jsx.factory !== undefined) options.jsxFactory = jsx.factory;
  if (jsx.fragment !== undefined) options.jsxFragmentFactory = jsx.fragment;
  // TypeScript refuses a setting of the other runtime (TS5089: "Option 'jsxFactory' cannot be
  // specified when option 'jsx' is 'react-jsx'"); esbuild ignores it, and so does compile.
  if (jsx.runtime === 'automatic') {
    delete options.jsxFactory;
    delete options.jsxFragmentFactory;
  } else if (jsx.runtime === 'classic') {
    delete options.jsxImportSource;
  }
  return options;
}

/**
 * The name TypeScript is given: the file name if it ends in `.<loader>`, else with `.<loader>`
 * added — also for .mts/.cts/.mjs/.cjs, whose extension would otherwise fix the module format
 * (TypeScript emits a .mts as ESM even under module "commonjs"), where `format` must decide.
 */
function typescriptFileName(filename, loader) {
  return path.extname(filename).toLowerCase() === `.${loader}` ? filename : `${filename}.${loader}`;
}

/** A TypeScript diagnostic about the compiler options → -32602 naming the param behind it. */
function optionsRejected(diagnostic, opts) {
  return optionRejected('typescript', `TS${diagnostic.code}: ${diagnostic.message}`, opts);
}

/** The 1002 error for a worker that could not start. */
function unavailable(failure, specifier, modulePath) {
  const install = typescriptInstallCommand();
  if (failure instanceof Error) {
    return engineUnavailable('typescript', `starting its worker failed: ${failure.message}`, install);
  }
  if (failure.reason === 'no-transpile') {
    const found = failure.version === null ? 'a module without a version' : `typescript ${failure.version}`;
    return engineUnavailable(
      'typescript',
      `${JSON.stringify(specifier)} resolves to ${found} (${modulePath}), which has no transpileModule ` +
        `(TypeScript 7 and later are the Go port, without the JavaScript compiler API); the host needs typescript ${TYPESCRIPT_RANGE}`,
      install,
    );
  }
  return engineUnavailable('typescript', `loading ${JSON.stringify(specifier)} (${modulePath}) failed: ${failure.message}`, install);
}

module.exports = { TypeScriptEngine, compilerOptions, typescriptFileName };
