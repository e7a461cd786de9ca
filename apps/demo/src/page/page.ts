/**
 * The demo's browser page (`GET /`): chat over `/ws/chat` plus live server
 * figures. The page itself is `index.html` next to this file, a single
 * self-contained document; it is read once, at startup.
 *
 * @example
 * ```ts
 * const html = loadPage();            // string, throws if index.html is missing
 * res.bytes(200, Buffer.from(html), { "content-type": PAGE_CONTENT_TYPE });
 * ```
 */
import { existsSync, readFileSync } from "node:fs";

export const PAGE_CONTENT_TYPE = "text/html; charset=utf-8";

/**
 * Where index.html may be: next to this module when running from source
 * (vitest), or `../src/page/` when running the esbuild bundle from
 * `apps/demo/dist/main.js`.
 */
const CANDIDATES = ["./index.html", "../src/page/index.html"];

/** Thrown by {@link loadPage} when index.html is in none of the places it looks. */
export class PageNotFoundError extends Error {
  readonly code = "DEMO_ERR_PAGE_NOT_FOUND";
  constructor(readonly tried: string[]) {
    super(`demo page not found; looked at ${tried.join(", ")}`);
    this.name = "PageNotFoundError";
  }
}

/** Reads the page's HTML; throws {@link PageNotFoundError} when it is missing. */
export function loadPage(base: string | URL = import.meta.url): string {
  const tried: string[] = [];
  for (const rel of CANDIDATES) {
    const url = new URL(rel, base);
    tried.push(url.pathname);
    if (existsSync(url)) return readFileSync(url, "utf8");
  }
  throw new PageNotFoundError(tried);
}
