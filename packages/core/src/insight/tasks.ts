/**
 * Insight: the task tree as plain data. Every task has an id, a name and a
 * description of what it is blocked on (`recv(127.0.0.1:5123)`,
 * `sleep(1000)`); `tasks()` snapshots the whole tree of the running kernel so
 * an operator (or a test) can see what a live server is doing.
 */
import type { Kernel } from "../kernel.js";
import { Instruction } from "../operation.js";
import type { Task, TaskStateName } from "../task.js";

/** One task in a {@link tasks} snapshot. */
export interface TaskInfo {
  id: number;
  name: string;
  state: TaskStateName;
  /** What the task waits for (`sleep(50)`, `queue.get()`), or its state when not suspended. */
  blockedOn: string;
  /** Live children, oldest first. */
  children: TaskInfo[];
}

/**
 * Snapshots `task` and its live descendants (synchronous; for tools that run
 * outside a task, like the remote console). Iterative: a tree thousands of
 * levels deep is walked without exhausting the stack.
 */
export function taskTree(task: Task<unknown>): TaskInfo {
  const info = (t: Task<unknown>): TaskInfo => ({ id: t.id, name: t.name, state: t.state, blockedOn: t.blockedOn, children: [] });
  const top = info(task);
  const pending: [Task<unknown>, TaskInfo][] = [[task, top]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [t, node] = next;
    // Children are kept newest-first (O(1) linking); show them oldest-first.
    for (let c = t.firstChild; c !== null; c = c.nextSibling) {
      const child = info(c);
      node.children.push(child);
      pending.push([c, child]);
    }
    node.children.reverse();
  }
  return top;
}

/** The live task with this id under `root` (depth-first), or undefined. */
export function findTask(root: Task<unknown>, id: number): Task<unknown> | undefined {
  const pending: Task<unknown>[] = [root];
  for (let t = pending.pop(); t !== undefined; t = pending.pop()) {
    if (t.id === id) return t;
    for (let c = t.firstChild; c !== null; c = c.nextSibling) pending.push(c);
  }
  return undefined;
}

/** The root task of `kernel` as a {@link TaskInfo} tree, or null before it started. */
export function kernelTasks(kernel: Kernel): TaskInfo | null {
  return kernel.root === null ? null : taskTree(kernel.root);
}

class Tasks extends Instruction<TaskInfo> {
  get description(): string {
    return "tasks()";
  }
  enter(task: Task<unknown>): void {
    let root = task;
    while (root.parent !== null) root = root.parent;
    task.resume(taskTree(root));
  }
}

/**
 * The current kernel's task tree, from the root task down, as plain data.
 * Print it with {@link formatTasks}.
 *
 * @example
 * const tree = yield* tasks();
 * process.stderr.write(formatTasks(tree));
 * // 1 main: join(serve)
 * // └─ 2 serve: accept(127.0.0.1:4915)
 * //    └─ 3 conn 127.0.0.1:50312: recv(127.0.0.1:50312)
 */
export function tasks(): Instruction<TaskInfo> {
  return new Tasks();
}

/** Levels of indentation drawn; deeper tasks are drawn at this depth with their level number. */
const MAX_DRAWN_DEPTH = 32;

/**
 * Renders a task tree, one task per line: `id name: blockedOn`, indented
 * with box-drawing lines (past 32 levels, a deeper task says its level
 * instead of being indented further). Ends with a newline.
 *
 * @example
 * console.log(formatTasks(yield* tasks()));
 */
export function formatTasks(tree: TaskInfo): string {
  const lines: string[] = [];
  // [task, prefix of its line, branch drawn before it, depth]
  const pending: [TaskInfo, string, string, number][] = [[tree, "", "", 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [t, prefix, branch, depth] = next;
    const level = depth > MAX_DRAWN_DEPTH ? `[level ${depth}] ` : "";
    lines.push(`${prefix}${branch}${level}${t.id} ${t.name}: ${t.blockedOn}`);
    const under = depth >= MAX_DRAWN_DEPTH ? prefix : prefix + (branch === "" ? "" : branch === "├─ " ? "│  " : "   ");
    // Pushed last child first, so the first child is drawn next.
    for (let i = t.children.length - 1; i >= 0; i--) pending.push([t.children[i]!, under, i === t.children.length - 1 ? "└─ " : "├─ ", depth + 1]);
  }
  return lines.join("\n") + "\n";
}
