/**
 * A FIFO of suspended waiters with O(1) cancellation: a cancelled waiter is
 * only marked dead and skipped later, and the ring is compacted when dead
 * entries outnumber live ones. (Removing from the middle of a queue on every
 * cancellation would make cancelling n waiters O(n²).)
 */
import { Ring } from "../ring.js";
import type { Task } from "../task.js";

/** A waiter: live while `task` is set. */
export interface Waiter {
  task: Task<unknown> | null;
}

export class WaitList<W extends Waiter> {
  private ring = new Ring<W>(8);
  private dead = 0;

  /** Live waiters. */
  get size(): number {
    return this.ring.length - this.dead;
  }

  push(w: W): void {
    this.ring.push(w);
  }

  /** Removes and returns the oldest live waiter. */
  shift(): W | undefined {
    let w: W | undefined;
    while ((w = this.ring.shift()) !== undefined) {
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
    for (const w of this.ring) if (w.task !== null) next.push(w);
    this.ring = next;
    this.dead = 0;
  }
}
