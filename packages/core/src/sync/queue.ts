import { ClosedError } from "../errors.js";
import { Instruction, type Teardown } from "../operation.js";
import { Ring } from "../ring.js";
import type { Task } from "../task.js";
import { WaitList, type Waiter } from "./wait-list.js";

/** `take()` found nothing (a unique value, since `undefined` may be a queued item). */
const NOTHING: unique symbol = Symbol("nothing");

class Get<T> extends Instruction<T> implements Waiter {
  task: Task<unknown> | null = null;
  queued = false;
  constructor(
    private readonly q: Queue<T>,
    readonly orUndefined: boolean,
  ) {
    super();
  }
  get description(): string {
    return `${this.q.name}.get()`;
  }
  enter(task: Task<unknown>): Teardown | void {
    return this.q.enterGet(this, task);
  }
  cancel(this: Get<T>): void {
    this.q.getters.cancel(this);
  }
}

class Put<T> extends Instruction<void> implements Waiter {
  task: Task<unknown> | null = null;
  queued = false;
  constructor(
    private readonly q: Queue<T>,
    readonly item: T,
  ) {
    super();
  }
  get description(): string {
    return `${this.q.name}.put()`;
  }
  enter(task: Task<unknown>): Teardown | void {
    return this.q.enterPut(this, task);
  }
  cancel(this: Put<T>): void {
    this.q.putters.cancel(this);
  }
}

/**
 * A FIFO queue between tasks. With a finite `capacity`, `put` suspends while
 * the queue is full; `capacity` 0 makes every `put` wait for a `get`
 * (a rendezvous). Items are handed straight to a waiting getter.
 *
 * @example
 * const q = new Queue<string>(100);
 * yield* q.put("job");
 * const job = yield* q.get();
 */
export class Queue<T> {
  /** Shown in task descriptions. */
  name: string;
  readonly capacity: number;
  private readonly items = new Ring<T>(16);
  /** @internal */ readonly getters = new WaitList<Get<T>>();
  /** @internal */ readonly putters = new WaitList<Put<T>>();
  private closed = false;

  constructor(capacity = Infinity, name = "queue") {
    if (!(capacity >= 0 && (Number.isInteger(capacity) || capacity === Infinity))) throw new RangeError(`queue capacity must be a whole number >= 0, got ${capacity}`);
    this.capacity = capacity;
    this.name = name;
  }

  /** Items waiting to be taken. */
  get size(): number {
    return this.items.length;
  }

  /** Tasks suspended in `get` / `put`. */
  get waiting(): { getters: number; putters: number } {
    return { getters: this.getters.size, putters: this.putters.size };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Adds `item`, suspending while the queue is full. Throws `ClosedError` after `close()`. */
  put(item: T): Instruction<void> {
    return new Put(this, item);
  }

  /** Takes the oldest item, suspending while empty. Throws `ClosedError` once closed and drained. */
  get(): Instruction<T> {
    return new Get<T>(this, false);
  }

  /** Adds `item` if that needs no wait; returns whether it did. */
  tryPut(item: T): boolean {
    if (this.closed) throw new ClosedError(this.name);
    const getter = this.getters.shift();
    if (getter !== undefined) {
      const task = getter.task!;
      getter.task = null;
      task.resume(item);
      return true;
    }
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return true;
    }
    return false;
  }

  /** Takes an item if one is ready: `{ ok: true, value }` or `{ ok: false }`. */
  tryGet(): { ok: true; value: T } | { ok: false } {
    const value = this.take();
    return value === NOTHING ? { ok: false } : { ok: true, value };
  }

  /** An item available without waiting (buffered, or from a waiting putter), or NOTHING. */
  private take(): T | typeof NOTHING {
    if (this.items.length > 0) {
      const value = this.items.shift()!;
      this.refill();
      return value;
    }
    const putter = this.putters.shift();
    if (putter !== undefined) {
      const task = putter.task!;
      putter.task = null;
      task.resume();
      return putter.item;
    }
    return NOTHING;
  }

  /**
   * Closes the queue: further puts throw, waiting putters fail, and getters
   * receive the remaining items and then `ClosedError` (`Channel.recv`: undefined).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    let w;
    while ((w = this.putters.shift()) !== undefined) {
      const task = w.task!;
      w.task = null;
      task.fail(new ClosedError(this.name));
    }
    if (this.items.length === 0) {
      while ((w = this.getters.shift()) !== undefined) this.finishClosedGet(w, w.task!);
    }
  }

  /** @internal */
  enterGet(op: Get<T>, task: Task<unknown>): Teardown | void {
    // The hot path of every consumer: a sentinel, no result object.
    const value = this.take();
    if (value !== NOTHING) return task.resume(value);
    if (this.closed) return this.finishClosedGet(op, task);
    this.getters.push(op, task);
    return op.cancel;
  }

  /** @internal */
  enterPut(op: Put<T>, task: Task<unknown>): Teardown | void {
    if (this.tryPut(op.item)) return task.resume();
    this.putters.push(op, task);
    return op.cancel;
  }

  private finishClosedGet(op: Get<T>, task: Task<unknown>): void {
    op.task = null;
    if (op.orUndefined) task.resume(undefined);
    else task.fail(new ClosedError(this.name));
  }

  /** After a get made room, move one waiting putter's item in. */
  private refill(): void {
    if (this.items.length >= this.capacity) return;
    const putter = this.putters.shift();
    if (putter === undefined) {
      if (this.closed && this.items.length === 0) {
        let w;
        while ((w = this.getters.shift()) !== undefined) this.finishClosedGet(w, w.task!);
      }
      return;
    }
    const task = putter.task!;
    putter.task = null;
    this.items.push(putter.item);
    task.resume();
  }

  /** @internal a get that resolves to undefined once closed (for Channel). */
  getOrUndefined(): Instruction<T | undefined> {
    return new Get<T>(this, true) as Instruction<T | undefined>;
  }
}

/**
 * A closable channel: `send` / `recv`, where `recv` returns `undefined` once
 * the channel is closed and drained. Unbuffered (capacity 0) by default.
 *
 * @example
 * function* producer(ch: Channel<number>) { for (let i = 0; i < 3; i++) yield* ch.send(i); ch.close(); }
 * function* consumer(ch: Channel<number>) { let v; while ((v = yield* ch.recv()) !== undefined) log(v); }
 */
export class Channel<T> extends Queue<T> {
  constructor(capacity = 0, name = "channel") {
    super(capacity, name);
  }
  /** Sends `item`, suspending until there is room (or a receiver, when unbuffered). */
  send(item: T): Instruction<void> {
    return this.put(item);
  }
  /** The next item, or `undefined` once the channel is closed and drained. */
  recv(): Instruction<T | undefined> {
    return this.getOrUndefined();
  }
}
