'use strict';
/*
 * The waiting part shared by the test harnesses (wire.js, channel-host.js): a harness calls
 * `_wake()` whenever something arrives, and tests `await waitUntil(check)` for the first
 * value `check()` returns that is not undefined, with a timeout that shows the host's stderr.
 */

class Observed {
  constructor() {
    this._waiters = [];
    this.stderrText = '';
  }

  _wake() {
    const waiters = this._waiters;
    this._waiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Resolve with the first value `check()` returns that is not undefined; poll on every event. */
  waitUntil(check, what = 'condition', timeoutMs = 10_000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${what}; stderr:\n${this.stderrText.slice(-2000)}`)),
        timeoutMs,
      );
      const attempt = () => {
        let value;
        try {
          value = check();
        } catch (err) {
          clearTimeout(timer);
          reject(err);
          return;
        }
        if (value !== undefined) {
          clearTimeout(timer);
          resolve(value);
        } else {
          this._waiters.push(attempt);
        }
      };
      attempt();
    });
  }
}

module.exports = { Observed };
