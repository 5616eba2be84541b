// Competitor API-workload server for `make bench`: Fastify on Node.js, written the
// idiomatic Fastify way (route params, querystring, JSON body parser, typed params
// checked in the handler), implementing every workload of bench/workloads.mjs plus
// the hello JSON on GET /. No @fastify/formbody or @fastify/multipart is installed:
// url-encoded forms use fast-querystring (Fastify's own query parser) through
// addContentTypeParser, multipart bodies are taken as a Buffer and split on the
// boundary here.
// Port: first argument, else env PORT, else 8000 (0: a free one, printed as
// "listening PORT"). Listens on 127.0.0.1 only.
//   node bench/servers/fastify_node.mjs 18013
import process from "node:process";
import Fastify from "fastify";
import querystring from "fast-querystring";

const port = Number(process.argv[2] ?? process.env.PORT ?? 8000);
const NUM = /^(limit|offset|page|n\d+)$/;
const INT = /^-?\d{1,16}$/;
const UUID =
  /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function isDate(s) {
  if (!DATE.test(s)) return false;
  const d = new Date(s + "T00:00:00Z");
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** The parts of a multipart body: [{ filename, size }]. */
function multipartFiles(buf, contentType) {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType ?? "");
  if (m === null) return [];
  const delim = Buffer.from("--" + (m[1] ?? m[2]));
  const out = [];
  let pos = buf.indexOf(delim);
  while (pos >= 0) {
    pos += delim.length;
    if (buf[pos] === 0x2d && buf[pos + 1] === 0x2d) break;
    const headEnd = buf.indexOf("\r\n\r\n", pos);
    if (headEnd < 0) break;
    const head = buf.toString("latin1", pos, headEnd);
    const next = buf.indexOf(delim, headEnd + 4);
    if (next < 0) break;
    const filename = /\bfilename="([^"]*)"/i.exec(head)?.[1] ?? "";
    out.push({ filename, size: next - 2 - (headEnd + 4) });
    pos = next;
  }
  return out;
}

const app = Fastify({ logger: false });
app.addContentTypeParser(
  "application/x-www-form-urlencoded",
  { parseAs: "string" },
  (_req, body, done) => done(null, querystring.parse(body)),
);
app.addContentTypeParser(
  "multipart/form-data",
  { parseAs: "buffer", bodyLimit: 8 * 1024 * 1024 },
  (_req, body, done) => done(null, body),
);

app.get("/", () => ({ message: "Hello, World!" }));
app.post("/json/:size", (req, reply) => {
  const o = req.body;
  if (o === null || typeof o !== "object") return reply.code(400).send({ error: "not an object" });
  return { keys: Object.keys(o).length, first: o.id };
});
app.get("/items/:id", (req) => ({ id: req.params.id }));
app.get("/users/:user_id/posts/:post_id", (req) => ({
  user_id: req.params.user_id,
  post_id: req.params.post_id,
}));
app.get("/a/:p1/b/:p2/c/:p3/d/:p4/e/:p5", (req) => ({ ...req.params }));
app.get("/int/:n", (req, reply) => {
  const n = req.params.n;
  return INT.test(n) ? { n: Number(n) } : reply.code(404).send({ error: "Not Found" });
});
app.get("/uuid/:u", (req, reply) => {
  const u = req.params.u;
  return UUID.test(u) ? { uuid: u } : reply.code(404).send({ error: "Not Found" });
});
app.get("/date/:d", (req, reply) => {
  const d = req.params.d;
  return isDate(d) ? { date: d } : reply.code(404).send({ error: "Not Found" });
});
app.get("/query/:kind", (req) => {
  const out = {};
  for (const [k, v] of Object.entries(req.query)) out[k] = NUM.test(k) ? Number(v) : v;
  return out;
});
app.post("/form/:kind", (req) => ({ ...req.body }));
app.post("/upload", (req, reply) => {
  const files = multipartFiles(req.body, req.headers["content-type"]).filter((p) => p.filename);
  if (files.length === 0) return reply.code(400).send({ error: "no file part" });
  return { files: files.length, bytes: files.reduce((a, p) => a + p.size, 0) };
});
app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: "Not Found" }));

await app.listen({ port, host: "127.0.0.1" });
if (port === 0) console.log(`listening ${app.server.address().port}`); // for the tests
