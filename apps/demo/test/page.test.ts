import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { loadPage, PageNotFoundError } from "../src/page/page.js";

describe("the demo page", () => {
  const html = loadPage();

  it("is one HTML document with its CSS and script inline", () => {
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain("<style>");
    expect(html).toContain("<script>");
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
  });

  it("loads nothing from another origin (no CDN)", () => {
    const urls = html.match(/(?:src|href)\s*=\s*["'][^"']*["']/gi) ?? [];
    expect(urls.filter((u) => /\/\//.test(u))).toEqual([]);
    expect(html).not.toMatch(/@import|url\(\s*["']?https?:/i);
  });

  it("is a client of /ws/chat that asks for stats", () => {
    expect(html).toContain('"/ws/chat?stats=1"');
  });

  it("puts chat text into the document as text only", () => {
    expect(html).toContain("bubble.textContent = text");
    expect(html).not.toMatch(/bubble\.innerHTML/);
  });

  it("is found from a bundle in apps/demo/dist too", () => {
    const root = mkdtempSync(join(tmpdir(), "skein-page-"));
    mkdirSync(join(root, "src/page"), { recursive: true });
    mkdirSync(join(root, "dist"));
    writeFileSync(join(root, "src/page/index.html"), "<!doctype html>bundled");
    expect(loadPage(pathToFileURL(join(root, "dist/main.js")))).toBe("<!doctype html>bundled");
  });

  it("says where it looked when the file is missing", () => {
    const root = mkdtempSync(join(tmpdir(), "skein-page-"));
    try {
      loadPage(pathToFileURL(join(root, "dist/main.js")));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PageNotFoundError);
      expect((e as PageNotFoundError).tried).toEqual([join(root, "dist/index.html"), join(root, "src/page/index.html")]);
    }
  });
});
