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

/** Scratch for `Abi.pairStrings` (used synchronously). */
const PAIRS: string[] = [];

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
  // The names and values lie back to back from `dst` (one string, cut)
  abi.pairStrings(out, n, PAIRS);
  for (let i = 0; i < n; i++) r[PAIRS[2 * i]] = PAIRS[2 * i + 1];
  return r;
}
