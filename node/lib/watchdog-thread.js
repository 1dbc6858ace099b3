'use strict';
/*
 * The watchdog's thread (started by lib/watchdog.js): wakes up every limitMs / 4, ends the
 * process when the main thread's heartbeat counter has not moved for limitMs.
 */

const fs = require('node:fs');
const { workerData } = require('node:worker_threads');

const BEAT = 0;
const SLEEP = 1;
const { limitMs, pid } = workerData;
const cells = new Int32Array(workerData.cells);
const step = Math.max(1, Math.floor(limitMs / 4));

let lastBeat = Atomics.load(cells, BEAT);
let lastChange = Date.now();
for (;;) {
  const before = Date.now();
  Atomics.wait(cells, SLEEP, 0, step); // nobody notifies: a sleep that costs no CPU
  const now = Date.now();
  const beat = Atomics.load(cells, BEAT);
  if (beat !== lastBeat || now - before > step + limitMs / 2) {
    // the main thread moved, or this thread was paused with it (SIGSTOP): count afresh
    lastBeat = beat;
    lastChange = now;
    continue;
  }
  const blockedMs = now - lastChange;
  if (blockedMs >= limitMs) {
    const msg =
      `watchdog: the host's main thread has been blocked for ${blockedMs} ms (limit ${limitMs} ms, ` +
      '--watchdog-ms): a handler or the host itself never yields; ending the host (SIGKILL)';
    const record = JSON.stringify({ time: new Date(now).toISOString(), level: 'error', msg, src: 'watchdog' });
    try {
      fs.writeSync(2, `${record}\n`);
    } catch {
      // stderr closed: end the host anyway
    }
    process.kill(pid, 'SIGKILL');
  }
}
