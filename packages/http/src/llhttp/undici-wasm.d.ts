// Types for the CommonJS modules inside the pinned undici that export
// llhttp's WebAssembly bytes (undici ships no declarations for them).
declare module "undici/lib/llhttp/llhttp-wasm.js" {
  const bytes: Buffer;
  export = bytes;
}
declare module "undici/lib/llhttp/llhttp_simd-wasm.js" {
  const bytes: Buffer;
  export = bytes;
}
