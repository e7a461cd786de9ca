/**
 * Keep-alive connection pools: a {@link Pool} per origin with a size
 * limit, and an {@link Agent} holding one pool per origin.
 *
 * A request asks for a connection with fewer than `pipeline` requests in
 * flight (1: an idle one). The least busy such connection wins; otherwise a
 * new one is opened while the pool is under its size; otherwise the request
 * waits for one to free up. Idle connections are unreferenced (they never
 * keep the process alive) and closed after `idleTimeoutMs`.
 *
 * @module
 */
import type { ConnectionOptions } from "node:tls";
import { connect, ConnectError, currentTaskSync, Event, type Kernel } from "@skein/core";
import { ClientConnection, type ConnectionOwner } from "./connection.js";
import { within, type Deadline } from "./deadline.js";
import { ConnectFailedError } from "./errors.js";
import { resolveClientLimits, type ClientLimits } from "./limits.js";
import type { Target } from "./target.js";

/** Options of an {@link Agent}: client limits, plus TLS settings for `https:` origins. */
export interface AgentOptions extends Partial<ClientLimits> {
  /** Passed to `tls.connect` (ca, cert, rejectUnauthorized…); `servername` defaults to the host. */
  tls?: ConnectionOptions;
}

/** The connections to one origin. */
export class Pool implements ConnectionOwner {
  readonly origin: string;
  readonly #target: Target;
  readonly #agent: Agent;
  readonly #conns: ClientConnection[] = [];
  #connecting = 0;
  readonly #freed = new Event("pool slot");
  #closed = false;

  /** @internal */
  constructor(target: Target, agent: Agent) {
    this.origin = target.origin;
    this.#target = target;
    this.#agent = agent;
  }

  /** Open connections (busy and idle). */
  get size(): number {
    return this.#conns.length;
  }

  /** Connections with no request in flight. */
  get idle(): number {
    let n = 0;
    for (const c of this.#conns) if (c.active === 0) n++;
    return n;
  }

  /**
   * A connection with room for one more request (fewer than `pipeline` in
   * flight), with that place reserved: call `begin` on it at once.
   * @internal
   */
  *acquire(pipeline: number, limits: Readonly<ClientLimits>, deadline: Deadline): Generator<unknown, ClientConnection, any> {
    for (;;) {
      if (this.#closed) throw new ConnectFailedError(this.origin, undefined, new Error("the agent is closed"));
      let best: ClientConnection | null = null;
      for (const c of this.#conns) {
        if (!c.reusable || c.active >= pipeline || (best !== null && c.active >= best.active)) continue;
        if (c.conn.readClosed || (c.active === 0 && c.conn.bufferedBytes > 0)) {
          // The server closed it while it sat idle, or sent bytes no request
          // asked for (they would be read as the next response).
          if (c.active === 0) c.close();
          continue;
        }
        best = c;
      }
      if (best !== null) {
        this.#take(best);
        return best;
      }
      if (this.#conns.length + this.#connecting < limits.connectionsPerOrigin) return yield* this.#open(limits, deadline);
      this.#freed.clear();
      yield* within("request", 0, deadline, this.#freed.wait());
    }
  }

  *#open(limits: Readonly<ClientLimits>, deadline: Deadline): Generator<unknown, ClientConnection, any> {
    const t = this.#target;
    this.#connecting++;
    let c: ClientConnection;
    try {
      const tls = t.secure ? { servername: isIp(t.hostname) ? undefined : t.hostname, ...this.#agent.tls } : undefined;
      const conn = yield* within("connect", limits.connectTimeoutMs, deadline, connect({ host: t.hostname, port: t.port, tls }));
      c = new ClientConnection(conn, this, limits.maxResponseHeadBytes, limits.maxBufferedBodyBytes);
    } catch (e) {
      if (e instanceof ConnectError) throw new ConnectFailedError(this.origin, e.syscallCode, e);
      throw e;
    } finally {
      this.#connecting--;
    }
    if (this.#closed) {
      c.close();
      throw new ConnectFailedError(this.origin, undefined, new Error("the agent was closed while connecting"));
    }
    c.conn.socket.on("timeout", () => {
      if (c.active === 0) c.close();
    });
    this.#conns.push(c);
    this.#take(c);
    // Requests waiting for a slot may share it (pipelining).
    this.#freed.set();
    return c;
  }

  /** Marks `c` busy: referenced, no idle timer. */
  #take(c: ClientConnection): void {
    if (c.active === 0) {
      c.conn.socket.ref();
      c.conn.socket.setTimeout(0);
    }
  }

  /** @internal */
  released(c: ClientConnection): void {
    if (c.active === 0 && c.alive) {
      const idleMs = this.#agent.limits.idleTimeoutMs;
      if (idleMs === 0 || this.#closed) c.reusable = false;
      else {
        c.conn.socket.unref();
        c.conn.socket.setTimeout(idleMs);
      }
    }
    this.#freed.set();
  }

  /** @internal */
  removed(c: ClientConnection): void {
    const i = this.#conns.indexOf(c);
    if (i >= 0) this.#conns.splice(i, 1);
    this.#freed.set();
  }

  /** Closes idle connections now and the others as their requests finish. */
  close(): void {
    this.#closed = true;
    for (const c of [...this.#conns]) {
      c.reusable = false;
      if (c.active === 0) c.close();
    }
    this.#freed.set();
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}

/**
 * A set of connection pools, one per origin, sharing limits and TLS
 * settings. An agent belongs to the run (kernel) that first uses it.
 *
 * @example
 * const agent = new Agent({ connectionsPerOrigin: 4, pipeline: 8 });
 * try {
 *   const res = yield* fetch("http://127.0.0.1:8080/", { agent });
 *   console.log(yield* res.text());
 * } finally {
 *   agent.close();
 * }
 */
export class Agent {
  readonly limits: Readonly<ClientLimits>;
  /** TLS options for `https:` origins. */
  readonly tls: ConnectionOptions | undefined;
  readonly #pools = new Map<string, Pool>();
  #kernel: Kernel | null = null;

  constructor(options: AgentOptions = {}) {
    const { tls, ...limits } = options;
    this.limits = resolveClientLimits(limits);
    this.tls = tls;
  }

  /** The pool for `target`'s origin (created on first use). */
  pool(target: Target): Pool {
    const kernel = currentTaskSync().kernel;
    if (this.#kernel === null) this.#kernel = kernel;
    else if (this.#kernel !== kernel) throw new TypeError("this Agent belongs to another run(): connections cannot move between kernels; create one Agent per run");
    let pool = this.#pools.get(target.origin);
    if (pool === undefined) {
      pool = new Pool(target, this);
      this.#pools.set(target.origin, pool);
    }
    return pool;
  }

  /** The pools, by origin. */
  get pools(): ReadonlyMap<string, Pool> {
    return this.#pools;
  }

  /** Closes every pool: idle connections now, busy ones when their requests finish. */
  close(): void {
    for (const pool of this.#pools.values()) pool.close();
    this.#pools.clear();
  }
}

const agents = new WeakMap<Kernel, Agent>();

/**
 * The agent `fetch` uses when none is given: one per run, with the default
 * limits. Its idle connections never keep the process alive.
 */
export function defaultAgent(): Agent {
  const kernel = currentTaskSync().kernel;
  let agent = agents.get(kernel);
  if (agent === undefined) {
    agent = new Agent();
    agents.set(kernel, agent);
  }
  return agent;
}

