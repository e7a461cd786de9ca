/**
 * Cancel scopes: a region of one task's execution that can be cancelled on
 * its own (by a deadline), or that shields its contents from cancellation
 * from outside (trio's `CancelScope`). The task itself is the outermost scope.
 */
import type { Task } from "./task.js";
import type { TimerEntry } from "./timers.js";

export class CancelScope implements TimerEntry {
  at = Infinity;
  heapIndex = -1;
  heapSeq = 0;
  cancelled = false;
  /** Cancelled has been thrown into the task once; cleanup may now yield. */
  delivered = false;
  /** When this scope opened and when its Cancelled was thrown, in the kernel's sequence of such events (0: not yet). */
  openedSeq = 0;
  deliveredSeq = 0;
  /** The task's own cancellation had been delivered when this scope opened: the scope is part of the cleanup. */
  openedInCleanup = false;
  constructor(
    readonly task: Task<unknown>,
    readonly parent: CancelScope | null,
    readonly shield: boolean,
    readonly reason: string,
  ) {}

  onTimer(): void {
    this.task.kernel.cancelScope(this);
  }
}

/**
 * The scope whose cancellation should be delivered at the task's next yield
 * point, or null. Walks outwards from the innermost scope and stops at a shield.
 */
export function pendingCancellation(task: Task<unknown>): CancelScope | Task<unknown> | null {
  for (let s = task.scope; s !== null; s = s.parent) {
    if (s.cancelled && !s.delivered) return s;
    if (s.shield) return null;
  }
  if (task.cancelled && (!task.cancelDelivered || task.hardCancel)) return task;
  return null;
}

/**
 * A cancellation outside `scope` that reaches it (not behind a shield) and
 * came while it was open, or null: an enclosing cancelled scope, or the
 * task's own cancellation. When `scope` is cancelled too, the outer one
 * wins: a timeout does not turn a cancellation from outside into its own
 * TimeoutError or `undefined` (trio's rule: a scope catches its Cancelled
 * only when no enclosing cancellation is visible to it). A scope opened by
 * cleanup code, after that cancellation was delivered, keeps its own
 * meaning: `moveOnAfter(graceMs, workersExited())` in a `finally` still
 * moves on (Skein lets cleanup wait, within the grace period).
 */
export function outerCancellation(scope: CancelScope): CancelScope | Task<unknown> | null {
  if (scope.shield) return null;
  for (let s = scope.parent; s !== null; s = s.parent) {
    if (s.cancelled && (s.deliveredSeq === 0 || s.deliveredSeq > scope.openedSeq)) return s;
    if (s.shield) return null;
  }
  return scope.task.cancelled && !scope.openedInCleanup ? scope.task : null;
}

/** The innermost open shield among `scope` and its enclosing scopes, or null. */
export function enclosingShield(scope: CancelScope | null): CancelScope | null {
  for (let s = scope; s !== null; s = s.parent) if (s.shield) return s;
  return null;
}
