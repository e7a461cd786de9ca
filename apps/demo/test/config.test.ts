import os from "node:os";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig, urlOf } from "../src/config.js";

describe("parseConfig", () => {
  it("defaults to 127.0.0.1:8080, one process, the server's own limits", () => {
    expect(parseConfig([], {})).toEqual({ host: "127.0.0.1", port: 8080, workers: 1, limits: {} });
  });

  it("takes PORT and HOST from the environment", () => {
    expect(parseConfig([], { PORT: "9000", HOST: "0.0.0.0" })).toMatchObject({ host: "0.0.0.0", port: 9000 });
  });

  it("lets flags override the environment", () => {
    expect(parseConfig(["--port", "0", "--host=::1"], { PORT: "9000", HOST: "0.0.0.0" })).toMatchObject({ host: "::1", port: 0 });
  });

  it("maps every limit flag onto @skein/http's limit names", () => {
    const config = parseConfig(
      ["--headers-timeout", "1000", "--request-timeout=2000", "--keep-alive-timeout", "3000", "--max-header-size", "4096", "--max-body-size", "0"],
      {},
    );
    expect(config).toMatchObject({
      limits: { headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 3000, maxHeadBytes: 4096, maxBodyBytes: 0 },
    });
  });

  it("reads --workers, with 0 meaning one per core", () => {
    expect(parseConfig(["--workers", "3"], {})).toMatchObject({ workers: 3 });
    expect(parseConfig(["--workers", "0"], {})).toMatchObject({ workers: os.availableParallelism() });
  });

  it("skips a `--` (npm needs one before script flags; pnpm passes it on)", () => {
    expect(parseConfig(["--", "--port", "9000", "--workers=2"], {})).toMatchObject({ port: 9000, workers: 2 });
  });

  it("returns help for --help", () => {
    expect(parseConfig(["--port", "1", "--help"], {})).toBe("help");
  });

  const problem = (argv: string[], env = {}) => {
    try {
      parseConfig(argv, env);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return { option: (e as ConfigError).option, problem: (e as ConfigError).problem };
    }
    throw new Error("accepted");
  };

  it.each([
    [["--port"], "--port", "missing-value"],
    [["--port", "-1"], "--port", "not-an-integer"],
    [["--port", "65536"], "--port", "out-of-range"],
    [["--max-body-size", "1e6"], "--max-body-size", "not-an-integer"],
    [["--verbose"], "--verbose", "unknown-option"],
    [["--workers", "5000"], "--workers", "out-of-range"],
    [["--host="], "--host", "empty"],
  ])("rejects %j", (argv, option, why) => {
    expect(problem(argv)).toEqual({ option, problem: why });
  });

  it("names PORT when the environment variable is bad", () => {
    expect(problem([], { PORT: "http" })).toEqual({ option: "PORT", problem: "not-an-integer" });
  });
});

describe("urlOf", () => {
  it("brackets IPv6 addresses", () => {
    expect(urlOf("127.0.0.1", 80)).toBe("http://127.0.0.1:80");
    expect(urlOf("::1", 8080)).toBe("http://[::1]:8080");
  });
});
