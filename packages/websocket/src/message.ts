/**
 * A message received on a WebSocket.
 *
 * @module
 */

/**
 * One complete message (fragments already reassembled by `ws`). `data` is
 * the payload as bytes for both kinds; a text message's bytes are valid
 * UTF-8 (ws checked them) and `text` decodes them.
 *
 * @example
 * const msg = yield* ws.recv();
 * if (msg !== null && !msg.binary) console.log(msg.text);
 */
export class Message {
  constructor(
    /** The payload. For text messages, UTF-8 bytes. */
    readonly data: Buffer,
    /** True for a binary message (opcode 2), false for text (opcode 1). */
    readonly binary: boolean,
  ) {}

  /** The payload decoded as UTF-8 (for text messages). */
  get text(): string {
    return this.data.toString("utf8");
  }
}
