'use strict';
/*
 * What `rpc.stats` reports (docs/protocol.md, "Built-ins of the host"): the calls in flight,
 * the host's requests to Python still waiting, the handler thread's state, and how late the
 * main thread's event loop ran since the previous rpc.stats (or since start-up) — the number
 * that shows a handler or a huge message holding the host up.
 *
 * Plan: perf_hooks.monitorEventLoopDelay samples the loop's delay every RESOLUTION_MS with a
 * libuv timer outside JavaScript (cost: one timer wake-up per 10 ms, nothing per call); each
 * report reads the histogram and resets it, so a report covers the window since the last one.
 */

const { monitorEventLoopDelay } = require('node:perf_hooks');

const RESOLUTION_MS = 10;

class HostStats {
  /**
   * @param {object} options
   * @param {import('./dispatcher').Dispatcher} options.dispatcher
   * @param {() => object} options.handlerThread the thread's stats()
   * @param {number} options.watchdogMs
   */
  constructor({ dispatcher, handlerThread, watchdogMs }) {
    this.dispatcher = dispatcher;
    this.handlerThread = handlerThread;
    this.watchdogMs = watchdogMs;
    this._histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this._histogram.enable();
    this._since = performance.now();
  }

  /** The report; resets the event-loop delay window. */
  report() {
    const h = this._histogram;
    const now = performance.now();
    const ms = (ns) => (Number.isFinite(ns) ? Math.round(ns / 1e4) / 100 : 0);
    const eventLoopDelay = {
      meanMs: h.count > 0 ? ms(h.mean) : 0,
      p50Ms: h.count > 0 ? ms(h.percentile(50)) : 0,
      p99Ms: h.count > 0 ? ms(h.percentile(99)) : 0,
      maxMs: h.count > 0 ? ms(h.max) : 0,
      windowMs: Math.round(now - this._since),
    };
    h.reset();
    this._since = now;
    const memory = process.memoryUsage();
    return {
      inFlight: Math.max(0, this.dispatcher.inflight.size - 1), // not counting this rpc.stats
      outgoing: this.dispatcher.outgoing.size,
      eventLoopDelay,
      handlerThread: this.handlerThread(),
      watchdogMs: this.watchdogMs,
      uptimeMs: Math.round(process.uptime() * 1000),
      memory: { rss: memory.rss, heapUsed: memory.heapUsed },
    };
  }
}

module.exports = { HostStats };
