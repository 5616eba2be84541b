// The API workloads of `make bench` (the fourteen of the seeds' Spikard benchmark, plus
// multipart), one request each. Every server under test implements the same contract:
// it PARSES the input (path parameters typed as stated, query values, form fields, the
// JSON body) and answers 200 with a JSON echo of what it parsed, so no server can skip
// the work. Anything else (bad int/UUID/date, unknown route) is 404 or 400.
//
//   JSON       POST /json/{small|medium|large}  → {"keys": <top-level key count>, "first": <value of "id">}
//   path       GET  /items/:id                  → {"id": "<id>"}
//              GET  /users/:user_id/posts/:post_id → {"user_id": "...", "post_id": "..."}
//              GET  /a/:p1/b/:p2/c/:p3/d/:p4/e/:p5 → {"p1": ..., "p5": ...}
//              GET  /int/:n   (integer)          → {"n": <number>}
//              GET  /uuid/:u  (RFC 4122 text)    → {"uuid": "<u>"}
//              GET  /date/:d  (YYYY-MM-DD)       → {"date": "<d>"}
//   query      GET  /query/{few|medium|many}?…   → {<name>: <value>, ...} all parameters, decoded;
//                                                   "limit", "offset", "page", "n*" as numbers
//   form       POST /form/{simple|complex}       → {<field>: <value>, ...} all fields, decoded
//   multipart  POST /upload (one file part)      → {"files": 1, "bytes": <file part size>}
//   static     GET  /static/{1k|100k|1m}.bin     (files made by the harness)
//
// SPDX-License-Identifier: MIT

function jsonBody(n, pad) {
  const o = { id: 12345, name: "test" };
  for (let i = 0; o && JSON.stringify(o).length < n; i++) {
    o[`field_${i}`] = pad ? `value ${i} ${"x".repeat(pad)}` : i;
  }
  return JSON.stringify(o);
}

function qs(pairs) {
  return pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&");
}

const QUERY_FEW = [["q", "search term"], ["limit", "10"], ["offset", "0"]];
const QUERY_MEDIUM = [
  ...QUERY_FEW,
  ["sort", "name"],
  ["order", "asc"],
  ["filter", "active"],
  ["page", "2"],
  ["lang", "en-US"],
];
const QUERY_MANY = [
  ...QUERY_MEDIUM,
  ...Array.from({ length: 8 }, (_, i) => [`n${i}`, String(i * 7)]),
];
const FORM_SIMPLE = [
  ["username", "alice"],
  ["password", "s3cr3t!"],
  ["email", "alice@example.com"],
  [
    "remember",
    "on",
  ],
];
const FORM_COMPLEX = [
  ...FORM_SIMPLE,
  ["first_name", "Alice"],
  ["last_name", "O'Hara"],
  ["street", "12 Main St."],
  ["city", "Zürich"],
  ["zip", "8001"],
  ["country", "CH"],
  ["phone", "+41 44 123 45 67"],
  ["company", "Acme & Co"],
  ["title", "Engineer"],
  ["bio", "Likes networking, WebAssembly and tea."],
  ["newsletter", "yes"],
  ["theme", "dark"],
  ["tz", "Europe/Zurich"],
  ["ref", "a=b&c=d"],
];

function multipart(size) {
  const boundary = "----wasmgooseBench7MA4YWxkTrZu0gW";
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="data.bin"\r\n` +
    `Content-Type: application/octet-stream\r\n\r\n`;
  const body = head + "x".repeat(size) + `\r\n--${boundary}--\r\n`;
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

const FORM = "application/x-www-form-urlencoded";
const JSONCT = "application/json";

/** name → { method, path, contentType?, body?, group, expect(status, text) } */
export const WORKLOADS = {
  "json-small": {
    group: "json",
    method: "POST",
    path: "/json/small",
    contentType: JSONCT,
    body: jsonBody(86, 0),
  },
  "json-medium": {
    group: "json",
    method: "POST",
    path: "/json/medium",
    contentType: JSONCT,
    body: jsonBody(1500, 8),
  },
  "json-large": {
    group: "json",
    method: "POST",
    path: "/json/large",
    contentType: JSONCT,
    body: jsonBody(15000, 24),
  },
  "path-simple": { group: "path", method: "GET", path: "/items/abc123" },
  "path-multiple": { group: "path", method: "GET", path: "/users/42/posts/7" },
  "path-deep": { group: "path", method: "GET", path: "/a/one/b/two/c/three/d/four/e/five" },
  "path-int": { group: "path", method: "GET", path: "/int/12345" },
  "path-uuid": { group: "path", method: "GET", path: "/uuid/550e8400-e29b-41d4-a716-446655440000" },
  "path-date": { group: "path", method: "GET", path: "/date/2024-01-15" },
  "query-few": { group: "query", method: "GET", path: "/query/few?" + qs(QUERY_FEW) },
  "query-medium": { group: "query", method: "GET", path: "/query/medium?" + qs(QUERY_MEDIUM) },
  "query-many": { group: "query", method: "GET", path: "/query/many?" + qs(QUERY_MANY) },
  "form-simple": {
    group: "form",
    method: "POST",
    path: "/form/simple",
    contentType: FORM,
    body: qs(FORM_SIMPLE),
  },
  "form-complex": {
    group: "form",
    method: "POST",
    path: "/form/complex",
    contentType: FORM,
    body: qs(FORM_COMPLEX),
  },
  "multipart-small": { group: "multipart", method: "POST", path: "/upload", ...mp(1024) },
  "multipart-medium": { group: "multipart", method: "POST", path: "/upload", ...mp(100 * 1024) },
  "multipart-large": { group: "multipart", method: "POST", path: "/upload", ...mp(1024 * 1024) },
};

function mp(size) {
  const { body, contentType } = multipart(size);
  return { body, contentType, fileSize: size };
}

/** The JSON a correct server answers for workload `name` (compare with deepEqual). */
export function expected(name) {
  const w = WORKLOADS[name];
  const NUM = /^(limit|offset|page|n\d+)$/;
  switch (w.group) {
    case "json": {
      const o = JSON.parse(w.body);
      return { keys: Object.keys(o).length, first: o.id };
    }
    case "path": {
      const p = w.path.split("/").slice(1);
      if (p[0] === "items") return { id: p[1] };
      if (p[0] === "users") return { user_id: p[1], post_id: p[3] };
      if (p[0] === "a") return { p1: p[1], p2: p[3], p3: p[5], p4: p[7], p5: p[9] };
      if (p[0] === "int") return { n: Number(p[1]) };
      if (p[0] === "uuid") return { uuid: p[1] };
      return { date: p[1] };
    }
    case "query": {
      const o = {};
      for (const [k, v] of new URLSearchParams(w.path.split("?")[1])) {
        o[k] = NUM.test(k) ? Number(v) : v;
      }
      return o;
    }
    case "form":
      return Object.fromEntries(new URLSearchParams(w.body));
    case "multipart":
      return { files: 1, bytes: w.fileSize };
  }
  throw new Error(`unknown workload ${name}`);
}
