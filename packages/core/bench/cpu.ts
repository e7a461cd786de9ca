/**
 * In-process figures: spawn + join of many tasks, and context switches (two
 * tasks ping-ponging values through queues), each for Skein, async functions
 * and effection, written the idiomatic way in each.
 */
import { createChannel, createQueue, run as effRun, spawn as effSpawn, type Operation as EffOperation } from "effection";
import { join, Queue, run, spawn, type Task } from "../src/index.js";

// ---- spawn + join -------------------------------------------------------------

function* skeinChild(i: number): Generator<unknown, number, any> {
  return i;
}

/** Spawns `n` children, then joins each; returns tasks per second. */
export async function skeinSpawnJoin(n: number): Promise<number> {
  const t0 = performance.now();
  const sum = await run(function* () {
    const tasks: Task<number>[] = new Array(n);
    for (let i = 0; i < n; i++) tasks[i] = yield* spawn(skeinChild(i));
    let sum = 0;
    for (let i = 0; i < n; i++) sum += yield* join(tasks[i]!);
    return sum;
  });
  const ms = performance.now() - t0;
  check(sum, (n * (n - 1)) / 2);
  return (n / ms) * 1000;
}

async function asyncChild(i: number): Promise<number> {
  return i;
}

export async function asyncSpawnJoin(n: number): Promise<number> {
  const t0 = performance.now();
  const promises: Promise<number>[] = new Array(n);
  for (let i = 0; i < n; i++) promises[i] = asyncChild(i);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await promises[i]!;
  const ms = performance.now() - t0;
  check(sum, (n * (n - 1)) / 2);
  return (n / ms) * 1000;
}

export async function effectionSpawnJoin(n: number): Promise<number> {
  const t0 = performance.now();
  const sum = await effRun(function* () {
    const tasks = new Array(n);
    for (let i = 0; i < n; i++) {
      tasks[i] = yield* effSpawn(function* (): EffOperation<number> {
        return i;
      });
    }
    let sum = 0;
    for (let i = 0; i < n; i++) sum += (yield* tasks[i]) as number;
    return sum;
  });
  const ms = performance.now() - t0;
  check(sum, (n * (n - 1)) / 2);
  return (n / ms) * 1000;
}

// ---- context switches ---------------------------------------------------------

/** `rounds` round trips between two tasks through two queues; returns switches per second (2 per round trip). */
export async function skeinPingPong(rounds: number): Promise<number> {
  const t0 = performance.now();
  const last = await run(function* () {
    const ping = new Queue<number>(1, "ping");
    const pong = new Queue<number>(1, "pong");
    yield* spawn(function* () {
      for (let i = 0; i < rounds; i++) yield* pong.put((yield* ping.get()) + 1);
    });
    let v = 0;
    for (let i = 0; i < rounds; i++) {
      yield* ping.put(v);
      v = yield* pong.get();
    }
    return v;
  });
  const ms = performance.now() - t0;
  check(last, rounds);
  return ((2 * rounds) / ms) * 1000;
}

/** A minimal promise-based queue, the usual async/await hand-off. */
class AsyncQueue<T> {
  private items: T[] = [];
  private waiters: ((v: T) => void)[] = [];
  put(v: T): void {
    const w = this.waiters.shift();
    if (w !== undefined) w(v);
    else this.items.push(v);
  }
  get(): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

export async function asyncPingPong(rounds: number): Promise<number> {
  const t0 = performance.now();
  const ping = new AsyncQueue<number>();
  const pong = new AsyncQueue<number>();
  const echo = (async () => {
    for (let i = 0; i < rounds; i++) pong.put((await ping.get()) + 1);
  })();
  let v = 0;
  for (let i = 0; i < rounds; i++) {
    ping.put(v);
    v = await pong.get();
  }
  await echo;
  const ms = performance.now() - t0;
  check(v, rounds);
  return ((2 * rounds) / ms) * 1000;
}

/** effection's Channel (a stream: `send` an operation, read through a subscription). */
export async function effectionChannelPingPong(rounds: number): Promise<number> {
  const t0 = performance.now();
  const last = await effRun(function* () {
    const ping = createChannel<number, never>();
    const pong = createChannel<number, never>();
    const pings = yield* ping;
    const pongs = yield* pong;
    yield* effSpawn(function* () {
      for (let i = 0; i < rounds; i++) {
        const r = yield* pings.next();
        yield* pong.send((r.value as number) + 1);
      }
    });
    let v = 0;
    for (let i = 0; i < rounds; i++) {
      yield* ping.send(v);
      v = (yield* pongs.next()).value as number;
    }
    return v;
  });
  const ms = performance.now() - t0;
  check(last, rounds);
  return ((2 * rounds) / ms) * 1000;
}

/** effection's Queue (synchronous `add`, `next` an operation). */
export async function effectionQueuePingPong(rounds: number): Promise<number> {
  const t0 = performance.now();
  const last = await effRun(function* () {
    const ping = createQueue<number, never>();
    const pong = createQueue<number, never>();
    yield* effSpawn(function* () {
      for (let i = 0; i < rounds; i++) pong.add(((yield* ping.next()).value as number) + 1);
    });
    let v = 0;
    for (let i = 0; i < rounds; i++) {
      ping.add(v);
      v = (yield* pong.next()).value as number;
    }
    return v;
  });
  const ms = performance.now() - t0;
  check(last, rounds);
  return ((2 * rounds) / ms) * 1000;
}

function check(got: number, want: number): void {
  if (got !== want) throw new Error(`benchmark computed ${got}, expected ${want}`);
}
