// A stand-in for pnpm in `npx pnpm start`: starts the demo (argv[2]) with the
// remaining arguments as its child, sharing this process's output, says the
// demo's pid, and waits.
import { spawn } from "node:child_process";

const [demo, ...args] = process.argv.slice(2);
const child = spawn(process.execPath, [demo, ...args], { stdio: "inherit" });
console.log(`starter: demo pid ${child.pid}`);
