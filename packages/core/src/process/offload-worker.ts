/**
 * The script each offload worker thread runs. It is kept as source text and
 * started with `new Worker(source, { eval: true })`, so it works the same
 * from the TypeScript sources (tests) and from the esbuild bundle, with no
 * extra file to ship next to it.
 *
 * Protocol, one job at a time per worker:
 *   in:  { src: string, args: unknown[] }     src is `fn.toString()`
 *   out: { ok: true, value } | { ok: false, error: { name, message, stack, code } }
 * The function is compiled once per distinct source and may call `require`
 * for Node's built-in modules; it sees nothing else of the caller's scope.
 */
export const WORKER_SOURCE = String.raw`
"use strict";
const { parentPort } = require("node:worker_threads");
const compiled = new Map();
const MAX_COMPILED = 256;

function compile(src) {
  let fn = compiled.get(src);
  if (fn !== undefined) return fn;
  try {
    fn = new Function("require", "return (" + src + "\n)")(require);
  } catch (e) {
    const err = new SyntaxError("offload(): the function cannot be compiled in the worker (pass a self-contained function or arrow expression): " + (e && e.message));
    err.stack = err.name + ": " + err.message;
    throw err;
  }
  if (typeof fn !== "function") throw new TypeError("offload(): the source did not evaluate to a function");
  if (compiled.size >= MAX_COMPILED) compiled.clear();
  compiled.set(src, fn);
  return fn;
}

function describe(e) {
  if (e instanceof Error) {
    return { name: e.name, message: e.message, stack: e.stack, code: typeof e.code === "string" || typeof e.code === "number" ? e.code : undefined };
  }
  return { name: "NonError", message: String(e), stack: undefined, code: undefined };
}

parentPort.on("message", async (job) => {
  let value;
  try {
    value = await compile(job.src)(...job.args);
  } catch (e) {
    parentPort.postMessage({ ok: false, error: describe(e) });
    return;
  }
  try {
    parentPort.postMessage({ ok: true, value });
  } catch (e) {
    // The result cannot be structured-cloned (a function, a socket…).
    parentPort.postMessage({ ok: false, error: describe(e) });
  }
});
`;
