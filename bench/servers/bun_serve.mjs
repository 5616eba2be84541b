// Competitor server for `make bench`: the idiomatic Bun.serve server (Bun from
// node_modules/@oven/bun-linux-x64). GET / answers the hello JSON; the API
// workloads go through the shared api.mjs; GET /ws is a WebSocket echo;
// GET /static/* serves files from the directory given as STATIC_DIR (Bun.file).
// Port: first argument, else env PORT, else 8000. Listens on 127.0.0.1 only.
import { api } from "./api.mjs";

const port = Number(process.argv[2] ?? process.env.PORT ?? 8000);
const staticDir = process.env.STATIC_DIR;
const EMPTY = new Uint8Array(0);
const JSON_HEADERS = { "content-type": "application/json" };

Bun.serve({
  hostname: "127.0.0.1",
  port,
  async fetch(req, server) {
    const target = req.url.slice(req.url.indexOf("/", 8));
    if (req.method === "GET" && target === "/") {
      return Response.json({ message: "Hello, World!" });
    }
    if (target === "/ws") {
      if (server.upgrade(req)) return undefined;
      return new Response("Upgrade Required\n", { status: 426 });
    }
    if (staticDir && target.startsWith("/static/") && !target.includes("..")) {
      const f = Bun.file(staticDir + target);
      if (await f.exists()) return new Response(f);
      return new Response("Not Found\n", { status: 404 });
    }
    const q = target.indexOf("?");
    const body = req.body === null ? EMPTY : new Uint8Array(await req.arrayBuffer());
    const [status, text] = api(
      req.method,
      q < 0 ? target : target.slice(0, q),
      q < 0 ? "" : target.slice(q + 1),
      req.headers.get("content-type") ?? undefined,
      () => body,
    );
    return new Response(text, { status, headers: JSON_HEADERS });
  },
  websocket: {
    perMessageDeflate: false,
    message(ws, msg) {
      ws.send(msg);
    },
  },
});
