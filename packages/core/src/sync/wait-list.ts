/**
 * A FIFO of suspended waiters with O(1) cancellation: a cancelled waiter is
 * only marked dead and skipped later, and the ring is compacted when dead
 * entries outnumber live ones. (Removing from the middle of a queue on every
 * cancellation would make cancelling n waiters O(n²).)
 */
import { inUseError } from "../operation.js";
import { Ring } from "../ring.js";
import type { Task } from "../task.js";

/** A waiter (an instruction such as a queue's get): live while `task` is set. */
export interface Waiter {
  task: Task<unknown> | null;
  /** @internal true while the list holds an entry for it, live or dead */
  queued: boolean;
  readonly description: string;
}

export class WaitList<W extends Waiter> {
  private ring = new Ring<W>(8);
  private dead = 0;

  /** Live waiters. */
  get size(): number {
    return this.ring.length - this.dead;
  }

  /**
   * Queues `w` for `task`. One instruction value waits for one task at a
   * time: a second task yielding it plainly while the first waits is refused
   * with a TypeError. A value waited on again after its wait was cancelled
   * (a timeout, then a retry) leaves its dead entry and goes to the back.
   */
  push(w: W, task: Task<unknown>): void {
    if (w.task !== null) throw inUseError(w);
    if (w.queued) {
      this.ring.remove(w); // O(n), on this rare path only
      this.dead--;
    }
    w.task = task;
    w.queued = true;
    this.ring.push(w);
  }

  /** Removes and returns the oldest live waiter. */
  shift(): W | undefined {
    let w: W | undefined;
    while ((w = this.ring.shift()) !== undefined) {
      w.queued = false;
      if (w.task !== null) return w;
      this.dead--;
    }
    return undefined;
  }

  /** Marks `w` dead (its task was cancelled). */
  cancel(w: W): void {
    if (w.task === null) return;
    w.task = null;
    this.dead++;
    if (this.dead > 32 && this.dead > this.ring.length / 2) this.compact();
  }

  private compact(): void {
    const next = new Ring<W>(8);
    for (const w of this.ring) {
      if (w.task !== null) next.push(w);
      else w.queued = false;
    }
    this.ring = next;
    this.dead = 0;
  }
}
