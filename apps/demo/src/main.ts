/**
 * The demo server: `node apps/demo/dist/main.js [--port N] [--workers N] …`
 * (see `--help` and apps/demo/README.md for the contract).
 *
 * One process, or with `--workers N` a node:cluster primary that supervises
 * N workers (restarting any that die), relays chat between them and sums
 * their figures. Every serving process stops the same way on SIGTERM or
 * SIGINT (or when its primary asks): stop accepting, let in-flight requests
 * finish, close WebSockets with 1001, exit 0. A second signal meanwhile exits
 * at once with 128 + its number. Started by a package manager, the demo also
 * stops when a process that started it is gone (see lineage.ts).
 */
import cluster, { type Worker } from "node:cluster";
import { constants } from "node:os";
import { action, main, race, signal, SIGNAL_ECHO_MS, SkeinError, spawn, type Operation, type Task } from "@skein/core";
import { HttpError, HttpServer, serve } from "@skein/http";
import { localBus, Relay, workerBus, type IpcPort } from "./bus.js";
import { ConfigError, parseConfig, urlOf, USAGE, type DemoConfig } from "./config.js";
import { demoApp } from "./app.js";
import { ancestors, anyGone, startedByPackageManager } from "./lineage.js";
import { loadPage } from "./page/page.js";
import { demoSockets, publishFigures } from "./sockets.js";

/** How long in-flight requests may take once a shutdown began. */
const GRACE_MS = 10_000;
const STOP_SIGNALS = ["SIGTERM", "SIGINT"] as const;

function readConfig(): DemoConfig {
  try {
    const config = parseConfig(process.argv.slice(2), process.env);
    if (config === "help") {
      console.log(USAGE);
      process.exit(0);
    }
    return config;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(`demo: ${e.message}\n\n${USAGE}`);
    process.exit(2);
  }
}

/** Resolves when the primary asks this worker to stop (http's shutdown message) or goes away. */
function primaryGone(): Operation<string> {
  return action<string>("primary shutdown", (resolve) => {
    const onMessage = (m: unknown) => {
      if (typeof m === "object" && m !== null && (m as { skein?: unknown }).skein === "shutdown") resolve("shutdown");
    };
    const onDisconnect = () => resolve("disconnect");
    process.on("message", onMessage);
    process.on("disconnect", onDisconnect);
    return () => {
      process.off("message", onMessage);
      process.off("disconnect", onDisconnect);
    };
  });
}

/** A serving process: the single one, or a cluster worker. */
function* serveDemo(config: DemoConfig): Operation<void> {
  const worker = cluster.isWorker;
  const bus = worker ? workerBus(process as unknown as IpcPort) : localBus();
  const counter = { requests: 0 };
  const sockets = demoSockets(bus);
  const app = demoApp({ page: loadPage(), echoWs: sockets.echoWs, chatWs: sockets.chatWs, counter });
  const server = new HttpServer(app, {
    host: config.host,
    port: config.port,
    limits: config.limits,
    graceMs: GRACE_MS,
    onListening: (s) => {
      // With workers the primary prints the address once they all listen.
      if (!worker) console.log(`demo listening on ${urlOf(config.host, s.address.port)}`);
    },
  });
  const serving = yield* spawn(server.run(), { name: "http server" });
  const figures = yield* spawn(
    publishFigures(bus, sockets.hub, {
      requests: () => counter.requests,
      connections: () => server.connectionCount,
      websockets: () => sockets.count,
    }),
    { name: "figures" },
  );
  const orphaned = worker ? null : yield* followStarter();
  let impatient: Task<never> | null = null;
  try {
    const stops: Operation<string>[] = STOP_SIGNALS.map((s) => signal(s));
    if (worker) stops.push(primaryGone());
    const first = yield* race(stops);
    // Stopping now: the starter may die meanwhile (one Ctrl-C reaches the whole group), which is no further signal.
    orphaned?.cancel();
    if (first !== "shutdown" && first !== "disconnect") impatient = yield* spawn(exitOnSecondSignal(first, performance.now()), { name: "second signal" });
    server.close({ graceMs: GRACE_MS }); // stop accepting; idle keep-alives close; in-flight requests finish
    yield* sockets.shutdown(); // 1001 to every WebSocket, then wait for their handlers
    yield* serving;
  } finally {
    impatient?.cancel();
    orphaned?.cancel();
    figures.cancel();
    bus.close();
  }
}

/**
 * Once a signal started the graceful stop, the next one (a second Ctrl-C)
 * ends the process at once, with 128 + the signal's number, as core's
 * `main` does — not by cancelling the requests in flight and exiting 0.
 */
function* exitOnSecondSignal(first: string, at: number): Operation<never> {
  let sig: NodeJS.Signals;
  do {
    sig = yield* race(STOP_SIGNALS.map((s) => signal(s)));
    // One Ctrl-C under `pnpm start` arrives twice (see core's SIGNAL_ECHO_MS): a copy is not a second signal.
  } while (sig === first && performance.now() - at < SIGNAL_ECHO_MS);
  const code = 128 + (constants.signals[sig] ?? 0);
  console.error(`demo: ${sig} received while stopping after ${first}; exiting now (code ${code}), requests in flight are cut off`);
  process.exit(code);
}

/**
 * Started by a package manager, stops the demo (with a SIGTERM to itself, so
 * one path serves both modes) once a process that started it is gone: see
 * lineage.ts. Returns the watching task, or null when nothing is watched.
 */
function* followStarter(): Operation<Task<void> | null> {
  const chain = startedByPackageManager() ? ancestors() : [];
  if (chain.length === 0) return null;
  return yield* spawn(
    function* () {
      const gone = yield* anyGone(chain);
      console.error(`demo: process ${gone.pid}, which started it, is gone; stopping as on SIGTERM`);
      process.kill(process.pid, "SIGTERM");
    },
    { name: "follow starter" },
  );
}

/** The cluster primary: forks and supervises workers (via @skein/http), relays chat, sums figures. */
function* primary(config: DemoConfig): Operation<void> {
  const relay = new Relay();
  let listening = 0;
  const onFork = (w: Worker) => relay.add(w as unknown as IpcPort);
  const onExit = (w: Worker) => relay.remove(w as unknown as IpcPort);
  const onListening = (_w: Worker, address: { port: number }) => {
    if (++listening === config.workers) {
      console.log(`demo listening on ${urlOf(config.host, address.port)} (${config.workers} worker processes)`);
    }
  };
  cluster.on("fork", onFork);
  cluster.on("exit", onExit);
  cluster.on("listening", onListening);
  const tick = setInterval(() => relay.tick(), 1000);
  const orphaned = yield* followStarter();
  try {
    // The app runs in the workers; serve() in the primary only supervises them.
    yield* serve({ host: config.host, port: config.port, workers: config.workers, graceMs: GRACE_MS }, function* (_req, res) {
      return res.text(500, "the primary serves no requests\n");
    });
  } finally {
    orphaned?.cancel();
    clearInterval(tick);
    cluster.off("fork", onFork);
    cluster.off("exit", onExit);
    cluster.off("listening", onListening);
  }
}

/**
 * How a failure that ends the demo is printed: a port that cannot be had is
 * the user's to fix, so one line and a hint; anything else in full.
 */
function report(message: string, error?: unknown): void {
  if (error instanceof SkeinError && error.code === "SKEIN_ERR_LISTEN") {
    const reason = (error.cause as NodeJS.ErrnoException | undefined)?.code;
    const hint = reason === "EADDRINUSE" ? " (another server has it: stop that one, or pick another with --port)" : "";
    console.error(`demo: ${error.message}${hint}`);
    return;
  }
  if (error instanceof HttpError && error.code === "HTTP_ERR_WORKERS_FAILED") {
    console.error(`demo: ${error.message} (the workers said why above)`);
    return;
  }
  if (error === undefined) console.error(message);
  else console.error(message, error);
}

const config = readConfig();
await main(config.workers > 1 && cluster.isPrimary ? primary(config) : serveDemo(config), { name: "demo", report });
