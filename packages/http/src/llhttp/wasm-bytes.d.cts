/** llhttp's SIMD build (needs wasm SIMD). */
export declare function simd(): Uint8Array;
/** llhttp's portable build. */
export declare function portable(): Uint8Array;
