'use strict';
// The "floor" for comparisons: a minimal hand-written Content-Length ping-pong host in the
// style of the baseline's floor_pipe Node side (rpc.echo only, no validation, no guard).
// Replies produced while handling one chunk leave in one write.
const out = process.stdout;
let chunks = [];
let length = 0;
process.stdin.on('data', (chunk) => {
  chunks.push(chunk);
  length += chunk.length;
  let buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length);
  const replies = [];
  let pos = 0;
  for (;;) {
    const headerEnd = buf.indexOf('\r\n\r\n', pos);
    if (headerEnd < 0) break;
    const n = Number(/Content-Length: *(\d+)/i.exec(buf.latin1Slice(pos, headerEnd))[1]);
    if (buf.length < headerEnd + 4 + n) break;
    const message = JSON.parse(buf.toString('utf8', headerEnd + 4, headerEnd + 4 + n));
    pos = headerEnd + 4 + n;
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: message.params ?? null }));
    replies.push(Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body);
  }
  buf = buf.subarray(pos);
  chunks = buf.length ? [buf] : [];
  length = buf.length;
  if (replies.length) out.write(Buffer.concat(replies));
});
