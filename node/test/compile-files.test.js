'use strict';
// `compileFiles` and `compile` with `tsconfig`: tsconfig.json files found on disk (two of them,
// one with "extends") give the esbuild CLI's output byte for byte; the host writes the outputs
// itself; a broken file or tsconfig.json fails only the files it concerns; bad params are -32602.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { NODE_DIR } = require('../test-support/wire');
const { COMPILE_FIXTURES, sharedHost } = require('../test-support/compile');

const PROJECT = path.join(COMPILE_FIXTURES, 'project');
const ESBUILD_CLI = path.join(NODE_DIR, 'node_modules', '.bin', 'esbuild');
const host = sharedHost(test);

/** Every .ts/.tsx/.mts file below `dir`, sorted, relative to it. */
function sources(dir) {
  return fs
    .readdirSync(dir, { recursive: true })
    .filter((name) => /\.(?:ts|tsx|mts)$/.test(name))
    .sort();
}

function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpcbridge-files-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What the esbuild CLI writes for `files` (relative to `cwd`) into `outdir`: {relative path: text}. */
function esbuildCli(files, outdir, cwd, extra = []) {
  execFileSync(ESBUILD_CLI, [...files, `--outdir=${outdir}`, '--jsx=automatic', '--log-level=error', ...extra], { cwd });
  return readTree(outdir);
}

function readTree(dir) {
  const out = {};
  for (const name of fs.readdirSync(dir, { recursive: true }).sort()) {
    const file = path.join(dir, name);
    if (fs.statSync(file).isFile()) out[name.split(path.sep).join('/')] = fs.readFileSync(file, 'utf8');
  }
  return out;
}

async function compileFiles(params) {
  const answer = await host().call('compileFiles', params);
  if (answer.error !== undefined) throw new Error(JSON.stringify(answer.error));
  return answer.result;
}

test('compileFiles on a tree with two tsconfig.json (one extends a third) writes what the esbuild CLI writes', async (t) => {
  const ours = tempDir(t);
  const theirs = tempDir(t);
  const files = sources(PROJECT);
  assert.ok(files.length >= 5);
  const expected = esbuildCli(files, theirs, PROJECT);
  const result = await compileFiles({
    files: files.map((name) => ({ path: path.join(PROJECT, name), out: path.join(ours, name.replace(/\.[^.]+$/, '.js')) })),
  });
  assert.equal(result.engine, 'esbuild');
  assert.ok(result.files.every((f) => f.ok && f.diagnostics.length === 0), JSON.stringify(result));
  assert.deepEqual(readTree(ours), expected);
  // What the tsconfig.json files did (so that equal outputs prove they were read):
  assert.match(expected['app/src/Panel.js'], /^"use strict";/); // strict, from the base through "extends"
  assert.match(expected['app/src/Panel.js'], /h\(Fragment, null, \/\* @__PURE__ \*\/ h\("h1"/); // jsxFactory, jsxFragmentFactory
  assert.match(expected['app/src/Panel.js'], /__decorateClass/); // experimentalDecorators
  assert.match(expected['app/src/Panel.js'], /this\.title = /); // useDefineForClassFields: false
  assert.match(expected['lib/Button.js'], /from "preact\/jsx-runtime"/); // jsxImportSource
  assert.match(expected['lib/Button.js'], /this\.label = "ok"/); // target es2020: no [[Define]] fields
  assert.doesNotMatch(expected['lib/Button.js'], /use strict/);
  assert.match(expected['loose/plain.js'], /from "react\/jsx-runtime"/); // no tsconfig: the defaults
});

test('compile with tsconfig: true gives the esbuild CLI output of each file, also for text that is not on disk yet', async (t) => {
  const theirs = tempDir(t);
  const files = sources(PROJECT);
  const expected = esbuildCli(files, theirs, PROJECT);
  for (const name of files) {
    const filename = path.join(PROJECT, name);
    const answer = await host().call('compile', { source: fs.readFileSync(filename, 'utf8'), filename, tsconfig: true });
    assert.equal(answer.error, undefined, JSON.stringify(answer.error));
    assert.equal(answer.result.code, expected[name.replace(/\.[^.]+$/, '.js').split(path.sep).join('/')], name);
  }
  const edited = await host().call('compile', { source: 'export const a = 1;', filename: path.join(PROJECT, 'app', 'src', 'New.ts'), tsconfig: true });
  assert.equal(edited.result.code, '"use strict";\nexport const a = 1;\n');
  const explicit = await host().call('compile', { source: 'export const a = 1;', filename: 'x.ts', tsconfig: path.join(PROJECT, 'app', 'tsconfig.json') });
  assert.equal(explicit.result.code, '"use strict";\nexport const a = 1;\n');
});

test('compile with tsconfig: a syntax error names the file with code-point columns; a source map names the file', async () => {
  const filename = path.join(PROJECT, 'app', 'src', 'Broken.tsx');
  const answer = await host().call('compile', { source: 'const s = "é你😀"; let = ;', filename, tsconfig: true });
  assert.equal(answer.error.code, 1001);
  const [d] = answer.error.data.diagnostics;
  assert.equal(d.file, filename);
  assert.equal([...d.lineText][d.column - 1], ';'); // code points: the emoji counts one
  const mapped = await host().call('compile', { source: 'export const a: number = 1;', filename, tsconfig: true, sourcemap: true });
  assert.deepEqual(JSON.parse(mapped.result.map).sources, [filename]);
  assert.doesNotMatch(mapped.result.code, /sourceMappingURL/);
});

test('compileFiles: a broken file fails alone, the others are written; diagnostics count code points', async (t) => {
  const src = tempDir(t);
  const out = tempDir(t);
  fs.writeFileSync(path.join(src, 'good.ts'), 'export const good: number = 1;\n');
  fs.writeFileSync(path.join(src, 'bad.tsx'), 'const s = "é你😀"; const t = (1 +* 2);\n');
  fs.writeFileSync(path.join(src, 'also.mts'), 'export const also = 2;\n');
  const names = ['good.ts', 'bad.tsx', 'also.mts'];
  const outs = { 'good.ts': 'good.js', 'bad.tsx': 'bad.js', 'also.mts': 'also.mjs' };
  const result = await compileFiles({ files: names.map((n) => ({ path: path.join(src, n), out: path.join(out, outs[n]) })) });
  const [good, bad, also] = result.files;
  assert.equal(good.ok, true);
  assert.equal(also.ok, true);
  assert.equal(bad.ok, false);
  const [d] = bad.diagnostics;
  assert.equal(d.file, path.join(src, 'bad.tsx'));
  assert.equal(d.line, 1);
  assert.equal([...d.lineText][d.column - 1], '*'); // code points: the emoji counts one
  assert.deepEqual(Object.keys(readTree(out)).sort(), ['also.mjs', 'good.js']);
  assert.equal(fs.readFileSync(path.join(out, 'also.mjs'), 'utf8'), 'export const also = 2;\n');
});

test('compileFiles: a broken tsconfig.json fails the files under it (naming it), not the others', async (t) => {
  const src = tempDir(t);
  const out = tempDir(t);
  fs.mkdirSync(path.join(src, 'sick'));
  fs.writeFileSync(path.join(src, 'sick', 'tsconfig.json'), '{"compilerOptions": {"jsx": "react",\n');
  fs.writeFileSync(path.join(src, 'sick', 'a.tsx'), 'export const a = <b/>;\n');
  fs.writeFileSync(path.join(src, 'fine.ts'), 'export const fine = 1;\n');
  const result = await compileFiles({
    files: [
      { path: path.join(src, 'sick', 'a.tsx'), out: path.join(out, 'sick', 'a.js') },
      { path: path.join(src, 'fine.ts'), out: path.join(out, 'fine.js') },
    ],
  });
  const [sick, fine] = result.files;
  assert.equal(fine.ok, true, JSON.stringify(result));
  const named = [...sick.diagnostics, ...result.diagnostics].filter((d) => d.file !== null && d.file.endsWith('tsconfig.json'));
  assert.ok(named.length > 0, JSON.stringify(result));
  assert.ok(fs.existsSync(path.join(out, 'fine.js')));
});

test('compileFiles: sourcemap writes <out>.map beside each output, with sources relative to it (as the esbuild CLI)', async (t) => {
  const ours = tempDir(t);
  const theirs = tempDir(t);
  const lib = path.join(PROJECT, 'lib');
  const files = sources(lib);
  const expected = esbuildCli(files, theirs, lib, ['--sourcemap']);
  await compileFiles({ files: files.map((name) => ({ path: path.join(lib, name), out: path.join(ours, name.replace(/\.[^.]+$/, '.js')) })), sourcemap: true });
  assert.deepEqual(readTree(ours), expected);
  assert.match(expected['Button.js'], /\/\/# sourceMappingURL=Button\.js\.map\n$/);
  assert.ok(JSON.parse(expected['Button.js.map']).sources[0].endsWith('lib/Button.tsx'));
});

test('compileFiles without out only checks: nothing is written, errors are still reported', async () => {
  const result = await compileFiles({ files: [path.join(PROJECT, 'lib', 'math.mts')] });
  assert.deepEqual(result.files, [{ path: path.join(PROJECT, 'lib', 'math.mts'), out: null, ok: true, diagnostics: [] }]);
});

for (const [params, field] of [
  [{}, 'files'],
  [{ files: [] }, 'files'],
  [{ files: [{ path: 'a.ts', extra: 1 }] }, 'files'],
  [{ files: [{ path: 'a.ts', out: 'x.js' }, { path: 'b.ts', out: 'x.js' }] }, 'files'],
  [{ files: [{ path: 'a.ts', out: 'x.js' }, { path: './a.ts', out: 'y.js' }] }, 'files'],
  [{ files: [{ path: 'a.ts', out: 'build/a' }] }, 'files'],
  [{ files: ['a.ts'], sourcemap: 'inline' }, 'sourcemap'],
  [{ files: ['a.ts'], tsconfig: '/no/such/tsconfig.json' }, 'tsconfig'],
  [{ files: ['a.ts'], jsx: { runtime: 'magic' } }, 'jsx.runtime'],
  [{ files: ['a.ts'], colour: 'red' }, 'colour'],
]) {
  test(`compileFiles ${JSON.stringify(params)} is -32602 naming ${field}`, async () => {
    const { error } = await host().call('compileFiles', params);
    assert.equal(error.code, -32602);
    assert.equal(error.data.field, field);
  });
}

test('compile with tsconfig on the typescript engine: TypeScript reads the file through extends; its jsx and class-field settings apply', async () => {
  const panel = path.join(PROJECT, 'app', 'src', 'Panel.tsx');
  const app = await host().call('compile', { source: fs.readFileSync(panel, 'utf8'), filename: panel, tsconfig: true, engine: 'typescript' });
  assert.equal(app.error, undefined, JSON.stringify(app.error));
  assert.match(app.result.code, /__decorate\(/); // experimentalDecorators, from the base through "extends"
  assert.match(app.result.code, /h\(Fragment, null/); // jsxFactory, jsxFragmentFactory
  assert.match(app.result.code, /this\.title = /); // useDefineForClassFields: false
  const button = path.join(PROJECT, 'lib', 'Button.tsx');
  const lib = await host().call('compile', { source: fs.readFileSync(button, 'utf8'), filename: button, tsconfig: true, engine: 'typescript' });
  assert.match(lib.result.code, /from "preact\/jsx-runtime"/);
  assert.match(lib.result.code, /this\.label = "ok"/); // "target": "es2020" in the file: fields assigned, as esbuild does
  const plain = await host().call('compile', { source: fs.readFileSync(button, 'utf8'), filename: button, engine: 'typescript' });
  assert.match(plain.result.code, /react\/jsx-runtime/); // without tsconfig: the params' defaults
});

test('compile: tsconfig with tsconfigRaw, or naming no file, is -32602', async () => {
  for (const params of [
    { source: '', tsconfig: true, tsconfigRaw: {} },
    { source: '', tsconfig: '/no/such/tsconfig.json' },
    { source: '', tsconfig: 1 },
  ]) {
    const { error } = await host().call('compile', params);
    assert.equal(error.code, -32602, JSON.stringify(params));
    assert.equal(error.data.field, 'tsconfig');
  }
});
