/**
 * Raw TCP clients for the tests (node:net, so they run on Deno and Node):
 * they collect what the server sends and let a test wait for a condition.
 * Not a test file itself.
 *
 * @module
 */
import * as net from "node:net";

/** One HTTP response parsed from raw bytes. */
export interface Resp {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** Splits `buf` (latin1) into complete responses; `rest` is what follows them. */
export function parseResponses(buf: string): { list: Resp[]; rest: string } {
  const list: Resp[] = [];
  let pos = 0;
  for (;;) {
    const end = buf.indexOf("\r\n\r\n", pos);
    if (end < 0) break;
    const lines = buf.slice(pos, end).split("\r\n");
    const status = Number(lines[0].split(" ")[1]);
    const headers = new Map<string, string>();
    for (const l of lines.slice(1)) {
      const i = l.indexOf(":");
      headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
    }
    const len = status < 200 ? 0 : Number(headers.get("content-length") ?? 0);
    if (buf.length < end + 4 + len) break;
    list.push({ status, headers, body: buf.slice(end + 4, end + 4 + len) });
    pos = end + 4 + len;
  }
  return { list, rest: buf.slice(pos) };
}

/** A raw client whose received data accumulates in `buf` (of type `B`). */
export abstract class RawSocket<B> {
  sock: net.Socket;
  buf: B;
  connected = false;
  closed = false;
  #wake: (() => void) | null = null;

  constructor(port: number, empty: B, latin1: boolean) {
    this.buf = empty;
    this.sock = net.connect({ host: "127.0.0.1", port, noDelay: true });
    if (latin1) this.sock.setEncoding("latin1");
    this.sock.on("connect", () => {
      this.connected = true;
      this.#notify();
    });
    this.sock.on("data", (d: string | Uint8Array) => {
      this.buf = this.append(this.buf, d);
      this.#notify();
    });
    this.sock.on("error", () => {});
    this.sock.on("close", () => {
      this.closed = true;
      this.#notify();
    });
  }

  /** `buf` with `d` appended. */
  protected abstract append(buf: B, d: string | Uint8Array): B;

  /** What was received, for a timeout message. */
  protected abstract show(): string;

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** Waits until `pred` holds (or fails after `ms`); rechecked on input and every 10 ms. */
  async until(pred: () => boolean, what: string, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout waiting for ${what}; got ${this.show()}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 10));
        this.#wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  }

  async waitClose(): Promise<void> {
    await this.until(() => this.closed, "the server to close the connection");
  }

  destroy(): void {
    this.sock.destroy();
  }
}

/** A raw HTTP client: what it receives is latin1 text. */
export class Raw extends RawSocket<string> {
  constructor(port: number) {
    super(port, "", true);
  }

  protected append(buf: string, d: string | Uint8Array): string {
    return buf + (d as string);
  }

  protected show(): string {
    return this.buf.length > 300 ? `${this.buf.length} bytes` : JSON.stringify(this.buf);
  }

  write(s: string | Uint8Array): void {
    if (typeof s === "string") this.sock.write(s, "latin1");
    else this.sock.write(s);
  }

  /** The complete responses received so far. */
  responses(): Resp[] {
    return parseResponses(this.buf).list;
  }

  /** Waits for `n` complete responses (or the close) and returns them. */
  async waitResponses(n: number): Promise<Resp[]> {
    await this.until(() => this.responses().length >= n || this.closed, `${n} responses`);
    return this.responses();
  }
}
