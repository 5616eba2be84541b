/**
 * Direct sends for the Deno backend: `sendmsg(2)` through Deno's FFI,
 * straight from WebAssembly memory, on the file descriptor of a plain TCP
 * `Deno.Conn`. A write through `Deno.Conn.write` is an async op (its
 * dispatch, promise and tick); most responses fit the socket buffer at once,
 * so a synchronous non-blocking send saves that per write.
 *
 * Why `sendmsg` and not `send`: every argument of `sendmsg` is an `int` or a
 * pointer (the header, a reused buffer), while `send`'s `size_t` length is a
 * 64-bit FFI argument, which V8 speculates is a BigInt: each call with a
 * number deoptimizes the caller (seen as a deoptimization loop under load).
 * The header's one-entry `iovec` holds the data's address (the memory's
 * base, plus the offset) and length, written as 32-bit halves.
 *
 * Internal module.
 *
 * @module
 */

/** MSG_DONTWAIT | MSG_NOSIGNAL (Linux). */
const FLAGS = 0x40 | 0x4000;
/** `struct msghdr` (56 bytes on LP64 Linux) then its `struct iovec` (16). */
const HDR_BYTES = 72;
/** 32-bit word offsets in the header buffer. */
const W_IOV = 4, W_IOVLEN = 6, W_BASE = 14, W_LEN = 16;
const TWO32 = 4294967296;

interface Ffi {
  build?: { os?: string; arch?: string };
  permissions?: { querySync?(d: { name: string }): { state: string } };
  dlopen?(
    lib: string,
    syms: Record<string, { parameters: string[]; result: string }>,
  ): { symbols: { sendmsg(fd: number, hdr: Uint8Array, flags: number): number } };
  UnsafePointer?: { of(b: BufferSource): unknown; value(p: unknown): number | bigint };
}

/** The low and high 32 bits of the address of `b`'s bytes. */
function address(ffi: Ffi, b: BufferSource): [number, number] {
  const p = ffi.UnsafePointer as NonNullable<Ffi["UnsafePointer"]>;
  const v = BigInt(p.value(p.of(b)));
  return [Number(v & 0xffffffffn), Number(v >> 32n)];
}

/** `sendmsg(2)` of WASM memory bytes to a socket; see the module doc. */
export class DirectSend {
  #sendmsg: (fd: number, hdr: Uint8Array, flags: number) => number;
  #ffi: Ffi;
  /**
   * The header, in an ArrayBuffer made explicitly: its bytes live outside
   * V8's heap and never move (a small `new Uint8Array(n)` may keep them on
   * the heap, where the garbage collector moves them), so the address taken
   * once stays right.
   */
  #hdr = new Uint8Array(new ArrayBuffer(HDR_BYTES));
  #w = new Uint32Array(this.#hdr.buffer);
  /** The memory buffer whose base address is `#lo`/`#hi` (it changes when memory grows). */
  #buf: ArrayBufferLike | null = null;
  #lo = 0;
  #hi = 0;

  private constructor(ffi: Ffi, sendmsg: (fd: number, hdr: Uint8Array, flags: number) => number) {
    this.#ffi = ffi;
    this.#sendmsg = sendmsg;
    const [lo, hi] = address(ffi, this.#hdr);
    const iov = lo + 56; // the iovec, right after the header
    this.#w[W_IOV] = iov >>> 0;
    this.#w[W_IOV + 1] = hi + (iov >= TWO32 ? 1 : 0);
    this.#w[W_IOVLEN] = 1;
  }

  /**
   * Direct sends, or null where they are not possible: not 64-bit Linux,
   * FFI not already granted (never prompts), no `libc.so.6` (musl).
   */
  static open(deno: unknown): DirectSend | null {
    const ffi = deno as Ffi;
    try {
      const arch = ffi.build?.arch;
      if (ffi.build?.os !== "linux" || (arch !== "x86_64" && arch !== "aarch64")) return null;
      if (ffi.dlopen === undefined || ffi.UnsafePointer === undefined) return null;
      if (ffi.permissions?.querySync?.({ name: "ffi" }).state !== "granted") return null;
      const lib = ffi.dlopen("libc.so.6", {
        sendmsg: { parameters: ["i32", "buffer", "i32"], result: "i32" },
      });
      return new DirectSend(ffi, lib.symbols.sendmsg);
    } catch {
      return null;
    }
  }

  /**
   * Sends `len` bytes of `mem` at `ptr` to socket `fd` without blocking:
   * the bytes sent, or -1 (would block, or an error: the caller retries
   * through `Deno.Conn.write`, which reports it).
   */
  send(fd: number, mem: Uint8Array, ptr: number, len: number): number {
    const w = this.#w;
    if (mem.buffer !== this.#buf) {
      [this.#lo, this.#hi] = address(this.#ffi, mem.buffer as ArrayBuffer);
      this.#buf = mem.buffer;
    }
    const a = this.#lo + mem.byteOffset + ptr;
    w[W_BASE] = a >>> 0;
    w[W_BASE + 1] = this.#hi + (a >= TWO32 ? 1 : 0);
    w[W_LEN] = len;
    return this.#sendmsg(fd, this.#hdr, FLAGS);
  }
}
