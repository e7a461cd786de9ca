import { once } from "node:events";
import net from "node:net";
import { Event, serve, spawn, type Conn, type Operation, type ServeOptions, type Task } from "@skein/core";

/** Starts `serve` on port 0 in a child task; returns the task and the bound port once listening. */
export function* startServer(handler: (conn: Conn) => Operation<unknown>, options: ServeOptions = {}): Generator<unknown, { task: Task<void>; port: number; path?: string }, any> {
  const up = new Event();
  let port = 0;
  let path: string | undefined;
  const task = yield* spawn(serve({ port: 0, ...options, onListening: (a) => { port = a.port; path = a.path; up.set(); } }, handler), { name: "server" });
  yield* up.wait();
  return { task, port, path };
}

/** A raw `net` client that collects everything it receives. */
export async function rawClient(port: number): Promise<{ socket: net.Socket; received: () => Buffer; ended: Promise<unknown> }> {
  const socket = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
  await once(socket, "connect");
  const chunks: Buffer[] = [];
  socket.on("data", (d) => chunks.push(d));
  const ended = once(socket, "end");
  return { socket, received: () => Buffer.concat(chunks), ended };
}
