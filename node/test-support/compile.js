'use strict';
/*
 * Test helpers for `compile` (node/test/compile*.test.js): a host shared by the tests of one
 * file, running compiled CommonJS output, decoding source maps, sources big enough to take a
 * while, and the host's child processes. Lives in test-support/ because `node --test` runs
 * every .js under test/.
 */

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { SourceMapConsumer } = require('source-map');
const { HostProcess, FIXTURES } = require('./wire');

const COMPILE_FIXTURES = path.join(FIXTURES, 'compile');
const DASHBOARD = fs.readFileSync(path.join(COMPILE_FIXTURES, 'Dashboard.tsx'), 'utf8');
const ENGINES = Object.freeze(['esbuild', 'typescript']);

/**
 * One host for every test of a file: started lazily, killed by the file's `after` hook.
 * @param {import('node:test')} nodeTest the node:test module (for `after`)
 * @param {object} [options] spawn options (env…)
 * @returns {() => HostProcess}
 */
function sharedHost(nodeTest, options = {}) {
  let host = null;
  nodeTest.after(async () => {
    if (host === null) return;
    host.end();
    await host.finished();
  });
  return () => {
    if (host === null) host = new HostProcess([], options);
    return host;
  };
}

/**
 * Call `compile` and return the answer (`{result}` or `{error}`).
 * @param {HostProcess} host
 * @param {object} params
 */
function compile(host, params) {
  return host.call('compile', params);
}

/**
 * Call `compile` and return its result, failing the test with the error if there is one.
 * @param {HostProcess} host
 * @param {object} params
 */
async function compiled(host, params) {
  const answer = await compile(host, params);
  if (answer.error !== undefined) throw new Error(`compile failed: ${JSON.stringify(answer.error, null, 2)}`);
  return answer.result;
}

/** A stand-in for react/jsx-runtime (and dev), preact/jsx-runtime and React.createElement. */
function jsxStubs() {
  const element = (type, props, key) => ({ type: typeof type === 'function' ? type.name || 'anonymous' : type, props: props ?? {}, key });
  const classic = (type, props, ...children) => element(type, { ...(props ?? {}), children });
  const runtime = { jsx: element, jsxs: element, jsxDEV: element, Fragment: 'Fragment' };
  return { runtime, classic };
}

/**
 * Run CommonJS output in a fresh context and return its module.exports.
 * @param {string} code
 * @param {Record<string, *>} [modules] what require(name) returns
 * @param {Record<string, *>} [globals] extra globals (React, h…)
 */
function runCommonJS(code, modules = {}, globals = {}) {
  const module = { exports: {} };
  const requireStub = (name) => {
    if (Object.prototype.hasOwnProperty.call(modules, name)) return modules[name];
    throw new Error(`test require(): unexpected module ${JSON.stringify(name)}`);
  };
  const context = vm.createContext({ module, exports: module.exports, require: requireStub, ...globals });
  vm.runInContext(code, context, { filename: 'compiled.cjs' });
  return module.exports;
}

/**
 * The map appended to `code` as a data: URL comment.
 * @param {string} code
 * @returns {object} the parsed map
 */
function inlineMapOf(code) {
  const match = /\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/.exec(code);
  if (match === null) throw new Error(`no inline source map at the end of:\n${code.slice(-300)}`);
  return JSON.parse(Buffer.from(match[1], 'base64').toString('utf8'));
}

/**
 * Where (1-based line, 0-based column, as source-map counts) the first `needle` is in `text`.
 * @param {string} text
 * @param {string} needle
 */
function positionOf(text, needle) {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`${JSON.stringify(needle)} not found in:\n${text}`);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, column: before[before.length - 1].length };
}

/**
 * Decode a v3 map with Mozilla's source-map and call `fn(consumer)`.
 * @param {string|object} map
 * @param {(consumer: import('source-map').SourceMapConsumer) => *} fn
 */
function withMap(map, fn) {
  return SourceMapConsumer.with(typeof map === 'string' ? JSON.parse(map) : map, null, fn);
}

/**
 * A TSX source of `count` distinct components (~12 lines each): big enough to keep an engine busy.
 * @param {number} count
 */
function bigSource(count) {
  const parts = ["import { useState } from 'react';"];
  for (let i = 0; i < count; i++) {
    parts.push(`
interface Props${i} { label: string; values: readonly number[]; onPick?(value: number): void }
export function Component${i}({ label, values, onPick }: Props${i}) {
  const [picked, setPicked] = useState<number | null>(null);
  const total: number = values.reduce((sum, v) => sum + v * ${i}, 0);
  return (
    <ul title={label} data-total={total}>
      {values.map((v) => (
        <li key={v} className={picked === v ? 'picked' : undefined} onClick={() => { setPicked(v); onPick?.(v); }}>{label}: {v}</li>
      ))}
    </ul>
  );
}`);
  }
  return parts.join('\n');
}

/**
 * The pids of the direct children of `pid` with their command names (Linux /proc).
 * @param {number} pid
 * @returns {{pid: number, comm: string}[]}
 */
function childProcesses(pid) {
  const found = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    if (Number(fields[1]) === pid) found.push({ pid: Number(entry), comm: stat.slice(stat.indexOf('(') + 1, close) });
  }
  return found;
}

/** Code points of a string, as Python indexes it. */
const codePoints = (text) => Array.from(text);

module.exports = {
  COMPILE_FIXTURES,
  DASHBOARD,
  ENGINES,
  sharedHost,
  compile,
  compiled,
  jsxStubs,
  runCommonJS,
  inlineMapOf,
  positionOf,
  withMap,
  bigSource,
  childProcesses,
  codePoints,
};
