/**
 * The remote console: a `node:repl` per connection, over TCP on a loopback
 * address or over a Unix socket, for inspecting and cancelling the tasks of
 * a live process. Off by default: nothing listens unless the program runs
 * {@link remoteConsole}.
 */
import { chmodSync } from "node:fs";
import { BlockList, isIP } from "node:net";
import { start as startRepl, type REPLServer } from "node:repl";
import { inspect } from "node:util";
import { SkeinError } from "../errors.js";
import type { Kernel } from "../kernel.js";
import type { Conn } from "../net/conn.js";
import type { ListenAddress } from "../net/listen.js";
import { serve } from "../net/serve.js";
import { action } from "../ops/action.js";
import { currentTask } from "../ops/current.js";
import { gatedInput } from "./console-input.js";
import { findTask, formatTasks, taskTree, type TaskInfo } from "./tasks.js";

/** Where the console listens: a loopback TCP port, or a Unix socket path. */
export type ConsoleOptions = (
  | {
      /** TCP port; 0 picks a free one (see `onListening`). */
      port: number;
      /** A loopback address (`127.0.0.1`, `::1`, `localhost`). Default `127.0.0.1`. */
      host?: string;
      path?: undefined;
    }
  | {
      /** Unix socket path; the socket file is made owner-only (0600). */
      path: string;
      port?: undefined;
      host?: undefined;
    }
) & {
  /** Called once listening (e.g. to print the port picked for `port: 0`). */
  onListening?: (address: ListenAddress) => void;
  /** Prompt shown to the operator. Default `"skein> "`. */
  prompt?: string;
};

/** The console was asked to listen on an address other than loopback. */
export class ConsoleAddressError extends SkeinError {
  readonly host: string;
  constructor(host: string) {
    super("SKEIN_ERR_CONSOLE_NOT_LOOPBACK", `the remote console only listens on loopback addresses (127.0.0.0/8, ::1, localhost), not ${JSON.stringify(host)}; use a Unix socket or an SSH tunnel for remote access`);
    this.host = host;
  }
}

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/** True for `localhost` and addresses in 127.0.0.0/8 or ::1 (also IPv4-mapped). */
export function isLoopbackHost(host: string): boolean {
  if (host === "localhost") return true;
  const family = isIP(host);
  if (family === 4) return loopback.check(host, "ipv4");
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
    if (mapped !== null) return loopback.check(mapped[1]!, "ipv4");
    return loopback.check(host, "ipv6");
  }
  return false;
}

/** A value the REPL prints as plain text (no quotes). */
function text(s: string): object {
  return { [inspect.custom]: () => s.replace(/\n$/, "") };
}

const HELP = `commands:
  tasks()      the task tree: id name: what it is blocked on
  cancel(id)   cancel the task with that id (and its children)
  kernel       the kernel (liveTasks, timers, root…)
  .exit        close this console
`;

/** The REPL's globals. */
function installContext(context: Record<string, unknown>, kernel: Kernel): void {
  context.kernel = kernel;
  context.help = () => text(HELP);
  context.tasks = (): TaskInfo | object => {
    if (kernel.root === null) return text("(no root task)");
    const tree = taskTree(kernel.root);
    Object.defineProperty(tree, inspect.custom, { value: () => formatTasks(tree).replace(/\n$/, ""), enumerable: false });
    return tree;
  };
  context.cancel = (id: number) => {
    const task = kernel.root === null ? undefined : findTask(kernel.root, Number(id));
    if (task === undefined) throw new RangeError(`no live task with id ${id}; see tasks()`);
    task.cancel();
    return text(task.isDone ? `cancelled ${task.id} ${task.name}` : `cancelling ${task.id} ${task.name}: ${task.blockedOn}`);
  };
}

/** One operator connection: a REPL on the raw socket until either side closes. */
function* session(conn: Conn, prompt: string): Generator<unknown, void, any> {
  const task = yield* currentTask();
  task.name = `console ${conn.remote}`;
  const kernel = task.kernel;
  const { socket, head } = conn.detach();
  yield* action<void>(`repl(${conn.remote})`, (resolve) => {
    let repl: REPLServer | null = null;
    const finish = () => {
      if (!socket.destroyed && !socket.writableEnded) socket.end(() => socket.destroy());
      resolve();
    };
    socket.on("error", finish);
    socket.on("close", () => {
      repl?.close();
      resolve();
    });
    const input = gatedInput(socket, head, (reason) => {
      if (!socket.destroyed && !socket.writableEnded) socket.write(`\n${reason}: closing\n`);
      finish();
    });
    socket.write(`Skein console, pid ${process.pid}. help() lists the commands.\n`);
    repl = startRepl({ input, output: socket, prompt, terminal: false, useColors: false, useGlobal: false, ignoreUndefined: true });
    installContext(repl.context, kernel);
    repl.on("reset", (context) => installContext(context, kernel));
    repl.on("exit", finish); // `.exit`, or the operator closed their side
    return () => {
      // Cancelled (the console or the program is shutting down): say so, close cleanly.
      if (!socket.destroyed && !socket.writableEnded) socket.write("\nconsole closing\n");
      repl?.close();
      finish();
    };
  });
}

/** Most console sessions at once; more connections wait to be accepted. */
export const CONSOLE_MAX_SESSIONS = 8;

/**
 * Serves a REPL to operators, one per connection, until cancelled; each
 * session is a task (`console <peer>`). Its globals: `tasks()` prints the
 * task tree, `cancel(id)` cancels a task, `kernel` is the kernel. TCP is
 * refused on anything but a loopback address ({@link ConsoleAddressError});
 * connect with `nc 127.0.0.1 <port>` or `nc -U <path>`. Every local user
 * (and program) can reach a loopback port: prefer a Unix socket (owner-only)
 * where others share the machine. A connection that opens with an HTTP
 * request line (a browser sent it) is closed unread, a line past 64 KiB ends
 * the session, and at most {@link CONSOLE_MAX_SESSIONS} run at once.
 *
 * @example
 * yield* spawn(remoteConsole({ port: 7001 }), { name: "console" });
 * // $ nc 127.0.0.1 7001
 * // skein> tasks()
 * // 1 main: waiting for children
 * // ├─ 2 console: accept(127.0.0.1:7001)
 * // └─ 3 serve: accept(127.0.0.1:8080)
 * // skein> cancel(3)
 */
export function* remoteConsole(options: ConsoleOptions): Generator<unknown, void, any> {
  const prompt = options.prompt ?? "skein> ";
  if (options.path !== undefined) {
    const path = options.path;
    // Owner-only from its creation; the chmod covers a cluster worker, whose primary binds it.
    return yield* serve({ path, mode: 0o600, maxConnections: CONSOLE_MAX_SESSIONS, onListening: (address) => {
      chmodSync(path, 0o600);
      options.onListening?.(address);
    } }, (conn) => session(conn, prompt));
  }
  if (typeof options.port !== "number") throw new TypeError("remoteConsole() needs { port } or { path }");
  const host = options.host ?? "127.0.0.1";
  if (!isLoopbackHost(host)) throw new ConsoleAddressError(host);
  return yield* serve({ port: options.port, host: host === "localhost" ? "127.0.0.1" : host, maxConnections: CONSOLE_MAX_SESSIONS, onListening: options.onListening }, (conn) => session(conn, prompt));
}

/** The remote console under the name the design uses; same as {@link remoteConsole}. */
export { remoteConsole as console };
