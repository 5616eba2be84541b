/**
 * `serve()`: the Web-standard front door (`(req: Request) => Response`, the
 * contract of `Deno.serve`) on top of the Mongoose HTTP server, and
 * `upgradeWebSocket()`.
 *
 * @module
 */

import { installLightResponse, JSON_TYPE, partsOf, realOf, TEXT_TYPE } from "./response.ts";
import { type Connection, wsUpgradeFromHead } from "./connection.ts";
import {
  MG_EV_CLOSE,
  MG_EV_HTTP_HDRS,
  MG_EV_HTTP_MSG,
  MG_EV_WRITE,
  MG_EV_WS_CTL,
  MG_EV_WS_MSG,
  MG_EV_WS_OPEN,
  WEBSOCKET_OP_CLOSE,
  WEBSOCKET_OP_TEXT,
} from "./constants.ts";
import { type HttpMessage, httpMessageMemory, readRequestHead, type RequestHead } from "./http.ts";
import { Manager, setHandlerEvents } from "./manager.ts";
import type { ListenOptions } from "./types.ts";
import type { WsMessage } from "./ws.ts";
import { ServeRequest } from "./request.ts";
import { symbolsByDescription } from "./host/types.ts";
import { BodyFeed, MG_EV_HTTP_BODY, setBodyThreshold } from "./body_stream.ts";

/**
 * A network address, as in `Deno.NetAddr`.
 *
 * @example
 * ```ts
 * const a: NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 8000 };
 * ```
 */
export interface NetAddr {
  /** Always `"tcp"`. */
  transport: "tcp";
  /** The IP address (without brackets for IPv6). */
  hostname: string;
  /** The port. */
  port: number;
}

/**
 * The second argument of a {@link ServeHandler}.
 *
 * @example
 * ```ts
 * serve((req, info) => new Response(`hello ${info.remoteAddr.hostname}`));
 * ```
 */
export interface ServeHandlerInfo {
  /** The client's address. */
  remoteAddr: NetAddr;
  /**
   * Resolves once the response has been sent completely, or the request
   * ended otherwise (the client went away, an error). Never rejects.
   */
  completed: Promise<void>;
}

/**
 * A request handler: `Deno.serve`'s contract.
 *
 * @example
 * ```ts
 * const handler: ServeHandler = (req) => Response.json({ url: req.url });
 * ```
 */
export type ServeHandler = (
  request: Request,
  info: ServeHandlerInfo,
) => Response | Promise<Response>;

/**
 * Options of {@link serve} (those of `Deno.serve`).
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * serve({ port: 0, hostname: "127.0.0.1", signal: ac.signal, onListen: ({ port }) => {
 *   console.log("port", port);
 * } }, () => new Response("hi"));
 * ```
 */
export interface ServeOptions {
  /** The port (default 8000; 0 picks a free one). */
  port?: number;
  /** The address to listen on (default `"0.0.0.0"`). */
  hostname?: string;
  /** Aborting it shuts the server down (like `shutdown()`). */
  signal?: AbortSignal;
  /** Called once listening (default: prints the address). */
  onListen?: (addr: NetAddr) => void;
  /**
   * Called when a handler throws or rejects; its response is sent instead
   * (default: logs the error and answers 500).
   */
  onError?: (error: unknown) => Response | Promise<Response>;
  /**
   * `SO_REUSEPORT` (Linux): several servers, e.g. one per process, share the
   * port and the kernel spreads connections over them. Deno needs
   * `--unstable-net`; Node.js needs 22.12 / 23.1 or later.
   */
  reusePort?: boolean;
  /** PEM certificate chain: serve HTTPS (with `key`). */
  cert?: string;
  /** PEM private key (with `cert`). */
  key?: string;
  /** The handler, when not given as the second argument. */
  handler?: ServeHandler;
  /**
   * Node.js only: put a light `Response` in place of the global one (default
   * true). Node's own costs 15-20 µs per construction; the light one records
   * a text, bytes or empty body and its init, which `serve()` sends as they
   * are, and becomes a real Response when anything else is asked of it. See
   * docs/serve.md. Ignored on Deno and Bun.
   */
  overrideGlobalResponse?: boolean;
}

/**
 * A running server, as returned by {@link serve}.
 *
 * @example
 * ```ts
 * const server = serve({ port: 0, onListen() {} }, () => new Response("hi"));
 * console.log(server.addr.port);
 * await server.shutdown();
 * await server.finished;
 * ```
 */
export interface HttpServer {
  /** Resolves once the server has shut down. */
  readonly finished: Promise<void>;
  /** The bound address (the real port when listening on port 0). */
  readonly addr: NetAddr;
  /**
   * Stops accepting connections, closes idle ones, lets requests in
   * progress finish, then closes everything; resolves when done.
   */
  shutdown(): Promise<void>;
  /** Does nothing (kept for `Deno.HttpServer` compatibility). */
  ref(): void;
  /** Does nothing (kept for `Deno.HttpServer` compatibility). */
  unref(): void;
}

/**
 * Options of {@link upgradeWebSocket}.
 *
 * @example
 * ```ts
 * const { socket, response } = upgradeWebSocket(req, { protocol: "chat" });
 * ```
 */
export interface UpgradeWebSocketOptions {
  /** The subprotocol to accept (sent as `Sec-WebSocket-Protocol`). */
  protocol?: string;
}

/** Output queued in C above which a streamed body waits for the socket. */
const SEND_HWM = 256 * 1024;
/** ... and below which it goes on. */
const SEND_LWM = 64 * 1024;
/** How often clients of handlers in progress are checked for EOF. */
const EOF_CHECK_MS = 50;
/** Request bodies over this size (and chunked ones) are streamed as they arrive. */
const STREAM_MIN = 64 * 1024;
/** Bytes of a streamed request body queued for the handler before reads pause. */
const BODY_HWM = 256 * 1024;
/** Bytes of an unread request body dropped after the response before closing. */
const DROP_MAX = 4 * 1024 * 1024;

const TEXT_500: Record<string, string> = Object.freeze({ "Content-Type": "text/plain" });
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const EVENTS = [
  MG_EV_HTTP_HDRS, // only for streamed bodies (setBodyThreshold)
  MG_EV_HTTP_BODY,
  MG_EV_HTTP_MSG,
  MG_EV_CLOSE,
  MG_EV_WS_OPEN,
  MG_EV_WS_MSG,
  MG_EV_WS_CTL,
];
/**
 * With MG_EV_WRITE, only while a response body waits for its connection to
 * drain or the server is shutting down: a crossing per write costs ~60 ns.
 */
const EVENTS_WRITE = [...EVENTS, MG_EV_WRITE];

let pendingReq: (p: Pending) => ServeRequest;
let pendingDone: (p: Pending) => boolean;
let pendingStarted: (p: Pending) => boolean;
let pendingStart: (p: Pending) => void;
let pendingBody: (p: Pending) => BodyFeed | undefined;
let pendingFinish: (p: Pending) => void;

/**
 * One request in progress; also the handler's `info` (one object less per
 * request: its own fields are private).
 */
class Pending implements ServeHandlerInfo {
  #req: ServeRequest;
  #conn: Connection;
  #st: ConnState;
  #done = false;
  /** The response has started going out. */
  #started = false;
  /** The streamed body of the request, if it is streamed. */
  #body: BodyFeed | undefined;
  #resolve: (() => void) | undefined;
  #completed: Promise<void> | undefined;
  constructor(req: ServeRequest, conn: Connection, st: ConnState, body: BodyFeed | undefined) {
    this.#req = req;
    this.#conn = conn;
    this.#st = st;
    this.#body = body;
  }

  static {
    pendingReq = (p) => p.#req;
    pendingDone = (p) => p.#done;
    pendingStarted = (p) => p.#started;
    pendingStart = (p) => {
      p.#started = true;
    };
    pendingBody = (p) => p.#body;
    pendingFinish = (p) => {
      if (p.#done) return;
      p.#done = true;
      p.#resolve?.();
    };
  }

  get remoteAddr(): NetAddr {
    const st = this.#st;
    return (st.remote ??= parseAddr(this.#conn.remoteAddr));
  }

  get completed(): Promise<void> {
    if (this.#completed === undefined) {
      if (this.#done) return (this.#completed = Promise.resolve());
      this.#completed = new Promise<void>((r) => (this.#resolve = r));
    }
    return this.#completed;
  }
}

/** The state of one connection of a server. */
class ConnState {
  pending: Pending | undefined;
  /** A streamed request body still arriving (it may outlive its request). */
  body: BodyFeed | undefined;
  drain: (() => void) | undefined;
  ws: ServeWebSocket | undefined;
  remote: NetAddr | undefined;
}

/**
 * The runtime's Response, taken once: on Deno the global is a lazy getter
 * (a call on every use). The light Response of Node inherits from it.
 */
const ResponseBase: typeof Response = globalThis.Response;

/** Scratch for readRequestHead (used synchronously). */
const HEAD: RequestHead = { path: "", query: "", block: "", bodyAt: 0, bodyLen: 0 };

const upgrades = new WeakMap<Response, { socket: ServeWebSocket; req: Request }>();
/** Whether upgradeWebSocket() was ever called (until then no look-up is needed). */
let upgradesMade = false;

/** "ip:port" / "[ip6]:port" into a NetAddr. */
function parseAddr(a: string): NetAddr {
  const i = a.lastIndexOf(":");
  let host = a.slice(0, i);
  if (host.startsWith("[")) host = host.slice(1, -1);
  return { transport: "tcp", hostname: host, port: Number(a.slice(i + 1)) };
}

function urlHost(h: string): string {
  return h.includes(":") && !h.startsWith("[") ? `[${h}]` : h;
}

/** The headers of a Response as a record (framing headers are the server's). */
function responseHeaders(h: Headers): Record<string, string> {
  const r: Record<string, string> = {};
  for (const [name, value] of h) {
    if (name === "content-length" || name === "transfer-encoding") continue;
    // Repeated names (set-cookie): keep them apart with a case variant
    let key = name;
    for (let n = 0; key in r; n++) key = varyCase(name, n);
    r[key] = value;
  }
  return r;
}

interface InnerResponse {
  body: { source: unknown } | null | undefined;
  headerList?: unknown;
  status?: number;
}

/** The internal slot of a Response holding its body and headers, if found. */
let innerSym: symbol | null | undefined;

function innerOf(res: Response): InnerResponse | undefined {
  if (innerSym === undefined) {
    innerSym = null;
    for (const sym of Object.getOwnPropertySymbols(res)) {
      const v = (res as unknown as Record<symbol, unknown>)[sym];
      if (v !== null && typeof v === "object" && "body" in v && "status" in v) {
        const b = (v as InnerResponse).body;
        if (b === null || (typeof b === "object" && "source" in b)) {
          innerSym = sym;
          break;
        }
      }
    }
  }
  if (innerSym === null) return undefined;
  const v = (res as unknown as Record<symbol, unknown>)[innerSym];
  if (v === null || typeof v !== "object") return undefined;
  const b = (v as InnerResponse).body;
  if (b !== null && (typeof b !== "object" || !("source" in b))) return undefined;
  return v as InnerResponse;
}

/** Response headers from a record (framing headers are the server's). */
function plainHeaders(h: Record<string, string>): Record<string, string> {
  const r: Record<string, string> = {};
  for (const k in h) {
    const lower = k.toLowerCase();
    if (lower === "content-length" || lower === "transfer-encoding") continue;
    r[k] = String(h[k]);
  }
  return r;
}

/** The lower-cased names of a record (for a case-insensitive look-up). */
function lowerKeys(h: Record<string, string>): Record<string, true> {
  const r: Record<string, true> = {};
  for (const k in h) r[k.toLowerCase()] = true;
  return r;
}

/**
 * Frozen records of responses whose only header is a Content-Type, by value
 * (reply() caches the block of a frozen record: most responses are these).
 */
const TYPE_ONLY = new Map<string, Record<string, string>>(
  [JSON_TYPE, TEXT_TYPE].map((t) => [t["Content-Type"], t]),
);

/** The record typeOnly() returned last. */
let lastType: Record<string, string> = JSON_TYPE;

/** The frozen `{ "Content-Type": value }` record (cached for 64 values). */
function typeOnly(value: string): Record<string, string> {
  if (value === lastType["Content-Type"]) return lastType;
  let t = TYPE_ONLY.get(value);
  if (t === undefined) {
    t = Object.freeze({ "Content-Type": value });
    if (TYPE_ONLY.size < 64) TYPE_ONLY.set(value, t);
  }
  return (lastType = t);
}

/**
 * Deno (2.9 and later) keeps the string body of `new Response(text)` and
 * `Response.json()` aside, with its Content-Type, until something reads the
 * body or the headers ("lazy static body"); `bodyUsed` or `headers` would
 * build the full body record. The two slots, found by their descriptions on
 * the first Response (null where the runtime has none).
 */
let lazySyms: { body: symbol; type: symbol } | null | undefined;

/**
 * The still-lazy string body of `res` and its Content-Type, or undefined
 * (no such slots, or the response was already made whole).
 */
function lazyBody(res: Response, inner: InnerResponse | undefined): string | undefined {
  if (lazySyms === undefined) {
    const [body, type] = symbolsByDescription(res, [
      "lazy static body",
      "lazy static content type",
    ]);
    lazySyms = body !== undefined && type !== undefined ? { body, type } : null;
  }
  if (lazySyms === null || inner === undefined || inner.body !== null) return undefined;
  const list = inner.headerList;
  if (!Array.isArray(list) || list.length !== 0) return undefined;
  const b = (res as unknown as Record<symbol, unknown>)[lazySyms.body];
  return typeof b === "string" ? b : undefined;
}

/** The Content-Type of a lazy body (see `lazyBody`), as a frozen record. */
function lazyType(res: Response): Record<string, string> {
  const t = (res as unknown as Record<symbol, unknown>)[(lazySyms as { type: symbol }).type];
  return typeof t === "string" ? typeOnly(t) : TEXT_TYPE;
}

/** Response headers from a list of [name, value] pairs. */
function pairHeaders(list: unknown[]): Record<string, string> {
  if (list.length === 1) {
    const [name, value] = list[0] as [string, string];
    if (name.length === 12 && name.toLowerCase() === "content-type") return typeOnly(value);
  }
  const r: Record<string, string> = {};
  for (let i = 0; i < list.length; i++) {
    const [name, value] = list[i] as [string, string];
    const lower = name.toLowerCase();
    if (lower === "content-length" || lower === "transfer-encoding") continue;
    let key = name;
    for (let n = 0; key in r; n++) key = varyCase(name, n);
    r[key] = value;
  }
  return r;
}

/** A differently-cased spelling of `name` (HTTP names are case-insensitive). */
function varyCase(name: string, n: number): string {
  let out = "", bit = n + 1;
  for (let i = 0; i < name.length; i++) {
    const ch = name[i];
    if (/[a-z]/.test(ch) && bit > 0) {
      out += (bit & 1) !== 0 ? ch.toUpperCase() : ch;
      bit >>= 1;
    } else {
      out += ch;
    }
  }
  return out;
}

/** Throws unless the runtime can share a port (`reusePort`). */
function checkReusePort(): void {
  const g = globalThis as {
    Deno?: { listenDatagram?: unknown };
    process?: { versions?: Record<string, string | undefined> };
  };
  if (g.Deno !== undefined) {
    // Without --unstable-net, Deno.listen({ reusePort }) ends the process;
    // Deno.listenDatagram exists only with that flag
    if (typeof g.Deno.listenDatagram === "function") return;
    throw new Error("serve(): reusePort on Deno needs the --unstable-net flag");
  }
  const v = g.process?.versions ?? {};
  if (v.bun !== undefined) return; // Bun's node:net has it
  const [major, minor] = (v.node ?? "0.0").split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 12) || (major === 23 && minor < 1)) {
    throw new Error(
      `serve(): reusePort needs Node.js 22.12 / 23.1 or later (this is Node.js ${v.node})`,
    );
  }
}

function defaultOnError(error: unknown): Response {
  console.error("wasmgoose serve: handler error:", error);
  return new Response("Internal Server Error", { status: 500, headers: TEXT_500 });
}

/**
 * Serves HTTP with a `(request, info) => Response` handler, like
 * `Deno.serve`: `serve(handler)`, `serve(options, handler)` or
 * `serve({ ...options, handler })`. Returns at once; the server runs until
 * `shutdown()` or the options' `signal` aborts.
 *
 * Requests of one connection are answered in order (a pipelined request
 * waits until the response before it has been sent). Response bodies of one
 * chunk (strings, bytes, `Blob`s, forms) get a `Content-Length`; longer
 * streams are sent chunked, reading the next chunk only while less than
 * 256 KiB of output waits for the client. When the client goes away, the
 * request's `signal` aborts. A handler that throws gets `onError`'s response
 * (default: 500).
 *
 * @example
 * ```ts
 * import { serve } from "@wasmgoose/wasmgoose";
 *
 * serve({ port: 8000 }, async (req) => {
 *   if (req.method === "POST") return Response.json(await req.json());
 *   return new Response("Hello, World!");
 * });
 * ```
 */
export function serve(
  optionsOrHandler: ServeOptions | ServeHandler,
  maybeHandler?: ServeHandler,
): HttpServer {
  let opts: ServeOptions;
  let handler: ServeHandler | undefined;
  if (typeof optionsOrHandler === "function") {
    opts = {};
    handler = optionsOrHandler;
  } else {
    opts = optionsOrHandler ?? {};
    handler = maybeHandler ?? opts.handler;
  }
  if (typeof handler !== "function") throw new TypeError("serve() needs a handler function");
  return new Server(opts, handler);
}

class Server implements HttpServer {
  readonly finished: Promise<void>;
  readonly addr: NetAddr;
  #mgr: Manager;
  #lsn: Connection;
  #handler: ServeHandler;
  #onError: (error: unknown) => Response | Promise<Response>;
  #conns = new Set<Connection>();
  #inflight = 0;
  #eofTimer: ReturnType<typeof setInterval> | undefined;
  #stopping = false;
  /** Response bodies waiting for their connection to drain. */
  #drains = 0;
  /** Whether MG_EV_WRITE is among the listener's events. */
  #writeEvents = false;
  #resolveFinished!: () => void;
  #scheme: string;
  /** "scheme://" + the listener's address (a request's Host header replaces it). */
  #origin = "";
  #signal: AbortSignal | undefined;
  #onAbort = (): void => {
    this.shutdown();
  };

  constructor(opts: ServeOptions, handler: ServeHandler) {
    this.#handler = handler;
    this.#onError = opts.onError ?? defaultOnError;
    if (opts.overrideGlobalResponse !== false) installLightResponse();
    this.finished = new Promise<void>((r) => (this.#resolveFinished = r));
    if (opts.reusePort === true) checkReusePort();
    const hostname = opts.hostname ?? "0.0.0.0";
    const port = opts.port ?? 8000;
    const tls = opts.cert !== undefined || opts.key !== undefined;
    if (tls && (opts.cert === undefined || opts.key === undefined)) {
      throw new TypeError("serve(): cert and key go together");
    }
    this.#scheme = tls ? "https" : "http";
    const url = `${this.#scheme}://${urlHost(hostname)}:${port}`;
    this.#mgr = new Manager();
    const lopts: ListenOptions & { tls?: { cert: string; key: string } } = { events: EVENTS };
    if (opts.reusePort === true) lopts.reusePort = true;
    if (tls) lopts.tls = { cert: opts.cert as string, key: opts.key as string };
    try {
      this.#lsn = this.#mgr.listen(url, this.#event, lopts);
    } catch (e) {
      this.#mgr.close();
      const why = e instanceof Error ? e.message : String(e);
      throw new Error(
        tls ? `serve(): cannot serve HTTPS on ${url} (TLS listeners: ${why})` : `serve(): ${why}`,
        { cause: e },
      );
    }
    setBodyThreshold(this.#lsn, STREAM_MIN);
    this.addr = parseAddr(this.#lsn.localAddr);
    this.#origin = this.#scheme + "://" + this.#lsn.localAddr;
    const onListen = opts.onListen ??
      ((a: NetAddr) =>
        console.log(`Listening on ${this.#scheme}://${urlHost(a.hostname)}:${a.port}/`));
    this.#signal = opts.signal;
    if (this.#signal !== undefined) {
      if (this.#signal.aborted) queueMicrotask(this.#onAbort);
      else this.#signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    onListen(this.addr);
  }

  ref(): void {}
  unref(): void {}

  shutdown(): Promise<void> {
    if (!this.#stopping) {
      this.#stopping = true;
      this.#syncWriteEvents(); // before the listener closes: its handler is the connections'
      this.#signal?.removeEventListener("abort", this.#onAbort);
      this.#lsn.close();
      for (const conn of this.#conns) {
        const st = conn.userdata as ConnState | undefined;
        if (st?.ws !== undefined) st.ws.close(1001, "server shutting down");
        else if (st?.pending === undefined) conn.close();
      }
      this.#maybeFinish();
    }
    return this.finished;
  }

  /** MG_EV_WRITE crosses while a body waits to drain, or when stopping. */
  #syncWriteEvents(): void {
    const want = this.#stopping || this.#drains > 0;
    if (want === this.#writeEvents) return;
    this.#writeEvents = want;
    setHandlerEvents(this.#mgr, this.#lsn, want ? EVENTS_WRITE : EVENTS);
  }

  /** Resolves once the connection's queue is below SEND_LWM (or it closed). */
  #drained(st: ConnState): Promise<void> {
    this.#drains++;
    this.#syncWriteEvents();
    return new Promise<void>((resolve) => {
      st.drain = () => {
        this.#drains--;
        this.#syncWriteEvents();
        resolve();
      };
    });
  }

  #stopEofWatch(): void {
    if (this.#eofTimer === undefined) return;
    clearInterval(this.#eofTimer);
    this.#eofTimer = undefined;
  }

  #maybeFinish(): void {
    if (!this.#stopping || this.#inflight > 0) return;
    for (const conn of this.#conns) {
      const st = conn.userdata as ConnState | undefined;
      if (st?.ws !== undefined && conn.isAlive) return; // closing handshake
    }
    // Let queued output leave before closing
    for (const conn of this.#conns) if (conn.isAlive && conn.sendLen > 0) return;
    if (!this.#mgr.closed) this.#mgr.close();
    this.#stopEofWatch();
    this.#resolveFinished();
  }

  #event = (c: Connection, ev: number, data: unknown): void => {
    switch (ev) {
      case MG_EV_HTTP_MSG:
        this.#request(c, data as HttpMessage, false);
        break;
      case MG_EV_HTTP_HDRS:
        this.#request(c, data as HttpMessage, true);
        break;
      case MG_EV_HTTP_BODY:
        this.#bodyPiece(c, data as Uint8Array | null);
        break;
      case MG_EV_WRITE: {
        const st = c.userdata as ConnState | undefined;
        if (st === undefined) break;
        const d = st.drain;
        if (d !== undefined && c.sendLen <= SEND_LWM) {
          st.drain = undefined;
          d();
        }
        if (this.#stopping) this.#maybeFinish();
        break;
      }
      case MG_EV_CLOSE: {
        const st = c.userdata as ConnState | undefined;
        this.#conns.delete(c);
        if (st !== undefined) {
          const b = st.body;
          st.body = undefined;
          b?.fail(new DOMException("the client closed the connection", "AbortError"));
          const p = st.pending;
          if (p !== undefined && !pendingDone(p)) {
            st.pending = undefined;
            pendingReq(p)._abort(
              new DOMException("the client closed the connection", "AbortError"),
            );
            this.#done(p);
          }
          const d = st.drain;
          st.drain = undefined;
          d?.();
          st.ws?._closed();
        }
        if (this.#stopping) this.#maybeFinish();
        break;
      }
      case MG_EV_WS_OPEN:
        (c.userdata as ConnState | undefined)?.ws?._open();
        break;
      case MG_EV_WS_MSG:
      case MG_EV_WS_CTL:
        (c.userdata as ConnState | undefined)?.ws?._message(data as WsMessage);
        break;
    }
  };

  #done(p: Pending): void {
    // Once per request: a reply may close the connection right away (a
    // client that half-closed), and MG_EV_CLOSE then ends the request first.
    if (pendingDone(p)) return;
    pendingFinish(p);
    pendingBody(p)?.responded(DROP_MAX);
    this.#inflight--;
    if (this.#stopping) this.#maybeFinish();
  }

  /**
   * While handlers run, checks every EOF_CHECK_MS whether their clients
   * went away: a client that closed its side aborts the request's signal
   * (the response, if any, is still sent: a half-closed client may read it).
   * The timer stops on a tick with nothing in flight (not when the last
   * request ends: starting and stopping one per request cost ~1 µs).
   */
  #watchEof(): void {
    if (this.#eofTimer !== undefined) return;
    this.#eofTimer = setInterval(() => {
      if (this.#inflight === 0) return this.#stopEofWatch();
      for (const c of this.#conns) {
        const p = (c.userdata as ConnState | undefined)?.pending;
        if (p === undefined || pendingDone(p) || pendingReq(p)._aborted || !c.isAlive) continue;
        if (c.isEof) {
          const why = new DOMException("the client closed the connection", "AbortError");
          pendingReq(p)._abort(why);
          pendingBody(p)?.fail(why);
        }
      }
    }, EOF_CHECK_MS);
  }

  /** A piece of a streamed request body (empty: the end; null: malformed). */
  #bodyPiece(c: Connection, piece: Uint8Array | null): void {
    const st = c.userdata as ConnState | undefined;
    const feed = st?.body;
    if (st === undefined || feed === undefined) return;
    if (piece === null) {
      st.body = undefined;
      feed.fail(new TypeError("malformed chunked request body"));
      const p = st.pending;
      if (p !== undefined && pendingBody(p) === feed && !pendingDone(p) && !pendingStarted(p)) {
        c.reply(400, "Bad Request\n", TEXT_500); // C closes the connection after it
        this.#finish(st, p);
      } else {
        c.close();
      }
      return;
    }
    if (piece.length === 0) {
      st.body = undefined;
      feed.end();
      return;
    }
    feed.push(piece);
    if (feed.dropped > DROP_MAX && (st.pending === undefined || pendingBody(st.pending) !== feed)) {
      // answered and nobody reads the rest: not worth receiving
      st.body = undefined;
      c.drain();
    }
  }

  #request(c: Connection, hm: HttpMessage, headers: boolean): void {
    let st = c.userdata as ConnState | undefined;
    if (st === undefined) {
      st = new ConnState();
      c.userdata = st;
      this.#conns.add(c);
    }
    if (this.#stopping) {
      c.reply(503, "Service Unavailable\n", TEXT_500);
      c.drain();
      return;
    }
    const method = hm.method;
    let body: ReadableStream<Uint8Array> | null = null;
    let feed: BodyFeed | undefined;
    if (headers) {
      // MG_EV_HTTP_HDRS crosses only for large or chunked bodies: stream it
      if (!c.streamBody(hm)) return; // not at a body: MG_EV_HTTP_MSG follows
      feed = st.body = new BodyFeed(c, BODY_HWM);
      if (method === "GET" || method === "HEAD") {
        feed.drop(); // a Request of these methods has no body
      } else {
        body = feed.stream;
        this.#watchEof();
      }
    }
    // The URL and the headers are made from these when asked for
    readRequestHead(hm, HEAD);
    // A buffered body stays in WebAssembly memory while the handler runs
    // (read then, it is decoded from there); what is left unread when the
    // handler returns is copied (ServeRequest._settle)
    const mem = !headers && HEAD.bodyLen > 0 && method !== "GET" && method !== "HEAD"
      ? httpMessageMemory(hm)
      : undefined;
    const sreq = new ServeRequest(
      method,
      this.#origin,
      HEAD.path,
      HEAD.query,
      HEAD.block,
      body,
      mem,
      HEAD.bodyAt,
      HEAD.bodyLen,
    );
    const req = sreq as unknown as Request;
    const p = new Pending(sreq, c, st, feed);
    st.pending = p;
    this.#inflight++;
    let res: Response | Promise<Response>;
    try {
      res = this.#handler(req, p);
    } catch (e) {
      sreq._settle();
      this.#fail(c, st, p, e, req);
      return;
    }
    sreq._settle();
    if (res instanceof ResponseBase) {
      this.#respond(c, st, p, res, req);
    } else {
      this.#watchEof();
      Promise.resolve(res).then(
        (r) => this.#respond(c, st, p, r, req),
        (e) => this.#fail(c, st, p, e, req),
      );
    }
  }

  #fail(c: Connection, st: ConnState, p: Pending, e: unknown, req: Request): void {
    if (pendingDone(p)) return;
    let r: Response | Promise<Response>;
    try {
      r = this.#onError(e);
    } catch (e2) {
      r = defaultOnError(e2);
    }
    Promise.resolve(r).then(
      (res) => this.#respond(c, st, p, res, req, true),
      (e2) => this.#respond(c, st, p, defaultOnError(e2), req, true),
    );
  }

  #respond(
    c: Connection,
    st: ConnState,
    p: Pending,
    res: unknown,
    req: Request,
    fromError = false,
  ): void {
    if (pendingDone(p)) {
      if (res instanceof ResponseBase) res.body?.cancel().catch(() => {});
      return;
    }
    if (!(res instanceof ResponseBase)) {
      const e = new TypeError("the handler did not return a Response");
      if (fromError) this.#respond(c, st, p, defaultOnError(e), req, true);
      else this.#fail(c, st, p, e, req);
      return;
    }
    if (!c.isAlive) {
      res.body?.cancel().catch(() => {});
      return; // MG_EV_CLOSE has ended the request
    }
    pendingStart(p);
    const up = upgradesMade ? upgrades.get(res) : undefined;
    if (up !== undefined) {
      this.#upgrade(c, st, p, up.socket, up.req);
      return;
    }
    // Fastest: a light Response (Node) sent as it was made
    const lp = partsOf(res);
    if (lp !== undefined) {
      const h = lp.headers;
      let hdrs: Record<string, string> | undefined;
      if (h === undefined) {
        hdrs = lp.defaultType === "" ? undefined : TEXT_TYPE;
      } else if (h === JSON_TYPE) {
        hdrs = JSON_TYPE; // Response.json()'s own
      } else {
        hdrs = Array.isArray(h) ? pairHeaders(h) : plainHeaders(h as Record<string, string>);
        if (lp.defaultType !== "" && !("content-type" in lowerKeys(hdrs))) {
          hdrs["Content-Type"] = lp.defaultType;
        }
      }
      c.reply(lp.status, lp.body ?? undefined, hdrs);
      this.#finish(st, p);
      return;
    }
    // A light one already made real: the real one's record
    const r: Response = realOf(res) ?? res;
    // Deno: a string body not yet made whole is sent from where it waits
    const innerFirst = innerOf(r);
    const lazy = lazyBody(r, innerFirst);
    if (lazy !== undefined) {
      c.reply((innerFirst as { status: number }).status, lazy, lazyType(r));
      this.#finish(st, p);
      return;
    }
    // Fast path: the runtime's own record of the response (Deno and undici
    // keep the header list and the body's source in one internal object),
    // so a string or bytes body goes out without a stream read.
    const inner = r.bodyUsed ? undefined : innerFirst;
    const list = inner?.headerList;
    const hdrs = Array.isArray(list) ? pairHeaders(list) : responseHeaders(r.headers);
    if (inner !== undefined) {
      const b = inner.body;
      const src = b === null || b === undefined ? null : b.source;
      if (b === null || typeof src === "string" || src instanceof Uint8Array) {
        c.reply(r.status, b === null ? undefined : src as string | Uint8Array, hdrs);
        this.#finish(st, p);
        return;
      }
    }
    if (r.body === null) {
      c.reply(r.status, undefined, hdrs);
      this.#finish(st, p);
      return;
    }
    this.#sendBody(c, st, p, r, hdrs, req.method === "HEAD").catch((e) => {
      console.error("wasmgoose serve: response body failed:", e);
      if (c.isAlive) c.close();
      if (!pendingDone(p)) {
        if (st.pending === p) st.pending = undefined;
        this.#done(p);
      }
    });
  }

  #finish(st: ConnState, p: Pending): void {
    if (st.pending === p) st.pending = undefined;
    this.#done(p);
  }

  async #sendBody(
    c: Connection,
    st: ConnState,
    p: Pending,
    res: Response,
    hdrs: Record<string, string>,
    head: boolean,
  ): Promise<void> {
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const a = await reader.read();
    if (!c.isAlive || pendingDone(p)) return void reader.cancel().catch(() => {});
    if (a.done) {
      c.reply(res.status, undefined, hdrs);
      return this.#finish(st, p);
    }
    let first = chunkBytes(a.value);
    // A body of one piece (string, bytes, Blob, form) gets a Content-Length
    const b = await reader.read();
    if (!c.isAlive || pendingDone(p)) return void reader.cancel().catch(() => {});
    if (b.done) {
      c.reply(res.status, first, hdrs);
      return this.#finish(st, p);
    }
    c.startChunked(res.status, hdrs);
    if (head) {
      reader.cancel().catch(() => {});
      c.chunk("");
      return this.#finish(st, p);
    }
    if (first.length > 0) c.chunk(first);
    first = chunkBytes(b.value);
    if (first.length > 0) c.chunk(first);
    for (;;) {
      if (c.sendLen > SEND_HWM) await this.#drained(st);
      if (!c.isAlive || pendingDone(p)) return void reader.cancel().catch(() => {});
      const r = await reader.read();
      if (!c.isAlive || pendingDone(p)) return void reader.cancel().catch(() => {});
      if (r.done) break;
      const bytes = chunkBytes(r.value);
      if (bytes.length > 0) c.chunk(bytes);
    }
    c.chunk("");
    this.#finish(st, p);
  }

  #upgrade(c: Connection, st: ConnState, p: Pending, socket: ServeWebSocket, req: Request): void {
    let head = "GET / HTTP/1.1\r\n";
    for (const [k, v] of req.headers) head += k + ": " + v + "\r\n";
    head += "\r\n";
    const proto = socket.protocol;
    const extra = proto.length > 0 ? `Sec-WebSocket-Protocol: ${proto}\r\n` : "";
    st.ws = socket;
    socket._attach(c);
    if (!wsUpgradeFromHead(c, head, extra)) {
      st.ws = undefined;
      c.reply(400, "Bad Request\n", TEXT_500);
    }
    this.#finish(st, p);
  }
}

function chunkBytes(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  throw new TypeError("response body chunks must be Uint8Array");
}

// ---- WebSocket ---------------------------------------------------------------------

const CONNECTING = 0, OPEN = 1, CLOSING = 2, CLOSED = 3;
const encoder = new TextEncoder();

function makeEvent(type: string, props: Record<string, unknown>): Event {
  const G = globalThis as unknown as Record<string, unknown>;
  if (type === "message" && typeof G.MessageEvent === "function") {
    return new (G.MessageEvent as typeof MessageEvent)("message", { data: props.data });
  }
  if (type === "close" && typeof G.CloseEvent === "function") {
    return new (G.CloseEvent as typeof CloseEvent)("close", props as CloseEventInit);
  }
  const e = new Event(type);
  for (const k in props) Object.defineProperty(e, k, { value: props[k], enumerable: true });
  return e;
}

/**
 * An `on…` handler property of {@link ServeWebSocket} (`null`: none).
 *
 * @example
 * ```ts
 * const onopen: WsListener = () => console.log("open");
 * ```
 */
export type WsListener = ((this: WebSocket, ev: Event) => unknown) | null;

/**
 * The server side of a WebSocket accepted by {@link upgradeWebSocket}: the
 * standard `WebSocket` interface (`onopen`, `onmessage`, `onclose`,
 * `onerror`, `addEventListener`, `send`, `close`, `readyState`,
 * `binaryType`, `protocol`, `bufferedAmount`).
 *
 * @example
 * ```ts
 * const { socket, response } = upgradeWebSocket(req);
 * socket.onmessage = (e) => socket.send(e.data);
 * ```
 */
export class ServeWebSocket extends EventTarget {
  /** `0`. */
  static readonly CONNECTING: number = CONNECTING;
  /** `1`. */
  static readonly OPEN: number = OPEN;
  /** `2`. */
  static readonly CLOSING: number = CLOSING;
  /** `3`. */
  static readonly CLOSED: number = CLOSED;
  /** `0`. */
  readonly CONNECTING: number = CONNECTING;
  /** `1`. */
  readonly OPEN: number = OPEN;
  /** `2`. */
  readonly CLOSING: number = CLOSING;
  /** `3`. */
  readonly CLOSED: number = CLOSED;
  /** The request URL. */
  readonly url: string;
  /** The accepted subprotocol ("" for none). */
  readonly protocol: string;
  /** Always "" (no extensions are negotiated). */
  readonly extensions = "";
  /** How binary messages arrive: `"blob"` (default) or `"arraybuffer"`. */
  binaryType: "blob" | "arraybuffer" = "blob";
  /** Called when the socket opens. */
  onopen: WsListener = null;
  /** Called with each message (`MessageEvent`). */
  onmessage: WsListener = null;
  /** Called once closed (`CloseEvent`: code, reason, wasClean). */
  onclose: WsListener = null;
  /** Called on an error (before close). */
  onerror: WsListener = null;
  #state = CONNECTING;
  #conn: Connection | undefined;
  #closeCode = 1005;
  #closeReason = "";
  #gotClose = false;

  /** Internal: made by {@link upgradeWebSocket}. */
  constructor(url: string, protocol: string) {
    super();
    this.url = url;
    this.protocol = protocol;
  }

  /**
   * `CONNECTING`, `OPEN`, `CLOSING` or `CLOSED`.
   *
   * @example
   * ```ts
   * if (socket.readyState === socket.OPEN) socket.send("hi");
   * ```
   */
  get readyState(): number {
    return this.#state;
  }

  /**
   * Bytes queued and not yet handed to the operating system.
   *
   * @example
   * ```ts
   * if (socket.bufferedAmount < 1 << 20) socket.send(chunk);
   * ```
   */
  get bufferedAmount(): number {
    return this.#conn?.isAlive ? this.#conn.sendLen : 0;
  }

  /**
   * Sends a message: text for a string, binary for bytes, a `Blob` (read
   * first, so it may be sent after later messages) or an `ArrayBuffer`.
   * Throws `InvalidStateError` while connecting.
   *
   * @example
   * ```ts
   * socket.send("hello");
   * socket.send(new Uint8Array([1, 2, 3]));
   * ```
   */
  send(data: string | ArrayBufferLike | ArrayBufferView | Blob): void {
    if (this.#state === CONNECTING) {
      throw new DOMException("WebSocket is not open", "InvalidStateError");
    }
    const c = this.#conn;
    if (this.#state !== OPEN || c === undefined || !c.isAlive) return;
    if (typeof data === "string") {
      c.wsSend(data);
    } else if (data instanceof Blob) {
      data.arrayBuffer().then((b) => {
        if (this.#state === OPEN && c.isAlive) c.wsSend(new Uint8Array(b));
      });
    } else if (ArrayBuffer.isView(data)) {
      c.wsSend(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    } else {
      c.wsSend(new Uint8Array(data as ArrayBuffer));
    }
  }

  /**
   * Starts the closing handshake (`code` 1000 or 3000-4999, `reason` at most
   * 123 bytes).
   *
   * @example
   * ```ts
   * socket.close(1000, "bye");
   * ```
   */
  close(code?: number, reason?: string): void {
    if (code !== undefined && code !== 1000 && code !== 1001 && (code < 3000 || code > 4999)) {
      throw new DOMException(`invalid close code ${code}`, "InvalidAccessError");
    }
    if (reason !== undefined && encoder.encode(reason).length > 123) {
      throw new DOMException("close reason too long", "SyntaxError");
    }
    if (this.#state >= CLOSING) return;
    const c = this.#conn;
    this.#state = CLOSING;
    if (c !== undefined && c.isAlive) c.wsClose(code ?? 1000, reason ?? "");
  }

  #fire(type: string, e: Event): void {
    const h = type === "open"
      ? this.onopen
      : type === "message"
      ? this.onmessage
      : type === "close"
      ? this.onclose
      : this.onerror;
    if (h !== null) {
      try {
        h.call(this as unknown as WebSocket, e);
      } catch (err) {
        console.error("wasmgoose: WebSocket handler threw:", err);
      }
    }
    this.dispatchEvent(e);
  }

  /** Internal. */
  _attach(c: Connection): void {
    this.#conn = c;
  }

  /** Internal: MG_EV_WS_OPEN. */
  _open(): void {
    if (this.#state !== CONNECTING) return;
    this.#state = OPEN;
    this.#fire("open", new Event("open"));
  }

  /** Internal: MG_EV_WS_MSG / MG_EV_WS_CTL. */
  _message(m: WsMessage): void {
    const op = m.op;
    if (op === WEBSOCKET_OP_CLOSE) {
      const d = m.data;
      this.#gotClose = true;
      if (d.length >= 2) {
        this.#closeCode = (d[0] << 8) | d[1];
        this.#closeReason = new TextDecoder().decode(d.subarray(2));
      }
      if (this.#state === OPEN) this.#state = CLOSING;
      return;
    }
    if (this.#state !== OPEN) return;
    let data: unknown;
    if (op === WEBSOCKET_OP_TEXT) {
      data = m.text;
    } else if (op === 2) {
      const bytes = m.data.slice();
      data = this.binaryType === "arraybuffer" ? bytes.buffer : new Blob([bytes]);
    } else {
      return; // ping / pong: answered by the core
    }
    this.#fire("message", makeEvent("message", { data }));
  }

  /** Internal: MG_EV_CLOSE. */
  _closed(): void {
    if (this.#state === CLOSED) return;
    const wasClean = this.#gotClose;
    if (!wasClean && this.#state === OPEN) {
      this.#fire("error", new Event("error"));
    }
    this.#state = CLOSED;
    this.#fire(
      "close",
      makeEvent("close", {
        code: wasClean ? this.#closeCode : 1006,
        reason: wasClean ? this.#closeReason : "",
        wasClean,
      }),
    );
  }
}

/**
 * Accepts a WebSocket handshake in a {@link serve} handler, like
 * `Deno.upgradeWebSocket`: returns the server-side `socket` and the
 * `response` the handler must return. Throws TypeError if `req` is not a
 * WebSocket handshake of a `serve()` request.
 *
 * The returned response reports status 101; it is only meaningful to
 * `serve()`.
 *
 * @example
 * ```ts
 * import { serve, upgradeWebSocket } from "@wasmgoose/wasmgoose";
 *
 * serve((req) => {
 *   if (req.headers.get("upgrade") !== "websocket") return new Response("hi");
 *   const { socket, response } = upgradeWebSocket(req);
 *   socket.onmessage = (e) => socket.send(e.data);
 *   return response;
 * });
 * ```
 */
export function upgradeWebSocket(
  req: Request,
  options?: UpgradeWebSocketOptions,
): { socket: ServeWebSocket; response: Response } {
  if (!(req instanceof ServeRequest)) {
    throw new TypeError("upgradeWebSocket() needs a request of serve()");
  }
  const up = (req.headers.get("upgrade") ?? "").toLowerCase().split(",").map((s) => s.trim());
  if (!up.includes("websocket")) {
    throw new TypeError("Invalid Header: 'upgrade' header must contain 'websocket'");
  }
  if (!/\bupgrade\b/i.test(req.headers.get("connection") ?? "")) {
    throw new TypeError("Invalid Header: 'connection' header must contain 'Upgrade'");
  }
  if (req.headers.get("sec-websocket-key") === null) {
    throw new TypeError("Invalid Header: 'sec-websocket-key' header must be set");
  }
  const protocol = options?.protocol ?? "";
  if (protocol !== "" && !TOKEN.test(protocol)) {
    throw new TypeError(`invalid WebSocket subprotocol ${JSON.stringify(protocol)}`);
  }
  const socket = new ServeWebSocket(req.url.replace(/^http/, "ws"), protocol);
  const response = new Response(null, { status: 200 });
  Object.defineProperty(response, "status", { value: 101 });
  upgrades.set(response, { socket, req });
  upgradesMade = true;
  return { socket, response };
}
