/**
 * Loading and instantiating `wasm/mongoose.wasm`, views of its memory and the
 * marshalling of strings and bytes across the boundary (see `wasm/ABI.md`).
 *
 * Internal module: the public API is in `mod.ts`.
 *
 * @module
 */

import { WASM_BASE64 } from "../wasm/embed.ts";
import { fsImports } from "./host/fs.ts";

/** The exports of the module, as typed functions (see `wasm/ABI.md`). */
export interface WasmExports {
  /** The instance's linear memory. */
  memory: WebAssembly.Memory;
  /** WASI reactor start; call once. */
  _initialize(): void;
  /** `mg_mgr_init` on the instance's manager. */
  mgw_init(): void;
  /** Pointer to the staging buffer, at least `size` bytes. */
  mgw_buf(size: number): number;
  /** `mg_listen` / `mg_http_listen`. */
  mgw_listen(url: number, http: number, h: number, evmask: number): number;
  /** `mg_connect` / `mg_http_connect`. */
  mgw_connect(url: number, http: number, h: number, evmask: number): number;
  /** The host accepted socket `hid` on listener `lsn`. */
  mgw_accept(lsn: number, hid: number, addrs: number): number;
  /** Outcome of an outbound connect. */
  mgw_connected(c: number, ok: number, addrs: number): void;
  /** `len` bytes are at the staging buffer. */
  mgw_recv(c: number, len: number): void;
  /** The peer closed its side. */
  mgw_eof(c: number): void;
  /** The host socket is gone. */
  mgw_closed(c: number, err: number): void;
  /** The host can take more output. */
  mgw_writable(c: number): void;
  /** One `mg_mgr_poll`; returns ms until the next timer or -1. */
  mgw_poll(ms: number): number;
  /** `mg_send`. */
  mgw_send(c: number, ptr: number, len: number): number;
  /** Binary-safe `mg_http_reply`. */
  mgw_http_reply(
    c: number,
    status: number,
    hdrs: number,
    hlen: number,
    body: number,
    blen: number,
  ): void;
  /** `c->is_closing = 1`. */
  mgw_close(c: number): void;
  /** `c->is_draining = 1`. */
  mgw_drain(c: number): void;
  /** Set `c->is_full`. */
  mgw_set_full(c: number, on: number): void;
  /** 0 id, 1 flags, 2 recv.len, 3 send.len. */
  mgw_info(c: number, what: number): number;
  /** Writes the local (0) or remote (1) address at the staging buffer. */
  mgw_addr(c: number, remote: number): number;
  /** `mg_timer_add` calling import `timer(tid)`. */
  mgw_timer_add(ms: number, flags: number, tid: number): number;
  /** `mg_timer_free`. */
  mgw_timer_free(t: number): void;
  /** `mg_log_set`. */
  mgw_log_set(level: number): void;
  /** `mg_http_get_var`. */
  mgw_get_var(
    buf: number,
    blen: number,
    name: number,
    dst: number,
    dlen: number,
  ): number;
  /** `mg_ws_upgrade` during `MG_EV_HTTP_MSG`, with extra response header lines. */
  mgw_ws_upgrade(c: number, hm: number, hdrs: number, hlen: number): void;
  /** `mg_ws_connect` with extra request header lines; returns `c` or 0. */
  mgw_ws_connect(url: number, h: number, evmask: number, hdrs: number, hlen: number): number;
  /** `mg_ws_send`; returns the frame size. */
  mgw_ws_send(c: number, ptr: number, len: number, op: number): number;
  /** `mg_ws_send_frame` (one fragment with an explicit FIN bit); returns the frame size. */
  mgw_ws_frame(c: number, ptr: number, len: number, op: number, fin: number): number;
  /** `mg_ws_close` with a status code (0: none) and a reason. */
  mgw_ws_close(c: number, code: number, reason: number, rlen: number): void;
  /** A datagram of `len` bytes at the staging buffer; sender at `addrOff` (-1: none). */
  mgw_dgram(c: number, len: number, addrOff: number): void;
  /** Pointer to `c->recv` (0) or `c->send` (1), a `struct mg_iobuf`. */
  mgw_iobuf(c: number, send: number): number;
  /** Deletes `n` bytes from the front of `c->recv`; returns what is left. */
  mgw_consume(c: number, n: number): number;
  /** `mg_resolve(c, url)`. */
  mgw_resolve(c: number, url: number): void;
  /** `mg_resolve_cancel(c)`. */
  mgw_resolve_cancel(c: number): void;
  /** Outcome of the host's `resolve`: the address or an error message at `res`. */
  mgw_resolved(c: number, id: number, ok: number, res: number): void;
  /** `mg_sntp_connect` (empty URL: the default server); returns `c` or 0. */
  mgw_sntp_connect(url: number, h: number, evmask: number): number;
  /** `mg_sntp_request(c)`. */
  mgw_sntp_request(c: number): void;
  /** `mg_wakeup(mgr, id, ptr, len)`; 1 delivered, 0 no such connection. */
  mgw_wakeup(id: number, ptr: number, len: number): number;
  /** `mg_http_serve_dir` (file 0) or `mg_http_serve_file` (file 1); `blk`: root or path, extra headers, MIME types, 404 page, each NUL-terminated. */
  mgw_serve(c: number, hm: number, file: number, blk: number, blen: number): void;
  /** `mg_http_upload_stream(c, hm, &mg_fs_posix, dir, maxSize)`. */
  mgw_upload(c: number, hm: number, dir: number, dlen: number, maxSize: number): void;
  /** `mg_http_upload(c, hm, &mg_fs_posix, dir, maxSize)`: bytes written, or -1 after an error reply. */
  mgw_upload_chunk(c: number, hm: number, dir: number, dlen: number, maxSize: number): number;
  /** During `MG_EV_HTTP_HDRS`: `mg_http_body_stream(c, hm)`; 1 streaming, 0 not. */
  mgw_body_stream(c: number, hm: number): number;
  /** `MG_EV_HTTP_HDRS` crosses only for chunked bodies or bodies over `bytes` (<0: all). */
  mgw_body_threshold(lsn: number, bytes: number): number;
  /** The generation of the header lines of `hm` (0: none or too long; see wasm/httpx.c). */
  mgw_head_lines(hm: number): number;
  /** The events crossing to the JS handler of `c` (its handler id, 0: none). */
  mgw_set_mask(c: number, mask: number): number;
  /** A listener's limits (ms; negative: keep the current value). */
  mgw_limits_set(lsn: number, idle: number, header: number, body: number, max: number): void;
  /** A listener's limit: 0 idle, 1 header, 2 body, 3 max_conns, 4 open connections. */
  mgw_limits_get(lsn: number, what: number): number;
  /** `mg_mgr_drain`: one step of a graceful stop; returns the connections still busy. */
  mgw_mgr_drain(): number;
  /** 0 live connections, 1 heap top (sbrk), 2 timers. */
  mgw_stats(what: number): number;
  /** Milliseconds until the next C timer is due, -1 if none. */
  mgw_timer_next(): number;
  /** `mg_mqtt_connect` with an options block (see wasm/mqtt.c); returns `c` or 0. */
  mgw_mqtt_connect(url: number, h: number, evmask: number, blk: number, blen: number): number;
  /** `mg_mqtt_listen`, or `mg_mqtt_broker` when `broker` is 1. */
  mgw_mqtt_listen(url: number, h: number, evmask: number, broker: number): number;
  /** 0 `mg_mqtt_pub` (returns the id), 1 sub, 2 unsub, 3 disconnect, 4 login. */
  mgw_mqtt_op(c: number, what: number, blk: number): number;
  /** `mg_mqtt_send_header`. */
  mgw_mqtt_send_header(c: number, cmd: number, flags: number, len: number): void;
  /** `mg_mqtt_ping` (`pong` 0) or `mg_mqtt_pong`. */
  mgw_mqtt_ping(c: number, pong: number): void;
  /** `mg_http_chunked_start` (`sse` 0) or `mg_http_sse_start` (`sse` 1). */
  mgw_chunk_start(c: number, status: number, hdrs: number, hlen: number, sse: number): void;
  /** `mg_http_write_chunk`; an empty chunk ends the response. */
  mgw_chunk(c: number, ptr: number, len: number): void;
  /** `mg_http_sse`: `event` and `id` NUL-terminated or 0, `retry` < 0 for none. */
  mgw_sse(c: number, event: number, id: number, data: number, dlen: number, retry: number): void;
  /** `mg_http_split_vars`: decoded pairs at `out` (name ptr, len, value ptr, len). */
  mgw_http_vars(s: number, n: number, dst: number, out: number, max: number): number;
  /** `mg_ws_upgrade` from a copy of the request head; returns 1 if it parsed. */
  mgw_ws_upgrade_head(c: number, req: number, rlen: number, hdrs: number, hlen: number): number;
}

/** The `"mgw_host"` imports that depend on the Manager (see `wasm/ABI.md`). */
export interface HostImports {
  /** Open a listener; returns a host id >= 1 or a negative error. */
  listen(
    c: number,
    url: number,
    host: number,
    hlen: number,
    port: number,
    flags: number,
  ): number;
  /** Start an outbound connection; returns a host id. */
  connect(
    c: number,
    host: number,
    hlen: number,
    port: number,
    flags: number,
  ): number;
  /** Send bytes; returns how many were taken, 0 (later `mgw_writable`), -1. */
  write(hid: number, ptr: number, len: number): number;
  /** Close a host socket. */
  close(hid: number): void;
  /** Half-close a host socket. */
  shutdown(hid: number): void;
  /** Stop / resume reading. */
  pause(hid: number, paused: number): void;
  /** Deliver an event to JS handler `h`. */
  event(c: number, ev: number, evd: number, h: number): void;
  /** A C timer made by `mgw_timer_add` fired. */
  timer(tid: number): void;
  /** Send one datagram from UDP listener `hid` to the `struct mg_addr` at `addr`. */
  sendto(hid: number, ptr: number, len: number, addr: number): number;
  /** Resolve `host` for connection `c` (id `id`); answer with `mgw_resolved`. */
  resolve(c: number, id: number, host: number, hlen: number): void;
}

/** Thrown by the WASI `proc_exit` import: the C code called `exit()`. */
export class WasiExit extends Error {
  /** The exit code. */
  readonly code: number;
  /** @param code the exit code */
  constructor(code: number) {
    super(`wasm module called exit(${code})`);
    this.code = code;
  }
}

/** The staging buffer could not grow (not fatal: the instance is intact). */
export class AllocError extends RangeError {
  /** @param size the size that could not be allocated */
  constructor(size: number) {
    super(`wasmgoose: cannot allocate a ${size}-byte staging buffer`);
    this.name = "AllocError";
  }
}

/** One encoder for the whole process. */
export const encoder: TextEncoder = new TextEncoder();
/** One decoder for the whole process. */
export const decoder: TextDecoder = new TextDecoder();

/** Longest text `Abi.putText` copies by a loop (see there). */
const TEXT_LOOP_MAX = (globalThis as { Deno?: unknown }).Deno !== undefined ? 96 : 48;

/** Reused arrays of character codes, one per length up to 64 (see `Abi.str`). */
const CODES: number[][] = Array.from({ length: 65 }, (_, i) => new Array<number>(i).fill(0));

const ERRNO_SUCCESS = 0;
const ERRNO_BADF = 8;
const ERRNO_INVAL = 28;
const ERRNO_NOSYS = 52;

let wasmBytes: Uint8Array | undefined;
let compiled: WebAssembly.Module | undefined;

interface Base64Ctor {
  fromBase64?: (s: string) => Uint8Array;
}
interface BufferLike {
  from(s: string, enc: string): Uint8Array;
}

/** Decodes base64 once, with the fastest decoder the runtime has. */
function decodeBase64(b64: string): Uint8Array {
  const u8ctor = Uint8Array as unknown as Base64Ctor;
  if (typeof u8ctor.fromBase64 === "function") return u8ctor.fromBase64(b64);
  const buf = (globalThis as unknown as { Buffer?: BufferLike }).Buffer;
  if (buf !== undefined) {
    const b = buf.from(b64, "base64");
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The bytes of `wasm/mongoose.wasm` (decoded once). */
export function wasmBinary(): Uint8Array {
  if (wasmBytes === undefined) wasmBytes = decodeBase64(WASM_BASE64);
  return wasmBytes;
}

/** The compiled module, compiled synchronously once per process. */
export function wasmModule(): WebAssembly.Module {
  if (compiled === undefined) {
    compiled = new WebAssembly.Module(wasmBinary() as BufferSource);
  }
  return compiled;
}

/** Writes one finished log line to stderr. */
function logLine(line: string): void {
  console.error(line);
}

const MAX_STAGE_VIEW = 1 << 30;

/**
 * One instance of the module with its memory views and the staging buffer.
 * Views are re-taken after memory growth: call {@link Abi.mem} (or
 * {@link Abi.refresh}) after any export call that may allocate.
 */
export class Abi {
  /** The typed exports. */
  readonly x: WasmExports;
  /** The instance's memory. */
  readonly memory: WebAssembly.Memory;
  /** Bytes of the memory (re-taken after growth by {@link Abi.mem}). */
  u8: Uint8Array;
  /** 32-bit words of the memory (re-taken with {@link Abi.u8}). */
  u32: Uint32Array;
  /** DataView of the memory (re-taken with {@link Abi.u8}). */
  dv: DataView;
  /** Pointer to the staging buffer. */
  stagePtr = 0;
  /** Known capacity of the staging buffer. */
  stageCap = 0;
  /** `u8` restricted to the staging buffer (for `encodeInto`). */
  stageView: Uint8Array;
  /** The generation of `linesText` (`mgw_head_lines`; 0: none). */
  linesGen = 0;
  /** The decoded header lines of generation `linesGen`. */
  linesText = "";
  #stdio = ["", "", ""];

  /**
   * Instantiates the module with the host imports.
   * @param host the Manager-dependent imports
   * @param log receives log lines of the C code (`mgw_host.log`)
   */
  constructor(host: HostImports, log: (line: string) => void = logLine) {
    const module = wasmModule();
    const wasi: Record<string, (...args: never[]) => unknown> = {};
    const impl: Record<string, (...args: never[]) => unknown> = {
      fd_write: (fd: number, iovs: number, n: number, out: number) =>
        this.#fdWrite(fd, iovs, n, out),
      fd_close: () => ERRNO_SUCCESS,
      fd_seek: () => 70, // ESPIPE
      fd_fdstat_get: (fd: number, ptr: number) => {
        if (fd > 2) return ERRNO_BADF;
        const u8 = this.mem();
        u8.fill(0, ptr, ptr + 24);
        u8[ptr] = 2; // character device
        this.dv.setUint32(ptr + 8, 0xffffffff, true);
        this.dv.setUint32(ptr + 12, 0xffffffff, true);
        return ERRNO_SUCCESS;
      },
      clock_time_get: (id: number, _precision: bigint, out: number) => {
        const ms = id === 0 ? Date.now() : performance.now();
        const ns = Math.floor(ms * 1e6);
        this.mem();
        this.dv.setUint32(out, ns % 0x100000000, true);
        this.dv.setUint32(out + 4, Math.floor(ns / 0x100000000), true);
        return ERRNO_SUCCESS;
      },
      clock_res_get: (_id: number, out: number) => {
        this.mem();
        this.dv.setUint32(out, 1000, true);
        this.dv.setUint32(out + 4, 0, true);
        return ERRNO_SUCCESS;
      },
      random_get: (ptr: number, len: number) => {
        const u8 = this.mem();
        for (let off = 0; off < len; off += 65536) {
          const end = Math.min(len, off + 65536);
          crypto.getRandomValues(u8.subarray(ptr + off, ptr + end));
        }
        return ERRNO_SUCCESS;
      },
      proc_exit: (code: number) => {
        throw new WasiExit(code);
      },
      environ_sizes_get: (count: number, size: number) => {
        this.mem();
        this.dv.setUint32(count, 0, true);
        this.dv.setUint32(size, 0, true);
        return ERRNO_SUCCESS;
      },
      environ_get: () => ERRNO_SUCCESS,
      args_sizes_get: (count: number, size: number) => {
        this.mem();
        this.dv.setUint32(count, 0, true);
        this.dv.setUint32(size, 0, true);
        return ERRNO_SUCCESS;
      },
      args_get: () => ERRNO_SUCCESS,
      sched_yield: () => ERRNO_SUCCESS,
    };
    const hostAll: Record<string, (...args: never[]) => unknown> = {
      listen: host.listen,
      connect: host.connect,
      write: host.write,
      close: host.close,
      shutdown: host.shutdown,
      pause: host.pause,
      event: host.event,
      timer: host.timer,
      sendto: host.sendto,
      resolve: host.resolve,
      now: () => performance.now(),
      wallclock: () => Date.now(),
      log: (ptr: number, len: number) => {
        let s = this.str(ptr, len);
        if (s.endsWith("\n")) s = s.slice(0, -1);
        log(s);
      },
      ...fsImports(this),
    };
    const mgwHost: Record<string, (...args: never[]) => unknown> = {};
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.kind !== "function") continue;
      if (imp.module === "wasi_snapshot_preview1") {
        wasi[imp.name] = impl[imp.name] ?? (() => ERRNO_NOSYS);
      } else if (imp.module === "mgw_host") {
        const f = hostAll[imp.name];
        if (f === undefined) {
          throw new Error(`wasmgoose: unknown import mgw_host.${imp.name}`);
        }
        mgwHost[imp.name] = f;
      }
    }
    const instance = new WebAssembly.Instance(module, {
      mgw_host: mgwHost,
      wasi_snapshot_preview1: wasi,
    } as WebAssembly.Imports);
    this.x = instance.exports as unknown as WasmExports;
    this.memory = this.x.memory;
    this.u8 = new Uint8Array(this.memory.buffer);
    this.u32 = new Uint32Array(this.memory.buffer);
    this.dv = new DataView(this.memory.buffer);
    this.stageView = this.u8.subarray(0, 0);
  }

  /** Calls `_initialize`, `mgw_init` and sizes the staging buffer. */
  init(stageSize: number): void {
    this.x._initialize();
    this.x.mgw_init();
    this.stage(stageSize);
  }

  /** The current byte view of memory (re-taken after growth). */
  mem(): Uint8Array {
    if (this.u8.length === 0) this.refresh(); // detached by growth
    return this.u8;
  }

  /** Re-takes every view of memory. */
  refresh(): void {
    const buf = this.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.u32 = new Uint32Array(buf);
    this.dv = new DataView(buf);
    this.stageView = this.u8.subarray(
      this.stagePtr,
      this.stagePtr + Math.min(this.stageCap, MAX_STAGE_VIEW),
    );
  }

  /**
   * Pointer to the staging buffer with at least `n` bytes. May grow memory;
   * the views are up to date afterwards.
   */
  stage(n: number): number {
    if (n > this.stageCap) {
      const want = Math.max(n, this.stageCap * 2);
      const ptr = this.x.mgw_buf(want);
      if (ptr === 0) throw new AllocError(want);
      this.stagePtr = ptr;
      this.stageCap = want;
      this.refresh();
    } else if (this.u8.length === 0) {
      this.refresh();
    }
    return this.stagePtr;
  }

  /**
   * Copies `data` into the staging buffer and returns its pointer. The caller
   * must use the bytes before anything else writes to the staging buffer.
   */
  putBytes(data: Uint8Array): number {
    const ptr = this.stage(data.length);
    this.u8.set(data, ptr);
    return ptr;
  }

  /** Writes `s` UTF-8 encoded and NUL-terminated at the staging buffer. */
  putCString(s: string): number {
    const ptr = this.stage(s.length * 3 + 1);
    const { written } = encoder.encodeInto(s, this.stageView);
    this.u8[ptr + written] = 0;
    return ptr;
  }

  /** Decodes `len` bytes of UTF-8 at `ptr` (ASCII fast path for short ones). */
  str(ptr: number, len: number): string {
    const u8 = this.mem();
    if (len <= 64) {
      // One flat string from a reused array of codes: concatenating pieces
      // makes a rope that charCodeAt and JSON.stringify pay to flatten
      const a = CODES[len];
      for (let i = 0; i < len; i++) {
        const b = u8[ptr + i];
        if (b >= 0x80) return decoder.decode(u8.subarray(ptr, ptr + len));
        a[i] = b;
      }
      return String.fromCharCode.apply(null, a);
    }
    return decoder.decode(u8.subarray(ptr, ptr + len));
  }

  /**
   * Decodes the `n` name/value pairs of the table at `table` (two `struct
   * mg_str` each, 16 bytes) into `out`: name, value, name, value, ... When
   * the strings lie back to back in memory and every byte is a character,
   * one string is decoded and cut into them; otherwise each is decoded on
   * its own.
   */
  pairStrings(table: number, n: number, out: string[]): void {
    this.mem();
    const u32 = this.u32, w0 = table >>> 2, last = w0 + (n - 1) * 4;
    const from = u32[w0], to = u32[last + 2] + u32[last + 3];
    const all = to > from ? this.str(from, to - from) : "";
    if (all.length === to - from) {
      let j = 0;
      for (let w = w0; w <= last; w += 4) {
        const k = u32[w] - from, v = u32[w + 2] - from;
        if (k < 0 || v < 0 || k + u32[w + 1] > all.length || v + u32[w + 3] > all.length) break;
        out[j++] = all.slice(k, k + u32[w + 1]);
        out[j++] = all.slice(v, v + u32[w + 3]);
      }
      if (j === 2 * n) return;
    }
    for (let i = 0, w = w0; i < n; i++, w += 4) {
      out[2 * i] = this.str(this.u32[w], this.u32[w + 1]);
      out[2 * i + 1] = this.str(this.u32[w + 2], this.u32[w + 3]);
    }
  }

  /**
   * Writes `s` UTF-8 encoded at `ptr` (room for `s.length * 3` bytes);
   * returns the length. Short ASCII text is copied by a loop: encodeInto()
   * costs ~60 ns before its first byte on Node, and more on Deno (measured
   * in bench/inproc.mjs: the loop wins up to ~100 characters there, ~50 on
   * Node).
   */
  putText(s: string, ptr: number): number {
    const n = s.length;
    if (n <= TEXT_LOOP_MAX) {
      const u8 = this.u8;
      let i = 0;
      for (; i < n; i++) {
        const ch = s.charCodeAt(i);
        if (ch >= 0x80) break;
        u8[ptr + i] = ch;
      }
      if (i === n) return n;
    }
    // At the start of the staging buffer (as reply() puts a body): its
    // standing view, no new one
    const view = ptr === this.stagePtr && n * 3 <= this.stageView.length
      ? this.stageView
      : this.u8.subarray(ptr, ptr + n * 3);
    return encoder.encodeInto(s, view).written;
  }

  /** The bytes of the `struct mg_str` at `p`: a view into memory. */
  strBytes(p: number): Uint8Array {
    this.mem();
    const u32 = this.u32, ptr = u32[p >>> 2];
    return this.u8.subarray(ptr, ptr + u32[(p >>> 2) + 1]);
  }

  /** The `struct mg_str` at `p`, decoded as UTF-8. */
  strText(p: number): string {
    this.mem();
    const u32 = this.u32;
    return this.str(u32[p >>> 2], u32[(p >>> 2) + 1]);
  }

  /** Decodes the NUL-terminated string at `ptr`. */
  cstr(ptr: number): string {
    const u8 = this.mem();
    let end = ptr;
    while (end < u8.length && u8[end] !== 0) end++;
    return this.str(ptr, end - ptr);
  }

  #fdWrite(fd: number, iovs: number, n: number, out: number): number {
    if (fd !== 1 && fd !== 2) return ERRNO_BADF;
    this.mem();
    const dv = this.dv;
    let total = 0;
    let text = "";
    for (let i = 0; i < n; i++) {
      const p = dv.getUint32(iovs + i * 8, true);
      const l = dv.getUint32(iovs + i * 8 + 4, true);
      if (l === 0) continue;
      text += decoder.decode(this.u8.subarray(p, p + l));
      total += l;
    }
    let pending = this.#stdio[fd] + text;
    let nl: number;
    while ((nl = pending.indexOf("\n")) >= 0) {
      logLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
    this.#stdio[fd] = pending;
    if (out !== 0) dv.setUint32(out, total, true);
    return n < 0 ? ERRNO_INVAL : ERRNO_SUCCESS;
  }
}
