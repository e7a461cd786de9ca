/**
 * The coroutine WebSocket as a handler sees it, against the `ws` client and
 * raw peers: echo of every size and kind, ping round trips, the close
 * handshake both ways, the peer vanishing, bounded reading under a flood,
 * send backpressure, and replies to one read leaving in one write.
 */
import { randomBytes } from "node:crypto";
import { constants as zlibConstants, deflateRawSync } from "node:zlib";
import { Event, isCancelled, sleep, spawn, TimeoutError } from "@skein/core";
import { describe, expect, it } from "vitest";
import { websocket, type WebSocket } from "@skein/websocket";
import { useHosts } from "./support/host.js";
import { closePayload, frame, openClient, RawPeer, until } from "./support/peers.js";

const host = useHosts();

const echo = websocket(function* (ws) {
  for (;;) {
    const msg = yield* ws.recv();
    if (msg === null) return;
    yield* ws.send(msg.data, { binary: msg.binary });
  }
});

describe("echo", () => {
  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  const cases: [string, Buffer | string, boolean][] = [
    ["empty text", "", false],
    ["empty binary", Buffer.alloc(0), true],
    ["1 byte text", "x", false],
    ["1 byte binary", Buffer.from([0xff]), true],
    ["multi-byte UTF-8 text", "héllo ☃ 🎉", false],
    ["64 KiB text", "t".repeat(64 * 1024), false],
    ["64 KiB binary", big.subarray(0, 64 * 1024), true],
    ["1 MiB binary", big, true],
    ["1 MiB text", "m".repeat(1 << 20), false],
  ];

  it.each(cases)("echoes %s with its kind", async (_name, data, binary) => {
    const h = await host(echo);
    const c = await openClient(h.url);
    c.ws.send(data, { binary });
    const got = await c.next();
    expect(got.binary).toBe(binary);
    expect(got.data.equals(Buffer.from(data))).toBe(true);
    c.ws.close();
  });

  it("echoes a fragmented message whole, in order with the ones around it", async () => {
    const h = await host(echo);
    const c = await openClient(h.url);
    c.ws.send("before");
    c.ws.send("frag", { fin: false });
    c.ws.send("men", { fin: false });
    c.ws.send("ted", { fin: true });
    c.ws.send(Buffer.from([1, 2]), { binary: true, fin: false });
    c.ws.send(Buffer.from([3]), { binary: true, fin: true });
    expect((await c.next()).data.toString()).toBe("before");
    expect((await c.next()).data.toString()).toBe("fragmented");
    const bin = await c.next();
    expect(bin.binary).toBe(true);
    expect([...bin.data]).toEqual([1, 2, 3]);
    c.ws.close();
  });

  it("keeps the order of many pipelined messages", async () => {
    const h = await host(echo);
    const c = await openClient(h.url);
    for (let i = 0; i < 2000; i++) c.ws.send(`m${i}`);
    for (let i = 0; i < 2000; i++) expect((await c.next()).data.toString()).toBe(`m${i}`);
    c.ws.close();
  });

  it("decodes text with msg.text", async () => {
    const seen: string[] = [];
    const h = await host(
      websocket(function* (ws) {
        const msg = yield* ws.recv();
        seen.push(msg!.text);
      }),
    );
    const c = await openClient(h.url);
    c.ws.send("ünïcødé");
    await c.closeEvent();
    expect(seen).toEqual(["ünïcødé"]);
  });
});

describe("ping", () => {
  it("returns the round-trip time once the peer's pong arrives", async () => {
    const h = await host(
      websocket(function* (ws) {
        const rtt = yield* ws.ping();
        yield* ws.send(String(rtt));
      }),
    );
    const c = await openClient(h.url);
    const rtt = Number((await c.next()).data.toString());
    expect(Number.isFinite(rtt)).toBe(true);
    expect(rtt).toBeGreaterThanOrEqual(0);
  });

  it("answers the peer's ping with a pong carrying the same payload", async () => {
    const h = await host(echo);
    const c = await openClient(h.url);
    const pong = new Promise<Buffer>((r) => c.ws.once("pong", r));
    c.ws.ping(Buffer.from("are you there"));
    expect((await pong).toString()).toBe("are you there");
    c.ws.close();
  });

  it("throws WS_ERR_CLOSED when the socket closes before the pong", async () => {
    const errors: unknown[] = [];
    const h = await host(
      websocket(function* (ws) {
        try {
          yield* ws.ping();
        } catch (e) {
          errors.push(e);
        }
      }),
    );
    const peer = await RawPeer.open(h.port); // never answers pings
    await peer.frameAt(0);
    expect(peer.frames[0]!.opcode).toBe(0x9);
    peer.destroy();
    await until(() => errors.length === 1);
    expect(errors[0]).toMatchObject({ code: "WS_ERR_CLOSED", closeCode: 1006 });
  });
});

describe("closing", () => {
  it("close(code, reason) sends them, waits for the peer's close frame, and returns", async () => {
    const log: string[] = [];
    const h = await host(
      websocket(function* (ws) {
        yield* ws.close(4000, "done here");
        log.push(`closed ${ws.closeCode} open=${ws.isOpen} closed=${ws.isClosed}`);
      }),
    );
    const c = await openClient(h.url);
    expect(await c.closeEvent()).toEqual({ code: 4000, reason: "done here" });
    await until(() => log.length === 1);
    expect(log).toEqual(["closed 4000 open=false closed=true"]);
  });

  it("close() drops a peer that never answers after closeTimeoutMs", async () => {
    const log: string[] = [];
    const h = await host(
      websocket(
        function* (ws) {
          yield* ws.close(1000);
          log.push(`closed ${ws.closeCode}`);
        },
        { closeTimeoutMs: 50 },
      ),
    );
    const peer = await RawPeer.open(h.port); // reads, never sends a close frame
    expect((await peer.closeFrame()).code).toBe(1000);
    await peer.endEvent();
    await until(() => log.length === 1);
    expect(log).toEqual(["closed 1000"]);
  });

  it("a close started while reading is paused reads the peer's answer: TCP closes at once and closeCode is the peer's", async () => {
    const log: unknown[] = [];
    const h = await host(
      websocket(
        function* (ws) {
          yield* ws.recv();
          while (!ws.readPaused) yield* sleep(5);
          const started = Date.now();
          yield* ws.close(4000, "done"); // closeTimeoutMs: the default 5 s
          log.push(Date.now() - started, ws.closeCode, ws.closeReason, ws.error, ws.queuedMessages);
        },
        { maxQueuedMessages: 4, pingIntervalMs: 0 },
      ),
    );
    const peer = await RawPeer.open(h.port);
    const burst: Buffer[] = [];
    for (let i = 0; i < 20; i++) burst.push(frame(0x1, `m${i}`));
    peer.write(burst); // more than maxQueuedMessages: reading pauses
    expect(await peer.closeFrame()).toEqual({ code: 4000, reason: "done" });
    // Messages sent before seeing the close frame, then the answer (its own
    // code, to tell whose closeCode the server reports).
    const late: Buffer[] = [];
    for (let i = 0; i < 200; i++) late.push(frame(0x1, "x".repeat(100)));
    peer.write([...late, frame(0x8, closePayload(4001, "peer's answer"))]);
    await peer.endEvent(2000); // at once, not after closeTimeoutMs
    await until(() => log.length === 5, 2000, "close() to return");
    expect(log[0]).toBeLessThan(2000);
    expect(log.slice(1, 4)).toEqual([4001, "peer's answer", null]);
    // What arrived after our close frame, past the queue's bound, was dropped.
    expect(log[4]).toBeLessThanOrEqual(19);
  });

  it.each([
    ["close(4000, 'bye')", [0x0f, 0xa0, ...Buffer.from("bye")]],
    ["return (close 1000)", [0x03, 0xe8]],
  ])("with closeTimeoutMs 0, a message sent just before %s and the close frame reach the peer", async (how, closeBytes) => {
    const h = await host(
      websocket(
        function* (ws) {
          yield* ws.send("last words");
          if (how.startsWith("close")) yield* ws.close(4000, "bye");
        },
        { closeTimeoutMs: 0 },
      ),
    );
    const peer = await RawPeer.open(h.port); // reads, never answers the close
    await peer.endEvent();
    expect(peer.frames.map((f) => [f.fin, f.opcode, [...f.payload]])).toEqual([
      [true, 0x1, [...Buffer.from("last words")]],
      [true, 0x8, closeBytes],
    ]);
    expect(peer.leftover).toBe("");
  });

  it("recv returns null when the peer closes, with its code and reason", async () => {
    const seen: unknown[] = [];
    const h = await host(
      websocket(function* (ws) {
        seen.push(yield* ws.recv());
        seen.push(yield* ws.recv());
        seen.push(ws.closeCode, ws.closeReason, ws.error);
      }),
    );
    const c = await openClient(h.url);
    c.ws.send("last words");
    c.ws.close(4001, "bye");
    expect((await c.closeEvent()).code).toBe(4001);
    await until(() => seen.length === 5);
    expect((seen[0] as { text: string }).text).toBe("last words");
    expect(seen.slice(1)).toEqual([null, 4001, "bye", null]);
  });

  it("closes with 1000 when the handler returns", async () => {
    const h = await host(websocket(function* () {}));
    const c = await openClient(h.url);
    expect((await c.closeEvent()).code).toBe(1000);
  });

  it("closes with 1011 when the handler throws, and logs the error", async () => {
    const h = await host(
      websocket(function* () {
        throw new Error("handler bug");
      }),
    );
    const c = await openClient(h.url);
    expect((await c.closeEvent()).code).toBe(1011);
    await until(() => h.logs.length === 1);
    expect((h.logs[0]!.error as Error).message).toBe("handler bug");
  });

  it("closes with 1011 and logs when the handler function throws before returning an operation", async () => {
    const h = await host(
      websocket((() => {
        throw new Error("not even a generator");
      }) as unknown as Parameters<typeof websocket>[0]),
    );
    const c = await openClient(h.url);
    expect((await c.closeEvent()).code).toBe(1011);
    await until(() => h.logs.length === 1);
    expect((h.logs[0]!.error as Error).message).toBe("not even a generator");
  });

  it("runs a handler's sub-generators yielded plainly (Bluelet style) inside the session", async () => {
    const h = await host(
      websocket(function* (ws): Generator<unknown, void, any> {
        function* greet(name: string) {
          yield* ws.send(`hello ${name}`);
          return name.length;
        }
        const n = yield greet("bluelet"); // a plain yield of a generator: a sequential call
        yield* ws.send(`len ${n}`);
      }),
    );
    const c = await openClient(h.url);
    expect((await c.next()).data.toString()).toBe("hello bluelet");
    expect((await c.next()).data.toString()).toBe("len 7");
    expect((await c.closeEvent()).code).toBe(1000);
  });

  it("when the peer vanishes, the pending recv ends with null and finally runs", async () => {
    const log: unknown[] = [];
    const h = await host(
      websocket(function* (ws) {
        try {
          log.push(yield* ws.recv());
          log.push(ws.error?.code, ws.closeCode);
        } finally {
          log.push("finally");
        }
      }),
    );
    const c = await openClient(h.url);
    c.ws.terminate();
    await until(() => log.includes("finally"));
    expect(log).toEqual([null, "WS_ERR_ABNORMAL_CLOSURE", 1006, "finally"]);
    expect(h.logs).toEqual([]);
  });

  it("a send after the peer left throws WS_ERR_CLOSED, which is not logged as a handler failure", async () => {
    const errors: unknown[] = [];
    const h = await host(
      websocket(function* (ws) {
        yield* ws.recv();
        try {
          yield* ws.send("too late");
        } catch (e) {
          errors.push(e);
          throw e;
        }
      }),
    );
    const c = await openClient(h.url);
    c.ws.terminate();
    await until(() => errors.length === 1);
    expect(errors[0]).toMatchObject({ code: "WS_ERR_CLOSED" });
    await sleepMs(20);
    expect(h.logs).toEqual([]);
  });
});

describe("recv", () => {
  it("throws TimeoutError after timeoutMs without a message", async () => {
    const h = await host(
      websocket(function* (ws) {
        try {
          yield* ws.recv({ timeoutMs: 30 });
        } catch (e) {
          yield* ws.send(e instanceof TimeoutError ? "timed out" : "other");
        }
      }),
    );
    const c = await openClient(h.url);
    expect((await c.next()).data.toString()).toBe("timed out");
  });

  it("rejects two concurrent readers", async () => {
    const errors: unknown[] = [];
    const h = await host(
      websocket(function* (ws) {
        yield* spawn(ws.recv());
        yield* sleep(5);
        try {
          yield* ws.recv();
        } catch (e) {
          errors.push(e);
        }
      }),
    );
    const c = await openClient(h.url);
    await until(() => errors.length === 1);
    expect(errors[0]).toBeInstanceOf(TypeError);
    c.ws.close();
  });

  it("each() runs a body per message until the peer closes", async () => {
    const seen: string[] = [];
    const h = await host(
      websocket(function* (ws) {
        yield* ws.each(function* (msg) {
          seen.push(msg.text);
        });
        seen.push("end");
      }),
    );
    const c = await openClient(h.url);
    c.ws.send("a");
    c.ws.send("b");
    c.ws.close();
    await until(() => seen.includes("end"));
    expect(seen).toEqual(["a", "b", "end"]);
  });
});

describe("inbound flow control", () => {
  it("pauses reading while the handler is behind, then delivers everything in order", async () => {
    const gate = new Event("gate");
    let server: WebSocket | null = null;
    let count = 0;
    let inOrder = true;
    const h = await host(
      websocket(
        function* (ws) {
          server = ws;
          yield* gate.wait();
          for (;;) {
            const msg = yield* ws.recv();
            if (msg === null) return;
            if (msg.data.readUInt32BE(0) !== count) inOrder = false;
            count++;
            if (count === N) yield* ws.send("all here");
          }
        },
        { maxQueuedMessages: 16, maxQueuedBytes: 64 * 1024 },
      ),
    );
    const N = 40_000;
    const c = await openClient(h.url);
    const payload = Buffer.alloc(1024);
    for (let i = 0; i < N; i++) {
      const m = Buffer.from(payload);
      m.writeUInt32BE(i, 0);
      c.ws.send(m);
    }
    await until(() => server !== null && server.readPaused, 5000, "reading to pause");
    // Let the flood pile up against the paused socket.
    await sleepMs(200);
    const s = server!;
    // Bounded: at most the limit plus what one socket read (64 KiB) held.
    expect(s.queuedMessages).toBeLessThanOrEqual(16 + 65);
    expect(c.ws.bufferedAmount).toBeGreaterThan(0); // the rest waits on the client: backpressure
    gate.set();
    expect((await c.next(20_000)).data.toString()).toBe("all here");
    expect(count).toBe(N);
    expect(inOrder).toBe(true);
    c.ws.close();
  });
});

describe("inbound flow control with permessage-deflate", () => {
  it("closes with 1008 (WS_ERR_QUEUE_OVERFLOW) a peer whose compressed messages outgrow the queue's hard bound while the handler is behind", async () => {
    const gate = new Event("gate");
    let server: WebSocket | null = null;
    const h = await host(websocket(function* (ws) {
      server = ws;
      yield* gate.wait();
      while ((yield* ws.recv()) !== null);
    }, { perMessageDeflate: true }));
    const peer = await RawPeer.open(h.port, "/", { "sec-websocket-extensions": "permessage-deflate; client_no_context_takeover" });
    // 1 MiB of zeros deflates to about a kilobyte: 300 such messages fit in one read.
    let compressed = deflateRawSync(Buffer.alloc(1024 * 1024 - 64), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    compressed = compressed.subarray(0, compressed.length - 4); // the 00 00 ff ff tail (RFC 7692 §7.2.1)
    const one = frame(2, compressed, { rsv: 4 });
    await until(() => server !== null, 5000, "the handler");
    peer.write(Buffer.concat(Array.from({ length: 300 }, () => one)));
    await until(() => peer.frames.some((f) => f.opcode === 8), 5000, "a close frame");
    const close = peer.frames.find((f) => f.opcode === 8)!;
    // Before: 63 inflated messages (63 MiB) queued against a 1 MiB bound, and no close.
    expect(close.payload.readUInt16BE(0)).toBe(1008);
    expect(server!.error?.code).toBe("WS_ERR_QUEUE_OVERFLOW");
    expect(server!.queuedMessages).toBeLessThanOrEqual(3);
    gate.set();
    peer.destroy();
  });
});

describe("inbound flow control without compression", () => {
  it("pauses a peer whose handler is slow, and never closes it, however small the queue limits", async () => {
    let got = 0;
    const h = await host(websocket(function* (ws) {
      for (;;) {
        if ((yield* ws.recv()) === null) return;
        got++;
        yield* sleep(2);
      }
    }, { maxQueuedBytes: 0, maxPayloadBytes: 4096, maxQueuedMessages: 1000 }));
    const peer = await RawPeer.open(h.port, "/");
    peer.write(Buffer.concat(Array.from({ length: 40 }, () => frame(2, Buffer.alloc(1000)))));
    await until(() => got === 40, 5000, "all 40 messages");
    // Before (2ff73e1's first form): one read's overshoot passed the hard bound and the peer got 1008.
    expect(peer.frames.filter((f) => f.opcode === 8)).toEqual([]);
    peer.destroy();
  });
});

describe("send", () => {
  it.each([5_000, 200_000])("lets the caller reuse its buffer once send returns (%i bytes)", async (size) => {
    const h = await host(websocket(function* (ws) {
      const buf = Buffer.alloc(size);
      for (let i = 0; i < 5; i++) {
        buf.fill(0x30 + i);
        yield* ws.send(buf);
      }
      while ((yield* ws.recv()) !== null);
    }, { pingIntervalMs: 0 }));
    const c = await openClient(h.url);
    const got: string[] = [];
    for (let i = 0; i < 5; i++) {
      const m = await c.next();
      got.push(`${String.fromCharCode(m.data[0]!)}${m.data[size - 1] === m.data[0] ? "" : "!"}`);
    }
    // Before, at 5,000 bytes: the socket still held the buffer by reference; all five carried the last fill.
    expect(got).toEqual(["0", "1", "2", "3", "4"]);
    c.ws.close();
  });

  it("suspends above sendHighWaterMarkBytes while the peer is not reading", async () => {
    const hwm = 64 * 1024;
    const size = 32 * 1024;
    let sent = 0;
    let maxBuffered = 0;
    const h = await host(
      websocket(
        function* (ws) {
          const chunk = Buffer.alloc(size, 1);
          for (let i = 0; i < 2000; i++) {
            yield* ws.send(chunk);
            sent++;
            maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
          }
          yield* ws.send("done");
          yield* ws.recv();
        },
        { sendHighWaterMarkBytes: hwm },
      ),
    );
    const c = await openClient(h.url);
    c.ws.pause();
    await sleepMs(300);
    // 64 MB would have been sent by now without backpressure; the socket
    // buffers of loopback hold a few MB at most.
    expect(sent).toBeLessThan(1000);
    expect(maxBuffered).toBeLessThanOrEqual(hwm + size + 14);
    c.ws.resume();
    let last: Buffer | null = null;
    for (let i = 0; i <= 2000; i++) last = (await c.next(20_000)).data;
    expect(last!.toString()).toBe("done");
    expect(sent).toBe(2000);
    c.ws.close();
  });

  it("with permessage-deflate, counts what ws holds back to compress: suspends above the mark, resumes as the peer reads", async () => {
    const hwm = 64 * 1024;
    const size = 64 * 1024;
    const count = 300; // 19 MiB: more than loopback's socket buffers hold
    let sent = 0;
    let maxBuffered = 0;
    const h = await host(
      websocket(
        function* (ws) {
          const chunk = randomBytes(size); // incompressible: it stays 64 KiB on the wire
          for (let i = 0; i < count; i++) {
            yield* ws.send(chunk);
            sent++;
            maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
          }
          yield* ws.send("done");
          yield* ws.recv();
        },
        { sendHighWaterMarkBytes: hwm, perMessageDeflate: true },
      ),
    );
    const c = await openClient(h.url, { perMessageDeflate: true });
    expect(c.ws.extensions).toBe("permessage-deflate");
    c.ws.pause();
    await sleepMs(400);
    // Without the wait, every send returns at once and ws queues all 19 MiB.
    expect(sent).toBeLessThan(count - 50);
    expect(maxBuffered).toBeLessThanOrEqual(hwm + size + 1024);
    c.ws.resume();
    let last: Buffer | null = null;
    for (let i = 0; i <= count; i++) last = (await c.next(20_000)).data;
    expect(last!.toString()).toBe("done");
    expect(sent).toBe(count);
    expect(maxBuffered).toBeLessThanOrEqual(hwm + size + 1024);
    c.ws.close();
  });

  it("several tasks sending under backpressure all resume once the peer reads", async () => {
    const finished: string[] = [];
    const h = await host(
      websocket(
        function* (ws) {
          const chunk = Buffer.alloc(16 * 1024, 2);
          const sender = (name: string) =>
            function* () {
              for (let i = 0; i < 400; i++) yield* ws.send(chunk);
              finished.push(name);
            };
          const a = yield* spawn(sender("a"));
          const b = yield* spawn(sender("b"));
          yield* a;
          yield* b;
          yield* ws.send("both done");
          yield* ws.recv();
        },
        { sendHighWaterMarkBytes: 16 * 1024 },
      ),
    );
    const c = await openClient(h.url);
    c.ws.pause();
    await sleepMs(200);
    expect(finished).toEqual([]); // both are blocked: 12.8 MB cannot all be buffered
    c.ws.resume();
    let last: Buffer | null = null;
    for (let i = 0; i <= 800; i++) last = (await c.next(20_000)).data;
    expect(last!.toString()).toBe("both done");
    expect(finished.sort()).toEqual(["a", "b"]);
    c.ws.close();
  });

  it("when the peer drops while several tasks wait to send, each of them ends and ws.closed() returns", async () => {
    const errors: unknown[] = [];
    let waiting = 0;
    let server: WebSocket | null = null;
    const h = await host(
      websocket(
        function* (ws) {
          server = ws;
          const chunk = Buffer.alloc(16 * 1024, 3);
          const sender = function* () {
            try {
              for (;;) {
                waiting++;
                yield* ws.send(chunk);
                waiting--;
              }
            } catch (e) {
              errors.push(e);
              throw e;
            }
          };
          // The first sender to fail fails the handler, which cancels the
          // other while the socket is still waking its senders (this threw
          // a TypeError out of ws's 'close' event: the process died).
          const a = yield* spawn(sender);
          const b = yield* spawn(sender);
          yield* a;
          yield* b;
        },
        { sendHighWaterMarkBytes: 16 * 1024 },
      ),
    );
    const c = await openClient(h.url);
    c.ws.pause();
    await until(() => waiting === 2, 5000, "both senders to block");
    // A task outside the handler's, waiting for the close: resumed at the end of onClose.
    let closedSeen = false;
    void h.exec(() => server!.closed()).then(() => (closedSeen = true));
    c.ws.terminate();
    await until(() => errors.length === 2, 2000, "both senders to end");
    expect(errors[0]).toMatchObject({ code: "WS_ERR_CLOSED", closeCode: 1006 });
    // Cancelled by the failed handler (or failed too, had it been woken first).
    expect(isCancelled(errors[1]) || (errors[1] as { code?: string }).code === "WS_ERR_CLOSED").toBe(true);
    await until(() => closedSeen, 2000, "ws.closed() to return");
  });

  it("everything sent in reply to one read leaves in one write", async () => {
    const writes: number[] = [];
    const h = await host(
      websocket(function* (ws) {
        const sock = ws.raw._socket as unknown as { _write: Function; _writev: Function };
        const w = sock._write.bind(sock);
        const wv = sock._writev.bind(sock);
        sock._write = (chunk: Buffer, enc: string, cb: () => void) => (writes.push(1), w(chunk, enc, cb));
        sock._writev = (chunks: unknown[], cb: () => void) => (writes.push(chunks.length), wv(chunks, cb));
        for (;;) {
          const msg = yield* ws.recv();
          if (msg === null) return;
          yield* ws.send(msg.data, { binary: msg.binary });
        }
      }),
    );
    const peer = await RawPeer.open(h.port);
    const sixteen: Buffer[] = [];
    for (let i = 0; i < 16; i++) sixteen.push(frame(0x1, `message ${String(i).padStart(2, "0")} of 32 bytes...`));
    await sleepMs(20);
    peer.write(sixteen);
    await until(() => peer.frames.length === 16);
    expect(peer.frames.map((f) => f.payload.toString().slice(8, 10))).toEqual(sixteen.map((_, i) => String(i).padStart(2, "0")));
    expect(writes.length).toBe(1);
    peer.destroy();
  });
});

function sleepMs(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
