/**
 * The demo's message bus: how a chat message received by one process reaches
 * the clients of every process, and how each process's figures add up to the
 * server's.
 *
 * With one process the bus is local: `publish` hands the text straight to the
 * subscribers. With `--workers N` each worker's bus also sends the text to the
 * primary over node:cluster IPC; the primary relays it to every other worker,
 * whose bus hands it to its own subscribers. Every text message thus crosses
 * IPC at most twice and is framed once per process (by the WebSocket hub).
 *
 * Figures travel the same way: each worker sends its per-second sample to the
 * primary, which sums the latest sample of every live worker and sends the
 * total back to all of them once a second.
 *
 * The IPC messages are tagged `{ skeinDemo: ... }` so they never collide with
 * anything else on the channel.
 */

/** One process's figures for the last second, or the sum over all processes. */
export interface Figures {
  /** HTTP requests completed in the last second. */
  rps: number;
  /** Open TCP connections (HTTP and WebSocket). */
  connections: number;
  /** Open WebSockets. */
  websockets: number;
  /** Live coroutine tasks. */
  tasks: number;
}

/** What crosses the IPC channel. */
export type BusMessage =
  | { skeinDemo: "chat"; text: string }
  | { skeinDemo: "figures"; figures: Figures }
  | { skeinDemo: "total"; figures: Figures; workers: number };

/** The subset of a `process` or cluster `Worker` the bus needs. */
export interface IpcPort {
  send(message: BusMessage, callback?: (error: Error | null) => void): unknown;
  on(event: "message", listener: (message: unknown) => void): unknown;
  off(event: "message", listener: (message: unknown) => void): unknown;
}

/** A process's view of the bus. */
export interface Bus {
  /** Delivers `text` to this process's subscribers and to every other process. */
  publish(text: string): void;
  /** Calls `fn` for every chat message, from this process or another. Returns an unsubscribe. */
  subscribe(fn: (text: string) => void): () => void;
  /** Reports this process's figures for the last second (once a second). */
  report(figures: Figures): void;
  /** The server-wide figures: this process's own with one process, the primary's latest sum with several. */
  total(): Figures & { workers: number };
  /** Stops listening to the IPC channel. */
  close(): void;
}

export const ZERO_FIGURES: Readonly<Figures> = Object.freeze({ rps: 0, connections: 0, websockets: 0, tasks: 0 });

function isBusMessage(m: unknown): m is BusMessage {
  return typeof m === "object" && m !== null && "skeinDemo" in m;
}

class Subscribers {
  private readonly fns = new Set<(text: string) => void>();
  add(fn: (text: string) => void): () => void {
    this.fns.add(fn);
    return () => this.fns.delete(fn);
  }
  deliver(text: string): void {
    for (const fn of this.fns) fn(text);
  }
}

/** The bus of a single-process server. */
export function localBus(): Bus {
  const subs = new Subscribers();
  let latest: Figures = ZERO_FIGURES;
  return {
    publish: (text) => subs.deliver(text),
    subscribe: (fn) => subs.add(fn),
    report: (figures) => void (latest = figures),
    total: () => ({ ...latest, workers: 1 }),
    close: () => {},
  };
}

/**
 * The bus of a cluster worker; `port` is `process` in a real worker.
 *
 * @example
 * const bus = cluster.isWorker ? workerBus(process as IpcPort) : localBus();
 */
export function workerBus(port: IpcPort): Bus {
  const subs = new Subscribers();
  let total: Figures & { workers: number } = { ...ZERO_FIGURES, workers: 1 };
  let own: Figures = ZERO_FIGURES;
  let heardTotal = false;
  const onMessage = (m: unknown) => {
    if (!isBusMessage(m)) return;
    if (m.skeinDemo === "chat") subs.deliver(m.text);
    else if (m.skeinDemo === "total") {
      heardTotal = true;
      total = { ...m.figures, workers: m.workers };
    }
  };
  port.on("message", onMessage);
  return {
    publish(text) {
      subs.deliver(text);
      safeSend(port, { skeinDemo: "chat", text });
    },
    subscribe: (fn) => subs.add(fn),
    report(figures) {
      own = figures;
      safeSend(port, { skeinDemo: "figures", figures });
    },
    // Until the primary's first sum arrives, this worker's own figures are the best estimate.
    total: () => (heardTotal ? total : { ...own, workers: 1 }),
    close: () => void port.off("message", onMessage),
  };
}

/** Adds two samples field by field. */
export function addFigures(a: Figures, b: Figures): Figures {
  return { rps: a.rps + b.rps, connections: a.connections + b.connections, websockets: a.websockets + b.websockets, tasks: a.tasks + b.tasks };
}

/**
 * The primary's side: relays chat between workers and sums their figures.
 * Call `add` for each forked worker and `remove` when it exits; `tick` (once
 * a second) sends every worker the current total.
 */
export class Relay {
  private readonly workers = new Map<IpcPort, { figures: Figures; listener: (m: unknown) => void }>();

  add(worker: IpcPort): void {
    const entry = {
      figures: ZERO_FIGURES as Figures,
      listener: (m: unknown) => {
        if (!isBusMessage(m)) return;
        if (m.skeinDemo === "chat") this.relay(worker, m);
        else if (m.skeinDemo === "figures") entry.figures = m.figures;
      },
    };
    this.workers.set(worker, entry);
    worker.on("message", entry.listener);
  }

  remove(worker: IpcPort): void {
    const entry = this.workers.get(worker);
    if (!entry) return;
    worker.off("message", entry.listener);
    this.workers.delete(worker);
  }

  /** The sum of every live worker's latest figures. */
  total(): Figures {
    let sum: Figures = ZERO_FIGURES;
    for (const { figures } of this.workers.values()) sum = addFigures(sum, figures);
    return sum;
  }

  /** Sends the current total to every worker. */
  tick(): void {
    const message: BusMessage = { skeinDemo: "total", figures: this.total(), workers: this.workers.size };
    for (const worker of this.workers.keys()) safeSend(worker, message);
  }

  private relay(from: IpcPort, message: BusMessage): void {
    for (const worker of this.workers.keys()) if (worker !== from) safeSend(worker, message);
  }
}

/**
 * Sends with a callback, so a closed channel is reported to the callback
 * instead of as an 'error' event that would crash the process. A closed
 * channel means the peer is exiting and about to be removed: expected during
 * shutdown, so only other errors are printed.
 */
function safeSend(port: IpcPort, message: BusMessage): void {
  port.send(message, (err) => {
    if (err && (err as NodeJS.ErrnoException).code !== "ERR_IPC_CHANNEL_CLOSED" && (err as NodeJS.ErrnoException).code !== "EPIPE") {
      console.error("demo: IPC send failed:", err);
    }
  });
}
