#!/usr/bin/env node
const cli = new URL("../dist/cli/skein-load.js", import.meta.url); if (!(await import("node:fs")).existsSync(cli)) (await import("node:child_process")).execFileSync(process.execPath, [new URL("../../../scripts/build.mjs", import.meta.url).pathname], { stdio: "inherit" }); await import(cli.href);
