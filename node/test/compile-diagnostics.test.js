'use strict';
// Diagnostics of `compile`: the 1001 error and its data, warnings in the result, and columns
// in code points whatever the engine counts in (esbuild: UTF-8 bytes; TypeScript: UTF-16),
// checked with 1-, 2-, 3- and 4-byte characters before the error, on both engines.

const test = require('node:test');
const assert = require('node:assert/strict');
const { codePointsInUtf8Prefix, codePointsInUtf16Prefix, LineIndex, fromEsbuild } = require('../lib/compile/diagnostics');
const { sharedHost, compile, compiled, ENGINES, codePoints } = require('../test-support/compile');

const host = sharedHost(test);

/** Characters of each UTF-8 width, and how many UTF-16 units they take. */
const PREFIXES = [
  ['ASCII', 'ab'],
  ['2-byte é', 'é'],
  ['3-byte 你', '你'],
  ['4-byte 😀 (a surrogate pair)', '😀'],
  ['all of them', 'aé你😀é你😀'],
];

const DIAGNOSTIC_KEYS = ['code', 'column', 'endColumn', 'endLine', 'file', 'line', 'lineText', 'message', 'notes', 'severity'];

/** The text a diagnostic's [column, endColumn) covers, indexed like a Python str. */
function covered(d) {
  return codePoints(d.lineText).slice(d.column - 1, d.endColumn - 1).join('');
}

async function failure(params) {
  const answer = await compile(host(), params);
  assert.ok(answer.error !== undefined, `expected a compile failure, got ${JSON.stringify(answer.result)}`);
  return answer.error;
}

test('unit: UTF-8 byte offsets and UTF-16 offsets → code points', () => {
  const text = 'aé你😀z';
  // bytes: a=1 é=2 你=3 😀=4 → starts at 0,1,3,6,10
  assert.deepEqual([0, 1, 3, 6, 10, 11].map((b) => codePointsInUtf8Prefix(text, b)), [0, 1, 2, 3, 4, 5]);
  assert.equal(codePointsInUtf8Prefix(text, 13), 7, 'past the end: one per byte');
  assert.equal(codePointsInUtf8Prefix(text, 8), 4, 'inside 😀: counts it');
  // units: a=1 é=1 你=1 😀=2 → starts at 0,1,2,3,5
  assert.deepEqual([0, 1, 2, 3, 5, 6].map((u) => codePointsInUtf16Prefix(text, u)), [0, 1, 2, 3, 4, 5]);
  assert.equal(codePointsInUtf16Prefix(text, 4), 4, 'between the halves of 😀: counts it');
  assert.equal(codePointsInUtf8Prefix('\ud800x', 4), 2, 'a lone surrogate is 3 bytes (U+FFFD)');
});

test('unit: LineIndex finds lines with \\n, \\r\\n, \\r, U+2028 and U+2029, and columns in code points', () => {
  const text = 'one\ntwo\r\nthree\rfour\u2028fi😀ve\u2029six';
  const index = new LineIndex(text);
  const lines = ['one', 'two', 'three', 'four', 'fi😀ve', 'six'];
  lines.forEach((line, i) => assert.equal(index.lineText(i), line));
  assert.deepEqual(index.locate(text.indexOf('v')), { line: 5, column: 4, lineText: 'fi😀ve' });
  assert.deepEqual(index.locate(text.indexOf('s')), { line: 6, column: 1, lineText: 'six' });
  assert.deepEqual(index.locate(text.length), { line: 6, column: 4, lineText: 'six' });
  assert.deepEqual(index.locate(text.indexOf('\r\n')), { line: 2, column: 4, lineText: 'two' });
});

test('unit: an esbuild message without a location, and notes without one', () => {
  const d = fromEsbuild({ id: '', text: 'no place', location: null, notes: [{ text: 'a note', location: null }] }, 'warning');
  assert.deepEqual(d, {
    severity: 'warning',
    message: 'no place',
    file: null,
    line: null,
    column: null,
    endLine: null,
    endColumn: null,
    lineText: null,
    code: null,
    notes: [{ message: 'a note', file: null, line: null, column: null, lineText: null }],
  });
});

for (const engine of ENGINES) {
  for (const [name, prefix] of PREFIXES) {
    test(`${engine}: ${name} before the error: column points at the offending character`, async () => {
      const source = `// line one\nconst s = "${prefix}"; a +* b;\n`;
      const error = await failure({ source, filename: 'Chars.ts', engine });
      assert.equal(error.code, 1001);
      assert.equal(error.message, 'compile failed: 1 error in Chars.ts');
      const [d] = error.data.diagnostics;
      assert.equal(d.severity, 'error');
      assert.equal(d.file, 'Chars.ts');
      assert.equal(d.line, 2);
      assert.equal(d.lineText, `const s = "${prefix}"; a +* b;`);
      assert.equal(codePoints(d.lineText)[d.column - 1], '*', JSON.stringify(d));
      assert.equal(d.column, codePoints(`const s = "${prefix}"; a +`).length + 1);
      assert.equal(d.endLine, 2);
      assert.equal(d.endColumn, d.column + 1);
      assert.equal(covered(d), '*');
    });

    test(`${engine}: ${name} before a mismatched closing tag: the range covers the tag name`, async () => {
      const source = `export const x = <div>${prefix}</section>;`;
      const error = await failure({ source, filename: 'Tag.tsx', engine });
      const [d] = error.data.diagnostics;
      assert.equal(d.line, 1);
      assert.equal(covered(d), 'section', JSON.stringify(d));
      if (engine === 'esbuild') {
        assert.equal(d.notes.length, 1);
        const note = d.notes[0];
        assert.equal(note.file, 'Tag.tsx');
        assert.equal(note.line, 1);
        assert.equal(codePoints(note.lineText).slice(note.column - 1, note.column + 2).join(''), 'div');
      } else {
        assert.equal(d.code, 'TS17002');
      }
    });
  }

  test(`${engine}: every error, then the warnings, in error.data; the shape of a diagnostic`, async () => {
    const source = 'const a = 1;\nconst b = (;\nconst c = );\n';
    const error = await failure({ source, filename: 'src/Two.ts', engine });
    assert.equal(error.code, 1001);
    assert.deepEqual(Object.keys(error.data).sort(), ['diagnostics', 'engine', 'engineVersion', 'filename']);
    assert.equal(error.data.engine, engine);
    assert.match(error.data.engineVersion, /^\d+\.\d+\.\d+/);
    assert.equal(error.data.filename, 'src/Two.ts');
    const errors = error.data.diagnostics.filter((d) => d.severity === 'error');
    assert.ok(errors.length >= 1);
    assert.equal(error.message, `compile failed: ${errors.length} error${errors.length === 1 ? '' : 's'} in src/Two.ts`);
    const severities = error.data.diagnostics.map((d) => d.severity);
    assert.deepEqual(severities, [...severities].sort(), 'errors come before warnings');
    for (const d of error.data.diagnostics) {
      assert.deepEqual(Object.keys(d).sort(), DIAGNOSTIC_KEYS);
      assert.equal(d.file, 'src/Two.ts');
      assert.ok(Array.isArray(d.notes));
      assert.ok(d.code === null || typeof d.code === 'string');
    }
    assert.equal(errors[0].line, 2);
    assert.equal(errors[0].lineText, 'const b = (;');
    if (engine === 'typescript') {
      assert.equal(errors.length, 2, 'TypeScript reports both');
      assert.match(errors[0].code, /^TS\d+$/);
      assert.equal(errors[1].line, 3);
    }
  });

  test(`${engine}: CRLF line ends are not part of lineText`, async () => {
    const error = await failure({ source: 'let a = 1;\r\nlet b = (;\r\nlet c = 3;\r\n', filename: 'crlf.ts', engine });
    const [d] = error.data.diagnostics;
    assert.equal(d.line, 2);
    assert.equal(d.lineText, 'let b = (;');
    assert.equal(codePoints(d.lineText)[d.column - 1], ';');
  });
}

test('esbuild: warnings are returned in result.diagnostics, the code compiles', async () => {
  const result = await compiled(host(), { source: 'export const z = (x: number) => x == -0;\n', filename: 'w.ts' });
  assert.match(result.code, /x == -0/);
  assert.equal(result.diagnostics.length, 1);
  const [d] = result.diagnostics;
  assert.equal(d.severity, 'warning');
  assert.equal(d.code, 'equals-negative-zero');
  assert.equal(d.file, 'w.ts');
  assert.equal(d.line, 1);
  assert.equal(covered(d), '-0');
  assert.ok(d.notes.length >= 1 && typeof d.notes[0].message === 'string');
});

test('esbuild: a warning after non-ASCII text is placed in code points too', async () => {
  const result = await compiled(host(), { source: 'const s = "😀你é"; export const t = (y: number) => typeof y == "strin";', filename: 'w2.ts' });
  const [d] = result.diagnostics;
  assert.equal(d.code, 'impossible-typeof');
  assert.equal(covered(d), '"strin"');
});

test('a clean compile has no diagnostics, on both engines', async () => {
  for (const engine of ENGINES) {
    const result = await compiled(host(), { source: 'export const a: number = 1;', filename: 'ok.ts', engine });
    assert.deepEqual(result.diagnostics, []);
  }
});
