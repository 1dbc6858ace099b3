'use strict';
/*
 * The host's command line (docs/protocol.md §5):
 *
 *   node rpc-host.js [--handlers PATH]... [--max-body-size BYTES] [--grace-ms MS] [--channel-fd N]
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
                         not on stdin/stdout; fd 1 and fd 2 are then both just for logs`;

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
 * @returns {{handlers: string[], maxBodySize: number, graceMs: number, help: boolean, channelFd?: number}}
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
  if (values['channel-fd'] !== undefined) options.channelFd = channelFdOption(values['channel-fd']);
  return options;
}

module.exports = { parseOptions, UsageError, USAGE, DEFAULT_GRACE_MS };
