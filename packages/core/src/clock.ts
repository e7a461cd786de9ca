/**
 * Clocks. The kernel asks its clock for the time and for one wake-up at the
 * earliest timer deadline; swapping in a {@link VirtualClock} makes every
 * sleep and timeout run on simulated time, so timeout tests never wait on the
 * wall clock (trio's `MockClock`).
 */

/** What the kernel needs from a clock. */
export interface Clock {
  /** Current time in milliseconds (monotonic; the origin is arbitrary). */
  now(): number;
  /**
   * Arranges for `wake` to be called at (or soon after) absolute time `at`,
   * replacing any earlier request. `wake(true)` asks the kernel to run every
   * task the due timers made ready before it returns, past its usual turn
   * (a virtual clock moving time on must not leave woken tasks behind).
   */
  wakeAt(at: number, wake: (runAll?: boolean) => void): void;
  /** Cancels the pending wake-up, if any. */
  cancelWake(): void;
  /**
   * Called by the kernel whenever it runs out of ready tasks (used by the
   * virtual clock's auto-jump). `busy()` says whether it has tasks ready
   * again (or a drain put off to let I/O in) by the time the clock acts.
   */
  idle?(busy: () => boolean): void;
}

/**
 * The longest delay a Node timer takes (2^31 - 1 ms, about 24.8 days): a
 * longer one fires after 1 ms, with a warning. A later deadline (or
 * `Infinity`) is reached by waking at this distance and arming again.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real monotonic clock, driving one Node timer at a time. */
export class RealClock implements Clock {
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;
  private wake: ((runAll?: boolean) => void) | undefined;
  private readonly fire = () => {
    this.timer = undefined;
    this.armedAt = Infinity;
    this.wake?.();
  };

  now(): number {
    return performance.now();
  }

  wakeAt(at: number, wake: (runAll?: boolean) => void): void {
    // One clock, one wake-up (as for VirtualClock): a second kernel would
    // silently take over the first one's, whose timers would never fire.
    if (this.wake !== undefined && this.wake !== wake && this.timer !== undefined) {
      throw new Error("RealClock: already driving another kernel's timers; give each run() its own clock");
    }
    this.wake = wake;
    // Re-arming costs a timer-list insertion in Node; skip it when the
    // armed wake-up is already early enough (timers are mostly cancelled
    // before they fire, so an early spurious wake is cheap and rare).
    if (this.timer !== undefined && this.armedAt <= at) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.armedAt = at;
    this.timer = setTimeout(this.fire, Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(at - this.now()))));
  }

  cancelWake(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
  }
}

/** Options for {@link VirtualClock}. */
export interface VirtualClockOptions {
  /** Start time in ms. Default 0. */
  startMs?: number;
  /**
   * When true, whenever every task is blocked the clock jumps straight to the
   * next timer deadline (after letting pending I/O callbacks run once), so a
   * test of a 30-second timeout finishes at once. Default false: time moves
   * only through {@link VirtualClock.advance}.
   */
  autoJump?: boolean;
}

/**
 * Simulated time for tests. `advance(ms)` moves time forward, firing due
 * timers in deadline order and running the tasks they wake before moving on.
 *
 * @example
 * const clock = new VirtualClock({ autoJump: true });
 * await run(function* () { yield* sleep(60_000); }, { clock }); // returns at once
 */
export class VirtualClock implements Clock {
  private t: number;
  private wakeTime = Infinity;
  private wake: ((runAll?: boolean) => void) | undefined;
  private readonly autoJump: boolean;
  private jumpPending = false;

  constructor(options: VirtualClockOptions = {}) {
    this.t = options.startMs ?? 0;
    if (!Number.isFinite(this.t)) throw new RangeError(`VirtualClock: startMs must be a finite number, got ${String(options.startMs)}`);
    this.autoJump = options.autoJump ?? false;
  }

  now(): number {
    return this.t;
  }

  wakeAt(at: number, wake: (runAll?: boolean) => void): void {
    // One clock, one wake-up: a second kernel would silently replace the
    // first one's (its timers would never fire). Handing over is fine once
    // the first has no timer left.
    if (this.wake !== undefined && this.wake !== wake && this.wakeTime !== Infinity) {
      throw new Error("VirtualClock: already driving another kernel's timers; give each run() its own clock");
    }
    this.wakeTime = at;
    this.wake = wake;
  }

  cancelWake(): void {
    this.wakeTime = Infinity;
  }

  /**
   * Moves time forward by `ms` (finite, ≥ 0), firing every timer that falls
   * due on the way, in order, and running the tasks each wakes before moving
   * on. Call it from outside the kernel (the test's own code): called from
   * inside a task, the tasks it wakes run only after that task yields, by
   * which time the clock has reached the end.
   */
  advance(ms: number): void {
    if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`VirtualClock.advance: ms must be a finite number >= 0, got ${String(ms)}`);
    const target = this.t + ms;
    while (this.wakeTime <= target) {
      this.t = Math.max(this.t, this.wakeTime);
      this.wakeTime = Infinity;
      // Every task these timers wake runs before time moves on.
      this.wake?.(true);
    }
    this.t = target;
  }

  /** Jumps to the next timer deadline, if any, and fires it. Returns false when no timer is pending. */
  jump(): boolean {
    if (this.wakeTime === Infinity) return false;
    this.advance(Math.max(0, this.wakeTime - this.t));
    return true;
  }

  idle(busy: () => boolean): void {
    if (!this.autoJump || this.jumpPending || this.wakeTime === Infinity) return;
    this.jumpPending = true;
    // Let already-queued I/O callbacks run first: a jump must not overtake
    // an event that is due now. Nor tasks made ready meanwhile (more than
    // the kernel runs in one go): it calls idle again once they are done.
    setImmediate(() => {
      this.jumpPending = false;
      if (!busy()) this.jump();
    });
  }
}
