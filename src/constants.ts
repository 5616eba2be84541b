/**
 * Event and log-level constants of the Mongoose API, with the same numeric
 * values as `vendor/mongoose/mongoose.h`.
 *
 * @example
 * ```ts
 * import { MG_EV_HTTP_MSG } from "@wasmgoose/wasmgoose";
 * console.log(MG_EV_HTTP_MSG); // 11
 * ```
 *
 * @module
 */

/**
 * Error. Event data: the error message (`string`).
 *
 * @example
 * ```ts
 * mgr.listen("http://0.0.0.0:8000", (c, ev, data) => {
 *   if (ev === MG_EV_ERROR) console.error(c.id, data);
 * });
 * ```
 */
export const MG_EV_ERROR = 0;
/**
 * Connection created. Event data: `undefined`.
 *
 * @example
 * ```ts
 * if (ev === MG_EV_OPEN) c.userdata = { started: Date.now() };
 * ```
 */
export const MG_EV_OPEN = 1;
/**
 * One `mg_mgr_poll` iteration. Event data: uptime in milliseconds (`number`).
 *
 * @example
 * ```ts
 * if (ev === MG_EV_POLL) console.log("uptime", data);
 * ```
 */
export const MG_EV_POLL = 2;
/**
 * Host name resolved. Event data: `undefined`.
 *
 * @example
 * ```ts
 * if (ev === MG_EV_RESOLVE) console.log("resolved");
 * ```
 */
export const MG_EV_RESOLVE = 3;
/**
 * Outbound connection established. Event data: `undefined`.
 *
 * @example
 * ```ts
 * if (ev === MG_EV_CONNECT) c.send("hello\n");
 * ```
 */
export const MG_EV_CONNECT = 4;
/**
 * Inbound connection accepted. Event data: `undefined`.
 *
 * @example
 * ```ts
 * if (ev === MG_EV_ACCEPT) console.log("client", c.remoteAddr);
 * ```
 */
export const MG_EV_ACCEPT = 5;
/**
 * TLS handshake succeeded. Event data: `undefined`.
 *
 * @example
 * ```ts
 * if (ev === MG_EV_TLS_HS) console.log("TLS ready");
 * ```
 */
export const MG_EV_TLS_HS = 6;
/**
 * Data received from the socket. Event data: number of bytes read (`number`).
 *
 * @example
 * ```ts
 * if (ev === MG_EV_READ) console.log("got", data, "bytes");
 * ```
 */
export const MG_EV_READ = 7;
/**
 * Data written to the socket. Event data: number of bytes written (`number`).
 *
 * @example
 * ```ts
 * if (ev === MG_EV_WRITE) console.log("sent", data, "bytes");
 * ```
 */
export const MG_EV_WRITE = 8;
/**
 * Connection closed. Event data: `undefined`. The connection is dead after
 * this event.
 *
 * @example
 * ```ts
 * if (ev === MG_EV_CLOSE) console.log("bye", c.id);
 * ```
 */
export const MG_EV_CLOSE = 9;
/**
 * HTTP headers received. Event data: an `HttpMessage` (body not yet there).
 *
 * @example
 * ```ts
 * if (ev === MG_EV_HTTP_HDRS) console.log((data as HttpMessage).uri);
 * ```
 */
export const MG_EV_HTTP_HDRS = 10;
/**
 * Full HTTP request or response received. Event data: an `HttpMessage`.
 *
 * @example
 * ```ts
 * if (ev === MG_EV_HTTP_MSG) c.reply(200, "hi\n");
 * ```
 */
export const MG_EV_HTTP_MSG = 11;
/**
 * WebSocket handshake done. Event data: an `HttpMessage`: the upgrade request
 * (server side) or the `101` response (client side).
 *
 * @example
 * ```ts
 * if (ev === MG_EV_WS_OPEN) c.wsSend("welcome");
 * ```
 */
export const MG_EV_WS_OPEN = 12;
/**
 * WebSocket message, text or binary (fragments already reassembled). Event
 * data: a `WsMessage`, valid during the call only.
 *
 * @example
 * ```ts
 * if (ev === MG_EV_WS_MSG) {
 *   const msg = data as WsMessage;
 *   c.wsSend(msg.data, msg.op); // echo
 * }
 * ```
 */
export const MG_EV_WS_MSG = 13;
/**
 * WebSocket control frame (ping, pong, close). Event data: a `WsMessage`,
 * valid during the call only. Pings are answered and closes echoed by the C
 * core.
 *
 * @example
 * ```ts
 * if (ev === MG_EV_WS_CTL && (data as WsMessage).op === WEBSOCKET_OP_PONG) {
 *   console.log("pong");
 * }
 * ```
 */
export const MG_EV_WS_CTL = 14;
/**
 * MQTT low-level command.
 *
 * @example
 * ```ts
 * if (ev === MG_EV_MQTT_CMD) console.log("mqtt command");
 * ```
 */
export const MG_EV_MQTT_CMD = 15;
/**
 * MQTT PUBLISH received.
 *
 * @example
 * ```ts
 * if (ev === MG_EV_MQTT_MSG) console.log("mqtt message");
 * ```
 */
export const MG_EV_MQTT_MSG = 16;
/**
 * MQTT CONNACK received.
 *
 * @example
 * ```ts
 * if (ev === MG_EV_MQTT_OPEN) console.log("mqtt connected");
 * ```
 */
export const MG_EV_MQTT_OPEN = 17;
/**
 * SNTP time received.
 *
 * @example
 * ```ts
 * if (ev === MG_EV_SNTP_TIME) console.log("time");
 * ```
 */
export const MG_EV_SNTP_TIME = 18;
/**
 * `mg_wakeup()` data received.
 *
 * @example
 * ```ts
 * if (ev === MG_EV_WAKEUP) console.log("wakeup");
 * ```
 */
export const MG_EV_WAKEUP = 19;
/**
 * mDNS request (unused here).
 *
 * @example
 * ```ts
 * if (ev === MG_EV_MDNS_REQ) console.log("mdns request");
 * ```
 */
export const MG_EV_MDNS_REQ = 20;
/**
 * mDNS response (unused here).
 *
 * @example
 * ```ts
 * if (ev === MG_EV_MDNS_RESP) console.log("mdns response");
 * ```
 */
export const MG_EV_MDNS_RESP = 21;
/**
 * Modbus request (unused here).
 *
 * @example
 * ```ts
 * if (ev === MG_EV_MODBUS_REQ) console.log("modbus");
 * ```
 */
export const MG_EV_MODBUS_REQ = 22;
/**
 * First id available for user-defined events.
 *
 * @example
 * ```ts
 * const MY_EVENT = MG_EV_USER + 1;
 * ```
 */
export const MG_EV_USER = 23;

/**
 * WebSocket opcode: continuation frame (a fragment after the first).
 *
 * @example
 * ```ts
 * c.wsSendFrame("Hel", WEBSOCKET_OP_TEXT, false);
 * c.wsSendFrame("lo", WEBSOCKET_OP_CONTINUE, true);
 * ```
 */
export const WEBSOCKET_OP_CONTINUE = 0;
/**
 * WebSocket opcode: text message (UTF-8).
 *
 * @example
 * ```ts
 * c.wsSend("hello", WEBSOCKET_OP_TEXT);
 * ```
 */
export const WEBSOCKET_OP_TEXT = 1;
/**
 * WebSocket opcode: binary message.
 *
 * @example
 * ```ts
 * c.wsSend(new Uint8Array([1, 2, 3]), WEBSOCKET_OP_BINARY);
 * ```
 */
export const WEBSOCKET_OP_BINARY = 2;
/**
 * WebSocket opcode: close (control frame). Prefer `conn.wsClose()`.
 *
 * @example
 * ```ts
 * if ((data as WsMessage).op === WEBSOCKET_OP_CLOSE) console.log("peer closes");
 * ```
 */
export const WEBSOCKET_OP_CLOSE = 8;
/**
 * WebSocket opcode: ping (control frame; the peer answers with a pong).
 *
 * @example
 * ```ts
 * c.wsSend("are you there?", WEBSOCKET_OP_PING);
 * ```
 */
export const WEBSOCKET_OP_PING = 9;
/**
 * WebSocket opcode: pong (control frame).
 *
 * @example
 * ```ts
 * if ((data as WsMessage).op === WEBSOCKET_OP_PONG) console.log("alive");
 * ```
 */
export const WEBSOCKET_OP_PONG = 10;

/**
 * Log level: nothing.
 *
 * @example
 * ```ts
 * mgr.logLevel = MG_LL_NONE;
 * ```
 */
export const MG_LL_NONE = 0;
/**
 * Log level: errors only.
 *
 * @example
 * ```ts
 * mgr.logLevel = MG_LL_ERROR;
 * ```
 */
export const MG_LL_ERROR = 1;
/**
 * Log level: errors and information.
 *
 * @example
 * ```ts
 * mgr.logLevel = MG_LL_INFO;
 * ```
 */
export const MG_LL_INFO = 2;
/**
 * Log level: debug.
 *
 * @example
 * ```ts
 * mgr.logLevel = MG_LL_DEBUG;
 * ```
 */
export const MG_LL_DEBUG = 3;
/**
 * Log level: everything.
 *
 * @example
 * ```ts
 * mgr.logLevel = MG_LL_VERBOSE;
 * ```
 */
export const MG_LL_VERBOSE = 4;

/**
 * Timer flag: call the timer periodically (else once).
 *
 * @example
 * ```ts
 * console.log(MG_TIMER_REPEAT); // 1
 * ```
 */
export const MG_TIMER_REPEAT = 1;
/**
 * Timer flag: call the timer right away (at the next poll), then as scheduled.
 *
 * @example
 * ```ts
 * console.log(MG_TIMER_RUN_NOW); // 2
 * ```
 */
export const MG_TIMER_RUN_NOW = 2;
