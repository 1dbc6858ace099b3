// Handler module for the fault suite (tests/faults/): each method misbehaves in one way.
import fs from "node:fs";
import { once } from "node:events";
import { spawnSync } from "node:child_process";

if (process.env.FAULT_GARBAGE_AT_START) {
  // Bytes on fd 1 before the first frame: no JavaScript-level guard can stop this one.
  fs.writeSync(1, process.env.FAULT_GARBAGE_AT_START);
}
if (process.env.FAULT_CRASH_IF_EXISTS && fs.existsSync(process.env.FAULT_CRASH_IF_EXISTS)) {
  process.stderr.write("fault-methods: crashing at start-up on purpose\n");
  process.exit(1);
}

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new Error("aborted"));
    });
  });

export const namespace = "fault";

export const methods = {
  async sleep({ ms, value }, ctx) {
    await sleep(ms, ctx.signal);
    return value ?? ms;
  },
  async waitForAbort(params, ctx) {
    await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
    ctx.notify("fault.aborted", { id: ctx.id });
    throw new Error("aborted");
  },
  async flood({ megabytes }) {
    const line = "x".repeat(1023) + "\n";
    const chunk = line.repeat(64); // 64 KiB
    for (let i = 0; i < megabytes * 16; i++) {
      if (!process.stderr.write(chunk)) await once(process.stderr, "drain");
    }
    process.stderr.write("flood: the last line\n");
    return megabytes;
  },
  async writeFd1({ text, later }) {
    if (later) setTimeout(() => fs.writeSync(1, text), 0);
    else fs.writeSync(1, text);
    return true;
  },
  async spawnInherit({ text }) {
    // A child process that shares the host's fd 1: it writes straight past every guard.
    spawnSync(process.execPath, ["-e", `process.stdout.write(${JSON.stringify(text)})`], {
      stdio: "inherit",
    });
    return true;
  },
  async truncateAndExit() {
    fs.writeSync(1, 'Content-Length: 100\r\n\r\n{"jsonrpc":"2.0","id":');
    process.exit(3);
  },
  async exitSoon({ code }) {
    setTimeout(() => process.exit(code), 0);
    return code;
  },
  async block({ ms }) {
    const end = Date.now() + ms; // the event loop stops: nothing reads stdin meanwhile
    while (Date.now() < end);
    return ms;
  },
  echo(params) {
    return params ?? null;
  },
  spin() {
    for (;;); // never yields: only the host ending this thread stops it
  },
  catastrophicRegex({ length }) {
    // Exponential backtracking: 2**length steps before it can answer false.
    return /^(a+)+$/.test("a".repeat(length) + "!");
  },
  allocate({ megabytes }) {
    const kept = [];
    for (let i = 0; i < megabytes; i++) kept.push(new Array(131072).fill(i + 0.5)); // 1 MiB of doubles each
    return kept.length;
  },
  async big({ bytes }) {
    return "b".repeat(bytes);
  },
  async prototypeState() {
    return {
      objectPolluted: Object.prototype.polluted !== undefined || {}.polluted !== undefined,
      arrayPolluted: [].polluted !== undefined,
    };
  },
  async echoKeys(params) {
    return { keys: Object.keys(params), proto: Object.getPrototypeOf(params) === Object.prototype };
  },
};
