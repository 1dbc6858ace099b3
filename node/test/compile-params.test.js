'use strict';
// `compile` params: every field checked (-32602 naming it, data {field}), defaults, loaders
// from file extensions. Unit tests of lib/compile/params.js, then the same through the wire.

const test = require('node:test');
const assert = require('node:assert/strict');
const { parseCompileParams, LOADER_OF_EXTENSION } = require('../lib/compile/params');
const { RpcError } = require('../lib/rpc-error');
const { sharedHost, compile } = require('../test-support/compile');

const host = sharedHost(test);

/** [params, field, message fragment] — each is refused with -32602 naming `field`. */
const INVALID = [
  [undefined, null, 'params must be an object'],
  [['x'], null, 'params must be an object'],
  [{}, 'source', '"source" is required'],
  [{ source: 42 }, 'source', '"source" must be a string'],
  [{ source: null }, 'source', '"source" must be a string'],
  [{ source: 'x', extra: 1 }, 'extra', 'unknown param "extra"'],
  [{ source: 'x', filename: '' }, 'filename', '"filename" must be a non-empty string'],
  [{ source: 'x', filename: 7 }, 'filename', '"filename" must be a non-empty string'],
  [{ source: 'x', filename: 'App.vue' }, 'filename', 'cannot choose a loader for "filename" "App.vue"'],
  [{ source: 'x', filename: 'Makefile' }, 'filename', 'cannot choose a loader for "filename"'],
  [{ source: 'x', loader: 'css' }, 'loader', '"loader" must be "ts", "tsx", "js" or "jsx"'],
  [{ source: 'x', loader: null }, 'loader', '"loader" must be'],
  [{ source: 'x', jsx: 'automatic' }, 'jsx', '"jsx" must be an object'],
  [{ source: 'x', jsx: [] }, 'jsx', '"jsx" must be an object'],
  [{ source: 'x', jsx: { pragma: 'h' } }, 'jsx.pragma', 'unknown param "jsx.pragma"'],
  [{ source: 'x', jsx: { runtime: 'react' } }, 'jsx.runtime', '"jsx.runtime" must be "automatic", "classic" or "preserve"'],
  [{ source: 'x', jsx: { importSource: '' } }, 'jsx.importSource', '"jsx.importSource" must be a non-empty string'],
  [{ source: 'x', jsx: { factory: 1 } }, 'jsx.factory', '"jsx.factory" must be a non-empty string'],
  [{ source: 'x', jsx: { fragment: false } }, 'jsx.fragment', '"jsx.fragment" must be a non-empty string'],
  [{ source: 'x', jsx: { development: 'yes' } }, 'jsx.development', '"jsx.development" must be true or false'],
  [{ source: 'x', target: 2020 }, 'target', '"target" must be a non-empty string'],
  [{ source: 'x', target: '' }, 'target', '"target" must be a non-empty string'],
  [{ source: 'x', format: 'umd' }, 'format', '"format" must be "esm", "cjs" or "iife"'],
  [{ source: 'x', sourcemap: 'external' }, 'sourcemap', '"sourcemap" must be false, true or "inline"'],
  [{ source: 'x', sourcemap: 1 }, 'sourcemap', '"sourcemap" must be false, true or "inline"'],
  [{ source: 'x', minify: 'true' }, 'minify', '"minify" must be true or false'],
  [{ source: 'x', tsconfigRaw: 5 }, 'tsconfigRaw', '"tsconfigRaw" must be an object'],
  [{ source: 'x', tsconfigRaw: ['a'] }, 'tsconfigRaw', '"tsconfigRaw" must be an object'],
  [{ source: 'x', tsconfigRaw: { compilerOptions: 'strict' } }, 'tsconfigRaw', '"compilerOptions" must be an object'],
  [{ source: 'x', tsconfigRaw: '{ "compilerOptions": "strict" }' }, 'tsconfigRaw', '"compilerOptions" must be an object'],
  [{ source: 'x', tsconfigRaw: '{\n  "compilerOptions": { bad' }, 'tsconfigRaw', 'is not valid tsconfig.json text'],
  [{ source: 'x', tsconfigRaw: '[]' }, 'tsconfigRaw', '"tsconfigRaw" must be a JSON object'],
  [{ source: 'x', engine: 'swc' }, 'engine', '"engine" must be "esbuild" or "typescript"'],
  [{ source: 'x', engine: 'typescript', minify: true }, 'minify', '"minify" is not supported by the typescript engine'],
  [{ source: 'x', engine: 'typescript', format: 'iife' }, 'format', '"format" "iife" is not supported by the typescript engine'],
];

function refused(params) {
  try {
    parseCompileParams(params);
  } catch (err) {
    assert.ok(RpcError.isRpcError(err), `not an RpcError: ${err}`);
    return err;
  }
  assert.fail(`accepted: ${JSON.stringify(params)}`);
}

test('every invalid field is -32602 with a message naming it and data {field}', () => {
  for (const [params, field, fragment] of INVALID) {
    const err = refused(params);
    assert.equal(err.code, -32602, JSON.stringify(params));
    assert.deepEqual(err.data, { field }, JSON.stringify(params));
    assert.ok(err.message.startsWith('compile: '), err.message);
    assert.ok(err.message.includes(fragment), `${JSON.stringify(params)}: ${err.message}`);
    if (field !== null) assert.ok(err.message.includes(`"${field}"`), err.message);
  }
});

test('the contract\'s example message for sourcemap, exactly', () => {
  assert.equal(refused({ source: 'x', sourcemap: 'yes' }).message, 'compile: "sourcemap" must be false, true or "inline"');
});

test('defaults: input.tsx, tsx, automatic JSX, esnext, module syntax kept, no map, no minify, esbuild', () => {
  assert.deepEqual(parseCompileParams({ source: '' }), {
    source: '',
    filename: 'input.tsx',
    loader: 'tsx',
    jsx: { runtime: 'automatic' },
    target: 'esnext',
    format: undefined,
    sourcemap: false,
    minify: false,
    tsconfigRaw: undefined,
    engine: 'esbuild',
  });
});

test('loaders by extension (case-insensitive), and an explicit loader wins', () => {
  const expected = { '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.jsx': 'jsx' };
  assert.deepEqual({ ...LOADER_OF_EXTENSION }, expected);
  for (const [extension, loader] of Object.entries(expected)) {
    assert.equal(parseCompileParams({ source: '', filename: `src/App${extension}` }).loader, loader, extension);
    assert.equal(parseCompileParams({ source: '', filename: `App${extension.toUpperCase()}` }).loader, loader, extension);
  }
  assert.equal(parseCompileParams({ source: '', filename: 'App.tsx', loader: 'ts' }).loader, 'ts');
  assert.equal(parseCompileParams({ source: '', filename: 'App.vue', loader: 'js' }).loader, 'js');
});

test('tsconfigRaw text is read like tsconfig.json (comments, trailing commas) and located when bad', () => {
  const text = '{\n  // a comment\n  "compilerOptions": { /* inline */ "jsx": "react", "strict": true, },\n}\n';
  assert.deepEqual(parseCompileParams({ source: '', tsconfigRaw: text }).tsconfigRaw, { compilerOptions: { jsx: 'react', strict: true } });
  assert.deepEqual(parseCompileParams({ source: '', tsconfigRaw: ' ' }).tsconfigRaw, {});
  assert.match(refused({ source: '', tsconfigRaw: '{\n  "a": 1\n  "b": 2\n}' }).message, /line 3, column 3 of its text/);
});

test('all fields given are kept (tsconfigRaw parsed)', () => {
  const params = {
    source: 'x',
    filename: 'a/b.jsx',
    loader: 'tsx',
    jsx: { runtime: 'classic', importSource: 'preact', factory: 'h', fragment: 'Fragment', development: true },
    target: 'es2019',
    format: 'cjs',
    sourcemap: 'inline',
    minify: false,
    tsconfigRaw: '{"compilerOptions": {"strict": true}}',
    engine: 'typescript',
  };
  assert.deepEqual(parseCompileParams(params), { ...params, tsconfigRaw: { compilerOptions: { strict: true } } });
});

test('through the wire: each invalid field is answered -32602 with data {field}', async () => {
  const h = host();
  const answers = await Promise.all(INVALID.map(([params]) => compile(h, params)));
  answers.forEach((answer, i) => {
    const [params, field, fragment] = INVALID[i];
    assert.equal(answer.error?.code, -32602, `${JSON.stringify(params)} → ${JSON.stringify(answer)}`);
    assert.deepEqual(answer.error.data, { field });
    assert.ok(answer.error.message.includes(fragment), answer.error.message);
  });
});

test('values only an engine can judge: -32602 naming the field, from either engine', async () => {
  const h = host();
  const cases = [
    [{ source: 'x', target: 'es1' }, 'target', /Invalid target "es1"/],
    [{ source: 'x', target: 'es1', engine: 'typescript' }, 'target', /TS6046/],
    [{ source: 'x', target: 'es3', engine: 'typescript' }, 'target', /TS5108/],
    [{ source: 'x', jsx: { runtime: 'classic', factory: '1h' } }, 'jsx.factory', /Invalid JSX factory/],
    [{ source: 'x', jsx: { runtime: 'classic', factory: '1h' }, engine: 'typescript' }, 'jsx.factory', /TS5067/],
    [{ source: 'x', tsconfigRaw: { compilerOptions: { moduleResolution: 'nowhere' } }, engine: 'typescript' }, 'tsconfigRaw', /TS6046/],
  ];
  for (const [params, field, pattern] of cases) {
    const answer = await compile(h, params);
    assert.equal(answer.error?.code, -32602, `${JSON.stringify(params)} → ${JSON.stringify(answer)}`);
    assert.deepEqual(answer.error.data, { field }, JSON.stringify(params));
    assert.match(answer.error.message, pattern);
  }
});
