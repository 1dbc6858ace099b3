'use strict';
/*
 * How the host ends (docs/protocol.md §5).
 *
 *   end of input (stdin EOF, or the --channel-fd socket's 'end'), SIGTERM, rpc.shutdown (and
 *   SIGINT when stdin is a terminal)
 *       → graceful: stop taking requests (new ones get -32000), let in-flight requests finish
 *         within --grace-ms (those still running are then answered -32000 and their signal
 *         aborted), dispose() every module, flush the output (stdout or the socket) and
 *         stderr, exit 0
 *   parent process gone (ppid changed, checked every second) → exit 0 at once
 *   error on the output (EPIPE, ECONNRESET: nobody reads)    → exit 0 at once, quietly
 *   uncaught exception                                       → log it, exit 1
 *   unhandled promise rejection                              → log it, keep serving
 *   an init() of a handler module fails                      → log it, exit 2
 *
 * Goals: never lose a reply at exit — process.exit() is only called once every frame has been
 * handed to the OS (measured: write(8 MB) + process.exit delivered 64 KiB,
 * research/node-peers.md TL;DR 5) — and always end: at the end of input the host exits even if a
 * handler module left timers, sockets or child processes alive, which would otherwise keep
 * Node running forever.
 *
 * Plan: `shutdown(reason)` is idempotent and returns a promise that settles once the modules
 * are disposed (rpc.shutdown answers null at that point); the exit itself follows when every
 * request, rpc.shutdown included, has been answered and both output streams are flushed.
 */

const { inspect } = require('node:util');
const { RpcError, ErrorCodes } = require('./rpc-error');
const { flushStderr } = require('./log');

/** Upper bound for the final flush of the output, in case the reader stopped reading. */
const FLUSH_TIMEOUT_MS = 60_000;

/** How long the handlers get to react to the aborts at the end of the grace period. */
const ABORT_SETTLE_MS = 1000;

const isShutdownCall = (call) => call.method === 'rpc.shutdown';

class Lifecycle {
  /**
   * @param {object} options
   * @param {import('./dispatcher').Dispatcher} options.dispatcher
   * @param {import('./frame-writer').FrameWriter} options.writer
   * @param {(log: object) => Promise<void>} options.dispose disposes the handler modules
   * @param {number} options.graceMs
   * @param {object} options.log
   * @param {string} [options.outputName] what the frames go to, for the log ("stdout")
   * @param {() => void} [options.stopInput] stop reading the input (used when crashing)
   * @param {() => Promise<void>} [options.settleHandlers] resolves once the handler thread has
   *   seen every abort posted so far (lib/handler-thread.js); bounded here
   * @param {(code: number) => void} [options.exit] defaults to process.exit
   */
  constructor({
    dispatcher,
    writer,
    dispose,
    graceMs,
    log,
    outputName = 'stdout',
    stopInput = () => {},
    settleHandlers = () => Promise.resolve(),
    exit = (code) => process.exit(code),
  }) {
    this.settleHandlers = settleHandlers;
    this.dispatcher = dispatcher;
    this.writer = writer;
    this.dispose = dispose;
    this.graceMs = graceMs;
    this.log = log;
    this.outputName = outputName;
    this.stopInput = stopInput;
    this._exit = exit;

    this._disposed = null;
    this._exiting = false;
    this._watchdog = null;
  }

  /** Install the process-level hooks: signals, ppid watchdog, crash handlers. */
  install() {
    process.on('SIGTERM', () => this.shutdown('SIGTERM'));
    // Ctrl-C in a terminal reaches every process of the foreground group: the host's parent
    // (Python) decides what happens then, and ends the host by ending its input or SIGTERM. Only a
    // host run by hand, its stdin a terminal, takes SIGINT as a request to shut down.
    process.on('SIGINT', () => {
      if (process.stdin.isTTY) this.shutdown('SIGINT');
      else this.log.debug('SIGINT ignored: the parent process ends the host (end of input or SIGTERM)');
    });
    process.on('uncaughtException', (err) => this.crash(err));
    process.on('unhandledRejection', (reason) => {
      this.log.error(`unhandled promise rejection (the host keeps serving): ${describe(reason)}`);
    });
    const ppid = process.ppid;
    this._watchdog = setInterval(() => {
      if (process.ppid !== ppid) this.exitNow(0); // our parent died: nobody will read a reply
    }, 1000);
    this._watchdog.unref();
  }

  /**
   * Begin the graceful shutdown (idempotent).
   * @param {string} reason for the log
   * @returns {Promise<void>} settles once in-flight requests are done and modules disposed
   */
  shutdown(reason) {
    if (this._disposed === null) {
      this._disposed = this._stopServing(reason).catch((err) => {
        this.log.error(`shutdown step failed, exiting anyway: ${describe(err)}`);
      });
      this._disposed.then(() => this._finish());
    }
    return this._disposed;
  }

  async _stopServing(reason) {
    this.log.info(`shutting down (${reason})`);
    this.dispatcher.stopAccepting();
    const finished = await withTimeout(this.dispatcher.whenDrained(isShutdownCall), this.graceMs);
    if (!finished) {
      const error = new RpcError(
        ErrorCodes.ServerError,
        `Server error: the host shut down before the request finished (grace period ${this.graceMs} ms)`,
      );
      const n = this.dispatcher._busy(isShutdownCall); // still running: those the message counts
      // Signals first, answers after the handlers (in the handler thread, too) have seen them:
      // what a handler does on abort happens before the answer, and the answer is the host's
      // last word before it exits — a request Python sends after it finds the host gone.
      this.dispatcher.abortSignals(error, isShutdownCall);
      await withTimeout(this.settleHandlers(), ABORT_SETTLE_MS);
      this.dispatcher.abortInflight(error, isShutdownCall);
      this.log.warn(`${n} request(s) still running after the ${this.graceMs} ms grace period were answered -32000`);
    }
    // dispose() gets its own grace period: a module that never finishes it cannot keep us alive.
    if (!(await withTimeout(this.dispose(this.log), Math.max(this.graceMs, 1000)))) {
      this.log.warn('dispose() of the handler modules did not finish in time; exiting anyway');
    }
  }

  async _finish() {
    // rpc.shutdown calls answer null now. One that never started (the modules' init() never
    // finished) cannot: after a short wait it is answered here.
    await withTimeout(this.dispatcher.whenDrained(), 1000);
    this.dispatcher.abortInflight(new RpcError(ErrorCodes.ServerError, 'Server error: the host shut down before the request started'));
    const flushed = await withTimeout(this.writer.flush(), FLUSH_TIMEOUT_MS);
    if (!flushed) this.log.warn(`${this.outputName} was not read for ${FLUSH_TIMEOUT_MS} ms; exiting with replies unsent`);
    if (this._exiting) return;
    this._exiting = true;
    this.log.info('exiting (code 0)');
    await flushStderr();
    this._exit(0);
  }

  /** The output failed (EPIPE, ECONNRESET: the reader is gone): nothing can be delivered, leave quietly. */
  outputFailed() {
    this.exitNow(0);
  }

  /** Exit at once, without flushing (nobody is reading). */
  exitNow(code) {
    if (this._exiting) return;
    this._exiting = true;
    this._exit(code);
  }

  /**
   * Log a fatal problem and exit with `code` once stderr is flushed (bounded to 1 s).
   * @param {number} code
   * @param {string} message
   */
  fatal(code, message) {
    if (this._exiting) return;
    this._exiting = true;
    this.stopInput();
    this.log.error(message);
    flushStderr(1000).then(() => this._exit(code));
  }

  /** An uncaught exception: the process state is unknown, so log it and exit 1. */
  crash(err) {
    this.fatal(1, `uncaught exception, exiting: ${describe(err)}`);
  }
}

/**
 * Wait for `promise`, at most `ms` milliseconds.
 * @returns {Promise<boolean>} true if it settled in time
 */
function withTimeout(promise, ms) {
  let timer;
  return Promise.race([
    promise.then(() => true),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms, false);
    }),
  ]).finally(() => clearTimeout(timer));
}

function describe(value) {
  if (value instanceof Error) return value.stack || String(value);
  return inspect(value, { depth: 4, breakLength: Infinity });
}

module.exports = { Lifecycle };
