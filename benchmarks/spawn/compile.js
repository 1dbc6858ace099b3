'use strict';
/*
 * The spawn-per-call baselines (the approach rpcbridge replaces, see /work/shared/CONTEXT.md):
 * one process per call, one JSON request `{"method", "params"}` in, one JSON answer
 * `{"result": ...}` out, then exit.
 *
 *   node benchmarks/spawn/compile.js                          request on stdin (until EOF),
 *                                                             answer on stdout (spawn-stdout)
 *   node benchmarks/spawn/compile.js --input IN --output OUT  request read from the file IN,
 *                                                             answer written to the file OUT
 *                                                             (spawn-tempfile)
 *
 *   compile   esbuild's async `transform` with the floor's options (loader tsx, jsx automatic,
 *             target esnext, no minify, no source map, logLevel silent); result `{code}`
 *   rpc.echo  result = params (so the echo workloads can run against it too)
 *
 * esbuild (node/node_modules) is required only for compile, as a per-call script would.
 */
const fs = require('node:fs');
const path = require('node:path');

const ESBUILD = path.join(__dirname, '..', '..', 'node', 'node_modules', 'esbuild');

function handle(msg) {
  if (msg.method === 'compile') {
    const esbuild = require(ESBUILD);
    const { source, filename } = msg.params;
    return esbuild
      .transform(source, { loader: 'tsx', sourcefile: filename, target: 'esnext', minify: false, jsx: 'automatic', logLevel: 'silent' })
      .then((out) => ({ code: out.code }));
  }
  return Promise.resolve(msg.params === undefined ? null : msg.params);
}

function option(name) {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

const input = option('--input');
const output = option('--output');

if (input !== undefined || output !== undefined) {
  if (!input || !output) {
    process.stderr.write('usage: node compile.js [--input IN --output OUT]\n');
    process.exit(2);
  }
  const msg = JSON.parse(fs.readFileSync(input, 'utf8'));
  handle(msg).then((result) => fs.writeFileSync(output, JSON.stringify({ result })));
} else {
  const chunks = [];
  process.stdin.on('data', (chunk) => chunks.push(chunk));
  process.stdin.on('end', () => {
    const msg = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    handle(msg).then((result) => process.stdout.write(JSON.stringify({ result })));
  });
}
