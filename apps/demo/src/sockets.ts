/**
 * The demo's WebSocket endpoints and its live figures.
 *
 * - `/ws/echo` sends every message back, text as text, binary as binary.
 * - `/ws/chat` broadcasts every text message to every client of every
 *   process, the sender included: the handler hands the text to the
 *   {@link Bus}; the bus hands every message (local or relayed from another
 *   worker) to the hub, which frames it once and writes it to each socket.
 *   Clients that connect with `?stats=1` also get a `{"type":"stats",…}`
 *   message once a second (see apps/demo/README.md); chat text shaped
 *   like one is not relayed, so no client can fake the figures.
 *
 * @example
 * ```ts
 * const endpoints = demoSockets(bus);
 * yield* spawn(endpoints.publishFigures(() => sample()));
 * ```
 */
import { all, sleep, tasks, type Operation, type TaskInfo } from "@skein/core";
import { Hub, websocket, type WebSocketApp } from "@skein/websocket";
import type { Bus, Figures } from "./bus.js";

const CHAT = "chat";
const STATS = "stats";

/** The demo's WebSocket endpoints and their hub. */
export interface DemoSockets {
  echoWs: WebSocketApp;
  chatWs: WebSocketApp;
  hub: Hub;
  /** Open WebSockets of both endpoints. */
  readonly count: number;
  /** Sends 1001 to every WebSocket and waits for their handlers (graceful shutdown). */
  shutdown(): Operation<void>;
}

/** Builds both endpoints; chat goes through `bus`. */
export function demoSockets(bus: Bus): DemoSockets {
  const hub = new Hub();
  const echoWs = websocket(
    function* (ws) {
      for (;;) {
        const msg = yield* ws.recv();
        if (msg === null) return;
        yield* ws.send(msg.data, { binary: msg.binary });
      }
    },
    { maxPayloadBytes: 16 * 1024 * 1024 },
  );
  const chatWs = websocket(
    function* (ws, req) {
      hub.subscribe(ws, CHAT);
      if (req.searchParams.get("stats") === "1") hub.subscribe(ws, STATS);
      for (;;) {
        const msg = yield* ws.recv();
        if (msg === null) return;
        // Binary messages are not broadcast, nor text that pages would read as the server's figures.
        if (!msg.binary && !looksLikeStats(msg.text)) bus.publish(msg.text);
      }
    },
    { maxPayloadBytes: 64 * 1024 },
  );
  bus.subscribe((text) => hub.publish(CHAT, text));
  return {
    echoWs,
    chatWs,
    hub,
    get count() {
      return echoWs.connections.size + chatWs.connections.size;
    },
    *shutdown() {
      // Both endpoints at once: each sends its 1001s, then waits for its handlers.
      yield* all([echoWs.shutdown(), chatWs.shutdown()]);
    },
  };
}

/** True for text the page would take for a `{"type":"stats"}` message: only the server sends those. */
export function looksLikeStats(text: string): boolean {
  // Any JSON object (`"type"` may be written with escapes: `"\u0073tats"`).
  if (!text.trimStart().startsWith("{")) return false;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && (value as { type?: unknown }).type === STATS;
  } catch {
    return false;
  }
}

/** Number of tasks in a {@link tasks} snapshot. */
export function countTasks(tree: TaskInfo): number {
  let n = 1;
  for (const child of tree.children) n += countTasks(child);
  return n;
}

/** What {@link publishFigures} samples once a second. */
export interface FigureSources {
  /** Requests routed so far (a running total). */
  requests(): number;
  /** Open TCP connections. */
  connections(): number;
  /** Open WebSockets. */
  websockets(): number;
}

/**
 * Once a second: samples this process's figures, reports them to the bus,
 * and sends the server-wide total to every `?stats=1` chat client.
 * `now` is injectable for tests.
 */
export function* publishFigures(bus: Bus, hub: Hub, sources: FigureSources, now: () => number = Date.now): Operation<never> {
  let lastRequests = sources.requests();
  let lastAt = now();
  for (;;) {
    yield* sleep(1000);
    const at = now();
    const requests = sources.requests();
    const seconds = Math.max(0.001, (at - lastAt) / 1000);
    const figures: Figures = {
      rps: Math.round((requests - lastRequests) / seconds),
      connections: sources.connections(),
      websockets: sources.websockets(),
      tasks: countTasks(yield* tasks()),
    };
    lastRequests = requests;
    lastAt = at;
    bus.report(figures);
    hub.publish(STATS, JSON.stringify({ type: "stats", ...bus.total(), pid: process.pid, at }));
  }
}
