'use strict';
// `typecheck` in a running host: semantic diagnostics (TS2322) with code-point columns, kept
// warm and re-checked after edits (text sent by the caller, or a file saved on disk), an
// inferred project without tsconfig.json, the main thread free during a check, bad params,
// and TypeScript missing or without a compiler API (1002).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startHost, request } = require('../test-support/wire');
const { COMPILE_FIXTURES } = require('../test-support/compile');

function project(t, files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rpcbridge-check-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const TSCONFIG = JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler' }, include: ['src'] });
const SHAPES = 'export interface Point { x: number; y: number }\nexport const origin: Point = { x: 0, y: 0 };\n';
const USE = 'import { origin } from "./shapes";\nexport const label = "é你😀"; const n: number = origin.x;\nexport const twice = n * 2;\n';

async function typecheck(host, params) {
  const answer = await host.call('typecheck', params);
  if (answer.error !== undefined) throw new Error(JSON.stringify(answer.error));
  return answer.result;
}

test('typecheck reports TS2322 with its file, line and code-point column; a fix sent as text clears it; a broken import shape is seen in the importer', async (t) => {
  const dir = project(t, { 'tsconfig.json': TSCONFIG, 'src/shapes.ts': SHAPES, 'src/use.ts': USE.replace('origin.x', '"s"') });
  const host = startHost(t, [], { cwd: dir });
  const first = await typecheck(host, { tsconfig: path.join(dir, 'tsconfig.json') });
  assert.equal(first.project, path.join(dir, 'tsconfig.json'));
  assert.equal(first.engine, 'typescript');
  assert.equal(first.files, 2);
  assert.equal(first.diagnostics.length, 1, JSON.stringify(first.diagnostics));
  const [d] = first.diagnostics;
  assert.equal(d.code, 'TS2322');
  assert.equal(d.severity, 'error');
  assert.equal(d.file, path.join('src', 'use.ts'));
  assert.equal(d.line, 2);
  assert.match(d.message, /Type 'string' is not assignable to type 'number'/);
  assert.equal([...d.lineText].slice(d.column - 1, d.endColumn - 1).join(''), 'n'); // the emoji counts one

  const fixed = await typecheck(host, { tsconfig: 'tsconfig.json', changes: [{ path: 'src/use.ts', text: USE }] });
  assert.deepEqual(fixed.diagnostics, []);

  const shapeChanged = await typecheck(host, { tsconfig: 'tsconfig.json', changes: [{ path: 'src/shapes.ts', text: SHAPES.replace(/x: number/, 'x: string').replace('x: 0', 'x: "0"') }] });
  assert.deepEqual(
    shapeChanged.diagnostics.map((x) => [x.file, x.line, x.code]),
    [[path.join('src', 'use.ts'), 2, 'TS2322']],
  );

  // {path} without text: back to the files on disk (use.ts on disk still has the error).
  const back = await typecheck(host, { tsconfig: 'tsconfig.json', changes: [{ path: 'src/shapes.ts' }, { path: 'src/use.ts' }] });
  assert.equal(back.diagnostics.length, 1);
  assert.equal(back.diagnostics[0].code, 'TS2322');
});

test('typecheck sees a file saved on disk without being told, and new files of the project', async (t) => {
  const dir = project(t, { 'tsconfig.json': TSCONFIG, 'src/shapes.ts': SHAPES, 'src/use.ts': USE });
  const host = startHost(t, [], { cwd: dir });
  assert.deepEqual((await typecheck(host, { tsconfig: 'tsconfig.json' })).diagnostics, []);
  const file = path.join(dir, 'src', 'use.ts');
  fs.writeFileSync(file, `${USE}export const bad: string = twice;\n`);
  const later = new Date(Date.now() + 5000);
  fs.utimesSync(file, later, later); // a distinct mtime even on a coarse clock
  const saved = await typecheck(host, { tsconfig: 'tsconfig.json' });
  assert.deepEqual(saved.diagnostics.map((x) => [x.line, x.code]), [[4, 'TS2322']]);
  fs.writeFileSync(path.join(dir, 'src', 'extra.ts'), 'export const e: boolean = 1;\n');
  const added = await typecheck(host, { tsconfig: 'tsconfig.json' });
  assert.equal(added.files, 3);
  assert.deepEqual(added.diagnostics.map((x) => [path.basename(x.file), x.code]).sort(), [['extra.ts', 'TS2322'], ['use.ts', 'TS2322']]);
});

test('typecheck without a tsconfig.json checks the files given as an inferred strict project', async (t) => {
  const dir = project(t, { 'a.ts': 'export function f(x) { return x; }\n' });
  const host = startHost(t, [], { cwd: dir });
  const result = await typecheck(host, { files: ['a.ts'] });
  assert.equal(result.project, null);
  assert.deepEqual(result.diagnostics.map((x) => x.code), ['TS7006']); // strict: implicit any
});

test('typecheck reports only the files asked for, plus the project-wide problems', async (t) => {
  const dir = project(t, { 'tsconfig.json': TSCONFIG, 'src/shapes.ts': 'export const s: string = 1;\n', 'src/use.ts': 'export const u: number = "1";\n' });
  const host = startHost(t, [], { cwd: dir });
  const result = await typecheck(host, { files: ['src/shapes.ts'] }); // its nearest tsconfig.json
  assert.equal(result.project, path.join(dir, 'tsconfig.json'));
  assert.deepEqual(result.diagnostics.map((x) => x.file), [path.join('src', 'shapes.ts')]);
});

test('a running check leaves the host main thread free: an echo sent after it is answered first', async (t) => {
  const dir = project(t, { 'tsconfig.json': TSCONFIG, 'src/shapes.ts': SHAPES, 'src/use.ts': USE });
  const host = startHost(t, [], { cwd: dir });
  host.send(request(1, 'typecheck', { tsconfig: 'tsconfig.json' })); // cold: loads TypeScript and the libraries
  host.send(request(2, 'rpc.echo', { ping: true }));
  await host.answerFor(1);
  const order = host.messages.filter((m) => m.id === 1 || m.id === 2).map((m) => m.id);
  assert.deepEqual(order, [2, 1]);
});

for (const [params, field] of [
  [{}, 'files'],
  [{ files: 'a.ts' }, 'files'],
  [{ files: ['a.ts'], tsconfig: 3 }, 'tsconfig'],
  [{ files: ['a.ts'], changes: [{ text: 'x' }] }, 'changes'],
  [{ files: ['a.ts'], changes: [{ path: 'a.ts', text: 1 }] }, 'changes'],
  [{ files: ['a.ts'], colour: 'red' }, 'colour'],
]) {
  test(`typecheck ${JSON.stringify(params)} is -32602 naming ${field}`, async (t) => {
    const host = startHost(t);
    const { error } = await host.call('typecheck', params);
    assert.equal(error.code, -32602);
    assert.equal(error.data.field, field);
  });
}

test('typecheck without TypeScript, or with TypeScript 7 (no compiler API), is 1002 with the install command', async (t) => {
  for (const module of ['typescript-that-is-not-installed', path.join(COMPILE_FIXTURES, 'fake-typescript-7.cjs')]) {
    const host = startHost(t, [], { env: { ...process.env, RPCBRIDGE_TYPESCRIPT_MODULE: module } });
    const { error } = await host.call('typecheck', { files: ['a.ts'] });
    assert.equal(error.code, 1002, JSON.stringify(error));
    assert.match(error.data.install, /typescript@~5\.9/);
  }
});
