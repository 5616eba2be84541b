/**
 * `Manager`: one Mongoose event manager (`struct mg_mgr`) in its own
 * WebAssembly instance, driven by the runtime's event loop.
 *
 * @module
 */

import { Abi, AllocError, encoder, type HostImports, WasiExit } from "./abi.ts";
import {
  type Connection,
  type ConnectionHost,
  connInternals,
  endConnection,
  headerBlock,
  newConnection,
  setAddrs,
} from "./connection.ts";
import {
  MG_EV_CLOSE,
  MG_EV_ERROR,
  MG_EV_HTTP_HDRS,
  MG_EV_HTTP_MSG,
  MG_EV_MQTT_CMD,
  MG_EV_MQTT_MSG,
  MG_EV_MQTT_OPEN,
  MG_EV_POLL,
  MG_EV_READ,
  MG_EV_SNTP_TIME,
  MG_EV_WAKEUP,
  MG_EV_WRITE,
  MG_EV_WS_CTL,
  MG_EV_WS_MSG,
  MG_EV_WS_OPEN,
  MG_LL_INFO,
  MG_TIMER_REPEAT,
  MG_TIMER_RUN_NOW,
} from "./constants.ts";
import { DenoBackend } from "./host/deno.ts";
import { NodeBackend } from "./host/node.ts";
import type { BackendSink, SocketBackend } from "./host/types.ts";
import { SplitBackend, UdpBackend } from "./host/udp.ts";
import { lookupHost, sntpTime, wakeupData, WakeupPorts } from "./net.ts";
import { endHttpMessage, type HttpMessage, newHttpMessage } from "./http.ts";
import { bodyPiece, MG_EV_HTTP_BODY } from "./body_stream.ts";
import type {
  EventHandler,
  ListenOptions,
  TimerOptions,
  TlsOptions,
  WsConnectOptions,
} from "./types.ts";
import {
  endMqttMessage,
  mqttConnect,
  type MqttConnectOptions,
  mqttListen,
  type MqttMessage,
  newMqttMessage,
} from "./mqtt.ts";
import { endWsMessage, newWsMessage, type WsMessage } from "./ws.ts";
import {
  applyLimits,
  checkLimits,
  drainLoop,
  hasLimits,
  type LimitOptions,
  type ManagerStats,
  SHUTDOWN_TIMEOUT,
  type ShutdownOptions,
  statsOf,
} from "./limits.ts";

/** Initial size of the staging buffer (covers one Node 'data' chunk). */
const STAGE_SIZE = 65536;
/** Largest delay setTimeout accepts. */
const MAX_DELAY = 0x7fffffff;
/** Flag bit 6 of `mgw_info(c, 1)`: a response is still being generated. */
const F_RESP = 1 << 6;
/** A WebSocket subprotocol name (an HTTP token). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

interface HandlerSlot {
  fn: EventHandler | undefined;
  /** Events the user asked for (bit `1 << ev`, -1 all). */
  mask: number;
}

interface TimerEntry {
  timer: Timer;
  fn: () => void;
  t: number;
  repeat: boolean;
}

let makeTimer: (mgr: Manager, tid: number) => Timer;
let deactivateTimer: (timer: Timer) => void;

/**
 * A timer created by {@link Manager.timerAdd}.
 *
 * @example
 * ```ts
 * const t = mgr.timerAdd(500, () => console.log("tick"), { repeat: true });
 * setTimeout(() => t.cancel(), 2000);
 * ```
 */
export class Timer {
  #mgr: Manager;
  #tid: number;
  #active = true;

  private constructor(mgr: Manager, tid: number) {
    this.#mgr = mgr;
    this.#tid = tid;
  }

  static {
    makeTimer = (mgr, tid) => new Timer(mgr, tid);
    deactivateTimer = (timer) => {
      timer.#active = false;
    };
  }

  /**
   * Whether the timer will still fire (false once cancelled, or after a
   * one-shot timer fired).
   *
   * @example
   * ```ts
   * if (t.active) t.cancel();
   * ```
   */
  get active(): boolean {
    return this.#active;
  }

  /**
   * Cancels the timer. Does nothing if it is no longer active.
   *
   * @example
   * ```ts
   * t.cancel();
   * ```
   */
  cancel(): void {
    if (!this.#active) return;
    this.#active = false;
    timerCancel(this.#mgr, this.#tid);
  }
}

let timerCancel: (mgr: Manager, tid: number) => void;
let sinkOf: (mgr: Manager) => BackendSink;

/**
 * Internal (bench/inproc.mjs): the sink a Manager's socket backend reports
 * to, for feeding requests without sockets.
 */
export function managerSink(mgr: Manager): BackendSink {
  return sinkOf(mgr);
}
let openConn: (
  mgr: Manager,
  url: string,
  handler: EventHandler | undefined,
  opts: ListenOptions | undefined,
  listen: boolean,
  open: (abi: Abi, h: number, mask: number) => number,
) => Connection;

/**
 * Internal (protocol modules such as src/mqtt.ts): opens a listener
 * (`listen`) or an outbound connection with the export call `open(abi, h,
 * mask)`, which returns the C connection or 0.
 */
export function openConnection(
  mgr: Manager,
  url: string,
  handler: EventHandler | undefined,
  opts: ListenOptions | undefined,
  listen: boolean,
  open: (abi: Abi, h: number, mask: number) => number,
): Connection {
  return openConn(mgr, url, handler, opts, listen, open);
}

let setEvents: (mgr: Manager, conn: Connection, events: readonly number[]) => void;

/**
 * Internal: changes the events that reach the handler of `conn` (for a
 * listener: the handler of every connection it accepted), as `events` of
 * ListenOptions would have set them (MG_EV_CLOSE always crosses).
 */
export function setHandlerEvents(
  mgr: Manager,
  conn: Connection,
  events: readonly number[],
): void {
  setEvents(mgr, conn, events);
}

/** The bits (`1 << ev`) of the events of `events` below 32. */
function eventMask(events: readonly number[]): number {
  let mask = 0;
  for (const ev of events) if (ev >= 0 && ev < 32) mask |= 1 << ev;
  return mask;
}

interface DenoSignals {
  addSignalListener(sig: string, fn: () => void): void;
  removeSignalListener(sig: string, fn: () => void): void;
}
interface NodeSignals {
  on(sig: string, fn: () => void): void;
  off(sig: string, fn: () => void): void;
}

const SIGNALS = ["SIGINT", "SIGTERM"];

function denoNs(): unknown {
  return (globalThis as { Deno?: unknown }).Deno;
}

/**
 * A Mongoose event manager: listeners, connections and timers. Each Manager
 * owns one WebAssembly instance of the C core. It is driven by the runtime's
 * event loop: a listener serves as soon as {@link Manager.listen} returns, and
 * an idle Manager uses no CPU. {@link Manager.run} just waits until
 * {@link Manager.close} is called or the process gets SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * import { Manager, MG_EV_HTTP_MSG, type HttpMessage } from "@wasmgoose/wasmgoose";
 *
 * const mgr = new Manager();
 * mgr.listen("http://0.0.0.0:8000", (c, ev, data) => {
 *   if (ev !== MG_EV_HTTP_MSG) return;
 *   const hm = data as HttpMessage;
 *   if (hm.uri === "/") c.replyJson({ message: "Hello, World!" });
 *   else c.replyJson({ error: "Not Found" }, 404);
 * });
 * await mgr.run();
 * ```
 */
export class Manager {
  #abi: Abi;
  #backend: SocketBackend;
  #sink: BackendSink;
  #default: EventHandler | undefined;
  #conns = new Map<number, Connection>();
  /** Handler slots by handler id; 0 is unused (C-only connections). */
  #handlers: (HandlerSlot | undefined)[] = [undefined];
  #freeHandlers: number[] = [];
  /** Handler id owned by an outbound connection, freed when it closes. */
  #ownHandler = new Map<number, number>();
  /** Host id of each listener. */
  #listenerHid = new Map<number, number>();
  #lastListen = { c: 0, hid: 0 };
  /** TLS options of the listen/connect call in progress (for the imports). */
  #tls: TlsOptions | undefined;
  /** reusePort of the listen call in progress (for the imports). */
  #reusePort = false;
  #timers = new Map<number, TimerEntry>();
  #nextTid = 1;
  #rt: ReturnType<typeof setTimeout> | undefined;
  #rtDue = Infinity;
  #depth = 0;
  #closed = false;
  #fatal: Error | undefined;
  #logLevel = MG_LL_INFO; // the C default (mg_log_level)
  #run: Promise<void> | undefined;
  #runResolve: (() => void) | undefined;
  #runReject: ((e: Error) => void) | undefined;
  #onSignal: (() => void) | undefined;
  #connHost: ConnectionHost;
  #udp: UdpBackend;
  #wakePorts: WakeupPorts | undefined;
  #shutdown: Promise<void> | undefined;

  static {
    timerCancel = (mgr, tid) => mgr.#timerCancel(tid);
    sinkOf = (mgr) => mgr.#sink;
    openConn = (mgr, url, handler, opts, listen, open) =>
      mgr.#open(url, handler, opts, listen, open);
    setEvents = (mgr, conn, events) => mgr.#setEvents(conn, events);
  }

  /**
   * Creates a Manager (a new WebAssembly instance) with an optional default
   * event handler, used by listeners and connections created without one.
   *
   * @example
   * ```ts
   * const mgr = new Manager((c, ev) => console.log(c.id, ev));
   * ```
   */
  constructor(handler?: EventHandler) {
    this.#default = handler;
    const sink: BackendSink = {
      mem: () => this.#abi.mem(),
      accept: (lsn, hid, remote, local) => this.#accept(lsn, hid, remote, local),
      connected: (c, remote, local) => this.#connected(c, remote, local),
      connectFailed: (c, message) => this.#connectFailed(c, message),
      recv: (c, data, off, len) => this.#recv(c, data, off, len),
      eof: (c) => this.#call1(0, c),
      closed: (c, err) => this.#closedSock(c, err),
      writable: (c) => this.#call1(1, c),
    };
    this.#sink = sink;
    const tcp = denoNs() !== undefined ? new DenoBackend(sink) : new NodeBackend(sink);
    this.#udp = new UdpBackend({
      mem: sink.mem,
      datagram: (c, data, remote) => this.#dgram(c, data, remote),
      connected: sink.connected,
      connectFailed: sink.connectFailed,
      closed: sink.closed,
    });
    this.#backend = new SplitBackend(tcp, this.#udp);
    const imports: HostImports = {
      listen: (c, url, host, hlen, port, flags) => this.#imListen(c, url, host, hlen, port, flags),
      connect: (c, host, hlen, port, flags) => this.#imConnect(c, host, hlen, port, flags),
      write: (hid, ptr, len) => {
        try {
          return this.#backend.write(hid, ptr, len);
        } catch (e) {
          console.error("wasmgoose: write failed:", e);
          return -1;
        }
      },
      close: (hid) => {
        try {
          this.#backend.close(hid);
        } catch (e) {
          console.error("wasmgoose: close failed:", e);
        }
      },
      shutdown: (hid) => {
        try {
          this.#backend.shutdown(hid);
        } catch (e) {
          console.error("wasmgoose: shutdown failed:", e);
        }
      },
      pause: (hid, paused) => {
        try {
          this.#backend.pause(hid, paused !== 0);
        } catch (e) {
          console.error("wasmgoose: pause failed:", e);
        }
      },
      event: (c, ev, evd, h) => this.#imEvent(c, ev, evd, h),
      timer: (tid) => this.#imTimer(tid),
      sendto: (hid, ptr, len, addr) => {
        try {
          return this.#udp.sendto(hid, ptr, len, addr);
        } catch (e) {
          console.error("wasmgoose: sendto failed:", e);
          return -1;
        }
      },
      resolve: (c, id, host, hlen) => this.#imResolve(c, id, this.#abi.str(host, hlen)),
    };
    this.#abi = new Abi(imports);
    this.#connHost = {
      abi: this.#abi,
      addr: (c, remote) => this.#addr(c, remote),
      fail: (e) => this.#fail(e),
    };
    this.#abi.init(STAGE_SIZE);
  }

  // ---- public API -----------------------------------------------------------

  /**
   * Starts listening on `url` and returns the listening connection; it serves
   * as soon as this returns. `http://`, `https://`, `ws://` and `wss://` URLs
   * get the HTTP protocol handler (`mg_http_listen`); `tcp://` and `udp://`
   * are raw. TLS URLs (`https://`, `wss://`) need `opts.tls` with `cert` and
   * `key` (PEM); the runtime does the TLS, the handlers see plain bytes.
   * Without a port, the scheme's default port is used. With port 0,
   * `localAddr` of the returned connection has the real port. Throws if the
   * address cannot be bound.
   *
   * @example
   * ```ts
   * const lsn = mgr.listen("http://127.0.0.1:0", (c, ev, data) => {
   *   if (ev === MG_EV_HTTP_MSG) c.reply(200, "ok\n");
   * }, { events: [MG_EV_HTTP_MSG] });
   * console.log("listening on", lsn.localAddr);
   * ```
   */
  listen(url: string, handler?: EventHandler, opts?: ListenOptions & LimitOptions): Connection {
    this.#check();
    const limits = hasLimits(opts) ? checkLimits(opts as LimitOptions) : undefined;
    const h = this.#addHandler(handler, opts);
    const abi = this.#abi;
    let c: number;
    this.#lastListen.c = 0;
    this.#backend.lastError = "";
    this.#tls = opts?.tls;
    this.#reusePort = opts?.reusePort === true;
    try {
      c = abi.x.mgw_listen(abi.putCString(url), isHttpUrl(url) ? 1 : 0, h, this.#cmask(h));
    } catch (e) {
      throw this.#fail(e);
    } finally {
      this.#tls = undefined;
      this.#reusePort = false;
    }
    if (c === 0) {
      this.#freeHandler(h);
      const why = this.#backend.lastError;
      throw new Error(`cannot listen on ${url}${why ? `: ${why}` : ""}`);
    }
    const conn = this.#conn(c);
    if (limits !== undefined) {
      try {
        applyLimits(abi, c, limits);
      } catch (e) {
        throw this.#fail(e);
      }
    }
    if (this.#lastListen.c === c) {
      const hid = this.#lastListen.hid;
      this.#listenerHid.set(c, hid);
      const local = this.#backend.localAddr(hid);
      if (local !== null) setAddrs(conn, undefined, local);
    }
    return conn;
  }

  /**
   * Opens an outbound connection to `url` (`http://`, `https://`, `ws://`
   * get the HTTP protocol handler, `tcp://`, `udp://` are raw; for a
   * WebSocket client use {@link Manager.wsConnect}; for a whole HTTP request
   * see `request()`). TLS URLs (`https://`, `wss://`, `tls://`) are encrypted
   * by the runtime; `opts.tls.ca` may name the CA to trust. The handler gets `MG_EV_CONNECT` once
   * connected, or `MG_EV_ERROR` then `MG_EV_CLOSE`.
   *
   * @example
   * ```ts
   * mgr.connect("tcp://127.0.0.1:7000", (c, ev) => {
   *   if (ev === MG_EV_CONNECT) c.send("hello\n");
   * });
   * ```
   */
  connect(url: string, handler?: EventHandler, opts?: ListenOptions): Connection {
    this.#check();
    const h = this.#addHandler(handler, opts);
    const abi = this.#abi;
    let c: number;
    this.#backend.lastError = "";
    this.#tls = opts?.tls;
    try {
      c = abi.x.mgw_connect(abi.putCString(url), isHttpUrl(url) ? 1 : 0, h, this.#cmask(h));
    } catch (e) {
      throw this.#fail(e);
    } finally {
      this.#tls = undefined;
    }
    return this.#outbound(c, h, url);
  }

  /**
   * Opens a WebSocket client connection to a `ws://` or `wss://` URL (for
   * `wss://`, `opts.tls.ca` may name the CA to trust). The handler gets `MG_EV_CONNECT`, then
   * `MG_EV_WS_OPEN` (data: the `101` response as an `HttpMessage`) once the
   * handshake is done, then `MG_EV_WS_MSG` / `MG_EV_WS_CTL` (a `WsMessage`);
   * `MG_EV_ERROR` and `MG_EV_CLOSE` on failure. Send with `conn.wsSend` from
   * `MG_EV_WS_OPEN` on. Throws TypeError for another scheme, a header name or
   * value with CR, LF or NUL, or a protocol name that is not a token.
   *
   * @example
   * ```ts
   * mgr.wsConnect("ws://127.0.0.1:8000/ws", (c, ev, data) => {
   *   if (ev === MG_EV_WS_OPEN) c.wsSend("hello");
   *   else if (ev === MG_EV_WS_MSG) {
   *     console.log("got", (data as WsMessage).text);
   *     c.wsClose();
   *   }
   * }, { protocols: ["chat"] });
   * ```
   */
  wsConnect(url: string, handler?: EventHandler, opts?: WsConnectOptions): Connection {
    this.#check();
    if (!/^wss?:\/\//i.test(url)) throw new TypeError(`not a ws:// or wss:// URL: ${url}`);
    let hdrs = opts?.headers === undefined ? "" : headerBlock(opts.headers);
    const protocols = opts?.protocols;
    if (protocols !== undefined && protocols.length > 0) {
      for (const p of protocols) {
        if (!TOKEN.test(p)) {
          throw new TypeError(`invalid WebSocket subprotocol ${JSON.stringify(p)}`);
        }
      }
      hdrs += "Sec-WebSocket-Protocol: " + protocols.join(", ") + "\r\n";
    }
    const h = this.#addHandler(handler, opts);
    const abi = this.#abi;
    let c: number;
    this.#backend.lastError = "";
    try {
      // The URL, NUL-terminated, then the header block, at the staging buffer
      const ptr = abi.stage((url.length + hdrs.length) * 3 + 1);
      const ulen = encoder.encodeInto(url, abi.stageView).written;
      abi.u8[ptr + ulen] = 0;
      const hptr = ptr + ulen + 1;
      const hlen = hdrs.length === 0
        ? 0
        : encoder.encodeInto(hdrs, abi.stageView.subarray(ulen + 1)).written;
      this.#tls = opts?.tls;
      c = abi.x.mgw_ws_connect(ptr, h, this.#cmask(h), hptr, hlen);
    } catch (e) {
      throw this.#fail(e);
    } finally {
      this.#tls = undefined;
    }
    return this.#outbound(c, h, url);
  }

  /**
   * Connects to an SNTP server (`mg_sntp_connect`; default
   * `udp://time.google.com:123`). Call `conn.sntpRequest()` (right away is
   * fine: the request leaves once connected) and the handler gets
   * `MG_EV_SNTP_TIME` with the server's time in epoch milliseconds (a
   * number), corrected by half the round trip. A bad reply (kiss-o'-death,
   * unsynchronised server, not a server reply) gives `MG_EV_ERROR` and
   * closes the connection.
   *
   * @example
   * ```ts
   * const c = mgr.sntpConnect("udp://127.0.0.1:123", (c, ev, data) => {
   *   if (ev === MG_EV_SNTP_TIME) {
   *     console.log("time:", new Date(data as number).toISOString());
   *     c.close();
   *   }
   * });
   * c.sntpRequest();
   * ```
   */
  sntpConnect(url?: string, handler?: EventHandler, opts?: ListenOptions): Connection {
    this.#check();
    const h = this.#addHandler(handler, opts);
    const abi = this.#abi;
    let c: number;
    this.#backend.lastError = "";
    try {
      c = abi.x.mgw_sntp_connect(abi.putCString(url ?? ""), h, this.#cmask(h));
    } catch (e) {
      throw this.#fail(e);
    }
    return this.#outbound(c, h, url ?? "udp://time.google.com:123");
  }

  /**
   * Delivers `MG_EV_WAKEUP` with `data` (a `Uint8Array`, a copy; strings are
   * sent UTF-8 encoded) to the connection with id `connId` (`mg_wakeup`).
   * Returns false, dropping the data, if there is no such connection (e.g.
   * it closed meanwhile). Workers use {@link Manager.wakeupPort}.
   *
   * @example
   * ```ts
   * const id = c.id;
   * setTimeout(() => mgr.wakeup(id, "done"), 100);
   * // in the handler: if (ev === MG_EV_WAKEUP) c.reply(200, data as Uint8Array);
   * ```
   */
  wakeup(connId: number, data: string | Uint8Array = ""): boolean {
    this.#check();
    if (!Number.isInteger(connId) || connId <= 0) return false;
    const abi = this.#abi;
    try {
      let ptr: number, len: number;
      if (typeof data === "string") {
        ptr = abi.stage(data.length * 3);
        len = data.length === 0 ? 0 : encoder.encodeInto(data, abi.stageView).written;
      } else {
        len = data.length;
        ptr = abi.putBytes(data);
      }
      return abi.x.mgw_wakeup(connId | 0, ptr, len) === 1;
    } catch (e) {
      throw this.#fail(e);
    }
  }

  /**
   * A `MessagePort` for a worker (Deno `Worker`, Node `worker_threads`):
   * transfer it to the worker, which posts `{ id, data }` (`id` a
   * connection id, `data` a string, `Uint8Array` or `ArrayBuffer`); each
   * message becomes {@link Manager.wakeup}`(id, data)` on this thread.
   * Messages for connections that are gone are dropped. The ports close with
   * the Manager and do not keep the process alive by themselves.
   *
   * @example
   * ```ts
   * const worker = new Worker(new URL("./work.ts", import.meta.url), { type: "module" });
   * const port = mgr.wakeupPort();
   * worker.postMessage({ port }, [port]);
   * // in the worker: port.postMessage({ id, data: "result" });
   * ```
   */
  wakeupPort(): MessagePort {
    this.#check();
    this.#wakePorts ??= new WakeupPorts((id, data) => {
      if (!this.#closed) this.wakeup(id, data);
    });
    return this.#wakePorts.open();
  }

  /**
   * Opens an MQTT client connection (`mg_mqtt_connect`) to an `mqtt://` or
   * `mqtts://` URL (TLS is the runtime's) and logs in with `opts` (client id,
   * user, password, will, keepalive with automatic PINGREQ, clean session,
   * version 4 or 5). The handler gets `MG_EV_MQTT_OPEN` with the CONNACK
   * return code (0: accepted), `MG_EV_MQTT_MSG` (an {@link MqttMessage}) for
   * every PUBLISH received (QoS 1 and 2 are acknowledged automatically) and
   * `MG_EV_MQTT_CMD` for every packet. Unacknowledged QoS 1/2 publishes are
   * resent after `retransmitMs`, and by a new connection given `resend`.
   *
   * @example
   * ```ts
   * mgr.mqttConnect("mqtt://127.0.0.1:1883", { clientId: "dev1" }, (c, ev, data) => {
   *   if (ev === MG_EV_MQTT_OPEN) c.mqttSub("cmd/#", { qos: 1 });
   *   if (ev === MG_EV_MQTT_MSG) console.log((data as MqttMessage).text);
   * });
   * ```
   */
  mqttConnect(url: string, opts?: MqttConnectOptions, handler?: EventHandler): Connection {
    return mqttConnect(this, url, opts, handler);
  }

  /**
   * Listens for MQTT clients (`mg_mqtt_listen`): the handler gets
   * `MG_EV_MQTT_CMD` for every packet (answer CONNECT, SUBSCRIBE… yourself
   * with `c.mqttSendHeader` and `c.send`) and `MG_EV_MQTT_MSG` for PUBLISH
   * (acknowledged automatically). For a ready broker use {@link mqttBroker}.
   *
   * @example
   * ```ts
   * mgr.mqttListen("mqtt://127.0.0.1:0", (c, ev, data) => {
   *   const m = data as MqttMessage;
   *   if (ev === MG_EV_MQTT_CMD && m.cmd === MQTT_CMD_CONNECT) {
   *     c.mqttSendHeader(MQTT_CMD_CONNACK, 0, 2);
   *     c.send(new Uint8Array([0, 0]));
   *   }
   * });
   * ```
   */
  mqttListen(url: string, handler?: EventHandler, opts?: ListenOptions): Connection {
    return mqttListen(this, url, handler, opts, false);
  }

  /**
   * Calls `fn` after `ms` milliseconds (every `ms` with `repeat`; also right
   * away with `runNow`). Returns a {@link Timer} to cancel it. Timers are C
   * timers (`mg_timer_add`) of this Manager, freed by {@link Manager.close}.
   *
   * @example
   * ```ts
   * const t = mgr.timerAdd(1000, () => console.log("every second"), { repeat: true });
   * ```
   */
  timerAdd(ms: number, fn: () => void, opts?: TimerOptions): Timer {
    this.#check();
    const tid = this.#nextTid++;
    const timer = makeTimer(this, tid);
    const repeat = opts?.repeat === true;
    const runNow = opts?.runNow === true;
    const entry: TimerEntry = { timer, fn, t: 0, repeat };
    this.#timers.set(tid, entry);
    const flags = (repeat ? MG_TIMER_REPEAT : 0) | (runNow ? MG_TIMER_RUN_NOW : 0);
    try {
      entry.t = this.#abi.x.mgw_timer_add(Math.max(0, ms), flags, tid);
    } catch (e) {
      this.#timers.delete(tid);
      throw this.#fail(e);
    }
    if (entry.t === 0) {
      this.#timers.delete(tid);
      deactivateTimer(timer);
      throw new Error("cannot add timer (out of memory)");
    }
    this.#armAtMost(runNow ? 0 : Math.max(0, ms));
    return timer;
  }

  /**
   * Runs one iteration of the event loop by hand (`mg_mgr_poll`): due
   * timers, `MG_EV_POLL`, pending closes. Not needed normally: the Manager is
   * driven by the runtime's event loop. Must not be called from a handler.
   *
   * @example
   * ```ts
   * mgr.poll();
   * ```
   */
  poll(ms = 0): void {
    this.#check();
    if (this.#depth > 0) {
      throw new Error("Manager.poll() cannot be called from an event handler");
    }
    let next: number;
    try {
      next = this.#abi.x.mgw_poll(ms | 0);
    } catch (e) {
      throw this.#fail(e);
    }
    this.#arm(next);
  }

  /**
   * Resolves when {@link Manager.close} is called or the process receives
   * SIGINT or SIGTERM (which close the Manager); rejects if the WebAssembly
   * instance traps.
   *
   * @example
   * ```ts
   * mgr.listen("http://0.0.0.0:8000", handler);
   * await mgr.run();
   * console.log("stopped");
   * ```
   */
  run(): Promise<void> {
    if (this.#fatal !== undefined) return Promise.reject(this.#fatal);
    if (this.#closed) return Promise.resolve();
    if (this.#run !== undefined) return this.#run;
    this.#run = new Promise<void>((resolve, reject) => {
      this.#runResolve = resolve;
      this.#runReject = reject;
    });
    // First signal: graceful shutdown; a second one closes at once.
    const onSignal = (this.#onSignal = () => {
      if (this.#shutdown !== undefined) this.close();
      else void this.shutdown();
    });
    const deno = denoNs() as DenoSignals | undefined;
    const proc = (globalThis as { process?: NodeSignals }).process;
    for (const sig of SIGNALS) {
      try {
        if (deno !== undefined) deno.addSignalListener(sig, onSignal);
        else proc?.on(sig, onSignal);
      } catch {
        // signal not supported on this platform
      }
    }
    return this.#run;
  }

  /**
   * Closes every connection and listener (handlers get `MG_EV_CLOSE`), frees
   * the timers and stops driving the instance; {@link Manager.run} resolves.
   * Calling it again does nothing.
   *
   * @example
   * ```ts
   * setTimeout(() => mgr.close(), 10_000);
   * await mgr.run();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#fatal === undefined) {
      try {
        const x = this.#abi.x;
        for (const conn of Array.from(this.#conns.keys())) {
          if (this.#conns.has(conn)) x.mgw_close(conn);
        }
        for (const e of this.#timers.values()) {
          deactivateTimer(e.timer);
          x.mgw_timer_free(e.t);
        }
      } catch (e) {
        this.#fail(e);
      }
    }
    this.#timers.clear();
    this.#stop();
    const resolve = this.#runResolve;
    this.#runResolve = this.#runReject = undefined;
    resolve?.();
  }

  /**
   * Stops gracefully: closes the listeners and idle connections at once,
   * lets responses in flight finish (each of those connections closes after
   * its response; WebSockets get close 1001), then {@link Manager.close}s
   * when none is left or after `timeout` ms (default 10000). SIGINT and
   * SIGTERM during {@link Manager.run} call it (a second signal closes at
   * once). Resolves when the Manager is closed.
   *
   * @example
   * ```ts
   * await mgr.shutdown({ timeout: 5000 });
   * ```
   */
  shutdown(opts?: ShutdownOptions): Promise<void> {
    if (this.#shutdown !== undefined) return this.#shutdown;
    if (this.#closed) return Promise.resolve();
    const timeout = opts?.timeout ?? SHUTDOWN_TIMEOUT;
    if (typeof timeout !== "number" || !(timeout >= 0)) {
      throw new RangeError(`timeout must be a number >= 0, got ${String(timeout)}`);
    }
    const step = (): number => {
      if (this.#closed) return 0;
      try {
        return this.#abi.x.mgw_mgr_drain();
      } catch (e) {
        this.#fail(e);
        return 0;
      }
    };
    this.#shutdown = drainLoop(step, timeout).then(() => this.close());
    return this.#shutdown;
  }

  /**
   * Memory and connection counters of the instance (for soak tests and
   * monitoring).
   *
   * @example
   * ```ts
   * console.log(mgr.stats().heapTop);
   * ```
   */
  stats(): ManagerStats {
    this.#check();
    try {
      return statsOf(this.#abi);
    } catch (e) {
      throw this.#fail(e);
    }
  }

  /**
   * The live connections (listeners included).
   *
   * @example
   * ```ts
   * console.log(mgr.connections.length, "connections");
   * ```
   */
  get connections(): Connection[] {
    return Array.from(this.#conns.values());
  }

  /**
   * The C log level (`MG_LL_NONE` … `MG_LL_VERBOSE`); `MG_LL_INFO` by
   * default, as in Mongoose. Log lines go to stderr.
   *
   * @example
   * ```ts
   * mgr.logLevel = MG_LL_DEBUG;
   * ```
   */
  get logLevel(): number {
    return this.#logLevel;
  }

  set logLevel(level: number) {
    this.#check();
    try {
      this.#abi.x.mgw_log_set(level | 0);
    } catch (e) {
      throw this.#fail(e);
    }
    this.#logLevel = level | 0;
  }

  /**
   * Whether the Manager is closed (by {@link Manager.close}, a signal during
   * {@link Manager.run}, or a fatal WebAssembly trap).
   *
   * @example
   * ```ts
   * if (!mgr.closed) mgr.close();
   * ```
   */
  get closed(): boolean {
    return this.#closed;
  }

  // ---- internals ------------------------------------------------------------

  #open(
    url: string,
    handler: EventHandler | undefined,
    opts: ListenOptions | undefined,
    listen: boolean,
    open: (abi: Abi, h: number, mask: number) => number,
  ): Connection {
    this.#check();
    const h = this.#addHandler(handler, opts);
    let c: number;
    this.#lastListen.c = 0;
    this.#backend.lastError = "";
    try {
      c = open(this.#abi, h, this.#cmask(h));
    } catch (e) {
      if (e instanceof TypeError || e instanceof RangeError) {
        this.#freeHandler(h);
        throw e;
      }
      throw this.#fail(e);
    }
    if (!listen) return this.#outbound(c, h, url);
    if (c === 0) {
      this.#freeHandler(h);
      const why = this.#backend.lastError;
      throw new Error(`cannot listen on ${url}${why ? `: ${why}` : ""}`);
    }
    const conn = this.#conn(c);
    if (this.#lastListen.c === c) {
      const hid = this.#lastListen.hid;
      this.#listenerHid.set(c, hid);
      const local = this.#backend.localAddr(hid);
      if (local !== null) setAddrs(conn, undefined, local);
    }
    this.#pollSoon(); // C may have added timers
    return conn;
  }

  #check(): void {
    if (this.#fatal !== undefined) {
      throw new Error(`wasmgoose: this Manager is dead: ${this.#fatal.message}`, {
        cause: this.#fatal,
      });
    }
    if (this.#closed) throw new Error("wasmgoose: this Manager is closed");
  }

  /** The Connection object of `c`, created on first sight. */
  #conn(c: number): Connection {
    let conn = this.#conns.get(c);
    if (conn === undefined) {
      conn = newConnection(this.#connHost, c);
      this.#conns.set(c, conn);
    }
    return conn;
  }

  #addHandler(fn: EventHandler | undefined, opts: ListenOptions | undefined): number {
    const mask = opts?.events !== undefined ? eventMask(opts.events) : -1;
    const slot: HandlerSlot = { fn, mask };
    const h = this.#freeHandlers.pop();
    if (h !== undefined) {
      this.#handlers[h] = slot;
      return h;
    }
    this.#handlers.push(slot);
    return this.#handlers.length - 1;
  }

  #setEvents(conn: Connection, events: readonly number[]): void {
    const [abi, c] = connInternals(conn);
    if (c === 0 || abi !== this.#abi) return;
    const mask = eventMask(events);
    const h = this.#abi.x.mgw_set_mask(c, mask | (1 << MG_EV_CLOSE));
    const slot = this.#handlers[h];
    if (h > 0 && slot !== undefined) slot.mask = mask;
  }

  #freeHandler(h: number): void {
    this.#handlers[h] = undefined;
    this.#freeHandlers.push(h);
  }

  /** The mask given to C: the user's events, plus MG_EV_CLOSE (bookkeeping). */
  #cmask(h: number): number {
    const slot = this.#handlers[h] as HandlerSlot;
    return slot.mask === -1 ? -1 : slot.mask | (1 << MG_EV_CLOSE);
  }

  #addr(c: number, remote: boolean): string {
    if (!remote) {
      const hid = this.#listenerHid.get(c);
      if (hid !== undefined) {
        const a = this.#backend.localAddr(hid);
        if (a !== null) return a;
      }
    }
    try {
      const n = this.#abi.x.mgw_addr(c, remote ? 1 : 0);
      return this.#abi.str(this.#abi.stagePtr, n);
    } catch (e) {
      throw this.#fail(e);
    }
  }

  /**
   * Handles an exception out of an export call: a trap (or exit) is fatal to
   * this Manager. Returns the error to throw.
   */
  #fail(e: unknown): unknown {
    // Anything escaping an export call (a trap, exit(), a stack overflow)
    // unwound through C: the instance can no longer be trusted.
    if (this.#fatal === undefined && !(e instanceof AllocError)) {
      this.#die(e instanceof Error ? e : new Error(String(e)));
    }
    return e;
  }

  /** A fatal error: report it loudly, close every socket, reject run(). */
  #die(err: Error): void {
    if (this.#fatal !== undefined) return;
    this.#fatal = err;
    console.error(
      `wasmgoose: FATAL: the WebAssembly instance of this Manager failed (${err.name}: ${err.message}); closing all its sockets.`,
    );
    if (err.stack) console.error(err.stack);
    this.#closed = true;
    for (const conn of this.#conns.values()) endConnection(conn, false);
    this.#conns.clear();
    for (const e of this.#timers.values()) deactivateTimer(e.timer);
    this.#timers.clear();
    this.#stop();
    const reject = this.#runReject;
    this.#runResolve = this.#runReject = undefined;
    reject?.(err);
  }

  /** Stops every host activity: sockets, runtime timer, signal listeners. */
  #stop(): void {
    this.#wakePorts?.close();
    try {
      this.#backend.closeAll();
    } catch (e) {
      console.error("wasmgoose: closing sockets failed:", e);
    }
    if (this.#rt !== undefined) clearTimeout(this.#rt);
    this.#rt = undefined;
    this.#rtDue = Infinity;
    const onSignal = this.#onSignal;
    if (onSignal !== undefined) {
      this.#onSignal = undefined;
      const deno = denoNs() as DenoSignals | undefined;
      const proc = (globalThis as { process?: NodeSignals }).process;
      for (const sig of SIGNALS) {
        try {
          if (deno !== undefined) deno.removeSignalListener(sig, onSignal);
          else proc?.off(sig, onSignal);
        } catch {
          // not installed
        }
      }
    }
  }

  // ---- the runtime timer ------------------------------------------------------

  #onRuntimeTimer = (): void => {
    this.#rt = undefined;
    this.#rtDue = Infinity;
    if (this.#closed) return;
    let next: number;
    try {
      next = this.#abi.x.mgw_poll(0);
    } catch (e) {
      this.#fail(e);
      return;
    }
    this.#arm(next);
  };

  /** Arms the runtime timer for `delay` ms from now (-1: disarm). */
  #arm(delay: number): void {
    if (this.#rt !== undefined) {
      clearTimeout(this.#rt);
      this.#rt = undefined;
      this.#rtDue = Infinity;
    }
    if (delay < 0 || this.#closed) return;
    this.#rtDue = performance.now() + delay;
    this.#rt = setTimeout(this.#onRuntimeTimer, Math.min(delay, MAX_DELAY));
  }

  /** Arms the runtime timer for `delay` ms unless it is due sooner. */
  #armAtMost(delay: number): void {
    if (this.#closed) return;
    const due = performance.now() + delay;
    if (this.#rt !== undefined && this.#rtDue <= due) return;
    this.#arm(delay);
  }

  /** Polls soon, to learn about timers the C side may have added. */
  #pollSoon(): void {
    this.#armAtMost(0);
  }

  #timerCancel(tid: number): void {
    const e = this.#timers.get(tid);
    if (e === undefined) return;
    this.#timers.delete(tid);
    if (this.#fatal !== undefined || this.#closed) return;
    try {
      this.#abi.x.mgw_timer_free(e.t);
    } catch (err) {
      throw this.#fail(err);
    }
  }

  // ---- imports ----------------------------------------------------------------

  #imListen(
    c: number,
    _url: number,
    host: number,
    hlen: number,
    port: number,
    flags: number,
  ): number {
    try {
      const hid = this.#backend.listen(
        c,
        hostOf(this.#abi.str(host, hlen)),
        port,
        flags,
        this.#tls,
        this.#reusePort,
      );
      if (hid > 0) {
        this.#lastListen.c = c;
        this.#lastListen.hid = hid;
      }
      return hid;
    } catch (e) {
      this.#backend.lastError = e instanceof Error ? e.message : String(e);
      return -1;
    }
  }

  #imConnect(c: number, host: number, hlen: number, port: number, flags: number): number {
    // Known from now on even if no event crosses (a failure closes it at the
    // end of mgw_connect, and MG_EV_CLOSE removes it again).
    this.#conn(c);
    try {
      return this.#backend.connect(
        c,
        hostOf(this.#abi.str(host, hlen)),
        port,
        flags,
        this.#tls,
      );
    } catch (e) {
      this.#backend.lastError = e instanceof Error ? e.message : String(e);
      return -1;
    }
  }

  #imEvent(c: number, ev: number, evd: number, h: number): void {
    const conn = this.#conn(c);
    const slot = this.#handlers[h];
    if (slot !== undefined && (slot.mask === -1 || (ev < 32 && ((slot.mask >>> ev) & 1) !== 0))) {
      const fn = slot.fn ?? this.#default;
      if (fn !== undefined) {
        const abi = this.#abi;
        let data: unknown = undefined;
        let hm: HttpMessage | undefined;
        let wm: WsMessage | undefined;
        let mm: MqttMessage | undefined;
        switch (ev) {
          case MG_EV_MQTT_CMD:
          case MG_EV_MQTT_MSG:
            data = mm = newMqttMessage(abi, evd);
            break;
          case MG_EV_MQTT_OPEN:
            abi.mem();
            data = abi.dv.getInt32(evd, true);
            break;
          case MG_EV_HTTP_MSG:
          case MG_EV_HTTP_HDRS:
          case MG_EV_WS_OPEN:
            data = hm = newHttpMessage(abi, evd);
            break;
          case MG_EV_WS_MSG:
          case MG_EV_WS_CTL:
            data = wm = newWsMessage(abi, evd);
            break;
          case MG_EV_READ:
          case MG_EV_WRITE:
            abi.mem();
            data = abi.dv.getInt32(evd, true);
            break;
          case MG_EV_ERROR:
            data = evd === 0 ? "" : abi.cstr(evd);
            break;
          case MG_EV_SNTP_TIME:
            data = sntpTime(abi, evd);
            break;
          case MG_EV_WAKEUP:
            data = wakeupData(abi, evd);
            break;
          case MG_EV_HTTP_BODY:
            data = bodyPiece(abi, evd);
            break;
          case MG_EV_POLL:
            if (evd !== 0) {
              abi.mem();
              data = abi.dv.getUint32(evd, true) + abi.dv.getUint32(evd + 4, true) * 0x100000000;
            }
            break;
        }
        this.#depth++;
        try {
          fn(conn, ev, data);
        } catch (e) {
          this.#handlerError(e, conn, c, ev);
        } finally {
          this.#depth--;
          if (hm !== undefined) endHttpMessage(hm);
          if (wm !== undefined) endWsMessage(wm);
          if (mm !== undefined) endMqttMessage(mm);
        }
        // A trap inside the handler's calls (even if the handler caught it)
        // must unwind the C frames below us.
        if (this.#fatal !== undefined) throw this.#fatal;
      }
    }
    if (ev === MG_EV_CLOSE) {
      endConnection(conn, true);
      this.#conns.delete(c);
      this.#listenerHid.delete(c);
      const own = this.#ownHandler.get(c);
      if (own !== undefined) {
        this.#ownHandler.delete(c);
        this.#freeHandler(own);
      }
    }
  }

  #handlerError(e: unknown, conn: Connection, c: number, ev: number): void {
    if (
      this.#fatal !== undefined || e instanceof WebAssembly.RuntimeError || e instanceof WasiExit
    ) {
      // The instance is broken: let the trap unwind to the outermost caller.
      if (this.#fatal === undefined) this.#die(e as Error);
      throw e;
    }
    console.error(`wasmgoose: event handler threw (connection ${conn.id}, event ${ev}):`, e);
    if (ev === MG_EV_HTTP_MSG && conn.isAlive) {
      try {
        if ((this.#abi.x.mgw_info(c, 1) & F_RESP) !== 0) {
          conn.reply(500, "Internal Server Error\n", TEXT_HEADERS);
        }
      } catch (err) {
        if (this.#fatal !== undefined) throw err;
        console.error("wasmgoose: cannot send 500:", err);
      }
    }
  }

  #imTimer(tid: number): void {
    const e = this.#timers.get(tid);
    if (e === undefined) return;
    if (!e.repeat) {
      // One-shot timers are freed by C after firing.
      this.#timers.delete(tid);
      deactivateTimer(e.timer);
    }
    this.#depth++;
    try {
      e.fn();
    } catch (err) {
      if (
        err instanceof WebAssembly.RuntimeError || err instanceof WasiExit ||
        this.#fatal !== undefined
      ) {
        if (this.#fatal === undefined) this.#die(err as Error);
        throw err;
      }
      console.error("wasmgoose: timer callback threw:", err);
    } finally {
      this.#depth--;
    }
  }

  // ---- backend sink -------------------------------------------------------------

  #accept(lsn: number, hid: number, remote: string, local: string): number {
    if (this.#closed) return 0;
    const abi = this.#abi;
    try {
      const c = abi.x.mgw_accept(lsn, hid, abi.putCString(remote + "\0" + local));
      if (c !== 0 && this.#backend.alive(hid)) {
        setAddrs(this.#conn(c), remote, local);
      }
      if (c !== 0) {
        const next = abi.x.mgw_timer_next(); // the limits sweep may have started
        if (next >= 0) this.#armAtMost(next);
      }
      return c;
    } catch (e) {
      this.#fail(e);
      return 0;
    }
  }

  /** The Connection of a new outbound connection `c` with handler id `h`. */
  #outbound(c: number, h: number, url: string): Connection {
    if (c === 0) {
      this.#freeHandler(h);
      const why = this.#backend.lastError;
      throw new Error(`cannot connect to ${url}${why ? `: ${why}` : ""}`);
    }
    const conn = this.#conns.get(c);
    if (conn === undefined) {
      // Already closed (e.g. the connection failed synchronously).
      this.#freeHandler(h);
      return newConnection(this.#connHost, 0); // a dead connection
    }
    this.#ownHandler.set(c, h);
    this.#pollSoon();
    return conn;
  }

  #connected(c: number, remote: string, local: string): void {
    if (this.#closed) return;
    const abi = this.#abi;
    const conn = this.#conns.get(c);
    if (conn !== undefined) setAddrs(conn, remote, local);
    try {
      // driver.c reads the first string as the local address
      abi.x.mgw_connected(c, 1, abi.putCString(local + "\0" + remote));
    } catch (e) {
      this.#fail(e);
    }
  }

  #connectFailed(c: number, message: string): void {
    if (this.#closed) return;
    const abi = this.#abi;
    try {
      abi.x.mgw_connected(c, 0, abi.putCString(message));
    } catch (e) {
      this.#fail(e);
    }
  }

  #recv(c: number, data: Uint8Array, off: number, len: number): void {
    if (this.#closed) return;
    const abi = this.#abi;
    try {
      const ptr = abi.stage(len);
      const u8 = abi.u8;
      if (len <= 32) { // set() of a subarray costs ~37 ns, a byte loop ~0.8 ns a byte
        for (let i = 0; i < len; i++) u8[ptr + i] = data[off + i];
      } else {
        u8.set(off === 0 && len === data.length ? data : data.subarray(off, off + len), ptr);
      }
      abi.x.mgw_recv(c, len);
    } catch (e) {
      this.#fail(e);
    }
  }

  /** A datagram for `c` from `remote`. */
  #dgram(c: number, data: Uint8Array, remote: string): void {
    if (this.#closed) return;
    const abi = this.#abi;
    const conn = this.#conns.get(c);
    if (conn !== undefined) setAddrs(conn, remote, undefined);
    try {
      const len = data.length;
      const ptr = abi.stage(len + remote.length + 1);
      abi.u8.set(data, ptr);
      for (let i = 0; i < remote.length; i++) abi.u8[ptr + len + i] = remote.charCodeAt(i);
      abi.u8[ptr + len + remote.length] = 0;
      abi.x.mgw_dgram(c, len, len);
    } catch (e) {
      this.#fail(e);
    }
  }

  /** The `resolve` import: look `host` up, answer with `mgw_resolved`. */
  #imResolve(c: number, id: number, host: string): void {
    lookupHost(host, (addr, err) => {
      if (this.#closed) return;
      const abi = this.#abi;
      try {
        abi.x.mgw_resolved(c, id, addr !== null ? 1 : 0, abi.putCString(addr ?? err ?? "error"));
      } catch (e) {
        this.#fail(e);
      }
    });
  }

  #closedSock(c: number, err: string | null): void {
    if (this.#closed) return;
    const abi = this.#abi;
    try {
      if (err === null) {
        abi.x.mgw_closed(c, 0);
      } else {
        abi.putCString(err);
        abi.x.mgw_closed(c, 1);
      }
    } catch (e) {
      this.#fail(e);
    }
  }

  /** `mgw_eof` (which 0) or `mgw_writable` (which 1). */
  #call1(which: number, c: number): void {
    if (this.#closed) return;
    try {
      if (which === 0) this.#abi.x.mgw_eof(c);
      else this.#abi.x.mgw_writable(c);
    } catch (e) {
      this.#fail(e);
    }
  }
}

const TEXT_HEADERS: Record<string, string> = Object.freeze({
  "Content-Type": "text/plain",
});

/** Whether `url` gets the HTTP protocol handler. */
function isHttpUrl(url: string): boolean {
  return /^(https?|wss?):/i.test(url);
}

/** The host part without IPv6 brackets. */
function hostOf(h: string): string {
  return h.length > 1 && h.charCodeAt(0) === 0x5b && h.charCodeAt(h.length - 1) === 0x5d
    ? h.slice(1, -1)
    : h;
}
