import { Instruction, type Teardown } from "../operation.js";
import type { Task } from "../task.js";
import { WaitList, type Waiter } from "./wait-list.js";

class EventWait extends Instruction<void> implements Waiter {
  task: Task<unknown> | null = null;
  queued = false;
  constructor(private readonly event: Event) {
    super();
  }
  get description(): string {
    return `${this.event.name}.wait()`;
  }
  enter(task: Task<unknown>): Teardown | void {
    if (this.event.isSet) return task.resume();
    this.event.waiters.push(this, task);
    return this.cancel;
  }
  cancel(this: EventWait): void {
    this.event.waiters.cancel(this);
  }
}

/**
 * A flag tasks can wait for. `set()` wakes every waiter; waiting on a set
 * event returns at once until `clear()`.
 *
 * @example
 * const ready = new Event();
 * yield* spawn(function* () { yield* ready.wait(); go(); });
 * ready.set();
 */
export class Event {
  name: string;
  private flag = false;
  /** @internal */ readonly waiters = new WaitList<EventWait>();

  constructor(name = "event") {
    this.name = name;
  }

  get isSet(): boolean {
    return this.flag;
  }

  /** Tasks waiting. */
  get waiting(): number {
    return this.waiters.size;
  }

  /** Sets the flag and wakes every waiter. */
  set(): void {
    if (this.flag) return;
    this.flag = true;
    const first = this.waiters.shift();
    if (first === undefined) return;
    // Woken together, run after: outside a task resume() would run a waiter
    // at once, and one that cleared the flag and waited again would be
    // woken by this same set().
    first.task!.kernel.batch(() => {
      let w: EventWait | undefined = first;
      do {
        const task = w.task!;
        w.task = null;
        task.resume();
      } while ((w = this.waiters.shift()) !== undefined);
    });
  }

  /** Clears the flag; later waits suspend again. */
  clear(): void {
    this.flag = false;
  }

  /** Suspends until the flag is set. */
  wait(): Instruction<void> {
    return new EventWait(this);
  }
}
