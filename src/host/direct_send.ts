/**
 * Direct sends for the Deno backend: `send(2)` through Deno's FFI, straight
 * from WebAssembly memory, on the file descriptor of a plain TCP
 * `Deno.Conn`. A write through `Deno.Conn.write` is an async op (its
 * dispatch, promise and tick); most responses fit the socket buffer at once,
 * so a synchronous non-blocking send saves that per write.
 *
 * The bytes go as a `buffer` argument: a view of the memory that the caller
 * keeps per socket (a connection writes from the same place, the same
 * length, request after request). `send`'s `size_t` length is a 64-bit FFI
 * argument, which V8 speculates is a BigInt: it is always given one (kept
 * with the view), since a number takes Deno's slow path (~2x the call) and
 * deoptimizes the caller. An earlier version used `sendmsg`, whose
 * arguments are all `int`s and pointers; the kernel takes ~130 ns longer
 * per call for it (copying the header in), measured here on loopback.
 *
 * Internal module.
 *
 * @module
 */

/** MSG_DONTWAIT | MSG_NOSIGNAL (Linux). */
const FLAGS = 0x40 | 0x4000;

type SendFn = (fd: number, buf: Uint8Array, len: bigint, flags: number) => number;

interface Ffi {
  build?: { os?: string; arch?: string };
  permissions?: { querySync?(d: { name: string }): { state: string } };
  dlopen?(
    lib: string,
    syms: Record<string, { parameters: string[]; result: string }>,
  ): { symbols: { send: SendFn } };
}

/**
 * What a socket keeps for its direct sends: the view of its last send and
 * that view's length as a BigInt.
 */
export class SendView {
  view: Uint8Array | null = null;
  len = 0n;
}

/** `send(2)` of WASM memory bytes to a socket; see the module doc. */
export class DirectSend {
  #send: SendFn;

  private constructor(send: SendFn) {
    this.#send = send;
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
      if (ffi.dlopen === undefined) return null;
      if (ffi.permissions?.querySync?.({ name: "ffi" }).state !== "granted") return null;
      const lib = ffi.dlopen("libc.so.6", {
        send: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
      });
      return new DirectSend(lib.symbols.send);
    } catch {
      return null;
    }
  }

  /**
   * Sends `len` bytes of `mem` at `ptr` to socket `fd` without blocking,
   * through the view kept in `sv` (made again when the place, the length or
   * the memory's buffer changed): the bytes sent, or -1 (would block, or an
   * error: the caller retries through `Deno.Conn.write`, which reports it).
   */
  send(fd: number, sv: SendView, mem: Uint8Array, ptr: number, len: number): number {
    let v = sv.view;
    const at = mem.byteOffset + ptr;
    if (v === null || v.buffer !== mem.buffer || v.byteOffset !== at || v.length !== len) {
      v = sv.view = new Uint8Array(mem.buffer, at, len);
      sv.len = BigInt(len);
    }
    return this.#send(fd, v, sv.len, FLAGS);
  }
}
