'use strict';
/*
 * Compiler messages → the one diagnostic shape `compile` returns (docs/compile.md, "Diagnostics"):
 *
 *   {severity: "error"|"warning", message, file, line, column, endLine, endColumn, lineText,
 *    code: string|null, notes: [{message, file, line, column, lineText}]}
 *
 * line is 1-based; column is 1-based and counted in Unicode CODE POINTS of lineText, so that
 * Python's `line_text[column - 1]` is the offending character; endLine/endColumn (same units)
 * end the range, exclusive. lineText is the whole source line without its line break.
 *
 * The engines count differently, and both are converted here:
 *   esbuild     `location.column` and `location.length` in UTF-8 BYTES of `location.lineText`
 *               (0-based; the line is 1-based), so é counts 2, 你 3, 😀 4;
 *   TypeScript  `start` and `length` are UTF-16 offsets into the whole source text, so 😀
 *               (a surrogate pair) counts 2; lines are found here with TypeScript's own line
 *               breaks (\r\n, \n, \r, U+2028, U+2029).
 *
 * A message without a location (rare: an esbuild note, a TypeScript global diagnostic) has
 * null file, line, column, endLine, endColumn and lineText.
 */

/**
 * How many code points of `text` lie in its first `bytes` UTF-8 bytes. A character the offset
 * falls inside counts as before it; past the end, the whole text (plus the overshoot, one per
 * byte: esbuild points one past the last character at the end of a line).
 * @param {string} text
 * @param {number} bytes
 * @returns {number}
 */
function codePointsInUtf8Prefix(text, bytes) {
  let seen = 0;
  let points = 0;
  for (let i = 0; i < text.length && seen < bytes; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) seen += 1;
    else if (unit < 0x800) seen += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) {
      seen += 4;
      i++;
    } else seen += 3; // the rest of the BMP, and a lone surrogate (encoded as U+FFFD: 3 bytes)
    points++;
  }
  return seen < bytes ? points + (bytes - seen) : points;
}

/**
 * How many code points of `text` lie in its first `units` UTF-16 code units (a surrogate pair
 * is one code point; an offset between its halves counts it as before).
 * @param {string} text
 * @param {number} units
 * @returns {number}
 */
function codePointsInUtf16Prefix(text, units) {
  let points = 0;
  const end = Math.min(units, text.length);
  for (let i = 0; i < end; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && isLowSurrogate(text.charCodeAt(i + 1))) i++;
    points++;
  }
  return units > text.length ? points + (units - text.length) : points;
}

function isLowSurrogate(unit) {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** Line starts of a text, with TypeScript's line breaks; turns UTF-16 offsets into lines. */
class LineIndex {
  /** @param {string} text */
  constructor(text) {
    this.text = text;
    /** @type {number[]} offset of the first unit of each line */
    this.starts = [0];
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      if (unit === 0x0d) {
        if (text.charCodeAt(i + 1) === 0x0a) i++;
        this.starts.push(i + 1);
      } else if (unit === 0x0a || unit === 0x2028 || unit === 0x2029) {
        this.starts.push(i + 1);
      }
    }
  }

  /**
   * @param {number} offset a UTF-16 offset into the text (clamped to it)
   * @returns {{line: number, column: number, lineText: string}} line 1-based, column 1-based in code points
   */
  locate(offset) {
    const at = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= at) lo = mid;
      else hi = mid - 1;
    }
    const lineText = this.lineText(lo);
    return { line: lo + 1, column: codePointsInUtf16Prefix(lineText, at - this.starts[lo]) + 1, lineText };
  }

  /** The text of line `index` (0-based) without its line break. */
  lineText(index) {
    const start = this.starts[index];
    let end = index + 1 < this.starts.length ? this.starts[index + 1] : this.text.length;
    while (end > start) {
      const unit = this.text.charCodeAt(end - 1);
      if (unit === 0x0a || unit === 0x0d || unit === 0x2028 || unit === 0x2029) end--;
      else break;
    }
    return this.text.slice(start, end);
  }
}

const NO_LOCATION = Object.freeze({ file: null, line: null, column: null, endLine: null, endColumn: null, lineText: null });

/**
 * One esbuild message (`{id, text, location: {file, line, column, length, lineText}, notes}`).
 * @param {object} message
 * @param {'error'|'warning'} severity
 */
function fromEsbuild(message, severity) {
  const where = esbuildLocation(message.location);
  return {
    severity,
    message: String(message.text),
    file: where.file,
    line: where.line,
    column: where.column,
    endLine: where.endLine,
    endColumn: where.endColumn,
    lineText: where.lineText,
    code: message.id ? String(message.id) : null,
    notes: (message.notes || []).map((note) => {
      const at = esbuildLocation(note.location);
      return { message: String(note.text), file: at.file, line: at.line, column: at.column, lineText: at.lineText };
    }),
  };
}

function esbuildLocation(location) {
  if (location === null || location === undefined) return NO_LOCATION;
  const lineText = String(location.lineText ?? '');
  const start = location.column ?? 0;
  const length = location.length ?? 0;
  const column = codePointsInUtf8Prefix(lineText, start) + 1;
  const endColumn = length > 0 ? codePointsInUtf8Prefix(lineText, start + length) + 1 : column;
  return {
    file: location.file ?? null,
    line: location.line ?? null,
    column,
    endLine: location.line ?? null,
    endColumn,
    lineText,
  };
}

/**
 * One TypeScript diagnostic, as the worker sends it: `{category, code, message, file, start,
 * length, related: [{message, file, start, length}]}` (category 1 is Error, anything else a warning).
 * @param {object} raw
 * @param {LineIndex} index of the source compiled
 * @param {{compiledAs: string, filename: string}} names the file name TypeScript was given,
 *   and the caller's name for it (they differ when an explicit loader forced another extension)
 */
function fromTypeScript(raw, index, names) {
  const where = typescriptLocation(raw, index, names);
  return {
    severity: raw.category === 1 ? 'error' : 'warning',
    message: String(raw.message),
    file: where.file,
    line: where.line,
    column: where.column,
    endLine: where.endLine,
    endColumn: where.endColumn,
    lineText: where.lineText,
    code: `TS${raw.code}`,
    notes: (raw.related || []).map((note) => {
      const at = typescriptLocation(note, index, names);
      return { message: String(note.message), file: at.file, line: at.line, column: at.column, lineText: at.lineText };
    }),
  };
}

function typescriptLocation(raw, index, { compiledAs, filename }) {
  if (raw.file === null || raw.file === undefined || typeof raw.start !== 'number') return NO_LOCATION;
  // transpileModule sees one file; another name would have no text here to count in.
  if (raw.file !== compiledAs) return { ...NO_LOCATION, file: String(raw.file) };
  const start = index.locate(raw.start);
  const end = raw.length > 0 ? index.locate(raw.start + raw.length) : start;
  return { file: filename, line: start.line, column: start.column, endLine: end.line, endColumn: end.column, lineText: start.lineText };
}

/** Errors first, then the rest, each group in the engine's order. */
function errorsFirst(diagnostics) {
  return diagnostics.filter((d) => d.severity === 'error').concat(diagnostics.filter((d) => d.severity !== 'error'));
}

module.exports = { codePointsInUtf8Prefix, codePointsInUtf16Prefix, LineIndex, fromEsbuild, fromTypeScript, errorsFirst };
