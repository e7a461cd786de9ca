/** Test servers on loopback port 0: node:http, and raw `net` for exact bytes. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestServer {
  port: number;
  url: string;
  /** Connections accepted so far. */
  connections: number;
  /** Sockets currently open. */
  open: Set<net.Socket>;
  close(): Promise<void>;
}

function track(server: net.Server, scheme: string): Promise<TestServer> {
  const open = new Set<net.Socket>();
  const s: TestServer = {
    port: 0,
    url: "",
    connections: 0,
    open,
    close: () =>
      new Promise((resolve) => {
        for (const sock of open) sock.destroy();
        server.close(() => resolve());
      }),
  };
  server.on(scheme === "https" ? "secureConnection" : "connection", (sock: net.Socket) => {
    s.connections++;
    open.add(sock);
    sock.on("error", () => {}); // clients that discard a connection reset it
    sock.on("close", () => open.delete(sock));
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      s.port = (server.address() as AddressInfo).port;
      s.url = `${scheme}://127.0.0.1:${s.port}`;
      resolve(s);
    });
  });
}

/** A node:http server running `handler`. */
export function nodeServer(handler: http.RequestListener): Promise<TestServer> {
  return track(http.createServer(handler), "http");
}

/** A node:https server running `handler`. */
export function nodeHttpsServer(key: string, cert: string, handler: http.RequestListener): Promise<TestServer> {
  return track(https.createServer({ key, cert }, handler), "https");
}

/** A raw TCP server: `onConnection` gets each socket. */
export function rawServer(onConnection: (socket: net.Socket) => void): Promise<TestServer> {
  return track(net.createServer({ allowHalfOpen: true }, onConnection), "http");
}

/** Splits `data` arriving on `socket` into request heads (ends of "\r\n\r\n"), for bodiless requests. */
export function onRequests(socket: net.Socket, fn: (head: string, index: number) => void): void {
  let buf = "";
  let n = 0;
  socket.on("data", (d) => {
    buf += d.toString("latin1");
    let i;
    while ((i = buf.indexOf("\r\n\r\n")) >= 0) {
      const head = buf.slice(0, i);
      buf = buf.slice(i + 4);
      fn(head, n++);
    }
  });
}

/** A port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Resolves when `predicate()` holds, polling on I/O turns (no wall-clock sleeps). */
export async function until(predicate: () => boolean, what: string, maxTurns = 100_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (predicate()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never happened: ${what}`);
}

/** A throw-away self-signed certificate for localhost and 127.0.0.1 (made with openssl). */
export function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "skein-tls-"));
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], { stdio: "ignore" });
  const pems = { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  rmSync(dir, { recursive: true, force: true });
  return pems;
}
