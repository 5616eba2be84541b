/**
 * The node:net socket backend, for Node.js and Bun.
 *
 * `node:net` is obtained with `process.getBuiltinModule` (Node.js >= 20.16,
 * Bun), so that importing this file costs nothing on Deno and creating a
 * Manager stays synchronous.
 *
 * Internal module.
 *
 * @module
 */

import type * as NetNs from "node:net";
import type * as DnsNs from "node:dns";
import type * as TlsNs from "node:tls";
import type { Buffer as NodeBuffer } from "node:buffer";
import {
  type BackendSink,
  errorMessage,
  FLAG_TLS,
  formatAddr,
  RECV_SLICE,
  type SocketBackend,
  unsupported,
} from "./types.ts";
import type { TlsOptions } from "../types.ts";
import { caList, serverPems } from "./tls.ts";

type BufferCtor = typeof NodeBuffer;

interface ProcessLike {
  getBuiltinModule?: (id: string) => unknown;
  versions?: Record<string, string | undefined>;
}

function builtin<T>(id: string): T {
  const proc = (globalThis as { process?: ProcessLike }).process;
  const m = proc?.getBuiltinModule?.(id);
  if (m === undefined) {
    throw new Error(
      `wasmgoose: ${id} is not available (needs Node.js >= 20.16, Bun or Deno)`,
    );
  }
  return m as T;
}

/**
 * Whether this process is a node:cluster worker (its listeners are bound by
 * the primary, asynchronously).
 */
function inClusterWorker(): boolean {
  clusterWorker ??= builtin<{ isWorker: boolean }>("node:cluster").isWorker;
  return clusterWorker;
}
let clusterWorker: boolean | undefined;

let netMod: typeof NetNs | undefined;
let dnsMod: typeof DnsNs | undefined;
let tlsMod: typeof TlsNs | undefined;
let BufferC: BufferCtor | undefined;

/** Write-side high-water mark: above it, `write` takes nothing more. */
const WRITE_HWM = 1 << 20;
const WBUF_MIN = 16384;
/**
 * Longest wait for the peer's end after we closed a connection (see
 * `NodeBackend.close`).
 */
const LINGER_MS = 5000;

/** One host socket: a listener or a connection. */
class NSock {
  hid: number;
  c: number;
  sock: NetNs.Socket | null = null;
  server: NetNs.Server | null = null;
  /** The C side forgot this socket: report nothing more about it. */
  dead = false;
  connecting = false;
  /** C paused reads (`is_full`). */
  paused = false;
  /**
   * Input that arrived while reads were paused (a socket may still emit
   * 'data' after `pause()`: Bun does, and a chunk split in slices may be
   * paused midway), given to C in order once they resume.
   */
  held: NodeBuffer[] | null = null;
  /** The peer's end came while input was held: reported after it. */
  endHeld = false;
  /** Writes blocked above the high-water mark until 'drain'. */
  blocked = false;
  err: string | null = null;
  wbuf: NodeBuffer | null = null;
  wview: NodeBuffer | null = null;
  constructor(hid: number, c: number) {
    this.hid = hid;
    this.c = c;
  }
}

/** The node:net implementation of {@link SocketBackend}. */
export class NodeBackend implements SocketBackend {
  readonly name = "node";
  lastError = "";
  #net: typeof NetNs;
  #sink: BackendSink;
  #socks = new Map<number, NSock>();
  #nextHid = 1;
  #mem: NodeBuffer;
  #isBun: boolean;
  /** Closed connections waiting for the peer's end (see `close`). */
  #lingering = new Set<NetNs.Socket>();

  /** @param sink receives what happens on the sockets */
  constructor(sink: BackendSink) {
    netMod ??= builtin<typeof NetNs>("node:net");
    dnsMod ??= builtin<typeof DnsNs>("node:dns");
    BufferC ??= builtin<{ Buffer: BufferCtor }>("node:buffer").Buffer;
    this.#net = netMod;
    this.#sink = sink;
    this.#mem = BufferC.alloc(0);
    const proc = (globalThis as { process?: ProcessLike }).process;
    this.#isBun = proc?.versions?.bun !== undefined;
  }

  listen(
    c: number,
    host: string,
    port: number,
    flags: number,
    tls?: TlsOptions,
    reusePort?: boolean,
  ): number {
    const why = unsupported(flags, "listeners");
    if (why !== null) {
      this.lastError = why;
      return -1;
    }
    const net = this.#net;
    const isTls = (flags & FLAG_TLS) !== 0;
    let server: NetNs.Server;
    if (isTls) {
      tlsMod ??= builtin<typeof TlsNs>("node:tls");
      server = tlsMod.createServer({ ...serverPems(tls), allowHalfOpen: true });
    } else {
      server = net.createServer({ noDelay: true, allowHalfOpen: true });
    }
    const s = new NSock(this.#nextHid++, c);
    s.server = server;
    const h = host || "0.0.0.0";
    const isIp = net.isIP(h) !== 0;
    let failed: string | null = null;
    server.on(isTls ? "secureConnection" : "connection", (sock: NetNs.Socket) => {
      if (isTls) sock.setNoDelay(true);
      this.#onAccept(s, sock);
    });
    server.on("error", (e: Error) => {
      if (failed !== null || s.dead) return;
      this.#forget(s);
      server.close();
      this.#sink.closed(s.c, e.message);
    });
    // Node binds on a later tick when a host is given, because it looks the
    // host up with dns.lookup first. For an IP literal, answer that lookup
    // synchronously so that the listener is bound (and its real port known)
    // when listen() returns.
    const dns = dnsMod as typeof DnsNs;
    const lookup = dns.lookup;
    if (isIp && !this.#isBun) {
      (dns as { lookup: unknown }).lookup = (
        name: string,
        opts: unknown,
        cb?: (err: null, addr: string, family: number) => void,
      ) => {
        const f = typeof opts === "function" ? opts : cb;
        (f as (err: null, addr: string, family: number) => void)(
          null,
          name,
          net.isIP(name),
        );
      };
    }
    try {
      // reusePort (SO_REUSEPORT): Node >= 22.12 / 23.1 (serve() checks)
      server.listen(reusePort === true ? { host: h, port, reusePort: true } : { host: h, port });
    } catch (e) {
      this.lastError = errorMessage(e);
      return -1;
    } finally {
      (dns as { lookup: unknown }).lookup = lookup;
    }
    if (isIp && !inClusterWorker() && server.address() === null) {
      // Binding failed synchronously (Bun binds an IP literal synchronously
      // too; a cluster worker binds through its primary, asynchronously);
      // the runtime reports why on the next tick.
      failed = `cannot bind ${formatAddr(h, port)}`;
      this.lastError = failed;
      server.close();
      return -1;
    }
    this.#socks.set(s.hid, s);
    return s.hid;
  }

  localAddr(hid: number): string | null {
    const s = this.#socks.get(hid);
    if (s === undefined) return null;
    if (s.server !== null) {
      const a = s.server.address();
      if (a === null || typeof a === "string") return null;
      return formatAddr(a.address, a.port);
    }
    const sock = s.sock;
    if (sock === null || sock.localAddress === undefined) return null;
    return formatAddr(sock.localAddress, sock.localPort ?? 0);
  }

  connect(c: number, host: string, port: number, flags: number, tls?: TlsOptions): number {
    const why = unsupported(flags, "connections");
    if (why !== null) {
      this.lastError = why;
      return -1;
    }
    const s = new NSock(this.#nextHid++, c);
    const isTls = (flags & FLAG_TLS) !== 0;
    let sock: NetNs.Socket;
    try {
      if (isTls) {
        tlsMod ??= builtin<typeof TlsNs>("node:tls");
        const ca = caList(tls);
        const topts: TlsNs.ConnectionOptions & { allowHalfOpen: boolean } = {
          host,
          port,
          allowHalfOpen: true, // passed on to the socket
          ...(ca.length > 0 ? { ca } : {}),
          ...(this.#net.isIP(host) === 0 ? { servername: host } : {}),
        };
        sock = tlsMod.connect(topts);
        sock.setNoDelay(true);
      } else {
        sock = this.#net.connect({
          host,
          port,
          noDelay: true,
          allowHalfOpen: true,
        });
      }
    } catch (e) {
      this.lastError = errorMessage(e);
      return -1;
    }
    s.sock = sock;
    s.connecting = true;
    this.#socks.set(s.hid, s);
    sock.once(isTls ? "secureConnect" : "connect", () => {
      s.connecting = false;
      if (s.dead) return;
      this.#sink.connected(
        s.c,
        formatAddr(sock.remoteAddress ?? "", sock.remotePort ?? 0),
        formatAddr(sock.localAddress ?? "", sock.localPort ?? 0),
      );
    });
    this.#attach(s, sock);
    return s.hid;
  }

  write(hid: number, ptr: number, len: number): number {
    const s = this.#socks.get(hid);
    if (s === undefined) return -1;
    const sock = s.sock;
    if (sock === null || sock.destroyed || !sock.writable) return -1;
    if (s.blocked) return 0;
    let mem = this.#mem;
    const u8 = this.#sink.mem();
    if (mem.buffer !== u8.buffer) {
      mem = this.#mem = (BufferC as BufferCtor).from(
        u8.buffer as ArrayBuffer,
        u8.byteOffset,
        u8.byteLength,
      );
    }
    let buf = s.wbuf;
    if (buf === null || buf.length < len) {
      buf = s.wbuf = (BufferC as BufferCtor).allocUnsafeSlow(
        Math.max(len, WBUF_MIN),
      );
    }
    mem.copy(buf, 0, ptr, ptr + len);
    // The same view serves every write of the same length (the common case).
    let view = s.wview;
    if (view === null || view.buffer !== buf.buffer || view.length !== len) {
      view = s.wview = buf.subarray(0, len);
    }
    sock.write(view);
    const pending = sock.writableLength;
    if (pending > 0) {
      // Node still holds `buf`: never reuse it.
      s.wbuf = s.wview = null;
      if (pending > WRITE_HWM) {
        s.blocked = true;
        sock.pause();
      }
    }
    return len;
  }

  close(hid: number): void {
    const s = this.#socks.get(hid);
    if (s === undefined) return;
    this.#forget(s);
    if (s.server !== null) {
      s.server.close();
      return;
    }
    const sock = s.sock;
    if (sock === null) return;
    if (s.connecting || sock.destroyed) {
      sock.destroy();
      return;
    }
    // A lingering close: FIN after the pending output, then read and discard
    // what the peer still sends until it closes its side too (or LINGER_MS
    // passed). Destroying a socket with input still arriving makes the kernel
    // send a reset, and a reset makes the peer drop what it has not read yet:
    // our last bytes (a 400, a WebSocket close 1009) would be lost.
    this.#lingering.add(sock);
    const timer = setTimeout(() => sock.destroy(), LINGER_MS);
    (timer as { unref?: () => void }).unref?.();
    sock.once("close", () => {
      clearTimeout(timer);
      this.#lingering.delete(sock);
    });
    sock.end();
    sock.resume(); // 'data' is ignored from now on (s.dead)
  }

  shutdown(hid: number): void {
    const s = this.#socks.get(hid);
    if (s !== undefined && s.sock !== null) s.sock.end();
  }

  pause(hid: number, paused: boolean): void {
    const s = this.#socks.get(hid);
    if (s === undefined || s.sock === null) return;
    s.paused = paused;
    if (paused) s.sock.pause();
    else if (s.held !== null) queueMicrotask(() => this.#release(s)); // not inside the C call
    else if (!s.blocked) s.sock.resume();
  }

  /**
   * Gives `chunk` to C slice by slice while reads are not paused; returns
   * how much was taken (all of it once the socket is dead).
   */
  #feed(s: NSock, chunk: NodeBuffer): number {
    const n = chunk.length;
    let off = 0;
    while (off < n && !s.dead && !s.paused) {
      const k = Math.min(RECV_SLICE, n - off);
      this.#sink.recv(s.c, chunk, off, k);
      off += k;
    }
    return s.dead ? n : off;
  }

  /** Reads resumed: the held input first, then the peer's end, then the socket. */
  #release(s: NSock): void {
    const held = s.held;
    if (held === null) return;
    while (held.length > 0) { // all taken once the socket is dead (#feed)
      if (s.paused) return;
      const chunk = held[0], off = this.#feed(s, chunk);
      if (off < chunk.length) {
        held[0] = chunk.subarray(off);
        return;
      }
      held.shift();
    }
    s.held = null;
    if (s.dead) return;
    if (s.endHeld) {
      s.endHeld = false;
      this.#sink.eof(s.c);
    }
    if (!s.paused && !s.blocked) s.sock?.resume();
  }

  alive(hid: number): boolean {
    const s = this.#socks.get(hid);
    return s !== undefined && !s.dead;
  }

  closeAll(): void {
    for (const s of this.#socks.values()) {
      s.dead = true;
      if (s.server !== null) s.server.close();
      if (s.sock !== null) s.sock.destroy();
    }
    this.#socks.clear();
    for (const sock of this.#lingering) sock.destroy();
    this.#lingering.clear();
  }

  #forget(s: NSock): void {
    s.dead = true;
    this.#socks.delete(s.hid);
  }

  #onAccept(lsn: NSock, sock: NetNs.Socket): void {
    if (lsn.dead || sock.remoteAddress === undefined) {
      sock.destroy();
      return;
    }
    const s = new NSock(this.#nextHid++, 0);
    s.sock = sock;
    this.#socks.set(s.hid, s);
    this.#attach(s, sock);
    const c = this.#sink.accept(
      lsn.c,
      s.hid,
      formatAddr(sock.remoteAddress, sock.remotePort ?? 0),
      formatAddr(sock.localAddress ?? "", sock.localPort ?? 0),
    );
    if (c === 0) {
      if (!s.dead) {
        this.#forget(s);
        sock.destroy();
      }
      return;
    }
    s.c = c;
  }

  #attach(s: NSock, sock: NetNs.Socket): void {
    const sink = this.#sink;
    sock.on("data", (chunk: NodeBuffer) => {
      if (s.dead) return;
      if (s.paused || s.held !== null) {
        (s.held ??= []).push(chunk);
        return;
      }
      const n = chunk.length;
      if (n <= RECV_SLICE) {
        sink.recv(s.c, chunk, 0, n);
        return;
      }
      const off = this.#feed(s, chunk);
      if (off < n) s.held = [chunk.subarray(off)];
    });
    sock.on("end", () => {
      if (s.dead) return;
      if (s.held !== null) s.endHeld = true;
      else sink.eof(s.c);
    });
    sock.on("error", (e: Error) => {
      s.err = e.message;
    });
    sock.on("close", () => {
      if (s.dead) return;
      this.#forget(s);
      if (s.connecting) {
        s.connecting = false;
        sink.connectFailed(s.c, s.err ?? "connection failed");
      } else {
        sink.closed(s.c, s.err);
      }
    });
    sock.on("drain", () => {
      if (!s.blocked) return;
      s.blocked = false;
      if (!s.paused) sock.resume();
      if (!s.dead) sink.writable(s.c);
    });
  }
}
