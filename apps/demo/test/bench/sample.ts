// Sample figures shaped like what the package benches print with --json.
import type { BenchReport } from "../../bench/figures.js";

export const sampleReport: BenchReport = {
  date: "2025-01-02T03:04:05.000Z",
  command: "pnpm bench",
  machine: { cpu: "Example CPU @ 2.0GHz", cores: 2, memoryBytes: 8 * 1024 ** 3, node: "v20.20.2", os: "linux x64" },
  outcomes: [
    {
      bench: "http",
      ok: true,
      exitCode: 0,
      seconds: 61.4,
      figures: {
        bench: "http",
        machine: { taskset: true, cpu: "Example CPU @ 2.0GHz", cores: 2 },
        rows: [
          { name: "plaintext, pipelined 16", value: 1_020_000, unit: "req/s", baseline: { name: "node:http", value: 81_000 }, target: { ratio: 12, of: "node:http" }, note: "wrk -c256 -t1" },
          { name: "plaintext, pipelined 16 | ceiling", value: 1_020_000, unit: "req/s", baseline: { name: "canned net", value: 1_800_000 }, target: { ratio: 0.55, of: "canned net" } },
          { name: "idle keep-alive memory", value: 7_000, unit: "B/conn", better: "lower", baseline: { name: "node:http", value: 12_000 }, target: { ratio: 0.5, of: "node:http" } },
        ],
      },
    },
    {
      bench: "core",
      ok: true,
      exitCode: 0,
      seconds: 12,
      figures: {
        bench: "core",
        rows: [
          { name: "spawn+join", value: 3_000_000, unit: "ops/s", baseline: { name: "effection", value: 600_000 }, ratio: 5 },
          { name: "sleep(0) round trips", value: 900_000, unit: "ops/s" },
        ],
      },
    },
    { bench: "ws", ok: false, exitCode: 1, seconds: 3, error: "Error: <boom> & more" },
  ],
};
