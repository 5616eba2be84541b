/**
 * The Deno socket backend: `Deno.listen` / `Deno.connect`, one accept loop
 * per listener, one read loop per connection.
 *
 * Internal module.
 *
 * @module
 */

import {
  type BackendSink,
  errorMessage,
  FLAG_TLS,
  formatAddr,
  type SocketBackend,
  unsupported,
} from "./types.ts";
import type { TlsOptions } from "../types.ts";
import { caList, serverPems } from "./tls.ts";

// The few parts of the Deno namespace used here, typed locally so that this
// file also compiles with tsc (where the Deno types are absent).
interface DenoNetAddr {
  hostname: string;
  port: number;
}
interface DenoConn {
  readonly localAddr: DenoNetAddr;
  readonly remoteAddr: DenoNetAddr;
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay?(noDelay?: boolean): void;
}
interface DenoListener {
  readonly addr: DenoNetAddr;
  accept(): Promise<DenoConn>;
  close(): void;
}
interface DenoApi {
  listen(opts: { hostname: string; port: number; reusePort?: boolean }): DenoListener;
  connect(opts: { hostname: string; port: number }): Promise<DenoConn>;
  listenTls(
    opts: { hostname: string; port: number; cert: string; key: string; reusePort?: boolean },
  ): DenoListener;
  connectTls(
    opts: { hostname: string; port: number; caCerts?: string[] },
  ): Promise<DenoConn>;
  unrefTimer?(id: number): void;
}

const READ_SIZE = 16384;
/**
 * The read buffer of a connection whose last read was small: a pending read
 * pins its buffer, so an idle connection holds only this much. A read that
 * fills it switches the connection to a READ_SIZE buffer from the pool until
 * a read is small again.
 */
const SMALL_READ = 2048;
/** Pooled READ_SIZE buffers kept for reuse (large reads and writes), at most. */
const POOL_MAX = 256;
/**
 * Longest wait for the peer's end after we closed a connection (see
 * `DenoBackend.close`).
 */
const LINGER_MS = 5000;

/** Pooled small write buffers kept for reuse, at most. */
const SMALL_POOL_MAX = 1024;

/** An output buffer and the view last written from it (same-length writes reuse it). */
class WBuf {
  readonly buf: Uint8Array;
  view: Uint8Array | null = null;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }
}

/** One host socket: a listener or a connection. */
class DSock {
  hid: number;
  c: number;
  conn: DenoConn | null = null;
  lsn: DenoListener | null = null;
  /** The C side forgot this socket: report nothing more about it. */
  dead = false;
  paused = false;
  resume: (() => void) | null = null;
  writing = false;
  wantWritable = false;
  closeAfterWrite = false;
  shutAfterWrite = false;
  connecting = false;
  /** The read loop runs. */
  reading = false;
  /** The peer closed its side. */
  eof = false;
  /** Closed by C, waiting for the peer's end (see `DenoBackend.close`). */
  lingerTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /**
   * The output being written, from a pool (above READ_SIZE bytes, a new
   * buffer) while the write is in flight: idle connections hold none.
   */
  wb: WBuf | null = null;
  /** This connection's own small read buffer (see SMALL_READ). */
  rsmall: Uint8Array | null = null;
  woff = 0;
  wlen = 0;
  onWritten: (n: number) => void;
  onWriteError: (e: unknown) => void;
  constructor(
    hid: number,
    c: number,
    written: (s: DSock, n: number) => void,
    failed: (s: DSock, e: unknown) => void,
  ) {
    this.hid = hid;
    this.c = c;
    this.onWritten = (n) => written(this, n);
    this.onWriteError = (e) => failed(this, e);
  }
}

function closeQuietly(x: { close(): void } | null): void {
  if (x === null) return;
  try {
    x.close();
  } catch {
    // already closed
  }
}

/** The Deno implementation of {@link SocketBackend}. */
export class DenoBackend implements SocketBackend {
  readonly name = "deno";
  lastError = "";
  #deno: DenoApi;
  #sink: BackendSink;
  #socks = new Map<number, DSock>();
  #nextHid = 1;
  /** Closed connections waiting for the peer's end (see `close`). */
  #lingering = new Set<DSock>();
  /**
   * READ_SIZE buffers not in use: taken by a write in flight or a large read,
   * given back when it completes, so that idle connections hold none.
   */
  #pool: Uint8Array[] = [];

  /** Write buffers of SMALL_READ and READ_SIZE bytes not in use. */
  #smallW: WBuf[] = [];
  #largeW: WBuf[] = [];

  /** A READ_SIZE buffer from the pool (or a new one). */
  #take(): Uint8Array {
    return this.#pool.pop() ?? new Uint8Array(READ_SIZE);
  }

  /** Gives a buffer taken with `#take` back to the pool. */
  #give(buf: Uint8Array): void {
    if (buf.length === READ_SIZE && this.#pool.length < POOL_MAX) this.#pool.push(buf);
  }

  /** @param sink receives what happens on the sockets */
  constructor(sink: BackendSink) {
    this.#deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
    this.#sink = sink;
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
    let lsn: DenoListener;
    try {
      const hostname = host || "0.0.0.0";
      // reusePort (SO_REUSEPORT, Linux) needs --unstable-net on Deno 2
      const rp = reusePort === true ? { reusePort: true } : {};
      lsn = (flags & FLAG_TLS) !== 0
        ? this.#deno.listenTls({ hostname, port, ...serverPems(tls), ...rp })
        : this.#deno.listen({ hostname, port, ...rp });
    } catch (e) {
      this.lastError = errorMessage(e);
      return -1;
    }
    const s = this.#sock(c);
    s.lsn = lsn;
    this.#socks.set(s.hid, s);
    this.#acceptLoop(s);
    return s.hid;
  }

  localAddr(hid: number): string | null {
    const s = this.#socks.get(hid);
    if (s === undefined) return null;
    const a = s.lsn !== null ? s.lsn.addr : s.conn?.localAddr;
    return a === undefined ? null : formatAddr(a.hostname, a.port);
  }

  connect(c: number, host: string, port: number, flags: number, tls?: TlsOptions): number {
    const why = unsupported(flags, "connections");
    if (why !== null) {
      this.lastError = why;
      return -1;
    }
    const s = this.#sock(c);
    s.connecting = true;
    this.#socks.set(s.hid, s);
    let opening: Promise<DenoConn>;
    if ((flags & FLAG_TLS) !== 0) {
      const ca = caList(tls);
      opening = this.#deno.connectTls({
        hostname: host,
        port,
        ...(ca.length > 0 ? { caCerts: ca } : {}),
      }).then(async (conn) => {
        // Handshake now, so that a bad certificate is a connect error
        try {
          await (conn as { handshake?: () => Promise<unknown> }).handshake?.();
        } catch (e) {
          closeQuietly(conn);
          throw e;
        }
        return conn;
      });
    } else {
      opening = this.#deno.connect({ hostname: host, port });
    }
    opening.then(
      (conn) => {
        s.connecting = false;
        if (s.dead) {
          closeQuietly(conn);
          return;
        }
        s.conn = conn;
        try {
          conn.setNoDelay?.(true);
        } catch {
          // not a TCP connection
        }
        this.#sink.connected(
          s.c,
          formatAddr(conn.remoteAddr.hostname, conn.remoteAddr.port),
          formatAddr(conn.localAddr.hostname, conn.localAddr.port),
        );
        if (s.dead) return;
        if (s.wantWritable && !s.writing) {
          s.wantWritable = false;
          this.#sink.writable(s.c);
        }
        if (!s.dead) this.#readLoop(s);
      },
      (e) => {
        s.connecting = false;
        if (s.dead) return;
        s.dead = true;
        this.#socks.delete(s.hid);
        this.#sink.connectFailed(s.c, errorMessage(e));
      },
    );
    return s.hid;
  }

  write(hid: number, ptr: number, len: number): number {
    const s = this.#socks.get(hid);
    if (s === undefined) return -1;
    if (s.writing || s.conn === null) {
      s.wantWritable = true;
      return 0;
    }
    const wb = s.wb = len <= SMALL_READ
      ? this.#smallW.pop() ?? new WBuf(SMALL_READ)
      : len <= READ_SIZE
      ? this.#largeW.pop() ?? new WBuf(READ_SIZE)
      : new WBuf(len);
    copyOut(this.#sink.mem(), ptr, wb.buf, len);
    s.writing = true;
    s.woff = 0;
    s.wlen = len;
    this.#writeMore(s);
    return len;
  }

  /** Writes the rest of `s.wb`; one promise per write, no closure. */
  #writeMore(s: DSock): void {
    const conn = s.conn as DenoConn;
    // The same view serves every write of the same length (the common case).
    const wb = s.wb as WBuf;
    let view = wb.view;
    if (view === null || view.byteOffset !== s.woff || view.length !== s.wlen - s.woff) {
      view = wb.view = wb.buf.subarray(s.woff, s.wlen);
    }
    conn.write(view).then(s.onWritten, s.onWriteError);
  }

  #written(s: DSock, n: number): void {
    s.woff += n;
    if (s.woff < s.wlen) {
      this.#writeMore(s);
      return;
    }
    s.writing = false;
    this.#releaseWrite(s);
    const conn = s.conn as DenoConn;
    if (s.closeAfterWrite) {
      this.#shutWrite(s);
      return;
    }
    if (s.shutAfterWrite) {
      s.shutAfterWrite = false;
      conn.closeWrite().catch(() => {});
    }
    if (s.wantWritable && !s.dead) {
      s.wantWritable = false;
      this.#sink.writable(s.c);
    }
  }

  /** The write of `s` completed or failed: its buffer goes back to a pool. */
  #releaseWrite(s: DSock): void {
    const wb = s.wb;
    if (wb === null) return;
    s.wb = null;
    const n = wb.buf.length;
    if (n === SMALL_READ) {
      if (this.#smallW.length < SMALL_POOL_MAX) this.#smallW.push(wb);
    } else if (n === READ_SIZE && this.#largeW.length < POOL_MAX) {
      this.#largeW.push(wb);
    }
  }

  #writeFailed(s: DSock, e: unknown): void {
    s.writing = false;
    this.#releaseWrite(s);
    if (s.closeAfterWrite) this.#endLinger(s);
    else this.#fail(s, e);
  }

  close(hid: number): void {
    const s = this.#socks.get(hid);
    if (s === undefined) return;
    this.#forget(s);
    if (s.lsn !== null) {
      closeQuietly(s.lsn);
      return;
    }
    if (s.conn === null) return; // still connecting: closed when it connects
    // A lingering close: FIN after the pending output, then read and discard
    // what the peer still sends until it closes its side too (or LINGER_MS
    // passed). Closing a socket with input still arriving makes the kernel
    // send a reset, and a reset makes the peer drop what it has not read yet:
    // our last bytes (a 400, a WebSocket close 1009) would be lost.
    this.#lingering.add(s);
    s.lingerTimer = setTimeout(() => this.#endLinger(s), LINGER_MS);
    try {
      this.#deno.unrefTimer?.(s.lingerTimer as unknown as number);
    } catch {
      // not a Deno timer id
    }
    if (s.writing) s.closeAfterWrite = true;
    else this.#shutWrite(s);
    if (!s.reading && this.#lingering.has(s)) {
      this.#discard(s, s.rsmall ?? new Uint8Array(SMALL_READ));
    }
  }

  /** After the last write of a closed connection: FIN, or close if the peer is gone. */
  #shutWrite(s: DSock): void {
    if (s.eof) {
      this.#endLinger(s);
      return;
    }
    (s.conn as DenoConn).closeWrite().catch(() => this.#endLinger(s));
  }

  /** Reads and discards the input of a lingering connection until its end. */
  async #discard(s: DSock, buf: Uint8Array): Promise<void> {
    const conn = s.conn as DenoConn;
    try {
      while (this.#lingering.has(s)) {
        if ((await conn.read(buf)) === null) break;
      }
    } catch {
      // closed by the linger timer, or a reset
    }
    s.eof = true;
    if (!s.writing) this.#endLinger(s);
  }

  /** Closes a lingering connection. */
  #endLinger(s: DSock): void {
    if (s.lingerTimer !== undefined) clearTimeout(s.lingerTimer);
    s.lingerTimer = undefined;
    this.#lingering.delete(s);
    closeQuietly(s.conn);
  }

  shutdown(hid: number): void {
    const s = this.#socks.get(hid);
    if (s === undefined || s.conn === null) return;
    if (s.writing) s.shutAfterWrite = true;
    else s.conn.closeWrite().catch(() => {});
  }

  pause(hid: number, paused: boolean): void {
    const s = this.#socks.get(hid);
    if (s === undefined) return;
    s.paused = paused;
    if (!paused) this.#wake(s);
  }

  alive(hid: number): boolean {
    const s = this.#socks.get(hid);
    return s !== undefined && !s.dead;
  }

  closeAll(): void {
    for (const s of this.#socks.values()) {
      this.#forget(s);
      closeQuietly(s.lsn);
      closeQuietly(s.conn);
    }
    this.#socks.clear();
    for (const s of Array.from(this.#lingering)) this.#endLinger(s);
  }

  #sock(c: number): DSock {
    return new DSock(
      this.#nextHid++,
      c,
      (s, n) => this.#written(s, n),
      (s, e) => this.#writeFailed(s, e),
    );
  }

  /** Marks `s` dead (no more reports) and wakes a paused read loop. */
  #forget(s: DSock): void {
    s.dead = true;
    this.#socks.delete(s.hid);
    this.#wake(s);
  }

  #wake(s: DSock): void {
    const r = s.resume;
    if (r !== null) {
      s.resume = null;
      r();
    }
  }

  /** The socket failed: report it once and release it. */
  #fail(s: DSock, e: unknown): void {
    if (s.dead) return;
    this.#forget(s);
    closeQuietly(s.lsn);
    closeQuietly(s.conn);
    this.#sink.closed(s.c, errorMessage(e));
  }

  async #acceptLoop(s: DSock): Promise<void> {
    const lsn = s.lsn as DenoListener;
    for (;;) {
      let conn: DenoConn;
      try {
        conn = await lsn.accept();
      } catch (e) {
        if (s.dead) return;
        const name = e instanceof Error ? e.name : "";
        if (name === "BadResource" || name === "Interrupted") {
          this.#fail(s, e);
          return;
        }
        // Transient (e.g. too many open files): back off a little.
        console.error("wasmgoose: accept failed:", errorMessage(e));
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (s.dead) {
        closeQuietly(conn);
        return;
      }
      this.#onAccept(s, conn);
    }
  }

  #onAccept(lsn: DSock, conn: DenoConn): void {
    const s = this.#sock(0);
    s.conn = conn;
    this.#socks.set(s.hid, s);
    try {
      conn.setNoDelay?.(true);
    } catch {
      // not a TCP connection
    }
    let remote: string, local: string;
    try {
      remote = formatAddr(conn.remoteAddr.hostname, conn.remoteAddr.port);
      local = formatAddr(conn.localAddr.hostname, conn.localAddr.port);
    } catch {
      this.#forget(s);
      closeQuietly(conn);
      return;
    }
    const c = this.#sink.accept(lsn.c, s.hid, remote, local);
    if (c === 0) {
      if (!s.dead) {
        this.#forget(s);
        closeQuietly(conn);
      }
      return;
    }
    s.c = c;
    if (s.wantWritable && !s.writing && !s.dead) {
      s.wantWritable = false;
      this.#sink.writable(c);
    }
    if (!s.dead) this.#readLoop(s);
  }

  async #readLoop(s: DSock): Promise<void> {
    const conn = s.conn as DenoConn;
    // Small reads go to the connection's own small buffer; a read that fills
    // it switches to a pooled READ_SIZE one until a read is small again. A
    // pending read pins its buffer, so an idle connection holds SMALL_READ.
    const small = s.rsmall ??= new Uint8Array(SMALL_READ);
    let buf = small;
    s.reading = true;
    try {
      for (;;) {
        if (s.paused && !s.dead) {
          await new Promise<void>((r) => (s.resume = r));
          continue;
        }
        if (s.dead) break;
        let n: number | null;
        try {
          n = await conn.read(buf);
        } catch (e) {
          this.#fail(s, e);
          if (this.#lingering.has(s)) this.#endLinger(s);
          return;
        }
        if (n === null) s.eof = true;
        if (s.dead) break;
        if (n === null) {
          this.#sink.eof(s.c);
          return;
        }
        while (s.paused && !s.dead) {
          await new Promise<void>((r) => (s.resume = r));
        }
        if (s.dead) break;
        // READ_SIZE is below RECV_SLICE: one call.
        this.#sink.recv(s.c, buf, 0, n);
        if (buf === small) {
          if (n === SMALL_READ) buf = this.#take();
        } else if (n < SMALL_READ) {
          this.#give(buf);
          buf = small;
        }
      }
    } finally {
      s.reading = false;
      if (buf !== small) { // no read is pending here: back to the pool
        this.#give(buf);
        buf = small;
      }
    }
    // Closed by C while reading: go on reading until the peer's end
    if (this.#lingering.has(s)) {
      if (s.eof) {
        if (!s.writing) this.#endLinger(s);
      } else {
        await this.#discard(s, buf);
      }
    }
  }
}

/** Copies `len` bytes at `ptr` of `mem` to the start of `dst`. */
function copyOut(mem: Uint8Array, ptr: number, dst: Uint8Array, len: number): void {
  // set() of a subarray is ~37 ns at any size; a byte loop is ~0.8 ns a byte
  if (len <= 32) {
    for (let i = 0; i < len; i++) dst[i] = mem[ptr + i];
  } else {
    dst.set(mem.subarray(ptr, ptr + len));
  }
}
