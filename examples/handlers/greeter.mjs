/**
 * greeter.mjs — an example rpcbridge handler module (ESM). The contract is docs/handlers.md.
 *
 * Load it from Python:
 *
 *     async with open_bridge(handlers=["examples/handlers/greeter.mjs"]) as bridge:
 *         await bridge.call("greeter.greet", {"name": "Ada"})   # {"message": "Hello, Ada."}
 *
 * or start the host by hand: node node/rpc-host.js --handlers examples/handlers/greeter.mjs
 *
 * It shows the four things most handlers need: validating params (throw ctx.RpcError with
 * -32602), logging (ctx.log → JSON records on the host's stderr), progress (ctx.progress →
 * $/progress notifications) and cancellation (ctx.signal, aborted by $/cancelRequest).
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Methods are served as "greeter.greet" and "greeter.slowCount". */
export const namespace = 'greeter';

let greeting = 'Hello';

/** Awaited once, before the host serves its first request. */
export async function init(host, options) {
  greeting = process.env.GREETER_GREETING || greeting;
  host.log.info(`greeter ready (loaded from ${options.path}, host ${host.version})`);
}

export const methods = {
  /**
   * greeter.greet {name: string, excited?: boolean} → {message: string}
   */
  greet(params, ctx) {
    const name = params?.name;
    if (typeof name !== 'string' || name.trim() === '') {
      throw new ctx.RpcError(ctx.RpcError.InvalidParams, 'Invalid params: "name" must be a non-empty string', {
        field: 'name',
      });
    }
    ctx.log.debug(`greeting ${name}`);
    return { message: `${greeting}, ${name}${params.excited ? '!' : '.'}` };
  },

  /**
   * greeter.slowCount {to: integer 0..1000, delayMs?: integer} → {counted: integer}
   * Sends $/progress {token: <request id>, value: {count, of}} after each step; a
   * $/cancelRequest stops it between steps (the host has already answered -32800 by then).
   */
  async slowCount(params, ctx) {
    const to = params?.to;
    const delayMs = params?.delayMs ?? 100;
    if (!Number.isInteger(to) || to < 0 || to > 1000 || !Number.isInteger(delayMs) || delayMs < 0) {
      throw new ctx.RpcError(ctx.RpcError.InvalidParams, 'Invalid params: expected {to: 0..1000, delayMs?: integer >= 0}');
    }
    for (let count = 1; count <= to; count++) {
      await sleep(delayMs, undefined, { signal: ctx.signal }); // rejects once the request is cancelled
      ctx.progress({ count, of: to });
    }
    return { counted: to };
  },
};

/** Awaited at shutdown (stdin closed, SIGTERM or rpc.shutdown). */
export async function dispose() {
  greeting = 'Hello';
}
