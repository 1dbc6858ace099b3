'use strict';
/*
 * What the test harnesses (wire.js, channel-host.js) share: waiting, the host's stderr
 * records and ending the child. A harness calls `_wake()` whenever something arrives, and tests
 * `await waitUntil(check)` for the first value `check()` returns that is not undefined, with a
 * timeout that shows the host's stderr. A subclass sets `child`, `exited` (resolves to {code, signal}) and `_closed`
 * (resolves once every stdio stream of the child has been read to its end).
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

  /** The host's stderr as records: each line parsed as JSON, or `{raw: line}`. */
  get records() {
    return this.stderrText
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => {
        try {
          return JSON.parse(line);
        } catch {
          return { raw: line };
        }
      });
  }

  /** Wait for a stderr record matching `predicate`. */
  record(predicate, what = 'a stderr record') {
    return this.waitUntil(() => this.records.find(predicate), what);
  }

  /** Wait for the exit (code and signal) and for every stream of the child to be fully read. */
  async finished(timeoutMs = 15_000) {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const result = await this.exited;
    await this._closed;
    clearTimeout(timer);
    return result;
  }

  /** Make sure the child is gone (for test teardown). */
  kill() {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

module.exports = { Observed };
