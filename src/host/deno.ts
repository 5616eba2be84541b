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
  symbolsByDescription,
  unsupported,
} from "./types.ts";
import type { TlsOptions } from "../types.ts";
import { caList, serverPems } from "./tls.ts";
import { DirectSend, SendView } from "./direct_send.ts";

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

/**
 * What this backend uses of Deno's internals when they are there (checked
 * at start, each with a fallback to the public API): `core.read`, the op
 * behind `Deno.Conn.read` without its async wrapper, and the symbols under
 * which a connection keeps its resource id and file descriptor.
 */
interface DenoInternals {
  read(rid: number, buf: Uint8Array): Promise<number>;
  rid: symbol;
  fd: symbol;
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
  /** Resource id of `conn` for `core.read`, or -1 (use `conn.read`). */
  rid = -1;
  /**
   * File descriptor of a plain TCP `conn` for direct sends, or -1. Set to
   * -1 before `conn` is closed: a closed descriptor's number is reused.
   */
  fd = -1;
  /** The view of the last direct send (see DirectSend), made on the first. */
  sv: SendView | null = null;
  /** A TLS listener or connection (its bytes go through `conn` only). */
  tls = false;
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
  /** The buffer of the pending read (`rsmall` or a pooled one). */
  rbuf: Uint8Array | null = null;
  /** Bytes of the last read, waiting while paused. */
  rn = 0;
  woff = 0;
  wlen = 0;
  // The callbacks of this socket's reads and writes, made once per socket
  onWritten: (n: number) => void;
  onWriteError: (e: unknown) => void;
  onRead: (n: number | null) => void;
  onReadError: (e: unknown) => void;
  /** After a pause: the next read, or the last one's bytes (in a microtask). */
  resumeRead: () => void;
  resumeDeliver: () => void;
  constructor(hid: number, c: number, io: SockIo) {
    this.hid = hid;
    this.c = c;
    this.onWritten = (n) => io.written(this, n);
    this.onWriteError = (e) => io.writeFailed(this, e);
    this.onRead = (n) => io.read(this, n);
    this.onReadError = (e) => io.readFailed(this, e);
    // Deferred: a resume comes from inside an export call (pause, close)
    const next = () => io.next(this), deliver = () => io.deliver(this);
    this.resumeRead = () => queueMicrotask(next);
    this.resumeDeliver = () => queueMicrotask(deliver);
  }
}

/** What the callbacks of a {@link DSock} call in its backend. */
interface SockIo {
  written(s: DSock, n: number): void;
  writeFailed(s: DSock, e: unknown): void;
  read(s: DSock, n: number | null): void;
  readFailed(s: DSock, e: unknown): void;
  next(s: DSock): void;
  deliver(s: DSock): void;
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

  /** Deno's internals, once a connection showed where they are (see DenoInternals). */
  #internals: DenoInternals | null | undefined = undefined;
  /** Direct sends (null: not possible; undefined: not tried yet). */
  #send: DirectSend | null | undefined = undefined;

  /** @param sink receives what happens on the sockets */
  constructor(sink: BackendSink) {
    this.#deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
    this.#sink = sink;
  }

  /**
   * Gives `s` (its `conn` just opened) the direct paths Deno allows: a read
   * op without `Deno.Conn.read`'s async wrapper, and, for plain TCP where FFI
   * is granted, writes with `send(2)` straight from WASM memory (see
   * DirectSend).
   */
  #direct(s: DSock, conn: DenoConn): void {
    const ins = this.#internals === undefined ? this.#findInternals(conn) : this.#internals;
    if (ins === null) return;
    const rec = conn as unknown as Record<symbol, unknown>;
    const rid = rec[ins.rid], fd = rec[ins.fd];
    if (typeof rid === "number") s.rid = rid;
    if (s.tls || typeof fd !== "number" || fd < 0) return;
    if (this.#send === undefined) this.#send = DirectSend.open(this.#deno);
    if (this.#send !== null) s.fd = fd;
  }

  #findInternals(conn: DenoConn): DenoInternals | null {
    this.#internals = null;
    try {
      const d = this.#deno as unknown as Record<symbol, { core?: { read?: unknown } }>;
      const key = (this.#deno as unknown as { internal?: symbol }).internal;
      const read = key === undefined ? undefined : d[key]?.core?.read;
      const [rid, fd] = symbolsByDescription(conn, ["Deno.internal.rid", "Deno.internal.fd"]);
      if (typeof read === "function" && rid !== undefined && fd !== undefined) {
        this.#internals = { read: read as DenoInternals["read"], rid, fd };
      }
    } catch {
      // internals not there: the public API it is
    }
    return this.#internals;
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
    s.tls = (flags & FLAG_TLS) !== 0;
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
    s.tls = (flags & FLAG_TLS) !== 0;
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
        this.#direct(s, conn);
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
    const mem = this.#sink.mem();
    let sent = 0;
    if (s.fd >= 0) {
      // -1 (EAGAIN, or an error Deno.Conn.write then reports) sends nothing
      sent = (this.#send as DirectSend).send(s.fd, s.sv ??= new SendView(), mem, ptr, len);
      if (sent === len) return len;
      if (sent < 0) sent = 0;
      ptr += sent;
    }
    const rest = len - sent;
    const wb = s.wb = rest <= SMALL_READ
      ? this.#smallW.pop() ?? new WBuf(SMALL_READ)
      : rest <= READ_SIZE
      ? this.#largeW.pop() ?? new WBuf(READ_SIZE)
      : new WBuf(rest);
    copyOut(mem, ptr, wb.buf, rest);
    s.writing = true;
    s.woff = 0;
    s.wlen = rest;
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
    return new DSock(this.#nextHid++, c, this.#io);
  }

  #io: SockIo = {
    written: (s, n) => this.#written(s, n),
    writeFailed: (s, e) => this.#writeFailed(s, e),
    read: (s, n) => this.#onRead(s, n),
    readFailed: (s, e) => this.#onReadError(s, e),
    next: (s) => this.#readNext(s),
    deliver: (s) => this.#deliver(s),
  };

  /** Marks `s` dead (no more reports) and wakes a paused read loop. */
  #forget(s: DSock): void {
    s.dead = true;
    s.fd = -1;
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
    s.tls = lsn.tls;
    this.#direct(s, conn);
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

  /**
   * Starts reading `s`: one read pending at a time, each completion calling
   * back (no async function: its resumption costs more per read). Small
   * reads go to the connection's own small buffer; a read that fills it
   * switches to a pooled READ_SIZE one until a read is small again. A pending
   * read pins its buffer, so an idle connection holds SMALL_READ bytes.
   */
  #readLoop(s: DSock): void {
    s.rbuf = s.rsmall ??= new Uint8Array(SMALL_READ);
    s.reading = true;
    this.#readNext(s);
  }

  /** Issues the next read of `s`, or waits for a resume while paused. */
  #readNext(s: DSock): void {
    if (s.dead) return this.#readStopped(s, true);
    if (s.paused) {
      s.resume = s.resumeRead;
      return;
    }
    if (s.rid >= 0) {
      (this.#internals as DenoInternals).read(s.rid, s.rbuf as Uint8Array)
        .then(s.onRead, s.onReadError);
    } else {
      (s.conn as DenoConn).read(s.rbuf as Uint8Array).then(s.onRead, s.onReadError);
    }
  }

  /** `n`: bytes read; 0 (core.read) or null (Deno.Conn.read) at the end. */
  #onRead(s: DSock, n: number | null): void {
    if (n === 0) n = null;
    if (n === null) s.eof = true;
    if (s.dead) return this.#readStopped(s, true);
    if (n === null) {
      this.#sink.eof(s.c);
      return this.#readStopped(s, false);
    }
    s.rn = n;
    this.#deliver(s);
  }

  /** Hands the bytes of the last read to C (once not paused), reads on. */
  #deliver(s: DSock): void {
    if (s.paused && !s.dead) {
      s.resume = s.resumeDeliver;
      return;
    }
    if (s.dead) return this.#readStopped(s, true);
    const buf = s.rbuf as Uint8Array, n = s.rn;
    // READ_SIZE is below RECV_SLICE: one call.
    this.#sink.recv(s.c, buf, 0, n);
    if (buf === s.rsmall) {
      if (n === SMALL_READ) s.rbuf = this.#take();
    } else if (n < SMALL_READ) {
      this.#give(buf);
      s.rbuf = s.rsmall;
    }
    this.#readNext(s);
  }

  #onReadError(s: DSock, e: unknown): void {
    this.#fail(s, e);
    if (this.#lingering.has(s)) this.#endLinger(s);
    this.#readStopped(s, false);
  }

  /**
   * The reads of `s` stopped (no read is pending): a pooled buffer goes
   * back. `closed`: stopped because C closed the socket; then reading goes
   * on until the peer's end (see `close`).
   */
  #readStopped(s: DSock, closed: boolean): void {
    s.reading = false;
    const small = s.rsmall as Uint8Array;
    if (s.rbuf !== small) {
      this.#give(s.rbuf as Uint8Array);
      s.rbuf = small;
    }
    if (!closed || !this.#lingering.has(s)) return;
    if (s.eof) {
      if (!s.writing) this.#endLinger(s);
    } else {
      this.#discard(s, small);
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
