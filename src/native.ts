/**
 * The native backend: the same C core as the WebAssembly build, compiled with
 * its POSIX epoll driver into a Node-API addon (`make addon` builds
 * `native/addon/build/Release/wasmgoose_native.node`). It offers the shape of
 * {@link Manager} that servers need — `listen`, HTTP and WebSocket events,
 * `HttpMessage` getters, `reply`, `send`, `wsUpgrade`, `wsSend`, `close` —
 * and is the native-addon baseline of the benchmarks.
 *
 * On Node.js the addon watches its epoll descriptor with libuv (`uv_poll_t`);
 * elsewhere (Deno, Bun) a helper thread waits on it and wakes the JavaScript
 * thread through a thread-safe function. Nothing busy-polls.
 *
 * @example
 * ```ts
 * import { NativeManager, MG_EV_HTTP_MSG, type NativeHttpMessage } from "./src/native.ts";
 *
 * const mgr = new NativeManager();
 * mgr.listen("http://127.0.0.1:8000", (c, ev, data) => {
 *   if (ev === MG_EV_HTTP_MSG) c.replyJson({ uri: (data as NativeHttpMessage).uri });
 * });
 * await mgr.run();
 * ```
 *
 * @module
 */

import { createRequire } from "node:module";
import process from "node:process";
import {
  MG_EV_CLOSE,
  MG_EV_HTTP_HDRS,
  MG_EV_HTTP_MSG,
  MG_EV_POLL,
  MG_EV_WS_CTL,
  MG_EV_WS_MSG,
  MG_EV_WS_OPEN,
} from "./constants.ts";

export { MG_EV_CLOSE, MG_EV_HTTP_MSG, MG_EV_WS_MSG, MG_EV_WS_OPEN } from "./constants.ts";

/** The addon's manager object (see native/addon/addon.cc). */
interface Binding {
  listen(url: string, index: number, mask: number): [number, number];
  reply(id: number, status: number, headers: string, body: unknown): void;
  send(id: number, data: unknown): boolean;
  wsUpgrade(id: number, headers: string): void;
  wsSend(id: number, data: unknown, op?: number): number;
  close(id: number): void;
  drain(id: number): void;
  hmField(i: number): string;
  hmBody(): Uint8Array;
  hmText(): string;
  hmHeader(name: string): string | undefined;
  hmHeaders(): Array<[string, string]>;
  hmQueryVar(name: string): string | undefined;
  wsData(): Uint8Array;
  wsText(): string;
  wsOp(): number;
  addr(id: number, remote: boolean): string;
  free(): void;
}

type BindingCtor = new (
  dispatch: (id: number, ev: number, index: number, err?: string) => void,
  mode: "uv" | "thread",
) => Binding;

/** Handler of a {@link NativeManager} listener: `(conn, ev, data)` as for `Manager`. */
export type NativeEventHandler = (conn: NativeConnection, ev: number, data: unknown) => void;

/**
 * Options of {@link NativeManager.listen}: `events` limits the events the
 * handler gets (default: all but `MG_EV_POLL`).
 *
 * @example
 * ```ts
 * mgr.listen("http://127.0.0.1:8000", handler, { events: [MG_EV_HTTP_MSG] });
 * ```
 */
export interface NativeListenOptions {
  /** Event numbers delivered to the handler. */
  events?: number[];
}

/** Options of {@link NativeManager}: where the addon is, how it waits. */
export interface NativeManagerOptions {
  /** Path of `wasmgoose_native.node` (default: env `WASMGOOSE_NATIVE_ADDON`, then the build output). */
  addon?: string;
  /** `"uv"` (Node.js, libuv) or `"thread"` (any Node-API runtime); default by runtime. */
  mode?: "uv" | "thread";
}

let ctor: BindingCtor | undefined;

function loadAddon(file?: string): BindingCtor {
  if (ctor !== undefined && file === undefined) return ctor;
  const require = createRequire(import.meta.url);
  const candidates = file !== undefined ? [file] : [
    process.env.WASMGOOSE_NATIVE_ADDON,
    "../native/addon/build/Release/wasmgoose_native.node", // from src/
    "../../native/addon/build/Release/wasmgoose_native.node", // from dist/src/
  ].filter((x): x is string => typeof x === "string" && x !== "");
  const errors: string[] = [];
  for (const c of candidates) {
    try {
      const mod = require(c) as { NativeMgr: BindingCtor };
      if (file === undefined) ctor = mod.NativeMgr;
      return mod.NativeMgr;
    } catch (e) {
      errors.push(`${c}: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  throw new Error(
    `wasmgoose native addon not found (run \`make addon\`):\n  ${errors.join("\n  ")}`,
  );
}

function defaultMode(): "uv" | "thread" {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  return g.Deno === undefined && g.Bun === undefined ? "uv" : "thread";
}

function headerBlock(headers: Record<string, string> | undefined): string {
  if (headers === undefined) return "";
  let s = "";
  for (const k in headers) {
    const v = headers[k];
    if (/[\r\n\0:\s]/.test(k) || /[\r\n\0]/.test(v)) {
      throw new TypeError(`invalid header ${JSON.stringify(k)}`);
    }
    s += `${k}: ${v}\r\n`;
  }
  return s;
}

const frozenBlocks = new WeakMap<object, string>();
function cachedBlock(headers: Record<string, string> | undefined): string {
  if (headers === undefined) return "";
  if (!Object.isFrozen(headers)) return headerBlock(headers);
  let b = frozenBlocks.get(headers);
  if (b === undefined) frozenBlocks.set(headers, b = headerBlock(headers));
  return b;
}

const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Content-Type": "application/json",
});

/**
 * An HTTP message of the native backend, valid only while its event handler
 * runs (like `HttpMessage`: copy what you keep).
 *
 * @example
 * ```ts
 * if (ev === MG_EV_HTTP_MSG) {
 *   const hm = data as NativeHttpMessage;
 *   c.reply(200, `${hm.method} ${hm.uri}?${hm.query}\n`);
 * }
 * ```
 */
export class NativeHttpMessage {
  #b: Binding;
  /** @internal */
  constructor(b: Binding) {
    this.#b = b;
  }
  /** The method, e.g. `"GET"`. */
  get method(): string {
    return this.#b.hmField(0);
  }
  /** The path, without the query string. */
  get uri(): string {
    return this.#b.hmField(1);
  }
  /** The query string, without `?` (still encoded). */
  get query(): string {
    return this.#b.hmField(2);
  }
  /** The protocol, e.g. `"HTTP/1.1"`. */
  get proto(): string {
    return this.#b.hmField(3);
  }
  /** The request line and headers. */
  get head(): string {
    return this.#b.hmField(4);
  }
  /** The whole message: head and body. */
  get message(): string {
    return this.#b.hmField(5);
  }
  /** The body (a copy). */
  get body(): Uint8Array {
    return this.#b.hmBody();
  }
  /** The body decoded as UTF-8. */
  get text(): string {
    return this.#b.hmText();
  }
  /** A header's value (case-insensitive name), or undefined. */
  header(name: string): string | undefined {
    return this.#b.hmHeader(name);
  }
  /** Every header, in order. */
  headers(): Array<[string, string]> {
    return this.#b.hmHeaders();
  }
  /** A query variable, URL-decoded, or undefined. */
  queryVar(name: string): string | undefined {
    return this.#b.hmQueryVar(name);
  }
}

/**
 * A WebSocket message of the native backend, valid only while its event
 * handler runs.
 *
 * @example
 * ```ts
 * if (ev === MG_EV_WS_MSG) {
 *   const m = data as NativeWsMessage;
 *   c.wsSend(m.data, m.op); // echo
 * }
 * ```
 */
export class NativeWsMessage {
  #b: Binding;
  /** @internal */
  constructor(b: Binding) {
    this.#b = b;
  }
  /** The payload (a copy). */
  get data(): Uint8Array {
    return this.#b.wsData();
  }
  /** The payload decoded as UTF-8. */
  get text(): string {
    return this.#b.wsText();
  }
  /** The opcode (`WEBSOCKET_OP_TEXT`, `WEBSOCKET_OP_BINARY`, …). */
  get op(): number {
    return this.#b.wsOp();
  }
}

/**
 * A connection of the native backend (same methods as `Connection` for what
 * servers use).
 *
 * @example
 * ```ts
 * c.reply(200, "ok\n", { "Content-Type": "text/plain" });
 * ```
 */
export class NativeConnection {
  #b: Binding;
  #id: number;
  #alive = true;
  /** @internal */
  constructor(b: Binding, id: number) {
    this.#b = b;
    this.#id = id;
  }
  /** The connection's id (Mongoose `c->id`). */
  get id(): number {
    return this.#id;
  }
  /** False once the connection is closed. */
  get isAlive(): boolean {
    return this.#alive;
  }
  /** The peer's address, `ip:port`. */
  get remoteAddr(): string {
    return this.#b.addr(this.#id, true);
  }
  /** The local address, `ip:port`. */
  get localAddr(): string {
    return this.#b.addr(this.#id, false);
  }
  /** Sends an HTTP response (Content-Length added; no body for HEAD). */
  reply(status: number, body?: string | Uint8Array, headers?: Record<string, string>): void {
    this.#b.reply(this.#id, status | 0, cachedBlock(headers), body);
    replies++;
  }
  /** Sends `value` as a JSON response. */
  replyJson(value: unknown, status = 200, headers?: Record<string, string>): void {
    this.reply(
      status,
      JSON.stringify(value) ?? "null",
      headers === undefined ? JSON_HEADERS : { ...JSON_HEADERS, ...headers },
    );
  }
  /** Appends raw bytes to the output; false if the connection is gone. */
  send(data: Uint8Array | string): boolean {
    return this.#b.send(this.#id, data);
  }
  /** Accepts a WebSocket handshake during `MG_EV_HTTP_MSG`. */
  wsUpgrade(_hm: NativeHttpMessage, headers?: Record<string, string>): void {
    this.#b.wsUpgrade(this.#id, cachedBlock(headers));
  }
  /** Sends one WebSocket message (text for strings, binary for bytes by default). */
  wsSend(data: string | Uint8Array, op?: number): number {
    return this.#b.wsSend(this.#id, data, op);
  }
  /** Sends what is queued, then closes. */
  drain(): void {
    this.#b.drain(this.#id);
  }
  /** Closes at once. */
  close(): void {
    this.#b.close(this.#id);
  }
  /** @internal */
  end(): void {
    this.#alive = false;
  }
}

const ALL_BUT_POLL = ~(1 << MG_EV_POLL);
let replies = 0; // NativeConnection.reply() calls, to tell whether a failing handler answered

/**
 * A Manager on the native backend (the Node-API addon).
 *
 * @example
 * ```ts
 * const mgr = new NativeManager();
 * mgr.listen("http://127.0.0.1:8000", (c, ev) => {
 *   if (ev === MG_EV_HTTP_MSG) c.reply(200, "hi\n");
 * });
 * await mgr.run();
 * ```
 */
export class NativeManager {
  #b: Binding;
  #default: NativeEventHandler | undefined;
  #handlers: (NativeEventHandler | undefined)[] = [];
  #conns = new Map<number, NativeConnection>();
  #hm: NativeHttpMessage;
  #ws: NativeWsMessage;
  #closed = false;
  #run: Promise<void> | undefined;
  #resolve: (() => void) | undefined;
  #onSignal: (() => void) | undefined;

  /** Creates a manager; `handler` is the default for listeners without one. */
  constructor(handler?: NativeEventHandler, opts?: NativeManagerOptions) {
    this.#default = handler;
    const Ctor = loadAddon(opts?.addon);
    this.#b = new Ctor(
      (id, ev, index, err) => this.#dispatch(id, ev, index, err),
      opts?.mode ?? defaultMode(),
    );
    this.#hm = new NativeHttpMessage(this.#b);
    this.#ws = new NativeWsMessage(this.#b);
  }

  /** Listens on `url` (`http://` parses HTTP; `tcp://` gives raw reads). */
  listen(url: string, handler?: NativeEventHandler, opts?: NativeListenOptions): NativeConnection {
    if (this.#closed) throw new Error("NativeManager is closed");
    let mask = ALL_BUT_POLL;
    if (opts?.events !== undefined) {
      mask = 1 << MG_EV_CLOSE;
      for (const ev of opts.events) if (ev >= 0 && ev < 32) mask |= 1 << ev;
    }
    const index = this.#handlers.length;
    this.#handlers.push(handler ?? this.#default);
    const [id] = this.#b.listen(url, index, mask >>> 0);
    return this.#conn(id);
  }

  /** The port a listener is bound to (after listening on port 0). */
  portOf(conn: NativeConnection): number {
    const a = conn.localAddr;
    return Number(a.slice(a.lastIndexOf(":") + 1));
  }

  /** Resolves when {@link NativeManager.close} is called (or on SIGINT/SIGTERM). */
  run(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#run !== undefined) return this.#run;
    this.#run = new Promise<void>((resolve) => (this.#resolve = resolve));
    const onSignal = (this.#onSignal = () => this.close());
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, onSignal);
    return this.#run;
  }

  /** Closes every connection and frees the core. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#b.free();
    for (const c of this.#conns.values()) c.end();
    this.#conns.clear();
    if (this.#onSignal !== undefined) {
      for (const sig of ["SIGINT", "SIGTERM"] as const) process.off(sig, this.#onSignal);
    }
    this.#resolve?.();
  }

  /** Open connections (listeners included). */
  get connections(): NativeConnection[] {
    return Array.from(this.#conns.values());
  }

  #conn(id: number): NativeConnection {
    let c = this.#conns.get(id);
    if (c === undefined) this.#conns.set(id, c = new NativeConnection(this.#b, id));
    return c;
  }

  #dispatch(id: number, ev: number, index: number, err?: string): void {
    const conn = this.#conn(id);
    const fn = this.#handlers[index];
    let data: unknown = err;
    if (ev === MG_EV_HTTP_MSG || ev === MG_EV_HTTP_HDRS || ev === MG_EV_WS_OPEN) data = this.#hm;
    else if (ev === MG_EV_WS_MSG || ev === MG_EV_WS_CTL) data = this.#ws;
    const before = replies;
    try {
      if (fn !== undefined) fn(conn, ev, data);
      else if (ev === MG_EV_HTTP_MSG) conn.reply(404, "Not Found\n");
    } catch (e) {
      console.error("wasmgoose native: handler error:", e);
      if (ev === MG_EV_HTTP_MSG && replies === before) {
        try {
          conn.reply(500, "Internal Server Error\n");
        } catch {
          // the connection is gone
        }
      }
    }
    if (ev === MG_EV_CLOSE) {
      conn.end();
      this.#conns.delete(id);
    }
  }
}
