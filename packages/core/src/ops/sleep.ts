import { inUseError, Instruction, type Teardown } from "../operation.js";
import type { Task } from "../task.js";
import { checkDuration, type TimerEntry } from "../timers.js";

/** Suspends for `ms` milliseconds of the kernel's clock. */
class Sleep extends Instruction<void> implements TimerEntry {
  at = 0;
  heapIndex = -1;
  heapSeq = 0;
  private task: Task<unknown> | null = null;
  constructor(readonly ms: number) {
    super();
  }

  get description(): string {
    return `sleep(${this.ms})`;
  }

  enter(task: Task<unknown>): Teardown | void {
    if (!(this.ms > 0)) {
      // sleep(0) is a scheduling point: let every other ready task run first.
      task.kernel.yieldTask(task);
      return;
    }
    // Yielded plainly (`yield tick`) by a second task while one waits: the
    // timer entry is this instance, so say so rather than lose a wake-up.
    if (this.task !== null) throw inUseError(this);
    this.task = task;
    task.kernel.addTimer(this, task.kernel.now() + this.ms);
    return this.cancelTimer;
  }

  onTimer(): void {
    const task = this.task!;
    this.task = null;
    task.resume();
  }

  private cancelTimer(this: Sleep): void {
    const task = this.task;
    this.task = null;
    task?.kernel.removeTimer(this);
  }
}

/**
 * Suspends the current task for `ms` milliseconds (of the kernel's clock, so
 * a `VirtualClock` makes it instant in tests). `sleep(0)` lets others run.
 *
 * @example
 * yield* sleep(250);
 */
export function sleep(ms: number): Instruction<void> {
  checkDuration(ms, "sleep");
  return new Sleep(ms);
}

class YieldNow extends Instruction<void> {
  get description(): string {
    return "yieldNow()";
  }
  enter(task: Task<unknown>): void {
    task.kernel.yieldTask(task);
  }
}

/**
 * Lets every other ready task run before this one continues (Bluelet's
 * `yield null`, which also works).
 */
export function yieldNow(): Instruction<void> {
  return new YieldNow();
}
