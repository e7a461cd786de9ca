// The llhttp WebAssembly bytes shipped inside the pinned undici, loaded on
// demand. A CommonJS file on purpose: its require() calls are bundled by
// esbuild as they are (an ESM default import of a Buffer would make the
// bundle copy ~50k index properties at start-up), and undici is resolved
// from this package, wherever the bundle that contains it lives.
"use strict";
exports.simd = () => require("undici/lib/llhttp/llhttp_simd-wasm.js");
exports.portable = () => require("undici/lib/llhttp/llhttp-wasm.js");
