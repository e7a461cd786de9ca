import { afterEach, describe, expect, test } from "vitest";
import { connect as netConnect, type Socket } from "node:net";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cancelled, ConsoleAddressError, isLoopbackHost, remoteConsole, run, sleep, spawn, start, VirtualClock, type ConsoleOptions } from "@skein/core";

/** A line-oriented operator: a plain TCP/Unix client that reads until the next prompt. */
class Operator {
  private out = "";
  private seen = 0;
  private waiter: (() => void) | null = null;
  ended = false;
  readonly closed: Promise<void>;
  constructor(readonly socket: Socket) {
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      this.out += d;
      this.waiter?.();
    });
    this.closed = new Promise((resolve) => socket.on("close", () => resolve()));
    socket.on("end", () => {
      this.ended = true;
      this.waiter?.();
    });
  }
  /** Everything printed since the last call, up to and including `marker`. */
  async until(marker: string): Promise<string> {
    for (;;) {
      const at = this.out.indexOf(marker, this.seen);
      if (at !== -1) {
        const chunk = this.out.slice(this.seen, at + marker.length);
        this.seen = at + marker.length;
        return chunk;
      }
      if (this.ended) throw new Error(`connection ended before ${JSON.stringify(marker)}; got ${JSON.stringify(this.out.slice(this.seen))}`);
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }
  /** Sends one line and returns what the REPL printed before its next prompt. */
  async command(line: string): Promise<string> {
    this.socket.write(line + "\n");
    return (await this.until("skein> ")).replace(/skein> $/, "");
  }
}

function dial(where: { port: number } | { path: string }): Promise<Operator> {
  return new Promise((resolve, reject) => {
    const s = "path" in where ? netConnect(where.path) : netConnect(where.port, "127.0.0.1");
    s.once("connect", () => resolve(new Operator(s)));
    s.once("error", reject);
  });
}

/** Starts a program with a long sleeper and the console; resolves once it listens. */
async function program(options: ConsoleOptions) {
  const log: string[] = [];
  let listening!: (where: { port: number } | { path: string }) => void;
  const ready = new Promise<{ port: number } | { path: string }>((resolve) => (listening = resolve));
  const prog = start(
    function* () {
      yield* spawn(function* () {
        try {
          yield* sleep(60_000);
        } finally {
          log.push("sleeper cleaned up");
        }
      }, { name: "sleeper" });
      yield* spawn(remoteConsole({ ...options, onListening: (a) => listening(a.path ? { path: a.path } : { port: a.port }) } as ConsoleOptions), { name: "console" });
    },
    { clock: new VirtualClock(), name: "app" },
  );
  const outcome = prog.promise.then(
    () => "returned",
    (e) => (e instanceof Cancelled ? "cancelled" : e),
  );
  return { ...prog, log, where: await ready, outcome };
}

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("remote console", () => {
  test("over loopback TCP: tasks() prints the tree, cancel(id) cancels a task, and cancellation closes the session cleanly", async () => {
    const app = await program({ port: 0 });
    const op = await dial(app.where);
    const banner = await op.until("skein> ");
    expect(banner).toContain(`pid ${process.pid}`);

    const tree = await op.command("tasks()");
    const port = (app.where as { port: number }).port;
    expect(tree).toMatch(/^1 app: waiting for children\n/);
    expect(tree).toContain("├─ 2 sleeper: sleep(60000)\n");
    expect(tree).toContain(`└─ 3 console: accept(127.0.0.1:${port})\n`);
    expect(tree).toMatch(/ {3}└─ \d+ console 127\.0\.0\.1:\d+: repl\(127\.0\.0\.1:\d+\)\n/);

    expect(await op.command("cancel(2)")).toBe("cancelled 2 sleeper\n");
    expect(app.log).toEqual(["sleeper cleaned up"]);
    expect(await op.command("tasks()")).not.toContain("sleeper");
    expect(await op.command("cancel(999)")).toContain("no live task with id 999");
    expect(await op.command("kernel.liveTasks")).toBe(`${app.kernel.liveTasks}\n`);

    app.root.cancel();
    expect(await op.until("console closing\n")).toBe("\nconsole closing\n");
    await op.closed;
    expect(await app.outcome).toBe("returned"); // the body had returned; its children were cancelled
    expect(app.kernel.liveTasks).toBe(0);
    expect(app.kernel.timers.size).toBe(0);
  });

  test("each connection gets its own REPL, and .exit ends only that session", async () => {
    const app = await program({ port: 0 });
    const a = await dial(app.where);
    const b = await dial(app.where);
    await a.until("skein> ");
    await b.until("skein> ");
    expect(await a.command("x = 41 + 1")).toBe("42\n");
    expect(await b.command("typeof x")).toBe("'undefined'\n");
    expect((await b.command("tasks()")).match(/repl\(/g)).toHaveLength(2);

    a.socket.write(".exit\n");
    await a.closed;
    // The closed session's task is gone; the other still works.
    await waitFor(async () => ((await b.command("tasks()")).match(/repl\(/g) ?? []).length === 1);
    expect((await b.command("tasks()")).match(/repl\(/g)).toHaveLength(1);

    app.root.cancel();
    await b.closed;
    expect(await app.outcome).toBe("returned"); // the body had returned; its children were cancelled
    expect(app.kernel.liveTasks).toBe(0);
  });

  test("over a Unix socket, owner-only, removed when the console stops", async () => {
    dir = mkdtempSync(join(tmpdir(), "skein-console-"));
    const path = join(dir, "console.sock");
    const app = await program({ path });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const op = await dial({ path });
    await op.until("skein> ");
    expect(await op.command("tasks()")).toContain("sleeper: sleep(60000)");
    app.root.cancel();
    await op.closed;
    expect(await app.outcome).toBe("returned"); // the body had returned; its children were cancelled
    expect(existsSync(path)).toBe(false);
  });

  test("hangs up on an HTTP request (what a web page can make a browser send) before evaluating any of it", async () => {
    delete process.env.SKEIN_CONSOLE_PROBE;
    const app = await program({ port: 0 });
    const op = await dial(app.where);
    await op.until("skein> ");
    const probe = 'process.env.SKEIN_CONSOLE_PROBE = "ran"';
    op.socket.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\nContent-Type: text/plain\r\nContent-Length: ${probe.length + 1}\r\n\r\n${probe}\n`);
    expect(await op.until("closing\n")).toBe("\nan HTTP request is not a console session: closing\n");
    await op.closed;
    expect(process.env.SKEIN_CONSOLE_PROBE).toBeUndefined();
    // An operator still gets a session, and it evaluates the same line.
    const ok = await dial(app.where);
    await ok.until("skein> ");
    expect(await ok.command(probe)).toBe("'ran'\n");
    expect(process.env.SKEIN_CONSOLE_PROBE).toBe("ran");
    delete process.env.SKEIN_CONSOLE_PROBE;
    ok.socket.end();
    app.root.cancel();
    await app.outcome;
  });

  test("ends a session whose line grows past 64 KiB, without evaluating it", async () => {
    const app = await program({ port: 0 });
    const op = await dial(app.where);
    await op.until("skein> ");
    expect(await op.command("1 + 1")).toBe("2\n");
    // Two pieces, the newline in the second: the line is measured across them.
    op.socket.write(`"${"x".repeat(40 * 1024)}`);
    await new Promise((r) => setTimeout(r, 50));
    op.socket.write(`${"x".repeat(40 * 1024)}".length\n`);
    expect(await op.until("closing\n")).toBe("\nline too long: closing\n");
    await op.closed;
    app.root.cancel();
    await app.outcome;
  });

  test("refuses to listen on a non-loopback address with a typed error", async () => {
    for (const host of ["0.0.0.0", "::", "192.168.1.10", "example.org"]) {
      const err = await run(remoteConsole({ port: 0, host })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConsoleAddressError);
      expect((err as ConsoleAddressError).code).toBe("SKEIN_ERR_CONSOLE_NOT_LOOPBACK");
    }
  });

  test("knows which addresses are loopback", () => {
    expect(["127.0.0.1", "127.10.0.5", "::1", "::ffff:127.0.0.1", "localhost"].map(isLoopbackHost)).toEqual([true, true, true, true, true]);
    expect(["0.0.0.0", "::", "10.0.0.1", "::ffff:10.0.0.1", "128.0.0.1", "localhost.example.org"].map(isLoopbackHost)).toEqual([false, false, false, false, false, false]);
  });
});

/** Retries `check` a bounded number of times (an event we wait for, not a timing). */
async function waitFor(check: () => Promise<boolean>, tries = 50): Promise<void> {
  for (let i = 0; i < tries && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
}
