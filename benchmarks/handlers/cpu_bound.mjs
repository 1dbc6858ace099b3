/**
 * cpu_bound.mjs: the pool benchmark's CPU-bound handler (benchmarks/pool.py).
 *
 *   bench.crunch {seed: uint32, rounds: integer 1..10_000_000} → {digest: uint32 hex}
 *
 * A deterministic integer hash chain (xorshift32 mixed with FNV-1a) computed in the host's handler
 * thread (one per host: docs/handlers.md), synchronously: no allocation, no I/O. One call keeps exactly one core busy
 * for its whole duration, and a host serves one at a time, so a single host is capped at one
 * core however many calls wait. That is the case a pool exists for. (The TypeScript engine is
 * CPU-bound too, but one host already spreads it over more than one core: its worker thread plus
 * V8's background GC and compiler threads. pool.py measures both.)
 */

/** Methods are served as "bench.crunch". */
export const namespace = 'bench';

export const methods = {
  crunch(params, ctx) {
    const seed = params?.seed;
    const rounds = params?.rounds;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff || !Number.isInteger(rounds) || rounds < 1 || rounds > 10_000_000) {
      throw new ctx.RpcError(ctx.RpcError.InvalidParams, 'Invalid params: expected {seed: uint32, rounds: 1..10000000}');
    }
    let x = seed >>> 0 || 1;
    let hash = 0x811c9dc5;
    for (let i = 0; i < rounds; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      hash = Math.imul(hash ^ (x & 0xff), 0x01000193);
    }
    return { digest: (hash >>> 0).toString(16).padStart(8, '0') };
  },
};
