'use strict';
/*
 * Test helper: run `node rpc-host.js` as a child and talk to it on the raw wire.
 *
 * Deliberately independent of lib/: frames are built and parsed here with a few lines of
 * code, so a bug in lib/framer.js cannot hide itself in the tests. The parser is strict:
 * stdout must contain nothing but well-formed `Content-Length` frames, and any other byte
 * fails the test that reads it (`host.stdoutProblems`).
 *
 * This file and fixtures/ live in test-support/, not test/: `node --test` (Node 20) runs every
 * .js/.mjs/.cjs file under a directory named test/ as a test file, fixtures included.
 */

const { Observed } = require('./observed');
const { spawn } = require('node:child_process');
const path = require('node:path');
const fs = require('node:fs');

const NODE_DIR = path.join(__dirname, '..');
const HOST = path.join(NODE_DIR, 'rpc-host.js');
const FIXTURES = path.join(__dirname, 'fixtures');

/** `Content-Length: N\r\n\r\n` + body; `message` is an object, a JSON string or raw bytes. */
function frame(message) {
  const body = Buffer.isBuffer(message)
    ? message
    : Buffer.from(typeof message === 'string' ? message : JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

function request(id, method, params) {
  const message = { jsonrpc: '2.0', id, method };
  if (params !== undefined) message.params = params;
  return message;
}

function notification(method, params) {
  const message = { jsonrpc: '2.0', method };
  if (params !== undefined) message.params = params;
  return message;
}

class HostProcess extends Observed {
  /**
   * @param {string[]} [args] extra command-line arguments
   * @param {object} [options] spawn options
   */
  constructor(args = [], options = {}) {
    super();
    this.child = spawn(process.execPath, [HOST, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    this.messages = [];
    this.stdoutProblems = [];
    this.stdoutBytes = 0;
    this._chunks = [];
    this._length = 0;
    this._need = null;
    this.child.stdout.on('data', (chunk) => this._onStdout(chunk));
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (text) => {
      this.stderrText += text;
      this._wake();
    });
    this.child.stdin.on('error', () => {}); // the host may be gone already
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => resolve({ code, signal }));
    });
    this._closed = new Promise((resolve) => this.child.on('close', resolve));
    this._nextId = 1_000_000; // far from the explicit ids tests use
  }

  get pid() {
    return this.child.pid;
  }

  _onStdout(chunk) {
    this.stdoutBytes += chunk.length;
    this._chunks.push(chunk);
    this._length += chunk.length;
    for (;;) {
      if (this._need === null) {
        const all = this._chunks.length === 1 ? this._chunks[0] : Buffer.concat(this._chunks, this._length);
        this._chunks = [all];
        const end = all.indexOf('\r\n\r\n');
        if (end < 0) {
          if (all.length > 100 || !'Content-Length: '.startsWith(all.toString('latin1').slice(0, 16))) {
            this.stdoutProblems.push(all.toString('latin1').slice(0, 200));
          }
          return;
        }
        const header = all.toString('latin1', 0, end);
        const match = /^Content-Length: (\d+)$/.exec(header);
        if (match === null) {
          this.stdoutProblems.push(all.toString('latin1').slice(0, 200));
          this._chunks = [];
          this._length = 0;
          return;
        }
        this._need = Number(match[1]);
        this._chunks = [all.subarray(end + 4)];
        this._length = all.length - end - 4;
      }
      if (this._length < this._need) return;
      const all = this._chunks.length === 1 ? this._chunks[0] : Buffer.concat(this._chunks, this._length);
      const body = all.subarray(0, this._need);
      this._chunks = [all.subarray(this._need)];
      this._length = all.length - this._need;
      this._need = null;
      let message;
      try {
        message = JSON.parse(body.toString('utf8'));
      } catch (err) {
        this.stdoutProblems.push(`unparseable body: ${body.toString('utf8').slice(0, 200)}`);
        continue;
      }
      this.messages.push(message);
      this._wake();
    }
  }


  /** Every message whose id is `id`, once at least `count` have arrived. */
  async answersFor(id, count = 1) {
    return this.waitUntil(() => {
      const found = this.messages.filter((m) => !Array.isArray(m) && m.id === id && m.method === undefined);
      return found.length >= count ? found : undefined;
    }, `an answer for id ${JSON.stringify(id)}`);
  }

  /** The (first) answer to id. */
  async answerFor(id) {
    return (await this.answersFor(id))[0];
  }

  /** Wait for `count` messages in total. */
  async messageCount(count, timeoutMs) {
    return this.waitUntil(() => (this.messages.length >= count ? this.messages : undefined), `${count} messages`, timeoutMs);
  }

  /** Send raw bytes or a framed message. */
  write(bytes) {
    this.child.stdin.write(bytes);
  }

  send(message) {
    this.write(frame(message));
  }

  /** Send a request with a fresh integer id; resolve with its answer. */
  async call(method, params) {
    const id = this._nextId++;
    this.send(request(id, method, params));
    return this.answerFor(id);
  }

  /** Close stdin. */
  end() {
    this.child.stdin.end();
  }
}

/** Start a host; it is killed when the test ends. */
function startHost(t, args = [], options = {}) {
  const host = new HostProcess(args, options);
  t.after(() => host.kill());
  return host;
}

/** True while process `pid` exists and is not a zombie. */
function isAlive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

module.exports = { HOST, NODE_DIR, FIXTURES, frame, request, notification, HostProcess, startHost, isAlive, fixture: (name) => path.join(FIXTURES, name) };
