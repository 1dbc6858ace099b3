'use strict';
// LargeGarbage (lib/large-garbage.js): a full GC after a very large message, nothing otherwise.

const test = require('node:test');
const assert = require('node:assert/strict');
const vm = require('node:vm');
const { LargeGarbage, LARGE_MESSAGE, v8Gc } = require('../lib/large-garbage');

test('collect() runs gc once after a large message, and never for smaller ones', () => {
  let runs = 0;
  const garbage = new LargeGarbage({ getGc: () => () => runs++ });
  garbage.note(LARGE_MESSAGE - 1);
  garbage.collect();
  assert.equal(runs, 0);
  garbage.note(LARGE_MESSAGE);
  garbage.note(LARGE_MESSAGE * 2);
  assert.equal(runs, 0, 'noting never collects');
  garbage.collect();
  garbage.collect();
  assert.equal(runs, 1, 'once per input chunk that follows large messages');
  assert.equal(garbage.collections, 1);
});

test('without a gc function, collect() does nothing', () => {
  const garbage = new LargeGarbage({ getGc: () => null });
  garbage.note(LARGE_MESSAGE);
  garbage.collect();
  assert.equal(garbage.collections, 0);
});

test('V8\'s gc is obtained without exposing it to scripts', () => {
  const gc = v8Gc();
  assert.equal(typeof gc, 'function');
  assert.equal(v8Gc(), gc, 'obtained once');
  gc();
  assert.equal(typeof globalThis.gc, 'undefined');
  assert.equal(vm.runInNewContext('typeof gc'), 'undefined', 'the flag is off again for later contexts');
});

test('while collections are slow for the message size, only every 8th is run', () => {
  let clock = 0;
  let cost = 50; // ms per gc(): over 1 ms per MiB of an 8 MiB message
  let runs = 0;
  const garbage = new LargeGarbage({ now: () => clock, getGc: () => () => ((clock += cost), runs++) });
  const round = (bytes) => {
    garbage.note(bytes);
    garbage.collect();
  };
  round(LARGE_MESSAGE); // first one: cost unknown yet, run
  assert.equal(runs, 1);
  for (let i = 0; i < 7; i++) round(LARGE_MESSAGE);
  assert.equal(runs, 1, 'skipped');
  assert.equal(garbage.skips, 7);
  cost = 2;
  round(LARGE_MESSAGE); // the 8th chance: tried again, now cheap
  assert.equal(runs, 2);
  round(LARGE_MESSAGE);
  assert.equal(runs, 3, 'cheap again: every time');
  cost = 50;
  round(64 * LARGE_MESSAGE); // 50 ms for a 512 MiB message is within budget
  round(64 * LARGE_MESSAGE);
  assert.equal(runs, 5);
});
