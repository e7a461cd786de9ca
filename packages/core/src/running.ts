/**
 * What the kernel is running right now, and the scheduler states, shared by
 * the kernel and by {@link Instruction}'s inline path (which enters an
 * instruction from inside the task's own `yield*`, see operation.ts). A
 * module of its own so that neither has to import the other.
 *
 * @module
 */
import type { Task } from "./task.js";

/** Scheduler states. Numbers, not strings: they are compared on every step. */
export const READY = 0;
export const RUNNING = 1;
/** Inside an instruction's `enter`; a resume now is a synchronous completion. */
export const ENTERING = 2;
/** Completed synchronously during `enter`; the step loop picks the value up. */
export const RESOLVED = 3;
export const SUSPENDED = 4;
/** The body finished; waiting for children before settling. */
export const WAITING_CHILDREN = 5;
export const DONE = 6;

/** How a task is resumed. */
export const NEXT = 0;
export const THROW = 1;

/** `Task.flags` bit: some scope of the task may be cancelled, so check at yields. */
export const F_CANCEL_HINT = 8;

/** Operations completed synchronously in one step before the task yields its turn. */
export const STEP_BUDGET = 128;

/**
 * The task whose code runs now (null between steps), and how many more
 * operations it may complete synchronously before it goes to the back of the
 * ready queue (a task that never blocks must not starve the others).
 */
export const running: { task: Task<unknown> | null; budget: number } = { task: null, budget: 0 };
