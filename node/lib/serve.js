'use strict';
/*
 * The host's I/O loop: channel input → FrameReader → Dispatcher → FrameWriter → channel output.
 * The channel (lib/channel.js) is stdin/stdout, or the socket of --channel-fd N.
 *
 * What it does: `serve()` builds the method table (built-ins + handler modules), wires the
 * framer, dispatcher, writer and lifecycle together, starts reading the channel, and runs the
 * modules' init() — requests that arrive meanwhile wait in the dispatcher until it is done.
 *
 * Goals: every protocol rule lives in the modules it wires (framer.js, dispatcher.js,
 * lifecycle.js); this file only connects streams to them, so each of those stays testable
 * without a process. The only policy here is backpressure: when the output's write() returns
 * false, the input is paused until 'drain', so a Python side that stops reading stops being
 * served instead of growing our memory. End of input (stdin EOF, or the socket's 'end' when
 * Python half-closes it) is the graceful shutdown; an error on the output — on a socket, any
 * error, since it destroys both directions — means Python is gone. (Batching replies is the
 * dispatcher's: the handlers started for one input chunk run corked. Corking for a whole
 * event-loop turn, to also catch async handlers that settle without I/O, was measured with the
 * benchmark's Python client: no gain at 64 calls in flight, ~3 % slower one call at a time; so
 * it is not done.) The other policy is memory: once a message of 8 MiB or more has been
 * received or sent, a full garbage collection runs after the next input chunk is handled, to
 * free that message's transient copies early (lib/large-garbage.js). With a handler thread
 * (lib/handler-thread.js, the default) the modules' init() and dispose() run there; the
 * watchdog (lib/watchdog.js) and rpc.stats (lib/host-stats.js) are started here.
 */

const { FrameReader } = require('./framer');
const { LargeGarbage } = require('./large-garbage');
const { FrameWriter } = require('./frame-writer');
const { Dispatcher } = require('./dispatcher');
const { Lifecycle } = require('./lifecycle');
const { RpcError, ErrorCodes } = require('./rpc-error');
const { createBuiltins } = require('./builtins');
const { buildMethodTable, initModules, disposeModules } = require('./handler-loader');
const { HostStats } = require('./host-stats');
const { Watchdog } = require('./watchdog');
const { withDefaults } = require('./cli-options');

/** How many bytes of skipped input are quoted in the warning. */
const GARBAGE_PREVIEW = 200;

/**
 * Start serving on the channel.
 * @param {object} options
 * @param {{maxBodySize: number, graceMs: number}} options.options parsed command line
 * @param {import('./handler-loader').HandlerModule[]} options.modules loaded and checked
 * @param {ReturnType<import('./channel').openChannel>} options.channel where frames come
 *   from and go to
 * @param {object} options.log
 * @param {import('./handler-thread').HandlerThread|null} [options.handlerThread] when the
 *   modules run in a handler thread (then `modules` are its stand-ins)
 * @returns {{dispatcher: Dispatcher, writer: FrameWriter, lifecycle: Lifecycle}}
 */
function serve({ options, modules, channel, log, handlerThread = null }) {
  const settings = withDefaults(options);
  const { input, output, inputName } = channel;
  let lifecycle = null;
  let inputStopped = false;

  const largeGarbage = new LargeGarbage();
  const writer = new FrameWriter({
    write: channel.write,
    writev: channel.writev,
    onLargeFrame: (bytes) => largeGarbage.note(bytes),
    stream: output,
    onBlocked: () => input.pause(),
    onDrained: () => {
      if (!inputStopped) input.resume();
    },
    onError: () => lifecycle.outputFailed(),
  });
  output.on('error', () => lifecycle.outputFailed());

  const methodNames = [];
  let stats = null;
  const builtins = createBuiltins({
    listMethods: () => methodNames.slice(),
    shutdown: () => lifecycle.shutdown('rpc.shutdown'),
    stats: () => stats.report(),
  });
  const methods = buildMethodTable(builtins, modules);
  methodNames.push(...Array.from(methods.keys()).sort());

  const dispatcher = new Dispatcher({ writer, methods, log });
  const framer = new FrameReader({
    maxBodySize: options.maxBodySize,
    onFrame: (body) => {
      largeGarbage.note(body.length);
      dispatcher.receiveFrame(body);
    },
    onGarbage: (garbage) => log.warn(describeGarbage(garbage, inputName)),
    onOversized: (info) => {
      log.warn(`discarding a frame body of ${info.length} bytes: over the limit of ${info.limit} bytes (--max-body-size)`);
      dispatcher.receiveOversized(info);
    },
  });
  lifecycle = new Lifecycle({
    dispatcher,
    writer,
    graceMs: options.graceMs,
    log,
    outputName: channel.outputName,
    dispose: (disposeLog) => (handlerThread === null ? disposeModules(modules, disposeLog) : handlerThread.dispose()),
    settleHandlers: () => (handlerThread === null ? Promise.resolve() : handlerThread.settle()),
    stopInput: () => {
      inputStopped = true;
      input.pause();
    },
  });
  lifecycle.install();
  if (handlerThread !== null) handlerThread.onFatal = (code, message) => lifecycle.fatal(code, message);
  stats = new HostStats({
    dispatcher,
    handlerThread: () => {
      if (handlerThread !== null) return handlerThread.stats();
      return { mode: modules.length === 0 ? 'none' : 'main' }; // 'none': no handler modules
    },
    watchdogMs: settings.watchdogMs,
  });
  if (settings.watchdogMs > 0) {
    // Started once the first input has been handled (the handshake, for rpcbridge), not at
    // boot: its worker costs the start-up 5-7 ms otherwise (docs/performance.md). A host stuck
    // before its first answer is the handshake's timeout to catch.
    const watchdog = new Watchdog({ limitMs: settings.watchdogMs });
    input.once('data', () => setImmediate(() => watchdog.start()));
  }

  input.on('data', (chunk) => {
    framer.push(chunk);
    // The chunk, the bodies it completed and their decoded text are garbage now (a request's
    // params live on, its handler has not started yet); so is what a huge reply sent since
    // left behind. The moment to collect, if a huge message came or went.
    largeGarbage.collect();
  });
  let ended = false;
  const inputEnded = () => {
    if (ended) return;
    ended = true;
    framer.end();
    dispatcher.closeOutgoing(new RpcError(ErrorCodes.ServerError, `${inputName} was closed: Python can no longer answer`));
    lifecycle.shutdown(`${inputName} closed`);
  };
  input.on('end', inputEnded);
  // On a socket, input and output are one stream: a read error (ECONNRESET) destroys both
  // directions, so the output's 'error' listener above (Python is gone) covers it.
  if (input !== output) {
    input.on('error', (err) => {
      log.warn(`reading ${inputName} failed: ${err.message}`);
      inputEnded();
    });
  }

  (handlerThread === null ? initModules(modules, dispatcher) : handlerThread.init(dispatcher)).then(
    () => dispatcher.setReady(),
    (err) => lifecycle.fatal(2, err.message),
  );
  return { dispatcher, writer, lifecycle };
}

function describeGarbage({ bytes, length, reason }, inputName) {
  const preview = JSON.stringify(bytes.subarray(0, GARBAGE_PREVIEW).toString('utf8'));
  const more = length > GARBAGE_PREVIEW ? ` (first ${GARBAGE_PREVIEW} shown)` : '';
  return `skipped ${length} byte(s) of ${inputName} that are not a frame: ${reason}: ${preview}${more}`;
}

module.exports = { serve };
