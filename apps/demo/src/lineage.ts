/**
 * The processes that started the demo, and noticing when one of them is
 * gone. Under `npx pnpm start` the chain is npm exec → sh → pnpm → node; a
 * SIGTERM to the outer `npx` (a supervisor, a CI step's timeout) ends npm
 * and its shell, but neither passes the signal on, so pnpm and the demo ran
 * on, orphaned, holding the port. Started by a package manager, the demo now
 * watches that chain and stops, as on SIGTERM, once a link of it is gone.
 *
 * Linux only (it reads /proc); elsewhere the chain is empty and nothing is
 * watched.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { sleep, type Operation } from "@skein/core";

/** A process, told apart from a later one given the same pid by its start time. */
export interface ProcessId {
  pid: number;
  /** Field 22 of /proc/PID/stat: clock ticks after boot when it started. */
  startTime: string;
}

/** How many ancestors are followed at most (a chain is a handful deep). */
const MAX_DEPTH = 32;

/** Parent pid and start time of `pid`, or null when it is gone (or /proc cannot say). */
function stat(pid: number): { ppid: number; startTime: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: fields 3… follow the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const ppid = Number(fields[1]);
  const startTime = fields[19];
  return Number.isInteger(ppid) && startTime !== undefined ? { ppid, startTime } : null;
}

/** Process `pid` as it is now, or null when no such process runs. */
export function processId(pid: number): ProcessId | null {
  const at = stat(pid);
  return at === null ? null : { pid, startTime: at.startTime };
}

/**
 * The ancestors of process `pid` (this one by default), parent first, up to
 * but not including pid 1 (init, or a container's first process).
 */
export function ancestors(pid = process.pid): ProcessId[] {
  const chain: ProcessId[] = [];
  let at = stat(pid);
  while (at !== null && at.ppid > 1 && chain.length < MAX_DEPTH) {
    const parent = stat(at.ppid);
    if (parent === null) break;
    chain.push({ pid: at.ppid, startTime: parent.startTime });
    at = parent;
  }
  return chain;
}

/** The first process of `chain` that has exited, or undefined while all run. */
export function firstGone(chain: readonly ProcessId[]): ProcessId | undefined {
  return chain.find((p) => stat(p.pid)?.startTime !== p.startTime);
}

/** Completes with the first process of `chain` to exit, looking every `everyMs`. */
export function* anyGone(chain: readonly ProcessId[], everyMs = 500): Operation<ProcessId> {
  for (;;) {
    yield* sleep(everyMs);
    const gone = firstGone(chain);
    if (gone !== undefined) return gone;
  }
}

/** True when a package manager's script started this process (npm, pnpm and yarn set `npm_lifecycle_event`). */
export function startedByPackageManager(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env.npm_lifecycle_event ?? "") !== "";
}
