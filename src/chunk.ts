/**
 * Chunked responses and Server-Sent Events: the work behind
 * `Connection.startChunked`, `chunk`, `startSse`, `sse` and the WebSocket
 * upgrade of `serve()`. Internal module.
 *
 * @module
 */

import { type Abi, encoder } from "./abi.ts";

/**
 * One Server-Sent Event, for `Connection.sse`.
 *
 * @example
 * ```ts
 * const msg: SseMessage = { event: "tick", data: "line 1\nline 2", id: "7", retry: 1000 };
 * ```
 */
export interface SseMessage {
  /** The event type (`event:` field); the client's default is "message". */
  event?: string;
  /** The data; every line becomes its own `data:` line. */
  data: string;
  /** The event id (`id:` field), sent back as `Last-Event-ID` on reconnect. */
  id?: string;
  /** The reconnection time in milliseconds (`retry:` field). */
  retry?: number;
}

const LINE_BREAK = /[\r\n\0]/;

/** Internal: `mgw_chunk_start` with an encoded or string header block. */
export function chunkStart(
  abi: Abi,
  c: number,
  status: number,
  hb: Uint8Array | undefined,
  hs: string,
  sse: boolean,
): void {
  let hptr: number, hlen: number;
  if (hb !== undefined) {
    hptr = abi.putBytes(hb);
    hlen = hb.length;
  } else {
    hptr = abi.stage(hs.length * 3);
    hlen = hs.length === 0 ? 0 : encoder.encodeInto(hs, abi.stageView).written;
  }
  abi.x.mgw_chunk_start(c, status | 0, hptr, hlen, sse ? 1 : 0);
}

/** Internal: `mgw_chunk` with `data` (a view into WASM memory is not copied). */
export function chunkWrite(abi: Abi, c: number, data: string | Uint8Array): void {
  let ptr: number, len: number;
  if (typeof data === "string") {
    ptr = abi.stage(data.length * 3);
    len = data.length === 0 ? 0 : encoder.encodeInto(data, abi.stageView).written;
  } else if (data.buffer === abi.memory.buffer) {
    ptr = data.byteOffset;
    len = data.length;
  } else {
    len = data.length;
    ptr = abi.stage(len);
    abi.u8.set(data, ptr);
  }
  abi.x.mgw_chunk(c, ptr, len);
}

/** Internal: checks `msg` and sends it with `mgw_sse`. */
export function sseWrite(abi: Abi, c: number, msg: SseMessage): void {
  const { event, id, retry } = msg;
  const data = String(msg.data ?? "");
  if (event !== undefined && LINE_BREAK.test(event)) {
    throw new TypeError("SSE event name contains CR, LF or NUL");
  }
  if (id !== undefined && LINE_BREAK.test(id)) {
    throw new TypeError("SSE id contains CR, LF or NUL");
  }
  if (retry !== undefined && !(Number.isInteger(retry) && retry >= 0)) {
    throw new RangeError(`invalid SSE retry ${retry}`);
  }
  const ev = event ?? "", idv = id ?? "";
  const ptr = abi.stage((ev.length + idv.length + data.length) * 3 + 2);
  const view = abi.stageView;
  const el = encoder.encodeInto(ev, view).written;
  abi.u8[ptr + el] = 0;
  const il = encoder.encodeInto(idv, view.subarray(el + 1)).written;
  abi.u8[ptr + el + 1 + il] = 0;
  const dptr = ptr + el + il + 2;
  const dl = encoder.encodeInto(data, view.subarray(el + il + 2)).written;
  abi.x.mgw_sse(
    c,
    event === undefined ? 0 : ptr,
    id === undefined ? 0 : ptr + el + 1,
    dptr,
    dl,
    retry ?? -1,
  );
}

/**
 * Internal: upgrades `c` to WebSocket from the request head `head` (request
 * line and headers, with the final empty line); `hdrs` extra response lines.
 */
export function wsUpgradeHead(abi: Abi, c: number, head: string, hdrs: string): boolean {
  const ptr = abi.stage((head.length + hdrs.length) * 3);
  const hl = encoder.encodeInto(head, abi.stageView).written;
  const xl = hdrs.length === 0 ? 0 : encoder.encodeInto(hdrs, abi.stageView.subarray(hl)).written;
  return abi.x.mgw_ws_upgrade_head(c, ptr, hl, ptr + hl, xl) === 1;
}
