/**
 * JSON-RPC 2.0 in TypeScript with the C core's parser: `Rpc` keeps handlers
 * by method pattern (`mg_match` globs), `process(frame)` returns the
 * response text (or undefined for a notification).
 *
 * The request is validated and split in C (`mg_json_get`, the same checks
 * as `mg_rpc_process`); dispatch and the response are TypeScript, so that
 * handlers are plain (or async) JavaScript functions returning values. The
 * JSON-RPC 2.0 batches (arrays of requests) are answered with an array of
 * responses; the C `mg_rpc_process` does not take batches. The
 * responses have the shape `mg_rpc_ok` / `mg_rpc_err` print: `{"id":…,
 * "result":…}` or `{"id":…,"error":{"code":…,"message":…}}`, with
 * `"jsonrpc":"2.0"` first when the request had it (and on errors whose id is
 * unknown, which use `"id":null`).
 *
 * @module
 */

import { decoder } from "./abi.ts";
import { type BytesLike, match, stageParts, utilInstance } from "./util.ts";

/**
 * JSON-RPC 2.0: the frame is not valid JSON.
 *
 * @example
 * ```ts
 * JSON.parse(new Rpc().process("{") as string).error.code === MG_RPC_PARSE_ERROR; // true
 * ```
 */
export const MG_RPC_PARSE_ERROR: number = -32700;
/**
 * JSON-RPC 2.0: the frame is not a request object.
 *
 * @example
 * ```ts
 * JSON.parse(new Rpc().process("[]") as string).error.code === MG_RPC_INVALID_REQUEST; // true
 * ```
 */
export const MG_RPC_INVALID_REQUEST: number = -32600;
/**
 * JSON-RPC 2.0: no handler for the method.
 *
 * @example
 * ```ts
 * const out = new Rpc().process('{"id":1,"method":"x"}') as string;
 * JSON.parse(out).error.code === MG_RPC_METHOD_NOT_FOUND; // true
 * ```
 */
export const MG_RPC_METHOD_NOT_FOUND: number = -32601;
/**
 * JSON-RPC 2.0: bad parameters (for handlers to throw).
 *
 * @example
 * ```ts
 * rpc.add("sqrt", (p) => {
 *   if (typeof p !== "number") throw new RpcError(MG_RPC_INVALID_PARAMS, "need a number");
 *   return Math.sqrt(p);
 * });
 * ```
 */
export const MG_RPC_INVALID_PARAMS: number = -32602;
/**
 * JSON-RPC 2.0: the handler failed (an exception other than an RpcError).
 *
 * @example
 * ```ts
 * throw new RpcError(MG_RPC_INTERNAL_ERROR, "database unavailable");
 * ```
 */
export const MG_RPC_INTERNAL_ERROR: number = -32603;

/**
 * An error a handler throws to answer with a JSON-RPC error object.
 *
 * @example
 * ```ts
 * rpc.add("div", (p) => {
 *   const [a, b] = p as number[];
 *   if (b === 0) throw new RpcError(MG_RPC_INVALID_PARAMS, "division by zero");
 *   return a / b;
 * });
 * ```
 */
export class RpcError extends Error {
  /**
   * The JSON-RPC error code.
   *
   * @example
   * ```ts
   * new RpcError(MG_RPC_INVALID_PARAMS, "bad").code === -32602; // true
   * ```
   */
  readonly code: number;
  /**
   * Optional `data` member of the error object.
   *
   * @example
   * ```ts
   * new RpcError(MG_RPC_INVALID_PARAMS, "bad", { field: "x" }).data; // { field: "x" }
   * ```
   */
  readonly data: unknown;
  /**
   * An error answered as `{"code": code, "message": message, "data": data}`.
   *
   * @param code the error code
   * @param message the error message
   * @param data optional extra data (must be JSON-serialisable)
   *
   * @example
   * ```ts
   * throw new RpcError(MG_RPC_INVALID_PARAMS, "need a number", { got: typeof p });
   * ```
   */
  constructor(code: number, message: string, data?: unknown) {
    super(message);
    this.name = "RpcError";
    this.code = code;
    this.data = data;
  }
}

/**
 * One parsed request, as handlers see it.
 *
 * @example
 * ```ts
 * rpc.add("whoami", (_params, req: RpcRequest) => ({ method: req.method, id: req.id }));
 * ```
 */
export interface RpcRequest {
  /** The method name (unescaped). */
  method: string;
  /** The parameters, parsed (undefined when absent). */
  params: unknown;
  /** The raw JSON text of the id, or undefined for a notification. */
  id: string | undefined;
  /** The whole frame. */
  frame: string;
}

/**
 * A method handler: gets the parsed params and the request, returns the
 * result (any JSON-serialisable value; undefined means null) or throws an
 * {@link RpcError}. Async handlers work with {@link Rpc.handle}.
 *
 * @example
 * ```ts
 * const add: RpcHandler = (p) => (p as number[])[0] + (p as number[])[1];
 * ```
 */
export type RpcHandler = (params: unknown, req: RpcRequest) => unknown;

interface Entry {
  pattern: string;
  fn: RpcHandler;
}

/** What the C parser found in a frame. */
interface Parsed {
  error?: [number, string];
  req?: RpcRequest;
  v2: boolean;
}

/** Parses a frame with `mgw_rpc_parse`. */
function parse(frame: BytesLike): Parsed {
  const { abi, x } = utilInstance();
  const { ptrs, lens, rest } = stageParts([frame], 32);
  const st = x.mgw_rpc_parse(ptrs[0], lens[0], rest);
  if (st === MG_RPC_PARSE_ERROR) return { error: [st, "parse error"], v2: true };
  if (st !== 0) return { error: [st, "invalid request"], v2: true };
  const u8 = abi.mem(), dv = abi.dv, base = ptrs[0];
  const tok = (i: number): string | undefined => {
    const ofs = dv.getInt32(rest + 8 * i, true);
    if (ofs < 0) return undefined;
    return decoder.decode(
      u8.subarray(base + ofs, base + ofs + dv.getInt32(rest + 8 * i + 4, true)),
    );
  };
  const id = tok(0), method = tok(1), params = tok(2);
  const v2 = dv.getInt32(rest + 24, true) !== 0;
  const text = typeof frame === "string" ? frame : decoder.decode(frame);
  if (id !== undefined && /^[[{tf]/.test(id)) return { error: [-32600, "invalid id"], v2: true };
  const req: RpcRequest = {
    method: "",
    params: params === undefined ? undefined : JSON.parse(params),
    id,
    frame: text,
  };
  if (method === undefined || method[0] !== '"') {
    return { error: [MG_RPC_INVALID_REQUEST, "invalid request"], req, v2: id === undefined || v2 };
  }
  req.method = JSON.parse(method) as string;
  return { req, v2 };
}

/**
 * A set of JSON-RPC methods.
 *
 * @example
 * ```ts
 * const rpc = new Rpc();
 * rpc.add("sum", (p) => (p as number[]).reduce((a, b) => a + b, 0));
 * rpc.process('{"id":1,"method":"sum","params":[1,2,3]}'); // '{"id":1,"result":6}'
 * rpc.process('{"method":"sum","params":[]}'); // undefined (a notification)
 * ```
 */
export class Rpc {
  #list: Entry[] = [];

  /**
   * Adds a handler for the methods matching `pattern` (`mg_match` glob: `?`,
   * `*` without `/`, `#`). The first added matching handler runs.
   *
   * @example
   * ```ts
   * rpc.add("math.*", (p, req) => `called ${req.method}`);
   * ```
   */
  add(pattern: string, fn: RpcHandler): this {
    this.#list.push({ pattern, fn });
    return this;
  }

  /**
   * Removes the handlers with this pattern (every handler if omitted).
   *
   * @example
   * ```ts
   * rpc.del("math.*");
   * ```
   */
  del(pattern?: string): void {
    this.#list = pattern === undefined ? [] : this.#list.filter((e) => e.pattern !== pattern);
  }

  /**
   * The method patterns, in order (what `mg_rpc_list` answers).
   *
   * @example
   * ```ts
   * rpc.add("rpc.list", () => rpc.list());
   * ```
   */
  list(): string[] {
    return this.#list.map((e) => e.pattern);
  }

  /**
   * Handles one request synchronously. Returns the response text, or
   * undefined for a notification (a request without id). A handler that
   * returns a Promise gets an internal error here: use {@link Rpc.handle}.
   *
   * @example
   * ```ts
   * const out = rpc.process('{"jsonrpc":"2.0","id":7,"method":"nope"}');
   * // '{"jsonrpc":"2.0","id":7,"error":{"code":-32601,"message":"method not found"}}'
   * ```
   */
  process(frame: BytesLike): string | undefined {
    const batch = splitBatch(frame);
    if (batch !== undefined) return joinBatch(batch.map((f) => this.#one(f)));
    return this.#one(frame);
  }

  #one(frame: BytesLike): string | undefined {
    const p = parse(frame);
    const fn = this.#dispatch(p);
    if (typeof fn === "string" || fn === undefined) return fn;
    let result: unknown;
    try {
      result = fn();
    } catch (e) {
      return errorOf(p, e);
    }
    if (isThenable(result)) {
      (result as Promise<unknown>).then(undefined, () => {}); // not unhandled
      return respond(p, MG_RPC_INTERNAL_ERROR, "handler is async: use Rpc.handle()");
    }
    return resultOf(p, result);
  }

  /**
   * Handles one request, awaiting async handlers.
   *
   * @example
   * ```ts
   * rpc.add("later", async () => 42);
   * await rpc.handle('{"id":1,"method":"later"}'); // '{"id":1,"result":42}'
   * ```
   */
  async handle(frame: BytesLike): Promise<string | undefined> {
    const batch = splitBatch(frame);
    if (batch !== undefined) {
      return joinBatch(await Promise.all(batch.map((f) => this.#oneAsync(f))));
    }
    return this.#oneAsync(frame);
  }

  async #oneAsync(frame: BytesLike): Promise<string | undefined> {
    const p = parse(frame);
    const fn = this.#dispatch(p);
    if (typeof fn === "string" || fn === undefined) return fn;
    try {
      return resultOf(p, await fn());
    } catch (e) {
      return errorOf(p, e);
    }
  }

  /** The call to make, or the response (string / undefined) if none. */
  #dispatch(p: Parsed): (() => unknown) | string | undefined {
    if (p.error !== undefined) {
      const [code, msg] = p.error;
      // An invalid request with a usable id is answered with that id
      return respond(p.req?.id === undefined ? { ...p, v2: true } : p, code, msg, true);
    }
    const req = p.req as RpcRequest;
    for (const e of this.#list) {
      if (match(req.method, e.pattern) !== null) return () => e.fn(req.params, req);
    }
    return respond(p, MG_RPC_METHOD_NOT_FOUND, "method not found");
  }
}

/** Largest number of requests in one batch. */
const MAX_BATCH = 10000;

/**
 * The requests of a batch (a non-empty JSON array), each as its own frame;
 * undefined if `frame` is not a valid non-empty array (then it is handled as
 * one request: invalid JSON gets -32700, an empty array -32600).
 */
function splitBatch(frame: BytesLike): string[] | undefined {
  let i = 0;
  const at = (k: number) => typeof frame === "string" ? frame.charCodeAt(k) : frame[k];
  while (i < frame.length && (at(i) === 32 || at(i) === 9 || at(i) === 10 || at(i) === 13)) i++;
  if (at(i) !== 91) return undefined; // '['
  const { abi, x } = utilInstance();
  const { ptrs, lens, rest } = stageParts([frame, "$"], 16);
  if (x.mgw_json_get(ptrs[0], lens[0], ptrs[1], rest) < 0) return undefined;
  const text = abi.mem().subarray(ptrs[0], ptrs[0] + lens[0]);
  const out: string[] = [];
  for (let ofs = 0; (ofs = x.mgw_json_next(ptrs[0], lens[0], ofs, rest)) > 0;) {
    const dv = abi.dv, v = dv.getInt32(rest + 8, true), n = dv.getInt32(rest + 12, true);
    if (out.length === MAX_BATCH) return ["[]"]; // one -32600 answer for the lot
    out.push(decoder.decode(text.subarray(v, v + n)));
  }
  return out.length === 0 ? undefined : out;
}

/** The batch response: the answers that are not undefined, or undefined. */
function joinBatch(answers: Array<string | undefined>): string | undefined {
  const list = answers.filter((a) => a !== undefined);
  return list.length === 0 ? undefined : `[${list.join(",")}]`;
}

function isThenable(v: unknown): boolean {
  return typeof v === "object" && v !== null &&
    typeof (v as { then?: unknown }).then === "function";
}

function head(p: Parsed, id: string): string {
  return `{${p.v2 ? '"jsonrpc":"2.0",' : ""}"id":${id},`;
}

/** An error response; undefined for notifications unless `always`. */
function respond(
  p: Parsed,
  code: number,
  message: string,
  always = false,
  data?: unknown,
): string | undefined {
  const id = p.req?.id ?? (always ? "null" : undefined);
  if (id === undefined) return undefined;
  const extra = data === undefined ? "" : `,"data":${JSON.stringify(data)}`;
  return `${head(p, id)}"error":{"code":${code},"message":${JSON.stringify(message)}${extra}}}`;
}

function resultOf(p: Parsed, result: unknown): string | undefined {
  const id = p.req?.id;
  if (id === undefined) return undefined;
  let text: string | undefined;
  try {
    text = JSON.stringify(result === undefined ? null : result);
  } catch (e) {
    return respond(p, MG_RPC_INTERNAL_ERROR, `result is not JSON: ${(e as Error).message}`);
  }
  if (text === undefined) text = "null"; // e.g. a function
  return `${head(p, id)}"result":${text}}`;
}

function errorOf(p: Parsed, e: unknown): string | undefined {
  if (e instanceof RpcError) {
    try {
      return respond(p, e.code, e.message, false, e.data);
    } catch {
      return respond(p, e.code, e.message);
    }
  }
  console.error("wasmgoose: JSON-RPC handler failed:", e);
  return respond(p, MG_RPC_INTERNAL_ERROR, "internal error");
}
