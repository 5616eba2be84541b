// The API workloads of bench/workloads.mjs, as one plain function shared by the
// servers that have no router of their own (node:http, Deno.serve, Bun.serve, the
// native addon and the hand-written wasmgoose handler): they all run the same
// JavaScript per request, so their rows compare the servers, not the routers.
// Every input is parsed (typed path parameters, decoded query and form values,
// JSON body, multipart parts) and echoed back as JSON; see bench/workloads.mjs.
//
//   api(method, path, query, contentType, body) → [status, jsonText]
//   body: a function returning the request body as a Uint8Array (called only by
//   the routes that read it).
// SPDX-License-Identifier: MIT

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const NUM = /^(limit|offset|page|n\d+)$/;
const INT = /^-?\d{1,15}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export const HELLO = '{"message":"Hello, World!"}';
const NOT_FOUND = [404, '{"error":"Not Found"}'];
const BAD = (what) => [400, JSON.stringify({ error: `bad ${what}` })];

function validDate(s) {
  const m = DATE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.getUTCFullYear() === +m[1] && d.getUTCMonth() === +m[2] - 1 &&
    d.getUTCDate() === +m[3];
}

/** Query or form text → object; "limit", "offset", "page", "n*" as numbers (query only). */
function params(text, typed) {
  const o = {};
  for (const [k, v] of new URLSearchParams(text)) o[k] = typed && NUM.test(k) ? Number(v) : v;
  return o;
}

function indexOf(hay, needle, from) {
  const first = needle[0];
  const end = hay.length - needle.length;
  outer: for (
    let i = hay.indexOf(first, from);
    i !== -1 && i <= end;
    i = hay.indexOf(first, i + 1)
  ) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** multipart/form-data → { files, bytes }: parts with a filename, and their total size. */
export function multipart(contentType, body) {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
  if (!m) return null;
  const delim = encoder.encode(`\r\n--${m[1] ?? m[2]}`);
  const crlf2 = encoder.encode("\r\n\r\n");
  // The body starts with "--boundary": search from -2 as if preceded by CRLF.
  let pos = indexOf(body, delim.subarray(2), 0);
  if (pos !== 0) return null;
  pos = delim.length - 2;
  let files = 0, bytes = 0;
  for (;;) {
    if (body[pos] === 45 && body[pos + 1] === 45) return { files, bytes }; // "--": the end
    const headEnd = indexOf(body, crlf2, pos);
    if (headEnd < 0) return null;
    const head = decoder.decode(body.subarray(pos, headEnd));
    const next = indexOf(body, delim, headEnd + 4);
    if (next < 0) return null;
    if (/filename="/i.test(head)) {
      files++;
      bytes += next - (headEnd + 4);
    }
    pos = next + delim.length;
  }
}

/** One request → [status, JSON text]. */
export function api(method, path, query, contentType, body) {
  const p = path.split("/");
  switch (p[1]) {
    case "":
      return p.length === 2 && method === "GET" ? [200, HELLO] : NOT_FOUND;
    case "json": {
      if (method !== "POST" || p.length !== 3) return NOT_FOUND;
      let o;
      try {
        o = JSON.parse(decoder.decode(body()));
      } catch {
        return BAD("JSON");
      }
      if (o === null || typeof o !== "object") return BAD("JSON");
      return [200, JSON.stringify({ keys: Object.keys(o).length, first: o.id })];
    }
    case "items":
      return p.length === 3 ? [200, JSON.stringify({ id: p[2] })] : NOT_FOUND;
    case "users":
      return p.length === 5 && p[3] === "posts"
        ? [200, JSON.stringify({ user_id: p[2], post_id: p[4] })]
        : NOT_FOUND;
    case "a":
      return p.length === 11 && p[3] === "b" && p[5] === "c" && p[7] === "d" && p[9] === "e"
        ? [200, JSON.stringify({ p1: p[2], p2: p[4], p3: p[6], p4: p[8], p5: p[10] })]
        : NOT_FOUND;
    case "int":
      if (p.length !== 3) return NOT_FOUND;
      return INT.test(p[2]) ? [200, JSON.stringify({ n: Number(p[2]) })] : BAD("integer");
    case "uuid":
      if (p.length !== 3) return NOT_FOUND;
      return UUID.test(p[2]) ? [200, JSON.stringify({ uuid: p[2] })] : BAD("UUID");
    case "date":
      if (p.length !== 3) return NOT_FOUND;
      return validDate(p[2]) ? [200, JSON.stringify({ date: p[2] })] : BAD("date");
    case "query":
      return p.length === 3 ? [200, JSON.stringify(params(query, true))] : NOT_FOUND;
    case "form":
      if (method !== "POST" || p.length !== 3) return NOT_FOUND;
      return [200, JSON.stringify(params(decoder.decode(body()), false))];
    case "upload": {
      if (method !== "POST" || p.length !== 2) return NOT_FOUND;
      const r = multipart(contentType, body());
      return r ? [200, JSON.stringify(r)] : BAD("multipart");
    }
  }
  return NOT_FOUND;
}
