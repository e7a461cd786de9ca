/**
 * `load`: a load run as an operation — connections, optional pacer, a
 * ticker for progress and the response-timeout watchdog, and the clock that
 * ends the warm-up and the measurement.
 *
 * @module
 */
import { currentTaskSync, group, moveOnAfter, race, run, sleep, type Task } from "@skein/core";
import { LoadConnection } from "./connection.js";
import { primeParser } from "./prime.js";
import { resolveLoadOptions, type LoadOptions } from "./options.js";
import { pace } from "./pacer.js";
import { planRequests } from "./plan.js";
import { buildReport, type LoadReport } from "./report.js";
import { LoadRun } from "./state.js";

/** How often progress is reported and stalled connections are looked for, in ms. */
const TICK_MS = 1000;
const WATCHDOG_MS = 100;

/**
 * Runs a load test and returns its report. Runs on the current kernel, so
 * it shares the core with whatever else that run does; `runLoad` gives it a
 * kernel of its own.
 *
 * @example
 * const report = yield* load({ url: "http://127.0.0.1:8080/", connections: 64, pipeline: 16, durationMs: 5_000 });
 * console.log(report.requestsPerSec, report.latencyMs.p99);
 */
export function* load(options: LoadOptions): Generator<unknown, LoadReport, any> {
  const o = resolveLoadOptions(options);
  const r = new LoadRun(o, planRequests(o));
  primeParser();
  const kernel = currentTaskSync().kernel;
  return yield* group(function* (g) {
    const tasks: Task<unknown>[] = [];
    for (let i = 0; i < o.connections; i++) {
      const c = new LoadConnection(r, i);
      r.connections.push(c);
      // Unnamed: a name costs each of 10,000 tasks a side object and a string.
      tasks.push(yield* g.spawn(c.run()));
    }
    if (r.paced) tasks.push(yield* g.spawn(pace(r), { name: "load-pacer" }));
    let phase: "warmup" | "measure" = o.warmupMs > 0 ? "warmup" : "measure";
    let phaseStart = kernel.now();
    tasks.push(yield* g.spawn(ticker(r, () => phase, () => phaseStart), { name: "load-ticker" }));
    if (o.warmupMs > 0) {
      yield* sleep(o.warmupMs);
      phase = "measure";
      phaseStart = kernel.now();
    }
    r.startMeasuring();
    const start = performance.now();
    let stoppedEarly: string | null = null;
    if (o.count > 0) {
      // A count is answers, and lost requests are sent again: a server that
      // answers nothing would keep the run going for ever.
      const stallMs = o.timeoutMs > 0 ? o.timeoutMs : COUNT_STALL_MS;
      const outcome = race([r.done.wait(), stalled(r, stallMs)]);
      const ended = o.durationMs === Infinity ? yield* outcome : yield* moveOnAfter(o.durationMs, outcome);
      if (ended === STALLED) stoppedEarly = `no answer for ${stallMs / 1000} s (${r.answered} of ${o.count} answered)`;
    } else {
      yield* sleep(o.durationMs);
    }
    const durationMs = performance.now() - start;
    r.stop();
    const report = buildReport(r.stats, { url: o.url, connections: o.connections, pipeline: o.pipeline, peakConnected: r.peakConnected, durationMs, stoppedEarly });
    for (const t of tasks) t.cancel();
    return report;
  }, { name: "load" });
}

/** Count mode gives up after `timeoutMs` without a single answer, or this long when `timeoutMs` is 0. */
export const COUNT_STALL_MS = 10_000;
const STALLED = Symbol("stalled");

/** Returns {@link STALLED} once no answer has arrived for `ms`. */
function* stalled(r: LoadRun, ms: number): Generator<unknown, typeof STALLED, any> {
  const kernel = currentTaskSync().kernel;
  let answered = r.answered;
  let since = kernel.now();
  for (;;) {
    yield* sleep(WATCHDOG_MS);
    const now = kernel.now();
    if (r.answered !== answered) {
      answered = r.answered;
      since = now;
    } else if (now - since >= ms) {
      return STALLED;
    }
  }
}

/** Progress once a second; closes connections whose requests got no answer within `timeoutMs`. */
function* ticker(r: LoadRun, phase: () => "warmup" | "measure", phaseStart: () => number): Generator<unknown, void, any> {
  const kernel = currentTaskSync().kernel;
  const timeoutMs = r.options.timeoutMs;
  let lastTick = kernel.now();
  let lastOk = 0;
  let lastPhase = phase();
  for (;;) {
    yield* sleep(WATCHDOG_MS);
    const now = kernel.now();
    if (timeoutMs > 0) {
      const wall = performance.now();
      const conns = r.connections;
      for (let i = 0; i < conns.length; i++) if (conns[i]!.inflight > 0 && wall - r.progressAt[i]! > timeoutMs) conns[i]!.timeOut();
    }
    if (r.options.onProgress === undefined || now - lastTick < TICK_MS) continue;
    const p = phase();
    if (p !== lastPhase) {
      lastPhase = p;
      lastOk = 0;
    }
    const ok = r.stats.ok;
    r.options.onProgress({
      phase: p,
      elapsedMs: now - phaseStart(),
      requests: ok,
      rate: ((ok - lastOk) * 1000) / (now - lastTick),
      errors: r.stats.errorTotal,
      connected: r.connected,
    });
    lastOk = ok;
    lastTick = now;
  }
}

/**
 * Runs a load test on a kernel of its own and resolves with its report.
 *
 * @example
 * const report = await runLoad({ url: "http://127.0.0.1:8080/", connections: 256, pipeline: 16, durationMs: 10_000 });
 */
export function runLoad(options: LoadOptions): Promise<LoadReport> {
  return run(load(options), { name: "skein-load" });
}
