/**
 * A host for WebSocket apps in tests: runs an app on @skein/http's server in
 * its own kernel and hands back its port, the server (for graceful
 * shutdown), the log lines, and a `stop()` that cancels the server and waits
 * for every task to finish.
 */
import { afterEach } from "vitest";
import { Event, start, type Kernel, type Operation, type Task } from "@skein/core";
import { serve, type App, type HttpServer, type ServeOptions } from "@skein/http";

export interface Host {
  port: number;
  /** `ws://127.0.0.1:<port>` */
  url: string;
  kernel: Kernel;
  root: Task<unknown>;
  server: HttpServer;
  /** Resolves once the server task has finished (after a graceful close). */
  done: Promise<unknown>;
  /** What the kernel logged (handler failures). */
  logs: { message: string; error: unknown }[];
  /** Runs an operation inside the host's kernel (a child of the root) and resolves with its result. */
  exec<T>(op: () => Operation<T>): Promise<T>;
  stop(): Promise<void>;
}

/** Starts `app` on a free port. */
export async function startHost(app: unknown, options: ServeOptions = {}): Promise<Host> {
  const logs: { message: string; error: unknown }[] = [];
  let port = 0;
  let server: HttpServer | null = null;
  const listening = new Event("listening");
  const { kernel, root, promise } = start(
    function* () {
      yield* serve(
        {
          port: 0,
          ...options,
          onListening: (s) => {
            server = s;
            port = s.address.port;
            listening.set();
          },
        },
        app as App,
      );
    },
    { log: (message, error) => logs.push({ message, error }) },
  );
  promise.catch(() => {});
  await new Promise<void>((resolve, reject) => {
    const poll = () => (listening.isSet ? resolve() : root.isDone ? reject(new Error("host failed to start")) : setTimeout(poll, 2));
    poll();
  });
  const exec = <T>(op: () => Operation<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      kernel.spawn(
        function* () {
          try {
            resolve(yield* op());
          } catch (e) {
            reject(e);
          }
        },
        root,
        "test exec",
      );
    });
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    kernel,
    root,
    server: server!,
    done: promise,
    logs,
    exec,
    async stop() {
      root.cancel();
      await promise.catch(() => {});
    },
  };
}

/**
 * For a test file: a `host(app)` that starts a Host and stops every host it
 * started after each test.
 */
export function useHosts(): (app: unknown) => Promise<Host> {
  const hosts: Host[] = [];
  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((h) => h.stop()));
  });
  return async (app) => {
    const h = await startHost(app);
    hosts.push(h);
    return h;
  };
}
