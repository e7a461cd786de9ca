/**
 * Heartbeat: pings, pong deadlines, idle timeout and maximum lifetime of one
 * WebSocket, driven by a single entry on the kernel's timer heap (so a
 * `VirtualClock` drives it in tests, and a connection costs one timer, not
 * four). The entry is re-armed for the earliest pending deadline each time it
 * fires; a pong or a message only updates a field — no timer work on the
 * message path.
 *
 * Times are whole milliseconds and "never" is -1, not Infinity: small
 * integers are stored in the object itself, while a fractional or infinite
 * number in a field is a separate 16-byte box — four of them per idle
 * connection.
 *
 * @module
 */
import type { Kernel } from "@skein/core";
import type { WebSocketLimits } from "./limits.js";

/** What the heartbeat needs from its socket. */
export interface HeartbeatTarget {
  readonly kernel: Kernel;
  readonly limits: Readonly<WebSocketLimits>;
  /** True while reading is paused because the handler is behind (the peer is not at fault). */
  readonly readPaused: boolean;
  /** True while more than the send high-water mark waits for the peer to read it (the peer is not reading). */
  readonly writeStalled: boolean;
  /** True once the socket has closed. */
  readonly isClosed: boolean;
  /** Sends a heartbeat ping. */
  sendHeartbeatPing(): void;
  /** Ends the connection for `reason`. */
  expire(reason: "WS_ERR_PONG_TIMEOUT" | "WS_ERR_IDLE_TIMEOUT" | "WS_ERR_MAX_LIFETIME"): void;
}

/** A deadline that is not set. */
const NEVER = -1;

/** Kernel time in whole milliseconds (rounded up: a deadline is never early). */
export const wholeMs = (t: number): number => Math.ceil(t);

/** One socket's heartbeat timer (a kernel `TimerEntry`). */
export class Heartbeat {
  // TimerEntry fields, owned by the kernel's timer heap.
  at = 0;
  heapIndex = -1;
  heapSeq = 0;
  /** Kernel time (whole ms) of the last message from the peer (kept only when idleTimeoutMs > 0). */
  lastMessageAt: number;
  private nextPingAt: number;
  private pongDeadline = NEVER;
  private readonly endOfLife: number;

  /** True when `limits` ask for any timer at all. */
  static needed(limits: Readonly<WebSocketLimits>): boolean {
    return limits.pingIntervalMs > 0 || limits.idleTimeoutMs > 0 || limits.maxLifetimeMs > 0;
  }

  constructor(private readonly target: HeartbeatTarget) {
    const now = wholeMs(target.kernel.now());
    const limits = target.limits;
    this.lastMessageAt = now;
    this.nextPingAt = limits.pingIntervalMs > 0 ? now + limits.pingIntervalMs : NEVER;
    this.endOfLife = limits.maxLifetimeMs > 0 ? now + limits.maxLifetimeMs : NEVER;
    this.arm();
  }

  /** The peer answered a ping: it is alive. */
  onPong(): void {
    this.pongDeadline = NEVER;
  }

  /** Cancels the timer (the socket closed). */
  stop(): void {
    if (this.heapIndex !== -1) this.target.kernel.removeTimer(this);
  }

  /** Called by the kernel when the earliest deadline passes. */
  onTimer(): void {
    if (this.target.isClosed) return;
    const now = this.target.kernel.now();
    const { idleTimeoutMs, pingIntervalMs, pongTimeoutMs } = this.target.limits;
    if (this.endOfLife !== NEVER && now >= this.endOfLife) return this.target.expire("WS_ERR_MAX_LIFETIME");
    if (this.pongDeadline !== NEVER && now >= this.pongDeadline) {
      if (!this.handlerBehind()) return this.target.expire("WS_ERR_PONG_TIMEOUT");
      this.pongDeadline = wholeMs(now + pongTimeoutMs);
    }
    if (idleTimeoutMs > 0 && now >= this.lastMessageAt + idleTimeoutMs) {
      if (!this.handlerBehind()) return this.target.expire("WS_ERR_IDLE_TIMEOUT");
      // Count the idle time again from now: once reading resumes, what
      // waited unread arrives and refreshes lastMessageAt.
      this.lastMessageAt = wholeMs(now);
    }
    if (this.nextPingAt !== NEVER && now >= this.nextPingAt) {
      this.target.sendHeartbeatPing();
      if (pongTimeoutMs > 0 && this.pongDeadline === NEVER) this.pongDeadline = wholeMs(now + pongTimeoutMs);
      this.nextPingAt = wholeMs(now + pingIntervalMs);
    }
    this.arm();
  }

  /**
   * True when a missed deadline is the handler's fault, not the peer's:
   * while we are not reading, what the peer sends (pongs, messages) sits
   * unread in our socket — unless the handler is behind only because the
   * peer is not reading what we send (a peer that floods and then stops
   * reading must not escape the deadlines).
   */
  private handlerBehind(): boolean {
    return this.target.readPaused && !this.target.writeStalled;
  }

  private arm(): void {
    const idleTimeoutMs = this.target.limits.idleTimeoutMs;
    let at = Infinity;
    if (idleTimeoutMs > 0) at = this.lastMessageAt + idleTimeoutMs;
    if (this.nextPingAt !== NEVER && this.nextPingAt < at) at = this.nextPingAt;
    if (this.pongDeadline !== NEVER && this.pongDeadline < at) at = this.pongDeadline;
    if (this.endOfLife !== NEVER && this.endOfLife < at) at = this.endOfLife;
    if (at !== Infinity) this.target.kernel.addTimer(this, at);
  }
}
