// HTTPS server: TLS is done by the runtime (Deno.listenTls, node:tls); the C
// core and the handler see plain HTTP.
//
//   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
//     -keyout key.pem -out cert.pem -days 30 -subj /CN=localhost \
//     -addext subjectAltName=DNS:localhost,IP:127.0.0.1
//   deno run --allow-net --allow-read examples/https_server.ts \
//     [--listen URL] [--cert FILE] [--key FILE]
//   (default https://127.0.0.1:8443, cert.pem, key.pem)
//
// Try it: `curl --cacert cert.pem https://127.0.0.1:8443/`.

import process from "node:process";
import { readFileSync } from "node:fs";
import { type HttpMessage, Manager, MG_EV_HTTP_MSG } from "../mod.ts";

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const at = args.indexOf(name);
  return at >= 0 && args[at + 1] ? args[at + 1] : def;
};
const listen = opt("--listen", "https://127.0.0.1:8443");
const cert = readFileSync(opt("--cert", "cert.pem"), "utf8");
const key = readFileSync(opt("--key", "key.pem"), "utf8");

const mgr = new Manager();
const lsn = mgr.listen(listen, (c, ev, data) => {
  if (ev !== MG_EV_HTTP_MSG) return;
  const hm = data as HttpMessage;
  c.replyJson({ hello: "over TLS", uri: hm.uri });
}, { tls: { cert, key } });

console.log(`https_server listening on https://${lsn.localAddr}`);
await mgr.run(); // until Ctrl-C or SIGTERM
console.log("https_server stopped");
