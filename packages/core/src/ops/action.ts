import { Instruction, type Teardown } from "../operation.js";
import type { Task } from "../task.js";

/**
 * The body of an {@link action}: start something, call `resolve`/`reject`
 * exactly once when it completes (synchronously is fine), and return a
 * teardown that undoes the wait if the task is cancelled first.
 */
export type ActionBody<T> = (resolve: (value: T) => void, reject: (error: unknown) => void) => Teardown | void;

class Action<T> extends Instruction<T> {
  constructor(
    private readonly name: string,
    private readonly body: ActionBody<T>,
  ) {
    super();
  }
  get description(): string {
    return this.name;
  }
  enter(task: Task<unknown>): Teardown {
    let live = true;
    const resolve = (value: T) => {
      if (!live) return;
      live = false;
      task.resume(value);
    };
    const reject = (error: unknown) => {
      if (!live) return;
      live = false;
      task.fail(error);
    };
    const undo = this.body(resolve, reject);
    return () => {
      live = false;
      if (undo) undo();
    };
  }
}

/**
 * Builds an operation from a callback-style API — the way to teach Skein a
 * new kind of wait. Late or repeated calls to `resolve`/`reject` are ignored.
 *
 * @example
 * const readable = (stream: Readable) =>
 *   action<void>("readable", (resolve) => {
 *     stream.once("readable", resolve);
 *     return () => stream.off("readable", resolve);
 *   });
 */
export function action<T>(description: string, body: ActionBody<T>): Instruction<T> {
  return new Action(description, body);
}
