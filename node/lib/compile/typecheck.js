'use strict';
/*
 * The `typecheck` method (docs/compile.md, "typecheck"): TypeScript's semantic diagnostics
 * (TS2322 …) of a project, from programs kept alive in a worker thread between calls.
 *
 *   params  {files?: [path], tsconfig?: path, changes?: [{path, text?}]}
 *             files     the files to report on (and to add to the project's own); absent:
 *                       every file of the project
 *             tsconfig  the project's tsconfig.json; absent: the nearest one of files[0]; none
 *                       found: an inferred project of `files` (strict, react-jsx, bundler
 *                       resolution)
 *             changes   {path, text}: check this text instead of the file on disk (an editor's
 *                       unsaved buffer); {path}: back to the file on disk. Files on disk are
 *                       stat'ed at each check anyway, so a saved edit needs no change entry.
 *   result  {project: tsconfig path|null, diagnostics: [compile's shape], files: how many
 *            were reported on, elapsedMs: the check in the worker, engine: "typescript",
 *            engineVersion}
 *   errors  -32602 (a bad param, naming it), 1002 (TypeScript is not installed, or has no
 *           compiler API: TypeScript 7), -32603 (the worker crashed)
 *
 * The worker (typecheck-worker.js) is started on the first call and kept: its programs are
 * the point. It runs one check at a time, the queue lives here (typescript-thread.js): a
 * cancelled check that has not started never runs; the running one finishes and its result
 * is dropped. It is separate from the transpile worker, so that a long check never delays a
 * `compile` with the typescript engine.
 */

const path = require('node:path');
const { RpcError, ErrorCodes } = require('../rpc-error');
const { invalidParam, engineUnavailable } = require('./errors');
const { findTsconfig } = require('./tsconfig');
const { typescriptInstallCommand, TYPESCRIPT_RANGE } = require('./packages');
const { OnDemandTypeScriptThread } = require('./typescript-thread');

const SCRIPT = path.join(__dirname, 'typecheck-worker.js');
const KEYS = Object.freeze(['files', 'tsconfig', 'changes']);

const isPlainObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);
const hasOwn = (object, key) => Object.prototype.hasOwnProperty.call(object, key);
const bad = (field, message) => invalidParam(field, `typecheck: ${message}`);

/**
 * Check the params; paths come out absolute.
 * @returns {{project: {tsconfig: string|null, files: string[]}, report: string[]|null, changes: {path: string, text?: string}[]}}
 */
function parseTypecheckParams(params) {
  if (!isPlainObject(params)) throw bad(null, 'params must be an object such as {"files": ["src/App.tsx"]}');
  for (const key of Object.keys(params)) {
    if (!KEYS.includes(key)) throw bad(key, `unknown param "${key}" (known: ${KEYS.join(', ')})`);
  }
  let files = null;
  if (hasOwn(params, 'files')) {
    if (!Array.isArray(params.files) || params.files.some((f) => typeof f !== 'string' || f === '')) throw bad('files', '"files" must be an array of paths');
    files = params.files.map((f) => path.resolve(f));
  }
  let tsconfig = null;
  if (hasOwn(params, 'tsconfig')) {
    if (typeof params.tsconfig !== 'string' || params.tsconfig === '') throw bad('tsconfig', '"tsconfig" must be the path of a tsconfig.json');
    tsconfig = path.resolve(params.tsconfig);
  } else if (files !== null && files.length > 0) {
    tsconfig = findTsconfig(files[0]);
  }
  if (tsconfig === null && (files === null || files.length === 0)) throw bad('files', 'give "files", "tsconfig" or both');
  const changes = [];
  if (hasOwn(params, 'changes')) {
    if (!Array.isArray(params.changes)) throw bad('changes', '"changes" must be an array of {"path", "text"?} objects');
    params.changes.forEach((change, i) => {
      if (!isPlainObject(change) || typeof change.path !== 'string' || change.path === '') throw bad('changes', `"changes[${i}]" must be {"path": string, "text"?: string}`);
      if (hasOwn(change, 'text') && typeof change.text !== 'string') throw bad('changes', `"changes[${i}].text" must be a string`);
      for (const key of Object.keys(change)) if (key !== 'path' && key !== 'text') throw bad('changes', `unknown key "${key}" in "changes[${i}]"`);
      changes.push(hasOwn(change, 'text') ? { path: path.resolve(change.path), text: change.text } : { path: path.resolve(change.path) });
    });
  }
  return { project: { tsconfig, files: files ?? [] }, report: files, changes };
}

class TypeChecker {
  constructor({ log }) {
    this.log = log;
    this._thread = new OnDemandTypeScriptThread({ log, script: SCRIPT, unavailable });
  }

  /** The worker, started on first use. @throws {RpcError} 1002 */
  thread() {
    return this._thread.get();
  }

  /**
   * @param {*} params
   * @param {AbortSignal} [signal]
   */
  async check(params, signal) {
    const job = parseTypecheckParams(params);
    const thread = await this.thread();
    const reply = await thread.run({ ...job, cwd: process.cwd() }, signal);
    if (reply.type === 'crash') {
      throw new RpcError(ErrorCodes.InternalError, `typecheck: typescript failed: ${reply.message}`, { name: reply.name, message: reply.message, stack: reply.stack });
    }
    return {
      project: reply.project,
      diagnostics: reply.diagnostics,
      files: reply.files,
      elapsedMs: Math.round(reply.elapsedMs * 10) / 10,
      engine: 'typescript',
      engineVersion: thread.version,
    };
  }

  /** Stop the worker, if there is one. */
  async dispose() {
    await this._thread.dispose();
  }
}

/** The 1002 error for a type checker's worker that could not start. */
function unavailable(failure, specifier, modulePath) {
  const problem =
    failure.reason === 'no-transpile'
      ? `${JSON.stringify(specifier)} resolves to typescript ${failure.version ?? '(no version)'} (${modulePath}), which has no compiler API; the type checker needs typescript ${TYPESCRIPT_RANGE}`
      : `starting its worker failed: ${failure.message ?? failure}`;
  return engineUnavailable('typescript', problem, typescriptInstallCommand());
}

module.exports = { TypeChecker, parseTypecheckParams };
