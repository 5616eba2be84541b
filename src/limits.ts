/**
 * Limits against slow clients and floods (timeouts, a connection cap),
 * graceful shutdown and memory statistics. The C side is
 * `vendor/mongoose/src/limits.c`; `Manager` calls into this module.
 *
 * @module
 */

import type { Abi } from "./abi.ts";

/**
 * Limits of a listener, for `Manager.listen`. Timeouts are in milliseconds,
 * 0 turns one off. HTTP listeners default to `idleTimeout` 60000,
 * `headerTimeout` 10000, `bodyTimeout` 30000 (the C macros
 * `MG_IDLE_TIMEOUT_MS`, `MG_HEADER_TIMEOUT_MS`, `MG_BODY_TIMEOUT_MS`); raw
 * `tcp://` listeners have no timeouts unless given (only `idleTimeout`
 * applies to them). `maxConnections` defaults to no cap (`MG_MAX_CONNS`).
 *
 * @example
 * ```ts
 * mgr.listen("http://0.0.0.0:8000", handler, {
 *   idleTimeout: 30_000,
 *   headerTimeout: 5_000,
 *   maxConnections: 10_000,
 * });
 * ```
 */
export interface LimitOptions {
  /** Close a keep-alive connection with no request for this long, and a
   * connection whose peer reads none of the pending output for this long. */
  idleTimeout?: number;
  /** A request head must be complete this long after its first byte (after
   * the accept, for the first request); else 408 and close. */
  headerTimeout?: number;
  /** A request body may pause at most this long; else 408 and close. */
  bodyTimeout?: number;
  /** Accepted connections open at once; over it a new connection is
   * accepted and closed at once (0: no cap). */
  maxConnections?: number;
}

/**
 * Options of `Manager.shutdown`.
 *
 * @example
 * ```ts
 * await mgr.shutdown({ timeout: 5000 });
 * ```
 */
export interface ShutdownOptions {
  /** Longest wait for responses in flight, in ms (default 10000); then
   * everything still open is closed. */
  timeout?: number;
}

/**
 * Memory and connection counters of a Manager, from `Manager.stats()`.
 *
 * @example
 * ```ts
 * const s = mgr.stats();
 * console.log(s.connections, s.heapTop, s.memoryBytes);
 * ```
 */
export interface ManagerStats {
  /** Connections alive in C (listeners included). */
  connections: number;
  /** Top of the C heap (`sbrk(0)`), bytes: its high-water mark. */
  heapTop: number;
  /** Size of the WebAssembly memory, bytes (it never shrinks). */
  memoryBytes: number;
  /** C timers (the user's and the limits sweep). */
  timers: number;
}

/**
 * Default wait of a graceful shutdown, ms.
 *
 * @example
 * ```ts
 * await mgr.shutdown({ timeout: SHUTDOWN_TIMEOUT / 2 });
 * ```
 */
export const SHUTDOWN_TIMEOUT = 10_000;
/** How often a graceful shutdown checks the connections, ms. */
const DRAIN_STEP = 25;

function limitValue(name: string, v: number | undefined): number {
  if (v === undefined) return -1;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new RangeError(`${name} must be a number >= 0, got ${String(v)}`);
  }
  return Math.floor(v);
}

/**
 * Whether `opts` sets any limit.
 *
 * @example
 * ```ts
 * hasLimits({ idleTimeout: 1000 }); // true
 * ```
 */
export function hasLimits(opts: LimitOptions | undefined): boolean {
  return opts !== undefined &&
    (opts.idleTimeout !== undefined || opts.headerTimeout !== undefined ||
      opts.bodyTimeout !== undefined || opts.maxConnections !== undefined);
}

/**
 * Checks the values of `opts` (-1 for each one not given); throws RangeError
 * for a bad one.
 *
 * @example
 * ```ts
 * checkLimits({ idleTimeout: 1000 }); // [1000, -1, -1, -1]
 * ```
 */
export function checkLimits(opts: LimitOptions): number[] {
  return [
    limitValue("idleTimeout", opts.idleTimeout),
    limitValue("headerTimeout", opts.headerTimeout),
    limitValue("bodyTimeout", opts.bodyTimeout),
    limitValue("maxConnections", opts.maxConnections),
  ];
}

/**
 * Applies checked limit values to listener `c`.
 *
 * @example
 * ```ts
 * applyLimits(abi, lsn, checkLimits({ maxConnections: 100 }));
 * ```
 */
export function applyLimits(abi: Abi, c: number, v: number[]): void {
  abi.x.mgw_limits_set(c, v[0], v[1], v[2], v[3]);
}

/**
 * The counters of the instance behind `abi`.
 *
 * @example
 * ```ts
 * console.log(statsOf(abi).connections);
 * ```
 */
export function statsOf(abi: Abi): ManagerStats {
  const x = abi.x;
  return {
    connections: x.mgw_stats(0),
    heapTop: x.mgw_stats(1),
    memoryBytes: x.memory.buffer.byteLength,
    timers: x.mgw_stats(2),
  };
}

/**
 * A graceful stop: `step()` runs one drain pass (closes listeners and idle
 * connections, asks busy ones to close after their response) and returns the
 * number still busy; the promise resolves when none is, or after `timeout`. *
 * @example
 * ```ts
 * await drainLoop(() => abi.x.mgw_mgr_drain(), 5000);
 * ```
 */
export function drainLoop(step: () => number, timeout: number): Promise<void> {
  const deadline = performance.now() + timeout;
  return new Promise<void>((resolve) => {
    const tick = () => {
      let busy = 0;
      try {
        busy = step();
      } catch {
        busy = 0; // the instance failed: nothing left to wait for
      }
      if (busy === 0 || performance.now() >= deadline) resolve();
      else setTimeout(tick, Math.min(DRAIN_STEP, Math.max(0, deadline - performance.now())));
    };
    tick();
  });
}
