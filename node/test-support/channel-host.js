'use strict';
/*
 * Test helper: run `node rpc-host.js --channel-fd 3` as a child and talk to it over the
 * isolated channel, the way the Python side does with a socketpair and pass_fds.
 *
 * The child is spawned with stdio ['ignore', 'pipe', 'pipe', 'pipe']: fd 0 is /dev/null, and
 * fd 3 is a 'pipe', which libuv makes with socketpair(AF_UNIX, SOCK_STREAM) on Unix — exactly
 * what Python's socket.socketpair() gives; `child.stdio[3]` is our end, a net.Socket we can
 * write to, read from and half-close (end()). (The host itself refuses an fd that is not a
 * socket, so a test that gets answers also proves that.) fd 1 and fd 2 are separate pipes here,
 * so a test can tell stray stdout bytes from stderr records; Python points both at one pipe.
 *
 * Like wire.js, independent of lib/: the channel must carry nothing but well-formed
 * `Content-Length` frames, and any other byte is a problem (`channelProblems`).
 */

const { Observed } = require('./observed');
const { spawn } = require('node:child_process');
const { HOST, frame } = require('./wire');

const CHANNEL_FD = 3;

class ChannelHost extends Observed {
  /**
   * @param {string[]} [args] extra command-line arguments (after `--channel-fd N`)
   * @param {object} [options] spawn options, and `fd`: the channel's fd in the child (default 3;
   *   the fds between 3 and it are left closed)
   */
  constructor(args = [], { fd = CHANNEL_FD, ...options } = {}) {
    super();
    const stdio = ['ignore', 'pipe', 'pipe'];
    while (stdio.length < fd) stdio.push('ignore');
    stdio.push('pipe');
    this.child = spawn(process.execPath, [HOST, '--channel-fd', String(fd), ...args], { stdio, ...options });
    this.channel = this.child.stdio[fd];
    this.messages = [];
    this.channelProblems = [];
    this.channelBytes = 0;
    this.stdoutText = '';
    this._buffer = Buffer.alloc(0);
    this._nextId = 1_000_000;

    this.channel.on('data', (chunk) => this._onChannel(chunk));
    this.channel.on('error', () => {}); // the host may be gone already
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (text) => {
      this.stdoutText += text;
      this._wake();
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text) => {
      this.stderrText += text;
      this._wake();
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    // 'close' comes once every stdio stream, the channel included, has been read to its end.
    this._closed = new Promise((resolve) => this.child.on('close', resolve));
  }

  _onChannel(chunk) {
    this.channelBytes += chunk.length;
    let buf = this._buffer.length === 0 ? chunk : Buffer.concat([this._buffer, chunk]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > 100 || !'Content-Length: '.startsWith(buf.toString('latin1').slice(0, 16))) {
          this.channelProblems.push(buf.toString('latin1').slice(0, 200));
          buf = Buffer.alloc(0);
        }
        break;
      }
      const match = /^Content-Length: (\d+)$/.exec(buf.toString('latin1', 0, end));
      if (match === null) {
        this.channelProblems.push(buf.toString('latin1').slice(0, 200));
        buf = Buffer.alloc(0);
        break;
      }
      const length = Number(match[1]);
      if (buf.length < end + 4 + length) break;
      const body = buf.toString('utf8', end + 4, end + 4 + length);
      buf = buf.subarray(end + 4 + length);
      try {
        this.messages.push(JSON.parse(body));
      } catch {
        this.channelProblems.push(`unparseable body: ${body.slice(0, 200)}`);
      }
    }
    this._buffer = buf;
    this._wake();
  }


  /** The answer to `id`. */
  answerFor(id, timeoutMs) {
    return this.waitUntil(() => this.messages.find((m) => m.id === id && m.method === undefined), `an answer for id ${id}`, timeoutMs);
  }

  /** Wait for `count` messages in total. */
  messageCount(count, timeoutMs) {
    return this.waitUntil(() => (this.messages.length >= count ? this.messages : undefined), `${count} messages`, timeoutMs);
  }

  /** Send raw bytes on the channel. */
  write(bytes) {
    this.channel.write(bytes);
  }

  /** Send a request with a fresh integer id; resolve with its answer. */
  call(method, params) {
    const id = this._nextId++;
    const message = { jsonrpc: '2.0', id, method };
    if (params !== undefined) message.params = params;
    this.write(frame(message));
    return this.answerFor(id);
  }

  /** Half-close: no more requests (socket shutdown(SHUT_WR)); answers can still arrive. */
  end() {
    this.channel.end();
  }
}

/** Start a host on the channel; it is killed when the test ends. */
function startChannelHost(t, args = [], options = {}) {
  const host = new ChannelHost(args, options);
  t.after(() => host.kill());
  return host;
}

module.exports = { ChannelHost, startChannelHost, CHANNEL_FD, frame };
