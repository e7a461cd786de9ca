#!/usr/bin/env node
// Installs what the test suite and benchmarks need from the system: wrk,
// curl, Chromium and Python's websockets (Debian packages). Runs apt-get only
// when something is missing; prints what it did. Set SKEIN_SKIP_SYSTEM_DEPS=1
// to skip (the tests that need a missing tool then fail and say which).
// Arguments narrow the set: `node scripts/system-deps.mjs wrk` only sees to wrk.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const wanted = [
  { pkg: "wrk", present: () => has("wrk") },
  { pkg: "curl", present: () => has("curl") },
  { pkg: "chromium", present: () => existsSync("/usr/bin/chromium") },
  {
    pkg: "python3-websockets",
    present: () => spawnSync("/usr/bin/python3", ["-c", "import websockets"], { stdio: "ignore" }).status === 0,
  },
];

function has(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

if (process.env.SKEIN_SKIP_SYSTEM_DEPS === "1") process.exit(0);
const only = process.argv.slice(2);
const unknown = only.filter((name) => !wanted.some((w) => w.pkg === name));
if (unknown.length) {
  console.error(`system-deps: unknown package(s) ${unknown.join(", ")}; known: ${wanted.map((w) => w.pkg).join(", ")}`);
  process.exit(2);
}
const missing = wanted.filter((w) => (only.length === 0 || only.includes(w.pkg)) && !w.present()).map((w) => w.pkg);
if (missing.length === 0) process.exit(0);

console.log(`system-deps: installing ${missing.join(", ")} with apt-get`);
const sudo = process.getuid && process.getuid() !== 0 ? ["sudo"] : [];
const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
const run = (args) => execFileSync(sudo[0] ?? args[0], sudo.length ? args : args.slice(1), { stdio: "inherit", env });
run(["apt-get", "update", "-q"]);
run(["apt-get", "install", "-y", "-q", "--no-install-recommends", ...missing]);
const still = wanted.filter((w) => missing.includes(w.pkg) && !w.present()).map((w) => w.pkg);
if (still.length) {
  console.error(`system-deps: still missing after install: ${still.join(", ")}`);
  process.exit(1);
}
