/**
 * llhttp's numeric tables (parser types, error numbers, method numbers),
 * taken from the constants module that ships next to the wasm build in the
 * pinned undici, so the numbers always match the compiled parser.
 *
 * @module
 */
import { ERROR, METHODS } from "undici/lib/llhttp/constants.js";

/** llhttp parser kinds (`llhttp_type_t`). */
export const LLHTTP_TYPE = { REQUEST: 1, RESPONSE: 2 } as const;

/** The kind of messages a parser reads: requests (servers) or responses (clients). */
export type ParserKind = "request" | "response";

/**
 * llhttp error numbers this binding branches on (`llhttp_errno_t`). The full
 * table is {@link llhttpErrorName}.
 */
export const LLHTTP_ERROR = {
  OK: ERROR.OK!,
  CLOSED_CONNECTION: ERROR.CLOSED_CONNECTION!,
  INVALID_VERSION: ERROR.INVALID_VERSION!,
  PAUSED: ERROR.PAUSED!,
  PAUSED_UPGRADE: ERROR.PAUSED_UPGRADE!,
  USER: ERROR.USER!,
} as const;

/** Callback result that tells llhttp to skip the body (`on_headers_complete` → 1). */
export const LLHTTP_SKIP_BODY = 1;

const errorNames: string[] = [];
for (const [name, code] of Object.entries(ERROR)) errorNames[code] = `HPE_${name}`;

/**
 * llhttp's symbolic name for an error number.
 *
 * @example
 * llhttpErrorName(12); // "HPE_INVALID_CHUNK_SIZE"
 */
export function llhttpErrorName(errno: number): string {
  return errorNames[errno] ?? `HPE_${errno}`;
}

const methodNames: string[] = [];
for (const [name, code] of Object.entries(METHODS)) methodNames[code] = name;

/**
 * The method token for llhttp's method number; the strings are interned once
 * here so the hot path never builds a method string.
 *
 * @example
 * methodName(1); // "GET"
 */
export function methodName(method: number): string {
  return methodNames[method] ?? "UNKNOWN";
}

/** llhttp's method numbers for the methods the server treats specially. */
export const LLHTTP_METHOD = {
  GET: METHODS.GET!,
  HEAD: METHODS.HEAD!,
  CONNECT: METHODS.CONNECT!,
} as const;
