// Competitor server for `make bench`: the idiomatic Deno.serve server.
// GET / answers {"message":"Hello, World!"} as application/json; the API workloads
// of bench/workloads.mjs go through the shared api.mjs; anything else is 404.
// Port: first argument, else env PORT, else 8000. Listens on 127.0.0.1 only.
// @ts-types="./api.d.ts"
import { api } from "./api.mjs";

const port = Number(Deno.args[0] ?? Deno.env.get("PORT") ?? 8000);
const EMPTY = new Uint8Array(0);

Deno.serve(
  { hostname: "127.0.0.1", port, onListen: () => {} },
  async (req: Request): Promise<Response> => {
    // Fast path: compare the path without building a URL object.
    const target = req.url.slice(req.url.indexOf("/", 8));
    if (req.method === "GET" && target === "/") {
      return Response.json({ message: "Hello, World!" });
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
    return new Response(text, { status, headers: { "content-type": "application/json" } });
  },
);
