/**
 * UDP sockets for both runtimes, with node:dgram (Node.js, Bun, and Deno
 * through its Node compatibility layer, which needs no extra flag: only
 * `--allow-net`; `Deno.listenDatagram` would need `--unstable-net`), and
 * {@link SplitBackend}, which routes UDP to it and everything else to the
 * runtime's TCP backend.
 *
 * One `write` (a client) or `sendto` (a listener, to the last sender) is one
 * datagram; each received datagram is reported whole.
 *
 * Internal module.
 *
 * @module
 */

import type * as DgramNs from "node:dgram";
import type * as DnsNs from "node:dns";
import type { Buffer as NodeBuffer } from "node:buffer";
import { errorMessage, FLAG_UDP, formatAddr, type SocketBackend } from "./types.ts";
import type { TlsOptions } from "../types.ts";

/** Host ids of UDP sockets start here (TCP backends count from 1). */
export const UDP_HID_BASE = 0x40000000;

/** What the UDP backend reports back (implemented by the Manager). */
export interface UdpSink {
  /** The current byte view of WASM memory. */
  mem(): Uint8Array;
  /** A datagram for `c`; `remote` is the sender's `ip:port`. */
  datagram(c: number, data: Uint8Array, remote: string): void;
  /** The client socket of `c` is connected to its peer. */
  connected(c: number, remote: string, local: string): void;
  /** The client socket of `c` could not be set up. */
  connectFailed(c: number, message: string): void;
  /** The socket of `c` failed. */
  closed(c: number, err: string | null): void;
}

interface ProcessLike {
  getBuiltinModule?: (id: string) => unknown;
}

function builtin<T>(id: string): T {
  const proc = (globalThis as { process?: ProcessLike }).process;
  const m = proc?.getBuiltinModule?.(id);
  if (m === undefined) {
    throw new Error(`wasmgoose: ${id} is not available (UDP needs Node.js >= 20.16, Bun or Deno)`);
  }
  return m as T;
}

/** One UDP socket. */
class USock {
  hid: number;
  c: number;
  sock: DgramNs.Socket | null = null;
  dead = false;
  paused = false;
  connected = false;
  v6 = false;
  constructor(hid: number, c: number) {
    this.hid = hid;
    this.c = c;
  }
}

/** A lookup that answers IP literals synchronously (bind at once). */
function literalLookup(
  host: string,
  opts: unknown,
  cb?: (err: Error | null, addr: string, family: number) => void,
): void {
  const f = (typeof opts === "function" ? opts : cb) as (
    err: Error | null,
    addr: string,
    family: number,
  ) => void;
  f(null, host, host.indexOf(":") >= 0 ? 6 : 4);
}

/** UDP listeners and clients over node:dgram. */
export class UdpBackend {
  /** Message of the last failed `listen`/`connect`. */
  lastError = "";
  #sink: UdpSink;
  #socks = new Map<number, USock>();
  #next = UDP_HID_BASE;
  #dgram: typeof DgramNs | undefined;
  #dns: typeof DnsNs | undefined;
  #Buffer: typeof NodeBuffer | undefined;

  /** @param sink receives what happens on the sockets */
  constructor(sink: UdpSink) {
    this.#sink = sink;
  }

  #mods(): { dgram: typeof DgramNs; Buffer: typeof NodeBuffer } {
    this.#dgram ??= builtin<typeof DgramNs>("node:dgram");
    this.#Buffer ??= builtin<{ Buffer: typeof NodeBuffer }>("node:buffer").Buffer;
    return { dgram: this.#dgram, Buffer: this.#Buffer };
  }

  /** Whether `hid` names a UDP socket. */
  static owns(hid: number): boolean {
    return hid >= UDP_HID_BASE;
  }

  #attach(s: USock, sock: DgramNs.Socket): void {
    sock.on("message", (msg: NodeBuffer, rinfo: DgramNs.RemoteInfo) => {
      if (s.dead || s.paused) return; // a paused socket drops, as the network may
      this.#sink.datagram(s.c, msg, formatAddr(rinfo.address, rinfo.port));
    });
    sock.on("error", (e: Error) => {
      if (s.dead) return;
      this.#forget(s);
      try {
        sock.close();
      } catch {
        // not running
      }
      if (s.connected || s.c === 0) this.#sink.closed(s.c, e.message);
      else this.#sink.connectFailed(s.c, e.message);
    });
  }

  /** Binds a socket for listener `c`; returns its host id or -1. */
  listen(c: number, host: string, port: number): number {
    let sock: DgramNs.Socket;
    const h = host || "0.0.0.0";
    try {
      const { dgram } = this.#mods();
      const isIp = /^[0-9.]+$/.test(h) || h.indexOf(":") >= 0;
      sock = dgram.createSocket({
        type: h.indexOf(":") >= 0 ? "udp6" : "udp4",
        lookup: isIp ? (literalLookup as unknown as DgramNs.SocketOptions["lookup"]) : undefined,
      });
      const s = new USock(this.#next++, c);
      s.sock = sock;
      s.connected = true;
      s.v6 = h.indexOf(":") >= 0;
      // With a literal address the bind happens inside bind(), and so does
      // its error: report that as a failed listen, not as a closed socket.
      let failed: string | null = null;
      s.dead = true;
      const onBindError = (e: Error) => {
        failed = e.message;
      };
      sock.on("error", onBindError);
      this.#attach(s, sock);
      sock.bind({ port, address: h });
      sock.off("error", onBindError);
      s.dead = false;
      if (failed !== null) {
        try {
          sock.close();
        } catch {
          // not running
        }
        this.lastError = failed;
        return -1;
      }
      this.#socks.set(s.hid, s);
      return s.hid;
    } catch (e) {
      this.lastError = errorMessage(e);
      return -1;
    }
  }

  /** Opens a client socket for `c` towards `host:port`; returns its host id. */
  connect(c: number, host: string, port: number): number {
    const s = new USock(this.#next++, c);
    let dgram: typeof DgramNs;
    try {
      dgram = this.#mods().dgram;
      this.#dns ??= builtin<typeof DnsNs>("node:dns");
    } catch (e) {
      this.lastError = errorMessage(e);
      return -1;
    }
    this.#socks.set(s.hid, s);
    const start = (address: string, family: number) => {
      if (s.dead) return;
      let sock: DgramNs.Socket;
      try {
        sock = dgram.createSocket({
          type: family === 6 ? "udp6" : "udp4",
          lookup: literalLookup as unknown as DgramNs.SocketOptions["lookup"],
        });
      } catch (e) {
        this.#forget(s);
        this.#sink.connectFailed(s.c, errorMessage(e));
        return;
      }
      s.sock = sock;
      this.#attach(s, sock);
      const onConnect = () => {
        if (s.dead) return;
        s.connected = true;
        let remote = formatAddr(address, port), local = "";
        try {
          const r = sock.remoteAddress();
          remote = formatAddr(r.address, r.port);
          const l = sock.address();
          local = formatAddr(l.address, l.port);
        } catch {
          // addresses unavailable: keep what we know
        }
        this.#sink.connected(s.c, remote, local);
      };
      try {
        sock.connect(port, address, onConnect);
      } catch (e) { // e.g. port 0
        this.#forget(s);
        try {
          sock.close();
        } catch {
          // not running
        }
        this.#sink.connectFailed(s.c, errorMessage(e));
      }
    };
    // "localhost" is 127.0.0.1, as for mg_aton (the system resolver may
    // prefer ::1, which a UDP peer bound to 127.0.0.1 would refuse).
    if (host === "localhost") host = "127.0.0.1";
    this.#dns.lookup(host, (err: Error | null, address: string, family: number) => {
      if (s.dead) return;
      if (err !== null) {
        this.#forget(s);
        this.#sink.connectFailed(s.c, `cannot resolve ${host}: ${err.message}`);
        return;
      }
      start(address, family);
    });
    return s.hid;
  }

  /** Sends `len` bytes at `ptr` as one datagram to the peer of client `hid`. */
  write(hid: number, ptr: number, len: number): number {
    const s = this.#socks.get(hid);
    if (s === undefined || s.sock === null) return -1;
    if (!s.connected) return 0;
    s.sock.send(this.#copy(ptr, len), (e) => this.#sendError(s, e));
    return len;
  }

  /**
   * Sends `len` bytes at `ptr` as one datagram from listener `hid` to the
   * `struct mg_addr` at `addr` (ip @0, port @16 in network order, is_ip6 @19).
   */
  sendto(hid: number, ptr: number, len: number, addr: number): number {
    const s = this.#socks.get(hid);
    if (s === undefined || s.sock === null) return -1;
    const u8 = this.#sink.mem();
    const port = (u8[addr + 16] << 8) | u8[addr + 17];
    let host: string;
    if (u8[addr + 19] !== 0) {
      const parts: string[] = [];
      for (let i = 0; i < 16; i += 2) {
        parts.push(((u8[addr + i] << 8) | u8[addr + i + 1]).toString(16));
      }
      host = parts.join(":");
    } else {
      host = `${u8[addr]}.${u8[addr + 1]}.${u8[addr + 2]}.${u8[addr + 3]}`;
    }
    if (port === 0) return -1;
    if (s.v6 && host.indexOf(":") < 0) host = "::ffff:" + host;
    s.sock.send(this.#copy(ptr, len), port, host, (e) => this.#sendError(s, e));
    return len;
  }

  #copy(ptr: number, len: number): NodeBuffer {
    const { Buffer } = this.#mods();
    const u8 = this.#sink.mem();
    return Buffer.from(u8.subarray(ptr, ptr + len)); // Buffer.from(Uint8Array) copies
  }

  #sendError(s: USock, e: Error | null): void {
    // A datagram that could not be sent is lost, as on the network; a
    // refused port (ICMP) ends a client connection.
    if (e === null || s.dead) return;
    const code = (e as { code?: string }).code;
    if (code === "ECONNREFUSED" && s.c !== 0) {
      this.#forget(s);
      try {
        s.sock?.close();
      } catch {
        // not running
      }
      this.#sink.closed(s.c, e.message);
    }
  }

  /** Closes socket `hid`. */
  close(hid: number): void {
    const s = this.#socks.get(hid);
    if (s === undefined) return;
    this.#forget(s);
    try {
      s.sock?.close();
    } catch {
      // not running
    }
  }

  /** Drops incoming datagrams while paused. */
  pause(hid: number, paused: boolean): void {
    const s = this.#socks.get(hid);
    if (s !== undefined) s.paused = paused;
  }

  /** Whether `hid` is still a socket the C side knows. */
  alive(hid: number): boolean {
    const s = this.#socks.get(hid);
    return s !== undefined && !s.dead;
  }

  /** The bound `ip:port` of socket `hid`, or null. */
  localAddr(hid: number): string | null {
    const s = this.#socks.get(hid);
    if (s === undefined || s.sock === null) return null;
    try {
      const a = s.sock.address();
      return formatAddr(a.address, a.port);
    } catch {
      return null; // not bound yet
    }
  }

  /** Closes every socket without reporting anything. */
  closeAll(): void {
    for (const s of this.#socks.values()) {
      s.dead = true;
      try {
        s.sock?.close();
      } catch {
        // not running
      }
    }
    this.#socks.clear();
  }

  #forget(s: USock): void {
    s.dead = true;
    this.#socks.delete(s.hid);
  }
}

/**
 * A {@link SocketBackend} that gives UDP sockets to a {@link UdpBackend} and
 * everything else to the runtime's backend.
 */
export class SplitBackend implements SocketBackend {
  readonly name: string;
  #tcp: SocketBackend;
  /** The UDP half. */
  readonly udp: UdpBackend;
  #lastError = "";

  /**
   * @param tcp the runtime's backend
   * @param udp the UDP backend
   */
  constructor(tcp: SocketBackend, udp: UdpBackend) {
    this.#tcp = tcp;
    this.udp = udp;
    this.name = tcp.name;
  }

  get lastError(): string {
    return this.#lastError;
  }

  set lastError(s: string) {
    this.#lastError = s;
  }

  listen(
    c: number,
    host: string,
    port: number,
    flags: number,
    tls?: TlsOptions,
    reusePort?: boolean,
  ): number {
    const udp = (flags & FLAG_UDP) !== 0;
    const hid = udp
      ? this.udp.listen(c, host, port)
      : this.#tcp.listen(c, host, port, flags, tls, reusePort);
    if (hid < 0) this.#lastError = udp ? this.udp.lastError : this.#tcp.lastError;
    return hid;
  }

  localAddr(hid: number): string | null {
    return UdpBackend.owns(hid) ? this.udp.localAddr(hid) : this.#tcp.localAddr(hid);
  }

  connect(c: number, host: string, port: number, flags: number, tls?: TlsOptions): number {
    const udp = (flags & FLAG_UDP) !== 0;
    const hid = udp
      ? this.udp.connect(c, host, port)
      : this.#tcp.connect(c, host, port, flags, tls);
    if (hid < 0) this.#lastError = udp ? this.udp.lastError : this.#tcp.lastError;
    return hid;
  }

  write(hid: number, ptr: number, len: number): number {
    return UdpBackend.owns(hid) ? this.udp.write(hid, ptr, len) : this.#tcp.write(hid, ptr, len);
  }

  close(hid: number): void {
    if (UdpBackend.owns(hid)) this.udp.close(hid);
    else this.#tcp.close(hid);
  }

  shutdown(hid: number): void {
    if (!UdpBackend.owns(hid)) this.#tcp.shutdown(hid);
  }

  pause(hid: number, paused: boolean): void {
    if (UdpBackend.owns(hid)) this.udp.pause(hid, paused);
    else this.#tcp.pause(hid, paused);
  }

  alive(hid: number): boolean {
    return UdpBackend.owns(hid) ? this.udp.alive(hid) : this.#tcp.alive(hid);
  }

  closeAll(): void {
    try {
      this.udp.closeAll();
    } finally {
      this.#tcp.closeAll();
    }
  }
}
