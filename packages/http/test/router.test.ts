// Route definitions the router refuses up front (dispatch is in contract.test.ts).
import { describe, expect, it } from "vitest";
import type { Request, Response } from "../src/app.js";
import { Router } from "../src/router.js";

const ok = (_req: Request, res: Response) => res.text(200, "ok");

describe("Router definitions", () => {
  it("refuses a pattern without a leading slash and a duplicate route", () => {
    expect(() => new Router().get("items", ok)).toThrow(/must start with "\/"/);
    expect(() => new Router().get("/a", ok).get("/a", ok)).toThrow(/duplicate route GET \/a/);
  });

  it("refuses a lower-case standard method, which would never match (methods are case-sensitive)", () => {
    expect(() => new Router().route("get", "/a", ok)).toThrow(/case-sensitive.*GET/);
    // Before: accepted, then every GET /a was a 405 with "Allow: get".
  });

  it("refuses a method that is not a token, and takes any other token and * as given", () => {
    expect(() => new Router().route("GET /", "/a", ok)).toThrow(/invalid method/);
    expect(() => new Router().route("PROPFIND", "/a", ok).route("purge", "/a", ok).route("*", "/b", ok)).not.toThrow();
  });

  it("refuses a wildcard that is not the last segment and two names for one parameter", () => {
    expect(() => new Router().get("/a/*rest/b", ok)).toThrow(/wildcard must be the last segment/);
    expect(() => new Router().get("/u/:id", ok).get("/u/:name/x", ok)).toThrow(/conflicting parameter names/);
  });
});
