import { moveOnAfter, run, sleep, spawn, VirtualClock } from "@skein/core";
import { Hub } from "@skein/websocket";
import { describe, expect, it } from "vitest";
import { localBus, type Figures } from "../src/bus.js";
import { countTasks, publishFigures } from "../src/sockets.js";

describe("countTasks", () => {
  it("counts every task of a tree", () => {
    const leaf = (id: number) => ({ id, name: "t", state: "suspended" as const, blockedOn: "", children: [] });
    expect(countTasks({ ...leaf(1), children: [leaf(2), { ...leaf(3), children: [leaf(4), leaf(5)] }] })).toBe(5);
  });
});

describe("publishFigures", () => {
  it("reports requests per second, connections, WebSockets and live tasks once a second", async () => {
    const clock = new VirtualClock({ autoJump: true });
    const bus = localBus();
    const reported: Figures[] = [];
    const report = bus.report.bind(bus);
    bus.report = (f) => {
      reported.push(f);
      report(f);
    };
    let requests = 0;
    let connections = 3;
    await run(
      function* () {
        // Traffic: 5 requests every 100 ms (50/s) for the first 2 s, then none
        // (offset by 50 ms so no request lands on a sampling instant).
        yield* spawn(function* () {
          yield* sleep(50);
          for (let i = 0; i < 20; i++) {
            requests += 5;
            yield* sleep(100);
          }
          connections = 1;
        }, { name: "traffic" });
        yield* moveOnAfter(3500, publishFigures(bus, new Hub(), {
          requests: () => requests,
          connections: () => connections,
          websockets: () => 2,
        }, () => clock.now()));
      },
      { clock },
    );
    expect(reported.map((f) => f.rps)).toEqual([50, 50, 0]);
    expect(reported.map((f) => f.connections)).toEqual([3, 3, 1]);
    expect(reported.every((f) => f.websockets === 2)).toBe(true);
    // root + publishFigures' moveOnAfter scope(s) + traffic while it runs: at least 2 tasks, fewer once traffic ended.
    expect(reported[0]!.tasks).toBeGreaterThan(reported[2]!.tasks);
    expect(bus.total()).toEqual({ ...reported[2], workers: 1 });
  });
});
