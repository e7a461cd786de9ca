// Seeded randomness and byte mutation for the fuzz tests of every package (a case replays from its seed alone).

/** A small deterministic generator (xorshift32). */
export class Random {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0 || 1;
  }
  /** The next number in [0, 1). */
  next(): number {
    let x = this.#s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x >>> 0;
    return this.#s / 2 ** 32;
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

/**
 * 1–4 random edits of a latin1 string: a byte replaced, inserted or
 * deleted, a token or a whole message from `messages` inserted, a slice
 * repeated, or the rest cut off.
 */
export function mutate(r: Random, input: string, tokens: readonly string[], messages: readonly string[]): string {
  let b = input;
  for (let n = 1 + r.int(4); n > 0; n--) {
    const at = r.int(b.length + 1);
    switch (r.int(7)) {
      case 0: b = b.slice(0, at) + String.fromCharCode(r.int(256)) + b.slice(at + 1); break;
      case 1: b = b.slice(0, at) + String.fromCharCode(r.int(256)) + b.slice(at); break;
      case 2: b = b.slice(0, at) + b.slice(at + 1 + r.int(8)); break;
      case 3: b = b.slice(0, at) + r.pick(tokens) + b.slice(at); break;
      case 4: { const from = r.int(b.length); b = b.slice(0, at) + b.slice(from, from + r.int(12)) + b.slice(at); break; }
      case 5: b = b.slice(0, at); break;
      default: b = b.slice(0, at) + r.pick(messages) + b.slice(at);
    }
  }
  return b;
}

/** `bytes` cut at random points: half the time the rest goes whole. */
export function randomPieces(r: Random, bytes: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; ) {
    const len = r.next() < 0.5 ? bytes.length - at : 1 + r.int(bytes.length - at);
    pieces.push(bytes.subarray(at, at + len));
    at += len;
  }
  return pieces;
}

/** The fuzz tests' settings, from the environment (see the Tests sections of packages/http/README.md and packages/websocket/README.md). */
export const FUZZ = {
  seed: Number(process.env.SKEIN_FUZZ_SEED ?? 20261203),
  cases: Number(process.env.SKEIN_FUZZ_CASES ?? 240),
};

/** The case numbers to run: all of them, or the one SKEIN_FUZZ_CASE names (a replay). */
export function fuzzCases(): number[] {
  const only = process.env.SKEIN_FUZZ_CASE;
  return only === undefined ? Array.from({ length: FUZZ.cases }, (_, i) => i) : [Number(only)];
}
