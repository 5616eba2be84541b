/**
 * Raw connections, DNS, SNTP and wakeup: the parts of the Manager and
 * Connection API that belong to them, as functions over the ABI.
 *
 * Internal module: the public API is `Manager` and `Connection`.
 *
 * @module
 */

import type { Abi } from "./abi.ts";
import type * as DnsNs from "node:dns";

/** Internal: a view of `c->recv` (valid until the next call into C). */
export function recvView(abi: Abi, c: number): Uint8Array {
  const io = abi.x.mgw_iobuf(c, 0);
  abi.mem();
  const u32 = abi.u32;
  const buf = u32[io >>> 2], len = u32[(io >>> 2) + 2];
  return abi.u8.subarray(buf, buf + len);
}

/** Internal: deletes `n` bytes from the front of `c->recv`; returns what is left. */
export function consumeRecv(abi: Abi, c: number, n: number): number {
  return abi.x.mgw_consume(c, Math.min(n, 0x7fffffff));
}

/** Internal: the `uint64_t` epoch milliseconds of `MG_EV_SNTP_TIME`. */
export function sntpTime(abi: Abi, evd: number): number {
  abi.mem();
  return abi.dv.getUint32(evd, true) + abi.dv.getUint32(evd + 4, true) * 0x100000000;
}

/** Internal: a copy of the `struct mg_str` data of `MG_EV_WAKEUP`. */
export function wakeupData(abi: Abi, evd: number): Uint8Array {
  return abi.strBytes(evd).slice();
}

interface ProcessLike {
  getBuiltinModule?: (id: string) => unknown;
}

let dnsMod: typeof DnsNs | undefined;

/**
 * Internal: resolves `host` with the runtime's resolver (node:dns `lookup`,
 * which Deno also offers without extra permissions). Calls `cb` once with
 * the address, or with an error message.
 */
export function lookupHost(
  host: string,
  cb: (addr: string | null, err: string | null) => void,
): void {
  try {
    if (dnsMod === undefined) {
      const proc = (globalThis as { process?: ProcessLike }).process;
      dnsMod = proc?.getBuiltinModule?.("node:dns") as typeof DnsNs | undefined;
      if (dnsMod === undefined) throw new Error("node:dns is not available");
    }
    dnsMod.lookup(host, (err: Error | null, address: string) => {
      if (err !== null) cb(null, err.message);
      else cb(address, null);
    });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    queueMicrotask(() => cb(null, msg));
  }
}

/** The message a worker posts to a wakeup port. */
interface WakeupPost {
  id: number;
  data: string | Uint8Array | ArrayBuffer;
}

interface Unrefable {
  unref?: () => void;
}

/**
 * Internal: the MessagePorts of {@link Manager.wakeupPort}. Messages
 * `{ id, data }` become `mgr.wakeup(id, data)`; anything else is ignored.
 */
export class WakeupPorts {
  #ports: MessagePort[] = [];
  #deliver: (id: number, data: string | Uint8Array) => void;

  /** @param deliver called for each valid message */
  constructor(deliver: (id: number, data: string | Uint8Array) => void) {
    this.#deliver = deliver;
  }

  /** A new port for a worker; its twin stays here. */
  open(): MessagePort {
    const ch = new MessageChannel();
    const mine = ch.port1;
    mine.onmessage = (e: MessageEvent) => {
      const m = e.data as Partial<WakeupPost> | null;
      if (m === null || typeof m !== "object" || typeof m.id !== "number") return;
      let d = m.data;
      if (d instanceof ArrayBuffer) d = new Uint8Array(d);
      if (typeof d !== "string" && !(d instanceof Uint8Array)) {
        d = d === undefined ? "" : JSON.stringify(d);
      }
      this.#deliver(m.id, d as string | Uint8Array);
    };
    // The Manager's own listeners keep the process alive, not this port.
    (mine as unknown as Unrefable).unref?.();
    this.#ports.push(mine);
    return ch.port2;
  }

  /** Closes every port. */
  close(): void {
    for (const p of this.#ports) {
      try {
        p.close();
      } catch {
        // already closed
      }
    }
    this.#ports = [];
  }
}
