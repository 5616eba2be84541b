/**
 * Routing: `Router` (for `serve()`-style handlers) and `EventRouter` (for
 * the event API), sharing one segment tree with typed parameters, plus the
 * query, form and multipart helpers their handlers use.
 *
 * @module
 */

import type { Connection } from "./connection.ts";
import { MG_EV_HTTP_MSG } from "./constants.ts";
import type { HttpMessage } from "./http.ts";
import { ServeRequest } from "./request.ts";

/**
 * Path parameters of a match: strings, or numbers for `{int}` parameters.
 *
 * @example
 * ```ts
 * const p: Params = { id: "abc", n: 42 };
 * ```
 */
export type Params = Record<string, string | number>;

type ParamType = 0 | 1 | 2 | 3; // any, int, uuid, date

/** A route's handler with the names and types of its parameters, in order. */
interface Leaf<H> {
  h: H;
  names: string[];
  types: ParamType[];
  /** Builds the params object from the matched values. */
  build: (vals: string[]) => Params;
}

/**
 * A function making the params object of a route, as one object literal
 * (constant keys: a fixed shape, no per-key stores). Where the runtime
 * forbids code generation, a loop does the same.
 */
function paramsBuilder(names: string[], types: ParamType[]): (vals: string[]) => Params {
  const loop = (vals: string[]): Params => {
    const params: Params = {};
    for (let i = 0; i < names.length; i++) {
      Object.defineProperty(params, names[i], {
        value: types[i] === 1 ? Number(vals[i]) : vals[i],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return params;
  };
  // Names are [A-Za-z0-9_]+ or "*" (checked by add()); JSON.stringify quotes them
  const fields = names.map((n, i) =>
    // A computed key makes "__proto__" an own property, as the loop does not
    `${n === "__proto__" ? `["__proto__"]` : JSON.stringify(n)}: ${
      types[i] === 1 ? `Number(v[${i}])` : `v[${i}]`
    }`
  );
  try {
    return new Function("v", `return { ${fields.join(", ")} };`) as (vals: string[]) => Params;
  } catch {
    return loop;
  }
}

function leafOf<H>(h: H, names: string[], types: ParamType[]): Leaf<H> {
  return { h, names, types, build: paramsBuilder(names, types) };
}

interface Node<H> {
  /** Literal segments of the children (parallel to `fixedNodes`). */
  fixedKeys: string[];
  /** Children by literal segment. */
  fixedNodes: Node<H>[];
  /** Parameter children, tried in the order they were added. */
  params: Array<{ name: string; type: ParamType; node: Node<H> }> | undefined;
  /** A trailing `*` (the rest of the path, as param "*"). */
  rest: Methods<H> | undefined;
  /** Handlers by method ("*": any method). */
  handlers: Methods<H> | undefined;
}

/** The leaves of one node by method: GET and POST in fields (no hashing). */
class Methods<H> {
  get: Leaf<H> | undefined = undefined;
  post: Leaf<H> | undefined = undefined;
  /** "*": any method. */
  any: Leaf<H> | undefined = undefined;
  other: Map<string, Leaf<H>> | undefined = undefined;
  set(method: string, leaf: Leaf<H>): void {
    if (method === "GET") this.get = leaf;
    else if (method === "POST") this.post = leaf;
    else if (method === "*") this.any = leaf;
    else (this.other ??= new Map()).set(method, leaf);
  }
}

function newNode<H>(): Node<H> {
  return { fixedKeys: [], fixedNodes: [], params: undefined, rest: undefined, handlers: undefined };
}

const TYPES: Record<string, ParamType> = { int: 1, uuid: 2, date: 3 };

/**
 * What the path scan in `walk` counts per character (by code, below 128):
 * digits in the low byte, hex letters in the next, then '-', then '%'.
 */
const CLASS = new Uint32Array(128);
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = 1;
for (const ch of "abcdefABCDEF") CLASS[ch.charCodeAt(0)] = 1 << 8;
CLASS[0x2d] = 1 << 16;
CLASS[0x25] = 1 << 24;

/** The CLASS counts of the characters of `s` (a decoded segment). */
function countOf(s: string): number {
  let counts = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch < 128) counts += CLASS[ch];
  }
  return counts;
}

/**
 * Whether the `n` characters of `s` at `at`, whose CLASS counts are
 * `counts`, fit parameter type `t`: decided from the counts and a few
 * characters (checked in place: `charCodeAt` on the path itself is cheaper
 * than on a slice of it). Each type is checked for its length first (at
 * most 36), so a count is used only where it is exact (a byte overflows
 * past 255).
 */
function fits(s: string, at: number, n: number, t: ParamType, counts: number): boolean {
  if (t === 0) return n > 0;
  const digits = counts & 0xff, hex = (counts >>> 8) & 0xff, dashes = (counts >>> 16) & 0xff;
  switch (t) {
    case 1:
      return n > 0 && n <= 16 &&
        (digits === n || (n > 1 && digits === n - 1 && dashes === 1 && s.charCodeAt(at) === 0x2d));
    case 2: {
      if (
        n !== 36 || digits + hex !== 32 || s.charCodeAt(at + 8) !== 0x2d ||
        s.charCodeAt(at + 13) !== 0x2d ||
        s.charCodeAt(at + 18) !== 0x2d || s.charCodeAt(at + 23) !== 0x2d
      ) return false;
      const v = s.charCodeAt(at + 14), r = s.charCodeAt(at + 19) | 0x20;
      return v >= 0x31 && v <= 0x38 && (r === 0x38 || r === 0x39 || r === 0x61 || r === 0x62);
    }
    default:
      return n === 10 && digits === 8 && dashes === 2 && s.charCodeAt(at + 4) === 0x2d &&
        s.charCodeAt(at + 7) === 0x2d && realDate(s, at);
  }
}

/** The number of the ASCII digits of `s` in [from, to). */
function digits(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + s.charCodeAt(i) - 0x30;
  return v;
}

/** Whether YYYY-MM-DD at `at` (digits and dashes in place) is a calendar day. */
function realDate(s: string, at: number): boolean {
  const y = digits(s, at, at + 4), m = digits(s, at + 5, at + 7), d = digits(s, at + 8, at + 10);
  if (m < 1 || m > 12 || d < 1) return false;
  if (m === 2) return d <= (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28);
  return d <= (m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31);
}

function decodeSeg(s: string): string {
  if (s.indexOf("%") < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * A match of {@link RouteTable.match}.
 *
 * @example
 * ```ts
 * const m = router.match("GET", "/items/1");
 * if (m !== null) console.log(m.params);
 * ```
 */
export interface RouteMatch<H> {
  /** The route's handler. */
  handler: H;
  /** Its path parameters. */
  params: Params;
}

/**
 * The leaf for `method` and `path` (its parameter values in SCRATCH, for
 * `leaf.build`), or null: `match` without the RouteMatch object.
 */
let findLeaf: <H>(t: RouteTable<H>, method: string, path: string) => Leaf<H> | null;

/**
 * The route table behind {@link Router} and {@link EventRouter}: patterns of
 * literal segments, parameters (`:name`, typed `:name{int}`,
 * `:name{uuid}`, `:name{date}`) and a trailing `*`. Literal segments win
 * over parameters; parameters are tried in the order they were added.
 * Matching walks the path once, without splitting it or using regular
 * expressions.
 *
 * @example
 * ```ts
 * const t = new RouteTable<string>();
 * t.add("GET", "/users/:id{int}", "user");
 * t.match("GET", "/users/42"); // { handler: "user", params: { id: 42 } }
 * ```
 */
export class RouteTable<H> {
  #root: Node<H> = newNode<H>();

  static {
    findLeaf = <T>(t: RouteTable<T>, method: string, path: string): Leaf<T> | null =>
      walk(t.#root, method, path, 1, SCRATCH, 0);
  }

  /**
   * Adds a route; `method` `"*"` matches any method. Throws TypeError for a
   * pattern that does not start with '/' or an unknown parameter type.
   *
   * @example
   * ```ts
   * table.add("GET", "/files/*", h);
   * ```
   */
  add(method: string, pattern: string, handler: H): this {
    if (!pattern.startsWith("/")) throw new TypeError(`route must start with '/': ${pattern}`);
    let node = this.#root;
    const segs = pattern.slice(1).split("/");
    const names: string[] = [], types: ParamType[] = [];
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i];
      if (seg === "*" && i === segs.length - 1) {
        names.push("*");
        types.push(0);
        (node.rest ??= new Methods()).set(method.toUpperCase(), leafOf(handler, names, types));
        return this;
      }
      if (seg.startsWith(":")) {
        const m = /^:([A-Za-z0-9_]+)(?:\{(\w+)\})?$/.exec(seg);
        if (m === null) throw new TypeError(`bad parameter ${seg} in ${pattern}`);
        const type = m[2] === undefined ? 0 : TYPES[m[2]];
        if (type === undefined) {
          throw new TypeError(`unknown parameter type {${m[2]}} in ${pattern}`);
        }
        node.params ??= [];
        let p = node.params.find((x) => x.name === m[1] && x.type === type);
        if (p === undefined) {
          p = { name: m[1], type, node: newNode<H>() };
          node.params.push(p);
        }
        node = p.node;
        names.push(m[1]);
        types.push(type);
      } else {
        const at = node.fixedKeys.indexOf(seg);
        if (at >= 0) {
          node = node.fixedNodes[at];
        } else {
          const next = newNode<H>();
          node.fixedKeys.push(seg);
          node.fixedNodes.push(next);
          node = next;
        }
      }
    }
    (node.handlers ??= new Methods()).set(method.toUpperCase(), leafOf(handler, names, types));
    return this;
  }

  /**
   * The handler and parameters for `method` and `path` (without the query
   * string), or null. HEAD falls back to GET routes.
   *
   * @example
   * ```ts
   * const m = table.match("GET", "/users/42");
   * ```
   */
  match(method: string, path: string): RouteMatch<H> | null {
    const leaf = findLeaf(this, method, path);
    if (leaf === null) return null;
    return { handler: leaf.h, params: leaf.build(SCRATCH) };
  }
}

/**
 * Depth-first walk; `vals` gets the parameter values on the way down.
 * Literal segments are compared in place (no slicing, no hashing).
 */
function walk<H>(
  node: Node<H>,
  method: string,
  path: string,
  pos: number,
  vals: string[],
  nv: number,
): Leaf<H> | null {
  const n = path.length;
  if (pos > n) return pick(node.handlers, method) ?? null;
  // The segment [pos, end), found with charCodeAt (indexOf calls out of
  // JIT code). `counts`: how many digits, hex letters, '-' and '%' it has
  // (CLASS, a byte each), from which the parameter types are decided
  // without a second pass; `pct` notes an escape to decode
  let end = pos, counts = 0;
  for (; end < n; end++) {
    const ch = path.charCodeAt(end);
    if (ch === 0x2f) break;
    if (ch < 128) counts += CLASS[ch];
  }
  const pct = end - pos > 255 ? path.slice(pos, end).indexOf("%") >= 0 : counts >>> 24 !== 0;
  const len = end - pos;
  const keys = node.fixedKeys;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k.length !== len) continue;
    let j = 0;
    while (j < len && k.charCodeAt(j) === path.charCodeAt(pos + j)) j++;
    if (j === len) {
      const r = walk(node.fixedNodes[i], method, path, end + 1, vals, nv);
      if (r !== null) return r;
      break;
    }
  }
  const ps = node.params;
  if (ps !== undefined && len > 0) {
    // An escaped segment is checked decoded; a plain one in place, and
    // sliced only once a parameter takes it
    const dec = pct ? decodeSeg(path.slice(pos, end)) : undefined;
    let v: string | undefined = dec;
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i];
      if (
        dec !== undefined
          ? !fits(dec, 0, dec.length, p.type, countOf(dec))
          : !fits(path, pos, len, p.type, counts)
      ) {
        continue;
      }
      v ??= path.slice(pos, end);
      vals[nv] = v;
      const r = walk(p.node, method, path, end + 1, vals, nv + 1);
      if (r !== null) return r;
    }
  }
  if (node.rest !== undefined) {
    const leaf = pick(node.rest, method);
    if (leaf !== undefined) {
      vals[nv] = decodeSeg(path.slice(pos));
      return leaf;
    }
  }
  return null;
}

/** The parameter values of the match in progress (matching is synchronous). */
const SCRATCH: string[] = new Array<string>(64).fill("");

function pick<H>(m: Methods<H> | undefined, method: string): Leaf<H> | undefined {
  if (m === undefined) return undefined;
  let leaf = method === "GET" ? m.get : method === "POST" ? m.post : m.other?.get(method);
  if (leaf === undefined && method === "HEAD") leaf = m.get;
  return leaf ?? m.any;
}

// ---- decoding helpers ------------------------------------------------------------

/**
 * Decodes form/query text: '+' is a space, %XX escapes (bad ones stay).
 *
 * @example
 * ```ts
 * formDecode("a+b%21"); // "a b!"
 * ```
 */
export function formDecode(s: string): string {
  const t = s.indexOf("+") >= 0 ? s.replace(/\+/g, " ") : s;
  if (t.indexOf("%") < 0) return t;
  try {
    return decodeURIComponent(t);
  } catch {
    return t;
  }
}

/**
 * Splits `a=1&b=2` (a query string or an `application/x-www-form-urlencoded`
 * body) into a record, decoding names and values; a repeated name keeps its
 * last value.
 *
 * @example
 * ```ts
 * parseVars("q=a+b&n=1"); // { q: "a b", n: "1" }
 * ```
 */
export function parseVars(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const n = s.length;
  let start = 0;
  while (start < n) {
    let end = s.indexOf("&", start);
    if (end < 0) end = n;
    if (end > start) {
      const eq = s.indexOf("=", start);
      if (eq >= 0 && eq < end) {
        out[formDecode(s.slice(start, eq))] = formDecode(s.slice(eq + 1, end));
      } else {
        out[formDecode(s.slice(start, end))] = "";
      }
    }
    start = end + 1;
  }
  return out;
}

/**
 * One part of a `multipart/form-data` body.
 *
 * @example
 * ```ts
 * for (const p of parseMultipart(body, type)) console.log(p.name, p.body.length);
 * ```
 */
export interface MultipartPart {
  /** The form field name. */
  name: string;
  /** The file name ("" for a plain field). */
  filename: string;
  /** The part's bytes (a view into the body). */
  body: Uint8Array;
}

const latin1 = new TextDecoder("latin1");

/**
 * Splits a `multipart/form-data` body (RFC 7578) into its parts, given the
 * request's `Content-Type` (which carries the boundary). Returns [] for a
 * body it cannot parse.
 *
 * @example
 * ```ts
 * const parts = parseMultipart(body, "multipart/form-data; boundary=xyz");
 * ```
 */
export function parseMultipart(body: Uint8Array, contentType: string): MultipartPart[] {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (m === null) return [];
  const delim = new TextEncoder().encode("--" + (m[1] ?? m[2]));
  const parts: MultipartPart[] = [];
  let pos = indexOf(body, delim, 0);
  while (pos >= 0) {
    pos += delim.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break; // closing delimiter
    if (body[pos] === 0x0d) pos++;
    if (body[pos] === 0x0a) pos++;
    const headEnd = indexOf(body, CRLF2, pos);
    if (headEnd < 0) break;
    const head = latin1.decode(body.subarray(pos, headEnd));
    const start = headEnd + 4;
    const next = indexOf(body, delim, start);
    if (next < 0) break;
    let end = next;
    if (end >= 2 && body[end - 2] === 0x0d && body[end - 1] === 0x0a) end -= 2;
    const name = /\bname="([^"]*)"/i.exec(head)?.[1] ?? "";
    const filename = /\bfilename="([^"]*)"/i.exec(head)?.[1] ?? "";
    parts.push({ name, filename, body: body.subarray(start, end) });
    pos = next;
  }
  return parts;
}

const CRLF2 = new Uint8Array([13, 10, 13, 10]);

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const n = needle.length, first = needle[0], last = hay.length - n;
  for (let i = hay.indexOf(first, from); i >= 0 && i <= last; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < n && hay[i + j] === needle[j]) j++;
    if (j === n) return i;
  }
  return -1;
}

// ---- Router (fetch style) ----------------------------------------------------------

/**
 * What a {@link Router} handler gets besides the request.
 *
 * @example
 * ```ts
 * router.get("/items/:id", (_req, ctx) => Response.json({ id: ctx.params.id }));
 * ```
 */
export interface RouteContext {
  /** The path parameters. */
  params: Params;
  /** The query string, without '?' ("" if none). */
  search: string;
  /** The query variables, decoded (computed on first use). */
  readonly query: Record<string, string>;
}

/**
 * A {@link Router} handler.
 *
 * @example
 * ```ts
 * const h: RouteHandler = (req, ctx) => new Response(`${req.method} ${ctx.params.id}`);
 * ```
 */
export type RouteHandler = (
  req: Request,
  ctx: RouteContext,
) => Response | Promise<Response>;

class Ctx implements RouteContext {
  params: Params;
  search: string;
  #query: Record<string, string> | undefined;
  constructor(params: Params, search: string) {
    this.params = params;
    this.search = search;
  }
  get query(): Record<string, string> {
    return (this.#query ??= parseVars(this.search));
  }
}

const NOT_FOUND_HEADERS = { "Content-Type": "application/json" };

/**
 * A router for `(request) => Response` handlers: use `router.fetch` as the
 * handler of {@link serve} (or anywhere a fetch handler goes). Unmatched
 * requests get `404 {"error":"Not Found"}` (or `notFound`'s response).
 *
 * @example
 * ```ts
 * import { Router, serve } from "@wasmgoose/wasmgoose";
 *
 * const router = new Router()
 *   .get("/users/:id{int}", (_req, { params }) => Response.json({ id: params.id }))
 *   .post("/echo", async (req) => Response.json(await req.json()));
 * serve(router.fetch);
 * ```
 */
export class Router extends RouteTable<RouteHandler> {
  /** The response for unmatched requests. */
  notFound: RouteHandler = () =>
    new Response('{"error":"Not Found"}', { status: 404, headers: NOT_FOUND_HEADERS });

  /**
   * Adds a GET (and HEAD) route.
   *
   * @example
   * ```ts
   * router.get("/", () => new Response("home"));
   * ```
   */
  get(pattern: string, h: RouteHandler): this {
    return this.add("GET", pattern, h);
  }

  /**
   * Adds a POST route.
   *
   * @example
   * ```ts
   * router.post("/items", async (req) => Response.json(await req.json(), { status: 201 }));
   * ```
   */
  post(pattern: string, h: RouteHandler): this {
    return this.add("POST", pattern, h);
  }

  /**
   * Adds a PUT route.
   *
   * @example
   * ```ts
   * router.put("/items/:id", () => new Response(null, { status: 204 }));
   * ```
   */
  put(pattern: string, h: RouteHandler): this {
    return this.add("PUT", pattern, h);
  }

  /**
   * Adds a PATCH route.
   *
   * @example
   * ```ts
   * router.patch("/items/:id", () => new Response(null, { status: 204 }));
   * ```
   */
  patch(pattern: string, h: RouteHandler): this {
    return this.add("PATCH", pattern, h);
  }

  /**
   * Adds a DELETE route.
   *
   * @example
   * ```ts
   * router.delete("/items/:id", () => new Response(null, { status: 204 }));
   * ```
   */
  delete(pattern: string, h: RouteHandler): this {
    return this.add("DELETE", pattern, h);
  }

  /**
   * Adds a route for every method.
   *
   * @example
   * ```ts
   * router.all("/ping", () => new Response("pong"));
   * ```
   */
  all(pattern: string, h: RouteHandler): this {
    return this.add("*", pattern, h);
  }

  /**
   * The fetch handler (bound: pass it as is).
   *
   * @example
   * ```ts
   * serve(router.fetch);
   * ```
   */
  fetch = (req: Request): Response | Promise<Response> => {
    if (req instanceof ServeRequest) { // serve()'s: path and query at hand
      const search = req._query;
      const leaf = findLeaf(this, req.method, req._path);
      if (leaf === null) return this.notFound(req, new Ctx({}, search));
      return leaf.h(req, new Ctx(leaf.build(SCRATCH), search));
    }
    const url = req.url;
    // The path starts at the first '/' after "scheme://host"
    let p = url.indexOf("/", url.indexOf("//") + 2);
    if (p < 0) p = url.length;
    let q = url.indexOf("?", p);
    if (q < 0) q = url.length;
    const hash = url.indexOf("#", p);
    const path = p === url.length ? "/" : url.slice(p, q);
    const search = q < url.length ? url.slice(q + 1, hash > q ? hash : url.length) : "";
    const leaf = findLeaf(this, req.method, path);
    if (leaf === null) return this.notFound(req, new Ctx({}, search));
    return leaf.h(req, new Ctx(leaf.build(SCRATCH), search));
  };
}

// ---- EventRouter (event API) ---------------------------------------------------------

/**
 * What an {@link EventRouter} handler gets: the connection, the message
 * (valid during the call only, as in every event handler), the parameters
 * and lazy parsers.
 *
 * @example
 * ```ts
 * router.get("/items/:id", (ctx) => ctx.conn.replyJson({ id: ctx.params.id }));
 * ```
 */
export interface EventRouteContext {
  /** The connection to answer on. */
  conn: Connection;
  /** The request (valid during the call only). */
  hm: HttpMessage;
  /** The path parameters. */
  params: Params;
  /** The query variables, decoded. */
  query(): Record<string, string>;
  /** The url-encoded form body, decoded. */
  form(): Record<string, string>;
  /** The body parsed as JSON (throws SyntaxError for bad JSON). */
  json(): unknown;
  /** The parts of a multipart/form-data body (views valid during the call). */
  multipart(): MultipartPart[];
}

/**
 * An {@link EventRouter} handler.
 *
 * @example
 * ```ts
 * const h: EventRouteHandler = (ctx) => ctx.conn.reply(200, "ok");
 * ```
 */
export type EventRouteHandler = (ctx: EventRouteContext) => void;

class ECtx implements EventRouteContext {
  conn: Connection;
  hm: HttpMessage;
  params: Params;
  constructor(conn: Connection, hm: HttpMessage, params: Params) {
    this.conn = conn;
    this.hm = hm;
    this.params = params;
  }
  query(): Record<string, string> {
    // Split and decoded in C (mg_http_split_vars), cut from one string:
    // measured faster than in TypeScript for queries on Deno
    return this.hm.queryVars();
  }
  form(): Record<string, string> {
    return parseVars(this.hm.text);
  }
  json(): unknown {
    return JSON.parse(this.hm.text);
  }
  multipart(): MultipartPart[] {
    return parseMultipart(this.hm.body, this.hm.header("content-type") ?? "");
  }
}

const JSON_HEADERS = Object.freeze({ "Content-Type": "application/json" });

/**
 * A router for the event API: `router.handler` is an event handler for
 * `Manager.listen` that dispatches `MG_EV_HTTP_MSG` by method and path.
 * Unmatched requests get `404 {"error":"Not Found"}`; a handler that throws
 * gets a 500 (by the Manager).
 *
 * @example
 * ```ts
 * import { EventRouter, Manager, MG_EV_HTTP_MSG } from "@wasmgoose/wasmgoose";
 *
 * const router = new EventRouter()
 *   .get("/users/:id{int}", (ctx) => ctx.conn.replyJson({ id: ctx.params.id }))
 *   .post("/form", (ctx) => ctx.conn.replyJson(ctx.form()));
 * new Manager().listen("http://0.0.0.0:8000", router.handler, { events: [MG_EV_HTTP_MSG] });
 * ```
 */
export class EventRouter extends RouteTable<EventRouteHandler> {
  /**
   * Adds a GET (and HEAD) route.
   *
   * @example
   * ```ts
   * router.get("/", (ctx) => ctx.conn.reply(200, "home"));
   * ```
   */
  get(pattern: string, h: EventRouteHandler): this {
    return this.add("GET", pattern, h);
  }

  /**
   * Adds a POST route.
   *
   * @example
   * ```ts
   * router.post("/items", (ctx) => ctx.conn.replyJson(ctx.json(), 201));
   * ```
   */
  post(pattern: string, h: EventRouteHandler): this {
    return this.add("POST", pattern, h);
  }

  /**
   * Adds a PUT route.
   *
   * @example
   * ```ts
   * router.put("/items/:id", (ctx) => ctx.conn.reply(204));
   * ```
   */
  put(pattern: string, h: EventRouteHandler): this {
    return this.add("PUT", pattern, h);
  }

  /**
   * Adds a DELETE route.
   *
   * @example
   * ```ts
   * router.delete("/items/:id", (ctx) => ctx.conn.reply(204));
   * ```
   */
  delete(pattern: string, h: EventRouteHandler): this {
    return this.add("DELETE", pattern, h);
  }

  /**
   * Adds a route for every method.
   *
   * @example
   * ```ts
   * router.all("/ping", (ctx) => ctx.conn.reply(200, "pong"));
   * ```
   */
  all(pattern: string, h: EventRouteHandler): this {
    return this.add("*", pattern, h);
  }

  /**
   * The event handler (bound: pass it as is). Only `MG_EV_HTTP_MSG` is used.
   *
   * @example
   * ```ts
   * mgr.listen("http://0.0.0.0:8000", router.handler, { events: [MG_EV_HTTP_MSG] });
   * ```
   */
  handler = (c: Connection, ev: number, data: unknown): void => {
    if (ev !== MG_EV_HTTP_MSG) return;
    const hm = data as HttpMessage;
    const leaf = findLeaf(this, hm.method, hm.uri);
    if (leaf === null) {
      c.reply(404, '{"error":"Not Found"}', JSON_HEADERS);
      return;
    }
    leaf.h(new ECtx(c, hm, leaf.build(SCRATCH)));
  };
}
