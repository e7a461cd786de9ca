import { describe, expect, it } from "vitest";
import { HttpError, HttpParseError } from "../../src/errors.js";
import { HttpParser, PARSER_STATE, type MessageHead, type ParserLimits } from "../../src/llhttp/index.js";

interface Message {
  method: string;
  target: string;
  status: number;
  version: string;
  keepAlive: boolean;
  upgrade: boolean;
  contentLength: number;
  headers: [string, string][];
  body: string;
}

/** Feeds `chunks` in order and returns everything the parser reported. */
function parse(chunks: Buffer[], kind: "request" | "response" = "request", limits: Partial<ParserLimits> = {}, skipBody = false) {
  const messages: Message[] = [];
  let current: Message | null = null;
  const parser = new HttpParser(kind, {
    onHead(head: MessageHead) {
      const headers: [string, string][] = [];
      for (let i = 0; i < head.headerCount; i++) headers.push([head.name(i), head.value(i)]);
      current = {
        method: kind === "request" ? head.methodName : "", target: head.target, status: head.status,
        version: `${head.versionMajor}.${head.versionMinor}`, keepAlive: head.keepAlive,
        upgrade: head.upgrade, contentLength: head.contentLength, headers, body: "",
      };
      return skipBody;
    },
    onBody(chunk) {
      current!.body += chunk.toString("latin1");
    },
    onMessageComplete() {
      messages.push(current!);
      current = null;
    },
  }, limits);
  let leftover = "";
  let error: HttpError | null = null;
  try {
    for (const chunk of chunks) {
      const used = parser.execute(chunk);
      leftover += chunk.subarray(used).toString("latin1");
    }
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    error = e;
  }
  const state = parser.state;
  parser.destroy();
  return { messages, leftover, error, state };
}

const bytes = (s: string) => Buffer.from(s, "latin1");

/** Every way to cut `s` in two, plus one byte at a time. */
function splits(s: string): Buffer[][] {
  const b = bytes(s);
  const out: Buffer[][] = [[b]];
  for (let i = 1; i < b.length; i++) out.push([b.subarray(0, i), b.subarray(i)]);
  out.push([...b].map((x) => Buffer.from([x])));
  return out;
}

const REQUESTS: Record<string, string> = {
  "a GET with headers": "GET /search?q=skein&x=%20 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\nAccept: */*\r\nX-Empty:\r\nX-Space:   padded value  \r\n\r\n",
  "a POST with Content-Length": "POST /submit HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world",
  "a chunked POST with an extension and a trailer": "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;name=v\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
  "an HTTP/1.0 request": "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
  "three pipelined requests": "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
};

describe("HttpParser", () => {
  for (const [name, request] of Object.entries(REQUESTS)) {
    it(`reports the same events for ${name} at every split offset and one byte at a time`, () => {
      const whole = parse([bytes(request)]);
      expect(whole.error).toBeNull();
      expect(whole.messages.length).toBeGreaterThan(0);
      for (const chunks of splits(request)) {
        const split = parse(chunks);
        expect(split.error).toBeNull();
        expect(split.messages).toEqual(whole.messages);
      }
    });
  }

  it("decodes method, target, version, headers and keep-alive", () => {
    const { messages } = parse([bytes(REQUESTS["a GET with headers"]!)]);
    expect(messages).toEqual([{
      method: "GET", target: "/search?q=skein&x=%20", status: 0, version: "1.1", keepAlive: true,
      upgrade: false, contentLength: -1, body: "",
      headers: [["Host", "example.com"], ["User-Agent", "test/1.0"], ["Accept", "*/*"], ["X-Empty", ""], ["X-Space", "padded value"]],
    }]);
  });

  it("parses every pipelined message in one buffer, with bodies", () => {
    const { messages } = parse([bytes(REQUESTS["three pipelined requests"]!)]);
    expect(messages.map((m) => [m.method, m.target, m.body, m.keepAlive, m.contentLength])).toEqual([
      ["GET", "/1", "", true, -1], ["POST", "/2", "abc", true, 3], ["GET", "/3", "", false, -1],
    ]);
  });

  it("joins chunked bodies and skips trailers", () => {
    const { messages } = parse([bytes(REQUESTS["a chunked POST with an extension and a trailer"]!)]);
    expect(messages[0]!.body).toBe("hello world");
    expect(messages[0]!.headers.map((h) => h[0])).toEqual(["Host", "Transfer-Encoding"]);
  });

  it("discards bytes after a Connection: close message (RFC 9112 §9.6)", () => {
    const text = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /evil HTTP/1.1\r\n\r\n";
    const r = parse([bytes(text)]);
    expect(r.error).toBeNull();
    expect(r.messages.map((m) => m.target)).toEqual(["/"]);
    expect(r.state).toBe(PARSER_STATE.CLOSED);
    expect(r.leftover).toBe("");
  });

  describe("upgrade", () => {
    const upgrade = "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
    it("pauses after an Upgrade head and hands back the offset of the leftover bytes", () => {
      const r = parse([bytes(upgrade + "\x81\x05hello")]);
      expect(r.state).toBe(PARSER_STATE.UPGRADED);
      expect(r.messages[0]!.upgrade).toBe(true);
      expect(r.leftover).toBe("\x81\x05hello");
    });
    it("hands back the same leftover bytes at every split offset", () => {
      for (const chunks of splits(upgrade + "LEFTOVER")) {
        const r = parse(chunks);
        expect(r.state).toBe(PARSER_STATE.UPGRADED);
        expect(r.leftover).toBe("LEFTOVER");
        expect(r.messages).toHaveLength(1);
      }
    });
    it("is reusable after an upgrade (pooled parsers are not lost to WebSockets), and parses as new", () => {
      const targets: string[] = [];
      const events = { onHead: (h: MessageHead) => void targets.push(h.target), onBody: () => {}, onMessageComplete: () => {} };
      const parser = new HttpParser("request", events);
      parser.execute(bytes(upgrade + "LEFTOVER"));
      expect(parser.state).toBe(PARSER_STATE.UPGRADED);
      expect(parser.reusable).toBe(true);
      parser.reuse(events);
      expect(parser.state).toBe(PARSER_STATE.READY);
      const next = bytes("GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
      expect(parser.execute(next)).toBe(next.length);
      expect(targets).toEqual(["/ws", "/next"]);
      parser.destroy();
      expect(parser.reusable).toBe(false);
    });
    it("is not reusable in the middle of a message", () => {
      const parser = new HttpParser("request", { onHead: () => {}, onBody: () => {}, onMessageComplete: () => {} });
      parser.execute(bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab"));
      expect(parser.reusable).toBe(false);
      parser.destroy();
    });
    it("treats CONNECT as a takeover too", () => {
      const r = parse([bytes("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01")]);
      expect(r.state).toBe(PARSER_STATE.UPGRADED);
      expect(r.messages[0]!.method).toBe("CONNECT");
      expect(r.leftover).toBe("\x16\x03\x01");
    });
  });

  it("pauses after a message when asked and continues from the returned offset", () => {
    const text = REQUESTS["three pipelined requests"]!;
    const seen: string[] = [];
    const parser = new HttpParser("request", {
      onHead: (h) => void seen.push(h.target),
      onBody: () => {},
      onMessageComplete: () => true,
    });
    let rest = bytes(text);
    const offsets: number[] = [];
    while (rest.length > 0 && parser.state !== PARSER_STATE.CLOSED) {
      const used = parser.execute(rest);
      offsets.push(used);
      expect(parser.state).toBe(PARSER_STATE.PAUSED);
      parser.resume();
      rest = rest.subarray(used);
    }
    parser.destroy();
    expect(seen).toEqual(["/1", "/2", "/3"]);
    expect(offsets).toEqual([text.indexOf("POST"), text.indexOf("GET /3") - text.indexOf("POST"), text.length - text.indexOf("GET /3")]);
  });

  describe("rejects request-smuggling shapes and malformed input", () => {
    const cases: [string, string, string, string][] = [
      ["both Transfer-Encoding and Content-Length (RFC 9112 §6.3)", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "HTTP_ERR_PARSE", "HPE_INVALID_TRANSFER_ENCODING"],
      ["duplicate differing Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "HTTP_ERR_PARSE", "HPE_UNEXPECTED_CONTENT_LENGTH"],
      ["a Content-Length list", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd", "HTTP_ERR_PARSE", "HPE_INVALID_CONTENT_LENGTH"],
      ["a negative Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", "HTTP_ERR_PARSE", "HPE_INVALID_CONTENT_LENGTH"],
      ["an invalid chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n", "HTTP_ERR_PARSE", "HPE_INVALID_CHUNK_SIZE"],
      ["an overflowing chunk size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", "HTTP_ERR_PARSE", "HPE_INVALID_CHUNK_SIZE"],
      ["Transfer-Encoding not ending in chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "HTTP_ERR_PARSE", "HPE_INVALID_TRANSFER_ENCODING"],
      ["obs-fold (RFC 9112 §5.2)", "GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", "HTTP_ERR_PARSE", "HPE_INVALID_HEADER_TOKEN"],
      ["a space in a header name", "GET / HTTP/1.1\r\nHo st: a\r\n\r\n", "HTTP_ERR_PARSE", "HPE_INVALID_HEADER_TOKEN"],
      ["whitespace before the colon (RFC 9112 §5.1)", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", "HTTP_ERR_PARSE", "HPE_INVALID_HEADER_TOKEN"],
      ["a bad method token", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP_ERR_PARSE", "HPE_INVALID_METHOD"],
      ["a control byte in the target", "GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", "HTTP_ERR_PARSE", "HPE_INVALID_URL"],
      ["a NUL in a header value", "GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", "HTTP_ERR_PARSE", "HPE_INVALID_HEADER_TOKEN"],
      ["a bare LF line ending", "GET / HTTP/1.1\nHost: a\n\n", "HTTP_ERR_PARSE", "HPE_INVALID_VERSION"],
      ["a bad protocol name", "GET / HTTPX/1.1\r\nHost: a\r\n\r\n", "HTTP_ERR_PARSE", "HPE_INVALID_CONSTANT"],
      ["HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", "HTTP_ERR_VERSION_NOT_SUPPORTED", "HPE_INVALID_VERSION"],
      ["HTTP/3.0", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", "HTTP_ERR_VERSION_NOT_SUPPORTED", "HPE_INVALID_VERSION"],
    ];
    for (const [name, text, code, llhttpError] of cases) {
      it(`rejects ${name} with ${code} at every split offset`, () => {
        for (const chunks of splits(text)) {
          const r = parse(chunks);
          expect(r.error).toBeInstanceOf(HttpParseError);
          expect(r.error!.code).toBe(code);
          expect((r.error as HttpParseError).llhttpError).toBe(llhttpError);
          expect(r.state).toBe(PARSER_STATE.FAILED);
        }
      });
    }

    it("rejects versions llhttp accepts but HTTP/1.x servers must not (HTTP/2.0, HTTP/0.9) with 505", () => {
      for (const v of ["2.0", "0.9"]) {
        const r = parse([bytes(`GET / HTTP/${v}\r\nHost: a\r\n\r\n`)]);
        expect(r.error?.code).toBe("HTTP_ERR_VERSION_NOT_SUPPORTED");
        expect(r.error?.status).toBe(505);
      }
    });

    it("gives the status each error puts on the wire", () => {
      expect(parse([bytes(cases[0]![1])]).error!.status).toBe(400);
      expect(parse([bytes("GET / HTTP/1.2\r\n\r\n")]).error!.status).toBe(505);
    });

    it("keeps rejecting after a failure", () => {
      const parser = new HttpParser("request", { onHead() {}, onBody() {}, onMessageComplete() {} });
      expect(() => parser.execute(bytes("GE(T / HTTP/1.1\r\n\r\n"))).toThrow(HttpParseError);
      expect(() => parser.execute(bytes("GET / HTTP/1.1\r\n\r\n"))).toThrow(HttpParseError);
      parser.destroy();
    });
  });

  describe("limits", () => {
    const big = `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"v".repeat(300)}\r\n\r\n`;
    it("rejects a head over maxHeadBytes with 431, whole or fed byte by byte", () => {
      for (const chunks of [[bytes(big)], [...bytes(big)].map((x) => Buffer.from([x]))]) {
        const r = parse(chunks, "request", { maxHeadBytes: 256 });
        expect(r.error?.code).toBe("HTTP_ERR_HEADERS_TOO_LARGE");
        expect(r.error?.status).toBe(431);
      }
      expect(parse([bytes(big)], "request", { maxHeadBytes: 512 }).error).toBeNull();
    });
    it("counts whitespace padding that llhttp does not report as a span", () => {
      const padded = `GET / HTTP/1.1\r\nHost: a\r\nX:${" ".repeat(600)}v\r\n\r\n`;
      const halves = [bytes(padded.slice(0, 300)), bytes(padded.slice(300))];
      expect(parse(halves, "request", { maxHeadBytes: 512 }).error?.code).toBe("HTTP_ERR_HEADERS_TOO_LARGE");
    });
    it("rejects more than maxHeaderCount fields with 431", () => {
      const many = "GET / HTTP/1.1\r\n" + Array.from({ length: 11 }, (_, i) => `H${i}: v\r\n`).join("") + "\r\n";
      expect(parse([bytes(many)], "request", { maxHeaderCount: 10 }).error?.code).toBe("HTTP_ERR_TOO_MANY_HEADERS");
      expect(parse([bytes(many)], "request", { maxHeaderCount: 11 }).error).toBeNull();
    });
    it("rejects a declared Content-Length over maxBodyBytes before any body byte arrives", () => {
      const r = parse([bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n")], "request", { maxBodyBytes: 10 });
      expect(r.error?.code).toBe("HTTP_ERR_BODY_TOO_LARGE");
      expect(r.error?.status).toBe(413);
    });
    it("rejects a chunked body that grows past maxBodyBytes", () => {
      const text = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nghijkl\r\n0\r\n\r\n";
      expect(parse([bytes(text)], "request", { maxBodyBytes: 10 }).error?.code).toBe("HTTP_ERR_BODY_TOO_LARGE");
      expect(parse([bytes(text)], "request", { maxBodyBytes: 12 }).error).toBeNull();
    });
  });

  describe("end of input", () => {
    it("rejects a request cut short with HTTP_ERR_UNEXPECTED_EOF", () => {
      const parser = new HttpParser("request", { onHead() {}, onBody() {}, onMessageComplete() {} });
      parser.execute(bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab"));
      expect(() => parser.finish()).toThrow(expect.objectContaining({ code: "HTTP_ERR_UNEXPECTED_EOF" }));
      parser.destroy();
    });
    it("accepts EOF between requests", () => {
      const parser = new HttpParser("request", { onHead() {}, onBody() {}, onMessageComplete() {} });
      parser.execute(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
      expect(() => parser.finish()).not.toThrow();
      parser.destroy();
    });
  });

  describe("response mode", () => {
    const responses = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiHTTP/1.1 204 No Content\r\nX: y\r\n\r\nHTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n";
    it("reads status, reason, headers and bodies at every split offset", () => {
      const whole = parse([bytes(responses)], "response");
      expect(whole.messages.map((m) => [m.status, m.target, m.body])).toEqual([[200, "OK", "hi"], [204, "No Content", ""], [404, "Not Found", "abc"]]);
      for (const chunks of splits(responses)) expect(parse(chunks, "response").messages).toEqual(whole.messages);
    });
    it("skips the body of a response to HEAD when told to", () => {
      const r = parse([bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")], "response", {}, true);
      expect(r.messages.map((m) => [m.status, m.contentLength, m.body])).toEqual([[200, 5, ""], [200, 5, ""]]);
    });
    it("completes a body delimited by connection close at finish()", () => {
      const done: string[] = [];
      let body = "";
      const parser = new HttpParser("response", { onHead() {}, onBody: (c) => void (body += c), onMessageComplete: () => void done.push(body) });
      parser.execute(bytes("HTTP/1.1 200 OK\r\n\r\nuntil the end"));
      expect(done).toEqual([]);
      parser.finish();
      expect(done).toEqual(["until the end"]);
      parser.destroy();
    });
  });
});

describe("wasm layout", () => {
  it("finds method and version in llhttp's struct of the pinned undici (fast path; getters otherwise)", async () => {
    const { headLayout } = await import("../../src/llhttp/wasm.js");
    expect(headLayout()).toBeGreaterThanOrEqual(0);
  });
});
