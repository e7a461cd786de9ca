/**
 * One load-generating connection: a task that keeps `pipeline` requests in
 * flight, parses the answers with llhttp in RESPONSE mode, checks each one
 * and records its latency.
 *
 * Speed and memory: this is the hot path, and it runs 10,000 times over.
 * - It opens the connection with core's `connect` (timeouts, TLS, typed
 *   errors) and then takes the socket over (`detach`) with a
 *   {@link SocketReader}: one read, one parse, one write per batch needs
 *   none of `Conn`'s buffering, and no per-connection closures.
 * - It talks to the llhttp wasm instance directly as a minimal sink (the
 *   binding's `WasmSink`) instead of going through `HttpParser`: llhttp
 *   still does all the parsing, but no head object, span array or string is
 *   built per response — the status arrives as a number in
 *   `on_headers_complete`, and the body is compared in place with the
 *   expected bytes.
 * - Time is read once per socket read, not per response (every response in
 *   a read arrived at the same moment); send times live in one run-wide
 *   typed array.
 *
 * @module
 */
import { connect, ConnectionError, ConnectionResetError, isCancelled, sleep, TimeoutError, type Conn } from "@skein/core";
import { LLHTTP_ERROR, LLHTTP_TYPE } from "../llhttp/constants.js";
import { copyIn, execute, llhttp, refreshHeap, type WasmSink } from "../llhttp/wasm.js";
import { SocketReader } from "./socket-read.js";
import type { LoadRun } from "./state.js";
import { E_BODY, E_CLOSED, E_CONNECT, E_PARSE, E_RESET, E_STATUS, E_TIMEOUT } from "./stats.js";

const EMPTY = Buffer.alloc(0);
/** Pause before reconnecting after a failed connect, in ms (a refused port must not spin a core). */
const RECONNECT_BACKOFF_MS = 50;
const SKIP_BODY = 1;

/** When the read being parsed arrived (ms); one clock read per socket read, shared by all connections. */
let readAt = 0;

/** A connection of a load run (survives reconnects). */
export class LoadConnection implements WasmSink {
  readonly #run: LoadRun;
  readonly #index: number;
  readonly #depth: number;
  /** This connection's slots in `run.sentAt` start here; the oldest request in flight is at `#head`. */
  readonly #slot0: number;
  #head = 0;
  /** Requests in flight. */
  inflight = 0;
  /** Answers still owed to warm-up requests: not counted. */
  #uncounted = 0;
  /** The socket being loaded, if connected. */
  #reader: SocketReader | null = null;
  /** The watchdog closed this connection. */
  #timedOut = false;
  /** The server said `Connection: close`. */
  #closing = false;
  /** More responses than requests arrived. */
  #unsolicited = false;
  /** The llhttp parser (allocated while the task runs). */
  #ptr = 0;
  // The read being parsed, and the response being parsed in it.
  #chunk: Buffer = EMPTY;
  #base = 0;
  #status = 0;
  #bodyPos = 0;
  #bodyOk = true;

  /** The `index`-th connection of `run`. */
  constructor(run: LoadRun, index: number) {
    this.#run = run;
    this.#index = index;
    this.#depth = run.options.pipeline;
    this.#slot0 = index * this.#depth;
  }

  /** True while connected. */
  get connected(): boolean {
    return this.#reader !== null;
  }

  /**
   * The connection's task: connect, keep the pipeline full, parse and
   * check, and reconnect after errors, until cancelled (or the count is done).
   */
  *run(): Generator<unknown, void, any> {
    const run = this.#run;
    const o = run.options;
    const stats = run.stats;
    const t = run.plan.target;
    const tls = t.secure ? { servername: /^[\d.]+$|:/.test(t.hostname) ? undefined : t.hostname, ...o.tls } : undefined;
    // Allocated inside the try, so the finally always frees it.
    this.#ptr = llhttp().llhttp_alloc(LLHTTP_TYPE.RESPONSE);
    refreshHeap(); // llhttp_alloc may have grown wasm memory (copyIn's view must follow)
    try {
      while (!run.stopping) {
        let conn: Conn | null = null;
        const gate = run.connectGate;
        if (gate !== null) yield* gate.acquire();
        try {
          conn = yield* connect({ host: t.hostname, port: t.port, tls, timeoutMs: o.connectTimeoutMs });
        } catch (e) {
          if (isCancelled(e)) throw e;
          if (run.recording) stats.errors[E_CONNECT]!++;
        } finally {
          gate?.release();
        }
        if (conn === null) {
          yield* sleep(RECONNECT_BACKOFF_MS);
          continue;
        }
        const reader = this.#open(conn);
        conn = null; // detached: let the Conn go
        try {
          if (!run.paced) this.fill(performance.now());
          for (;;) {
            const chunk = yield* reader.read();
            if (chunk.length === 0) {
              if (this.inflight > 0 && !this.#timedOut && run.recording) stats.errors[E_CLOSED]!++;
              break;
            }
            const now = performance.now();
            readAt = now;
            stats.bytesRead += chunk.length;
            if (!this.#execute(chunk)) {
              if (run.recording) stats.errors[E_PARSE]!++;
              break;
            }
            if (this.#closing) {
              // After `Connection: close` nothing more will be answered here.
              if (this.inflight > 0 && run.recording) stats.errors[E_CLOSED]!++;
              break;
            }
            if (!run.paced && !run.stopping) this.fill(now);
          }
        } catch (e) {
          if (isCancelled(e)) throw e;
          if (!this.#timedOut && run.recording) stats.errors[classify(e)]!++;
        } finally {
          this.#close(reader);
        }
      }
    } finally {
      llhttp().llhttp_free(this.#ptr);
      this.#ptr = 0;
    }
  }

  /** Called when measuring starts: the requests in flight now belong to the warm-up. */
  markInflightUncounted(): void {
    this.#uncounted = this.inflight;
  }

  /** Closes a connection whose requests got no answer in time (called by the watchdog). */
  timeOut(): void {
    if (this.#reader === null || this.#timedOut) return;
    this.#timedOut = true;
    if (this.#run.recording) this.#run.stats.errors[E_TIMEOUT]!++;
    this.#reader.abort();
  }

  #open(conn: Conn): SocketReader {
    const run = this.#run;
    const reader = new SocketReader(conn.detach().socket);
    this.#reader = reader;
    if (++run.connected > run.peakConnected) run.peakConnected = run.connected;
    llhttp().llhttp_reset(this.#ptr);
    this.#head = 0;
    this.inflight = 0;
    this.#uncounted = 0;
    this.#timedOut = this.#closing = this.#unsolicited = false;
    run.progressAt[this.#index] = performance.now();
    return reader;
  }

  #close(reader: SocketReader): void {
    const run = this.#run;
    run.connected--;
    this.#reader = null;
    const lost = this.inflight - this.#uncounted;
    if (lost > 0 && run.measuring) run.onLost(lost);
    this.inflight = 0;
    reader.abort();
  }

  /**
   * Sends as many requests as fit in the pipeline (and the count allows),
   * stamped with `now`; returns how many.
   */
  fill(now: number): number {
    const run = this.#run;
    let k = this.#depth - this.inflight;
    if (k > run.toSend) k = run.toSend;
    if (k <= 0) return 0;
    if (run.measuring) run.toSend -= k;
    run.stats.sent += k;
    this.#reader!.socket.write(run.plan.batches[k]!);
    this.#stamp(k, now);
    return k;
  }

  /**
   * Sends one request (paced runs), stamped with its intended send time so
   * that a server falling behind shows in the latency (no coordinated
   * omission). Returns false when there is no room.
   */
  sendOne(intendedAt: number): boolean {
    const run = this.#run;
    if (this.#reader === null || this.inflight >= this.#depth || this.#closing || run.toSend <= 0) return false;
    if (run.measuring) run.toSend--;
    run.stats.sent++;
    this.#reader.socket.write(run.plan.batches[1]!);
    this.#stamp(1, intendedAt);
    return true;
  }

  #stamp(k: number, at: number): void {
    const run = this.#run;
    if (this.inflight === 0) run.progressAt[this.#index] = performance.now();
    const depth = this.#depth;
    const sentAt = run.sentAt;
    const slot0 = this.#slot0;
    let i = this.#head + this.inflight;
    if (i >= depth) i -= depth;
    for (let j = 0; j < k; j++) {
      sentAt[slot0 + i] = at;
      if (++i === depth) i = 0;
    }
    this.inflight += k;
  }

  /** Runs llhttp over `chunk`; false when the response stream is broken. */
  #execute(chunk: Buffer): boolean {
    this.#chunk = chunk;
    this.#base = copyIn(chunk);
    let ret: number;
    try {
      ret = execute(this, this.#ptr, this.#base, chunk.length);
    } finally {
      this.#chunk = EMPTY;
    }
    if (this.#unsolicited) return false;
    // Bytes after a `Connection: close` response are ignored (RFC 9112 §9.6).
    return ret === LLHTTP_ERROR.OK || ret === LLHTTP_ERROR.CLOSED_CONNECTION;
  }

  // ---- llhttp callbacks (WasmSink) -------------------------------------

  /** @internal */
  onMessageBegin(): number {
    this.#bodyPos = 0;
    this.#bodyOk = true;
    return 0;
  }
  /** @internal */
  onUrl(): number {
    return 0;
  }
  /** @internal */
  onStatus(): number {
    return 0;
  }
  /** @internal */
  onHeaderField(): number {
    return 0;
  }
  /** @internal */
  onHeaderValue(): number {
    return 0;
  }

  /** @internal */
  onHeadersComplete(status: number, _upgrade: number, keepAlive: number): number {
    this.#status = status;
    if (keepAlive === 0) this.#closing = true;
    return this.#run.plan.skipBody ? SKIP_BODY : 0;
  }

  /** @internal */
  onBody(at: number, len: number): number {
    const expected = this.#run.plan.expectBody;
    if (expected === undefined) return 0;
    const pos = this.#bodyPos;
    this.#bodyPos = pos + len;
    if (this.#bodyOk) {
      const off = at - this.#base;
      // Compared in place: no view or copy of the body is made.
      if (pos + len > expected.length || this.#chunk.compare(expected, pos, pos + len, off, off + len) !== 0) this.#bodyOk = false;
    }
    return 0;
  }

  /** @internal */
  onMessageComplete(): number {
    const status = this.#status;
    // 1xx interim responses precede the real one (RFC 9110 §15.2).
    if (status < 200 && status !== 101) return 0;
    if (this.inflight === 0) {
      this.#unsolicited = true;
      return LLHTTP_ERROR.USER;
    }
    const run = this.#run;
    const sentAt = run.sentAt[this.#slot0 + this.#head]!;
    if (++this.#head === this.#depth) this.#head = 0;
    this.inflight--;
    run.progressAt[this.#index] = readAt;
    if (this.#uncounted > 0) {
      this.#uncounted--;
      return 0;
    }
    if (!run.recording) return 0;
    const stats = run.stats;
    const plan = run.plan;
    stats.responses++;
    stats.statusCounts[status]!++;
    if (status < plan.statusMin || status > plan.statusMax) stats.errors[E_STATUS]!++;
    else if (plan.expectBody !== undefined && (!this.#bodyOk || this.#bodyPos !== plan.expectBody.length)) stats.errors[E_BODY]!++;
    else {
      stats.ok++;
      stats.latency.record((readAt - sentAt) * 1000);
    }
    if (run.measuring && run.options.count > 0) run.onAnswered();
    return 0;
  }
}

function classify(e: unknown): number {
  if (e instanceof ConnectionResetError) return E_RESET;
  if (e instanceof TimeoutError) return E_TIMEOUT;
  if (e instanceof ConnectionError) return E_CLOSED;
  throw e;
}
