/**
 * A pool of request parsers. A keep-alive connection between requests needs
 * no parser (llhttp keeps no state across complete messages), so idle
 * connections give theirs back: 10k idle connections then hold no parsers,
 * and a busy one reuses a warm parser instead of allocating one.
 *
 * @module
 */
import type { ParserEvents, ParserLimits } from "./events.js";
import { HttpParser } from "./parser.js";

const pool: HttpParser[] = [];
/** Parsers kept for reuse at most (beyond that they are freed). */
const MAX_POOLED = 1024;

/**
 * A request parser for `events`, from the pool when one is free.
 *
 * @example
 * const parser = acquireParser(connection, limits);
 * // … parse …
 * releaseParser(parser); // between requests
 */
export function acquireParser(events: ParserEvents, limits: Partial<ParserLimits>): HttpParser {
  const parser = pool.pop();
  if (parser === undefined) return new HttpParser("request", events, limits);
  parser.reuse(events, limits);
  return parser;
}

/** Returns a parser between messages (or after an upgrade) to the pool; frees it if it is mid-message, failed, or the pool is full. */
export function releaseParser(parser: HttpParser): void {
  if (parser.reusable && pool.length < MAX_POOLED) pool.push(parser);
  else parser.destroy();
}
