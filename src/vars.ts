/**
 * Query and form variables split and URL-decoded in C
 * (`mg_http_split_vars`), reaching TypeScript as a ready record. Internal
 * module.
 *
 * @module
 */

import type { Abi } from "./abi.ts";

/** Most variables returned (the rest are ignored). */
const MAX_VARS = 256;

/**
 * Internal: the variables of the `struct mg_str` at `strPtr` (a query
 * string or url-encoded body in WASM memory), decoded; a repeated name keeps
 * its last value.
 */
export function splitVars(abi: Abi, strPtr: number): Record<string, string> {
  abi.mem();
  const w = strPtr >>> 2;
  const src = abi.u32[w], len = abi.u32[w + 1];
  const r: Record<string, string> = {};
  if (len === 0) return r;
  // The staging buffer: the pair table, then the decoded bytes
  const max = Math.min(MAX_VARS, (len >>> 1) + 1);
  const out = abi.stage(max * 16 + len + 1);
  const dst = out + max * 16;
  const n = abi.x.mgw_http_vars(src, len, dst, out, max);
  if (n <= 0) return r;
  abi.mem();
  const u32 = abi.u32;
  // The names and values lie back to back from `dst`: one string for all of
  // them, cut into pieces (when every byte is one character, i.e. ASCII)
  const last = (out >>> 2) + (n - 1) * 4;
  const used = u32[last + 2] + u32[last + 3] - dst;
  const all = abi.str(dst, used);
  if (all.length === used) {
    for (let i = 0, p = out >>> 2; i < n; i++, p += 4) {
      const k = u32[p] - dst, v = u32[p + 2] - dst;
      r[all.slice(k, k + u32[p + 1])] = all.slice(v, v + u32[p + 3]);
    }
  } else {
    for (let i = 0, p = out >>> 2; i < n; i++, p += 4) {
      r[abi.str(u32[p], u32[p + 1])] = abi.str(u32[p + 2], u32[p + 3]);
    }
  }
  return r;
}
