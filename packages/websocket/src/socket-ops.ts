/**
 * The blocking operations of a {@link WebSocket}, one small class each:
 * each registers its wake-up with the socket when it suspends and returns
 * the teardown that removes it, so cancelling a task never leaves a
 * listener behind.
 *
 * @module
 */
import { Instruction, type Task, type Teardown } from "@skein/core";
import type { InboundSocket } from "./inbound.js";
import type { Message } from "./message.js";
import type { WebSocket } from "./socket.js";

/** `ws.recv()`: the next message, or null once the socket has closed. */
export class RecvOp extends Instruction<Message | null> {
  // Assigned, not class fields: one is made per message (see Message).
  declare task: Task<unknown> | null;
  declare private readonly ws: InboundSocket;
  constructor(ws: InboundSocket) {
    super();
    this.ws = ws;
    this.task = null;
  }
  get description(): string {
    return `ws.recv(${this.ws.remote})`;
  }
  enter(task: Task<unknown>): Teardown | void {
    return this.ws.enterRecv(this, task);
  }
  cancel(this: RecvOp): void {
    this.task = null;
    this.ws.reader = null;
  }
}

/** The wait inside `ws.send()` while the outbound buffer is above the high-water mark. */
export class DrainOp extends Instruction<void> {
  task: Task<unknown> | null = null;
  constructor(private readonly ws: WebSocket) {
    super();
  }
  get description(): string {
    return `ws.send(${this.ws.remote})`;
  }
  enter(task: Task<unknown>): Teardown | void {
    return this.ws.enterDrain(this, task);
  }
  cancel(this: DrainOp): void {
    this.task = null;
    this.ws.forgetDrainer(this);
  }
}

/**
 * The wait inside `ws.send()` for a large payload handed to the socket
 * uncopied: until the socket has written all of it (or failed), after which
 * the caller may reuse its buffer.
 */
export class WrittenOp extends Instruction<void> {
  task: Task<unknown> | null = null;
  written = false;
  get description(): string {
    return "ws.send(written)";
  }
  enter(task: Task<unknown>): Teardown | void {
    if (this.written) return task.resume();
    this.task = task;
    return this.cancel;
  }
  /** The socket's write callback for the payload. */
  readonly done = (): void => {
    this.written = true;
    const task = this.task;
    this.task = null;
    task?.resume();
  };
  cancel(this: WrittenOp): void {
    this.task = null;
  }
}

/** `ws.ping()`: resolves with the round-trip time when the matching pong arrives. */
export class PingOp extends Instruction<number> {
  task: Task<unknown> | null = null;
  id = 0;
  startedAt = 0;
  constructor(private readonly ws: WebSocket) {
    super();
  }
  get description(): string {
    return `ws.ping(${this.ws.remote})`;
  }
  enter(task: Task<unknown>): Teardown | void {
    return this.ws.enterPing(this, task);
  }
  cancel(this: PingOp): void {
    this.task = null;
    this.ws.forgetPing(this);
  }
}

/** `ws.closed()`: resumes once the socket has fully closed. */
export class ClosedOp extends Instruction<void> {
  task: Task<unknown> | null = null;
  constructor(private readonly ws: WebSocket) {
    super();
  }
  get description(): string {
    return `ws.closed(${this.ws.remote})`;
  }
  enter(task: Task<unknown>): Teardown | void {
    return this.ws.enterClosed(this, task);
  }
  cancel(this: ClosedOp): void {
    this.task = null;
    this.ws.forgetClosedWaiter(this);
  }
}
