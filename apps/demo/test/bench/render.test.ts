import { describe, expect, it } from "vitest";
import { renderMarkdown, targetSummary } from "../../bench/render-markdown.js";
import { ratioDomain, renderSvg } from "../../bench/render-svg.js";
import { formatBytes, formatNumber, formatRatio } from "../../bench/format.js";
import { sampleReport } from "./sample.js";

describe("formatting", () => {
  it("groups thousands and trims small numbers", () => {
    expect(formatNumber(1_020_000)).toBe("1,020,000");
    expect(formatNumber(12.04)).toBe("12");
    expect(formatNumber(0.12345)).toBe("0.123");
  });
  it("prints ratios with the x suffix", () => {
    expect(formatRatio(12.5926)).toBe("12.6x");
    expect(formatRatio(0.5667)).toBe("0.57x");
    expect(formatRatio(1)).toBe("1x");
  });
  it("prints bytes in binary units", () => {
    expect(formatBytes(8 * 1024 ** 3)).toBe("8.0 GiB");
    expect(formatBytes(512)).toBe("512 B");
  });
});

describe("renderMarkdown", () => {
  const md = renderMarkdown(sampleReport);
  it("puts the machine, date and command line at the top", () => {
    const head = md.split("\n## ")[0]!;
    expect(head).toContain("Example CPU @ 2.0GHz, 2 cores, 8.0 GiB RAM, linux x64, Node v20.20.2");
    expect(head).toContain("2025-01-02T03:04:05.000Z");
    expect(head).toContain("`pnpm bench`");
  });
  it("writes one table row per figure with value, baseline, computed ratio and target", () => {
    expect(md).toContain("| plaintext, pipelined 16 | 1,020,000 req/s | 81,000 req/s (node:http) | **12.6x** | ≥ 12x node:http ✅ |");
  });
  it("marks a missed target and escapes pipes in names", () => {
    expect(md).toContain("| plaintext, pipelined 16 \\| ceiling | 1,020,000 req/s | 1,800,000 req/s (canned net) | **0.57x** | ≥ 0.55x canned net ✅ |");
    expect(md).toContain("| idle keep-alive memory | 7,000 B/conn | 12,000 B/conn (node:http) | **0.58x** | ≤ 0.5x node:http ❌ |");
  });
  it("uses the ratio a bench reported over the computed one", () => {
    expect(md).toContain("| spawn+join | 3,000,000 ops/s | 600,000 ops/s (effection) | **5x** |  |");
  });
  it("lists what a bench adds about the machine, not what the top already says", () => {
    expect(md).toContain("- Reported by the bench: taskset=true.");
  });

  it("shows a failed bench with its error instead of figures", () => {
    expect(md).toContain("## ws — not measured");
    expect(md).toContain("Error: <boom> & more");
  });
  it("gives each bench's CPU steal and flags a contended run at the top", () => {
    const quiet = renderMarkdown({ ...sampleReport, outcomes: sampleReport.outcomes.map((o) => ({ ...o, steal: 0.02 })) });
    expect(quiet).toContain("- Took 61 s; CPU steal 2%.");
    expect(quiet).not.toContain("Contended run");
    const contended = renderMarkdown({ ...sampleReport, outcomes: sampleReport.outcomes.map((o, i) => ({ ...o, steal: i === 0 ? 0.51 : 0.02 })) });
    expect(contended).toContain("- Took 61 s; CPU steal 51% (contended: see the note at the top).");
    expect(contended.split("\n## ")[0]).toContain("**Contended run:** the hypervisor took 10% or more of the CPU time (steal) while http ran.");
    expect(renderSvg({ ...sampleReport, outcomes: [{ ...sampleReport.outcomes[0]!, steal: 0.51 }] })).toContain("Contended run: the hypervisor took up to 51% of the CPU time (steal) during a bench");
    expect(md).not.toContain("CPU steal");
  });
  it("counts targets met and failed benches", () => {
    expect(targetSummary(sampleReport)).toEqual({ met: 2, total: 3, failedBenches: 1 });
    expect(md).toContain("**Targets met:** 2 of 3 (1 bench failed; see below)");
  });
});

describe("renderSvg", () => {
  const svg = renderSvg(sampleReport);
  it("is well-formed enough to parse as XML-ish: balanced tags and escaped text", () => {
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    expect(svg).not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
    expect((svg.match(/<g>/g) ?? []).length).toBe((svg.match(/<\/g>/g) ?? []).length);
  });
  it("draws one bar per ratio, colored by its target", () => {
    const bars = [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="18" rx="3" fill="(#[0-9a-f]+)"/g)];
    expect(bars.map((b) => b[2])).toEqual(["#2b8a3e", "#2b8a3e", "#c92a2a", "#4263eb"]);
  });
  it("draws the 1x line and a marker per target", () => {
    expect(svg).toMatch(/<line [^>]*stroke="#212529" stroke-width="2"\/>/);
    const groups = svg.match(/<g>[\s\S]*?<\/g>/g) ?? [];
    expect(groups.filter((g) => g.includes('stroke-width="2.5"')).length).toBe(3);
    expect(svg).toContain("✓ target ≥ 12x node:http");
    expect(svg).toContain("✗ target ≤ 0.5x node:http");
  });
  it("places bars on a log scale: 2x as far right of 1x as 0.5x is left of it", () => {
    const report = {
      ...sampleReport,
      outcomes: [{ bench: "t", ok: true as const, exitCode: 0, seconds: 1, figures: { bench: "t", rows: [
        { name: "up", value: 2, unit: "x", baseline: { name: "b", value: 1 } },
        { name: "down", value: 1, unit: "x", baseline: { name: "b", value: 2 } },
      ] } }],
    };
    const bars = [...renderSvg(report).matchAll(/<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="18"/g)];
    const [up, down] = bars.map((b) => ({ x: Number(b[1]), w: Number(b[2]) }));
    expect(up!.w).toBeCloseTo(down!.w, 0);
    expect(up!.x).toBeCloseTo(down!.x + down!.w, 0); // both touch the 1x line
  });
  it("names each row's baseline under its label, so rows of one figure can be told apart", () => {
    expect(svg).toMatch(/>vs node:http</);
    expect(svg).toMatch(/>vs node:http · lower is better</);
  });
  it("keeps axis labels apart however wide the domain, always labelling 1x", () => {
    const report = {
      ...sampleReport,
      outcomes: [{ bench: "t", ok: true as const, exitCode: 0, seconds: 1, figures: { bench: "t", rows: [
        { name: "up", value: 300, unit: "x", baseline: { name: "b", value: 1 } },
        { name: "down", value: 1, unit: "x", baseline: { name: "b", value: 50 } },
      ] } }],
    };
    const ticks = [...renderSvg(report).matchAll(/<text x="([\d.]+)" y="80" text-anchor="middle"[^>]*>([^<]+)</g)];
    expect(ticks.map((t) => t[2])).toContain("1x");
    const xs = ticks.map((t) => Number(t[1]));
    for (let i = 1; i < xs.length; i++) expect(xs[i]! - xs[i - 1]!).toBeGreaterThanOrEqual(40);
  });
  it("says which bench was not measured", () => {
    expect(svg).toContain("not measured");
  });
  it("chooses a power-of-two domain holding 1x and every value", () => {
    expect(ratioDomain([12.6, 0.57])).toEqual([0.25, 16]);
    expect(ratioDomain([])).toEqual([0.5, 2]);
  });
});
