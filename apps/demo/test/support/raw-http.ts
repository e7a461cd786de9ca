/**
 * Raw HTTP/1.1 over `net` for the process-level tests: write exact bytes,
 * read exact bytes, and split a byte stream into responses (Content-Length,
 * chunked — keeping each chunk — or read-until-close), so tests can assert
 * framing, pipelining order and HEAD's missing body.
 */
import net from "node:net";

export interface RawResponse {
  /** The status line, e.g. `HTTP/1.1 200 OK`. */
  statusLine: string;
  status: number;
  /** Header fields as sent, in order. */
  rawHeaders: [string, string][];
  /** Lower-case name → value (last wins). */
  headers: Record<string, string>;
  body: Buffer;
  /** For a chunked body: each chunk's payload, in order (the last, empty one excluded). */
  chunks?: Buffer[];
  /** The exact bytes of this response on the wire. */
  raw: Buffer;
}

/** Thrown when the bytes do not form a response yet (the caller reads more). */
class Incomplete extends Error {}

/**
 * Parses one response from `buf` at `offset`. `headOnly` responses (to HEAD)
 * have no body whatever their headers say. `untilEnd` takes the rest as the
 * body when there is no framing (the connection is closed).
 */
function parseOne(buf: Buffer, offset: number, headOnly: boolean, atEnd: boolean): { response: RawResponse; next: number } {
  const headEnd = buf.indexOf("\r\n\r\n", offset, "latin1");
  if (headEnd < 0) throw new Incomplete();
  const lines = buf.toString("latin1", offset, headEnd).split("\r\n");
  const statusLine = lines[0]!;
  const m = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
  if (!m) throw new Error(`not a status line: ${JSON.stringify(statusLine)}`);
  const status = Number(m[1]);
  const rawHeaders: [string, string][] = lines.slice(1).map((l) => {
    const i = l.indexOf(":");
    if (i <= 0) throw new Error(`bad header line: ${JSON.stringify(l)}`);
    return [l.slice(0, i), l.slice(i + 1).trim()];
  });
  const headers = Object.fromEntries(rawHeaders.map(([k, v]) => [k.toLowerCase(), v]));
  let pos = headEnd + 4;
  let body: Buffer;
  let chunks: Buffer[] | undefined;
  if (headOnly || status === 204 || status === 304 || (status >= 100 && status < 200)) {
    body = Buffer.alloc(0);
  } else if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
    chunks = [];
    for (;;) {
      const lineEnd = buf.indexOf("\r\n", pos, "latin1");
      if (lineEnd < 0) throw new Incomplete();
      const size = parseInt(buf.toString("latin1", pos, lineEnd).split(";")[0]!, 16);
      if (Number.isNaN(size)) throw new Error(`bad chunk size line at ${pos}`);
      pos = lineEnd + 2;
      if (size === 0) {
        const trailerEnd = buf.indexOf("\r\n", pos, "latin1");
        if (trailerEnd < 0) throw new Incomplete();
        if (trailerEnd !== pos) throw new Error("trailers are not expected from the demo");
        pos = trailerEnd + 2;
        break;
      }
      if (buf.length < pos + size + 2) throw new Incomplete();
      chunks.push(buf.subarray(pos, pos + size));
      if (buf.toString("latin1", pos + size, pos + size + 2) !== "\r\n") throw new Error("chunk not followed by CRLF");
      pos += size + 2;
    }
    body = Buffer.concat(chunks);
  } else if (headers["content-length"] !== undefined) {
    const n = Number(headers["content-length"]);
    if (buf.length < pos + n) throw new Incomplete();
    body = buf.subarray(pos, pos + n);
    pos += n;
  } else {
    if (!atEnd) throw new Incomplete();
    body = buf.subarray(pos);
    pos = buf.length;
  }
  const response: RawResponse = { statusLine, status, rawHeaders, headers, body, raw: buf.subarray(offset, pos) };
  if (chunks) response.chunks = chunks;
  return { response, next: pos };
}

/** A raw client connection with a growing receive buffer. */
export class RawConn {
  private buf = Buffer.alloc(0);
  private offset = 0;
  ended = false;
  private waiters: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on("end", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("close", () => {
      this.ended = true;
      this.wake();
    });
    socket.on("error", () => {
      this.ended = true;
      this.wake();
    });
  }

  static open(port: number, host = "127.0.0.1"): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host }, () => resolve(new RawConn(socket)));
      socket.once("error", reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private wait(deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const left = deadline - Date.now();
      if (left <= 0) return reject(new Error(`timed out; received so far: ${JSON.stringify(this.buf.toString("latin1").slice(0, 500))}`));
      const t = setTimeout(() => reject(new Error(`timed out; received so far: ${JSON.stringify(this.buf.toString("latin1").slice(0, 500))}`)), left);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === "string" ? Buffer.from(data, "latin1") : data);
  }

  /** Reads the next response (`headOnly` for the answer to a HEAD). */
  async response(opts: { headOnly?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
    const deadline = Date.now() + (opts.timeoutMs ?? 5000);
    for (;;) {
      try {
        const { response, next } = parseOne(this.buf, this.offset, opts.headOnly ?? false, this.ended);
        this.offset = next;
        return response;
      } catch (err) {
        if (!(err instanceof Incomplete)) throw err;
        if (this.ended) throw new Error(`connection closed mid-response; got ${JSON.stringify(this.buf.subarray(this.offset).toString("latin1").slice(0, 300))}`);
      }
      await this.wait(deadline);
    }
  }

  /** Resolves once the server closed the connection; returns the bytes it sent after the responses read so far. */
  async closed(timeoutMs = 5000): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) await this.wait(deadline);
    return this.buf.subarray(this.offset);
  }

  /** Bytes received and not yet consumed by {@link response}. */
  unread(): Buffer {
    return this.buf.subarray(this.offset);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One request on a fresh connection; returns the response. */
export async function request(port: number, bytes: string | Buffer, opts: { headOnly?: boolean; timeoutMs?: number } = {}): Promise<RawResponse> {
  const conn = await RawConn.open(port);
  try {
    conn.write(bytes);
    return await conn.response(opts);
  } finally {
    conn.close();
  }
}

/** `GET path` with Host and the given extra lines. */
export function get(path: string, method = "GET", extra = ""): string {
  return `${method} ${path} HTTP/1.1\r\nHost: localhost\r\n${extra}\r\n`;
}
