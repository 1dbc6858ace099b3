/**
 * progress_methods.mjs — a handler module (ESM) whose method calls back into Python, reports
 * progress and honours cancellation. The Python side is main.py in this folder; the contract
 * is docs/handlers.md.
 *
 *   catalog.enrich {ids: string[], delayMs?: integer} → {items: [{id, name, price, priceWithTax}]}
 *
 * For each id it asks Python for the record (`await ctx.request("py.lookup", {id})`: Python
 * owns the data), adds what JavaScript computes, and reports `ctx.progress({done, total, id})`.
 * When Python cancels the call (`$/cancelRequest`), `ctx.signal` aborts: the pending
 * ctx.request is cancelled on Python's side too, the sleep rejects, and the method stops and
 * rejects (the host has already answered -32800).
 */
import { setTimeout as sleep } from 'node:timers/promises';

export const namespace = 'catalog';

const TAX = 0.2;

export const methods = {
  async enrich(params, ctx) {
    const ids = params?.ids;
    const delayMs = params?.delayMs ?? 50;
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string') || !Number.isInteger(delayMs) || delayMs < 0) {
      throw new ctx.RpcError(ctx.RpcError.InvalidParams, 'Invalid params: expected {ids: string[], delayMs?: integer >= 0}');
    }
    const items = [];
    for (const [index, id] of ids.entries()) {
      ctx.signal.throwIfAborted(); // stop between steps once cancelled
      const record = await ctx.request('py.lookup', { id }); // rejects if ctx.signal aborts meanwhile
      items.push({ ...record, priceWithTax: Math.round(record.price * (1 + TAX) * 100) / 100 });
      ctx.progress({ done: index + 1, total: ids.length, id });
      await sleep(delayMs, undefined, { signal: ctx.signal }); // some slow work of our own
    }
    ctx.log.info(`enriched ${items.length} items`);
    return { items };
  },
};
