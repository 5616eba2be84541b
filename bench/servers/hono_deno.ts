// Competitor API-workload server for `make bench`: Hono (from npm) on Deno.serve,
// written the idiomatic Hono way (c.req.param/query/json/parseBody), implementing
// every workload of bench/workloads.mjs plus the hello JSON on GET /.
// Port: first argument, else env PORT, else 8000 (0: a free one, printed as
// "listening PORT"). Listens on 127.0.0.1 only.
//   deno run -A bench/servers/hono_deno.ts 18012

import { Hono } from "hono";

const port = Number(Deno.args[0] ?? Deno.env.get("PORT") ?? 8000);
const NUM = /^(limit|offset|page|n\d+)$/;
const INT = /^-?\d{1,16}$/;
const UUID =
  /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function isDate(s: string): boolean {
  if (!DATE.test(s)) return false;
  const d = new Date(s + "T00:00:00Z");
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

const app = new Hono();
app.get("/", (c) => c.json({ message: "Hello, World!" }));
app.post("/json/:size", async (c) => {
  let o: Record<string, unknown>;
  try {
    o = await c.req.json();
  } catch {
    return c.json({ error: "bad JSON" }, 400);
  }
  if (o === null || typeof o !== "object") return c.json({ error: "not an object" }, 400);
  return c.json({ keys: Object.keys(o).length, first: o.id });
});
app.get("/items/:id", (c) => c.json({ id: c.req.param("id") }));
app.get(
  "/users/:user_id/posts/:post_id",
  (c) => c.json({ user_id: c.req.param("user_id"), post_id: c.req.param("post_id") }),
);
app.get("/a/:p1/b/:p2/c/:p3/d/:p4/e/:p5", (c) => c.json(c.req.param()));
app.get("/int/:n", (c) => {
  const n = c.req.param("n");
  return INT.test(n) ? c.json({ n: Number(n) }) : c.json({ error: "Not Found" }, 404);
});
app.get("/uuid/:u", (c) => {
  const u = c.req.param("u");
  return UUID.test(u) ? c.json({ uuid: u }) : c.json({ error: "Not Found" }, 404);
});
app.get("/date/:d", (c) => {
  const d = c.req.param("d");
  return isDate(d) ? c.json({ date: d }) : c.json({ error: "Not Found" }, 404);
});
app.get("/query/:kind", (c) => {
  const q = c.req.query();
  const out: Record<string, string | number> = {};
  for (const k in q) out[k] = NUM.test(k) ? Number(q[k]) : q[k];
  return c.json(out);
});
app.post("/form/:kind", async (c) => {
  const body = await c.req.parseBody();
  const out: Record<string, string> = {};
  for (const k in body) out[k] = String(body[k]);
  return c.json(out);
});
app.post("/upload", async (c) => {
  const body = await c.req.parseBody();
  let files = 0, bytes = 0;
  for (const k in body) {
    const v = body[k];
    if (v instanceof File) {
      files++;
      bytes += v.size;
    }
  }
  if (files === 0) return c.json({ error: "no file part" }, 400);
  return c.json({ files, bytes });
});
app.notFound((c) => c.json({ error: "Not Found" }, 404));

Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: (a) => {
    if (port === 0) console.log(`listening ${a.port}`); // for the tests
  },
}, app.fetch);
