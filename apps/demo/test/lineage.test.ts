import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { ancestors, firstGone, processId, startedByPackageManager } from "../src/lineage.js";

describe("lineage", () => {
  it("lists this process's ancestors parent first, below pid 1", () => {
    const chain = ancestors();
    expect(chain[0]?.pid).toBe(process.ppid);
    for (const p of chain) expect(p.pid).toBeGreaterThan(1);
    expect(firstGone(chain)).toBeUndefined();
  });

  it("tells a process that exited, and one whose pid now names a later process", async () => {
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
    await once(child, "spawn");
    expect(ancestors(child.pid!)[0]).toEqual(processId(process.pid));
    const childId = processId(child.pid!)!;
    const parent = ancestors()[0]!;
    expect(firstGone([parent, childId])).toBeUndefined();
    const reused = { pid: process.pid, startTime: "1" }; // this pid, but not this process
    expect(firstGone([parent, reused])).toEqual(reused);
    child.kill("SIGKILL");
    await once(child, "exit");
    expect(firstGone([parent, childId])).toEqual(childId);
  });

  it("counts as started by a package manager only when npm_lifecycle_event names a script", () => {
    expect(startedByPackageManager({ npm_lifecycle_event: "start" })).toBe(true);
    expect(startedByPackageManager({ npm_lifecycle_event: "" })).toBe(false);
    expect(startedByPackageManager({})).toBe(false);
  });
});
