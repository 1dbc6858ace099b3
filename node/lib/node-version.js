'use strict';
/*
 * The Node.js version check of the host.
 *
 * What it does: `checkNodeVersion(version)` returns null when `version` (a `process.version`
 * string such as "v20.20.2") is recent enough for the host, else the message to print.
 *
 * Goal: on an old Node, fail with a message that names the version found and says what to
 * install (exit code 3, docs/protocol.md §5) instead of a SyntaxError from a module that uses
 * newer syntax. That is why this file, like rpc-host.js, the stdout guard and the logger, only
 * uses syntax that very old Node versions can parse.
 */

var MINIMUM_MAJOR = 20;

/**
 * @param {string} version a `process.version`-style string, e.g. "v20.20.2"
 * @returns {string|null} null if supported, else a human-readable message
 */
function checkNodeVersion(version) {
  var match = /^v?(\d+)\./.exec(String(version));
  var major = match ? parseInt(match[1], 10) : NaN;
  if (major >= MINIMUM_MAJOR) return null;
  return (
    'rpcbridge host: Node.js ' + version + ' is too old; the host needs Node.js >= ' +
    MINIMUM_MAJOR + '. Install Node.js ' + MINIMUM_MAJOR + ' LTS or newer ' +
    '(https://nodejs.org, nvm, or your package manager) and point rpcbridge at it ' +
    "(node='/path/to/node' or $RPCBRIDGE_NODE)."
  );
}

module.exports = { checkNodeVersion: checkNodeVersion, MINIMUM_MAJOR: MINIMUM_MAJOR };
