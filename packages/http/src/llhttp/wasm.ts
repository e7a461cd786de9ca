/**
 * Loads llhttp compiled to WebAssembly, exactly as shipped inside the pinned
 * `undici` package, and instantiates it once per process.
 *
 * One instance serves every parser: llhttp keeps all parser state in the
 * `llhttp_t` struct it allocates for each parser, and the wasm module's
 * callbacks (`wasm_on_url`, …) receive that struct's pointer. Because
 * `llhttp_execute` is synchronous and JavaScript is single-threaded, the
 * binding routes every callback to "the parser that is executing right now"
 * ({@link setCurrent}) instead of looking the pointer up in a map.
 *
 * Input bytes are copied into one shared scratch region of wasm memory
 * ({@link inputPtr}) before each execute; callbacks report positions in that
 * region, which the parser converts back into offsets of the caller's Buffer
 * (so body chunks and header slices are zero-copy views of the socket data).
 *
 * @module
 */
// Through a small CommonJS module rather than a createRequire at run time:
// esbuild bundles its require() calls, so every dist entry that uses
// @skein/http carries the bytes (pnpm does not hoist undici, so a bundle
// under apps/ could not resolve it at run time).
import * as wasmBytes from "./wasm-bytes.cjs";

// The workspace compiles without the DOM lib, so the few WebAssembly globals
// used here are typed locally.
interface WasmGlobal {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const WA = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly;

/** The exports of undici's llhttp wasm build that this binding uses. */
export interface LlhttpExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  malloc(size: number): number;
  free(ptr: number): void;
  llhttp_alloc(type: number): number;
  llhttp_free(parser: number): void;
  llhttp_execute(parser: number, data: number, len: number): number;
  llhttp_finish(parser: number): number;
  llhttp_resume(parser: number): void;
  llhttp_resume_after_upgrade(parser: number): void;
  llhttp_reset(parser: number): void;
  llhttp_get_error_reason(parser: number): number;
  llhttp_get_error_pos(parser: number): number;
  llhttp_get_method(parser: number): number;
  llhttp_get_http_major(parser: number): number;
  llhttp_get_http_minor(parser: number): number;
  llhttp_get_status_code(parser: number): number;
  llhttp_should_keep_alive(parser: number): number;
}

/**
 * What the wasm callbacks call into: implemented by `HttpParser`. Each method
 * returns llhttp's callback result (0 = continue).
 */
export interface WasmSink {
  onMessageBegin(): number;
  onUrl(at: number, len: number): number;
  onStatus(at: number, len: number): number;
  onHeaderField(at: number, len: number): number;
  onHeaderValue(at: number, len: number): number;
  onHeadersComplete(status: number, upgrade: number, keepAlive: number): number;
  onBody(at: number, len: number): number;
  onMessageComplete(): number;
}

/** A sink that accepts every event and keeps nothing (probing and warming the parser up). */
export const IGNORE_SINK: WasmSink = {
  onMessageBegin: () => 0, onUrl: () => 0, onStatus: () => 0, onHeaderField: () => 0, onHeaderValue: () => 0,
  onHeadersComplete: () => 0, onBody: () => 0, onMessageComplete: () => 0,
};

let current: WasmSink | null = null;

/**
 * Runs llhttp over `length` bytes already copied to `base` (see `copyIn`),
 * routing its callbacks to `sink` for the duration; returns llhttp's error code.
 * The one place that sets and clears the callback target.
 */
export function execute(sink: WasmSink, ptr: number, base: number, length: number): number {
  current = sink;
  try {
    return llhttp().llhttp_execute(ptr, base, length);
  } finally {
    current = null;
  }
}

/** Runs `llhttp_finish` (end of input) with the callbacks routed to `sink`. */
export function finish(sink: WasmSink, ptr: number): number {
  current = sink;
  try {
    return llhttp().llhttp_finish(ptr);
  } finally {
    current = null;
  }
}

// The callbacks are tiny trampolines: `current` is always set while
// llhttp_execute/llhttp_finish run, which are the only callers.
const imports = {
  env: {
    wasm_on_message_begin: (_p: number) => current!.onMessageBegin(),
    wasm_on_url: (_p: number, at: number, len: number) => current!.onUrl(at, len),
    wasm_on_status: (_p: number, at: number, len: number) => current!.onStatus(at, len),
    wasm_on_header_field: (_p: number, at: number, len: number) => current!.onHeaderField(at, len),
    wasm_on_header_value: (_p: number, at: number, len: number) => current!.onHeaderValue(at, len),
    wasm_on_headers_complete: (_p: number, status: number, upgrade: number, keepAlive: number) =>
      current!.onHeadersComplete(status, upgrade, keepAlive),
    wasm_on_body: (_p: number, at: number, len: number) => current!.onBody(at, len),
    wasm_on_message_complete: (_p: number) => current!.onMessageComplete(),
  },
};

function compile(): { module: object; simd: boolean } {
  // The SIMD build is faster; engines without wasm SIMD reject it at compile
  // time, in which case the portable build is used (as undici does).
  if (process.env.SKEIN_NO_WASM_SIMD !== "1") {
    try {
      return { module: new WA.Module(wasmBytes.simd()), simd: true };
    } catch {
      // fall through to the portable build
    }
  }
  return { module: new WA.Module(wasmBytes.portable()), simd: false };
}

let instance: LlhttpExports | null = null;
let simdBuild = false;
let inputBase = 0;
let inputSize = 0;
let heap: Uint8Array | null = null;

/**
 * The shared llhttp instance, instantiated on first use.
 *
 * @example
 * const ll = llhttp();
 * const parser = ll.llhttp_alloc(LLHTTP_TYPE.REQUEST);
 */
export function llhttp(): LlhttpExports {
  if (instance === null) {
    const { module, simd } = compile();
    instance = new WA.Instance(module, imports).exports as unknown as LlhttpExports;
    simdBuild = simd;
  }
  return instance;
}

/** Whether the SIMD build of llhttp was loaded (for diagnostics and benchmarks). */
export function isSimdBuild(): boolean {
  llhttp();
  return simdBuild;
}

/**
 * A byte view of wasm memory. Memory only grows inside malloc (called by
 * `llhttp_alloc` and {@link copyIn}), after which {@link refreshHeap} makes a
 * new view: reading `memory.buffer` on every access would cost more than
 * the reads it serves.
 */
export function wasmHeap(): Uint8Array {
  return heap ?? refreshHeap();
}

/** Re-creates the heap view if wasm memory has grown (call after anything that may malloc). */
export function refreshHeap(): Uint8Array {
  const buffer = llhttp().memory.buffer;
  if (heap === null || heap.buffer !== buffer) heap = new Uint8Array(buffer);
  return heap;
}

/**
 * Copies `bytes` into the shared input region (grown in 4 KiB steps) and
 * returns its address in wasm memory.
 */
export function copyIn(bytes: Uint8Array): number {
  const ll = llhttp();
  if (bytes.length > inputSize) {
    if (inputBase !== 0) ll.free(inputBase);
    inputSize = Math.ceil(bytes.length / 4096) * 4096;
    inputBase = ll.malloc(inputSize);
    if (inputBase === 0) throw new RangeError(`llhttp: cannot allocate ${inputSize} bytes of wasm memory`);
    refreshHeap();
  }
  wasmHeap().set(bytes, inputBase);
  return inputBase;
}

let layout: number | null = null;

/**
 * Offset in `llhttp_t` of the three bytes `method, http_major, http_minor`
 * (consecutive in llhttp's struct), found once by parsing two known
 * requests and verified against llhttp's own getters; -1 when the layout is
 * not recognised (then the getters are used). Reading three bytes from wasm
 * memory is cheaper than three calls into wasm per request.
 */
export function headLayout(): number {
  if (layout !== null) return layout;
  const ll = llhttp();
  const probes: [string, number, number, number][] = [["PROPFIND / HTTP/1.0\r\n\r\n", 12, 1, 0], ["MKCOL / HTTP/1.1\r\n\r\n", 10, 1, 1]];
  let found = -1;
  for (const [text, method, major, minor] of probes) {
    const parser = ll.llhttp_alloc(1);
    refreshHeap();
    const bytes = Buffer.from(text, "latin1");
    execute(IGNORE_SINK, parser, copyIn(bytes), bytes.length);
    const ok = ll.llhttp_get_method(parser) === method && ll.llhttp_get_http_major(parser) === major && ll.llhttp_get_http_minor(parser) === minor;
    const mem = wasmHeap();
    let at = -1;
    if (ok) for (let i = 0; i < 64; i++) if (mem[parser + i] === method && mem[parser + i + 1] === major && mem[parser + i + 2] === minor) at = at === -1 ? i : -2;
    ll.llhttp_free(parser);
    if (at < 0 || (found !== -1 && found !== at)) {
      found = -1;
      break;
    }
    found = at;
  }
  return (layout = found);
}

/** Reads a NUL-terminated C string (an error reason) out of wasm memory. */
export function readCString(ptr: number): string {
  if (ptr === 0) return "";
  const mem = refreshHeap();
  let end = ptr;
  while (end < mem.length && mem[end] !== 0) end++;
  return Buffer.from(mem.buffer, ptr, end - ptr).toString("latin1");
}
