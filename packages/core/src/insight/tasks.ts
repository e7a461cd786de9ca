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
 * outside a task, like the remote console).
 */
export function taskTree(task: Task<unknown>): TaskInfo {
  // Children are kept newest-first (O(1) linking); show them oldest-first.
  const kids: Task<unknown>[] = [];
  for (let c = task.firstChild; c !== null; c = c.nextSibling) kids.push(c);
  const children: TaskInfo[] = [];
  for (let i = kids.length - 1; i >= 0; i--) children.push(taskTree(kids[i]!));
  return { id: task.id, name: task.name, state: task.state, blockedOn: task.blockedOn, children };
}

/** The live task with this id under `root` (depth-first), or undefined. */
export function findTask(root: Task<unknown>, id: number): Task<unknown> | undefined {
  if (root.id === id) return root;
  for (let c = root.firstChild; c !== null; c = c.nextSibling) {
    const found = findTask(c, id);
    if (found !== undefined) return found;
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

/**
 * Renders a task tree, one task per line: `id name: blockedOn`, indented
 * with box-drawing lines. Ends with a newline.
 *
 * @example
 * console.log(formatTasks(yield* tasks()));
 */
export function formatTasks(tree: TaskInfo): string {
  const lines: string[] = [];
  const walk = (t: TaskInfo, prefix: string, branch: string): void => {
    lines.push(`${prefix}${branch}${t.id} ${t.name}: ${t.blockedOn}`);
    const under = prefix + (branch === "" ? "" : branch === "├─ " ? "│  " : "   ");
    t.children.forEach((c, i) => walk(c, under, i === t.children.length - 1 ? "└─ " : "├─ "));
  };
  walk(tree, "", "");
  return lines.join("\n") + "\n";
}
