'use strict';
/*
 * The host's command line (docs/protocol.md §5):
 *
 *   node rpc-host.js [--handlers PATH]... [--max-body-size BYTES] [--grace-ms MS] [--channel-fd N]
 *                    [--handler-thread worker|main] [--handler-heap-mb MB] [--preempt-ms MS] [--watchdog-ms MS]
 *
 * The last four default to $RPCBRIDGE_HANDLER_THREAD, $RPCBRIDGE_HANDLER_HEAP_MB,
 * $RPCBRIDGE_PREEMPT_MS and $RPCBRIDGE_WATCHDOG_MS when set (so `open_bridge(env=...)` can set
 * them), else to worker, 0 (Node's default heap limit), 100 and 10000 (docs/reliability.md).
 *
 * `parseOptions(argv)` returns the options or throws a UsageError, whose message the host
 * prints before exiting with code 2. Both `--name value` and `--name=value` are accepted.
 * `channelFd` is only present when --channel-fd is given; whether that fd is an open socket is
 * checked when the channel is opened (lib/channel.js), also exit 2.
 */

const { parseArgs } = require('node:util');
const { constants } = require('node:buffer');
const { DEFAULT_MAX_BODY_SIZE } = require('./framer');

const DEFAULT_GRACE_MS = 5000;
const DEFAULT_PREEMPT_MS = 100;
const DEFAULT_WATCHDOG_MS = 10_000;
const HANDLER_THREADS = Object.freeze(['worker', 'main']);
/** The largest Buffer Node can allocate: a body must fit in one. */
const MAX_BODY_SIZE = constants.MAX_LENGTH;

/** fds 0-2 are stdio, which the isolated channel exists to be apart from; fds are C ints. */
const MIN_CHANNEL_FD = 3;
const MAX_CHANNEL_FD = 2 ** 31 - 1;

const USAGE = `usage: node rpc-host.js [--handlers PATH]... [--max-body-size BYTES] [--grace-ms MS] [--channel-fd N]
  --handlers PATH        load a handler module (ESM or CommonJS); repeatable
  --max-body-size BYTES  largest accepted frame body (default ${DEFAULT_MAX_BODY_SIZE})
  --grace-ms MS          how long in-flight requests may run on at shutdown (default ${DEFAULT_GRACE_MS})
  --channel-fd N         read and write frames on the UNIX stream socket at fd N (>= ${MIN_CHANNEL_FD}),
                         not on stdin/stdout; fd 1 and fd 2 are then both just for logs
  --handler-thread worker|main
                         where handler modules run (default worker: a thread the host can end
                         when a handler blocks; main: on the main thread, as before)
  --handler-heap-mb MB   heap limit of the handler thread (default 0: Node's default)
  --preempt-ms MS        how long the handler thread may stay stuck after a call was cancelled
                         before it is ended (default ${DEFAULT_PREEMPT_MS})
  --watchdog-ms MS       end the host when its main thread is blocked this long (default
                         ${DEFAULT_WATCHDOG_MS}; 0: no watchdog)`;

class UsageError extends Error {
  constructor(message) {
    super(message);
    this.name = 'UsageError';
  }
}

function integerOption(name, text, minimum, maximum = Number.MAX_SAFE_INTEGER) {
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || value < minimum || value > maximum) {
    throw new UsageError(`--${name} needs an integer from ${minimum} to ${maximum}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function channelFdOption(text) {
  if (/^[0-2]$/.test(text)) {
    throw new UsageError(`--channel-fd ${text}: fds 0-2 are stdin, stdout and stderr; the channel must be another fd (${MIN_CHANNEL_FD} or higher)`);
  }
  return integerOption('channel-fd', text, MIN_CHANNEL_FD, MAX_CHANNEL_FD);
}

/**
 * @param {string[]} argv the arguments after the script name
 * @returns {{handlers: string[], maxBodySize: number, graceMs: number, help: boolean, channelFd?: number,
 *   handlerThread?: 'worker'|'main', handlerHeapMb?: number, preemptMs?: number, watchdogMs?: number}}
 * @throws {UsageError}
 */
function parseOptions(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        handlers: { type: 'string', multiple: true },
        'max-body-size': { type: 'string' },
        'grace-ms': { type: 'string' },
        'channel-fd': { type: 'string' },
        'handler-thread': { type: 'string' },
        'handler-heap-mb': { type: 'string' },
        'preempt-ms': { type: 'string' },
        'watchdog-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(err.message);
  }
  const options = {
    handlers: values.handlers ?? [],
    maxBodySize:
      values['max-body-size'] === undefined
        ? DEFAULT_MAX_BODY_SIZE
        : integerOption('max-body-size', values['max-body-size'], 1, MAX_BODY_SIZE),
    graceMs: values['grace-ms'] === undefined ? DEFAULT_GRACE_MS : integerOption('grace-ms', values['grace-ms'], 0),
    help: values.help === true,
  };
  // Present only when given (on the command line or in the environment), like channelFd;
  // withDefaults() fills in the rest.
  const env = process.env;
  const handlerThread = values['handler-thread'] ?? env.RPCBRIDGE_HANDLER_THREAD;
  if (handlerThread !== undefined) {
    if (!HANDLER_THREADS.includes(handlerThread)) {
      throw new UsageError(`--handler-thread must be "worker" or "main", got ${JSON.stringify(handlerThread)}`);
    }
    options.handlerThread = handlerThread;
  }
  const heap = values['handler-heap-mb'] ?? env.RPCBRIDGE_HANDLER_HEAP_MB;
  if (heap !== undefined) options.handlerHeapMb = integerOption('handler-heap-mb', heap, 0, 1 << 20);
  const preempt = values['preempt-ms'] ?? env.RPCBRIDGE_PREEMPT_MS;
  if (preempt !== undefined) options.preemptMs = integerOption('preempt-ms', preempt, 1);
  const watchdog = values['watchdog-ms'] ?? env.RPCBRIDGE_WATCHDOG_MS;
  if (watchdog !== undefined) options.watchdogMs = integerOption('watchdog-ms', watchdog, 0);
  if (values['channel-fd'] !== undefined) options.channelFd = channelFdOption(values['channel-fd']);
  return options;
}

/**
 * The options with the defaults of the handler thread and the watchdog filled in.
 * @param {ReturnType<typeof parseOptions>} options
 */
function withDefaults(options) {
  return {
    handlerThread: 'worker',
    handlerHeapMb: 0,
    preemptMs: DEFAULT_PREEMPT_MS,
    watchdogMs: DEFAULT_WATCHDOG_MS,
    ...options,
  };
}

module.exports = { parseOptions, withDefaults, UsageError, USAGE, DEFAULT_GRACE_MS, DEFAULT_PREEMPT_MS, DEFAULT_WATCHDOG_MS };
