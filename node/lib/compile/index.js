'use strict';
/*
 * The `compile` method (docs/compile.md): TypeScript / JSX / JavaScript source in, JavaScript
 * out, on one of two engines.
 *
 *   params      → params.js   (-32602 naming the field)
 *   engine      → esbuild-engine.js (default) or typescript-engine.js (worker thread)
 *   diagnostics → diagnostics.js (columns in code points, whatever the engine counts in)
 *   result        {code, map, diagnostics: [warnings], engine, engineVersion}
 *   failure       1001 COMPILE_FAILED, data {diagnostics: [errors, then warnings], engine,
 *                 engineVersion, filename}; 1002 ENGINE_UNAVAILABLE (errors.js)
 *
 * Goals: the host starts as fast as before — this file loads only the small modules above;
 * esbuild is required on the first compile (or warmed up after the first rpc.hello), the
 * TypeScript engine and its worker on the first TypeScript compile. Cancellation: the
 * dispatcher answers -32800 at once and drops the late result; the TypeScript engine also
 * skips a cancelled job that has not started (typescript-thread.js). esbuild's transform runs
 * to its end (it cannot be aborted; it takes milliseconds).
 */

const { createLogger } = require('../log');
const { parseCompileParams } = require('./params');
const { compileFailed } = require('./errors');
const { errorsFirst } = require('./diagnostics');
const { EsbuildEngine } = require('./esbuild-engine');
const { engineVersions } = require('./packages');

class Compiler {
  /**
   * @param {object} [options]
   * @param {object} [options.log] defaults to a logger whose records say src "compile"
   */
  constructor({ log = createLogger('compile') } = {}) {
    this.log = log;
    this.esbuild = new EsbuildEngine({ log });
    this._typescript = null;
  }

  /** The TypeScript engine, created (not started) on first use. */
  get typescript() {
    if (this._typescript === null) {
      const { TypeScriptEngine } = require('./typescript-engine');
      this._typescript = new TypeScriptEngine({ log: this.log });
    }
    return this._typescript;
  }

  /**
   * The `compile` method.
   * @param {*} params
   * @param {{signal: AbortSignal}} [ctx] the request context (only the TypeScript engine reads its signal)
   * @returns {Promise<{code: string, map: string|null, diagnostics: object[], engine: string, engineVersion: string}>}
   * @throws {import('../rpc-error').RpcError} -32602, 1001, 1002
   */
  async compile(params, ctx) {
    const opts = parseCompileParams(params);
    let out;
    if (opts.engine === 'typescript') out = await this.typescript.compile(opts, ctx && ctx.signal);
    else if (opts.tsconfigFile !== undefined) out = await require('./tsconfig-build').compileWithTsconfigFile(this.esbuild.load(), opts);
    else out = await this.esbuild.compile(opts);
    const info = { engine: opts.engine, engineVersion: out.engineVersion, filename: opts.filename };
    if (out.diagnostics.some((d) => d.severity === 'error')) throw compileFailed(out.diagnostics, info);
    return { code: out.code, map: out.map, diagnostics: errorsFirst(out.diagnostics), engine: opts.engine, engineVersion: out.engineVersion };
  }

  /**
   * The `compileFiles` method: many files on disk, read and written by the host (batch.js).
   * @param {*} params
   * @returns {Promise<object>}
   */
  async compileFiles(params) {
    const { compileFiles } = require('./batch');
    return compileFiles(this.esbuild.load(), params);
  }

  /**
   * The `typecheck` method: semantic diagnostics of a TypeScript project kept warm in a worker
   * (typecheck.js).
   * @param {*} params
   * @param {{signal: AbortSignal}} [ctx]
   * @returns {Promise<object>}
   */
  async typecheck(params, ctx) {
    if (this._checker === undefined) {
      const { TypeChecker } = require('./typecheck');
      this._checker = new TypeChecker({ log: this.log });
    }
    return this._checker.check(params, ctx && ctx.signal);
  }

  /** Load esbuild and start its service in the background (never throws). */
  warmUp() {
    return this.esbuild.warmUp();
  }

  /** Installed engine versions, read from their package.json files (nothing is loaded). */
  engineVersions() {
    return engineVersions();
  }

  /** Stop the TypeScript worker and esbuild's service (for embedders and tests; the host's exit ends both anyway). */
  async dispose() {
    if (this._typescript !== null) await this._typescript.dispose();
    if (this._checker !== undefined) await this._checker.dispose();
    await this.esbuild.stop();
  }
}

module.exports = { Compiler };
