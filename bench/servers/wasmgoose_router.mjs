// wasmgoose API-workload server for `make bench`, for both runtimes: the built-in
// EventRouter on the event API (every workload of bench/workloads.mjs, plus the
// hello JSON on GET /). On Deno it loads ../../mod.ts, on Node the compiled
// ../../dist/mod.js (`make dist`).
// Port: first argument, else env PORT, else 8000 (0: a free one, printed as
// "listening PORT"). Listens on 127.0.0.1 only.
//   node bench/servers/wasmgoose_router.mjs 18014
//   deno run -A bench/servers/wasmgoose_router.mjs 18015

import process from "node:process";

const port = Number(process.argv[2] ?? process.env.PORT ?? 8000);
// A computed specifier, so that Deno does not also pre-load the other runtime's build.
const entry = globalThis.Deno ? "../../mod.ts" : "../../dist/mod.js";
const { EventRouter, Manager, MG_EV_HTTP_MSG } = await import(entry);

const HELLO = new TextEncoder().encode('{"message":"Hello, World!"}');
const JSON_HEADERS = Object.freeze({ "Content-Type": "application/json" });
const NUM = /^(limit|offset|page|n\d+)$/;

function json(ctx, value) {
  ctx.conn.reply(200, JSON.stringify(value), JSON_HEADERS);
}

function bad(ctx, msg) {
  ctx.conn.reply(400, JSON.stringify({ error: msg }), JSON_HEADERS);
}

const router = new EventRouter()
  .get("/", (ctx) => ctx.conn.reply(200, HELLO, JSON_HEADERS))
  .post("/json/:size", (ctx) => {
    let o;
    try {
      o = ctx.json();
    } catch {
      return bad(ctx, "bad JSON");
    }
    if (o === null || typeof o !== "object") return bad(ctx, "not an object");
    json(ctx, { keys: Object.keys(o).length, first: o.id });
  })
  .get("/items/:id", (ctx) => json(ctx, { id: ctx.params.id }))
  .get("/users/:user_id/posts/:post_id", (ctx) => json(ctx, ctx.params))
  .get("/a/:p1/b/:p2/c/:p3/d/:p4/e/:p5", (ctx) => json(ctx, ctx.params))
  .get("/int/:n{int}", (ctx) => json(ctx, { n: ctx.params.n }))
  .get("/uuid/:uuid{uuid}", (ctx) => json(ctx, { uuid: ctx.params.uuid }))
  .get("/date/:date{date}", (ctx) => json(ctx, { date: ctx.params.date }))
  .get("/query/:kind", (ctx) => {
    const q = ctx.query();
    const out = {};
    for (const k in q) out[k] = NUM.test(k) ? Number(q[k]) : q[k];
    json(ctx, out);
  })
  .post("/form/:kind", (ctx) => json(ctx, ctx.form()))
  .post("/upload", (ctx) => {
    let files = 0, bytes = 0;
    for (const p of ctx.multipart()) {
      if (p.filename !== "") {
        files++;
        bytes += p.body.length;
      }
    }
    if (files === 0) return bad(ctx, "no file part");
    json(ctx, { files, bytes });
  });

const mgr = new Manager();
const lsn = mgr.listen(`http://127.0.0.1:${port}`, router.handler, { events: [MG_EV_HTTP_MSG] });
if (port === 0) console.log(`listening ${lsn.localAddr.split(":").pop()}`); // for the tests
await mgr.run();
