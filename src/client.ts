/**
 * `request()`: a whole HTTP/1.1 request over a {@link Manager}'s client
 * connections (`mg_http_connect`), with keep-alive reuse per origin.
 *
 * @module
 */

import { type Connection, connInternals } from "./connection.ts";
import {
  MG_EV_CLOSE,
  MG_EV_CONNECT,
  MG_EV_ERROR,
  MG_EV_HTTP_MSG,
  MG_EV_READ,
} from "./constants.ts";
import type { HttpMessage } from "./http.ts";
import { Manager } from "./manager.ts";
import { httpxExports } from "./multipart.ts";
import type { TlsOptions } from "./types.ts";
import { caList } from "./host/tls.ts";

/**
 * Options of {@link request}.
 *
 * @example
 * ```ts
 * const opts: RequestOptions = {
 *   method: "POST",
 *   headers: { "Content-Type": "application/json" },
 *   body: JSON.stringify({ a: 1 }),
 *   timeout: 5000,
 * };
 * ```
 */
export interface RequestOptions {
  /** The method (default `GET`, or `POST` when there is a body). */
  method?: string;
  /** Request headers (no CR, LF or NUL). `Host` and `Content-Length` are set for you. */
  headers?: Record<string, string> | Array<[string, string]> | Headers;
  /** The request body; sent with a `Content-Length`. */
  body?: string | Uint8Array;
  /** Aborts the request: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Milliseconds until the whole response must be in (default 30000; 0: none). */
  timeout?: number;
  /** Basic authentication (also taken from `user:pass@` in the URL). */
  auth?: { user: string; pass: string };
  /** TLS settings of an `https://` request (e.g. `ca` for a self-signed server). */
  tls?: TlsOptions;
  /**
   * The Manager whose connections carry the request (default: one shared
   * Manager, created on first use).
   */
  manager?: Manager;
  /**
   * Keep the connection open for the next request to the same origin (default
   * true); idle connections close after {@link IDLE_TIMEOUT_MS}.
   */
  keepAlive?: boolean;
}

/**
 * The response of {@link request}: the status, the headers and the whole
 * body (a copy, valid after the promise resolved).
 *
 * @example
 * ```ts
 * const res = await request("http://127.0.0.1:8000/api");
 * if (res.status === 200) console.log(res.json());
 * ```
 */
export interface HttpResponse {
  /** The status code, e.g. 200. */
  readonly status: number;
  /** The reason phrase, e.g. `"OK"`. */
  readonly statusText: string;
  /** The response headers. */
  readonly headers: Headers;
  /** The body (chunked bodies decoded). */
  readonly body: Uint8Array;
  /** The body decoded as UTF-8. */
  text(): string;
  /** The body parsed as JSON. */
  json(): unknown;
}

/**
 * How long an idle kept-alive connection stays open (milliseconds).
 *
 * @example
 * ```ts
 * console.log(`idle connections close after ${IDLE_TIMEOUT_MS} ms`);
 * ```
 */
export const IDLE_TIMEOUT_MS = 2000;
const DEFAULT_TIMEOUT_MS = 30000;
const BAD_NAME = /[^!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const BAD_VALUE = /[\r\n\0]/;
const utf8 = new TextDecoder();

class Response implements HttpResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly body: Uint8Array;
  constructor(status: number, statusText: string, headers: Headers, body: Uint8Array) {
    this.status = status;
    this.statusText = statusText;
    this.headers = headers;
    this.body = body;
  }
  text(): string {
    return utf8.decode(this.body);
  }
  json(): unknown {
    return JSON.parse(this.text());
  }
}

/** A request waiting for its response. */
interface Pending {
  head: string;
  body: string | Uint8Array | undefined;
  isHead: boolean;
  keepAlive: boolean;
  resolve(res: HttpResponse): void;
  reject(e: unknown): void;
  /** Sent on a kept-alive connection: may be retried once if it closes at once. */
  reused: boolean;
  retry(): void;
}

/** One client connection of the pool. */
class Client {
  conn: Connection | undefined;
  key: string;
  connected = false;
  pending: Pending | undefined;
  gotBytes = false;
  error: string | undefined;
  idle: ReturnType<typeof setTimeout> | undefined;
  constructor(key: string) {
    this.key = key;
  }
}

let shared: Manager | undefined;
/** Idle connections per Manager and origin. */
const pools = new WeakMap<Manager, Map<string, Client[]>>();

function poolOf(mgr: Manager, key: string): Client[] {
  let m = pools.get(mgr);
  if (m === undefined) pools.set(mgr, m = new Map());
  let list = m.get(key);
  if (list === undefined) m.set(key, list = []);
  return list;
}

function unpool(mgr: Manager, cl: Client): void {
  const list = pools.get(mgr)?.get(cl.key);
  const i = list === undefined ? -1 : list.indexOf(cl);
  if (i >= 0) (list as Client[]).splice(i, 1);
  if (cl.idle !== undefined) clearTimeout(cl.idle);
  cl.idle = undefined;
}

/**
 * Closes the idle kept-alive connections of `manager` (default: the shared
 * Manager of {@link request}).
 *
 * @example
 * ```ts
 * await request("http://127.0.0.1:8000/");
 * closeIdleConnections();
 * ```
 */
export function closeIdleConnections(manager?: Manager): void {
  const mgr = manager ?? shared;
  if (mgr === undefined) return;
  const m = pools.get(mgr);
  if (m === undefined) return;
  for (const list of m.values()) {
    for (const cl of list.splice(0)) {
      if (cl.idle !== undefined) clearTimeout(cl.idle);
      cl.idle = undefined;
      if (cl.conn?.isAlive) cl.conn.close();
    }
  }
}

function headerList(h: RequestOptions["headers"]): Array<[string, string]> {
  if (h === undefined) return [];
  if (Array.isArray(h)) return h;
  if (h instanceof Headers) return Array.from(h.entries());
  return Object.entries(h);
}

function basic(user: string, pass: string): string {
  const bytes = new TextEncoder().encode(`${user}:${pass}`);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return "Basic " + btoa(bin);
}

/**
 * Sends one HTTP/1.1 request and resolves with the whole response. The
 * connection comes from a {@link Manager} (`opts.manager`, or one shared
 * Manager); connections to the same origin are kept alive and reused
 * (`opts.keepAlive`), and closed after {@link IDLE_TIMEOUT_MS} idle.
 * `http://` and `https://` (TLS by the runtime; `opts.tls.ca` for a private
 * CA). Responses framed by `Content-Length`, chunked or by the close are
 * read; the body may be up to 3 MiB (`MG_MAX_RECV_SIZE`). Redirects are not
 * followed: a 3xx is returned as is (see its `location` header).
 *
 * Rejects with an Error for a connection failure (e.g. refused), a
 * malformed or oversized response, a connection closed before the response,
 * the timeout (`name` `"TimeoutError"`), or the signal's reason when aborted;
 * throws TypeError for a bad URL, method or header.
 *
 * @example
 * ```ts
 * import { request } from "@wasmgoose/wasmgoose";
 *
 * const res = await request("http://127.0.0.1:8000/items", {
 *   method: "POST",
 *   headers: { "Content-Type": "application/json" },
 *   body: JSON.stringify({ name: "x" }),
 * });
 * console.log(res.status, res.headers.get("content-type"), res.json());
 * ```
 */
export function request(url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new TypeError(`invalid URL: ${url}`));
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    return Promise.reject(new TypeError(`not an http:// or https:// URL: ${url}`));
  }
  const method = opts.method ?? (opts.body !== undefined ? "POST" : "GET");
  if (method.length === 0 || BAD_NAME.test(method)) {
    return Promise.reject(new TypeError(`invalid method ${JSON.stringify(method)}`));
  }
  const keepAlive = opts.keepAlive !== false;
  let head = `${method} ${u.pathname}${u.search} HTTP/1.1\r\n`;
  const names = new Set<string>();
  for (const [k, v] of headerList(opts.headers)) {
    const lk = k.toLowerCase();
    if (k.length === 0 || BAD_NAME.test(k) || BAD_VALUE.test(v)) {
      return Promise.reject(new TypeError(`invalid header ${JSON.stringify(k)}`));
    }
    if (lk === "content-length" || lk === "transfer-encoding") continue;
    names.add(lk);
    head += `${k}: ${v}\r\n`;
  }
  if (!names.has("host")) head = head.replace("\r\n", `\r\nHost: ${u.host}\r\n`);
  const auth = opts.auth ??
    (u.username !== ""
      ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) }
      : undefined);
  if (auth !== undefined && !names.has("authorization")) {
    head += `Authorization: ${basic(auth.user, auth.pass)}\r\n`;
  }
  const body = opts.body;
  const blen = body === undefined
    ? 0
    : typeof body === "string"
    ? new TextEncoder().encode(body).length
    : body.length;
  if (body !== undefined || method === "POST" || method === "PUT" || method === "PATCH") {
    head += `Content-Length: ${blen}\r\n`;
  }
  if (!keepAlive && !names.has("connection")) head += "Connection: close\r\n";
  head += "\r\n";

  const mgr = opts.manager ??
    (shared !== undefined && !shared.closed ? shared : shared = new Manager());
  const tls = opts.tls;
  const port = u.port !== "" ? u.port : u.protocol === "https:" ? "443" : "80";
  const target = `${u.protocol}//${u.hostname}:${port}`;
  // Connections are shared by requests to the same origin that trust the same CAs
  const key = `${target}#${caList(tls).join("")}`;
  const signal = opts.signal;
  const timeout = opts.timeout ?? DEFAULT_TIMEOUT_MS;

  return new Promise<HttpResponse>((resolve, reject) => {
    let done = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let cl: Client | undefined;
    const finish = (): void => {
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const fail = (e: unknown): void => {
      if (done) return;
      finish();
      const c = cl;
      if (c !== undefined && c.pending === p) {
        c.pending = undefined;
        if (c.conn?.isAlive) c.conn.close();
      }
      reject(e);
    };
    const onAbort = (): void => fail(signal?.reason ?? new Error("aborted"));
    const p: Pending = {
      head,
      body,
      isHead: method === "HEAD",
      keepAlive,
      reused: false,
      resolve: (res) => {
        if (done) return;
        finish();
        resolve(res);
      },
      reject: fail,
      retry: () => {
        if (done) return;
        p.reused = false;
        try {
          cl = start(mgr, key, target, tls, p, false);
        } catch (e) {
          fail(e);
        }
      },
    };
    if (signal?.aborted) {
      reject(signal.reason ?? new Error("aborted"));
      return;
    }
    signal?.addEventListener("abort", onAbort);
    if (timeout > 0) {
      timer = setTimeout(() => {
        const e = new Error(`request to ${url} timed out after ${timeout} ms`);
        e.name = "TimeoutError";
        fail(e);
      }, timeout);
    }
    try {
      cl = start(mgr, key, target, tls, p, keepAlive);
    } catch (e) {
      fail(e);
    }
  });
}

/** Sends `p` on an idle pooled connection (when `reuse`) or a new one. */
function start(
  mgr: Manager,
  key: string,
  target: string,
  tls: TlsOptions | undefined,
  p: Pending,
  reuse: boolean,
): Client {
  if (reuse) {
    const list = poolOf(mgr, key);
    for (;;) {
      const cl = list.pop();
      if (cl === undefined) break;
      if (cl.idle !== undefined) clearTimeout(cl.idle);
      cl.idle = undefined;
      if (cl.conn === undefined || !cl.conn.isAlive || cl.conn.isClosing) continue;
      p.reused = true;
      send(cl, p);
      return cl;
    }
  }
  const cl = new Client(key);
  cl.pending = p;
  cl.conn = mgr.connect(target, (c, ev, data) => onEvent(mgr, cl, c, ev, data), {
    events: [MG_EV_CONNECT, MG_EV_READ, MG_EV_HTTP_MSG, MG_EV_ERROR, MG_EV_CLOSE],
    ...(tls !== undefined ? { tls } : {}),
  });
  if (!cl.conn.isAlive && cl.pending === p) {
    cl.pending = undefined;
    throw new Error(`cannot connect to ${target}${cl.error ? `: ${cl.error}` : ""}`);
  }
  return cl;
}

function send(cl: Client, p: Pending): void {
  const conn = cl.conn as Connection;
  cl.pending = p;
  cl.gotBytes = false;
  cl.error = undefined;
  const [abi, c] = connInternals(conn);
  if (c !== 0) httpxExports(abi).mgw_http_head(c, p.isHead ? 1 : 0);
  conn.send(p.head);
  if (p.body !== undefined && !p.isHead) conn.send(p.body);
}

function onEvent(mgr: Manager, cl: Client, c: Connection, ev: number, data: unknown): void {
  if (ev === MG_EV_CONNECT) {
    cl.connected = true;
    const p = cl.pending;
    if (p !== undefined) send(cl, p);
  } else if (ev === MG_EV_READ) {
    cl.gotBytes = true;
  } else if (ev === MG_EV_ERROR) {
    cl.error = String(data);
  } else if (ev === MG_EV_HTTP_MSG) {
    const p = cl.pending;
    if (p === undefined) { // an answer nobody asked for
      c.close();
      return;
    }
    const hm = data as HttpMessage;
    const status = hm.status();
    if (status < 200 && status !== 101) return; // an interim response (103 ...)
    const headers = new Headers();
    let framed = false, close = false;
    for (const [k, v] of hm.headers()) {
      try {
        headers.append(k, v);
      } catch {
        // a header the Headers class refuses: left out
      }
      const lk = k.toLowerCase();
      if (lk === "content-length" || lk === "transfer-encoding") framed = true;
      if (lk === "connection" && /close/i.test(v)) close = true;
    }
    if (hm.method === "HTTP/1.0" && !/keep-alive/i.test(headers.get("connection") ?? "")) {
      close = true;
    }
    const noBody = p.isHead || status === 204 || status === 304 || status < 200;
    if (!framed && !noBody) close = true; // the body ended with the connection
    const res = new Response(status, hm.proto, headers, hm.body.slice());
    cl.pending = undefined;
    if (close || !p.keepAlive || c.isClosing) {
      c.close();
    } else {
      const list = poolOf(mgr, cl.key);
      list.push(cl);
      cl.idle = setTimeout(() => {
        cl.idle = undefined;
        unpool(mgr, cl);
        if (c.isAlive) c.close();
      }, IDLE_TIMEOUT_MS);
    }
    p.resolve(res);
  } else if (ev === MG_EV_CLOSE) {
    unpool(mgr, cl);
    const p = cl.pending;
    cl.pending = undefined;
    if (p === undefined) return;
    if (p.reused && !cl.gotBytes && cl.error === undefined) {
      p.retry(); // the server closed the idle connection as we reused it
      return;
    }
    const why = cl.error !== undefined
      ? (cl.error === "bad HTTP response"
        ? "malformed response"
        : cl.error === "HTTP response too large"
        ? "response too large (over 3 MiB)"
        : cl.error)
      : cl.connected
      ? "connection closed before the response"
      : "connection failed";
    p.reject(new Error(`request to ${cl.key.slice(0, cl.key.indexOf("#"))} failed: ${why}`));
  }
}
