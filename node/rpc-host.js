#!/usr/bin/env node
'use strict';
/*
 * rpcbridge host: ONE long-lived Node process serving JSON-RPC 2.0 to Python over
 * stdin/stdout (or, with --channel-fd N, over the UNIX stream socket at fd N) with LSP
 * framing (Content-Length), logs as JSON lines on stderr.
 * The wire protocol is docs/protocol.md; the handler-module contract is docs/handlers.md.
 *
 *   node rpc-host.js [--handlers PATH]... [--max-body-size BYTES] [--grace-ms MS] [--channel-fd N]
 *
 * This file is wiring only, in this order:
 *   1. the stdout guard, before anything else can print: stdout is for frames only (and with
 *      --channel-fd not even for those: then console output still becomes stderr records);
 *   2. the Node version check (exit 3) — this file, the guard, the logger and the check use
 *      only syntax that old Node versions parse, so an old Node gets a message, not a
 *      SyntaxError;
 *   3. the command line and the channel: stdio, or the socket of --channel-fd (exit 2 on a bad
 *      one);
 *   4. the handler modules, in the handler thread (lib/handler-thread.js) or, with
 *      --handler-thread main, on this one (exit 2 if one fails to load or a method name collides);
 *   5. serving, until the input ends (stdin EOF, the socket's 'end'), SIGTERM, rpc.shutdown
 *      or the parent dies.
 */

var stdoutGuard = require('./lib/stdout-guard');
var logging = require('./lib/log');
var versionProblem = require('./lib/node-version').checkNodeVersion(process.version);

function exitWith(code, message) {
  logging.log.error(message);
  logging.flushStderr(1000).then(function () {
    process.exit(code);
  });
}

function main() {
  var cli = require('./lib/cli-options');
  var loader = require('./lib/handler-loader');
  var channels = require('./lib/channel');
  var serve = require('./lib/serve').serve;
  logging.captureProcessWarnings();

  var options;
  try {
    options = cli.parseOptions(process.argv.slice(2));
  } catch (err) {
    exitWith(2, err.message + '\n' + cli.USAGE);
    return;
  }
  if (options.help) {
    process.stderr.write(cli.USAGE + '\n'); // for a human at a terminal: plain text
    return;
  }
  var channel;
  try {
    channel = channels.openChannel(options.channelFd, stdoutGuard, logging.log);
  } catch (err) {
    exitWith(2, err instanceof channels.ChannelError ? err.message : String(err && err.stack));
    return;
  }
  var handlerThread = require('./lib/handler-thread').fromOptions(options, logging.log);
  (handlerThread === null ? loader.loadHandlerModules(options.handlers) : handlerThread.start()).then(
    function (modules) {
      serve({ options: options, modules: modules, channel: channel, log: logging.log, handlerThread: handlerThread });
    },
    function (err) {
      exitWith(2, err instanceof loader.HandlerLoadError ? err.message : String(err && err.stack));
    }
  );
}

if (versionProblem !== null) {
  logging.log.error(versionProblem);
  process.exitCode = 3;
} else {
  main();
}
