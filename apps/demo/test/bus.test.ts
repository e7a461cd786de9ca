import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { localBus, Relay, workerBus, type BusMessage, type IpcPort } from "../src/bus.js";

/** A pair of connected in-memory IPC ports, like process ↔ cluster Worker (delivery is async, as in Node). */
function channel(): [IpcPort & { closed: boolean }, IpcPort & { closed: boolean }] {
  const make = (): IpcPort & EventEmitter & { peer?: EventEmitter; closed: boolean } => {
    const e = new EventEmitter() as IpcPort & EventEmitter & { peer?: EventEmitter; closed: boolean };
    e.closed = false;
    e.send = (m: BusMessage, cb?: (err: Error | null) => void) => {
      if (e.closed) {
        const err = Object.assign(new Error("closed"), { code: "ERR_IPC_CHANNEL_CLOSED" });
        setImmediate(() => cb?.(err));
        return false;
      }
      setImmediate(() => {
        e.peer!.emit("message", structuredClone(m));
        cb?.(null);
      });
      return true;
    };
    return e;
  };
  const a = make();
  const b = make();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

const flush = () => new Promise((r) => setImmediate(r)).then(() => new Promise((r) => setImmediate(r)));
const figures = (n: number) => ({ rps: n, connections: n * 2, websockets: n * 3, tasks: n * 4 });

describe("localBus", () => {
  it("delivers a published text to every subscriber, synchronously", () => {
    const bus = localBus();
    const got: string[] = [];
    bus.subscribe((t) => got.push(`a:${t}`));
    const off = bus.subscribe((t) => got.push(`b:${t}`));
    bus.publish("one");
    off();
    bus.publish("two");
    expect(got).toEqual(["a:one", "b:one", "a:two"]);
  });

  it("reports its own figures as the total of one worker", () => {
    const bus = localBus();
    bus.report(figures(2));
    expect(bus.total()).toEqual({ ...figures(2), workers: 1 });
  });
});

describe("workerBus with the primary's Relay", () => {
  function cluster(n: number) {
    const relay = new Relay();
    const buses = [];
    const primarySides = [];
    for (let i = 0; i < n; i++) {
      const [inWorker, inPrimary] = channel();
      relay.add(inPrimary);
      primarySides.push(inPrimary);
      buses.push(workerBus(inWorker));
    }
    return { relay, buses, primarySides };
  }

  it("delivers a message published in one worker to the subscribers of every worker, once each", async () => {
    const { buses } = cluster(3);
    const got: string[] = [];
    buses.forEach((bus, i) => bus.subscribe((t) => got.push(`${i}:${t}`)));
    buses[1]!.publish("hello");
    expect(got).toEqual(["1:hello"]); // the publisher's own clients first, without waiting for IPC
    await flush();
    expect(got.sort()).toEqual(["0:hello", "1:hello", "2:hello"]);
  });

  it("keeps the order of messages from one worker", async () => {
    const { buses } = cluster(2);
    const got: string[] = [];
    buses[0]!.subscribe((t) => got.push(t));
    for (let i = 0; i < 20; i++) buses[1]!.publish(`m${i}`);
    await flush();
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
  });

  it("sums the workers' figures and sends the total to each", async () => {
    const { relay, buses } = cluster(3);
    buses.forEach((bus, i) => bus.report(figures(i + 1)));
    // Before the primary's first total a worker knows only its own figures.
    expect(buses[0]!.total()).toEqual({ ...figures(1), workers: 1 });
    await flush();
    expect(relay.total()).toEqual(figures(6));
    relay.tick();
    await flush();
    for (const bus of buses) expect(bus.total()).toEqual({ ...figures(6), workers: 3 });
  });

  it("forgets a removed worker: no more relaying to it, its figures leave the sum", async () => {
    const { relay, buses, primarySides } = cluster(2);
    buses.forEach((bus) => bus.report(figures(1)));
    await flush();
    relay.remove(primarySides[1]!);
    expect(relay.total()).toEqual(figures(1));
    const got: string[] = [];
    buses[1]!.subscribe((t) => got.push(t));
    buses[0]!.publish("after");
    await flush();
    expect(got).toEqual([]);
  });

  it("does not crash when a worker's channel closed before it was removed", async () => {
    const { relay, buses, primarySides } = cluster(2);
    (primarySides[1] as { closed: boolean }).closed = true;
    buses[0]!.publish("late");
    relay.tick();
    await flush();
    expect(buses[0]!.total().workers).toBe(2); // the live worker still hears the primary
  });

  it("ignores IPC messages that are not the bus's", async () => {
    const [inWorker, inPrimary] = channel();
    const bus = workerBus(inWorker);
    const got: string[] = [];
    bus.subscribe((t) => got.push(t));
    (inPrimary as unknown as EventEmitter & { peer: EventEmitter }).peer.emit("message", { cmd: "NODE_CLUSTER" });
    (inPrimary as unknown as EventEmitter & { peer: EventEmitter }).peer.emit("message", "text");
    expect(got).toEqual([]);
    bus.close();
  });
});
