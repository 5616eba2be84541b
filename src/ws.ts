/**
 * `WsMessage`: a lazy view of a `struct mg_ws_message` in WASM memory.
 *
 * @module
 */

import type { Abi } from "./abi.ts";

// struct mg_ws_message offsets (wasm32, see wasm/ABI.md)
const OFF_DATA = 0;
const OFF_FLAGS = 8;

let createMessage: (abi: Abi, ptr: number) => WsMessage;
let invalidateMessage: (msg: WsMessage) => void;

/**
 * A WebSocket message (`MG_EV_WS_MSG`: a text or binary message, fragments
 * already reassembled) or control frame (`MG_EV_WS_CTL`: ping, pong, close).
 *
 * It is a lazy view of the C `struct mg_ws_message`: nothing is decoded until
 * a getter is used. **It is valid only during the event callback that
 * received it**: afterwards the C side reuses the memory, and every getter
 * throws. Copy what you need to keep (`msg.text`, `msg.data.slice()`) before
 * the handler returns.
 *
 * @example
 * ```ts
 * import {
 *   type HttpMessage,
 *   Manager,
 *   MG_EV_HTTP_MSG,
 *   MG_EV_WS_MSG,
 *   type WsMessage,
 * } from "@wasmgoose/wasmgoose";
 *
 * const mgr = new Manager();
 * mgr.listen("http://127.0.0.1:8000", (c, ev, data) => {
 *   if (ev === MG_EV_HTTP_MSG) c.wsUpgrade(data as HttpMessage);
 *   if (ev === MG_EV_WS_MSG) {
 *     const msg = data as WsMessage;
 *     c.wsSend(msg.data, msg.op); // echo, text or binary
 *   }
 * });
 * ```
 */
export class WsMessage {
  #abi: Abi;
  #p: number;
  #text: string | undefined;

  private constructor(abi: Abi, ptr: number) {
    this.#abi = abi;
    this.#p = ptr;
  }

  static {
    createMessage = (abi, ptr) => new WsMessage(abi, ptr);
    invalidateMessage = (msg) => {
      msg.#p = 0;
    };
  }

  #ptr(): number {
    const p = this.#p;
    if (p === 0) {
      throw new Error(
        "WsMessage used after its event callback returned (copy what you need during the callback)",
      );
    }
    return p;
  }

  /**
   * The payload: a view into WASM memory, valid only during the callback and
   * only until the next call that may grow memory (e.g. `wsSend` of a
   * string). Use `msg.data.slice()` to keep a copy. Passing it unchanged to
   * `wsSend` (an echo) copies nothing on the JavaScript side.
   *
   * @example
   * ```ts
   * const saved = msg.data.slice();
   * ```
   */
  get data(): Uint8Array {
    return this.#abi.strBytes(this.#ptr() + OFF_DATA);
  }

  /**
   * The payload decoded as UTF-8 (the C core has already checked that text
   * messages are valid UTF-8; other bytes decode to U+FFFD).
   *
   * @example
   * ```ts
   * const obj = JSON.parse(msg.text);
   * ```
   */
  get text(): string {
    return (this.#text ??= this.#abi.strText(this.#ptr() + OFF_DATA));
  }

  /**
   * The first byte of the (first) frame: FIN in bit 7, the opcode in bits 0-3.
   *
   * @example
   * ```ts
   * const fin = (msg.flags & 0x80) !== 0;
   * ```
   */
  get flags(): number {
    const p = this.#ptr() + OFF_FLAGS;
    return this.#abi.mem()[p];
  }

  /**
   * The opcode (`flags & 15`): `WEBSOCKET_OP_TEXT` or `WEBSOCKET_OP_BINARY`
   * for messages; `WEBSOCKET_OP_PING`, `WEBSOCKET_OP_PONG` or
   * `WEBSOCKET_OP_CLOSE` for control frames.
   *
   * @example
   * ```ts
   * if (msg.op === WEBSOCKET_OP_TEXT) console.log(msg.text);
   * ```
   */
  get op(): number {
    return this.flags & 15;
  }
}

/** Internal: a view of the `struct mg_ws_message` at `ptr`. */
export function newWsMessage(abi: Abi, ptr: number): WsMessage {
  return createMessage(abi, ptr);
}

/** Internal: ends the view (when its callback returns). */
export function endWsMessage(msg: WsMessage): void {
  invalidateMessage(msg);
}
