'use strict';
/*
 * The body of the TypeScript engine's worker thread (started by typescript-thread.js).
 *
 * It loads the TypeScript module named by `workerData.modulePath`, says whether it can
 * transpile, then runs one `ts.transpileModule` per message, in the order they come:
 *
 *   → {type: "init", ok: true, version}                      ready
 *   → {type: "init", ok: false, reason: "no-transpile", version}   TypeScript 7+ (the Go port)
 *   → {type: "init", ok: false, reason: "load", message}       require() threw
 *
 *   ← {id, source, fileName, compilerOptions, tsconfigFile?}   (tsconfigFile: a tsconfig.json
 *      on disk whose settings go under compilerOptions, see optionsOf)
 *   → {type: "result", id, outputText, sourceMapText, diagnostics: [{category, code, message,
 *      file, start, length, related: [{message, file, start, length}]}]}
 *   → {type: "crash", id, name, message, stack}  transpileModule threw
 *
 * compilerOptions hold tsconfig.json's string values ("es2020", "react-jsx", "commonjs"):
 * transpileModule turns them into its enums itself, and reports a bad one as a diagnostic
 * without a file.
 */

const { parentPort, workerData } = require('node:worker_threads');

/** The TypeScript module if it can transpile; otherwise says why (init message) and returns null. */
function loadTypeScript() {
  let loaded;
  try {
    loaded = require(workerData.modulePath);
  } catch (err) {
    parentPort.postMessage({ type: 'init', ok: false, reason: 'load', message: String((err && err.message) || err) });
    return null;
  }
  if (loaded === null || typeof loaded !== 'object' || typeof loaded.transpileModule !== 'function') {
    const version = loaded && typeof loaded.version === 'string' ? loaded.version : null;
    parentPort.postMessage({ type: 'init', ok: false, reason: 'no-transpile', version });
    return null;
  }
  return loaded;
}

const ts = loadTypeScript();

function flatten(messageText) {
  return ts.flattenDiagnosticMessageText(messageText, '\n');
}

function rawDiagnostic(d) {
  return {
    category: d.category,
    code: d.code,
    message: flatten(d.messageText),
    file: d.file ? d.file.fileName : null,
    start: typeof d.start === 'number' ? d.start : null,
    length: typeof d.length === 'number' ? d.length : 0,
    related: (d.relatedInformation || []).map((r) => ({
      message: flatten(r.messageText),
      file: r.file ? r.file.fileName : null,
      start: typeof r.start === 'number' ? r.start : null,
      length: typeof r.length === 'number' ? r.length : 0,
    })),
  };
}

/** The settings of a tsconfig.json on disk win over the params for these, as in esbuild's CLI. */
const FILE_WINS = Object.freeze(['jsx', 'jsxFactory', 'jsxFragmentFactory', 'jsxImportSource']);
/** "No inputs were found in config file": about `include`, which a single-file compile does not use. */
const NO_INPUTS = 18003;

/**
 * compilerOptions: a tsconfig.json's (TypeScript parses it, following "extends") under the
 * params' (job.compilerOptions), except the jsx settings the file makes; and its diagnostics.
 */
function optionsOf(job) {
  if (!job.tsconfigFile) return { options: job.compilerOptions, configDiagnostics: [] };
  const problems = [];
  const host = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: (d) => problems.push(d) };
  const parsed = ts.getParsedCommandLineOfConfigFile(job.tsconfigFile, {}, host);
  const fromFile = parsed === undefined ? {} : parsed.options;
  const options = { ...fromFile, ...job.compilerOptions };
  for (const key of FILE_WINS) if (fromFile[key] !== undefined) options[key] = fromFile[key];
  // The file's target decides the class-field semantics, as it does for esbuild (the output's
  // language level stays the `target` param's).
  if (fromFile.target !== undefined && fromFile.useDefineForClassFields === undefined) {
    options.useDefineForClassFields = fromFile.target >= ts.ScriptTarget.ES2022;
  }
  const configDiagnostics = [...problems, ...(parsed === undefined ? [] : parsed.errors)].filter((d) => d.code !== NO_INPUTS);
  return { options, configDiagnostics };
}

function transpile(job) {
  try {
    const { options, configDiagnostics } = optionsOf(job);
    const output = ts.transpileModule(job.source, { compilerOptions: options, fileName: job.fileName, reportDiagnostics: true });
    output.diagnostics = [...configDiagnostics, ...(output.diagnostics || [])];
    parentPort.postMessage({
      type: 'result',
      id: job.id,
      outputText: output.outputText,
      sourceMapText: output.sourceMapText === undefined ? null : output.sourceMapText,
      diagnostics: (output.diagnostics || []).map(rawDiagnostic),
    });
  } catch (err) {
    parentPort.postMessage({
      type: 'crash',
      id: job.id,
      name: String((err && err.name) || 'Error'),
      message: String((err && err.message) || err),
      stack: err && err.stack ? String(err.stack) : null,
    });
  }
}

if (ts !== null) {
  parentPort.on('message', transpile);
  parentPort.postMessage({ type: 'init', ok: true, version: String(ts.version) });
}
