import { describe, expect, it } from "vitest";
import { httpDate } from "../src/date.js";
import { errorResponse, PREBUILT_STATUSES } from "../src/error-responses.js";
import { HttpError } from "../src/errors.js";
import { Prepared } from "../src/prepared.js";
import { buildHead, FRAMING, NO_FIELDS, serializeFields } from "../src/response-head.js";
import { statusLine, statusText } from "../src/status.js";

const DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

describe("response heads", () => {
  it("writes the status line, fields, framing, Date and the blank line", () => {
    const head = buildHead(200, serializeFields({ "content-type": "text/plain", "set-cookie": ["a=1", "b=2"] }), FRAMING.LENGTH, 5, "keep");
    expect(head).toBe(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nset-cookie: a=1\r\nset-cookie: b=2\r\nContent-Length: 5\r\nDate: ${httpDate()}\r\n\r\n`);
  });

  it("uses chunked framing and Connection fields as asked", () => {
    expect(buildHead(201, NO_FIELDS, FRAMING.CHUNKED, 0, "close")).toBe(`HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nDate: ${httpDate()}\r\nConnection: close\r\n\r\n`);
    expect(buildHead(204, NO_FIELDS, FRAMING.NONE, 0, "keep-alive")).toBe(`HTTP/1.1 204 No Content\r\nDate: ${httpDate()}\r\nConnection: keep-alive\r\n\r\n`);
  });

  it("keeps a handler's own Content-Length, Date and Connection: close without duplicates", () => {
    const fields = serializeFields([["Content-Length", "3"], ["Date", "x"], ["Connection", "close"]]);
    expect(fields).toMatchObject({ contentLength: 3, hasDate: true, close: true });
    expect(buildHead(200, fields, FRAMING.LENGTH, 3, "close")).toBe("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nDate: x\r\nConnection: close\r\n\r\n");
  });

  it("rejects values that could split the response and bad names", () => {
    const code = (f: () => unknown) => { try { f(); } catch (e) { return (e as HttpError).code; } return "none"; };
    expect(code(() => serializeFields({ "x-a": "ok\r\nInjected: yes" }))).toBe("HTTP_ERR_INVALID_RESPONSE");
    expect(code(() => serializeFields({ "x-a": "nul\0" }))).toBe("HTTP_ERR_INVALID_RESPONSE");
    expect(code(() => serializeFields({ "bad name": "v" }))).toBe("HTTP_ERR_INVALID_RESPONSE");
    expect(code(() => serializeFields({ "content-length": "1x" }))).toBe("HTTP_ERR_INVALID_RESPONSE");
    expect(code(() => serializeFields([["content-length", "1"], ["Content-Length", "1"]]))).toBe("HTTP_ERR_INVALID_RESPONSE");
    expect(code(() => serializeFields({ "transfer-encoding": "gzip" }))).toBe("HTTP_ERR_INVALID_RESPONSE");
    expect(code(() => buildHead(99, NO_FIELDS, FRAMING.NONE, 0, "keep"))).toBe("HTTP_ERR_INVALID_RESPONSE");
    expect(code(() => serializeFields({ "x-ok": "tab\tand obs-text \xff" }))).toBe("none");
    // A prepared response's content type is a field value too (the constructor is public).
    expect(code(() => new Prepared(200, "text/plain\r\nX-Injected: yes", "ok", NO_FIELDS, false))).toBe("HTTP_ERR_INVALID_RESPONSE");
    expect(code(() => new Prepared(200, "text/csv; charset=latin1", "a,b", NO_FIELDS, false))).toBe("none");
  });

  it("knows reason phrases and caches status lines", () => {
    expect(statusText(431)).toBe("Request Header Fields Too Large");
    expect(statusLine(599)).toBe("HTTP/1.1 599 \r\n");
    expect(statusLine(404)).toBe(statusLine(404));
  });

  it("formats Date as an IMF-fixdate", () => {
    expect(httpDate()).toMatch(DATE);
    expect(Math.abs(Date.parse(httpDate()) - Date.now())).toBeLessThan(2000);
  });

  it("prebuilds a closing response per error status", () => {
    for (const status of PREBUILT_STATUSES) {
      const text = errorResponse(status).toString("latin1");
      expect(text).toBe(`HTTP/1.1 ${status} ${statusText(status)}\r\nContent-Length: 0\r\nConnection: close\r\nDate: ${httpDate()}\r\n\r\n`);
    }
    expect(errorResponse(400)).toBe(errorResponse(400));
  });
});
