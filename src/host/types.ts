/**
 * The socket backend interface: one implementation per runtime
 * (`deno.ts` for Deno, `node.ts` for Node.js and Bun). A backend owns the
 * runtime's sockets and reports what happens on them to a {@link BackendSink}
 * (the Manager), which turns it into calls of the WASM exports.
 *
 * Internal module.
 *
 * @module
 */

import type { TlsOptions } from "../types.ts";

/** Listener / connection flag: UDP (bit 0 of the `listen`/`connect` flags). */
export const FLAG_UDP = 1;
/** Listener / connection flag: TLS (bit 1 of the `listen`/`connect` flags). */
export const FLAG_TLS = 2;

/** Largest slice of received bytes a backend hands to {@link BackendSink.recv}. */
export const RECV_SLICE = 65536;

/**
 * What a backend reports back. Implemented by the Manager; every method makes
 * at most one export call. After the C side closed a socket (the backend's
 * `close(hid)` was called) or after `closed()` was reported, the backend makes
 * no further calls about that socket.
 */
export interface BackendSink {
  /** The current byte view of WASM memory (re-taken after growth). */
  mem(): Uint8Array;
  /**
   * Socket `hid` was accepted on listener `lsn`. Returns the new connection
   * `c`, or 0 when refused (the backend then closes the socket).
   */
  accept(lsn: number, hid: number, remote: string, local: string): number;
  /** The outbound connection of `c` is established. */
  connected(c: number, remote: string, local: string): void;
  /** The outbound connection of `c` failed. */
  connectFailed(c: number, message: string): void;
  /** `len` bytes at `data[off..]` were received on `c` (`len <= RECV_SLICE`). */
  recv(c: number, data: Uint8Array, off: number, len: number): void;
  /** The peer closed its side of `c`. */
  eof(c: number): void;
  /** The socket of `c` is gone (`err` null: without error). */
  closed(c: number, err: string | null): void;
  /** `c` can take more output after `write` returned 0. */
  writable(c: number): void;
}

/** A runtime's sockets, driven by the `mgw_host` imports. */
export interface SocketBackend {
  /** Name of the backend ("deno" or "node"). */
  readonly name: string;
  /** Message of the last failed `listen`/`connect`. */
  lastError: string;
  /**
   * Opens a listener for connection `c` on `host` (empty: all interfaces)
   * and `port`; returns a host id >= 1, or -1 (see {@link lastError}).
   * `reusePort`: share the port with other processes (SO_REUSEPORT; Deno
   * only, Node shares through node:cluster instead).
   */
  listen(
    c: number,
    host: string,
    port: number,
    flags: number,
    tls?: TlsOptions,
    reusePort?: boolean,
  ): number;
  /** The bound `ip:port` of listener `hid`, or null if not bound yet. */
  localAddr(hid: number): string | null;
  /** Starts an outbound connection; returns a host id >= 1, or -1. */
  connect(c: number, host: string, port: number, flags: number, tls?: TlsOptions): number;
  /**
   * Takes `len` bytes at `ptr` of WASM memory (copies them before
   * returning): returns `len`, 0 (cannot take more now; `writable` follows),
   * or -1 (the socket is dead).
   */
  write(hid: number, ptr: number, len: number): number;
  /** Closes the socket once its pending output is written. */
  close(hid: number): void;
  /** Half-closes the socket once its pending output is written. */
  shutdown(hid: number): void;
  /** Stops or resumes reading. */
  pause(hid: number, paused: boolean): void;
  /** Whether `hid` is still a socket the C side knows. */
  alive(hid: number): boolean;
  /** Closes every socket without reporting anything. */
  closeAll(): void;
}

/** Formats `host` and `port` as `ip:port` (`[ip]:port` for IPv6). */
export function formatAddr(host: string, port: number): string {
  if (host.startsWith("::ffff:") && host.indexOf(".") > 0) {
    host = host.slice(7);
  }
  return host.indexOf(":") >= 0 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The message of an error-like value. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * Why a socket with `flags` cannot be opened yet (UDP is not implemented by
 * the backends; TLS is, over TCP), or `null` if it can.
 */
export function unsupported(flags: number, what: "listeners" | "connections"): string | null {
  if ((flags & FLAG_UDP) !== 0) return `UDP ${what} are not supported yet`;
  return null;
}

/**
 * The own symbol-keyed slots of `obj` with these descriptions, in the same
 * order (undefined where absent): how runtime internals kept under symbols
 * (a connection's resource id, a Response's lazy body) are found.
 */
export function symbolsByDescription(obj: object, names: string[]): Array<symbol | undefined> {
  const out: Array<symbol | undefined> = names.map(() => undefined);
  for (const sym of Object.getOwnPropertySymbols(obj)) {
    const i = names.indexOf(sym.description ?? "");
    if (i >= 0) out[i] = sym;
  }
  return out;
}
