'use strict';
// Source maps from `compile`, decoded with Mozilla's source-map (SourceMapConsumer): a position
// in the generated code maps back to the right ORIGINAL line and column, on both engines, for
// `sourcemap: true` (map in `result.map`) and "inline" (a data: URL comment, `map` null).

const test = require('node:test');
const assert = require('node:assert/strict');
const { sharedHost, compiled, ENGINES, DASHBOARD, inlineMapOf, positionOf, withMap } = require('../test-support/compile');

const host = sharedHost(test);

/** Identifiers that survive compilation unchanged, each on a known line of Dashboard.tsx. */
const MARKERS = ['function reducer', 'function formatValue', 'function classNames', 'function applyFilter', 'const select = useCallback'];

/** Where `needle` is in the original source: 1-based line, 0-based column (source-map's units). */
const original = (needle) => positionOf(DASHBOARD, needle);

/**
 * Check a map against the generated code: each marker's generated position maps back to the
 * marker's original position, and every mapping points into the source.
 */
async function checkMap(map, code, filename) {
  assert.equal(map.version, 3);
  assert.deepEqual(map.sources, [filename]);
  assert.deepEqual(map.sourcesContent, [DASHBOARD], 'the source travels in the map');
  const lineCount = DASHBOARD.split('\n').length;
  await withMap(map, (consumer) => {
    for (const marker of MARKERS) {
      const name = marker.split(' ').pop();
      const generated = positionOf(code, marker);
      // Map the position of the name itself (a token both engines map).
      const generatedName = { line: generated.line, column: generated.column + marker.indexOf(name) };
      const back = consumer.originalPositionFor(generatedName);
      const expected = original(marker);
      assert.equal(back.source, filename, marker);
      assert.equal(back.line, expected.line, `${marker}: generated ${generatedName.line}:${generatedName.column} → original line`);
      assert.equal(back.column, expected.column + marker.indexOf(name), `${marker}: original column`);
    }
    let mappings = 0;
    consumer.eachMapping((m) => {
      mappings++;
      assert.ok(m.originalLine >= 1 && m.originalLine <= lineCount, `mapping to line ${m.originalLine}`);
    });
    assert.ok(mappings > 100, `${mappings} mappings`);
  });
}

for (const engine of ENGINES) {
  test(`${engine}: sourcemap true → a v3 map in result.map that maps back to the original lines`, async () => {
    const result = await compiled(host(), { source: DASHBOARD, filename: 'src/Dashboard.tsx', engine, sourcemap: true });
    assert.equal(typeof result.map, 'string');
    assert.doesNotMatch(result.code, /sourceMappingURL/, 'no comment: the caller decides where the map goes');
    await checkMap(JSON.parse(result.map), result.code, 'src/Dashboard.tsx');
  });

  test(`${engine}: sourcemap "inline" → the map is a data: URL comment and map is null`, async () => {
    const result = await compiled(host(), { source: DASHBOARD, filename: 'Dashboard.tsx', engine, sourcemap: 'inline' });
    assert.equal(result.map, null);
    assert.match(result.code, /\n\/\/# sourceMappingURL=data:application\/json;base64,[A-Za-z0-9+/=]+\n$/);
    await checkMap(inlineMapOf(result.code), result.code, 'Dashboard.tsx');
  });

  test(`${engine}: sourcemap false (default) → no map, no comment`, async () => {
    for (const params of [{}, { sourcemap: false }]) {
      const result = await compiled(host(), { source: 'export const a: number = 1;', filename: 'a.ts', engine, ...params });
      assert.equal(result.map, null);
      assert.doesNotMatch(result.code, /sourceMappingURL/);
    }
  });

  test(`${engine}: a map of a file compiled with an explicit loader names the caller's file`, async () => {
    const source = 'let a = <number>b;\nexport const c: number = a;\n';
    const result = await compiled(host(), { source, filename: 'weird.tsx', loader: 'ts', engine, sourcemap: true });
    const map = JSON.parse(result.map);
    assert.deepEqual(map.sources, ['weird.tsx']);
    assert.equal(map.file, undefined);
    await withMap(map, (consumer) => {
      const back = consumer.originalPositionFor(positionOf(result.code, 'c ='));
      assert.equal(back.line, 2);
    });
  });
}
