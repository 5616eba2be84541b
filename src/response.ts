/**
 * A light `Response` for Node.js: constructing the runtime's own `Response`
 * on Node 20 costs 15-20 µs (undici makes a ReadableStream for every body),
 * more than the rest of a small request. `serve()` on Node therefore puts
 * this class in place of the global `Response` (unless
 * `overrideGlobalResponse: false`): `new Response(text | bytes | null,
 * init)` and `Response.json()` only record their arguments, and `serve()`
 * sends them as they are. Anything else (`res.body`, `res.headers`,
 * `text()`, `clone()`, ...) builds the real Response once and answers from
 * it. `instanceof Response` holds for both kinds. Deno and Bun keep theirs
 * (already fast). Internal module.
 *
 * @module
 */

type Init = { status?: number; statusText?: string; headers?: HeadersInit };

/** What serve() sends for a light response not yet turned into a real one. */
export interface LightParts {
  status: number;
  body: string | Uint8Array | null;
  /** The headers as given (undefined: none). */
  headers: HeadersInit | undefined;
  /** The Content-Type to add when the headers have none ("" for none). */
  defaultType: string;
}

/** The header records of the default types (frozen: reply() caches their block). */
export const TEXT_TYPE: Record<string, string> = Object.freeze({
  "Content-Type": "text/plain;charset=UTF-8",
});
export const JSON_TYPE: Record<string, string> = Object.freeze({
  "Content-Type": "application/json",
});

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0\r\n]/;
const REASON = /^[\t\x20-\x7e\x80-\xff]*$/;
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** Whether `h` is a plain record or array of pairs with valid names and values. */
function headersOk(h: HeadersInit): boolean {
  if (Array.isArray(h)) {
    for (const p of h) {
      if (p.length !== 2 || !TOKEN.test(p[0]) || BAD_VALUE.test(String(p[1]))) return false;
    }
    return true;
  }
  if (typeof h !== "object" || h === null) return false;
  const proto = Object.getPrototypeOf(h);
  if (proto !== Object.prototype && proto !== null) return false;
  const rec = h as Record<string, unknown>;
  for (const k in rec) {
    if (!TOKEN.test(k) || BAD_VALUE.test(String(rec[k]))) return false;
  }
  return true;
}

/** Whether the headers name a Content-Type. */
function hasType(h: HeadersInit | undefined): boolean {
  if (h === undefined) return false;
  if (Array.isArray(h)) return h.some((p) => p[0].toLowerCase() === "content-type");
  for (const k in h as Record<string, string>) if (k.toLowerCase() === "content-type") return true;
  return false;
}

let lightParts: (res: object) => LightParts | undefined = () => undefined;
let lightReal: (res: object) => globalThis.Response | undefined = () => undefined;

/** What partsOf() returns (one object, filled again by each call). */
const PARTS: LightParts = { status: 0, body: null, headers: undefined, defaultType: "" };

/**
 * Internal: the parts of a light response that was never turned into a real
 * one (and whose body was not used), or undefined. The record is reused:
 * valid until the next call.
 */
export function partsOf(res: object): LightParts | undefined {
  return lightParts(res);
}

/**
 * Internal: the runtime's own Response behind a light one that was already
 * made real (its headers or body were used), or undefined.
 */
export function realOf(res: object): globalThis.Response | undefined {
  return lightReal(res);
}

/** Internal: builds the light Response class over `Native`. */
export function makeLightResponse(
  Native: typeof globalThis.Response,
): typeof globalThis.Response {
  class Response {
    #status = 200;
    #statusText = "";
    #headers: HeadersInit | undefined;
    #body: string | Uint8Array | null = null;
    #type = "";
    #real: globalThis.Response | undefined;

    static {
      lightReal = (res: object) => (#real in res ? res.#real : undefined);
      lightParts = (res: object): LightParts | undefined => {
        if (!(#real in res) || res.#real !== undefined) return undefined;
        const out = PARTS;
        out.status = res.#status;
        out.body = res.#body;
        out.headers = res.#headers;
        out.defaultType = res.#type;
        return out;
      };
    }

    constructor(body?: BodyInit | null, init?: ResponseInit) {
      const light = (body === undefined || body === null || typeof body === "string" ||
        body instanceof Uint8Array) &&
        (init === undefined || init === null || typeof init === "object");
      const i = (init ?? {}) as Init;
      if (
        !light || (i.headers !== undefined && !headersOk(i.headers)) ||
        (i.status !== undefined && !Number.isInteger(i.status)) ||
        (i.statusText !== undefined && typeof i.statusText !== "string")
      ) {
        this.#real = new Native(body, init); // the runtime's checks and errors
        return;
      }
      const status = i.status ?? 200;
      if (status < 200 || status > 599) {
        throw new RangeError(`init["status"] must be in the range of 200 to 599, inclusive.`);
      }
      if (i.statusText !== undefined && !REASON.test(i.statusText)) {
        throw new TypeError("Invalid statusText");
      }
      const b = body ?? null;
      if (b !== null && NULL_BODY.has(status)) {
        throw new TypeError("Response constructor: Invalid response status code " + status);
      }
      this.#status = status;
      this.#statusText = i.statusText ?? "";
      this.#headers = i.headers;
      this.#body = b;
      this.#type = typeof b === "string" ? "text/plain;charset=UTF-8" : "";
    }

    /** The real Response, made once. */
    #make(): globalThis.Response {
      return this.#real ??= new Native(this.#body as BodyInit | null, {
        status: this.#status,
        statusText: this.#statusText,
        headers: this.#headers,
      });
    }

    static json(data: unknown, init?: ResponseInit): globalThis.Response {
      const text = JSON.stringify(data);
      if (text === undefined) return Native.json(data, init); // the runtime's TypeError
      const r = new Response(text, init);
      if (r.#real === undefined) {
        r.#type = "";
        const h = r.#headers;
        if (!hasType(h)) {
          r.#headers = h === undefined
            ? JSON_TYPE
            : Array.isArray(h)
            ? [...h, ["Content-Type", "application/json"]]
            : { ...(h as Record<string, string>), "Content-Type": "application/json" };
        }
      } else if (!r.#real.headers.has("content-type")) {
        r.#real.headers.set("content-type", "application/json");
      }
      return r as unknown as globalThis.Response;
    }

    static error(): globalThis.Response {
      return Native.error();
    }

    static redirect(url: string | URL, status?: number): globalThis.Response {
      return Native.redirect(url, status);
    }

    static [Symbol.hasInstance](x: unknown): boolean {
      return x instanceof Native;
    }

    get status(): number {
      return this.#real !== undefined ? this.#real.status : this.#status;
    }
    get statusText(): string {
      return this.#real !== undefined ? this.#real.statusText : this.#statusText;
    }
    get ok(): boolean {
      const s = this.status;
      return s >= 200 && s <= 299;
    }
    get type(): ResponseType {
      return this.#real !== undefined ? this.#real.type : "default";
    }
    get url(): string {
      return this.#real !== undefined ? this.#real.url : "";
    }
    get redirected(): boolean {
      return this.#real !== undefined ? this.#real.redirected : false;
    }
    get bodyUsed(): boolean {
      return this.#real !== undefined ? this.#real.bodyUsed : false;
    }
    get headers(): Headers {
      return this.#make().headers;
    }
    get body(): ReadableStream<Uint8Array> | null {
      return this.#make().body as ReadableStream<Uint8Array> | null;
    }
    arrayBuffer(): Promise<ArrayBuffer> {
      return this.#make().arrayBuffer();
    }
    blob(): Promise<Blob> {
      return this.#make().blob();
    }
    bytes(): Promise<Uint8Array> {
      const r = this.#make() as globalThis.Response & { bytes?: () => Promise<Uint8Array> };
      return r.bytes !== undefined ? r.bytes() : r.arrayBuffer().then((b) => new Uint8Array(b));
    }
    formData(): Promise<FormData> {
      return this.#make().formData();
    }
    json(): Promise<unknown> {
      return this.#make().json();
    }
    text(): Promise<string> {
      return this.#make().text();
    }
    clone(): globalThis.Response {
      return this.#make().clone();
    }
  }
  Object.setPrototypeOf(Response.prototype, Native.prototype);
  Object.setPrototypeOf(Response, Native);
  return Response as unknown as typeof globalThis.Response;
}

let installed: typeof Response | undefined;

/**
 * Internal: puts the light Response in place of the global one, on Node
 * only (once); returns whether it is in place.
 */
export function installLightResponse(): boolean {
  const g = globalThis as { Response: typeof Response; Deno?: unknown; Bun?: unknown };
  if (installed !== undefined) return g.Response === installed;
  const proc = (g as { process?: { versions?: { node?: string } } }).process;
  if (g.Deno !== undefined || g.Bun !== undefined || proc?.versions?.node === undefined) {
    return false;
  }
  installed = makeLightResponse(g.Response);
  g.Response = installed;
  return true;
}
