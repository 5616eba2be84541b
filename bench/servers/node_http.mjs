// Competitor server for `make bench`: the idiomatic node:http hello-JSON server.
// GET / answers {"message":"Hello, World!"} as application/json; anything else is 404.
// Port: first argument, else env PORT, else 8000. Listens on 127.0.0.1 only.
import http from "node:http";

const port = Number(process.argv[2] ?? process.env.PORT ?? 8000);

http
  .createServer((req, res) => {
    if (req.method === "GET" && req.url === "/") {
      const body = JSON.stringify({ message: "Hello, World!" });
      res.writeHead(200, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(body),
      });
      res.end(body);
    } else {
      res.writeHead(404, { "Content-Type": "text/plain" });
      res.end("Not Found\n");
    }
  })
  .listen(port, "127.0.0.1");
