// Competitor WebSocket echo server for `make bench`: Deno.serve + Deno.upgradeWebSocket.
// Every message on /ws is echoed back as is (text or binary); GET / answers the hello
// JSON; anything else is 404.
// Port: first argument, else env PORT, else 8000. Listens on 127.0.0.1 only.

const port = Number(Deno.args[0] ?? Deno.env.get("PORT") ?? 8000);

Deno.serve(
  { hostname: "127.0.0.1", port, onListen: () => {} },
  (req: Request): Response => {
    const path = req.url.slice(req.url.indexOf("/", 8));
    if (path === "/ws" && req.headers.get("upgrade")?.toLowerCase() === "websocket") {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.binaryType = "arraybuffer";
      socket.onmessage = (e) => socket.send(e.data);
      return response;
    }
    if (path === "/") return Response.json({ message: "Hello, World!" });
    return new Response("Not Found\n", { status: 404 });
  },
);
