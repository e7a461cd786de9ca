/**
 * A hub for broadcast and pub/sub. `publish` frames a message once (with
 * `ws`'s framer) and writes the same bytes to every subscriber's socket,
 * where `ws.send` in a loop would frame and copy it per subscriber. Writes
 * are corked per socket and leave when the kernel is idle, so a burst of
 * publishes reaches each subscriber in one write.
 *
 * Each subscriber's outbound buffer is bounded by `maxBufferedBytes`; a
 * subscriber past it is a slow consumer, and the `slowConsumer` policy says
 * what happens: its messages are dropped until it catches up ("drop"), or it
 * is closed with 1008 ("close"). What the current burst itself has queued
 * behind the cork counts only past a second allowance (see HubOptions).
 *
 * @module
 */
import { frameOnce } from "./ws-internals.js";
import type { Subscriptions, WebSocket } from "./socket.js";

/** Options of a {@link Hub}. */
export interface HubOptions {
  /**
   * Most bytes a subscriber may have waiting to be sent and still receive
   * the next message (so its buffer stays below this plus one message);
   * past it, it is a slow consumer. Default 1 MiB. 0 = only a subscriber
   * with nothing waiting receives a message. What one read or one step of
   * work publishes leaves in one write, and is not counted as waiting
   * until then; such a burst may add at most this much again (at least
   * 1 MiB) before it counts.
   */
  maxBufferedBytes?: number;
  /**
   * What to do with a slow consumer: `"close"` it with 1008 (it can
   * reconnect and catch up), or `"drop"` the messages it cannot take.
   * Default "close".
   */
  slowConsumer?: "drop" | "close";
}

/** Options of {@link Hub.publish}. */
export interface PublishOptions {
  /** Send as binary (opcode 2). Default: true for bytes, false for strings. */
  binary?: boolean;
  /** A subscriber to skip (typically the sender of the message). */
  except?: WebSocket;
}

/**
 * Topics and their subscribers. A closed socket leaves every topic by itself.
 *
 * @example
 * const hub = new Hub({ slowConsumer: "drop" });
 * const chat = websocket(function* (ws) {
 *   hub.subscribe(ws, "room:lobby");
 *   for (let msg; (msg = yield* ws.recv()) !== null; ) hub.publish("room:lobby", msg.data, { binary: msg.binary });
 * });
 */
export class Hub implements Subscriptions {
  readonly maxBufferedBytes: number;
  /** Bound on what a subscriber holds, the current burst included (see `maxBufferedBytes`). */
  private readonly burstBytes: number;
  readonly slowConsumer: "drop" | "close";
  /** Messages not delivered to slow consumers (policy "drop"). */
  dropped = 0;
  /** Subscribers closed as slow consumers (policy "close"). */
  closedSlow = 0;
  private readonly topics = new Map<string, Set<WebSocket>>();
  private readonly bySocket = new Map<WebSocket, Set<string>>();

  constructor(options: HubOptions = {}) {
    const max = options.maxBufferedBytes ?? 1024 * 1024;
    if (!Number.isSafeInteger(max) || max < 0) throw new RangeError(`maxBufferedBytes must be a non-negative integer, got ${String(max)}`);
    const policy = options.slowConsumer ?? "close";
    if (policy !== "drop" && policy !== "close") throw new RangeError(`slowConsumer must be "drop" or "close", got ${String(policy)}`);
    this.maxBufferedBytes = max;
    this.burstBytes = max + Math.max(max, 1024 * 1024);
    this.slowConsumer = policy;
  }

  /** Adds `ws` to `topic` (no-op if already there or closed). */
  subscribe(ws: WebSocket, topic: string): void {
    if (ws.isClosed) return;
    let subs = this.topics.get(topic);
    if (subs === undefined) this.topics.set(topic, (subs = new Set()));
    subs.add(ws);
    let mine = this.bySocket.get(ws);
    if (mine === undefined) {
      this.bySocket.set(ws, (mine = new Set()));
      (ws.subscriptions ??= []).push(this);
    }
    mine.add(topic);
  }

  /** Removes `ws` from `topic`. */
  unsubscribe(ws: WebSocket, topic: string): void {
    const subs = this.topics.get(topic);
    if (subs !== undefined && subs.delete(ws) && subs.size === 0) this.topics.delete(topic);
    const mine = this.bySocket.get(ws);
    if (mine !== undefined && mine.delete(topic) && mine.size === 0) this.forget(ws);
  }

  /** Removes `ws` from every topic (called when it closes). */
  drop(ws: WebSocket): void {
    const mine = this.bySocket.get(ws);
    if (mine === undefined) return;
    for (const topic of mine) {
      const subs = this.topics.get(topic);
      if (subs !== undefined && subs.delete(ws) && subs.size === 0) this.topics.delete(topic);
    }
    this.forget(ws);
  }

  /** Number of subscribers of `topic`. */
  subscribers(topic: string): number {
    return this.topics.get(topic)?.size ?? 0;
  }

  /** Topics `ws` is subscribed to. */
  topicsOf(ws: WebSocket): string[] {
    return [...(this.bySocket.get(ws) ?? [])];
  }

  /**
   * Sends `data` to every subscriber of `topic`, framed once. Never
   * suspends: a subscriber that cannot keep up is handled by the
   * slow-consumer policy. Returns how many subscribers it was written to.
   *
   * @example
   * hub.publish("prices", JSON.stringify(tick));
   */
  publish(topic: string, data: string | Uint8Array, options?: PublishOptions): number {
    const subs = this.topics.get(topic);
    if (subs === undefined || subs.size === 0) return 0;
    const binary = options?.binary ?? typeof data !== "string";
    const payload = typeof data === "string" ? Buffer.from(data) : Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const frame = frameOnce(payload, binary);
    const except = options?.except;
    const limit = this.maxBufferedBytes;
    let written = 0;
    for (const ws of subs) {
      if (ws === except) continue;
      if (ws.backlog > limit || ws.bufferedAmount > this.burstBytes) {
        if (this.slowConsumer === "drop") this.dropped++;
        else if (ws.isOpen) {
          this.closedSlow++;
          ws.expire("WS_ERR_SLOW_CONSUMER");
        }
        continue;
      }
      if (ws.writeFrame(frame, payload, binary)) written++;
    }
    return written;
  }

  private forget(ws: WebSocket): void {
    this.bySocket.delete(ws);
    const list = ws.subscriptions;
    if (list === null) return;
    const i = list.indexOf(this);
    if (i >= 0) list.splice(i, 1);
  }
}
