'use strict';
/*
 * The floor's Node side: the least code that answers Content-Length framed JSON-RPC echo
 * requests over stdin/stdout. Node built-ins only, no safety (no header validation, no
 * limits, no error answers, no stray-output guard): it is the physical reference that
 * rpcbridge's host is measured against, not a server anyone should use.
 *
 * Tuned only in ways a library can copy:
 *   - chunks are kept in a list and concatenated once a whole frame is present (a 16 MiB body
 *     arriving in 64 KiB chunks is copied once, not 256 times);
 *   - bodies of 64 KiB and more are decoded with ICU (`transcode` to UTF-16 + a UCS-2 view),
 *     ~3x faster than V8's UTF-8 decoder for non-ASCII text, and replies of 64 Ki characters
 *     and more are encoded back the same way (measured in place: 16 MiB round trips ~15%
 *     faster than with V8's UTF-8 writer, 1 MiB about equal);
 *   - a reply is built in one Buffer (header + body), and every reply produced while handling
 *     one input chunk leaves in one write().
 *
 * `compile` (the compile workloads): esbuild's async `transform` called directly, with the
 * options rpcbridge's esbuild engine derives from `{source, filename: "*.tsx"}` (loader tsx,
 * jsx automatic, target esnext, no minify, no source map, logLevel silent); no validation, no
 * diagnostics normalisation, result `{code}`. esbuild (node/node_modules) is required on the
 * first compile; its answer leaves in its own write() when the transform resolves.
 */
const path = require('node:path');
const { transcode } = require('node:buffer');

const ESBUILD = path.join(__dirname, '..', '..', 'node', 'node_modules', 'esbuild');
let esbuild = null;

const LARGE = 64 * 1024;
const TERMINATOR = Buffer.from('\r\n\r\n', 'latin1');

let parts = []; // received, unconsumed chunks
let have = 0; // bytes in parts
let frameEnd = -1; // once a header is parsed: header + body bytes needed from parts[0][0]
let bodyStart = 0;

function decode(body) {
  if (body.length < LARGE) return body.utf8Slice(0, body.length);
  return transcode(body, 'utf8', 'utf16le').ucs2Slice();
}

function frame(json) {
  if (json.length >= LARGE) {
    // UTF-16 code units -> UTF-8 via ICU; then one copy behind the header.
    const body = transcode(Buffer.from(json, 'utf16le'), 'utf16le', 'utf8');
    const head = `Content-Length: ${body.length}\r\n\r\n`;
    const out = Buffer.allocUnsafe(head.length + body.length);
    out.latin1Write(head, 0);
    body.copy(out, head.length);
    return out;
  }
  const size = Buffer.byteLength(json, 'utf8');
  const head = `Content-Length: ${size}\r\n\r\n`;
  const out = Buffer.allocUnsafe(head.length + size);
  out.latin1Write(head, 0);
  out.utf8Write(json, head.length);
  return out;
}

function compile(msg) {
  if (esbuild === null) esbuild = require(ESBUILD);
  const { source, filename } = msg.params;
  esbuild
    .transform(source, { loader: 'tsx', sourcefile: filename, target: 'esnext', minify: false, jsx: 'automatic', logLevel: 'silent' })
    .then((out) => process.stdout.write(frame(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: { code: out.code } }))));
}

function answer(body) {
  const msg = JSON.parse(decode(body));
  if (msg.method === 'compile') return compile(msg);
  const result = msg.params === undefined ? null : msg.params;
  return frame(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
}

process.stdin.on('data', (chunk) => {
  parts.push(chunk);
  have += chunk.length;
  if (frameEnd >= 0 && have < frameEnd) return; // still inside a body: no copy, no scan
  let buf = parts.length === 1 ? parts[0] : Buffer.concat(parts, have);
  let pos = 0;
  const replies = [];
  for (;;) {
    if (frameEnd < 0) {
      const end = buf.indexOf(TERMINATOR, pos);
      if (end < 0) break;
      const length = Number(buf.latin1Slice(pos + 16, end)); // after "Content-Length: "
      bodyStart = end + 4 - pos;
      frameEnd = bodyStart + length;
    }
    if (buf.length - pos < frameEnd) break;
    const reply = answer(buf.subarray(pos + bodyStart, pos + frameEnd));
    if (reply !== undefined) replies.push(reply);
    pos += frameEnd;
    frameEnd = -1;
  }
  buf = buf.subarray(pos);
  parts = buf.length ? [buf] : [];
  have = buf.length;
  if (replies.length === 1) process.stdout.write(replies[0]);
  else if (replies.length > 1) process.stdout.write(Buffer.concat(replies));
});
