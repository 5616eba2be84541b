/**
 * The `Request` objects of `serve()`: built lazily. Constructing a real
 * `Request` costs 10-20 µs (more than the rest of a small request), so
 * `serve()` hands out a `ServeRequest`: an object whose prototype chain
 * includes `Request.prototype` (`instanceof Request` holds) that answers
 * `method`, `url`, `headers`, `signal` and the body readers from its own
 * data, and creates the real `Request` only when something else is asked
 * (`body`, `formData()`, `clone()`, `new Request(req)`, any other property).
 * Internal module.
 *
 * @module
 */

const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/**
 * Request bodies up to 4 KiB are copied into a shared 32 KiB slab: a view
 * of it costs ~50 ns where `slice()` (a fresh backing store) costs ~300.
 * The slab is never written twice, and ServeRequest never hands the view
 * out (its readers decode or copy it; a real Request copies its body), so
 * no handler sees another's bytes. A kept request keeps its slab alive.
 */
const SLAB_SIZE = 32768, SLAB_MAX = 4096;
let slab = new Uint8Array(0), slabPos = 0;

function copyBody(b: Uint8Array): Uint8Array {
  const n = b.length;
  if (n > SLAB_MAX) return b.slice();
  if (slabPos + n > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    slabPos = 0;
  }
  const v = slab.subarray(slabPos, slabPos + n);
  v.set(b);
  slabPos += n;
  return v;
}

/** The internal slots of a real Request (brand, state, ...), found at load. */
const REQUEST_SYMBOLS: symbol[] = (() => {
  try {
    return Object.getOwnPropertySymbols(new Request("http://localhost/"));
  } catch {
    return [];
  }
})();

/**
 * The [name, value] pairs of header lines the C parser accepted ("Name:
 * value", CRLF or LF line ends, values trimmed of spaces and tabs as
 * mg_http_parse does).
 */
export function headerPairs(block: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const n = block.length;
  let i = 0;
  while (i < n) {
    let e = block.indexOf("\n", i);
    if (e < 0) e = n;
    let end = e > i && block.charCodeAt(e - 1) === 13 ? e - 1 : e;
    const colon = block.indexOf(":", i);
    let v = colon + 1;
    while (v < end && isWs(block.charCodeAt(v))) v++;
    while (end > v && isWs(block.charCodeAt(end - 1))) end--;
    out.push([block.slice(i, colon), block.slice(v, end)]);
    i = e + 1;
  }
  return out;
}

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

function used(): Promise<never> {
  return Promise.reject(new TypeError("Body already consumed"));
}

/**
 * Internal: a `Request` made on demand (see the module notes).
 */
export class ServeRequest {
  #method: string;
  #url: string | undefined;
  #origin: string;
  #path: string;
  #query: string;
  #block: string;
  #pairs: Array<[string, string]> | undefined;
  #body: Uint8Array | ReadableStream<Uint8Array> | null;
  /** While the body is still in WebAssembly memory: that memory. */
  #mem: WebAssembly.Memory | undefined;
  /** Where the body lies in `#mem` (it is re-viewed: the memory may grow). */
  #at = 0;
  #len = 0;
  #headers: Headers | undefined;
  #ac: AbortController | undefined;
  #aborted = false;
  #reason: unknown = undefined;
  #real: Request | undefined;
  #used = false;

  /**
   * `origin`: "scheme://host" (the listener's address: the Host header, if
   * any, replaces the host when the URL is made). `block`: the header lines
   * as received (split into pairs when first asked for). `body`: the whole
   * body (a small one, buffered by the C core), or a stream fed as body
   * bytes arrive (large or chunked bodies, see src/body_stream.ts: then the
   * body readers go through the real Request), or null. `mem`, `at`,
   * `len`: instead, the body is the `len` bytes at `at` in this WebAssembly
   * memory, valid until `_settle()` (the message's bytes; read before, it
   * is decoded or copied from there).
   */
  constructor(
    method: string,
    origin: string,
    path: string,
    query: string,
    block: string,
    body: Uint8Array | ReadableStream<Uint8Array> | null,
    mem?: WebAssembly.Memory,
    at = 0,
    len = 0,
  ) {
    this.#method = method;
    this.#origin = origin;
    this.#path = path;
    this.#query = query;
    this.#block = block;
    this.#body = body;
    this.#mem = mem;
    this.#at = at;
    this.#len = len;
  }

  /**
   * Internal (serve()): the message's bytes are about to go; a body still
   * in WebAssembly memory and not read is copied.
   */
  _settle(): void {
    const m = this.#mem;
    if (m === undefined) return;
    this.#mem = undefined;
    if (!this.#used && this.#real === undefined) {
      this.#body = copyBody(new Uint8Array(m.buffer, this.#at, this.#len));
    }
  }

  /** The body bytes: a view of WebAssembly memory while live, else its copy. */
  #bytes(): Uint8Array {
    const m = this.#mem;
    if (m !== undefined) return new Uint8Array(m.buffer, this.#at, this.#len);
    return (this.#body as Uint8Array | null) ?? EMPTY;
  }

  /** Internal: the request target's path, as received (Router.fetch). */
  get _path(): string {
    return this.#path;
  }

  /** Internal: the query string without '?' (Router.fetch). */
  get _query(): string {
    return this.#query;
  }

  /** Internal: aborts the request's signal (now, or when first asked for). */
  _abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#ac?.abort(reason);
  }

  /** Internal: whether the signal was aborted. */
  get _aborted(): boolean {
    return this.#aborted;
  }

  /** The real Request, made once. */
  _real(): Request {
    if (this.#real === undefined) {
      // A Request gets a copy of a body still in WebAssembly memory
      const body = this.#used ? null : this.#mem !== undefined ? this.#bytes().slice() : this.#body;
      this.#real = new Request(this.url, {
        method: this.#method,
        headers: this.headers,
        body: body as BodyInit | null,
        signal: this.signal,
        duplex: "half", // needed for a stream body (Node)
      } as RequestInit);
    }
    return this.#real;
  }

  get method(): string {
    return this.#method;
  }

  get url(): string {
    if (this.#url === undefined) {
      let origin = this.#origin;
      const pairs = this.#headerPairs();
      for (let i = 0; i < pairs.length; i++) {
        const name = pairs[i][0];
        if (name.length === 4 && name.toLowerCase() === "host") {
          origin = origin.slice(0, origin.indexOf("://") + 3) + pairs[i][1];
          break;
        }
      }
      this.#url = origin + this.#path + (this.#query.length > 0 ? "?" + this.#query : "");
    }
    return this.#url;
  }

  get headers(): Headers {
    return (this.#headers ??= new Headers(this.#headerPairs()));
  }

  #headerPairs(): Array<[string, string]> {
    return (this.#pairs ??= headerPairs(this.#block));
  }

  get signal(): AbortSignal {
    if (this.#ac === undefined) {
      this.#ac = new AbortController();
      if (this.#aborted) this.#ac.abort(this.#reason);
    }
    return this.#ac.signal;
  }

  get body(): ReadableStream<Uint8Array> | null {
    return this._real().body;
  }

  get bodyUsed(): boolean {
    return this.#real !== undefined ? this.#real.bodyUsed : this.#used;
  }

  #take(): Uint8Array | null {
    if (this.#used) return null;
    this.#used = true;
    return this.#bytes();
  }

  /** Whether the body readers must go through the real Request. */
  #viaReal(): boolean {
    return this.#real !== undefined || this.#body instanceof ReadableStream;
  }

  text(): Promise<string> {
    if (this.#viaReal()) return this._real().text();
    const b = this.#take();
    return b === null ? used() : Promise.resolve(decoder.decode(b));
  }

  json(): Promise<unknown> {
    if (this.#viaReal()) return this._real().json();
    const b = this.#take();
    if (b === null) return used();
    try {
      return Promise.resolve(JSON.parse(decoder.decode(b)));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    if (this.#viaReal()) return this._real().arrayBuffer();
    const b = this.#take();
    if (b === null) return used();
    // #body is a private copy made for this request: hand its buffer over
    // (a view of WebAssembly memory or of the slab is copied)
    return Promise.resolve(
      b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && this.#mem === undefined
        ? b.buffer as ArrayBuffer
        : b.slice().buffer as ArrayBuffer,
    );
  }

  bytes(): Promise<Uint8Array> {
    return this.arrayBuffer().then((b) => new Uint8Array(b));
  }

  blob(): Promise<Blob> {
    return this._real().blob();
  }

  formData(): Promise<FormData> {
    return this._real().formData();
  }

  clone(): Request {
    return this._real().clone();
  }

  [Symbol.for("nodejs.util.inspect.custom")](
    _depth: number,
    opts: unknown,
    inspect: (v: unknown, o: unknown) => string,
  ): string {
    return inspect(this._real(), opts);
  }

  [Symbol.for("Deno.customInspect")](
    inspect: (v: unknown, o: unknown) => string,
    opts: unknown,
  ): string {
    return inspect(this._real(), opts);
  }
}

Object.setPrototypeOf(ServeRequest.prototype, Request.prototype);
// The runtime's own code (the Request getters not defined above,
// `new Request(req)`, `fetch(req)`) reads these slots: they are the real
// Request's.
for (const sym of REQUEST_SYMBOLS) {
  Object.defineProperty(ServeRequest.prototype, sym, {
    get(this: ServeRequest) {
      return (this._real() as unknown as Record<symbol, unknown>)[sym];
    },
    configurable: true,
  });
}
