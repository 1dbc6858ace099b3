'use strict';
/*
 * Where frames come from and go to: stdin/stdout (the default), or one UNIX stream socket on
 * file descriptor N (`--channel-fd N`, the isolated channel of docs/protocol.md §5).
 *
 * What it does: `openChannel(channelFd, stdio, log)` returns
 *
 *   { input, output, write(buf, cb), writev(list, cb), inputName, outputName }
 *
 * `input` is the Readable the framer is fed from; `output` the stream 'drain' and 'error' come
 * from; `write` is the one function that puts frame bytes on the wire (the frame writer is its
 * only caller), and `writev` the same for a frame made of several Buffers (the stream, corked,
 * hands them to the OS together; `cb` fires once); the names are for log messages. On stdio,
 * `input` is process.stdin and `write` the real stdout writer captured by the stdout guard.
 * On a socket, `input` and `output` are the same net.Socket, and the guard's stdout writer is
 * not used at all: fd 1 is then just the log pipe, like fd 2.
 *
 * Goals: the isolated channel makes the data path unreachable from everything the stdout guard
 * cannot cover (fs.writeSync(1, …), child processes with stdio "inherit", native code writing
 * to fd 1): those all go to fd 1, and fd 1 is no longer the channel. Everything downstream
 * (framer, backpressure, one write per frame, flush before exit, EPIPE, end of input) works the
 * same on both, because a socket is a Duplex stream with the same 'data'/'end'/'drain'/'error'
 * events as stdin and stdout.
 *
 * Plan: check the fd before Node sees it (open? a socket?), because net.Socket's own errors
 * ("Unsupported fd type: FILE") do not tell a caller what to fix; then
 * `new net.Socket({ fd, readable: true, writable: true, allowHalfOpen: true })` — both
 * directions asked for explicitly (the documented default for an fd is false for each, though
 * Node 20 reads and writes without them), and allowHalfOpen, which does matter: without it
 * the socket ends its writable side as soon as the peer half-closes, which is how Python says
 * "no more requests" while it still reads the remaining answers. libuv puts the fd in
 * non-blocking mode; nothing closes it but the process's exit. Node marks fds 0-15 (and higher
 * ones up to the first unused number) close-on-exec at start-up and offers no fcntl(), so a
 * higher N would leak into every child process the host starts: that gets a warning.
 */

const fs = require('node:fs');
const net = require('node:net');

/** A --channel-fd that cannot be used; the host exits 2 with the message. */
class ChannelError extends Error {
  constructor(message) {
    super(message);
    this.name = 'ChannelError';
  }
}

/** O_CLOEXEC as Linux shows it in /proc/self/fdinfo/N's octal `flags`. */
const LINUX_O_CLOEXEC = 0o2000000;

/**
 * @param {number|undefined} channelFd from --channel-fd; undefined means stdin/stdout
 * @param {{writeStdout: Function, stdout: import('node:stream').Writable}} stdio the real
 *   stdout, from the stdout guard
 * @param {object} [log] for the close-on-exec warning
 * @returns {{input: import('node:stream').Readable, output: import('node:stream').Writable,
 *   write: (buf: Buffer, cb: (err?: Error|null) => void) => boolean,
 *   writev: (list: Buffer[], cb: (err?: Error|null) => void) => boolean,
 *   inputName: string, outputName: string}}
 * @throws {ChannelError} the fd is not open, not a socket, or a socket Node cannot stream on
 */
function openChannel(channelFd, stdio, log) {
  if (channelFd === undefined) {
    return {
      input: process.stdin,
      output: stdio.stdout,
      write: stdio.writeStdout,
      writev: (list, cb) => corkedWrite(stdio.stdout, stdio.writeStdout, list, cb),
      inputName: 'stdin',
      outputName: 'stdout',
    };
  }
  checkSocketFd(channelFd);
  let socket;
  try {
    socket = new net.Socket({ fd: channelFd, readable: true, writable: true, allowHalfOpen: true });
  } catch (err) {
    // e.g. a datagram socket: "Unsupported fd type: UDP"
    throw new ChannelError(`--channel-fd ${channelFd}: not a stream socket Node can use (${err.message})`);
  }
  if (log !== undefined && inheritedByChildren(channelFd)) {
    log.warn(
      `channel fd ${channelFd} is not close-on-exec: every child process the host starts inherits it ` +
        '(Node marks fds 0-15 close-on-exec at start-up, higher ones only up to the first unused number); ' +
        'pass the socket as an fd from 3 to 15',
    );
  }
  const name = `channel fd ${channelFd}`;
  const write = (buf, cb) => socket.write(buf, cb);
  return {
    input: socket,
    output: socket,
    write,
    writev: (list, cb) => corkedWrite(socket, write, list, cb),
    inputName: name,
    outputName: name,
  };
}

/**
 * Write the Buffers of one frame in one go: while the stream is corked its writes are only
 * queued, and uncork() hands them all to `_writev` (writev(2) on a pipe or a socket). Nothing
 * can come between them: the frame writer is the only writer of the channel.
 * @returns {boolean} what the last write() returned (false: wait for 'drain')
 */
function corkedWrite(stream, write, list, cb) {
  const last = list.length - 1;
  stream.cork();
  try {
    for (let i = 0; i < last; i++) write(list[i]);
    return write(list[last], cb);
  } finally {
    stream.uncork();
  }
}

function checkSocketFd(fd) {
  let stat;
  try {
    stat = fs.fstatSync(fd);
  } catch (err) {
    const why = err.code === 'EBADF' ? 'is not open' : `cannot be inspected (${err.message})`;
    throw new ChannelError(`--channel-fd ${fd}: fd ${fd} ${why}; pass the child's end of a socketpair (Python: pass_fds)`);
  }
  if (!stat.isSocket()) {
    throw new ChannelError(`--channel-fd ${fd}: fd ${fd} is not a socket (${describeKind(stat)}); pass the child's end of a socketpair`);
  }
}

function describeKind(stat) {
  if (stat.isFile()) return 'it is a regular file';
  if (stat.isFIFO()) return 'it is a pipe';
  if (stat.isCharacterDevice()) return 'it is a character device';
  if (stat.isDirectory()) return 'it is a directory';
  if (stat.isBlockDevice()) return 'it is a block device';
  // Nothing was passed at that number and Node's own event loop took it (epoll, eventfd…).
  return 'probably one of Node\'s own fds: was anything passed at that number?';
}

/** True when Linux says the fd survives exec(); false when it does not or we cannot tell. */
function inheritedByChildren(fd) {
  let info;
  try {
    info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'latin1');
  } catch {
    return false; // not Linux, or no /proc
  }
  const match = /^flags:\s*([0-7]+)$/m.exec(info);
  return match !== null && (parseInt(match[1], 8) & LINUX_O_CLOEXEC) === 0;
}

module.exports = { openChannel, ChannelError, corkedWrite };
