'use strict';
/*
 * The errors of the `compile` method (docs/compile.md, "Errors").
 *
 *   1001 COMPILE_FAILED      the source does not compile; data {diagnostics, engine, engineVersion, filename}
 *   1002 ENGINE_UNAVAILABLE  the engine's npm package is missing or unusable; data {engine, install}
 *   -32602                   a bad param; data {field}
 *
 * 1001 and 1002 are outside the range JSON-RPC reserves (-32768..-32000), as docs/handlers.md
 * asks of every code a method defines.
 */

const { RpcError, ErrorCodes } = require('../rpc-error');

const CompileErrorCodes = Object.freeze({
  COMPILE_FAILED: 1001,
  ENGINE_UNAVAILABLE: 1002,
});

/**
 * -32602 naming the param at fault.
 * @param {string|null} field the param's name ("sourcemap", "jsx.runtime"), null for the params as a whole
 * @param {string} message starts with "compile: "
 */
function invalidParam(field, message) {
  return new RpcError(ErrorCodes.InvalidParams, message, { field });
}

/**
 * -32602 for a value an engine refused (a target it does not know, a JSX factory that is not
 * an identifier, a bad tsconfigRaw setting), naming the param it most likely came from.
 * @param {string} engine
 * @param {string} text the engine's message
 * @param {import('./params').CompileOptions} opts
 */
function optionRejected(engine, text, opts) {
  const given = (key) => opts.jsx[key] !== undefined;
  let field = opts.tsconfigRaw !== undefined ? 'tsconfigRaw' : null;
  if (/\btarget\b/i.test(text)) field = 'target';
  else if (/jsxFragment|JSX fragment/i.test(text)) field = given('fragment') ? 'jsx.fragment' : field;
  else if (/jsxFactory|JSX factory/i.test(text)) field = given('factory') ? 'jsx.factory' : field;
  else if (/jsxImportSource|JSX import source/i.test(text)) field = given('importSource') ? 'jsx.importSource' : field;
  else if (/\bjsx/i.test(text) && field === null) field = 'jsx';
  const named = field === null ? 'the compile options' : `"${field}"`;
  return invalidParam(field, `compile: the ${engine} engine rejected ${named}: ${text}`);
}

/**
 * 1001: the source has errors.
 * @param {object[]} diagnostics normalised (diagnostics.js), errors and warnings in any order
 * @param {{engine: string, engineVersion: string, filename: string}} info
 */
function compileFailed(diagnostics, { engine, engineVersion, filename }) {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  const warnings = diagnostics.filter((d) => d.severity !== 'error');
  const n = errors.length;
  return new RpcError(CompileErrorCodes.COMPILE_FAILED, `compile failed: ${n} error${n === 1 ? '' : 's'} in ${filename}`, {
    diagnostics: errors.concat(warnings),
    engine,
    engineVersion,
    filename,
  });
}

/**
 * 1002: the engine cannot be loaded.
 * @param {string} engine "esbuild" or "typescript"
 * @param {string} problem what is wrong, a sentence without the final period
 * @param {string} install the shell command that fixes it
 */
function engineUnavailable(engine, problem, install) {
  return new RpcError(CompileErrorCodes.ENGINE_UNAVAILABLE, `compile: the ${engine} engine is unavailable: ${problem}. Install it with: ${install}`, {
    engine,
    install,
  });
}

module.exports = { CompileErrorCodes, invalidParam, optionRejected, compileFailed, engineUnavailable };
