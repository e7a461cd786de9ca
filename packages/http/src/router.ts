/**
 * `Router`: method + path matching with `:params` and a trailing `*wildcard`,
 * answering 404 for unknown paths and 405 with an `Allow` field for known
 * paths with the wrong method (RFC 9110 §15.5.6). HEAD falls back to GET.
 *
 * Static paths are one Map lookup; patterns walk a segment trie.
 *
 * @module
 */
import type { App, Request, Response } from "./app.js";
import { TOKEN } from "./constants.js";
import { HttpError } from "./errors.js";
import { Prepared } from "./prepared.js";

const NOT_FOUND = Prepared.text(404, "Not Found\n");
const STANDARD_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"]);

interface Node {
  statics: Map<string, Node>;
  param: { name: string; node: Node } | null;
  wildcard: { name: string; methods: Map<string, App> } | null;
  methods: Map<string, App> | null;
}

function node(): Node {
  return { statics: new Map(), param: null, wildcard: null, methods: null };
}

function decode(segment: string): string {
  if (!segment.includes("%")) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError("HTTP_ERR_PARSE", `malformed percent-encoding in path segment ${JSON.stringify(segment)}`);
  }
}

/**
 * Routes requests to apps by method and path.
 *
 * @example
 * const router = new Router()
 *   .get("/", function* (req, res) { return res.text(200, "home"); })
 *   .get("/users/:id", function* (req, res) { return res.json(200, { id: req.params.id }); })
 *   .post("/files/*path", upload);
 * yield* serve({ port: 8080 }, router.app());
 */
export class Router {
  readonly #root: Node = node();
  readonly #statics = new Map<string, Map<string, App>>();
  readonly #notFound: App;

  /** `notFound` answers unmatched paths (default: a 404 text response). */
  constructor(options: { notFound?: App } = {}) {
    this.#notFound = options.notFound ?? (() => NOT_FOUND);
  }

  /**
   * Adds `app` for `method` (upper-case, or "*" for any) and `pattern`:
   * `/literal`, `/:param` (one segment) and a final `/*name` (the rest).
   */
  route(method: string, pattern: string, app: App): this {
    if (!pattern.startsWith("/")) throw new TypeError(`route pattern must start with "/": ${pattern}`);
    if (method !== "*" && !TOKEN.test(method)) throw new TypeError(`invalid method ${JSON.stringify(method)}`);
    // Methods are case-sensitive (RFC 9110 §9.1): "get" would never match a GET.
    if (method !== method.toUpperCase() && STANDARD_METHODS.has(method.toUpperCase())) {
      throw new TypeError(`methods are case-sensitive: ${JSON.stringify(method)} matches no ${method.toUpperCase()} request`);
    }
    const methods = this.#methodsFor(pattern);
    if (methods.has(method)) throw new TypeError(`duplicate route ${method} ${pattern}`);
    methods.set(method, app);
    return this;
  }

  /** Adds a GET route (also used for HEAD). */
  get(pattern: string, app: App): this {
    return this.route("GET", pattern, app);
  }
  /** Adds a POST route. */
  post(pattern: string, app: App): this {
    return this.route("POST", pattern, app);
  }
  /** Adds a PUT route. */
  put(pattern: string, app: App): this {
    return this.route("PUT", pattern, app);
  }
  /** Adds a PATCH route. */
  patch(pattern: string, app: App): this {
    return this.route("PATCH", pattern, app);
  }
  /** Adds a DELETE route. */
  delete(pattern: string, app: App): this {
    return this.route("DELETE", pattern, app);
  }
  /** Adds a route for every method. */
  all(pattern: string, app: App): this {
    return this.route("*", pattern, app);
  }

  /** The router as an app. */
  app(): App {
    return (req: Request, res: Response) => this.#dispatch(req, res);
  }

  #dispatch(req: Request, res: Response) {
    const path = req.path;
    const method = req.method;
    const statics = this.#statics.get(path);
    if (statics !== undefined) {
      const app = pick(statics, method);
      if (app !== undefined) return app(req, res);
    }
    // Patterns too when the literal route lacks the method: `GET /users/me`
    // must not hide `DELETE /users/:id` from `DELETE /users/me`.
    const seen: Map<string, App>[] = statics === undefined ? [] : [statics];
    const params: Record<string, string> = {};
    const app = this.#walk(this.#root, path.split("/"), 1, params, method, seen);
    if (app !== null) {
      req.params = params;
      return app(req, res);
    }
    if (seen.length === 0) return this.#notFound(req, res);
    // The path exists with other methods: 405, allowing every route's methods.
    const allow: string[] = [];
    for (const methods of seen) for (const m of methods.keys()) if (!allow.includes(m)) allow.push(m);
    if (allow.includes("GET") && !allow.includes("HEAD")) allow.push("HEAD");
    return res.text(405, "Method Not Allowed\n", { allow: allow.join(", ") });
  }

  #methodsFor(pattern: string): Map<string, App> {
    const segments = pattern.split("/").slice(1);
    if (!segments.some((s) => s.startsWith(":") || s.startsWith("*"))) {
      let m = this.#statics.get(pattern);
      if (m === undefined) this.#statics.set(pattern, (m = new Map()));
      return m;
    }
    let at = this.#root;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      if (seg.startsWith("*")) {
        if (i !== segments.length - 1) throw new TypeError(`a wildcard must be the last segment: ${pattern}`);
        at.wildcard ??= { name: seg.slice(1) || "wildcard", methods: new Map() };
        return at.wildcard.methods;
      }
      if (seg.startsWith(":")) {
        const name = seg.slice(1);
        if (at.param !== null && at.param.name !== name) throw new TypeError(`conflicting parameter names :${at.param.name} and :${name} in ${pattern}`);
        at.param ??= { name, node: node() };
        at = at.param.node;
      } else {
        let next = at.statics.get(seg);
        if (next === undefined) at.statics.set(seg, (next = node()));
        at = next;
      }
    }
    return (at.methods ??= new Map());
  }

  /**
   * Depth-first: a literal segment wins over a parameter, a parameter over a
   * wildcard; the first route for the path that takes `method` wins. Routes
   * for the path that do not take it are added to `seen` (for Allow).
   */
  #walk(at: Node, segments: string[], i: number, params: Record<string, string>, method: string, seen: Map<string, App>[]): App | null {
    if (i === segments.length) return at.methods === null ? null : pickOrNote(at.methods, method, seen);
    const seg = segments[i]!;
    const literal = at.statics.get(seg);
    if (literal !== undefined) {
      const found = this.#walk(literal, segments, i + 1, params, method, seen);
      if (found !== null) return found;
    }
    if (at.param !== null && seg !== "") {
      const found = this.#walk(at.param.node, segments, i + 1, params, method, seen);
      if (found !== null) {
        params[at.param.name] = decode(seg);
        return found;
      }
    }
    if (at.wildcard !== null) {
      const found = pickOrNote(at.wildcard.methods, method, seen);
      if (found !== null) params[at.wildcard.name] = segments.slice(i).map(decode).join("/");
      return found;
    }
    return null;
  }
}

/** The app of `methods` for `method`: its own, GET's for HEAD, or the any-method route's. */
function pick(methods: Map<string, App>, method: string): App | undefined {
  return methods.get(method) ?? (method === "HEAD" ? methods.get("GET") : undefined) ?? methods.get("*");
}

/** {@link pick}, noting `methods` in `seen` when it has no app for `method`. */
function pickOrNote(methods: Map<string, App>, method: string, seen: Map<string, App>[]): App | null {
  const app = pick(methods, method);
  if (app !== undefined) return app;
  seen.push(methods);
  return null;
}
