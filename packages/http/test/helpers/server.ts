// Test helpers: run a Skein HTTP server on port 0 and talk to it with raw
// sockets, parsing what comes back with our own llhttp binding.
import { connect, type Socket } from "node:net";
import { start, type Kernel, type RunOptions } from "@skein/core";
import type { App } from "../../src/app.js";
import { HttpParser, type MessageHead } from "../../src/llhttp/index.js";
import { HttpServer, type ServeOptions } from "../../src/server.js";

export interface Running {
  server: HttpServer;
  port: number;
  kernel: Kernel;
  logs: { message: string; error: unknown }[];
  /** Graceful close, then waits for run() to return. */
  stop(graceMs?: number): Promise<void>;
}

export async function startServer(app: App, options: ServeOptions = {}, run: RunOptions = {}): Promise<Running> {
  const logs: { message: string; error: unknown }[] = [];
  let resolveReady!: (s: HttpServer) => void;
  const ready = new Promise<HttpServer>((r) => (resolveReady = r));
  const started = start(function* () {
    const server = new HttpServer(app, {
      port: 0,
      log: (message, error) => void logs.push({ message, error }),
      ...options,
      onListening: (s) => resolveReady(s),
    });
    yield* server.run();
  }, run);
  started.promise.catch(() => {});
  const server = await Promise.race([ready, started.promise.then(() => { throw new Error("server ended before listening"); })]);
  return {
    server,
    port: server.address.port,
    kernel: started.kernel,
    logs,
    async stop(graceMs = 0) {
      server.close({ graceMs });
      await started.promise;
    },
  };
}

export interface ParsedResponse {
  status: number;
  reason: string;
  headers: [string, string][];
  body: string;
  header(name: string): string | undefined;
}

/** Parses a stream of responses (HEAD responses have no body: pass their indexes). */
export class ResponseReader {
  readonly responses: ParsedResponse[] = [];
  raw = "";
  #current: ParsedResponse | null = null;
  readonly #parser: HttpParser;
  readonly #headIndexes: Set<number>;
  constructor(headIndexes: number[] = []) {
    this.#headIndexes = new Set(headIndexes);
    this.#parser = new HttpParser("response", {
      onHead: (head: MessageHead) => {
        const headers: [string, string][] = [];
        for (let i = 0; i < head.headerCount; i++) headers.push([head.name(i), head.value(i)]);
        const r: ParsedResponse = {
          status: head.status, reason: head.target, headers, body: "",
          header: (name) => headers.find(([n]) => n.toLowerCase() === name)?.[1],
        };
        this.#current = r;
        return head.status < 200 || this.#headIndexes.has(this.responses.length);
      },
      onBody: (chunk) => void (this.#current!.body += chunk.toString("latin1")),
      onMessageComplete: () => {
        if (this.#current!.status >= 200) this.responses.push(this.#current!);
        this.#current = null;
      },
    });
  }
  push(chunk: Buffer): void {
    this.raw += chunk.toString("latin1");
    this.#parser.execute(chunk);
  }
  end(): void {
    try {
      this.#parser.finish();
    } catch {
      // a truncated response stays out of `responses`
    }
  }
}

export interface Exchange {
  responses: ParsedResponse[];
  raw: string;
  closed: boolean;
}

/**
 * Writes `data` (or each piece of it in turn) and collects responses until
 * `count` arrived, or the server closed the connection, or `timeoutMs`.
 */
export function exchange(port: number, data: string | Buffer | (string | Buffer)[], options: { count?: number; headIndexes?: number[]; timeoutMs?: number; keepOpen?: boolean } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const reader = new ResponseReader(options.headIndexes);
    let closed = false;
    const finish = () => {
      clearTimeout(timer);
      if (!options.keepOpen || closed) socket.destroy();
      resolve({ responses: reader.responses, raw: reader.raw, closed });
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 3000);
    socket.on("data", (chunk) => {
      try {
        reader.push(chunk);
      } catch (e) {
        reject(e);
      }
      if (options.count !== undefined && reader.responses.length >= options.count) finish();
    });
    socket.on("end", () => {
      closed = true;
      reader.end();
      finish();
    });
    socket.on("error", () => {
      closed = true;
      finish();
    });
    const pieces = Array.isArray(data) ? data : [data];
    for (const p of pieces) socket.write(typeof p === "string" ? Buffer.from(p, "latin1") : p);
  });
}

/** Opens a raw socket and resolves once connected. */
export function rawSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, "127.0.0.1", () => resolve(s));
    s.on("error", reject);
  });
}

/** Replaces the Date value so heads can be compared byte for byte. */
export function normalizeDate(raw: string): string {
  return raw.replace(/\r\nDate: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n/g, "\r\nDate: <date>\r\n");
}

/** The same app on node:http through toNodeListener. */
export async function startNodeServer(app: App): Promise<Running> {
  const { createServer } = await import("node:http");
  const { toNodeListener } = await import("../../src/node.js");
  const logs: { message: string; error: unknown }[] = [];
  const listener = toNodeListener(app, { log: (message, error) => void logs.push({ message, error }) });
  const server = createServer(listener);
  server.on("upgrade", listener.upgrade);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return {
    server: null as unknown as HttpServer,
    port,
    kernel: listener.kernel,
    logs,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Resolves once `done()` holds (polled every 5 ms); the test's own timeout bounds the wait. */
export function until(done: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = setInterval(() => {
      if (done()) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
}
