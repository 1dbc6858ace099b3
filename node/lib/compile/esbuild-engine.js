'use strict';
/*
 * The esbuild engine (the default): `esbuild.transform()` on esbuild's long-lived Go service.
 *
 * Goals: the host starts as fast as without it — esbuild is required on the first compile (or
 * by warmUp(), which builtins.js runs 100 ms after the first rpc.hello); the
 * work runs in esbuild's child process, so the host's event loop stays free for other calls
 * and cancels while it compiles. A transform cannot be aborted: a cancelled compile finishes
 * and its result is dropped by the dispatcher.
 *
 * If the Go service died (killed, OOM), esbuild's JS keeps failing every call with "The service
 * is no longer running"; the engine then stops it (the next call spawns a new one) and retries
 * the compile once — compiling is a pure function of the params, so a retry is safe. (A source
 * that kills the service twice in a row gets -32603.)
 *
 * Options mapping (params.js names → esbuild): loader, filename → sourcefile, jsx.runtime
 * automatic|classic|preserve → jsx automatic|transform|preserve, jsx.importSource →
 * jsxImportSource, jsx.factory → jsxFactory, jsx.fragment → jsxFragment, jsx.development →
 * jsxDev, target, format (omitted when absent: esbuild's transform then keeps import/export as
 * written), sourcemap true → "external" (map returned, no comment) / "inline", minify,
 * tsconfigRaw (the parsed object, without the settings the params decide: esbuildTsconfig()).
 */

const { RpcError, ErrorCodes } = require('../rpc-error');
const { engineUnavailable, invalidParam, optionRejected } = require('./errors');
const { fromEsbuild } = require('./diagnostics');
const { hostInstallCommand, missingPackageProblem } = require('./packages');

const JSX_MODE = Object.freeze({ automatic: 'automatic', classic: 'transform', preserve: 'preserve' });

const SERVICE_GONE = /The service (?:was stopped|is no longer running)/;

class EsbuildEngine {
  constructor({ log }) {
    this.log = log;
    this._esbuild = null;
    this._warming = null;
    /** Incremented each time a dead service is stopped (see _transform). */
    this._generation = 0;
  }

  /** esbuild's module, required on first use. @throws {RpcError} 1002 if it is not installed */
  load() {
    if (this._esbuild !== null) return this._esbuild;
    try {
      this._esbuild = require('esbuild');
    } catch (err) {
      if (err && err.code === 'MODULE_NOT_FOUND' && /'esbuild'/.test(err.message)) {
        throw engineUnavailable('esbuild', missingPackageProblem('esbuild'), hostInstallCommand());
      }
      throw engineUnavailable('esbuild', `loading "esbuild" failed: ${err && err.message}`, hostInstallCommand());
    }
    return this._esbuild;
  }

  /** Stop esbuild's service if it runs (a later compile starts a new one). */
  async stop() {
    if (this._esbuild !== null) await this._esbuild.stop();
  }

  /** The version of the loaded esbuild. */
  get version() {
    return this.load().version;
  }

  /**
   * Load esbuild and start its service in the background, so the first compile does not pay
   * for it. Never throws; idempotent.
   * @returns {Promise<void>}
   */
  warmUp() {
    if (this._warming === null) {
      this._warming = (async () => {
        const t0 = performance.now();
        try {
          // Steps that each block the event loop for a few ms (measured: ~6 ms to require
          // esbuild, ~4 ms to spawn its service), with a turn of the loop before each, so
          // calls that arrive meanwhile are served in between.
          await new Promise((resolve) => setImmediate(resolve));
          const esbuild = this.load();
          await new Promise((resolve) => setImmediate(resolve));
          await esbuild.transform('', { loader: 'ts', logLevel: 'silent' });
          this.log.debug(`compile: esbuild ${this._esbuild.version} warmed up in ${(performance.now() - t0).toFixed(1)} ms`);
        } catch (err) {
          this.log.debug(`compile: esbuild warm-up failed (a compile will report it): ${err && err.message}`);
        }
      })();
    }
    return this._warming;
  }

  /**
   * @param {import('./params').CompileOptions} opts
   * @returns {Promise<{code: string|null, map: string|null, diagnostics: object[], engineVersion: string}>}
   *   code null when there are errors (diagnostics then hold them, errors before warnings)
   */
  async compile(opts) {
    const esbuild = this.load();
    const options = esbuildOptions(opts);
    let result;
    try {
      result = await this._transform(esbuild, opts.source, options);
    } catch (err) {
      if (err && Array.isArray(err.errors) && err.errors.length > 0) {
        checkOptionErrors(err.errors, opts);
        return {
          code: null,
          map: null,
          diagnostics: err.errors.map((m) => fromEsbuild(m, 'error')).concat((err.warnings || []).map((m) => fromEsbuild(m, 'warning'))),
          engineVersion: esbuild.version,
        };
      }
      throw unexpected(err, opts);
    }
    return {
      code: result.code,
      map: opts.sourcemap === true ? result.map : null,
      diagnostics: result.warnings.map((m) => fromEsbuild(m, 'warning')),
      engineVersion: esbuild.version,
    };
  }

  async _transform(esbuild, source, options) {
    const generation = this._generation;
    try {
      return await esbuild.transform(source, options);
    } catch (err) {
      const compileErrors = err && Array.isArray(err.errors) && err.errors.length > 0;
      if (compileErrors || !(err instanceof Error) || !SERVICE_GONE.test(err.message)) throw err;
      // Every call in flight fails at once when the service dies: only the first to notice
      // stops it (which lets the next transform start a new one); the others just retry.
      if (this._generation === generation) {
        this._generation++;
        this.log.warn(`compile: the esbuild service stopped (${err.message}); starting a new one and retrying`);
        await esbuild.stop();
      }
      return esbuild.transform(source, options);
    }
  }
}

/** @param {import('./params').CompileOptions} opts */
function esbuildOptions(opts) {
  const options = {
    loader: opts.loader,
    sourcefile: opts.filename,
    target: opts.target,
    minify: opts.minify,
    jsx: JSX_MODE[opts.jsx.runtime],
    logLevel: 'silent',
  };
  if (opts.jsx.importSource !== undefined) options.jsxImportSource = opts.jsx.importSource;
  if (opts.jsx.factory !== undefined) options.jsxFactory = opts.jsx.factory;
  if (opts.jsx.fragment !== undefined) options.jsxFragment = opts.jsx.fragment;
  if (opts.jsx.development !== undefined) options.jsxDev = opts.jsx.development;
  if (opts.format !== undefined) options.format = opts.format;
  if (opts.sourcemap === true) options.sourcemap = 'external';
  else if (opts.sourcemap === 'inline') options.sourcemap = 'inline';
  const tsconfig = esbuildTsconfig(opts.tsconfigRaw, opts);
  if (tsconfig !== undefined) options.tsconfigRaw = tsconfig;
  return options;
}

/** An ECMAScript target both engines name the same way ("es2020", "ES6", "esnext"). */
const ES_TARGET = /^es(?:\d+|next)$/i;

/**
 * The tsconfigRaw esbuild gets: the caller's, with the params' decisions in place of its own.
 * esbuild lets a tsconfig's jsx settings win over its options (measured: "jsx": "react" in
 * tsconfigRaw beat `jsx: "automatic"`), so those the params decide are removed. And esbuild
 * reads the tsconfig's "target" for one thing, the class-field semantics
 * (useDefineForClassFields defaults to false below ES2022, as in TypeScript): it is set to the
 * `target` param, so that both engines give a class field the same semantics.
 * @returns {object|undefined}
 */
function esbuildTsconfig(config, opts) {
  const esTarget = ES_TARGET.test(opts.target);
  if (config === undefined && !esTarget) return undefined;
  const compilerOptions = { ...((config && config.compilerOptions) || {}) };
  delete compilerOptions.jsx;
  if (esTarget) compilerOptions.target = opts.target;
  else delete compilerOptions.target;
  if (opts.jsx.importSource !== undefined) delete compilerOptions.jsxImportSource;
  if (opts.jsx.factory !== undefined) delete compilerOptions.jsxFactory;
  if (opts.jsx.fragment !== undefined) delete compilerOptions.jsxFragmentFactory;
  return { ...config, compilerOptions };
}

/**
 * Errors that are not about the source are bad params: those esbuild finds in the tsconfigRaw
 * text, and those without a location (`Invalid JSX factory: "123"`).
 */
function checkOptionErrors(errors, opts) {
  const inTsconfig = errors.find((m) => m.location && m.location.file === '<tsconfig.json>');
  if (inTsconfig !== undefined) {
    const at = inTsconfig.location;
    throw invalidParam('tsconfigRaw', `compile: "tsconfigRaw" is invalid: ${inTsconfig.text} (line ${at.line}, column ${at.column + 1} of its text)`);
  }
  const unplaced = errors.find((m) => !m.location);
  if (unplaced !== undefined) throw optionRejected('esbuild', String(unplaced.text), opts);
}

/**
 * esbuild throws a plain Error (no `errors`) for a bad option value, e.g. `Invalid target
 * "es1"`: -32602 naming the param; for a missing platform binary: 1002; anything else stays an
 * internal error (-32603).
 */
function unexpected(err, opts) {
  if (RpcError.isRpcError(err)) return err;
  const message = err && err.message !== undefined ? String(err.message) : String(err);
  if (/is needed by esbuild|The esbuild binary|Cannot start service/i.test(message)) {
    // Its platform package (an optionalDependency, @esbuild/<os>-<cpu>) is missing or broken.
    return engineUnavailable('esbuild', `its binary cannot run: ${message.split('\n')[0]}`, hostInstallCommand());
  }
  if (/^Invalid /.test(message) || /\btarget\b|\bjsx/i.test(message)) return optionRejected('esbuild', message, opts);
  return new RpcError(ErrorCodes.InternalError, `compile: esbuild failed: ${message}`, {
    name: err && err.name ? String(err.name) : 'Error',
    message,
    stack: err && err.stack ? String(err.stack) : null,
  });
}

module.exports = { EsbuildEngine, esbuildOptions, esbuildTsconfig };
