/**
 * The ceiling for any HTTP client benchmark: a plain `net` server that
 * counts request terminators (`\r\n\r\n`, also when split across reads)
 * and writes one canned response per request — no parsing, no routing.
 * Run as a child process (`--role=canned-server`) pinned to its own core;
 * it reports its port over IPC and answers `{ type: "stats" }` messages
 * with the requests it answered and its peak connection count.
 *
 * @module
 */
import net from "node:net";

/** The body every response carries (the load generator checks it). */
export const CANNED_BODY = "Hello, World!";
const RESPONSE = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${CANNED_BODY.length}\r\nContent-Type: text/plain\r\n\r\n${CANNED_BODY}`, "latin1");
const MAX_BATCH = 64;
/** `batches[n]`: n responses back to back, built once. */
const batches: Buffer[] = Array.from({ length: MAX_BATCH + 1 }, (_, n) => Buffer.concat(Array<Buffer>(n).fill(RESPONSE)));

/** Server-side figures. */
export interface CannedStats {
  requests: number;
  open: number;
  peakOpen: number;
}

/** Starts the server in this process; resolves with its port. */
export function startCannedServer(port = 0): Promise<{ port: number; stats: CannedStats }> {
  const stats: CannedStats = { requests: 0, open: 0, peakOpen: 0 };
  const server = net.createServer({ noDelay: true }, (socket) => {
    stats.open++;
    if (stats.open > stats.peakOpen) stats.peakOpen = stats.open;
    // How much of "\r\n\r\n" the previous read ended with (0–3).
    let matched = 0;
    socket.on("data", (d: Buffer) => {
      let n = 0;
      let m = matched;
      for (let i = 0; i < d.length; i++) {
        const c = d[i]!;
        if (c === 13) m = m === 2 ? 3 : 1;
        else if (c === 10 && m === 3) {
          n++;
          m = 0;
        } else if (c === 10 && m === 1) m = 2;
        else m = 0;
      }
      matched = m;
      if (n === 0) return;
      stats.requests += n;
      if (n <= MAX_BATCH) socket.write(batches[n]!);
      else {
        const parts: Buffer[] = [];
        for (let left = n; left > 0; left -= MAX_BATCH) parts.push(batches[Math.min(left, MAX_BATCH)]!);
        socket.write(Buffer.concat(parts));
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => stats.open--);
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    // A deep backlog (capped by net.core.somaxconn) for the 10,000-connection run.
    server.listen({ port, host: "127.0.0.1", backlog: 65_535 }, () => resolve({ port: (server.address() as net.AddressInfo).port, stats }));
  });
}

/** The child-process role: serve, report the port, answer stats requests, exit with the parent. */
export async function cannedServerChild(): Promise<void> {
  const { port, stats } = await startCannedServer();
  process.on("message", (msg: { type?: string }) => {
    if (msg.type === "stats") process.send!({ type: "stats", stats: { ...stats } });
  });
  process.on("disconnect", () => process.exit(0));
  process.send!({ type: "ready", port });
}
