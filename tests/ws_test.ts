// WebSocket tests: interop with the `ws` package (client and server) and Deno's
// built-in WebSocket client, a conformance table in the spirit of the
// Autobahn|Testsuite (sections 1-7 and 9) over raw sockets, a broadcast example
// and the API. Only node:test and node:assert, so this file runs on Deno
// (`deno test -A tests/`) and, compiled by tsc, on Node (`node --test dist-test/tests/`).

import { test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { RawSocket } from "./raw_client.ts";
import WS, { WebSocketServer } from "ws";
import {
  type EventHandler,
  type HttpMessage,
  Manager,
  MG_EV_CLOSE,
  MG_EV_ERROR,
  MG_EV_HTTP_MSG,
  MG_EV_WS_CTL,
  MG_EV_WS_MSG,
  MG_EV_WS_OPEN,
  MG_LL_NONE,
  WEBSOCKET_OP_BINARY,
  WEBSOCKET_OP_CLOSE,
  WEBSOCKET_OP_CONTINUE,
  WEBSOCKET_OP_PING,
  WEBSOCKET_OP_PONG,
  WEBSOCKET_OP_TEXT,
  WsMessage,
} from "../mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The message sizes every interop test exchanges, both ways. */
const SIZES = [0, 125, 126, 65536, 1 << 20];

// ---- helpers ---------------------------------------------------------------------

interface Server {
  mgr: Manager;
  port: number;
  url: string;
}

/** A Manager listening on 127.0.0.1 with a random port. */
function serve(handler: EventHandler, quiet = false): Server {
  const mgr = new Manager();
  if (quiet) mgr.logLevel = MG_LL_NONE;
  const lsn = mgr.listen("http://127.0.0.1:0", handler);
  const port = Number(lsn.localAddr.split(":").pop());
  assert.ok(port > 0, `listener has a real port: ${lsn.localAddr}`);
  return { mgr, port, url: `ws://127.0.0.1:${port}` };
}

/** Runs `fn` with a server, closing the server afterwards. */
async function withServer(
  handler: EventHandler,
  fn: (s: Server) => Promise<void>,
  quiet = false,
): Promise<void> {
  const s = serve(handler, quiet);
  try {
    await fn(s);
  } finally {
    s.mgr.close();
  }
}

/** Upgrades every request; echoes every message with its opcode. */
const echoWs: EventHandler = (c, ev, data) => {
  if (ev === MG_EV_HTTP_MSG) c.wsUpgrade(data as HttpMessage);
  else if (ev === MG_EV_WS_MSG) {
    const msg = data as WsMessage;
    c.wsSend(msg.data, msg.op);
  }
};

/** A queue of values with a promise for the next one. */
class Inbox<T> {
  #items: T[] = [];
  #waiters: Array<(v: T) => void> = [];

  push(v: T): void {
    const w = this.#waiters.shift();
    if (w !== undefined) w(v);
    else this.#items.push(v);
  }

  get length(): number {
    return this.#items.length;
  }

  next(what: string, ms = 5000): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift() as T);
    return new Promise<T>((resolve, reject) => {
      const w = (v: T) => {
        clearTimeout(t);
        resolve(v);
      };
      const t = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        reject(new Error(`timeout waiting for ${what}`));
      }, ms);
      this.#waiters.push(w);
    });
  }
}

/** A message as received by a client: text or bytes. */
type Msg = string | Uint8Array;

/** `n` bytes of UTF-8 text with 1-, 2- and 3-byte characters. */
function makeText(n: number): string {
  const unit = "héllo wörld € ∑ ";
  const ulen = encoder.encode(unit).length;
  let s = unit.repeat(Math.floor(n / ulen));
  let len = Math.floor(n / ulen) * ulen;
  for (const ch of unit) {
    const cl = encoder.encode(ch).length;
    if (len + cl > n) break;
    s += ch;
    len += cl;
  }
  return s + "x".repeat(n - len);
}

/** `n` pseudo-random bytes (deterministic). */
function makeBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Large payloads are built once. */
const TEXTS = new Map<number, string>(SIZES.map((n) => [n, makeText(n)]));
const BYTES = new Map<number, Uint8Array>(SIZES.map((n) => [n, makeBytes(n, n + 1)]));

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Asserts that `got` is exactly `want` (text vs text, bytes vs bytes). */
function assertMsg(got: Msg, want: Msg, what: string): void {
  if (typeof want === "string") {
    assert.equal(typeof got, "string", `${what}: a text message`);
    assert.ok(got === want, `${what}: text differs (got ${(got as string).length} chars)`);
  } else {
    assert.ok(got instanceof Uint8Array, `${what}: a binary message`);
    assert.ok(bytesEqual(got as Uint8Array, want), `${what}: bytes differ`);
  }
}

/** The messages each interop test sends: text and binary of every size. */
function interopMessages(): Array<[string, Msg]> {
  const out: Array<[string, Msg]> = [];
  for (const n of SIZES) {
    out.push([`text ${n} B`, TEXTS.get(n) as string]);
    out.push([`binary ${n} B`, BYTES.get(n) as Uint8Array]);
  }
  return out;
}

/** Converts what `ws` hands to a message listener. */
function fromWs(data: WS.RawData, isBinary: boolean): Msg {
  const parts = Array.isArray(data) ? data : [data];
  const chunks = parts.map((p) =>
    p instanceof ArrayBuffer ? new Uint8Array(p) : new Uint8Array(p.buffer, p.byteOffset, p.length)
  );
  let bytes: Uint8Array;
  if (chunks.length === 1) bytes = chunks[0].slice();
  else {
    bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of chunks) {
      bytes.set(c, off);
      off += c.length;
    }
  }
  return isBinary ? bytes : decoder.decode(bytes);
}

interface WsClient {
  ws: WS;
  inbox: Inbox<Msg>;
  closed: Promise<{ code: number; reason: string }>;
}

/** A `ws` client, open. */
async function wsOpen(url: string, protocols?: string[]): Promise<WsClient> {
  const ws = new WS(url, protocols);
  const inbox = new Inbox<Msg>();
  ws.on("message", (data, isBinary) => inbox.push(fromWs(data, isBinary)));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return { ws, inbox, closed };
}

/** Closes a `ws` client and waits until it is closed. */
async function wsEnd(cl: WsClient): Promise<void> {
  if (cl.ws.readyState !== WS.CLOSED) cl.ws.close(1000);
  await cl.closed;
}

// ---- interop ------------------------------------------------------------------------

test("interop: the ws client against our echo server, 0 B to 1 MiB", async () => {
  await withServer(echoWs, async ({ url }) => {
    const cl = await wsOpen(url + "/echo");
    for (const [what, m] of interopMessages()) {
      cl.ws.send(m, { binary: typeof m !== "string" });
      assertMsg(await cl.inbox.next(what), m, what);
    }
    await wsEnd(cl);
  });
});

interface DenoWebSocket {
  binaryType: string;
  readyState: number;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: string, fn: (e: { data?: unknown; code?: number }) => void): void;
}
type DenoWebSocketCtor = new (url: string, protocols?: string[]) => DenoWebSocket;

test("interop: Deno's WebSocket client against our echo server", async (t) => {
  const Ctor = (globalThis as { WebSocket?: DenoWebSocketCtor }).WebSocket;
  if ((globalThis as { Deno?: unknown }).Deno === undefined || Ctor === undefined) {
    t.skip("Deno only");
    return;
  }
  await withServer(echoWs, async ({ url }) => {
    const ws = new Ctor(url + "/echo");
    ws.binaryType = "arraybuffer";
    const inbox = new Inbox<Msg>();
    const closed = new Promise<void>((r) => ws.addEventListener("close", () => r()));
    ws.addEventListener("message", (e) => {
      const d = e.data;
      inbox.push(typeof d === "string" ? d : new Uint8Array(d as ArrayBuffer));
    });
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new Error("Deno WebSocket error")));
    });
    for (const [what, m] of interopMessages()) {
      ws.send(m);
      assertMsg(await inbox.next(what), m, what);
    }
    ws.close(1000);
    await closed;
  });
});

/** A `ws` echo server on 127.0.0.1 with a random port. */
async function wsServer(
  opts: { handleProtocols?: (p: Set<string>) => string | false } = {},
): Promise<{ wss: WebSocketServer; port: number; headers: Inbox<Record<string, unknown>> }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, ...opts });
  const headers = new Inbox<Record<string, unknown>>();
  wss.on("connection", (ws, req) => {
    headers.push(req.headers);
    ws.on("message", (data, isBinary) => ws.send(fromWs(data, isBinary), { binary: isBinary }));
  });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const port = (wss.address() as { port: number }).port;
  return { wss, port, headers };
}

async function wsServerClose(wss: WebSocketServer): Promise<void> {
  for (const ws of wss.clients) ws.terminate();
  await new Promise<void>((r) => wss.close(() => r()));
}

/** Our client's view: the messages received (copied), and its lifecycle. */
interface OurClient {
  open: Promise<string | undefined>;
  inbox: Inbox<Msg>;
  closed: Promise<void>;
  conn: ReturnType<Manager["wsConnect"]>;
}

function ourClient(
  mgr: Manager,
  url: string,
  opts?: { headers?: Record<string, string>; protocols?: string[] },
): OurClient {
  const inbox = new Inbox<Msg>();
  let onOpen: (p: string | undefined) => void = () => {};
  let onErr: (e: Error) => void = () => {};
  let onClose: () => void = () => {};
  const open = new Promise<string | undefined>((resolve, reject) => {
    onOpen = resolve;
    onErr = reject;
  });
  const closed = new Promise<void>((r) => (onClose = r));
  const conn = mgr.wsConnect(url, (_c, ev, data) => {
    if (ev === MG_EV_WS_OPEN) {
      const hm = data as HttpMessage;
      assert.equal(hm.status(), 101);
      onOpen(hm.header("sec-websocket-protocol"));
    } else if (ev === MG_EV_WS_MSG) {
      const msg = data as WsMessage;
      inbox.push(msg.op === WEBSOCKET_OP_TEXT ? msg.text : msg.data.slice());
    } else if (ev === MG_EV_ERROR) {
      onErr(new Error(String(data)));
    } else if (ev === MG_EV_CLOSE) {
      onErr(new Error("closed before the handshake"));
      onClose();
    }
  }, opts);
  return { open, inbox, closed, conn };
}

test("interop: our wsConnect client against the ws server, 0 B to 1 MiB", async () => {
  const { wss, port } = await wsServer();
  const mgr = new Manager();
  try {
    const cl = ourClient(mgr, `ws://127.0.0.1:${port}/echo`);
    await cl.open;
    assert.equal(cl.conn.isWebsocket, true);
    assert.equal(cl.conn.isClient, true);
    for (const [what, m] of interopMessages()) {
      cl.conn.wsSend(m);
      assertMsg(await cl.inbox.next(what), m, what);
    }
    cl.conn.wsClose(1000, "done");
    await cl.closed;
  } finally {
    mgr.close();
    await wsServerClose(wss);
  }
});

test("interop: wsConnect offers protocols and headers; the ws server picks one", async () => {
  const { wss, port, headers } = await wsServer({
    handleProtocols: (p) => (p.has("superchat") ? "superchat" : false),
  });
  const mgr = new Manager();
  try {
    const cl = ourClient(mgr, `ws://127.0.0.1:${port}/`, {
      headers: { "X-Token": "t0ken" },
      protocols: ["chat", "superchat"],
    });
    assert.equal(await cl.open, "superchat");
    const h = await headers.next("request headers");
    assert.equal(h["x-token"], "t0ken");
    assert.equal(h["sec-websocket-protocol"], "chat, superchat");
    cl.conn.wsClose();
    await cl.closed;
  } finally {
    mgr.close();
    await wsServerClose(wss);
  }
});

// ---- the API ---------------------------------------------------------------------------

test("wsUpgrade with a subprotocol; frame sizes; isWebsocket", async () => {
  const sizes: number[] = [];
  let before: boolean | undefined, after: boolean | undefined;
  const handler: EventHandler = (c, ev, data) => {
    if (ev === MG_EV_HTTP_MSG) {
      const hm = data as HttpMessage;
      const offered = (hm.header("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
      before = c.isWebsocket;
      c.wsUpgrade(hm, offered.includes("chat") ? { "Sec-WebSocket-Protocol": "chat" } : {});
    } else if (ev === MG_EV_WS_OPEN) {
      after = c.isWebsocket;
      sizes.push(c.wsSend("hello"), c.wsSend("x".repeat(126)), c.wsSend(new Uint8Array(65536)));
    }
  };
  await withServer(handler, async ({ url }) => {
    const cl = await wsOpen(url, ["other", "chat"]);
    assert.equal(cl.ws.protocol, "chat");
    assertMsg(await cl.inbox.next("hello"), "hello", "hello");
    await cl.inbox.next("126");
    await cl.inbox.next("65536");
    assert.deepEqual(sizes, [2 + 5, 4 + 126, 10 + 65536]);
    assert.equal(before, false);
    assert.equal(after, true);
    await wsEnd(cl);
  });
});

test("wsUpgrade: bad headers throw TypeError; a plain GET gets 400", async () => {
  const errors: unknown[] = [];
  const handler: EventHandler = (c, ev, data) => {
    if (ev !== MG_EV_HTTP_MSG) return;
    const hm = data as HttpMessage;
    const bad: Record<string, string>[] = [
      { "X-Bad": "a\r\nInjected: yes" },
      { "X-Nul": "a\0b" },
      { "Bad Name": "v" },
    ];
    for (const h of bad) {
      try {
        c.wsUpgrade(hm, h);
      } catch (e) {
        errors.push(e);
      }
    }
    c.wsUpgrade(hm, Object.freeze({ "X-Good": "yes" }));
  };
  await withServer(handler, async ({ port, url }) => {
    const r = await fetch(`http://127.0.0.1:${port}/`);
    assert.equal(r.status, 400);
    await r.body?.cancel();
    errors.length = 0;
    const got = new Inbox<string | undefined>();
    const ws = new WS(url);
    ws.on("upgrade", (res) => got.push(res.headers["x-good"] as string | undefined));
    ws.on("error", () => {});
    assert.equal(await got.next("upgrade"), "yes");
    assert.equal(errors.length, 3);
    for (const e of errors) assert.ok(e instanceof TypeError);
    ws.close();
    await new Promise<void>((r) => ws.once("close", () => r()));
  });
});

test("wsSendFrame: a message in three fragments arrives whole", async () => {
  const handler: EventHandler = (c, ev, data) => {
    if (ev === MG_EV_HTTP_MSG) c.wsUpgrade(data as HttpMessage);
    else if (ev === MG_EV_WS_OPEN) {
      c.wsSendFrame("Hello, ", WEBSOCKET_OP_TEXT, false);
      c.wsSendFrame(encoder.encode("Wörld").subarray(0, 2), WEBSOCKET_OP_CONTINUE, false);
      c.wsSendFrame(encoder.encode("Wörld").subarray(2), WEBSOCKET_OP_CONTINUE, true);
      c.wsSendFrame(new Uint8Array([1, 2]), WEBSOCKET_OP_BINARY, false);
      c.wsSendFrame(new Uint8Array([3]), WEBSOCKET_OP_CONTINUE, true);
    }
  };
  await withServer(handler, async ({ url }) => {
    const cl = await wsOpen(url);
    assertMsg(await cl.inbox.next("text"), "Hello, Wörld", "text");
    assertMsg(await cl.inbox.next("binary"), new Uint8Array([1, 2, 3]), "binary");
    await wsEnd(cl);
  });
});

test("wsClose: code and reason reach the client; bad codes throw RangeError", async () => {
  const handler: EventHandler = (c, ev, data) => {
    if (ev === MG_EV_HTTP_MSG) c.wsUpgrade(data as HttpMessage);
    else if (ev === MG_EV_WS_MSG) {
      assert.throws(() => c.wsClose(1005), RangeError);
      assert.throws(() => c.wsClose(999), RangeError);
      assert.throws(() => c.wsClose(5000), RangeError);
      assert.throws(() => c.wsClose(1000, "x".repeat(124)), RangeError);
      assert.throws(() => c.wsSend("x".repeat(126), WEBSOCKET_OP_PING), RangeError);
      assert.throws(() => c.wsSend("x", 16), RangeError);
      c.wsClose(4000, "bye ✓");
    }
  };
  await withServer(handler, async ({ url }) => {
    const cl = await wsOpen(url);
    cl.ws.send("close me");
    assert.deepEqual(await cl.closed, { code: 4000, reason: "bye ✓" });
  });
});

test("ping from the client: MG_EV_WS_CTL, and a pong with the same payload", async () => {
  const ctl: Array<[number, string]> = [];
  const handler: EventHandler = (c, ev, data) => {
    if (ev === MG_EV_HTTP_MSG) c.wsUpgrade(data as HttpMessage);
    else if (ev === MG_EV_WS_CTL) {
      const msg = data as WsMessage;
      assert.ok(msg instanceof WsMessage);
      ctl.push([msg.op, msg.op === WEBSOCKET_OP_CLOSE ? String(msg.data.length) : msg.text]);
    }
  };
  await withServer(handler, async ({ url }) => {
    const cl = await wsOpen(url);
    const pong = new Promise<string>((r) => cl.ws.once("pong", (d) => r(d.toString())));
    cl.ws.ping("are you there?");
    assert.equal(await pong, "are you there?");
    cl.ws.close(1000, "done");
    await cl.closed;
    await sleep(10);
    assert.deepEqual(ctl, [[WEBSOCKET_OP_PING, "are you there?"], [WEBSOCKET_OP_CLOSE, "6"]]);
  });
});

test("WsMessage: flags, op, and invalid after the callback", async () => {
  let kept: WsMessage | undefined;
  let seen: [number, number, string] | undefined;
  const handler: EventHandler = (c, ev, data) => {
    if (ev === MG_EV_HTTP_MSG) c.wsUpgrade(data as HttpMessage);
    else if (ev === MG_EV_WS_MSG) {
      kept = data as WsMessage;
      seen = [kept.flags, kept.op, kept.text];
      c.wsSend(kept.data, kept.op);
    }
  };
  await withServer(handler, async ({ url }) => {
    const cl = await wsOpen(url);
    cl.ws.send(new Uint8Array([104, 105]));
    assertMsg(await cl.inbox.next("echo"), new Uint8Array([104, 105]), "echo");
    assert.deepEqual(seen, [0x80 | WEBSOCKET_OP_BINARY, WEBSOCKET_OP_BINARY, "hi"]);
    assert.throws(() => kept!.data, /after its event callback/);
    await wsEnd(cl);
  });
});

test("wsConnect: http:// is not a WebSocket URL (wss:// is in tls_test.ts)", () => {
  const mgr = new Manager();
  try {
    assert.throws(() => mgr.wsConnect("http://127.0.0.1:1/"), TypeError);
    assert.throws(
      () => mgr.wsConnect("ws://127.0.0.1:1/", undefined, { protocols: ["a b"] }),
      TypeError,
    );
    assert.throws(
      () => mgr.wsConnect("ws://127.0.0.1:1/", undefined, { headers: { "X": "a\nb" } }),
      TypeError,
    );
    assert.equal(mgr.connections.length, 0);
  } finally {
    mgr.close();
  }
});

test("broadcast: a repeating timer pushes to every open WebSocket", async () => {
  const handler: EventHandler = (c, ev, data) => {
    if (ev === MG_EV_HTTP_MSG) c.wsUpgrade(data as HttpMessage);
  };
  await withServer(handler, async ({ mgr, url }) => {
    let n = 0;
    const timer = mgr.timerAdd(10, () => {
      n++;
      for (const c of mgr.connections) if (c.isWebsocket) c.wsSend(`tick ${n}`);
    }, { repeat: true });
    const clients = await Promise.all([wsOpen(url), wsOpen(url), wsOpen(url)]);
    // a plain HTTP connection must not get the broadcast
    const plain = net.connect({ host: "127.0.0.1", port: Number(new URL(url).port) });
    let plainGot = 0;
    plain.on("data", (d: Uint8Array) => (plainGot += d.length));
    plain.on("error", () => {});
    const ticks = await Promise.all(clients.map(async (cl) => {
      const got: number[] = [];
      for (let i = 0; i < 3; i++) {
        const m = await cl.inbox.next("tick");
        assert.equal(typeof m, "string");
        got.push(Number((m as string).split(" ")[1]));
      }
      return got;
    }));
    for (const got of ticks) {
      assert.equal(got[1], got[0] + 1, "consecutive ticks");
      assert.equal(got[2], got[1] + 1, "consecutive ticks");
    }
    assert.equal(plainGot, 0);
    timer.cancel();
    plain.destroy();
    await Promise.all(clients.map(wsEnd));
  });
});

// ---- conformance: raw frames against our echo server ---------------------------------

interface Frame {
  fin: boolean;
  rsv: number;
  op: number;
  masked: boolean;
  data: Uint8Array;
}

const MASK = [0x37, 0xfa, 0x21, 0x3d];

/** A client frame, masked unless `mask` is false; `claim` overrides the length field. */
function frame(
  op: number,
  payload: Uint8Array | string = new Uint8Array(0),
  o: { fin?: boolean; rsv?: number; mask?: boolean; claim?: number } = {},
): Uint8Array {
  const data = typeof payload === "string" ? encoder.encode(payload) : payload;
  const mask = o.mask ?? true;
  const len = o.claim ?? data.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + ext + (mask ? 4 : 0) + data.length);
  out[0] = ((o.fin ?? true) ? 0x80 : 0) | ((o.rsv ?? 0) << 4) | op;
  out[1] = (mask ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
  const dv = new DataView(out.buffer);
  if (ext === 2) dv.setUint16(2, len);
  if (ext === 8) {
    dv.setUint32(2, Math.floor(len / 0x100000000));
    dv.setUint32(6, len >>> 0);
  }
  let p = 2 + ext;
  if (mask) {
    out.set(MASK, p);
    p += 4;
  }
  for (let i = 0; i < data.length; i++) out[p + i] = data[i] ^ (mask ? MASK[i & 3] : 0);
  return out;
}

/** A close frame payload: big-endian code, then the reason. */
function closeBody(code: number, reason: Uint8Array | string = ""): Uint8Array {
  const r = typeof reason === "string" ? encoder.encode(reason) : reason;
  const out = new Uint8Array(2 + r.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}

const u8 = (...b: number[]): Uint8Array => new Uint8Array(b);
const cat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};

/** Parses the server's frames out of `buf`. */
function parseFrames(buf: Uint8Array): Frame[] {
  const out: Frame[] = [];
  let p = 0;
  while (buf.length - p >= 2) {
    const b0 = buf[p], b1 = buf[p + 1];
    let len = b1 & 0x7f;
    let hdr = 2;
    const dv = new DataView(buf.buffer, buf.byteOffset);
    if (len === 126) {
      if (buf.length - p < 4) break;
      len = dv.getUint16(p + 2);
      hdr = 4;
    } else if (len === 127) {
      if (buf.length - p < 10) break;
      len = dv.getUint32(p + 2) * 0x100000000 + dv.getUint32(p + 6);
      hdr = 10;
    }
    const masked = (b1 & 0x80) !== 0;
    if (masked) hdr += 4;
    if (buf.length - p < hdr + len) break;
    let data = buf.slice(p + hdr, p + hdr + len);
    if (masked) data = data.map((x, i) => x ^ buf[p + hdr - 4 + (i & 3)]);
    out.push({ fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 7, op: b0 & 15, masked, data });
    p += hdr + len;
  }
  return out;
}

/** A raw WebSocket client over node:net: handshake, then bytes. */
class RawWs extends RawSocket<Uint8Array> {
  constructor(port: number) {
    super(port, new Uint8Array(0), false);
  }

  protected append(buf: Uint8Array, d: string | Uint8Array): Uint8Array {
    return cat(buf, d as Uint8Array);
  }

  protected show(): string {
    return `frames ${JSON.stringify(parseFrames(this.buf).map((f) => describe(f, undefined)))}`;
  }

  static async open(port: number): Promise<RawWs> {
    const raw = new RawWs(port);
    raw.sock.write(
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    let end = -1;
    await raw.until(
      () => (end = headEnd(raw.buf)) >= 0 || raw.closed,
      "the 101 response",
      3000,
    );
    const head = decoder.decode(raw.buf.subarray(0, Math.max(end, 0)));
    assert.match(head, /^HTTP\/1\.1 101 /);
    assert.match(head, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
    raw.buf = raw.buf.slice(end);
    return raw;
  }

  write(b: Uint8Array): void {
    if (!this.closed) this.sock.write(b);
  }
}

/** The end of the HTTP head (index after CRLFCRLF), or -1. */
function headEnd(b: Uint8Array): number {
  for (let i = 3; i < b.length; i++) {
    if (b[i] === 10 && b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13) return i + 1;
  }
  return -1;
}

/** What a case expects: a data frame exactly, or a close frame with one of some codes. */
type Expect = { op: number; data: Uint8Array | string } | { close: number | number[] };

/** FNV-1a of the bytes: compact, exact-enough frame descriptions. */
function hash(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return (h >>> 0).toString(16);
}

function closeCode(d: Uint8Array): number {
  return d.length >= 2 ? (d[0] << 8) | d[1] : d.length === 0 ? 0 : -1;
}

/** A close frame's payload as text: its code and reason. */
function closeText(d: Uint8Array): string {
  if (d.length < 2) return d.length === 0 ? "close" : "close <1 byte>";
  return `close ${closeCode(d)} ${JSON.stringify(decoder.decode(d.subarray(2)))}`;
}

function expectText(e: Expect): string {
  if ("close" in e) return `close ${[e.close].flat().join("|")}`;
  const d = typeof e.data === "string" ? encoder.encode(e.data) : e.data;
  return e.op === WEBSOCKET_OP_CLOSE ? closeText(d) : `op${e.op} ${d.length}B #${hash(d)}`;
}

/** A received frame as text, in the terms of the expectation at its index. */
function describe(f: Frame, e: Expect | undefined): string {
  const odd = `${f.masked ? "MASKED " : ""}${f.rsv ? `RSV${f.rsv} ` : ""}${f.fin ? "" : "NOFIN "}`;
  if (f.op === WEBSOCKET_OP_CLOSE && e !== undefined && "close" in e && odd === "") {
    const code = closeCode(f.data);
    return [e.close].flat().includes(code) ? expectText(e) : `close ${code}`;
  }
  if (f.op === WEBSOCKET_OP_CLOSE) return odd + closeText(f.data);
  return `${odd}op${f.op} ${f.data.length}B #${hash(f.data)}`;
}

interface Case {
  name: string;
  /** Written in order, one write each (`bytewise`: one byte per write). */
  send: Uint8Array[];
  expect: Expect[];
  bytewise?: boolean;
}

const TEXT = WEBSOCKET_OP_TEXT, BIN = WEBSOCKET_OP_BINARY, CONT = WEBSOCKET_OP_CONTINUE;
const PING = WEBSOCKET_OP_PING, PONG = WEBSOCKET_OP_PONG, CLOSE = WEBSOCKET_OP_CLOSE;
const bye = frame(CLOSE, closeBody(1000));
const byeEcho: Expect = { op: CLOSE, data: closeBody(1000) };
const KOSME = encoder.encode("κόσμε"); // 2-byte sequences, split inside one below

/** Echo cases: the frames, then a normal close; the echoes, then its echo. */
function echoCase(name: string, send: Uint8Array[], expect: Expect[], bytewise = false): Case {
  return { name, send: [...send, bye], expect: [...expect, byeEcho], bytewise };
}
const fail = (name: string, send: Uint8Array[], code: number, before: Expect[] = []): Case => ({
  name,
  send,
  expect: [...before, { close: code }],
});

const CASES: Case[] = [
  // 1 framing: 7-, 16- and 64-bit lengths
  ...[0, 125, 126, 65535, 65536].map((n) =>
    echoCase(`1.1 text ${n} B`, [frame(TEXT, "*".repeat(n))], [{ op: TEXT, data: "*".repeat(n) }])
  ),
  ...[0, 125, 126, 65535, 65536].map((n) =>
    echoCase(`1.2 binary ${n} B`, [frame(BIN, makeBytes(n, 7))], [{
      op: BIN,
      data: makeBytes(n, 7),
    }])
  ),
  echoCase(
    "1.3 a frame in 1-byte writes",
    [frame(TEXT, "split")],
    [{ op: TEXT, data: "split" }],
    true,
  ),
  echoCase("1.4 three frames in one write", [
    cat(frame(TEXT, "a"), frame(BIN, u8(1)), frame(TEXT, "c")),
  ], [{ op: TEXT, data: "a" }, { op: BIN, data: u8(1) }, { op: TEXT, data: "c" }]),
  // 2 ping / pong
  echoCase("2.1 ping, empty", [frame(PING)], [{ op: PONG, data: "" }]),
  echoCase("2.2 ping with text payload", [frame(PING, "Hello, world!")], [{
    op: PONG,
    data: "Hello, world!",
  }]),
  echoCase("2.3 ping with 125 binary bytes", [frame(PING, makeBytes(125))], [{
    op: PONG,
    data: makeBytes(125),
  }]),
  fail("2.5 ping with 126 bytes", [frame(PING, makeBytes(126))], 1002),
  echoCase("2.6 unsolicited pong is ignored", [frame(PONG, "x"), frame(TEXT, "after")], [{
    op: TEXT,
    data: "after",
  }]),
  echoCase(
    "2.10 ten pings, ten pongs",
    Array.from({ length: 10 }, (_, i) => frame(PING, `p${i}`)),
    Array.from({ length: 10 }, (_, i) => ({ op: PONG, data: `p${i}` })),
  ),
  // 3 reserved bits
  ...[1, 2, 3, 4, 5, 6, 7].map((rsv) =>
    fail(`3.${rsv} text with RSV=${rsv}`, [frame(TEXT, "x", { rsv })], 1002)
  ),
  fail("3.8 a valid text, then RSV1", [frame(TEXT, "ok"), frame(TEXT, "x", { rsv: 4 })], 1002, [{
    op: TEXT,
    data: "ok",
  }]),
  fail("3.9 ping with RSV2", [frame(PING, "x", { rsv: 2 })], 1002),
  // 4 opcodes
  ...[3, 4, 5, 6, 7, 11, 12, 13, 14, 15].map((op) =>
    fail(`4.x reserved opcode ${op}`, [frame(op, "x")], 1002)
  ),
  // masking
  fail("unmasked client frame", [frame(TEXT, "x", { mask: false })], 1002),
  // 5 fragmentation
  echoCase("5.1 text in two fragments", [
    frame(TEXT, "frag", { fin: false }),
    frame(CONT, "ment"),
  ], [{ op: TEXT, data: "fragment" }]),
  echoCase("5.2 binary in three fragments", [
    frame(BIN, u8(1, 2), { fin: false }),
    frame(CONT, u8(3), { fin: false }),
    frame(CONT, u8(4, 5)),
  ], [{ op: BIN, data: u8(1, 2, 3, 4, 5) }]),
  echoCase("5.3 a ping between fragments", [
    frame(TEXT, "frag", { fin: false }),
    frame(PING, "in between"),
    frame(CONT, "ment"),
  ], [{ op: PONG, data: "in between" }, { op: TEXT, data: "fragment" }]),
  echoCase("5.4 empty fragments", [
    frame(TEXT, "", { fin: false }),
    frame(CONT, "", { fin: false }),
    frame(CONT, ""),
  ], [{ op: TEXT, data: "" }]),
  echoCase(
    "5.5 fragments in 1-byte writes",
    [
      frame(TEXT, "ab", { fin: false }),
      frame(PING, "p"),
      frame(CONT, "cd"),
    ],
    [{ op: PONG, data: "p" }, { op: TEXT, data: "abcd" }],
    true,
  ),
  fail("5.6 continuation without a start", [frame(CONT, "x")], 1002),
  fail("5.7 non-final continuation without a start", [frame(CONT, "x", { fin: false })], 1002),
  fail("5.8 a new text while a message is fragmented", [
    frame(TEXT, "a", { fin: false }),
    frame(TEXT, "b"),
  ], 1002),
  fail("5.9 a fragmented ping", [frame(PING, "a", { fin: false }), frame(CONT, "b")], 1002),
  // 6 UTF-8
  echoCase("6.1 valid UTF-8", [frame(TEXT, "Hello-µ@ßöäüàá-UTF-8!!")], [{
    op: TEXT,
    data: "Hello-µ@ßöäüàá-UTF-8!!",
  }]),
  echoCase("6.2 a code point split across fragments", [
    frame(TEXT, KOSME.subarray(0, 3), { fin: false }),
    frame(CONT, KOSME.subarray(3, 6), { fin: false }),
    frame(CONT, KOSME.subarray(6)),
  ], [{ op: TEXT, data: KOSME }]),
  echoCase("6.3 4-byte UTF-8 split across fragments", [
    frame(TEXT, u8(0xf0, 0x9f), { fin: false }),
    frame(CONT, u8(0x98, 0x80)),
  ], [{ op: TEXT, data: "😀" }]),
  echoCase("6.4 binary may be any bytes", [frame(BIN, u8(0xff, 0xc0, 0xaf))], [{
    op: BIN,
    data: u8(0xff, 0xc0, 0xaf),
  }]),
  ...([
    ["0xff", u8(0x61, 0xff)],
    ["overlong", u8(0xc0, 0xaf)],
    ["surrogate", u8(0xed, 0xa0, 0x80)],
    ["above U+10FFFF", u8(0xf4, 0x90, 0x80, 0x80)],
    ["truncated", u8(0x61, 0xce)],
  ] as Array<[string, Uint8Array]>).map(([what, b]) =>
    fail(`6.x invalid UTF-8: ${what}`, [frame(TEXT, b)], 1007)
  ),
  fail("6.9 invalid UTF-8 in a fragment", [
    frame(TEXT, "ok", { fin: false }),
    frame(CONT, u8(0xff), { fin: false }),
    frame(CONT, "more"),
  ], 1007),
  // 7 close
  {
    name: "7.1 close 1000 with reason: echoed",
    send: [frame(CLOSE, closeBody(1000, "bye"))],
    expect: [{ op: CLOSE, data: closeBody(1000, "bye") }],
  },
  { name: "7.2 close, empty payload", send: [frame(CLOSE)], expect: [{ close: [0, 1000] }] },
  { name: "7.3 data after close is ignored", send: [bye, frame(TEXT, "late")], expect: [byeEcho] },
  ...[1001, 1003, 1011, 3000, 4999].map((code) => ({
    name: `7.7 close ${code}: echoed`,
    send: [frame(CLOSE, closeBody(code))],
    expect: [{ op: CLOSE, data: closeBody(code) }],
  })),
  {
    name: "7.8 close with a 123-byte reason: echoed",
    send: [frame(CLOSE, closeBody(1000, "r".repeat(123)))],
    expect: [{ op: CLOSE, data: closeBody(1000, "r".repeat(123)) }],
  },
  ...[0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535].map((code) =>
    fail(`7.9 invalid close code ${code}`, [frame(CLOSE, closeBody(code))], 1002)
  ),
  fail("7.10 close payload of 1 byte", [frame(CLOSE, u8(3))], 1002),
  fail("7.11 close reason of invalid UTF-8", [frame(CLOSE, closeBody(1000, u8(0xff)))], 1007),
  fail("7.12 close payload of 126 bytes", [frame(CLOSE, closeBody(1000, "r".repeat(124)))], 1002),
  // 9 limits
  fail("9.1 a frame claiming 3 MiB + 1", [
    frame(BIN, new Uint8Array(0), { claim: 3 * 1048576 + 1 }),
  ], 1009),
  fail(
    "9.2 a frame claiming 2^53 bytes",
    [frame(BIN, new Uint8Array(0), { claim: 2 ** 53 - 1 })],
    1009,
  ),
  fail("9.3 a fragmented message over 3 MiB", [
    frame(BIN, makeBytes(1 << 20), { fin: false }),
    frame(CONT, makeBytes(1 << 20), { fin: false }),
    frame(CONT, makeBytes(1 << 20), { fin: false }),
    frame(CONT, makeBytes(1 << 20)),
  ], 1009),
  echoCase("9.4 a 2 MiB binary message", [frame(BIN, makeBytes(2 << 20))], [{
    op: BIN,
    data: makeBytes(2 << 20),
  }]),
];

for (const k of CASES) {
  test(`conformance ${k.name}`, async () => {
    await withServer(echoWs, async ({ port }) => {
      const raw = await RawWs.open(port);
      try {
        for (const b of k.send) {
          if (k.bytewise) {
            for (let i = 0; i < b.length; i++) {
              raw.write(b.subarray(i, i + 1));
              await new Promise<void>((r) => setImmediate(r));
            }
          } else {
            raw.write(b);
          }
        }
        await raw.waitClose();
        const frames = parseFrames(raw.buf);
        assert.deepEqual(
          frames.map((f, i) => describe(f, k.expect[i])),
          k.expect.map(expectText),
        );
      } finally {
        raw.sock.destroy();
      }
    }, true);
  });
}
