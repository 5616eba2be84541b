/**
 * `Connection`: one Mongoose connection (listener, accepted or outbound).
 *
 * @module
 */

import { type Abi, encoder } from "./abi.ts";
import { WEBSOCKET_OP_BINARY, WEBSOCKET_OP_TEXT } from "./constants.ts";
import { HttpMessage, httpMessagePtr } from "./http.ts";
import { chunkStart, chunkWrite, type SseMessage, sseWrite, wsUpgradeHead } from "./chunk.ts";
import { consumeRecv, recvView } from "./net.ts";
import {
  type ServeDirOptions,
  serveStatic,
  uploadChunk,
  type UploadChunkOptions,
  type UploadOptions,
  uploadStream,
} from "./static.ts";
import {
  mqttDisconnect,
  mqttPing,
  type MqttProperty,
  mqttPub,
  type MqttPubOptions,
  mqttSendHeader,
  mqttSub,
  type MqttSubOptions,
  mqttUnsub,
} from "./mqtt.ts";

/** What a Connection needs from its Manager. Internal. */
export interface ConnectionHost {
  /** The Manager's WebAssembly instance. */
  readonly abi: Abi;
  /** The `ip:port` of connection `c`: remote or local. */
  addr(c: number, remote: boolean): string;
  /** Handles an exception thrown by an export call; returns what to throw. */
  fail(e: unknown): unknown;
}

// mgw_info flag bits
const F_LISTENING = 1 << 0;
const F_CLIENT = 1 << 1;
const F_CLOSING = 1 << 3;
const F_DRAINING = 1 << 4;
const F_FULL = 1 << 5;
const F_WEBSOCKET = 1 << 7;
const F_EOF = 1 << 10;

/** Largest payload of a WebSocket control frame (RFC 6455 5.5). */
const MAX_CONTROL = 125;

const BAD_NAME = /[\r\n\0: \t]/;
const BAD_VALUE = /[\r\n\0]/;

/** Encoded header blocks of frozen header objects. */
const frozenBlocks = new WeakMap<object, Uint8Array>();

/**
 * Internal: builds the `Name: value\r\n` block of `headers`; throws
 * TypeError for a name or value that would break the header block.
 */
export function headerBlock(headers: Record<string, string>): string {
  let s = "";
  for (const name in headers) {
    if (!Object.prototype.hasOwnProperty.call(headers, name)) continue;
    const value = String(headers[name]);
    if (name.length === 0 || BAD_NAME.test(name)) {
      throw new TypeError(`invalid HTTP header name ${JSON.stringify(name)}`);
    }
    if (BAD_VALUE.test(value)) {
      throw new TypeError(
        `invalid value for HTTP header ${JSON.stringify(name)} (CR, LF or NUL)`,
      );
    }
    s += name + ": " + value + "\r\n";
  }
  return s;
}

/** The frozen record frozenBlockOf() saw last, and its block. */
let lastFrozen: Record<string, string> | undefined;
let lastBlock: Uint8Array | undefined;

/**
 * The encoded header block of a frozen record (computed once), or undefined
 * for a record that is not frozen. Most replies repeat the record of the
 * reply before (a Content-Type): that one is known by identity, without
 * the isFrozen call and the WeakMap look-up.
 */
function frozenBlockOf(headers: Record<string, string>): Uint8Array | undefined {
  if (headers === lastFrozen) return lastBlock;
  if (!Object.isFrozen(headers)) return undefined;
  let b = frozenBlocks.get(headers);
  if (b === undefined) {
    b = encoder.encode(headerBlock(headers));
    frozenBlocks.set(headers, b);
  }
  lastFrozen = headers;
  return (lastBlock = b);
}

const JSON_HEADERS: Record<string, string> = Object.freeze({
  "Content-Type": "application/json",
});

function closedError(): Error {
  return new Error("connection closed");
}

let upgradeFromHead: (conn: Connection, head: string, headers: string) => boolean;
let createConnection: (host: ConnectionHost, c: number) => Connection;
let killConnection: (conn: Connection, fetchId: boolean) => void;
let connectionPtr: (conn: Connection) => [Abi, number];
let getInternals: (conn: Connection) => { c: number; host: ConnectionHost };
let setConnectionAddrs: (
  conn: Connection,
  remote: string | undefined,
  local: string | undefined,
) => void;

/**
 * One connection of a {@link Manager}: a listener, an accepted connection or
 * an outbound one. Connections are created by the Manager and handed to event
 * handlers. After `MG_EV_CLOSE` the connection is dead: its methods throw
 * `Error("connection closed")` (`send` returns false, `wsSend` and
 * `wsSendFrame` return 0, `close` and `wsClose` do nothing).
 *
 * @example
 * ```ts
 * import { Manager, MG_EV_HTTP_MSG } from "@wasmgoose/wasmgoose";
 *
 * const mgr = new Manager();
 * mgr.listen("http://127.0.0.1:8000", (c, ev) => {
 *   if (ev === MG_EV_HTTP_MSG) {
 *     c.reply(200, `hello ${c.remoteAddr}\n`, { "Content-Type": "text/plain" });
 *   }
 * });
 * ```
 */
export class Connection {
  #host: ConnectionHost;
  #abi: Abi;
  #c: number;
  #id = 0;
  #local: string | undefined;
  #remote: string | undefined;

  /**
   * Arbitrary data attached by the application.
   *
   * @example
   * ```ts
   * c.userdata = { user: "alice" };
   * ```
   */
  userdata: unknown = undefined;

  private constructor(host: ConnectionHost, c: number) {
    this.#host = host;
    this.#abi = host.abi;
    this.#c = c;
  }

  static {
    createConnection = (host, c) => new Connection(host, c);
    killConnection = (conn, fetchId) => {
      if (fetchId && conn.#c !== 0 && conn.#id === 0) {
        try {
          conn.#id = conn.#abi.x.mgw_info(conn.#c, 0);
        } catch {
          // instance is dead
        }
      }
      conn.#c = 0;
    };
    connectionPtr = (conn) => [conn.#abi, conn.#c];
    getInternals = (conn) => ({ c: conn.#c, host: conn.#host });
    setConnectionAddrs = (conn, remote, local) => {
      if (remote !== undefined) conn.#remote = remote;
      if (local !== undefined) conn.#local = local;
    };
  }

  #info(what: number): number {
    try {
      return this.#abi.x.mgw_info(this.#c, what);
    } catch (e) {
      throw this.#host.fail(e);
    }
  }

  /**
   * The Mongoose connection id (unique within its Manager).
   *
   * @example
   * ```ts
   * console.log(`connection ${c.id}`);
   * ```
   */
  get id(): number {
    if (this.#id === 0 && this.#c !== 0) this.#id = this.#info(0);
    return this.#id;
  }

  /**
   * The local address, `"ip:port"` (`"[ip]:port"` for IPv6). For a
   * listener, the bound address (with the real port when listening on port 0).
   *
   * @example
   * ```ts
   * const port = Number(lsn.localAddr.split(":").pop());
   * ```
   */
  get localAddr(): string {
    if (this.#local === undefined) {
      if (this.#c === 0) return "";
      const a = this.#host.addr(this.#c, false);
      if (a.endsWith(":0")) return a; // not bound yet: do not cache
      this.#local = a;
    }
    return this.#local;
  }

  /**
   * The remote address, `"ip:port"` (`"[ip]:port"` for IPv6).
   *
   * @example
   * ```ts
   * console.log("client", c.remoteAddr);
   * ```
   */
  get remoteAddr(): string {
    if (this.#remote === undefined) {
      if (this.#c === 0) return "";
      this.#remote = this.#host.addr(this.#c, true);
    }
    return this.#remote;
  }

  /**
   * Whether the connection is alive (false after `MG_EV_CLOSE`).
   *
   * @example
   * ```ts
   * setTimeout(() => { if (c.isAlive) c.reply(200, "late"); }, 100);
   * ```
   */
  get isAlive(): boolean {
    return this.#c !== 0;
  }

  /**
   * Whether this is a listening connection.
   *
   * @example
   * ```ts
   * if (c.isListening) console.log("listener", c.localAddr);
   * ```
   */
  get isListening(): boolean {
    return this.#c !== 0 && (this.#info(1) & F_LISTENING) !== 0;
  }

  /**
   * Whether this is an outbound (client) connection.
   *
   * @example
   * ```ts
   * if (c.isClient) c.send("ping\n");
   * ```
   */
  get isClient(): boolean {
    return this.#c !== 0 && (this.#info(1) & F_CLIENT) !== 0;
  }

  /**
   * Whether the connection is closing (true once dead).
   *
   * @example
   * ```ts
   * if (!c.isClosing) c.send("more");
   * ```
   */
  get isClosing(): boolean {
    return this.#c === 0 || (this.#info(1) & F_CLOSING) !== 0;
  }

  /**
   * Whether the connection closes once its output is sent.
   *
   * @example
   * ```ts
   * console.log(c.isDraining);
   * ```
   */
  get isDraining(): boolean {
    return this.#c !== 0 && (this.#info(1) & F_DRAINING) !== 0;
  }

  /**
   * Whether reads are paused. Set it to stop reading (backpressure), clear
   * it to resume.
   *
   * @example
   * ```ts
   * c.isFull = true; // stop reading until further notice
   * setTimeout(() => (c.isFull = false), 100);
   * ```
   */
  get isFull(): boolean {
    return this.#c !== 0 && (this.#info(1) & F_FULL) !== 0;
  }

  set isFull(on: boolean) {
    const c = this.#c;
    if (c === 0) throw closedError();
    try {
      this.#abi.x.mgw_set_full(c, on ? 1 : 0);
    } catch (e) {
      throw this.#host.fail(e);
    }
  }

  /**
   * Whether this is a WebSocket connection (its handshake is done: from
   * `MG_EV_WS_OPEN` on).
   *
   * @example
   * ```ts
   * for (const c of mgr.connections) if (c.isWebsocket) c.wsSend("news");
   * ```
   */
  get isWebsocket(): boolean {
    return this.#c !== 0 && (this.#info(1) & F_WEBSOCKET) !== 0;
  }

  /**
   * Whether the peer has closed its sending side (end of input). An HTTP
   * request being answered keeps the connection open until its response is
   * sent (a half-closed client may still read it).
   *
   * @example
   * ```ts
   * if (c.isEof) console.log("the client sends nothing more");
   * ```
   */
  get isEof(): boolean {
    return this.#c !== 0 && (this.#info(1) & F_EOF) !== 0;
  }

  /**
   * Bytes received and not yet consumed by the protocol.
   *
   * @example
   * ```ts
   * console.log(c.recvLen);
   * ```
   */
  get recvLen(): number {
    return this.#c === 0 ? 0 : this.#info(2);
  }

  /**
   * The received bytes not yet consumed (`c->recv`): a view into WebAssembly
   * memory, valid until the next call into the Manager or the connection
   * (copy it with `.slice()` to keep it). On a raw `tcp://` connection, data
   * stays here until {@link Connection.consume}d; on `udp://`, it holds
   * exactly the datagram of the current `MG_EV_READ`. Empty once closed.
   *
   * @example
   * ```ts
   * if (ev === MG_EV_READ) {
   *   c.send(c.recv); // echo
   *   c.consume(c.recv.length);
   * }
   * ```
   */
  get recv(): Uint8Array {
    const c = this.#c;
    if (c === 0) return new Uint8Array(0);
    try {
      return recvView(this.#abi, c);
    } catch (e) {
      throw this.#host.fail(e);
    }
  }

  /**
   * Removes the first `n` bytes of {@link Connection.recv} (all of them if
   * `n` is larger); returns how many bytes remain. Throws RangeError if `n`
   * is not a non-negative integer.
   *
   * @example
   * ```ts
   * const nl = c.recv.indexOf(10);
   * if (nl >= 0) c.consume(nl + 1); // one line handled
   * ```
   */
  consume(n: number): number {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`invalid byte count ${n}`);
    const c = this.#c;
    if (c === 0) return 0;
    try {
      return consumeRecv(this.#abi, c, n);
    } catch (e) {
      throw this.#host.fail(e);
    }
  }

  /**
   * Sends an SNTP request on a connection made by `Manager.sntpConnect`
   * (`mg_sntp_request`); if it is not connected yet, the request leaves once
   * it is. The answer arrives as `MG_EV_SNTP_TIME`.
   *
   * @example
   * ```ts
   * mgr.timerAdd(60_000, () => sntp.sntpRequest(), { repeat: true });
   * ```
   */
  sntpRequest(): void {
    const c = this.#c;
    if (c === 0) throw closedError();
    try {
      this.#abi.x.mgw_sntp_request(c);
    } catch (e) {
      throw this.#host.fail(e);
    }
  }

  /**
   * Resolves the host of `url` with the runtime's resolver (`mg_resolve`):
   * the handler gets `MG_EV_RESOLVE`, with {@link Connection.remoteAddr} set
   * to the address and the URL's port, or `MG_EV_ERROR` (which closes the
   * connection). IP literals resolve at once.
   *
   * @example
   * ```ts
   * c.resolve("tcp://localhost:80");
   * // later: if (ev === MG_EV_RESOLVE) console.log(c.remoteAddr); // 127.0.0.1:80
   * ```
   */
  resolve(url: string): void {
    const c = this.#c;
    if (c === 0) throw closedError();
    const abi = this.#abi;
    this.#remote = undefined;
    try {
      abi.x.mgw_resolve(c, abi.putCString(url));
    } catch (e) {
      throw this.#host.fail(e);
    }
    this.#remote = undefined;
  }

  /**
   * Drops a resolution started by {@link Connection.resolve}
   * (`mg_resolve_cancel`): no `MG_EV_RESOLVE` follows.
   *
   * @example
   * ```ts
   * c.resolve("tcp://example.com:80");
   * c.resolveCancel();
   * ```
   */
  resolveCancel(): void {
    const c = this.#c;
    if (c === 0) return;
    try {
      this.#abi.x.mgw_resolve_cancel(c);
    } catch (e) {
      throw this.#host.fail(e);
    }
  }

  /**
   * Bytes queued for sending.
   *
   * @example
   * ```ts
   * if (c.sendLen > 1 << 20) c.isFull = true;
   * ```
   */
  get sendLen(): number {
    return this.#c === 0 ? 0 : this.#info(3);
  }

  /**
   * Queues raw bytes (or UTF-8 text) for sending. Returns false if the
   * connection is closed or closing.
   *
   * @example
   * ```ts
   * c.send("hello\n");
   * c.send(new Uint8Array([1, 2, 3]));
   * ```
   */
  send(data: Uint8Array | string): boolean {
    const c = this.#c;
    if (c === 0) return false;
    const abi = this.#abi;
    try {
      let ptr: number, len: number;
      if (typeof data === "string") {
        ptr = abi.stage(data.length * 3);
        len = data.length === 0 ? 0 : encoder.encodeInto(data, abi.stageView).written;
      } else if (data.buffer === abi.memory.buffer) {
        ptr = data.byteOffset; // a view into WASM memory: no copy
        len = data.length;
      } else {
        len = data.length;
        ptr = abi.stage(len);
        abi.u8.set(data, ptr);
      }
      return abi.x.mgw_send(c, ptr, len) === 1;
    } catch (e) {
      throw this.#host.fail(e);
    }
  }

  /**
   * Sends an HTTP response: status line, the given headers, a
   * `Content-Length` header and the body (omitted for HEAD requests).
   * Throws TypeError if a header name or value contains CR, LF or NUL (or a
   * name contains ':' or whitespace).
   *
   * Tip: pass a frozen headers object (`Object.freeze({...})`) that you reuse:
   * its encoded header block is computed once.
   *
   * @example
   * ```ts
   * c.reply(200, "<h1>hi</h1>", { "Content-Type": "text/html" });
   * c.reply(204);
   * ```
   */
  reply(
    status: number,
    body?: string | Uint8Array,
    headers?: Record<string, string>,
  ): void {
    const c = this.#c;
    if (c === 0) throw closedError();
    let hb: Uint8Array | undefined;
    let hs = "";
    if (headers !== undefined) {
      hb = frozenBlockOf(headers);
      if (hb === undefined) hs = headerBlock(headers);
    }
    const hmax = hb !== undefined ? hb.length : hs.length * 3;
    const abi = this.#abi;
    try {
      let bptr: number, blen: number, hptr: number;
      if (body === undefined || typeof body === "string") {
        bptr = abi.stage((body === undefined ? 0 : body.length * 3) + hmax);
        blen = body === undefined || body.length === 0 ? 0 : abi.putText(body, bptr);
        hptr = bptr + blen;
      } else if (body.buffer === abi.memory.buffer) {
        bptr = body.byteOffset; // a view into WASM memory: no copy
        blen = body.length;
        hptr = abi.stage(hmax);
      } else {
        blen = body.length;
        bptr = abi.stage(blen + hmax);
        abi.u8.set(body, bptr);
        hptr = bptr + blen;
      }
      let hlen = 0;
      if (hb !== undefined) {
        abi.u8.set(hb, hptr);
        hlen = hb.length;
      } else if (hs.length > 0) {
        hlen = abi.putText(hs, hptr);
      }
      abi.x.mgw_http_reply(c, status | 0, hptr, hlen, bptr, blen);
    } catch (e) {
      throw this.#host.fail(e);
    }
  }

  /**
   * Sends `value` as a JSON response (`Content-Type: application/json`).
   *
   * @example
   * ```ts
   * c.replyJson({ ok: true });
   * c.replyJson({ error: "Not Found" }, 404);
   * ```
   */
  replyJson(
    value: unknown,
    status = 200,
    headers?: Record<string, string>,
  ): void {
    const body = JSON.stringify(value) ?? "null";
    this.reply(
      status,
      body,
      headers === undefined ? JSON_HEADERS : { ...JSON_HEADERS, ...headers },
    );
  }

  /**
   * Accepts a WebSocket handshake: call it while handling `MG_EV_HTTP_MSG`,
   * with that event's message. The C core answers `101 Switching Protocols`
   * (with `headers` added to the response) and fires `MG_EV_WS_OPEN`; from
   * then on the connection gets `MG_EV_WS_MSG` and `MG_EV_WS_CTL`. A request
   * that is not a valid WebSocket handshake is answered `400`. Throws
   * TypeError if a header name or value contains CR, LF or NUL (or a name
   * contains ':' or whitespace), or if `hm` is not a live `HttpMessage`.
   *
   * To accept a subprotocol, read the client's offer and echo one back.
   *
   * @example
   * ```ts
   * mgr.listen("http://0.0.0.0:8000", (c, ev, data) => {
   *   if (ev !== MG_EV_HTTP_MSG) return;
   *   const hm = data as HttpMessage;
   *   if (hm.uri !== "/ws") return c.reply(404, "not found\n");
   *   const offered = hm.header("sec-websocket-protocol") ?? "";
   *   if (offered.split(",").map((p) => p.trim()).includes("chat")) {
   *     c.wsUpgrade(hm, { "Sec-WebSocket-Protocol": "chat" });
   *   } else {
   *     c.wsUpgrade(hm);
   *   }
   * });
   * ```
   */
  wsUpgrade(hm: HttpMessage, headers?: Record<string, string>): void {
    const c = this.#c;
    if (c === 0) throw closedError();
    if (!(hm instanceof HttpMessage)) {
      throw new TypeError("wsUpgrade() needs the HttpMessage of MG_EV_HTTP_MSG");
    }
    const hmPtr = httpMessagePtr(hm);
    let hb: Uint8Array | undefined;
    let hs = "";
    if (headers !== undefined) {
      hb = frozenBlockOf(headers);
      if (hb === undefined) hs = headerBlock(headers);
    }
    const abi = this.#abi;
    try {
      let hptr: number, hlen: number;
      if (hb !== undefined) {
        hptr = abi.putBytes(hb);
        hlen = hb.length;
      } else {
        hptr = abi.stage(hs.length * 3);
        hlen = hs.length === 0 ? 0 : encoder.encodeInto(hs, abi.stageView).written;
      }
      abi.x.mgw_ws_upgrade(c, hmPtr, hptr, hlen);
    } catch (e) {
      throw this.#host.fail(e);
    }
  }

  /**
   * Sends one WebSocket message (a single frame with FIN set). `op` defaults
   * to `WEBSOCKET_OP_TEXT` for a string (sent UTF-8 encoded) and
   * `WEBSOCKET_OP_BINARY` for bytes; `WEBSOCKET_OP_PING` and
   * `WEBSOCKET_OP_PONG` send control frames (at most 125 bytes). Returns the
   * size of the frame queued (header included), or 0 if the connection is
   * closed. Throws RangeError for an opcode outside 0-15 or an oversized
   * control frame.
   *
   * @example
   * ```ts
   * c.wsSend("hello");
   * c.wsSend(new Uint8Array([1, 2, 3]));
   * c.wsSend(JSON.stringify({ n: 1 }), WEBSOCKET_OP_TEXT);
   * c.wsSend("", WEBSOCKET_OP_PING);
   * ```
   */
  wsSend(data: string | Uint8Array, op?: number): number {
    const o = op ?? (typeof data === "string" ? WEBSOCKET_OP_TEXT : WEBSOCKET_OP_BINARY);
    return this.#wsOut(data, o, -1);
  }

  /**
   * Sends one WebSocket frame with an explicit FIN bit, to send a message in
   * fragments: the first frame with `WEBSOCKET_OP_TEXT` or
   * `WEBSOCKET_OP_BINARY` and `fin` false, then `WEBSOCKET_OP_CONTINUE`
   * frames, the last one with `fin` true. A text message may be split
   * anywhere, even inside a UTF-8 sequence (when `data` is bytes). Returns the
   * size of the frame queued, or 0 if the connection is closed.
   *
   * @example
   * ```ts
   * c.wsSendFrame("Hello, ", WEBSOCKET_OP_TEXT, false);
   * c.wsSendFrame("World", WEBSOCKET_OP_CONTINUE, false);
   * c.wsSendFrame("!", WEBSOCKET_OP_CONTINUE, true); // the peer gets "Hello, World!"
   * ```
   */
  wsSendFrame(data: string | Uint8Array, op: number, fin: boolean): number {
    return this.#wsOut(data, op, fin ? 1 : 0);
  }

  /** `mgw_ws_send` (`fin` < 0) or `mgw_ws_frame`. */
  #wsOut(data: string | Uint8Array, op: number, fin: number): number {
    if (!Number.isInteger(op) || op < 0 || op > 15) {
      throw new RangeError(`invalid WebSocket opcode ${op}`);
    }
    const c = this.#c;
    if (c === 0) return 0;
    const abi = this.#abi;
    let ptr: number, len: number;
    try {
      if (typeof data === "string") {
        ptr = abi.stage(data.length * 3);
        len = data.length === 0 ? 0 : encoder.encodeInto(data, abi.stageView).written;
      } else if (data.buffer === abi.memory.buffer) {
        ptr = data.byteOffset; // a view into WASM memory (an echo): no copy
        len = data.length;
      } else {
        len = data.length;
        ptr = abi.stage(len);
        abi.u8.set(data, ptr);
      }
    } catch (e) {
      throw this.#host.fail(e);
    }
    if (op >= 8 && len > MAX_CONTROL) {
      throw new RangeError(`WebSocket control frame of ${len} bytes (at most ${MAX_CONTROL})`);
    }
    try {
      return fin < 0
        ? abi.x.mgw_ws_send(c, ptr, len, op)
        : abi.x.mgw_ws_frame(c, ptr, len, op, fin);
    } catch (e) {
      throw this.#host.fail(e);
    }
  }

  /**
   * Starts the WebSocket closing handshake: sends a close frame with `code`
   * (default 1000, normal closure; 0 sends a close frame without a status)
   * and `reason` (at most 123 bytes of UTF-8); the connection closes once the
   * peer answers. Does nothing on a connection that is already closed.
   * Throws RangeError for a code a close frame may not carry (valid: 1000-1003,
   * 1007-1014, 3000-4999) or a reason that is too long.
   *
   * @example
   * ```ts
   * c.wsClose(); // 1000
   * c.wsClose(1008, "policy violation");
   * ```
   */
  wsClose(code = 1000, reason = ""): void {
    if (!isSendableCloseCode(code) || (code === 0 && reason.length > 0)) {
      throw new RangeError(`invalid WebSocket close code ${code}`);
    }
    const c = this.#c;
    if (c === 0) return;
    const rlen = reason.length === 0 ? 0 : encoder.encode(reason).length;
    if (rlen > MAX_CONTROL - 2) {
      throw new RangeError(`WebSocket close reason of ${rlen} bytes (at most ${MAX_CONTROL - 2})`);
    }
    const abi = this.#abi;
    try {
      const ptr = abi.stage(rlen);
      if (rlen > 0) encoder.encodeInto(reason, abi.stageView);
      abi.x.mgw_ws_close(c, code, ptr, rlen);
    } catch (e) {
      throw this.#host.fail(e);
    }
  }

  /**
   * Serves the file the request names under `opts.rootDir` (default: the
   * current directory), as `mg_http_serve_dir`: call it while handling
   * `MG_EV_HTTP_MSG`. Directories get their `index.html` or an HTML listing
   * (a path without its trailing slash is redirected), other methods than
   * GET and HEAD get 405. Answers range requests (206 / 416), conditional
   * requests (`ETag` with `If-None-Match`, `Last-Modified` with
   * `If-Modified-Since`: 304), serves `file.gz` with
   * `Content-Encoding: gzip` when the client accepts gzip, and 404 (or
   * `opts.page404`) for missing files. Paths never leave the root: `..`,
   * encoded slashes, backslashes and control characters get 400. Large files
   * are streamed as the client reads them. Throws TypeError for options with
   * NUL, CR or LF, or if `hm` is not a live `HttpMessage`.
   *
   * @example
   * ```ts
   * mgr.listen("http://0.0.0.0:8000", (c, ev, data) => {
   *   if (ev === MG_EV_HTTP_MSG) c.serveDir(data as HttpMessage, { rootDir: "./public" });
   * });
   * ```
   */
  serveDir(hm: HttpMessage, opts?: ServeDirOptions): void {
    this.#serve(hm, false, opts?.rootDir ?? ".", opts);
  }

  /**
   * Serves the file at `path` (as `mg_http_serve_file`) with the same
   * ranges, conditional requests, gzip variant and streaming as
   * {@link Connection.serveDir}; 404 if it does not exist. Call it while
   * handling `MG_EV_HTTP_MSG`.
   *
   * @example
   * ```ts
   * if (hm.uri === "/favicon.ico") c.serveFile(hm, "./static/favicon.ico");
   * ```
   */
  serveFile(hm: HttpMessage, path: string, opts?: ServeDirOptions): void {
    this.#serve(hm, true, path, opts);
  }

  /**
   * Streams the request body into a file of `opts.dir` as it arrives
   * (bodies of any size up to `opts.maxSize`, default 1 GiB; larger ones get
   * 413 before a byte is written). Call it while handling
   * `MG_EV_HTTP_HDRS` (or `MG_EV_HTTP_MSG` for bodies that fit in memory).
   * The name is the `?name=` query variable or else the last segment of the
   * URI, with no path components (else 400). The body goes to a temporary
   * file renamed once complete; then the client gets
   * `201 {"name":"…","size":N}`. A chunked body gets 411.
   *
   * @example
   * ```ts
   * mgr.listen("http://0.0.0.0:8000", (c, ev, data) => {
   *   const hm = data as HttpMessage;
   *   if (ev === MG_EV_HTTP_HDRS && hm.method === "PUT") {
   *     c.upload(hm, { dir: "/tmp/uploads", maxSize: 1 << 30 });
   *   }
   * });
   * ```
   */
  upload(hm: HttpMessage, opts: UploadOptions): void {
    this.#withMessage(hm, "upload() needs", "HDRS", (c, p) => uploadStream(this.#abi, c, p, opts));
  }

  /**
   * Makes the body of this request arrive as it comes in (as
   * `mg_http_body_stream`, a wasmgoose extension): call it while handling
   * `MG_EV_HTTP_HDRS`. The body then reaches the handler as
   * `MG_EV_HTTP_BODY` events whose data is a `Uint8Array` piece (a chunked
   * body decoded; a view valid during the call only: copy what you keep),
   * and an empty piece at its end; `MG_EV_HTTP_MSG` does not fire. Bodies
   * of any size work (not limited by `MG_MAX_RECV_SIZE`); set
   * {@link Connection.isFull} to stop reading for a while (backpressure).
   * Answer at any time, before or after the end of the body; the next
   * pipelined request waits for both. A malformed chunked body gives one
   * event with data `null`: the rest of the input is dropped, and the
   * connection closes after the response, which the handler still sends
   * (400, if it has not answered yet). "Expect: 100-continue" is answered.
   * While `isFull` is set no piece arrives, not even of input already read.
   * Returns false, doing nothing, if
   * the request has no body (then `MG_EV_HTTP_MSG` follows as usual) or
   * this is not `MG_EV_HTTP_HDRS` of a server connection. A listener given
   * `events` must list `MG_EV_HTTP_HDRS` and `MG_EV_HTTP_BODY`.
   *
   * @example
   * ```ts
   * let size = 0;
   * mgr.listen("http://0.0.0.0:8000", (c, ev, data) => {
   *   if (ev === MG_EV_HTTP_HDRS) c.streamBody(data as HttpMessage);
   *   if (ev === MG_EV_HTTP_BODY && data !== null) {
   *     const piece = data as Uint8Array;
   *     size += piece.length;
   *     if (piece.length === 0) c.reply(200, `${size} bytes\n`);
   *   }
   * });
   * ```
   */
  streamBody(hm: HttpMessage): boolean {
    return this.#withMessage(
      hm,
      "streamBody() needs",
      "HDRS",
      (c, p) => this.#abi.x.mgw_body_stream(c, p) === 1,
    );
  }

  /**
   * Takes one piece of a file sent in pieces (as `mg_http_upload`): each
   * piece is the whole body of its own request
   * `…?file=NAME&offset=N`. Offset 0 creates or truncates `opts.dir/NAME`;
   * a later piece is appended, and its offset must be the file's size, else
   * the client gets `409 {"name":"…","size":SIZE}` and can resume from
   * SIZE. A name with path components, or a missing offset, gets 400; a
   * file that would pass `opts.maxSize` (default 1 GiB) gets 413. Answers
   * `200 {"name":"…","size":NEW_SIZE}`. Returns the bytes written, or -1
   * after an error reply. Call it while handling `MG_EV_HTTP_MSG`; pieces
   * must fit in memory (`MG_MAX_RECV_SIZE`), use {@link Connection.upload}
   * for a file in one request of any size.
   *
   * @example
   * ```ts
   * mgr.listen("http://0.0.0.0:8000", (c, ev, data) => {
   *   const hm = data as HttpMessage;
   *   if (ev === MG_EV_HTTP_MSG && hm.uri === "/upload") {
   *     c.uploadChunk(hm, { dir: "/tmp/uploads", maxSize: 100 * 1024 * 1024 });
   *   }
   * });
   * ```
   */
  uploadChunk(hm: HttpMessage, opts: UploadChunkOptions): number {
    return this.#withMessage(
      hm,
      "uploadChunk() needs",
      "MSG",
      (c, p) => uploadChunk(this.#abi, c, p, opts),
    );
  }

  #serve(hm: HttpMessage, file: boolean, target: string, opts: ServeDirOptions | undefined): void {
    this.#withMessage(hm, "serveDir() / serveFile() need", "MSG", (c, p) => {
      serveStatic(this.#abi, c, p, file, target, opts);
    });
  }

  /**
   * Runs `call` with this connection and the live message `hm`: a closed
   * connection or a stale message throws, and so do bad options (TypeError,
   * RangeError); a host failure inside is the host's error.
   */
  #withMessage<T>(
    hm: HttpMessage,
    what: string,
    ev: "HDRS" | "MSG",
    call: (c: number, hmPtr: number) => T,
  ): T {
    const c = this.#c;
    if (c === 0) throw closedError();
    if (!(hm instanceof HttpMessage)) {
      throw new TypeError(`${what} the HttpMessage of MG_EV_HTTP_${ev}`);
    }
    const hmPtr = httpMessagePtr(hm);
    try {
      return call(c, hmPtr);
    } catch (e) {
      if (e instanceof TypeError || e instanceof RangeError) throw e;
      throw this.#host.fail(e);
    }
  }

  /**
   * MQTT: publishes `message` on `topic` (`mg_mqtt_pub`) and returns the
   * packet id (0 for QoS 0). QoS 1 and 2 publishes are tracked until
   * acknowledged (PUBACK; PUBREC, PUBREL, PUBCOMP) and resent if needed.
   * Returns 0 on a closed connection. Throws RangeError for a bad QoS.
   *
   * @example
   * ```ts
   * const id = c.mqttPub("sensors/t1", JSON.stringify({ t: 21.5 }), { qos: 1 });
   * ```
   */
  mqttPub(topic: string, message: string | Uint8Array, opts?: MqttPubOptions): number {
    return mqttPub(this, topic, message, opts);
  }

  /**
   * MQTT: subscribes to a topic filter (`mg_mqtt_sub`); the SUBACK arrives
   * as `MG_EV_MQTT_CMD`.
   *
   * @example
   * ```ts
   * c.mqttSub("sensors/+/temperature", { qos: 1 });
   * ```
   */
  mqttSub(topic: string, opts?: MqttSubOptions): void {
    mqttSub(this, topic, opts);
  }

  /**
   * MQTT: unsubscribes from a topic filter (`mg_mqtt_unsub`).
   *
   * @example
   * ```ts
   * c.mqttUnsub("sensors/#");
   * ```
   */
  mqttUnsub(topic: string, opts?: MqttSubOptions): void {
    mqttUnsub(this, topic, opts);
  }

  /**
   * MQTT: sends a PINGREQ (`mg_mqtt_ping`; keepalive pings are automatic).
   *
   * @example
   * ```ts
   * c.mqttPing();
   * ```
   */
  mqttPing(): void {
    mqttPing(this, false);
  }

  /**
   * MQTT: sends a PINGRESP (`mg_mqtt_pong`; a server answers PINGREQ
   * automatically).
   *
   * @example
   * ```ts
   * c.mqttPong();
   * ```
   */
  mqttPong(): void {
    mqttPing(this, true);
  }

  /**
   * MQTT: sends DISCONNECT (`mg_mqtt_disconnect`, with MQTT 5 properties if
   * given) and closes the connection once it is sent.
   *
   * @example
   * ```ts
   * c.mqttDisconnect();
   * ```
   */
  mqttDisconnect(props?: MqttProperty[]): void {
    if (this.#c === 0) return;
    mqttDisconnect(this, props);
    this.drain();
  }

  /**
   * MQTT: sends a fixed header (`mg_mqtt_send_header`): packet type, flags
   * and remaining length; the rest of the packet follows with `send`.
   *
   * @example
   * ```ts
   * c.mqttSendHeader(MQTT_CMD_CONNACK, 0, 2);
   * c.send(new Uint8Array([0, 0]));
   * ```
   */
  mqttSendHeader(cmd: number, flags: number, len: number): void {
    mqttSendHeader(this, cmd, flags, len);
  }

  /**
   * Starts a chunked response: the status line, `headers` and
   * `Transfer-Encoding: chunked`; send the body with {@link Connection.chunk}
   * and end it with an empty chunk. Throws TypeError for a header name or
   * value with CR, LF or NUL.
   *
   * @example
   * ```ts
   * c.startChunked(200, { "Content-Type": "text/plain" });
   * c.chunk("hello, ");
   * c.chunk("world\n");
   * c.chunk(""); // the end
   * ```
   */
  startChunked(status = 200, headers?: Record<string, string>): void {
    this.#startChunked(status, headers, false);
  }

  /**
   * Sends one chunk of a chunked (or SSE) response (`mg_http_write_chunk`);
   * an empty chunk ends the response and lets the next pipelined request in.
   *
   * @example
   * ```ts
   * c.chunk(new Uint8Array([1, 2, 3]));
   * c.chunk("");
   * ```
   */
  chunk(data: string | Uint8Array): void {
    const c = this.#c;
    if (c === 0) throw closedError();
    try {
      chunkWrite(this.#abi, c, data);
    } catch (e) {
      throw this.#host.fail(e);
    }
  }

  /**
   * Starts a Server-Sent Events stream: `200`, `Content-Type:
   * text/event-stream`, `Cache-Control: no-cache`, `headers`, chunked. Send
   * events with {@link Connection.sse}; end with `chunk("")`.
   *
   * @example
   * ```ts
   * c.startSse();
   * c.sse({ data: "hello" });
   * ```
   */
  startSse(headers?: Record<string, string>): void {
    this.#startChunked(200, headers, true);
  }

  /**
   * Sends one Server-Sent Event as one chunk: `event:`, `id:`, `retry:` when
   * given, and one `data:` line per line of `data` (CRLF, CR and LF all end a
   * line). Throws TypeError if `event` or `id` contains CR, LF or NUL,
   * RangeError for a `retry` that is not a non-negative integer.
   *
   * @example
   * ```ts
   * c.sse({ event: "update", data: "line 1\nline 2", id: "42", retry: 3000 });
   * ```
   */
  sse(msg: SseMessage): void {
    const c = this.#c;
    if (c === 0) throw closedError();
    const abi = this.#abi;
    try {
      sseWrite(abi, c, msg);
    } catch (e) {
      if (e instanceof TypeError || e instanceof RangeError) throw e;
      throw this.#host.fail(e);
    }
  }

  #startChunked(status: number, headers: Record<string, string> | undefined, sse: boolean): void {
    const c = this.#c;
    if (c === 0) throw closedError();
    let hb: Uint8Array | undefined;
    let hs = "";
    if (headers !== undefined) {
      hb = frozenBlockOf(headers);
      if (hb === undefined) hs = headerBlock(headers);
    }
    try {
      chunkStart(this.#abi, c, status, hb, hs, sse);
    } catch (e) {
      throw this.#host.fail(e);
    }
  }

  static {
    upgradeFromHead = (conn, head, headers) => {
      const c = conn.#c;
      if (c === 0) throw closedError();
      try {
        return wsUpgradeHead(conn.#abi, c, head, headers);
      } catch (e) {
        throw conn.#host.fail(e);
      }
    };
  }

  /**
   * Closes the connection once its queued output is sent.
   *
   * @example
   * ```ts
   * c.reply(200, "bye");
   * c.drain();
   * ```
   */
  drain(): void {
    const c = this.#c;
    if (c === 0) throw closedError();
    try {
      this.#abi.x.mgw_drain(c);
    } catch (e) {
      throw this.#host.fail(e);
    }
  }

  /**
   * Closes the connection now (queued output is dropped). Does nothing on a
   * connection that is already closed.
   *
   * @example
   * ```ts
   * c.close();
   * ```
   */
  close(): void {
    const c = this.#c;
    if (c === 0) return;
    try {
      this.#abi.x.mgw_close(c);
    } catch (e) {
      throw this.#host.fail(e);
    }
  }
}

/** Whether a close frame may carry `code` (0: no status code). */
function isSendableCloseCode(code: number): boolean {
  if (!Number.isInteger(code)) return false;
  return code === 0 || (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}

/**
 * Internal (serve): upgrades `conn` to WebSocket from a copy of the request
 * head (`headers`: extra response header lines); false if it did not parse.
 */
export function wsUpgradeFromHead(conn: Connection, head: string, headers: string): boolean {
  return upgradeFromHead(conn, head, headers);
}

/** Internal: creates a Connection for the C pointer `c`. */
export function newConnection(host: ConnectionHost, c: number): Connection {
  return createConnection(host, c);
}

/**
 * Internal: marks `conn` dead. `fetchId`: read its id first (during
 * `MG_EV_CLOSE`, while the C connection still exists).
 */
export function endConnection(conn: Connection, fetchId: boolean): void {
  killConnection(conn, fetchId);
}

/** Internal: the instance and C pointer of `conn` (0 once closed). */
export function connInternals(conn: Connection): [Abi, number] {
  return connectionPtr(conn);
}

/** Internal: the C pointer (0 once closed) and the Manager side of `conn`. */
export function connectionInternals(conn: Connection): { c: number; host: ConnectionHost } {
  return getInternals(conn);
}

/** Internal: sets the cached addresses of `conn`. */
export function setAddrs(
  conn: Connection,
  remote: string | undefined,
  local: string | undefined,
): void {
  setConnectionAddrs(conn, remote, local);
}
