'use strict';
/*
 * The host's command line (docs/protocol.md §5):
 *
 *   node rpc-host.js [--handlers PATH]... [--max-body-size BYTES] [--grace-ms MS]
 *
 * `parseOptions(argv)` returns the options or throws a UsageError, whose message the host
 * prints before exiting with code 2. Both `--name value` and `--name=value` are accepted.
 */

const { parseArgs } = require('node:util');
const { constants } = require('node:buffer');
const { DEFAULT_MAX_BODY_SIZE } = require('./framer');

const DEFAULT_GRACE_MS = 5000;
/** The largest Buffer Node can allocate: a body must fit in one. */
const MAX_BODY_SIZE = constants.MAX_LENGTH;

const USAGE = `usage: node rpc-host.js [--handlers PATH]... [--max-body-size BYTES] [--grace-ms MS]
  --handlers PATH        load a handler module (ESM or CommonJS); repeatable
  --max-body-size BYTES  largest accepted frame body (default ${DEFAULT_MAX_BODY_SIZE})
  --grace-ms MS          how long in-flight requests may run on at shutdown (default ${DEFAULT_GRACE_MS})`;

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

/**
 * @param {string[]} argv the arguments after the script name
 * @returns {{handlers: string[], maxBodySize: number, graceMs: number, help: boolean}}
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
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(err.message);
  }
  return {
    handlers: values.handlers ?? [],
    maxBodySize:
      values['max-body-size'] === undefined
        ? DEFAULT_MAX_BODY_SIZE
        : integerOption('max-body-size', values['max-body-size'], 1, MAX_BODY_SIZE),
    graceMs: values['grace-ms'] === undefined ? DEFAULT_GRACE_MS : integerOption('grace-ms', values['grace-ms'], 0),
    help: values.help === true,
  };
}

module.exports = { parseOptions, UsageError, USAGE, DEFAULT_GRACE_MS };
