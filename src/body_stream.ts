/**
 * Request bodies streamed as they arrive, for `serve()` (and the event API's
 * `Connection.streamBody`): the C core's
 * `mg_http_body_stream` (wasm/http_body.c) hands the body over in pieces
 * (`MG_EV_HTTP_BODY`), and a {@link BodyFeed} turns them into the
 * `ReadableStream` of the request, pausing reads on the connection while
 * the stream's queue is full. Internal module.
 *
 * @module
 */

import type { Abi } from "./abi.ts";
import { type Connection, connInternals } from "./connection.ts";

/**
 * Event of a streamed request body (wasmgoose extension, `MG_EV_USER + 8`;
 * see {@link Connection.streamBody}): data is a `Uint8Array` view of the
 * piece (valid during the call only), empty at the end of the body, or
 * `null` if the chunked body is malformed.
 *
 * @example
 * ```ts
 * if (ev === MG_EV_HTTP_BODY && data !== null) file.writeSync(data as Uint8Array);
 * ```
 */
export const MG_EV_HTTP_BODY = 31;

/** Internal: the piece at `evd` (a `struct mg_str *`), or null (malformed). */
export function bodyPiece(abi: Abi, evd: number): Uint8Array | null {
  return evd === 0 ? null : abi.strBytes(evd);
}

/**
 * Internal: from then on, `MG_EV_HTTP_HDRS` of connections of listener
 * `lsn` crosses into JS only for bodies that are chunked or over `bytes`.
 */
export function setBodyThreshold(lsn: Connection, bytes: number): void {
  const [abi, c] = connInternals(lsn);
  if (c !== 0) abi.x.mgw_body_threshold(c, bytes);
}

/**
 * Internal: feeds the pieces of one request body into a `ReadableStream`.
 * While more than `hwm` bytes wait in its queue, the connection does not
 * read; pieces that nobody will read (the stream was cancelled, or the
 * response was sent before anyone read it) are dropped and counted.
 */
export class BodyFeed {
  /** The request's body. */
  readonly stream: ReadableStream<Uint8Array>;
  /** Bytes dropped (nobody reads them). */
  dropped = 0;
  /** The body has ended, failed or is being dropped. */
  ended = false;
  #ctrl!: ReadableStreamDefaultController<Uint8Array>;
  #conn: Connection;
  #paused = false;
  #drop = false;
  #hwm: number;
  /** Bytes a reader may fall behind once the response has been sent. */
  #lag = 0;

  constructor(conn: Connection, hwm: number) {
    this.#conn = conn;
    this.#hwm = hwm;
    this.stream = new ReadableStream<Uint8Array>({
      start: (ctrl) => {
        this.#ctrl = ctrl;
      },
      pull: () => this.#resume(),
      cancel: () => {
        this.#drop = true;
        this.#resume();
      },
    }, { highWaterMark: hwm, size: (b: Uint8Array) => b.byteLength });
  }

  /** Drops the body from now on (nobody will read it). */
  drop(): void {
    if (this.#drop) return;
    this.#drop = true;
    this.#pause(false);
    if (!this.ended) this.#ctrl.error(new TypeError("the request body is not read"));
  }

  /** Whether pieces are dropped rather than queued. */
  get dropping(): boolean {
    return this.#drop;
  }

  #pause(on: boolean): void {
    if (this.#paused === on) return;
    this.#paused = on;
    if (this.#conn.isAlive) this.#conn.isFull = on;
  }

  #resume(): void {
    this.#pause(false);
  }

  /** A piece (a view into WebAssembly memory: copied here). */
  push(view: Uint8Array): void {
    if (this.#drop || this.ended) {
      this.dropped += view.length;
      return;
    }
    this.#ctrl.enqueue(view.slice());
    const queued = this.#hwm - (this.#ctrl.desiredSize ?? 0);
    if (this.#lag > 0) {
      // answered: no more pausing (nothing would end a pause nobody lifts)
      if (queued > this.#lag) {
        this.#drop = true;
        this.#ctrl.error(new TypeError("the request body was not read in time after the response"));
      }
    } else if (queued >= this.#hwm) {
      this.#pause(true);
    }
  }

  /** The end of the body. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.#pause(false);
    if (!this.#drop) this.#ctrl.close();
  }

  /** The body failed (bad framing, the client went away). */
  fail(reason: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.#pause(false);
    if (!this.#drop) this.#ctrl.error(reason);
  }

  /**
   * The response has been sent: the rest of a body nobody reads is
   * dropped (a stream never read errors, so a late reader does not see a
   * truncated body as complete). A body being read goes on arriving without
   * pauses (a paused connection whose reader was abandoned would hang), but
   * once its reader falls more than `lag` bytes behind it is dropped too.
   */
  responded(lag: number): void {
    if (this.ended || this.#drop) return;
    this.#pause(false);
    if (this.stream.locked) {
      this.#lag = Math.max(lag, this.#hwm);
      return;
    }
    this.#drop = true;
    this.#ctrl.error(new TypeError("the response was sent before the request body was read"));
  }
}
