"""The throwaway prototype behind docs/design.md "One session, two loops" (issue 12), kept so
the decision can be rerun; not part of the package, not linted.

    python docs/prototypes/session_candidates.py CANDIDATE seq|conc     (seq: under taskset -c 0)

CANDIDATE: trio-bridge (rpcbridge.open_bridge under trio; at the decision, the trio-only bridge
of commit 9b17abb), anyio-trio / anyio-asyncio / anyio-uvloop (a
minimal session on anyio: anyio.Event per call, anyio.wait_readable), asyncio-task /
uvloop-task (futures per call, a reader task on loop.add_reader), asyncio-cb / uvloop-cb
(futures, the reader as an add_reader callback: no task), guest-asyncio / guest-uvloop (the
trio bridge in trio's guest mode on the asyncio loop, calls handed over with run_sync_soon).
Prints µs per sequential echo or 64-concurrent echo calls/s against the bundled host.
"""
from __future__ import annotations
import asyncio, os, subprocess, sys, time, fcntl
import anyio, trio, sniffio
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
import rpcbridge
from rpcbridge._connection import RpcConnection, Response
from rpcbridge._host import host_command

SEQ_N = 3000
CONC_N = 30000
PARAMS = {"i": 1, "text": "hello"}


def spawn():
    p = subprocess.Popen(host_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    for f in (p.stdin, p.stdout):
        os.set_blocking(f.fileno(), False)
        try: fcntl.fcntl(f.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)
        except OSError: pass
    return p

# ---------------- (a) anyio session -------------------------------------
class AnyioSession:
    def __init__(self, p):
        self.p = p; self.wfd = p.stdin.fileno(); self.rfd = p.stdout.fileno()
        self.conn = RpcConnection(); self.waiters = {}; self.outbox = []
        self.wake_writer = anyio.Event(); self.writing = False

    async def call(self, method, params):
        rid, frame = self.conn.send_request(method, params)
        w = [anyio.Event(), None]
        self.waiters[rid] = w
        self.send(frame)
        await w[0].wait()
        return w[1]

    def send(self, frame):
        if not self.outbox and not self.writing and len(self.waiters) <= 1:
            try:
                n = os.write(self.wfd, frame)
            except BlockingIOError:
                n = 0
            if n == len(frame): return
            frame = frame[n:]
        if not self.outbox: self.wake_writer.set()
        self.outbox.append(frame)

    async def writer(self):
        while True:
            if not self.outbox:
                self.wake_writer = anyio.Event()
                await self.wake_writer.wait(); continue
            parts, self.outbox = self.outbox, []
            self.writing = True
            while parts:
                try: n = os.writev(self.wfd, parts)
                except BlockingIOError:
                    await anyio.wait_writable(self.wfd); continue
                while parts and n >= len(parts[0]): n -= len(parts[0]); parts.pop(0)
                if n: parts[0] = parts[0][n:]
            self.writing = False

    async def reader(self):
        conn = self.conn; waiters = self.waiters; k = 0
        while True:
            k += 1
            if k > 16:
                k = 0; await anyio.lowlevel.checkpoint()
            try: data = os.read(self.rfd, 1 << 16)
            except BlockingIOError:
                k = 0
                await anyio.wait_readable(self.rfd); continue
            if not data: return
            conn.receive_data(data)
            while (ev := conn.next_event()) is not None:
                if type(ev) is Response:
                    w = waiters.pop(ev.request_id); w[1] = ev.result; w[0].set()


async def anyio_open(body):
    p = spawn(); s = AnyioSession(p)
    async with anyio.create_task_group() as tg:
        tg.start_soon(s.reader); tg.start_soon(s.writer)
        await body(s.call)
        tg.cancel_scope.cancel()
    p.stdin.close(); p.wait()

# ---------------- (c) asyncio-native: futures + add_reader callback -----
class AsyncioSession:
    def __init__(self, p, loop):
        self.p = p; self.loop = loop; self.wfd = p.stdin.fileno(); self.rfd = p.stdout.fileno()
        self.conn = RpcConnection(); self.waiters = {}; self.outbox = []
        loop.add_reader(self.rfd, self.on_readable)

    async def call(self, method, params):
        rid, frame = self.conn.send_request(method, params)
        fut = self.loop.create_future()
        self.waiters[rid] = fut
        self.send(frame)
        return await fut

    def send(self, frame):
        if not self.outbox and len(self.waiters) <= 1:
            try: n = os.write(self.wfd, frame)
            except BlockingIOError: n = 0
            if n == len(frame): return
            frame = frame[n:]
        if not self.outbox: self.loop.call_soon(self.flush)
        self.outbox.append(frame)

    def flush(self):
        parts = self.outbox
        while parts:
            try: n = os.writev(self.wfd, parts)
            except BlockingIOError:
                self.loop.add_writer(self.wfd, self._writable); return
            while parts and n >= len(parts[0]): n -= len(parts[0]); parts.pop(0)
            if n: parts[0] = parts[0][n:]

    def _writable(self):
        self.loop.remove_writer(self.wfd); self.flush()

    def on_readable(self):
        try: data = os.read(self.rfd, 1 << 16)
        except BlockingIOError: return
        if not data:
            self.loop.remove_reader(self.rfd); return
        conn = self.conn; waiters = self.waiters
        conn.receive_data(data)
        while (ev := conn.next_event()) is not None:
            if type(ev) is Response:
                fut = waiters.pop(ev.request_id)
                if not fut.done(): fut.set_result(ev.result)

async def asyncio_open(body):
    p = spawn(); s = AsyncioSession(p, asyncio.get_running_loop())
    await body(s.call)
    s.loop.remove_reader(s.rfd)
    p.stdin.close(); p.wait()

# ---------------- (c') asyncio task reader (shared-loop shape) ----------
class AsyncioTaskSession(AsyncioSession):
    def __init__(self, p, loop):
        self.p = p; self.loop = loop; self.wfd = p.stdin.fileno(); self.rfd = p.stdout.fileno()
        self.conn = RpcConnection(); self.waiters = {}; self.outbox = []

    async def wait_readable(self):
        fut = self.loop.create_future()
        self.loop.add_reader(self.rfd, fut.set_result, None)
        try: await fut
        finally: self.loop.remove_reader(self.rfd)

    async def reader(self):
        conn = self.conn; waiters = self.waiters; k = 0
        while True:
            k += 1
            if k > 16:
                k = 0; await asyncio.sleep(0)
            try: data = os.read(self.rfd, 1 << 16)
            except BlockingIOError:
                k = 0; await self.wait_readable(); continue
            if not data: return
            conn.receive_data(data)
            while (ev := conn.next_event()) is not None:
                if type(ev) is Response:
                    fut = waiters.pop(ev.request_id)
                    if not fut.done(): fut.set_result(ev.result)

async def asyncio_task_open(body):
    p = spawn(); s = AsyncioTaskSession(p, asyncio.get_running_loop())
    t = asyncio.ensure_future(s.reader())
    await body(s.call)
    t.cancel()
    p.stdin.close(); p.wait()

# ---------------- (b) trio guest mode running the real bridge ------------
async def guest_open(body):
    loop = asyncio.get_running_loop()
    ready = loop.create_future(); done_fut = loop.create_future()
    state = {}
    async def trio_main():
        async with trio.open_nursery() as nursery, rpcbridge.open_bridge() as bridge:
            state["bridge"] = bridge; state["nursery"] = nursery
            state["token"] = trio.lowlevel.current_trio_token()
            state["stop"] = trio.Event()
            ready.set_result(None)
            await state["stop"].wait()
    trio.lowlevel.start_guest_run(trio_main, run_sync_soon_threadsafe=loop.call_soon_threadsafe,
        done_callback=lambda o: done_fut.set_result(o), host_uses_signal_set_wakeup_fd=False)
    await ready
    bridge = state["bridge"]; nursery = state["nursery"]; token = state["token"]
    async def run(fut, method, params):
        try: r = await bridge.call(method, params)
        except BaseException as e: fut.set_exception(e)
        else: fut.set_result(r)
    async def call(method, params):
        fut = loop.create_future()
        token.run_sync_soon(nursery.start_soon, run, fut, method, params)
        return await fut
    await body(call)
    token.run_sync_soon(state["stop"].set)
    await done_fut

# ---------------- the current trio bridge --------------------------------
async def trio_bridge_open(body):
    async with rpcbridge.open_bridge(command=host_command()) as bridge:  # no handshake either
        await body(bridge.call)

# ---------------- workloads ------------------------------------------------
def make_body(kind, out, spawn_many):
    async def seq(call):
        for _ in range(300): await call("rpc.echo", PARAMS)
        t = time.perf_counter()
        for _ in range(SEQ_N): assert await call("rpc.echo", PARAMS) == PARAMS
        out.append((time.perf_counter() - t) / SEQ_N * 1e6)
    async def conc(call):
        for _ in range(300): await call("rpc.echo", PARAMS)
        left = [CONC_N]
        async def loop():
            while left[0] > 0:
                left[0] -= 1
                assert await call("rpc.echo", PARAMS) == PARAMS
        t = time.perf_counter()
        await spawn_many(loop, 64)
        out.append(CONC_N / (time.perf_counter() - t))
    return seq if kind == "seq" else conc

async def trio_many(fn, n):
    async with trio.open_nursery() as nur:
        for _ in range(n): nur.start_soon(fn)
async def anyio_many(fn, n):
    async with anyio.create_task_group() as tg:
        for _ in range(n): tg.start_soon(fn)
async def asyncio_many(fn, n):
    await asyncio.gather(*(fn() for _ in range(n)))

def main():
    cand, kind = sys.argv[1], sys.argv[2]
    out = []
    if cand == "trio-bridge":
        trio.run(trio_bridge_open, make_body(kind, out, trio_many))
    elif cand == "anyio-trio":
        anyio.run(anyio_open, make_body(kind, out, anyio_many), backend="trio")
    elif cand == "anyio-asyncio":
        anyio.run(anyio_open, make_body(kind, out, anyio_many), backend="asyncio")
    elif cand == "anyio-uvloop":
        anyio.run(anyio_open, make_body(kind, out, anyio_many), backend="asyncio", backend_options={"use_uvloop": True})
    elif cand in ("asyncio-cb", "uvloop-cb"):
        if cand.startswith("uv"):
            import uvloop; runner = uvloop.run
        else: runner = asyncio.run
        runner(asyncio_open(make_body(kind, out, asyncio_many)))
    elif cand in ("asyncio-task", "uvloop-task"):
        if cand.startswith("uv"):
            import uvloop; runner = uvloop.run
        else: runner = asyncio.run
        runner(asyncio_task_open(make_body(kind, out, asyncio_many)))
    elif cand == "guest-asyncio":
        asyncio.run(guest_open(make_body(kind, out, asyncio_many)))
    elif cand == "guest-uvloop":
        import uvloop; uvloop.run(guest_open(make_body(kind, out, asyncio_many)))
    print(f"{cand} {kind} {out[0]:.1f}")

main()
