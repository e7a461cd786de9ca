import { describe, expect, it } from "vitest";
import { RequestHeaders } from "../src/headers.js";
import { HttpParser, type MessageHead } from "../src/llhttp/index.js";

function headOf(text: string): MessageHead {
  let head: MessageHead | null = null;
  const parser = new HttpParser("request", { onHead: (h) => void (head = h), onBody() {}, onMessageComplete() {} });
  parser.execute(Buffer.from(text, "latin1"));
  parser.destroy();
  return head!;
}

describe("RequestHeaders", () => {
  const headers = new RequestHeaders(headOf(
    "GET / HTTP/1.1\r\nHost: a.example\r\nAccept: text/html\r\nX-Multi: one\r\nx-multi: two \r\nCookie: a=1\r\nCookie: b=2\r\nX-Latin: caf\xe9\r\n\r\n",
  ));

  it("looks names up ignoring case", () => {
    expect(headers.get("host")).toBe("a.example");
    expect(headers.get("HOST")).toBe("a.example");
    expect(headers.has("Accept")).toBe(true);
    expect(headers.has("accept-encoding")).toBe(false);
    expect(headers.get("missing")).toBeNull();
  });

  it("combines repeated fields with a comma and trims trailing whitespace", () => {
    expect(headers.get("x-multi")).toBe("one, two");
    expect(headers.getAll("cookie")).toEqual(["a=1", "b=2"]);
  });

  it("decodes values as latin1 (obs-text kept byte for byte)", () => {
    expect(headers.get("x-latin")).toBe("caf\u00e9");
  });

  it("iterates lower-case names in wire order and keeps raw names", () => {
    expect([...headers.keys()]).toEqual(["host", "accept", "x-multi", "x-multi", "cookie", "cookie", "x-latin"]);
    expect(headers.raw()[3]).toEqual(["x-multi", "two"]);
    expect(headers.size).toBe(7);
    expect(headers.toJSON()).toMatchObject({ host: "a.example", "x-multi": "one, two", cookie: "a=1, b=2" });
  });
});
