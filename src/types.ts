/**
 * Public types of the wasmgoose API.
 *
 * @module
 */

import type { Connection } from "./connection.ts";
import type { HttpMessage } from "./http.ts";
import type { WsMessage } from "./ws.ts";

/**
 * An event handler, as in Mongoose: called with the connection, the event
 * (`MG_EV_*`) and the event's data:
 *
 * | event | data |
 * |---|---|
 * | `MG_EV_ERROR` | the error message (`string`) |
 * | `MG_EV_READ`, `MG_EV_WRITE` | number of bytes (`number`) |
 * | `MG_EV_HTTP_HDRS`, `MG_EV_HTTP_MSG`, `MG_EV_WS_OPEN` | an `HttpMessage`, valid during the call only |
 * | `MG_EV_WS_MSG`, `MG_EV_WS_CTL` | a `WsMessage`, valid during the call only |
 * | `MG_EV_POLL` | uptime in milliseconds (`number`) |
 * | `MG_EV_SNTP_TIME` | the server's time, epoch milliseconds (`number`) |
 * | `MG_EV_WAKEUP` | the data of `Manager.wakeup` (`Uint8Array`, a copy) |
 * | others | `undefined` |
 *
 * A handler that throws is logged; if it was handling `MG_EV_HTTP_MSG` and
 * did not answer, the request gets a 500 response. The server goes on.
 *
 * @example
 * ```ts
 * import { type EventHandler, MG_EV_HTTP_MSG } from "@wasmgoose/wasmgoose";
 *
 * const handler: EventHandler = (c, ev) => {
 *   if (ev === MG_EV_HTTP_MSG) c.reply(200, "hello\n");
 * };
 * ```
 */
export type EventHandler = (conn: Connection, ev: number, data: unknown) => void;

/**
 * The data of an event: see {@link EventHandler}.
 *
 * @example
 * ```ts
 * import type { EventData } from "@wasmgoose/wasmgoose";
 * const d: EventData = "connection refused";
 * ```
 */
export type EventData = string | number | Uint8Array | HttpMessage | WsMessage | undefined;

/**
 * Options of `Manager.listen` and `Manager.connect`.
 *
 * @example
 * ```ts
 * import { Manager, MG_EV_HTTP_MSG } from "@wasmgoose/wasmgoose";
 * const mgr = new Manager();
 * mgr.listen("http://0.0.0.0:8000", (c) => c.reply(200, "ok"), {
 *   events: [MG_EV_HTTP_MSG],
 * });
 * ```
 */
export interface ListenOptions {
  /**
   * Deliver only these events to the handler (default: all). Fewer events
   * mean fewer crossings between WebAssembly and JavaScript.
   */
  events?: number[];
  /**
   * TLS settings for `https://`, `wss://` (and other TLS) URLs: a listener
   * needs `cert` and `key`, a client may give `ca` (e.g. for a self-signed
   * certificate; the server's name is checked against the URL's host).
   * Ignored for plain URLs.
   */
  tls?: TlsOptions;
  /**
   * Share the port with other processes (SO_REUSEPORT, Linux): the kernel
   * spreads new connections over them. On Deno it needs `--unstable-net`;
   * Node.js 22.12 / 23.1 and later and Bun pass it to `server.listen`, older
   * Node.js ignores it (processes share a port through node:cluster there,
   * see `runWorkers()`).
   */
  reusePort?: boolean;
}

/**
 * TLS settings (TLS is done by the runtime: `Deno.listenTls` /
 * `Deno.connectTls`, `node:tls`). PEM text or its bytes.
 *
 * @example
 * ```ts
 * const tls: TlsOptions = {
 *   cert: Deno.readTextFileSync("cert.pem"),
 *   key: Deno.readTextFileSync("key.pem"),
 * };
 * mgr.listen("https://0.0.0.0:8443", handler, { tls });
 * ```
 */
export interface TlsOptions {
  /** Server: the certificate chain (PEM). */
  cert?: string | Uint8Array;
  /** Server: the private key (PEM). */
  key?: string | Uint8Array;
  /** Client: CA certificates to trust instead of the system's (PEM). */
  ca?: string | Uint8Array | Array<string | Uint8Array>;
}

/**
 * Options of `Manager.timerAdd`.
 *
 * @example
 * ```ts
 * mgr.timerAdd(1000, () => console.log("tick"), { repeat: true, runNow: true });
 * ```
 */
export interface TimerOptions {
  /** Call the function every `ms` milliseconds until cancelled. */
  repeat?: boolean;
  /** Also call it right away (at the next poll). */
  runNow?: boolean;
}

/**
 * Options of `Manager.wsConnect`: the event filter of {@link ListenOptions},
 * extra handshake headers and the subprotocols to offer.
 *
 * @example
 * ```ts
 * mgr.wsConnect("ws://127.0.0.1:8000/ws", handler, {
 *   headers: { Authorization: "Bearer 123" },
 *   protocols: ["chat", "superchat"],
 * });
 * ```
 */
export interface WsConnectOptions extends ListenOptions {
  /** Extra request headers of the handshake (no CR, LF or NUL). */
  headers?: Record<string, string>;
  /**
   * Subprotocols to offer (`Sec-WebSocket-Protocol`); the one the server
   * chose is `hm.header("sec-websocket-protocol")` at `MG_EV_WS_OPEN`.
   */
  protocols?: string[];
}
