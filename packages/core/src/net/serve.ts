import { isCancelled } from "../errors.js";
import { currentTaskSync } from "../kernel.js";
import type { Operation } from "../operation.js";
import { spawn } from "../ops/spawn.js";
import { Semaphore } from "../sync/semaphore.js";
import type { Conn } from "./conn.js";
import { listen, type ListenAddress, type ListenOptions, type Listener } from "./listen.js";

/** Options for {@link serve}. */
export interface ServeOptions extends ListenOptions {
  /** Called once the socket is listening (e.g. to print the port when `port: 0`). */
  onListening?: (address: ListenAddress, listener: Listener) => void;
  /** Most connections handled at once; further ones wait in the backlog. Default unlimited. */
  maxConnections?: number;
}

/**
 * Listens and runs `handler(conn)` as a task per connection, until cancelled.
 * The connection is closed when the handler returns. A handler's error is
 * logged with its task's name and never stops the server. Cancelling `serve`
 * stops accepting and cancels every connection task.
 *
 * @example
 * await run(serve({ port: 4915 }, echo));
 */
export function* serve(options: ServeOptions, handler: (conn: Conn) => Operation<unknown>): Generator<unknown, void, any> {
  const listener = yield* listen(options);
  try {
    options.onListening?.(listener.address, listener);
    yield* acceptLoop(listener, handler, options.maxConnections);
  } finally {
    listener.close();
  }
}

/** Accepts from `listener` forever, a task per connection (see {@link serve}). */
export function* acceptLoop(listener: Listener, handler: (conn: Conn) => Operation<unknown>, maxConnections = Infinity): Generator<unknown, never, any> {
  const slots = Number.isFinite(maxConnections) ? new Semaphore(maxConnections, "connections") : null;
  for (;;) {
    if (slots !== null) yield* slots.acquire();
    const conn = yield* listener.accept();
    yield* spawn(connection(conn, handler, slots), { name: `conn ${conn.remote}` });
  }
}

function* connection(conn: Conn, handler: (conn: Conn) => Operation<unknown>, slots: Semaphore | null): Generator<unknown, void, any> {
  try {
    yield* handler(conn);
  } catch (e) {
    if (isCancelled(e)) throw e;
    const task = currentTaskSync();
    task.kernel.log(`skein: connection handler ${task.name} failed:`, e);
    conn.abort();
  } finally {
    conn.close();
    slots?.release();
  }
}
