'use strict';
/*
 * Source-map text shared by the engines: the inline `data:` comment, and TypeScript's map made
 * to look like esbuild's (same `sources`, no `file`, no empty `sourceRoot`).
 *
 * With `sourcemap: true` the result's `code` carries NO sourceMappingURL comment (the caller
 * decides where the map goes) and `map` is the v3 JSON text; with "inline" the map is appended
 * to `code` as `//# sourceMappingURL=data:application/json;base64,…` and `map` is null.
 */

const INLINE_PREFIX = '//# sourceMappingURL=data:application/json;base64,';

/**
 * `code` with the map appended as a data: URL comment on a line of its own.
 * @param {string} code
 * @param {string} mapText
 */
function appendInlineMap(code, mapText) {
  const base = code.length === 0 || code.endsWith('\n') ? code : `${code}\n`;
  return `${base}${INLINE_PREFIX}${Buffer.from(mapText, 'utf8').toString('base64')}\n`;
}

/**
 * `code` without a trailing `//# sourceMappingURL=…` line (TypeScript adds one naming a .map file).
 * @param {string} code
 */
function stripMapComment(code) {
  return code.replace(/(^|\n)\/\/# sourceMappingURL=[^\n]*\n?$/, '$1');
}

/**
 * A TypeScript map with `sources: [filename]` (TypeScript names the file relative to the output,
 * and by the name it was given, which may carry a forced extension), without `file`.
 * @param {string} mapText
 * @param {string} filename as the caller named the source
 * @returns {string}
 */
function normaliseTypeScriptMap(mapText, filename) {
  const map = JSON.parse(mapText);
  map.sources = [filename];
  delete map.file;
  if (map.sourceRoot === '') delete map.sourceRoot;
  return JSON.stringify(map);
}

module.exports = { appendInlineMap, stripMapComment, normaliseTypeScriptMap, INLINE_PREFIX };
