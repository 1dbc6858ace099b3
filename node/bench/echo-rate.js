'use strict';
/*
 * Quick local benchmark: drives a host over its stdio with rpc.echo and prints
 *   seq      calls/s with one call at a time (round-trip latency bound)
 *   c64      calls/s with 64 calls in flight (pipelined)
 *   1MiB / 16MiB  MiB/s for an echo of a mixed ASCII/CJK/emoji string (one direction counted)
 *
 *   node bench/echo-rate.js                      # rpc-host.js
 *   node bench/echo-rate.js --host bench/minimal-host.js
 *   node bench/echo-rate.js --node-args "-r ./bench/no-transcode.js"
 *
 * The client is Node too, so absolute numbers include its own costs: compare ratios only.
 */
const { spawn } = require('node:child_process');
const path = require('node:path');
const { parseArgs } = require('node:util');

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: path.join(__dirname, '..', 'rpc-host.js') },
    'node-args': { type: 'string', default: '' },
    seconds: { type: 'string', default: '1.5' },
  },
});
const seconds = Number(values.seconds);

const { mixed } = require('./mixed-text');

function startHost() {
  const args = [...values['node-args'].split(' ').filter(Boolean), values.host];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'ignore'], cwd: path.join(__dirname, '..') });
  const pending = new Map();
  let chunks = [];
  let length = 0;
  let need = -1;
  child.stdout.on('data', (chunk) => {
    chunks.push(chunk);
    length += chunk.length;
    for (;;) {
      let buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length);
      chunks = [buf];
      if (need < 0) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        need = Number(buf.latin1Slice(16, end));
        buf = buf.subarray(end + 4);
        chunks = [buf];
        length = buf.length;
      }
      if (length < need) return;
      const message = JSON.parse(buf.toString('utf8', 0, need));
      buf = buf.subarray(need);
      chunks = buf.length ? [buf] : [];
      length = buf.length;
      need = -1;
      const resolve = pending.get(message.id);
      pending.delete(message.id);
      resolve(message);
    }
  });
  let nextId = 1;
  const call = (method, params) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
      child.stdin.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]));
    });
  return { child, call };
}

async function run() {
  const host = startHost();
  const { call } = host;
  for (let i = 0; i < 200; i++) await call('rpc.echo', { id: i, text: 'hello' });

  let t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < seconds * 1000) {
    await call('rpc.echo', { id: n, text: 'hello' });
    n++;
  }
  const seq = n / ((performance.now() - t0) / 1000);

  t0 = performance.now();
  n = 0;
  const worker = async () => {
    while (performance.now() - t0 < seconds * 1000) {
      await call('rpc.echo', { id: n, text: 'hello' });
      n++;
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  const c64 = n / ((performance.now() - t0) / 1000);

  const rates = {};
  for (const [label, size, reps] of [['1MiB', 1 << 20, 8], ['16MiB', 16 << 20, 2]]) {
    const text = mixed(size);
    await call('rpc.echo', { text });
    const start = performance.now();
    for (let i = 0; i < reps; i++) {
      const answer = await call('rpc.echo', { id: i, text });
      if (answer.result.text !== text) throw new Error('echo mismatch');
    }
    rates[label] = (reps * size) / (1 << 20) / ((performance.now() - start) / 1000);
  }
  host.child.stdin.end();
  await new Promise((resolve) => host.child.on('exit', resolve));
  console.log(
    `${path.basename(values.host)} ${values["node-args"]}`.trim().padEnd(40),
    `seq ${seq.toFixed(0).padStart(6)}/s  c64 ${c64.toFixed(0).padStart(6)}/s  1MiB ${rates['1MiB'].toFixed(1)} MiB/s  16MiB ${rates['16MiB'].toFixed(1)} MiB/s`,
  );
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});
