// wasmgoose API-workload server for `make bench`, for both runtimes: serve() (the
// Web-standard Request/Response front door) with the built-in Router (every
// workload of bench/workloads.mjs, plus the hello JSON on GET /). On Deno it loads
// ../../mod.ts, on Node the compiled ../../dist/mod.js (`make dist`).
// Port: first argument, else env PORT, else 8000 (0: a free one, printed as
// "listening PORT"). Listens on 127.0.0.1 only.
//   deno run -A bench/servers/wasmgoose_serve.mjs 18011
//   node bench/servers/wasmgoose_serve.mjs 18012

import process from "node:process";

const port = Number(process.argv[2] ?? process.env.PORT ?? 8000);
// A computed specifier, so that Deno does not also pre-load the other runtime's build.
const entry = globalThis.Deno ? "../../mod.ts" : "../../dist/mod.js";
const { parseMultipart, parseVars, Router, serve } = await import(entry);

const NUM = /^(limit|offset|page|n\d+)$/;
const bad = (msg) => Response.json({ error: msg }, { status: 400 });

const router = new Router()
  .get("/", () => Response.json({ message: "Hello, World!" }))
  .post("/json/:size", async (req) => {
    let o;
    try {
      o = await req.json();
    } catch {
      return bad("bad JSON");
    }
    if (o === null || typeof o !== "object") return bad("not an object");
    return Response.json({ keys: Object.keys(o).length, first: o.id });
  })
  .get("/items/:id", (_req, ctx) => Response.json({ id: ctx.params.id }))
  .get("/users/:user_id/posts/:post_id", (_req, ctx) => Response.json(ctx.params))
  .get("/a/:p1/b/:p2/c/:p3/d/:p4/e/:p5", (_req, ctx) => Response.json(ctx.params))
  .get("/int/:n{int}", (_req, ctx) => Response.json({ n: ctx.params.n }))
  .get("/uuid/:uuid{uuid}", (_req, ctx) => Response.json({ uuid: ctx.params.uuid }))
  .get("/date/:date{date}", (_req, ctx) => Response.json({ date: ctx.params.date }))
  .get("/query/:kind", (_req, ctx) => {
    const q = ctx.query;
    const out = {};
    for (const k in q) out[k] = NUM.test(k) ? Number(q[k]) : q[k];
    return Response.json(out);
  })
  .post("/form/:kind", async (req) => Response.json(parseVars(await req.text())))
  .post("/upload", async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    let files = 0, bytes = 0;
    for (const p of parseMultipart(body, req.headers.get("content-type") ?? "")) {
      if (p.filename !== "") {
        files++;
        bytes += p.body.length;
      }
    }
    if (files === 0) return bad("no file part");
    return Response.json({ files, bytes });
  });

serve({
  hostname: "127.0.0.1",
  port,
  onListen: (a) => {
    if (port === 0) console.log(`listening ${a.port}`); // for the tests
  },
}, router.fetch);
