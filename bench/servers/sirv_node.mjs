// Competitor static file server for `make bench`: sirv (npm) on node:http,
// serving the directory given as STATIC_DIR (GET /static/1k.bin → STATIC_DIR/static/1k.bin).
// GET / answers the hello JSON. Port: first argument. Listens on 127.0.0.1 only.
import http from "node:http";
import process from "node:process";
import sirv from "sirv";

const port = Number(process.argv[2] ?? process.env.PORT ?? 8000);
const HELLO = '{"message":"Hello, World!"}';
const files = sirv(process.env.STATIC_DIR ?? ".", { dev: false, etag: false });

http.createServer((req, res) => {
  if (req.url === "/") {
    res.writeHead(200, { "Content-Type": "application/json", "Content-Length": HELLO.length });
    return res.end(HELLO);
  }
  files(req, res, () => {
    res.writeHead(404);
    res.end("Not Found\n");
  });
}).listen(port, "127.0.0.1");
