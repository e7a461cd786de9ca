/**
 * Priming llhttp: run the parser over synthetic responses once per process,
 * before any connection opens.
 *
 * @module
 */
import { LLHTTP_TYPE } from "../llhttp/constants.js";
import { copyIn, execute, IGNORE_SINK, llhttp, refreshHeap } from "../llhttp/wasm.js";

let primed = false;

/**
 * Runs llhttp over a few thousand synthetic responses, once per process,
 * before the first connection opens, so the engine compiles the parser with
 * its optimizing compiler now rather than mid-run, when the compiler's
 * transient memory would add to that of thousands of connections.
 */
export function primeParser(): void {
  if (primed) return;
  primed = true;
  const ll = llhttp();
  const chunk = Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello".repeat(16), "latin1");
  const ptr = ll.llhttp_alloc(LLHTTP_TYPE.RESPONSE);
  refreshHeap();
  try {
    for (let i = 0; i < PRIME_ROUNDS; i++) {
      execute(IGNORE_SINK, ptr, copyIn(chunk), chunk.length);
    }
  } finally {
    ll.llhttp_free(ptr);
  }
}

/** Rounds of {@link primeParser}: enough executed bytes for V8 to tier llhttp up. */
const PRIME_ROUNDS = 2500;
