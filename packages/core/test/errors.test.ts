import { describe, expect, it } from "vitest";
import {
  Cancelled, ConnectError, ConnectionClosedError, ConnectionError, ConnectionResetError, isPeerGone, TimeoutError,
} from "../src/index.js";

describe("isPeerGone", () => {
  it("is true for the ways a conversation ends: a reset, a closed connection, any failure of an established one", () => {
    expect(isPeerGone(new ConnectionResetError("ECONNRESET"))).toBe(true);
    expect(isPeerGone(new ConnectionClosedError())).toBe(true);
    expect(isPeerGone(new ConnectionError("SKEIN_ERR_CONN", "socket timed out", "ETIMEDOUT"))).toBe(true);
  });

  it("is false for a failed connect, a closed listener, timeouts, cancellation and plain errors", () => {
    expect(isPeerGone(new ConnectError("connect ECONNREFUSED", "ECONNREFUSED"))).toBe(false);
    expect(isPeerGone(new ConnectionError("SKEIN_ERR_LISTENER_CLOSED", "listener closed"))).toBe(false);
    expect(isPeerGone(new TimeoutError(10))).toBe(false);
    expect(isPeerGone(new Cancelled({}))).toBe(false);
    expect(isPeerGone(new Error("boom"))).toBe(false);
    expect(isPeerGone(undefined)).toBe(false);
  });

  it("takes another protocol's error that says so (peerGone: true), and an AggregateError of nothing else", () => {
    const closed = Object.assign(new Error("send on a closed socket"), { peerGone: true });
    expect(isPeerGone(closed)).toBe(true);
    expect(isPeerGone(new AggregateError([closed, new ConnectionResetError("EPIPE")]))).toBe(true);
    expect(isPeerGone(new AggregateError([closed, new Error("bug")]))).toBe(false);
    expect(isPeerGone(new AggregateError([]))).toBe(false);
  });
});
