'use strict';
/*
 * The spawn-per-call baseline (the approach rpcbridge replaces, see /work/shared/CONTEXT.md):
 * `node benchmarks/spawn/compile.js` reads one JSON request `{"method", "params"}` from stdin
 * until EOF, writes one JSON answer `{"result": ...}` to stdout and exits.
 *
 *   compile   esbuild's async `transform` with the floor's options (loader tsx, jsx automatic,
 *             target esnext, no minify, no source map, logLevel silent); result `{code}`
 *   rpc.echo  result = params (so the echo workloads can run against it too)
 *
 * esbuild (node/node_modules) is required only for compile, as a per-call script would.
 */
const path = require('node:path');

const ESBUILD = path.join(__dirname, '..', '..', 'node', 'node_modules', 'esbuild');

function reply(result) {
  process.stdout.write(JSON.stringify({ result }));
}

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  const msg = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (msg.method === 'compile') {
    const esbuild = require(ESBUILD);
    const { source, filename } = msg.params;
    esbuild
      .transform(source, { loader: 'tsx', sourcefile: filename, target: 'esnext', minify: false, jsx: 'automatic', logLevel: 'silent' })
      .then((out) => reply({ code: out.code }));
  } else {
    reply(msg.params === undefined ? null : msg.params);
  }
});
