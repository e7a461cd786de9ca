/**
 * Rate limiting (`--rate`): one task hands out requests at the target rate,
 * round-robin over connections with room in their pipeline. Each request is
 * stamped with the time it was due, not the time it left, so a server that
 * falls behind shows up in the latency instead of silently lowering the
 * rate (the "coordinated omission" correction of wrk2).
 *
 * @module
 */
import { currentTaskSync, sleep } from "@skein/core";
import type { LoadRun } from "./state.js";

/** Tick of the pacer, in ms. */
const TICK_MS = 1;

/** Sends `run.options.rate` requests per second until the run stops. */
export function* pace(run: LoadRun): Generator<unknown, void, any> {
  const kernel = currentTaskSync().kernel;
  const interval = 1000 / run.options.rate;
  const conns = run.connections;
  const start = kernel.now();
  let issued = 0;
  let next = 0;
  for (;;) {
    yield* sleep(TICK_MS);
    if (run.stopping) return;
    const now = kernel.now();
    const wallNow = performance.now();
    const offset = wallNow - now; // latency is measured on performance.now()
    while (start + issued * interval <= now) {
      let sent = false;
      for (let tries = 0; tries < conns.length && !sent; tries++) {
        const c = conns[next]!;
        if (++next === conns.length) next = 0;
        sent = c.sendOne(start + issued * interval + offset);
      }
      if (!sent) break; // every pipeline is full: the backlog waits, its latency grows
      issued++;
    }
  }
}
