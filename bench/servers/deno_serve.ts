// Competitor server for `make bench`: the idiomatic Deno.serve hello-JSON server.
// GET / answers {"message":"Hello, World!"} as application/json; anything else is 404.
// Port: first argument, else env PORT, else 8000. Listens on 127.0.0.1 only.

const port = Number(Deno.args[0] ?? Deno.env.get("PORT") ?? 8000);

Deno.serve(
  { hostname: "127.0.0.1", port, onListen: () => {} },
  (req: Request): Response => {
    // Fast path: compare the path without building a URL object.
    const path = req.url.slice(req.url.indexOf("/", 8));
    if (req.method === "GET" && path === "/") {
      return Response.json({ message: "Hello, World!" });
    }
    return new Response("Not Found\n", { status: 404 });
  },
);
