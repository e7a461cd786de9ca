import { execFileSync, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  all, cancel, connect, ConnectError, ConnectionClosedError, ConnectionResetError, Event, listen, ProtocolError, run, sleep, spawn, TaskCancelledError, timeout, TimeoutError, wait, type Conn,
} from "@skein/core";
import { rawClient, startServer } from "./support.js";

function* echo(conn: Conn) {
  for (;;) {
    const data = yield* conn.recv();
    if (data.length === 0) return;
    yield* conn.sendAll(data);
  }
}

/** A listener, a Skein client connected to it, and the server side of that connection. */
function* loopbackPair() {
  const listener = yield* listen({ port: 0 });
  const client = yield* connect({ port: listener.address.port });
  const conn = yield* listener.accept();
  return {
    client,
    conn,
    close() {
      client.close();
      conn.close();
      listener.close();
    },
  };
}

/** Reads once from `conn`, as text. */
function* reader(conn: Conn) {
  return String(yield* conn.recv());
}

describe("Conn over TCP", () => {
  test("echoes exact bytes to a raw net client and closes after the client's EOF", async () => {
    await run(function* () {
      const server = yield* startServer(echo);
      const client = yield* wait(rawClient(server.port));
      const payload = Buffer.from([0, 1, 2, 255, 13, 10, 65]);
      client.socket.end(payload);
      yield* wait(client.ended);
      expect(client.received()).toEqual(payload);
      yield* cancel(server.task);
    });
  });

  test("a Skein client and server talk line by line; readLine keeps the rest for the next read", async () => {
    await run(function* () {
      const server = yield* startServer(function* (conn) {
        conn.send("one\ntwo\nthree");
        conn.shutdown();
        yield* conn.recv();
      });
      const c = yield* connect({ port: server.port });
      const lines = [yield* c.readLine(), yield* c.readLine(), yield* c.readLine(), yield* c.readLine()];
      expect(lines.map(String)).toEqual(["one\n", "two\n", "three", ""]);
      c.close();
      yield* cancel(server.task);
    });
  });

  test("readLine over maxBytes raises ProtocolError and leaves the input unread", async () => {
    await run(function* () {
      const server = yield* startServer(function* (conn) {
        conn.send("0123456789\n");
        yield* conn.recv();
      });
      const c = yield* connect({ port: server.port });
      yield* sleep(20);
      let err: unknown;
      try {
        yield* c.readLine({ maxBytes: 4 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe("SKEIN_ERR_LINE_TOO_LONG");
      expect(String(yield* c.recvExactly(11))).toBe("0123456789\n");
      c.close();
      yield* cancel(server.task);
    });
  });

  test("recvExactly reassembles split input and fails typed on an early EOF", async () => {
    await run(function* () {
      const server = yield* startServer(function* (conn) {
        for (const part of ["ab", "cd", "e"]) {
          conn.send(part);
          yield* sleep(5);
        }
        conn.shutdown();
        yield* conn.recv();
      });
      const c = yield* connect({ port: server.port });
      expect(String(yield* c.recvExactly(4))).toBe("abcd");
      let err: unknown;
      try {
        yield* c.recvExactly(2);
      } catch (e) {
        err = e;
      }
      expect((err as ProtocolError).code).toBe("SKEIN_ERR_SHORT_READ");
      c.close();
      yield* cancel(server.task);
    });
  });

  test("readLine and recvExactly that time out part-way keep the bytes they had read; timeoutMs bounds the whole read", async () => {
    await run(function* () {
      const server = yield* startServer(function* (conn) {
        conn.send("partial-"); // a line trickling in: a byte every 20 ms after the first part
        for (const b of "abcdef") {
          yield* sleep(20);
          conn.send(b);
        }
        yield* sleep(150);
        conn.send("-rest\n");
        yield* conn.recv();
      });
      const c = yield* connect({ port: server.port });
      const errors: unknown[] = [];
      try {
        yield* c.readLine({ timeoutMs: 70 }); // per-chunk it would never time out: bytes keep coming
      } catch (e) {
        errors.push(e);
      }
      try {
        yield* c.recvExactly(100, { timeoutMs: 70 });
      } catch (e) {
        errors.push(e);
      }
      expect(errors.map((e) => e instanceof TimeoutError)).toEqual([true, true]);
      expect(String(yield* c.readLine({ timeoutMs: 2000 }))).toBe("partial-abcdef-rest\n");
      c.close();
      yield* cancel(server.task);
    });
  });

  test("recvExactly at an early EOF leaves the short remainder readable", async () => {
    await run(function* () {
      const server = yield* startServer(function* (conn) {
        conn.send("xyz");
        conn.shutdown();
        yield* conn.recv();
      });
      const c = yield* connect({ port: server.port });
      let err: unknown;
      try {
        yield* c.recvExactly(5);
      } catch (e) {
        err = e;
      }
      expect((err as ProtocolError).code).toBe("SKEIN_ERR_SHORT_READ");
      expect(String(yield* c.recv())).toBe("xyz");
      expect((yield* c.recv()).length).toBe(0);
      c.close();
      yield* cancel(server.task);
    });
  });

  test("data received before a peer reset is returned first, then ConnectionResetError", async () => {
    await run(function* () {
      const results: unknown[] = [];
      const done = new Event();
      const server = yield* startServer(function* (conn) {
        yield* sleep(50); // let the data and the reset both arrive
        try {
          for (;;) results.push(String(yield* conn.recv()));
        } catch (e) {
          results.push(e);
        }
        done.set();
      });
      const client = yield* wait(rawClient(server.port));
      client.socket.write("last words");
      yield* sleep(10);
      client.socket.resetAndDestroy();
      yield* done.wait();
      expect(results[0]).toBe("last words");
      expect(results[1]).toBeInstanceOf(ConnectionResetError);
      expect((results[1] as ConnectionResetError).code).toBe("SKEIN_ERR_CONN_RESET");
      yield* cancel(server.task);
    });
  });

  test("a connection the peer reset while it waited to be accepted gives its data, then ends, and still names its peer", async () => {
    await run(function* () {
      const listener = yield* listen({ port: 0 });
      const client = yield* wait(rawClient(listener.address.port));
      const clientPort = client.socket.localPort;
      client.socket.on("error", () => {});
      client.socket.write("bye");
      yield* sleep(20);
      client.socket.resetAndDestroy();
      yield* sleep(50); // the data and the reset have both arrived
      const conn = yield* listener.accept();
      expect(String(yield* conn.recv({ timeoutMs: 2000 }))).toBe("bye");
      // Read after the reset, Linux reports the end of the stream (EOF),
      // not ECONNRESET; either is an end, and it must come, not a hang.
      yield* expectEnd(conn);
      expect([conn.remoteAddress, conn.remotePort, conn.remote]).toEqual(["127.0.0.1", clientPort, `127.0.0.1:${clientPort}`]);
      listener.close();
    });
  });

  test("several tasks suspended in sendAll on one connection all resume when the peer reads; cancelling one leaves the others", async () => {
    await run(function* () {
      const listener = yield* listen({ port: 0 });
      const client = net.connect({ port: listener.address.port, host: "127.0.0.1" });
      client.pause(); // the peer does not read yet
      const conn = yield* listener.accept();
      const writer = () => (function* () {
        yield* conn.sendAll(Buffer.alloc(4 * 1024 * 1024, 1)); // far above the 64 KiB mark
        return "done";
      })();
      const a = yield* spawn(writer());
      const b = yield* spawn(writer());
      const c = yield* spawn(writer());
      yield* sleep(50);
      expect([a.blockedOn, b.blockedOn, c.blockedOn].every((s) => s.startsWith("sendAll("))).toBe(true);
      c.cancel(); // registered last: the head of the waiting list
      yield* sleep(0);
      let received = 0;
      client.on("data", (d: Buffer) => (received += d.length));
      client.resume();
      expect(yield* timeout(3000, all([a, b]))).toEqual(["done", "done"]);
      conn.close();
      yield* sleep(50);
      expect(received).toBeGreaterThanOrEqual(8 * 1024 * 1024);
      client.destroy();
      listener.close();
    });
  });

  test("tasks waiting in sendAll on one connection resume in the order they began to wait", async () => {
    await run(function* () {
      const listener = yield* listen({ port: 0 });
      const client = net.connect({ port: listener.address.port, host: "127.0.0.1" });
      client.pause();
      const conn = yield* listener.accept();
      const order: string[] = [];
      const writer = (name: string) => (function* () {
        yield* conn.sendAll(Buffer.alloc(4 * 1024 * 1024, 1)); // far above the 64 KiB mark
        order.push(name);
      })();
      const tasks = [yield* spawn(writer("a")), yield* spawn(writer("b")), yield* spawn(writer("c"))];
      yield* sleep(50);
      expect(tasks.every((t) => t.blockedOn.startsWith("sendAll("))).toBe(true);
      client.resume();
      yield* timeout(3000, all(tasks));
      expect(order).toEqual(["a", "b", "c"]);
      conn.close();
      client.destroy();
      listener.close();
    });
  });

  test("whenWritten says true once what was sent reached the operating system, false when the peer left with some of it unsent", async () => {
    await run(function* () {
      const listener = yield* listen({ port: 0 });
      const client = net.connect({ port: listener.address.port, host: "127.0.0.1" });
      const conn = yield* listener.accept();
      const outcomes: boolean[] = [];
      conn.send("small");
      conn.whenWritten((ok: boolean) => outcomes.push(ok));
      yield* sleep(20);
      expect(outcomes).toEqual([true]);
      let got = 0;
      client.on("data", (d: Buffer) => {
        got += d.length;
        if (got >= 1 << 20) client.destroy();
      });
      conn.send(Buffer.alloc(64 * 1024 * 1024, 1));
      conn.whenWritten((ok: boolean) => outcomes.push(ok));
      const t0 = Date.now();
      while (outcomes.length < 2 && Date.now() - t0 < 5000) yield* sleep(10);
      expect(outcomes).toEqual([true, false]);
      conn.abort();
      listener.close();
    });
  });

  test("close() lingers at most lingerMs in all, however a peer that keeps sending trickles bytes", async () => {
    await run(function* () {
      const listener = yield* listen({ port: 0 });
      const client = net.connect({ port: listener.address.port, host: "127.0.0.1", allowHalfOpen: true });
      client.on("error", () => {});
      client.resume();
      const conn = yield* listener.accept();
      const t0 = Date.now();
      let closedAfter = -1;
      conn.socket.on("close", () => (closedAfter = Date.now() - t0));
      conn.close(300);
      const trickle = setInterval(() => client.writable && client.write("x"), 50);
      yield* sleep(1000);
      clearInterval(trickle);
      client.destroy();
      listener.close();
      // Before: an idle timeout, reset by every byte: the socket stayed for as long as the peer sent.
      expect(closedAfter).toBeGreaterThanOrEqual(250);
      expect(closedAfter).toBeLessThan(900);
    });
  });

  test("close() delivers a last download slower than lingerMs to a peer that keeps reading", async () => {
    await run(function* () {
      const listener = yield* listen({ port: 0 });
      const client = net.connect({ port: listener.address.port, host: "127.0.0.1" });
      client.pause();
      const conn = yield* listener.accept();
      const size = 8 * 1024 * 1024; // more than loopback's buffers hold
      conn.send(Buffer.alloc(size, 1));
      conn.close(1500);
      let got = 0;
      const reading = setInterval(() => {
        let chunk: Buffer | null;
        let n = 0;
        while (n < 64 * 1024 && (chunk = client.read() as Buffer | null) !== null) n += chunk.length;
        got += n;
      }, 20); // about 3 MB/s: some 2.7 s, past lingerMs
      const t0 = Date.now();
      while (got < size && !client.destroyed && Date.now() - t0 < 8000) yield* sleep(50);
      clearInterval(reading);
      client.destroy();
      listener.close();
      // Before (at the last commit): cut lingerMs after close(), a few MB in.
      expect(got).toBe(size);
    });
  });

  test("a listen cancelled while it finds out a Unix socket path is stale crashes nothing and leaves no listener behind", async () => {
    const dir = mkdtempSync(join(tmpdir(), "skein-stale-"));
    const path = join(dir, "s.sock");
    // A socket file nobody listens on, as a killed server leaves it.
    spawnSync(process.execPath, ["-e", `require("net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`]);
    const uncaught: unknown[] = [];
    const onUncaught = (e: unknown) => void uncaught.push(e);
    process.on("uncaughtException", onUncaught);
    try {
      await run(function* () {
        const t = yield* spawn(listen({ path }));
        yield* sleep(0); // the listen starts, meets EADDRINUSE, probes the file…
        t.cancel(); // …and is cancelled meanwhile
        yield* sleep(100);
      });
      const answer = await new Promise<string>((resolve) => {
        const c = net.connect({ path });
        c.once("connect", () => {
          c.destroy();
          resolve("connected");
        });
        c.once("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
      });
      expect(answer).not.toBe("connected");
    } finally {
      process.off("uncaughtException", onUncaught);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(uncaught).toEqual([]);
  });

  test("a second recv() refused with a TypeError leaves the task already waiting in recv() its data", async () => {
    await run(function* () {
      const { client, conn, close } = yield* loopbackPair();
      const first = yield* spawn(reader(conn));
      let refused: unknown;
      try {
        yield* conn.recv();
      } catch (e) {
        refused = e;
      }
      expect(refused).toBeInstanceOf(TypeError);
      client.send("hello");
      expect(yield* timeout(2000, first)).toBe("hello");
      close();
    });
  });

  test("a reader cancelled a moment ago hands recv() over at once: the next reader gets the data, the old one its Cancelled", async () => {
    await run(function* () {
      const { client, conn, close } = yield* loopbackPair();
      const first = yield* spawn(reader(conn));
      yield* sleep(1); // the first reader now waits in recv()
      first.cancel(); // requested: it has not run yet to take the Cancelled
      client.send("hello");
      expect(String(yield* conn.recv())).toBe("hello");
      let ended: unknown;
      try {
        yield* first;
      } catch (e) {
        ended = e;
      }
      expect(ended).toBeInstanceOf(TaskCancelledError);
      client.close();
      expect(String(yield* conn.recv())).toBe(""); // the cached instruction again, at EOF
      close();
    });
  });

  test("half-close: the peer's EOF ends recv, and we can still answer", async () => {
    await run(function* () {
      const server = yield* startServer(function* (conn) {
        const parts: Buffer[] = [];
        for (;;) {
          const d = yield* conn.recv();
          if (d.length === 0) break;
          parts.push(d);
        }
        yield* conn.sendAll(`got ${Buffer.concat(parts).length} bytes`);
      });
      const client = yield* wait(rawClient(server.port));
      client.socket.end("12345");
      yield* wait(client.ended);
      expect(String(client.received())).toBe("got 5 bytes");
      yield* cancel(server.task);
    });
  });

  test("shutdown sends FIN while the connection keeps reading", async () => {
    await run(function* () {
      const server = yield* startServer(function* (conn) {
        conn.send("bye");
        conn.shutdown();
        const d = yield* conn.recv();
        conn.socket.end(); // already ended; harmless
        expect(String(d)).toBe("still here");
      });
      const client = yield* wait(rawClient(server.port));
      yield* wait(client.ended);
      expect(String(client.received())).toBe("bye");
      client.socket.end("still here");
      yield* sleep(20);
      yield* cancel(server.task);
    });
  });

  test("sending after close raises ConnectionClosedError", async () => {
    await run(function* () {
      const server = yield* startServer(echo);
      const c = yield* connect({ port: server.port });
      c.close();
      expect(() => c.send("x")).toThrow(ConnectionClosedError);
      try {
        c.send("x");
      } catch (e) {
        expect((e as ConnectionClosedError).code).toBe("SKEIN_ERR_CONN_CLOSED");
      }
      yield* cancel(server.task);
    });
  });

  test("after our own close, a task blocked in recv and every later recv get ConnectionClosedError at once", async () => {
    await run(function* () {
      const server = yield* startServer(function* (conn) {
        yield* conn.recv(); // the peer stays open: nothing ends the client's reads but its own close
      });
      const c = yield* connect({ port: server.port });
      const blocked = yield* spawn(function* () {
        try {
          yield* c.recv();
          return "returned";
        } catch (e) {
          return e;
        }
      });
      yield* sleep(10);
      const t0 = Date.now();
      c.close();
      const first = yield* blocked;
      let later: unknown;
      try {
        yield* c.recv();
      } catch (e) {
        later = e;
      }
      expect(first).toBeInstanceOf(ConnectionClosedError);
      expect(later).toBeInstanceOf(ConnectionClosedError);
      expect(Date.now() - t0).toBeLessThan(1000); // not after the 5 s linger
      yield* cancel(server.task);
    });
  });

  test("writing to a reset peer raises a typed connection error, never a crash", async () => {
    await run(function* () {
      let err: unknown;
      const done = new Event();
      const server = yield* startServer(function* (conn) {
        yield* sleep(30);
        try {
          for (let i = 0; i < 100; i++) {
            yield* conn.sendAll(Buffer.alloc(64 * 1024));
            yield* sleep(1);
          }
        } catch (e) {
          err = e;
        }
        done.set();
      });
      const client = yield* wait(rawClient(server.port));
      client.socket.resetAndDestroy();
      yield* done.wait();
      expect(err).toBeInstanceOf(Error);
      expect(["SKEIN_ERR_CONN_RESET", "SKEIN_ERR_CONN_CLOSED"]).toContain((err as ConnectionResetError).code);
      yield* cancel(server.task);
    });
  });

  test("recv with timeoutMs raises TimeoutError when the peer is silent", async () => {
    await run(function* () {
      const server = yield* startServer(function* (conn) {
        yield* conn.recv();
      });
      const c = yield* connect({ port: server.port });
      let err: unknown;
      try {
        yield* c.recv({ timeoutMs: 30 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TimeoutError);
      c.close();
      yield* cancel(server.task);
    });
  });

  test("sendAll suspends while a slow reader lets the buffer fill, and resumes when it reads", async () => {
    await run(function* () {
      const progress: number[] = [];
      const server = yield* startServer(function* (conn) {
        for (let i = 0; i < 64; i++) {
          yield* conn.sendAll(Buffer.alloc(256 * 1024, i));
          progress.push(i);
        }
        conn.shutdown();
        yield* conn.recv();
      }, { writeHighWaterMark: 64 * 1024 });
      const client = yield* wait(rawClient(server.port));
      client.socket.pause();
      yield* sleep(100);
      const stalledAt = progress.length;
      expect(stalledAt).toBeLessThan(64); // 16 MiB cannot all be buffered by the kernel
      client.socket.resume();
      yield* wait(client.ended);
      expect(progress.length).toBe(64);
      expect(client.received().length).toBe(64 * 256 * 1024);
      yield* cancel(server.task);
    });
  });

  test("a slow reader pauses the socket instead of buffering without bound", async () => {
    await run(function* () {
      let conn!: Conn;
      const got = new Event();
      const server = yield* startServer(function* (c) {
        conn = c;
        got.set();
        yield* sleep(200); // not reading
        let total = 0;
        for (;;) {
          const d = yield* c.recv();
          if (d.length === 0) break;
          total += d.length;
        }
        yield* c.sendAll(String(total));
      }, { readHighWaterMark: 16 * 1024 });
      const client = yield* wait(rawClient(server.port));
      const big = Buffer.alloc(8 * 1024 * 1024, 7);
      client.socket.end(big);
      yield* got.wait();
      yield* sleep(100);
      expect(conn.bufferedBytes).toBeLessThan(16 * 1024 + 128 * 1024);
      yield* wait(client.ended);
      expect(String(client.received())).toBe(String(big.length));
      yield* cancel(server.task);
    });
  });

  test("everything sent while tasks run leaves in one socket write (corking)", async () => {
    await run(function* () {
      const server = yield* startServer(function* (conn) {
        let writes = 0;
        const original = conn.socket.write.bind(conn.socket);
        conn.socket.write = ((...args: Parameters<typeof original>) => {
          writes++;
          return original(...args);
        }) as typeof conn.socket.write;
        yield* conn.recv();
        for (let i = 0; i < 16; i++) conn.send(`response ${i}\n`);
        yield* conn.sendAll(`writes=`);
        yield* sleep(5);
        conn.send(String(writes));
      });
      const client = yield* wait(rawClient(server.port));
      client.socket.write("go");
      yield* sleep(50);
      const text = String(client.received());
      expect(text.split("\n").length).toBe(17);
      expect(text.endsWith("writes=1")).toBe(true);
      client.socket.destroy();
      yield* cancel(server.task);
    });
  });

  test("sends queued together past 64 KiB arrive whole and in order (one one-buffer send, then many)", async () => {
    const pieces = Array.from({ length: 24 }, (_, i) => Buffer.alloc(4096 + i, 0x41 + i)); // ~100 KiB
    const expected = Buffer.concat([Buffer.from("first\n"), ...pieces]);
    await run(function* () {
      const server = yield* startServer(function* (conn) {
        yield* conn.recv();
        yield* conn.sendAll("first\n"); // alone in its flush: written without a list
        for (const p of pieces) conn.send(p);
        yield* conn.sendAll(Buffer.alloc(0));
        conn.close();
      });
      const client = yield* wait(rawClient(server.port));
      client.socket.write("go");
      yield* wait(client.ended);
      expect(client.received().equals(expected)).toBe(true);
      yield* cancel(server.task);
    });
  });

  test("a handler's error is logged with its task name and the server keeps serving", async () => {
    const logged: string[] = [];
    await run(function* () {
      const server = yield* startServer(function* (conn) {
        const d = yield* conn.recv();
        if (String(d) === "boom") throw new Error("handler exploded");
        yield* conn.sendAll(d);
      });
      const bad = yield* connect({ port: server.port });
      bad.send("boom");
      let badErr: unknown;
      try {
        yield* bad.recv();
      } catch (e) {
        badErr = e;
      }
      expect(badErr).toBeInstanceOf(ConnectionResetError); // a failed handler aborts its connection
      const good = yield* connect({ port: server.port });
      good.send("fine");
      expect(String(yield* good.recv())).toBe("fine");
      good.close();
      yield* cancel(server.task);
    }, { log: (m, e) => logged.push(`${m} ${(e as Error).message}`) });
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/connection handler conn 127\.0\.0\.1:\d+ failed: handler exploded/);
  });

  test("connecting to a closed port raises ConnectError with the system code", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const err = await run(function* () {
      try {
        yield* connect({ port });
      } catch (e) {
        return e;
      }
    });
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).syscallCode).toBe("ECONNREFUSED");
  });

  test("connect resolves host names without blocking (localhost)", async () => {
    await run(function* () {
      const server = yield* startServer(echo);
      const c = yield* connect({ host: "localhost", port: server.port });
      c.send("hi");
      expect(String(yield* c.recv())).toBe("hi");
      c.close();
      yield* cancel(server.task);
    });
  });
});

describe("Conn over Unix sockets and TLS", () => {
  test("serves and connects over a Unix socket", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "skein-")), "echo.sock");
    await run(function* () {
      const server = yield* startServer(echo, { path });
      const c = yield* connect({ path });
      c.send("over unix");
      expect(String(yield* c.recv())).toBe("over unix");
      c.close();
      yield* cancel(server.task);
    });
  });

  test("a Unix socket listened on with a mode has those permissions from its creation, whatever the umask; a bad mode is a RangeError", async () => {
    const dir = mkdtempSync(join(tmpdir(), "skein-"));
    const previous = process.umask(0); // the most permissive: the socket file would be 0777
    try {
      await run(function* () {
        const owner = yield* listen({ path: join(dir, "owner.sock"), mode: 0o600 });
        const open = yield* listen({ path: join(dir, "open.sock") });
        // No chmod anywhere: what listen created is what is there.
        expect(statSync(join(dir, "owner.sock")).mode & 0o777).toBe(0o600);
        expect(statSync(join(dir, "open.sock")).mode & 0o777).toBe(0o777);
        owner.close();
        open.close();
      });
      expect(process.umask(0)).toBe(0); // put back as it was
    } finally {
      process.umask(previous);
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => listen({ path: "x.sock", mode: 0o1777 })).toThrow(RangeError);
    expect(() => listen({ path: "x.sock", mode: -1 })).toThrow(RangeError);
  });

  test("serves and connects over TLS", async () => {
    const { key, cert } = selfSigned();
    await run(function* () {
      const server = yield* startServer(echo, { tls: { key, cert } });
      const c = yield* connect({ host: "localhost", port: server.port, tls: { ca: cert } });
      c.send("secret");
      expect(String(yield* c.recv())).toBe("secret");
      c.close();
      yield* cancel(server.task);
    });
  });

  test("a TLS peer that half-closes after its request still gets the answer", async () => {
    const { key, cert } = selfSigned();
    await run(function* () {
      const listener = yield* listen({ port: 0, tls: { key, cert } });
      const client = tls.connect({ port: listener.address.port, host: "127.0.0.1", ca: cert, servername: "localhost" });
      client.on("error", () => {});
      const got: Buffer[] = [];
      client.on("data", (d: Buffer) => got.push(d));
      // TLS 1.3: the request and the FIN can follow the client's Finished at once.
      client.write("question");
      client.end();
      const conn = yield* listener.accept();
      const request: Buffer[] = [];
      for (;;) {
        const chunk = yield* conn.recv({ timeoutMs: 2000 });
        if (chunk.length === 0) break;
        request.push(chunk);
      }
      expect(Buffer.concat(request).toString()).toBe("question");
      conn.send("answer");
      conn.close();
      yield* wait(once(client, "close"));
      expect(Buffer.concat(got).toString()).toBe("answer");
      listener.close();
    });
  });

  test("at most maxHandshakes TLS connections wait in their handshake; one that hangs up frees its place", async () => {
    const { key, cert } = selfSigned();
    await run(function* () {
      const listener = yield* listen({ port: 0, tls: { key, cert }, maxHandshakes: 2 });
      const silent = (): net.Socket => net.connect(listener.address.port, "127.0.0.1").on("error", () => {});
      const a = silent();
      const b = silent();
      yield* sleep(100);
      expect(listener.handshaking).toBe(2);
      const c = silent();
      yield* wait(once(c, "close")); // over the bound: closed at once
      a.end(); // hangs up mid-handshake (a FIN, not a reset)
      yield* sleep(100);
      expect(listener.handshaking).toBe(1);
      // A finished handshake leaves the count too.
      const d = tls.connect({ port: listener.address.port, host: "127.0.0.1", ca: cert, servername: "localhost" });
      d.on("error", () => {});
      yield* wait(once(d, "secureConnect"));
      const conn = yield* listener.accept();
      expect(listener.handshaking).toBe(1);
      b.destroy();
      d.destroy();
      conn.close();
      yield* sleep(100);
      expect(listener.handshaking).toBe(0);
      listener.close();
    });
  });

  test("closing a TLS listener closes the connections still in their handshake", async () => {
    const { key, cert } = selfSigned();
    await run(function* () {
      const listener = yield* listen({ port: 0, tls: { key, cert } });
      const silent = net.connect(listener.address.port, "127.0.0.1").on("error", () => {});
      yield* sleep(100);
      expect(listener.handshaking).toBe(1);
      const t0 = Date.now();
      listener.close();
      yield* wait(once(silent, "close"));
      expect(Date.now() - t0).toBeLessThan(1000); // before: held until the handshake timeout (10 s), then accepted by nobody
      expect(listener.handshaking).toBe(0);
    });
  });

  test("a TLS connection that died while it waited to be accepted ends at once instead of hanging", async () => {
    const { key, cert } = selfSigned();
    await run(function* () {
      const listener = yield* listen({ port: 0, tls: { key, cert } });
      const raw = net.connect(listener.address.port, "127.0.0.1");
      raw.on("error", () => {});
      const client = tls.connect({ socket: raw, ca: cert, servername: "localhost" });
      client.on("error", () => {});
      yield* wait(once(client, "secureConnect"));
      yield* sleep(20); // the server has finished its handshake: the socket waits in the backlog
      raw.resetAndDestroy();
      yield* sleep(50);
      yield* expectEnd(yield* listener.accept());
      listener.close();
    });
  });
});

/** The next recv ends the stream (EOF or a reset) within 2 s, rather than hanging. */
function* expectEnd(conn: Conn) {
  let end: unknown;
  try {
    end = yield* conn.recv({ timeoutMs: 2000 });
  } catch (e) {
    end = e;
  }
  if (!(end instanceof ConnectionResetError)) expect(end).toEqual(Buffer.alloc(0));
}

/** A throwaway self-signed certificate for localhost. */
function selfSigned(): { key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), "skein-tls-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=localhost"], { stdio: "ignore" });
  return { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) };
}
