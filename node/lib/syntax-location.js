'use strict';
/*
 * Where a JavaScript file's syntax error is: file, line, column, as Node reports it.
 *
 * A module that fails to parse under `import()` rejects with a SyntaxError whose stack holds
 * only Node's internal frames for ES modules (the "file:line" and the caret Node prints for an
 * uncaught error are not reachable from JavaScript). So, on that rare path only, the file is
 * parsed again by `node --check FILE` (the same Node, the same module-type rules), whose
 * output starts with "FILE:LINE", the source line and a caret under the offending character.
 *
 * column is 1-based and counted in code points of lineText (as the compile diagnostics are):
 * Node places the caret by UTF-16 units, which this converts.
 */

const { spawnSync } = require('node:child_process');
const { codePointsInUtf16Prefix } = require('./compile/diagnostics');

const CHECK_TIMEOUT_MS = 10_000;

/**
 * @param {string} file an absolute path
 * @returns {{line: number, column: number, lineText: string}|null} null if
 *   `node --check` finds nothing (or says something this cannot read)
 */
function locateSyntaxError(file) {
  let done;
  try {
    done = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: CHECK_TIMEOUT_MS, windowsHide: true });
  } catch {
    return null;
  }
  if (done.status === 0 || typeof done.stderr !== 'string') return null;
  const lines = done.stderr.split(/\r?\n/);
  const at = lines.findIndex((text) => {
    const match = /^(.*):(\d+)$/.exec(text);
    return match !== null && match[1] === file;
  });
  if (at < 0 || at + 2 >= lines.length) return null;
  const line = Number(/:(\d+)$/.exec(lines[at])[1]);
  const lineText = lines[at + 1];
  const caret = lines[at + 2].indexOf('^');
  if (caret < 0) return null;
  return { line, column: codePointsInUtf16Prefix(lineText, caret) + 1, lineText };
}

module.exports = { locateSyntaxError };
