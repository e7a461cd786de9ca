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
  // `declare` + assignments, not class fields: one is made per message, and
  // field definitions cost V8 an extra initializer call per construction.
  /** The payload. For text messages, UTF-8 bytes. */
  declare readonly data: Buffer;
  /** True for a binary message (opcode 2), false for text (opcode 1). */
  declare readonly binary: boolean;

  constructor(data: Buffer, binary: boolean) {
    this.data = data;
    this.binary = binary;
  }

  /** The payload decoded as UTF-8 (for text messages). */
  get text(): string {
    return this.data.toString("utf8");
  }
}
