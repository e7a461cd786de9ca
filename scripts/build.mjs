#!/usr/bin/env node
// Bundles every runnable entry point (demo, benchmarks, CLIs) and each
// package's public entry with esbuild. Workspace packages are bundled from
// their TypeScript sources (the "skein-source" condition); npm dependencies
// stay external and resolve from the package that declares them.
//
// Also importable: `bundleAtomically(src, out)` builds one entry into a temp
// file and renames it into place, so test files running in parallel can each
// make sure the demo is built without ever exposing a half-written bundle.
import { build } from "esbuild";
import { existsSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** [source, output] pairs; missing sources are skipped so packages can grow. */
const entries = [
  ["packages/core/src/index.ts", "packages/core/dist/index.js"],
  ["packages/core/bench/core.ts", "packages/core/dist/bench/core.js"],
  ["packages/http/src/index.ts", "packages/http/dist/index.js"],
  ["packages/http/bench/http.ts", "packages/http/dist/bench/http.js"],
  ["packages/http/bench/load.ts", "packages/http/dist/bench/load.js"],
  ["packages/http/src/load/cli.ts", "packages/http/dist/cli/skein-load.js"],
  ["packages/websocket/src/index.ts", "packages/websocket/dist/index.js"],
  ["packages/websocket/bench/ws.ts", "packages/websocket/dist/bench/ws.js"],
  ["apps/demo/src/main.ts", "apps/demo/dist/main.js"],
  ["apps/demo/bench/bench.ts", "apps/demo/dist/bench.js"],
].filter(([src]) => existsSync(join(root, src)));

/**
 * A package's public entry (`packages/<name>/src/index.ts`) is a library:
 * other Skein packages stay imports, resolved at run time to their own
 * dist. Bundling @skein/core into @skein/http's dist gave a program that
 * imports both two kernels, and a task of one could not run the other's
 * operations. Runnable entries (demo, benches, CLIs) bundle everything.
 */
const isLibraryEntry = (src) => /^packages\/[^/]+\/src\/index\.ts$/.test(src);

/** esbuild options for one entry (paths relative to the repository root). */
export function bundleOptions(src, out) {
  const library = isLibraryEntry(src) ? ["@skein/*"] : [];
  return {
    entryPoints: [join(root, src)],
    outfile: join(root, out),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "linked",
    conditions: ["skein-source"],
    // Bundled CJS dependencies (ws, undici's wasm) need require().
    banner: { js: "import { createRequire as __skeinRequire } from 'node:module'; const require = __skeinRequire(import.meta.url);" },
    // ws tries these optional native add-ons inside try/catch.
    external: ["bufferutil", "utf-8-validate", "effection", "autocannon", "playwright-core", ...library],
    logLevel: "warning",
  };
}

/** Builds one entry to `out` via a temp file and an atomic rename. */
export async function bundleAtomically(src, out) {
  const tmp = `${out}.${process.pid}.${Date.now()}.tmp.js`;
  await build({ ...bundleOptions(src, out), outfile: join(root, tmp), sourcemap: false });
  renameSync(join(root, tmp), join(root, out));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await Promise.all(entries.map(([src, out]) => build(bundleOptions(src, out))));
}
