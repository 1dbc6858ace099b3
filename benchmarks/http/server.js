'use strict';
/*
 * The HTTP contender's Node side: a long-lived express 5 server on 127.0.0.1, the "put a
 * local HTTP service in front of the compiler" design. Plain express, as an application would
 * write it: `express.json()` (with the size limit raised for the 16 MiB payload workload),
 * handlers, `res.json()` (so express's defaults, e.g. the weak ETag, stay on).
 *
 *   POST /echo     body = params; answers params
 *   POST /compile  body = {source, filename}; esbuild's async `transform` with the floor's
 *                  options (loader tsx, jsx automatic, target esnext, no minify, no source
 *                  map, logLevel silent); answers {code}
 *
 *   node benchmarks/http/server.js
 *
 * Listens on a free port (port 0) and, once listening, prints one line `{"port": N}` on
 * stdout: the handshake the Python side waits for. It exits when its stdin reaches EOF (the
 * Python side closes it to stop the server; a Python side that dies closes it too, so the
 * server never outlives it) or on SIGTERM/SIGINT.
 *
 * express and esbuild come from node/node_modules (express is a devDependency there: the
 * benchmark needs it, rpcbridge's host does not); esbuild is required on the first compile.
 */
const path = require('node:path');

const MODULES = path.join(__dirname, '..', '..', 'node', 'node_modules');
const express = require(path.join(MODULES, 'express'));
let esbuild = null;

const app = express();
app.use(express.json({ limit: '256mb' }));

app.post('/echo', (req, res) => {
  res.json(req.body);
});

app.post('/compile', async (req, res) => {
  if (esbuild === null) esbuild = require(path.join(MODULES, 'esbuild'));
  const { source, filename } = req.body;
  const out = await esbuild.transform(source, {
    loader: 'tsx',
    sourcefile: filename,
    target: 'esnext',
    minify: false,
    jsx: 'automatic',
    logLevel: 'silent',
  });
  res.json({ code: out.code });
});

const server = app.listen(0, '127.0.0.1', (err) => {
  if (err) {
    process.stderr.write(`http server: cannot listen: ${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});

function stop() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}

process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
