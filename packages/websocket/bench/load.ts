/**
 * The load generator, on @skein/core with hand-built frames (no WebSocket
 * library on this side, so it is not the bottleneck): it writes prebuilt
 * masked frames and counts replies by their exact size instead of parsing
 * them. Each role prints one JSON line with its figures and its own CPU use.
 *
 *   echo   `conns` connections each keeping `depth` messages of `size` bytes in flight
 *   bcast  `subs` subscribers and one publisher keeping `inflight` broadcasts in flight
 *   idle   `conns` connections that do nothing (for memory per connection)
 */
import { randomBytes } from "node:crypto";
import { connect, runAll, sleep, spawn, type Conn, type Operation } from "@skein/core";

const KEY = "dGhlIHNhbXBsZSBub25jZQ==";

/** Opens a WebSocket by hand: the handshake, then the raw connection. */
function* open(port: number, path: string): Generator<unknown, Conn, any> {
  const conn = yield* connect({ port, host: "127.0.0.1" });
  conn.send(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  const status = (yield* conn.readLine()).toString("latin1");
  if (!status.startsWith("HTTP/1.1 101")) throw new Error(`handshake to ${path} failed: ${status.trim()}`);
  while ((yield* conn.readLine()).length > 2);
  return conn;
}

/** `count` copies of one masked binary frame carrying `size` bytes (size ≤ 125). */
function maskedFrames(size: number, count: number): Buffer {
  const one = Buffer.alloc(6 + size);
  one[0] = 0x82;
  one[1] = 0x80 | size;
  randomBytes(4).copy(one, 2);
  const payload = randomBytes(size);
  for (let i = 0; i < size; i++) one[6 + i] = payload[i]! ^ one[2 + (i & 3)]!;
  return Buffer.concat(Array.from({ length: count }, () => one));
}

/** Opens `n` connections to `path`, `parallel` at a time. */
function* openMany(port: number, path: string, n: number, parallel = 100): Generator<unknown, Conn[], any> {
  const conns: Conn[] = [];
  function* jobs(): Generator<Operation<unknown>, void, unknown> {
    for (let i = 0; i < n; i++) {
      yield (function* () {
        conns.push(yield* open(port, path));
      })();
    }
  }
  yield* runAll(jobs(), { concurrency: parallel });
  return conns;
}

interface Window {
  warmupMs: number;
  durationMs: number;
}

/**
 * Runs the measurement window: reads `count()` after the warm-up and at the
 * end. Prints `{"phase":"measure"}` as the window opens, so the orchestrator
 * can sample the server's CPU time over the same window.
 */
function* measure(w: Window, count: () => number): Generator<unknown, { perSecond: number; loadCpu: number }, any> {
  yield* sleep(w.warmupMs);
  console.log(JSON.stringify({ phase: "measure" }));
  const c0 = count();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  yield* sleep(w.durationMs);
  const c1 = count();
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  return { perSecond: ((c1 - c0) / ms) * 1000, loadCpu: (cpu.user + cpu.system) / 1000 / ms };
}

/** Echo: every connection keeps `depth` messages in flight; replies are 2 + size bytes each. */
export function* echoLoad(port: number, o: Window & { conns: number; depth: number; size: number }): Generator<unknown, void, any> {
  const conns = yield* openMany(port, "/echo", o.conns);
  const frames = maskedFrames(o.size, o.depth);
  const frameLen = 6 + o.size;
  const replyLen = 2 + o.size;
  let received = 0;
  let stopped = false;
  for (const conn of conns) {
    yield* spawn(function* () {
      conn.send(frames);
      let partial = 0;
      for (;;) {
        const chunk = yield* conn.recv();
        if (chunk.length === 0) return;
        const total = partial + chunk.length;
        const n = (total / replyLen) | 0;
        partial = total - n * replyLen;
        received += n;
        if (n > 0 && !stopped) conn.send(n === o.depth ? frames : frames.subarray(0, n * frameLen));
      }
    });
  }
  const result = yield* measure(o, () => received);
  stopped = true;
  console.log(JSON.stringify({ rate: result.perSecond, loadCpu: result.loadCpu, total: received }));
  for (const c of conns) c.abort();
}

/** Broadcast: one publisher keeps `inflight` broadcasts in flight to `subs` subscribers; deliveries are 2 + size bytes each. */
export function* bcastLoad(port: number, o: Window & { subs: number; inflight: number; size: number }): Generator<unknown, void, any> {
  const subs = yield* openMany(port, "/sub", o.subs);
  const pub = yield* open(port, "/pub");
  yield* sleep(200); // every subscriber's handler has subscribed
  const frame = maskedFrames(o.size, 1);
  const deliveryLen = 2 + o.size;
  let bytes = 0;
  let sent = 0;
  let stopped = false;
  const topUp = () => {
    const done = Math.floor(bytes / deliveryLen / o.subs);
    while (!stopped && sent - done < o.inflight) {
      pub.send(frame);
      sent++;
    }
  };
  for (const conn of subs) {
    yield* spawn(function* () {
      for (;;) {
        const chunk = yield* conn.recv();
        if (chunk.length === 0) return;
        bytes += chunk.length;
        topUp();
      }
    });
  }
  topUp();
  const result = yield* measure(o, () => bytes / deliveryLen);
  stopped = true;
  console.log(JSON.stringify({ rate: result.perSecond, loadCpu: result.loadCpu, total: bytes / deliveryLen }));
  pub.abort();
  for (const c of subs) c.abort();
}

/** Idle: opens `conns` connections, says so, and holds them until killed. */
export function* idleLoad(port: number, conns: number): Generator<unknown, void, any> {
  const open = yield* openMany(port, "/idle", conns);
  console.log(JSON.stringify({ open: open.length }));
  yield* sleep(1e9);
}
