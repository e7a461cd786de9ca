/**
 * The parser's interface to its user: the events it reports, the limits it
 * enforces itself, and its states.
 *
 * @module
 */
import type { MessageHead } from "./head.js";

/** What a parser reports. Handlers must not call back into the parser. */
export interface ParserEvents {
  /** A complete head. Return true to tell llhttp the message has no body (a response to HEAD). */
  onHead(head: MessageHead): boolean | void;
  /** A piece of the body: a view of the chunk being parsed (copy it to keep it past the call). */
  onBody(chunk: Buffer): void;
  /** The message ended. Return true to pause the parser right after it. */
  onMessageComplete(): boolean | void;
}

/** The limits a parser enforces itself (see `HttpLimits`); 0 = no limit. */
export interface ParserLimits {
  maxHeadBytes: number;
  maxHeaderCount: number;
  maxBodyBytes: number;
}

/** Parser states (`HttpParser.state`). */
export const PARSER_STATE = {
  /** Ready for bytes. */
  READY: 0,
  /** Paused after a message because `onMessageComplete` returned true; call `resume()`. */
  PAUSED: 1,
  /** An Upgrade/CONNECT head was parsed; the bytes after it belong to the new protocol. */
  UPGRADED: 2,
  /** The last message said `Connection: close`; later bytes are ignored (RFC 9112 §9.6). */
  CLOSED: 3,
  /** The input was rejected; the parser is dead. */
  FAILED: 4,
} as const;

/** One of {@link PARSER_STATE}. */
export type ParserState = (typeof PARSER_STATE)[keyof typeof PARSER_STATE];
