/**
 * runaway.mjs: the preemption benchmark's handlers (benchmarks/preemption.py).
 *
 *   stuck.echo params → params        the per-call cost of wherever handlers run
 *   stuck.spin        → never         `for (;;);`: only the host ending its thread stops it
 */

export const namespace = 'stuck';

export const methods = {
  echo(params) {
    return params ?? null;
  },
  spin() {
    for (;;);
  },
};
