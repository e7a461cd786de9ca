import { describe, expect, test } from "vitest";
import { cancel, currentTask, Event, findTask, formatTasks, Queue, run, sleep, spawn, tasks, VirtualClock, type Task, type TaskInfo } from "@skein/core";

/**
 * Runs `body` under a root named "app" that has four blocked descendants,
 * on a virtual clock that never moves; cancels them afterwards.
 */
function withScene<T>(body: (root: Task<unknown>) => Generator<unknown, T, any>): Promise<T> {
  return run(
    function* () {
      const q = new Queue<number>(Infinity, "jobs");
      const ev = new Event("ready");
      const kids = [
        yield* spawn(sleep(1000), { name: "sleeper" }),
        yield* spawn(q.get(), { name: "consumer" }),
        yield* spawn(function* () {
          yield* spawn(ev.wait(), { name: "grandchild" });
          yield* sleep(5);
        }, { name: "parent" }),
      ];
      // Let them all reach their first suspension (the grandchild is queued behind us).
      yield* sleep(0);
      yield* sleep(0);
      try {
        return yield* body(yield* currentTask());
      } finally {
        for (const k of kids) yield* cancel(k);
      }
    },
    { clock: new VirtualClock(), name: "app" },
  );
}

describe("tasks", () => {
  test("lists the tree from the root, oldest child first, with states and what each task waits on", async () => {
    const tree = await withScene(function* () {
      return yield* tasks();
    });
    expect(tree).toEqual({
      id: 1,
      name: "app",
      state: "running",
      blockedOn: "running",
      children: [
        { id: 2, name: "sleeper", state: "suspended", blockedOn: "sleep(1000)", children: [] },
        { id: 3, name: "consumer", state: "suspended", blockedOn: "jobs.get()", children: [] },
        {
          id: 4,
          name: "parent",
          state: "suspended",
          blockedOn: "sleep(5)",
          children: [{ id: 5, name: "grandchild", state: "suspended", blockedOn: "ready.wait()", children: [] }],
        },
      ],
    });
  });

  test("is the whole kernel's tree even when called from a descendant", async () => {
    const ids = await withScene(function* () {
      const t = yield* spawn(tasks(), { name: "inspector" });
      const tree: TaskInfo = yield* t;
      return [tree.id, tree.children.map((c) => c.name)];
    });
    expect(ids).toEqual([1, ["sleeper", "consumer", "parent", "inspector"]]);
  });

  test("finished tasks leave the tree; a body that returned before its children says it is waiting for them", async () => {
    const clock = new VirtualClock();
    const [before, after] = await run(
      function* () {
        yield* spawn(function* () {
          yield* spawn(sleep(100), { name: "straggler" });
        }, { name: "body-done" });
        yield* spawn(function* () {}, { name: "quick" });
        yield* sleep(0);
        yield* sleep(0);
        const before: TaskInfo = yield* tasks();
        clock.advance(100);
        yield* sleep(0);
        const after: TaskInfo = yield* tasks();
        return [before, after];
      },
      { clock },
    );
    expect(before.children.map((c) => [c.name, c.blockedOn, c.children.map((g) => `${g.name}: ${g.blockedOn}`)])).toEqual([
      ["body-done", "waiting for children", ["straggler: sleep(100)"]],
    ]);
    expect(after.children).toEqual([]);
  });

  test("formatTasks draws one line per task: id, name and what it waits on", async () => {
    const text = await withScene(function* () {
      return formatTasks(yield* tasks());
    });
    expect(text).toBe(
      ["1 app: running", "├─ 2 sleeper: sleep(1000)", "├─ 3 consumer: jobs.get()", "└─ 4 parent: sleep(5)", "   └─ 5 grandchild: ready.wait()", ""].join("\n"),
    );
  });

  test("formatTasks keeps the vertical rule under a non-last child with children", () => {
    const leaf = (id: number, name: string) => ({ id, name, state: "suspended" as const, blockedOn: "x", children: [] });
    const text = formatTasks({
      id: 1,
      name: "r",
      state: "running",
      blockedOn: "running",
      children: [{ ...leaf(2, "a"), children: [leaf(3, "a1"), leaf(4, "a2")] }, leaf(5, "b")],
    });
    expect(text).toBe(["1 r: running", "├─ 2 a: x", "│  ├─ 3 a1: x", "│  └─ 4 a2: x", "└─ 5 b: x", ""].join("\n"));
  });

  test("a tree 20,000 levels deep is snapshotted, searched and drawn without exhausting the stack; deep lines say their level", async () => {
    const got = await run(function* () {
      const done = new Event("done");
      const built = new Event("built");
      function* chain(depth: number): Generator<unknown, void, any> {
        if (depth === 0) {
          built.set();
          return void (yield* done.wait());
        }
        yield* spawn(chain(depth - 1), { name: `level-${depth - 1}` });
        yield* done.wait();
      }
      yield* spawn(chain(20_000), { name: "top" });
      yield* built.wait();
      const tree = yield* tasks();
      const root = (yield* currentTask()) as Task<unknown>;
      let depth = 0;
      for (let t = tree; t.children.length > 0; t = t.children.at(-1)!) depth++;
      const text = formatTasks(tree);
      const deepest = findTask(root, root.id + 20_001);
      done.set();
      return { depth, lines: text.split("\n").length - 1, longest: Math.max(...text.split("\n").map((l) => l.length)), deepest: deepest?.name, last: text.trimEnd().split("\n").at(-1) };
    }, { clock: new VirtualClock() });
    // main, then top, then 20,000 levels.
    expect(got.depth).toBe(20_001);
    expect(got.lines).toBe(20_002);
    expect(got.longest).toBeLessThan(200);
    expect(got.deepest).toBe("level-0");
    expect(got.last).toMatch(/└─ \[level 20001\] \d+ level-0: done.wait\(\)$/);
  });

  test("findTask finds a live task by id anywhere under the root", async () => {
    const found = await withScene(function* (root) {
      return [5, 3, 1, 99].map((id) => findTask(root, id)?.name);
    });
    expect(found).toEqual(["grandchild", "consumer", "app", undefined]);
  });
});
