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
 *   ← {id, source, fileName, compilerOptions}
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

function transpile(job) {
  try {
    const output = ts.transpileModule(job.source, { compilerOptions: job.compilerOptions, fileName: job.fileName, reportDiagnostics: true });
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
