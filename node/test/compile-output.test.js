'use strict';
// What `compile` produces, on both engines: every loader (by extension and explicit), every
// JSX runtime, target, format and minify, and code that runs (CommonJS output in a vm).

const test = require('node:test');
const assert = require('node:assert/strict');
const { sharedHost, compile, compiled, ENGINES, DASHBOARD, jsxStubs, runCommonJS } = require('../test-support/compile');

const host = sharedHost(test);

/** A value from the vm's realm as plain JSON data of this one (deepEqual compares prototypes). */
const plain = (value) => JSON.parse(JSON.stringify(value));

/** Run CommonJS output with JSX runtime stubs. */
function run(code) {
  const { runtime, classic } = jsxStubs();
  return runCommonJS(
    code,
    { 'react/jsx-runtime': runtime, 'react/jsx-dev-runtime': runtime, 'preact/jsx-runtime': runtime, react: { useState: (v) => [v, () => {}] } },
    { React: { createElement: classic, Fragment: 'Fragment' }, h: classic, Frag: 'Frag' },
  );
}

const TS_ONLY = 'export const double = (n: number): number => <number>n * 2;\nexport type T = { a: string };\n';
const TSX = 'export const el = (n: number) => <b title="t">{n as number}</b>;\n';
const JS = 'export const triple = (n) => n * 3;\n';
const JSX = 'export const el = (n) => <i>{n}</i>;\n';

test('rpc.hello lists compile and reports the installed engine versions', async () => {
  const { result } = await host().call('rpc.hello');
  assert.ok(result.methods.includes('compile'));
  assert.deepEqual(result.engines, {
    esbuild: require('esbuild/package.json').version,
    typescript: require('typescript/package.json').version,
  });
});

for (const engine of ENGINES) {
  test(`${engine}: result shape, engine and engineVersion`, async () => {
    const result = await compiled(host(), { source: TS_ONLY, filename: 'a.ts', engine });
    assert.deepEqual(Object.keys(result).sort(), ['code', 'diagnostics', 'engine', 'engineVersion', 'map']);
    assert.equal(result.engine, engine);
    assert.equal(result.engineVersion, require(`${engine}/package.json`).version);
    assert.equal(result.map, null);
  });

  test(`${engine}: the ts loader, by .ts, .mts and .cts`, async () => {
    for (const filename of ['a.ts', 'a.mts', 'a.cts']) {
      const result = await compiled(host(), { source: TS_ONLY, filename, engine, format: 'cjs' });
      assert.doesNotMatch(result.code, /: number|type T/, filename);
      assert.equal(run(result.code).double(21), 42, filename);
    }
  });

  test(`${engine}: the tsx loader, by .tsx and by default (input.tsx)`, async () => {
    for (const params of [{ filename: 'a.tsx' }, {}]) {
      const result = await compiled(host(), { source: TSX, engine, format: 'cjs', ...params });
      assert.deepEqual(plain(run(result.code).el(5)), { type: 'b', props: { title: 't', children: 5 } });
    }
  });

  test(`${engine}: the js loader, by .js, .mjs and .cjs`, async () => {
    for (const filename of ['a.js', 'a.mjs', 'a.cjs']) {
      const result = await compiled(host(), { source: JS, filename, engine, format: 'cjs' });
      assert.equal(run(result.code).triple(3), 9, filename);
    }
    const error = (await compile(host(), { source: 'let a: number = 1;', filename: 'types.js', engine })).error;
    assert.equal(error?.code, 1001, 'type annotations are an error in JavaScript');
  });

  test(`${engine}: the jsx loader, by .jsx`, async () => {
    const result = await compiled(host(), { source: JSX, filename: 'a.jsx', engine, format: 'cjs' });
    assert.deepEqual(plain(run(result.code).el(1).props), { children: 1 });
    const error = (await compile(host(), { source: 'let a: number = <i/>;', filename: 'types.jsx', engine })).error;
    assert.equal(error?.code, 1001);
  });

  test(`${engine}: an explicit loader wins over the extension`, async () => {
    // `<number>n` is a type assertion in .ts, an unclosed JSX element in .tsx.
    const refused = (await compile(host(), { source: TS_ONLY, filename: 'App.tsx', engine })).error;
    assert.equal(refused?.code, 1001);
    assert.equal(refused.data.filename, 'App.tsx');
    const asTs = await compiled(host(), { source: TS_ONLY, filename: 'App.tsx', loader: 'ts', engine, format: 'cjs' });
    assert.equal(run(asTs.code).double(2), 4);
    const asTsx = await compiled(host(), { source: TSX, filename: 'widget.ts', loader: 'tsx', engine, format: 'cjs' });
    assert.equal(run(asTsx.code).el(7).type, 'b');
    const unknown = await compiled(host(), { source: JS, filename: 'Widget.vue', loader: 'js', engine, format: 'cjs' });
    assert.equal(run(unknown.code).triple(1), 3);
    // Diagnostics keep the caller's name even when the engine was given another one.
    const named = (await compile(host(), { source: 'let a = (;', filename: 'App.tsx', loader: 'ts', engine })).error;
    assert.equal(named.data.diagnostics[0].file, 'App.tsx');
  });

  test(`${engine}: JSX automatic runtime (default), with importSource, and development`, async () => {
    const plain = await compiled(host(), { source: TSX, engine, format: 'cjs' });
    assert.match(plain.code, /require\("react\/jsx-runtime"\)/);
    assert.equal(run(plain.code).el(1).type, 'b');

    const preact = await compiled(host(), { source: TSX, engine, format: 'cjs', jsx: { runtime: 'automatic', importSource: 'preact' } });
    assert.match(preact.code, /require\("preact\/jsx-runtime"\)/);
    assert.doesNotMatch(preact.code, /"react\//);
    assert.equal(run(preact.code).el(1).type, 'b');

    const dev = await compiled(host(), { source: TSX, engine, format: 'cjs', filename: 'Dev.tsx', jsx: { development: true } });
    assert.match(dev.code, /require\("react\/jsx-dev-runtime"\)/);
    assert.match(dev.code, /jsxDEV/);
    assert.match(dev.code, /Dev\.tsx/, 'the file name is passed to jsxDEV');
    assert.equal(run(dev.code).el(1).type, 'b');
  });

  test(`${engine}: JSX classic runtime, default and with factory and fragment`, async () => {
    const source = 'export const el = () => <><p>x</p></>;\n';
    const react = await compiled(host(), { source, engine, format: 'cjs', jsx: { runtime: 'classic' } });
    assert.match(react.code, /React\.createElement\(React\.Fragment/);
    assert.doesNotMatch(react.code, /require\(/);
    assert.deepEqual(plain(run(react.code).el()), { type: 'Fragment', props: { children: [{ type: 'p', props: { children: ['x'] } }] } });

    const h = await compiled(host(), { source, engine, format: 'cjs', jsx: { runtime: 'classic', factory: 'h', fragment: 'Frag' } });
    assert.match(h.code, /h\(Frag/);
    assert.doesNotMatch(h.code, /React/);
    assert.equal(run(h.code).el().type, 'Frag');
  });

  test(`${engine}: a JSX setting of another runtime is ignored (params or tsconfigRaw)`, async () => {
    const source = 'export const a = <><b/></>;';
    const classic = await compiled(host(), { source, engine, jsx: { runtime: 'classic', importSource: 'preact', development: true } });
    assert.match(classic.code, /React\.createElement\(React\.Fragment/);
    const automatic = await compiled(host(), {
      source,
      engine,
      jsx: { runtime: 'automatic', factory: 'h', fragment: 'F' },
      tsconfigRaw: { compilerOptions: { jsxFactory: 'h2', jsxFragmentFactory: 'F2' } },
    });
    assert.match(automatic.code, /react\/jsx-runtime/);
    assert.doesNotMatch(automatic.code, /\bh\(|\bF\b|h2|F2/);
    const preserve = await compiled(host(), { source, engine, jsx: { runtime: 'preserve', factory: 'h', importSource: 'x', development: true } });
    assert.match(preserve.code, /<><b \/><\/>/);
  });

  test(`${engine}: JSX preserve keeps the JSX`, async () => {
    const result = await compiled(host(), { source: 'export const el = (n: number) => <b title="t">{n}</b>;', engine, jsx: { runtime: 'preserve' } });
    assert.match(result.code, /<b title="t">\{n\}<\/b>/);
    assert.doesNotMatch(result.code, /: number/);
  });

  test(`${engine}: target lowers newer syntax; esnext (default) keeps it`, async () => {
    const source = 'export const pick = (o?: { a?: { b?: number } }) => o?.a?.b ?? -1;\n';
    const modern = await compiled(host(), { source, filename: 'p.ts', engine, format: 'cjs' });
    assert.match(modern.code, /\?\?/);
    assert.match(modern.code, /\?\./);
    const old = await compiled(host(), { source, filename: 'p.ts', engine, format: 'cjs', target: 'es2019' });
    assert.doesNotMatch(old.code, /\?\?|\?\./);
    for (const { code } of [modern, old]) {
      const { pick } = run(code);
      assert.equal(pick({ a: { b: 2 } }), 2);
      assert.equal(pick({}), -1);
      assert.equal(pick(undefined), -1);
    }
  });

  test(`${engine}: format: absent keeps import/export, esm keeps them, cjs turns them into require/exports`, async () => {
    const source = "import { helper } from './helper';\nexport const value: number = helper(2);\n";
    const kept = await compiled(host(), { source, filename: 'm.ts', engine });
    assert.match(kept.code, /^import \{ helper \} from ["']\.\/helper["'];$/m);
    assert.match(kept.code, /^export const value = helper\(2\);$/m);
    const esm = await compiled(host(), { source, filename: 'm.ts', engine, format: 'esm' });
    assert.match(esm.code, /^import \{ helper \} from ["']\.\/helper["'];$/m);
    assert.match(esm.code, /^export (const value|\{)/m);
    assert.doesNotMatch(esm.code, /require\(|exports\./);
    const cjs = await compiled(host(), { source, filename: 'm.ts', engine, format: 'cjs' });
    assert.doesNotMatch(cjs.code, /^(import|export) /m);
    assert.equal(runCommonJS(cjs.code, { './helper': { helper: (n) => n * 10 } }).value, 20);
  });

  test(`${engine}: the ~300-line Dashboard.tsx compiles to code that runs`, async () => {
    const result = await compiled(host(), { source: DASHBOARD, filename: 'Dashboard.tsx', engine, format: 'cjs', target: 'es2020' });
    assert.deepEqual(result.diagnostics, []);
    const exported = run(result.code);
    assert.equal(exported.formatValue(1234.5, 'ms'), '1,235 ms');
    assert.equal(exported.average([1, 2, 3]), 2);
    const metrics = [
      { id: 'b', label: 'Beta', value: 2, trend: [1], severity: 'info' },
      { id: 'a', label: 'Alpha', value: 9, trend: [1], severity: 'error' },
    ];
    assert.deepEqual(exported.applyFilter(metrics, exported.initialFilter).map((m) => m.id), ['a', 'b']);
    assert.equal(exported.Badge({ severity: 'warning' }).type, 'span');
  });
}

test('esbuild: format iife wraps the code in a function that runs', async () => {
  const result = await compiled(host(), { source: 'const n: number = 6; (globalThis as any).out = n * 7;', filename: 'i.ts', format: 'iife' });
  assert.match(result.code, /^\(\(\) => \{/);
  const context = {};
  require('node:vm').runInNewContext(result.code, context);
  assert.equal(context.out, 42);
});

test('esbuild: minify shrinks the code, which still runs', async () => {
  const plain = await compiled(host(), { source: DASHBOARD, filename: 'Dashboard.tsx', format: 'cjs' });
  const small = await compiled(host(), { source: DASHBOARD, filename: 'Dashboard.tsx', format: 'cjs', minify: true });
  assert.ok(small.code.length < plain.code.length * 0.7, `${small.code.length} vs ${plain.code.length}`);
  assert.ok(small.code.split('\n').length < 10, 'minified code is a few lines');
  assert.equal(run(small.code).average([2, 4]), 3);
});

test('class fields get the same semantics from both engines: target decides, tsconfigRaw can override', async () => {
  const source = 'export class A { x = 1 }\n';
  const define = { useDefineForClassFields: true };
  const assign = { useDefineForClassFields: false };
  for (const engine of ENGINES) {
    const fieldsOf = async (target, compilerOptions) => {
      const params = { source, filename: 'c.ts', engine, format: 'cjs', target };
      if (compilerOptions !== undefined) params.tsconfigRaw = JSON.stringify({ compilerOptions });
      const { code } = await compiled(host(), params);
      if (/^\s+x = 1;$/m.test(code)) return 'native';
      if (/this\.x = 1/.test(code)) return 'assign';
      if (/defineProperty|__publicField/.test(code)) return 'define';
      return code;
    };
    assert.equal(await fieldsOf('esnext'), 'native', engine);
    assert.equal(await fieldsOf('es2020'), 'assign', `${engine}: below ES2022 TypeScript assigns`);
    assert.equal(await fieldsOf('es2022'), 'native', engine);
    assert.equal(await fieldsOf('es2020', define), 'define', engine);
    assert.equal(await fieldsOf('esnext', assign), 'assign', engine);
    assert.equal(await fieldsOf('es2020', { target: 'es2022' }), 'assign', `${engine}: the target param wins over tsconfigRaw's`);
  }
});

test('tsconfigRaw settings reach both engines (and the params win over it)', async () => {
  for (const engine of ENGINES) {
    const jsx = await compiled(host(), {
      source: TSX,
      engine,
      format: 'cjs',
      tsconfigRaw: { compilerOptions: { jsx: 'react', jsxImportSource: 'preact' } },
    });
    assert.match(jsx.code, /preact\/jsx-runtime/, `${engine}: jsxImportSource from tsconfigRaw applies; the runtime stays the param's (automatic)`);
    const params = await compiled(host(), {
      source: 'export const el = () => <><p>x</p></>;',
      engine,
      format: 'cjs',
      jsx: { runtime: 'classic', factory: 'h' },
      tsconfigRaw: '{ "compilerOptions": { "jsx": "react-jsx", "jsxFactory": "createElement", "jsxFragmentFactory": "Frag", }, }',
    });
    assert.match(params.code, /h\(Frag, null/, `${engine}: the params' runtime and factory win, tsconfigRaw's fragment applies`);
  }
});
