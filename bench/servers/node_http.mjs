// Competitor server for `make bench`: the idiomatic node:http server.
// GET / answers {"message":"Hello, World!"} as application/json; the API workloads
// of bench/workloads.mjs go through the shared api.mjs; anything else is 404.
// Port: first argument, else env PORT, else 8000. Listens on 127.0.0.1 only.
import http from "node:http";
import { api } from "./api.mjs";

const port = Number(process.argv[2] ?? process.env.PORT ?? 8000);
const HELLO = JSON.stringify({ message: "Hello, World!" });

function answer(req, res, body) {
  const q = req.url.indexOf("?");
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? "" : req.url.slice(q + 1);
  const [status, text] = api(req.method, path, query, req.headers["content-type"], () => body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

http
  .createServer((req, res) => {
    if (req.method === "GET" && req.url === "/") {
      res.writeHead(200, {
        "Content-Type": "application/json",
        "Content-Length": Buffer.byteLength(HELLO),
      });
      res.end(HELLO);
    } else if (req.method === "GET" || req.method === "HEAD") {
      answer(req, res, new Uint8Array(0));
    } else {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => answer(req, res, Buffer.concat(chunks)));
    }
  })
  .listen(port, "127.0.0.1");
