// File upload: PUT /upload/NAME streams the body to DIR/NAME (never held in
// memory whole); POST /upload?file=NAME&offset=N takes a file sent in pieces,
// one request each (Mongoose's mg_http_upload); GET serves the files back.
//
//   deno run --allow-net --allow-read --allow-write examples/file_upload.ts \
//     [--listen URL] [--dir DIR]   (default http://127.0.0.1:8000, ./uploads)
//
// Try it: `curl -T photo.jpg http://127.0.0.1:8000/upload/photo.jpg`, then
// `curl http://127.0.0.1:8000/photo.jpg`. In pieces:
// `curl --data-binary @part1 'http://127.0.0.1:8000/upload?file=big.bin&offset=0'`, then
// `... @part2 '...&offset=<size of part1>'` (a wrong offset gets 409 with the size so far).

import process from "node:process";
import { mkdirSync } from "node:fs";
import { type HttpMessage, Manager, MG_EV_HTTP_HDRS, MG_EV_HTTP_MSG } from "../mod.ts";

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] ? args[at + 1] : def;
};
const listen = opt("--listen", "http://127.0.0.1:8000");
const dir = opt("--dir", "./uploads");
mkdirSync(dir, { recursive: true });

const mgr = new Manager();
const lsn = mgr.listen(listen, (c, ev, data) => {
  const hm = data as HttpMessage;
  if (ev === MG_EV_HTTP_HDRS && hm.method === "PUT" && hm.uri.startsWith("/upload/")) {
    // From the head on, the body goes to DIR/.NAME.<id>.part, renamed to
    // DIR/NAME when complete; the answer is 201 {"name":NAME,"size":N}
    // (413 over maxSize, 400 for a bad name).
    c.upload(hm, { dir, maxSize: 100 * 1024 * 1024 });
  } else if (ev === MG_EV_HTTP_MSG && hm.method === "POST" && hm.uri === "/upload") {
    // One piece: appended to DIR/NAME if `offset` is its size (0 starts it);
    // the answer is 200 {"name":NAME,"size":NEW_SIZE}
    c.uploadChunk(hm, { dir, maxSize: 100 * 1024 * 1024 });
  } else if (ev === MG_EV_HTTP_MSG && hm.method !== "PUT") {
    c.serveDir(hm, { rootDir: dir });
  } else if (ev === MG_EV_HTTP_MSG) {
    c.replyJson({ error: "PUT /upload/NAME or POST /upload?file=NAME&offset=N" }, 404);
  }
});

console.log(`file_upload listening on http://${lsn.localAddr} (files in ${dir})`);
await mgr.run(); // until Ctrl-C or SIGTERM
console.log("file_upload stopped");
