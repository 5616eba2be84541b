/**
 * wasmgoose: the Mongoose embedded networking library (a C implementation of
 * its API) compiled to WebAssembly, driven from TypeScript on Deno, Node.js
 * and Bun. Write Mongoose-style event handlers `(conn, ev, data) => …`; the C
 * core does the protocol work (HTTP/1.1 parsing, keep-alive, pipelining,
 * limits, WebSocket), the runtime owns the sockets.
 *
 * Run directly, this module serves `{"message":"Hello, World!"}`:
 * `deno run -A mod.ts [--listen URL]`.
 *
 * @example
 * ```ts
 * import { Manager, MG_EV_HTTP_MSG, type HttpMessage } from "@wasmgoose/wasmgoose";
 *
 * const mgr = new Manager();
 * mgr.listen("http://0.0.0.0:8000", (c, ev, data) => {
 *   if (ev !== MG_EV_HTTP_MSG) return;
 *   const hm = data as HttpMessage;
 *   if (hm.uri === "/") c.replyJson({ message: "Hello, World!" });
 *   else c.replyJson({ error: "Not Found" }, 404);
 * });
 * await mgr.run();
 * ```
 *
 * @module
 */

import { runCli } from "./src/cli.ts";

export { Manager, Timer } from "./src/manager.ts";
export { Connection } from "./src/connection.ts";
export { HttpMessage } from "./src/http.ts";
export type { HttpPart } from "./src/multipart.ts";
export { closeIdleConnections, IDLE_TIMEOUT_MS, request } from "./src/client.ts";
export type { HttpResponse, RequestOptions } from "./src/client.ts";
export { WsMessage } from "./src/ws.ts";
export type { ServeDirOptions, UploadChunkOptions, UploadOptions } from "./src/static.ts";
export {
  MQTT_CMD_AUTH,
  MQTT_CMD_CONNACK,
  MQTT_CMD_CONNECT,
  MQTT_CMD_DISCONNECT,
  MQTT_CMD_PINGREQ,
  MQTT_CMD_PINGRESP,
  MQTT_CMD_PUBACK,
  MQTT_CMD_PUBCOMP,
  MQTT_CMD_PUBLISH,
  MQTT_CMD_PUBREC,
  MQTT_CMD_PUBREL,
  MQTT_CMD_SUBACK,
  MQTT_CMD_SUBSCRIBE,
  MQTT_CMD_UNSUBACK,
  MQTT_CMD_UNSUBSCRIBE,
  MQTT_PROP,
  mqttBroker,
  MqttMessage,
} from "./src/mqtt.ts";
export type {
  MqttBrokerOptions,
  MqttConnectOptions,
  MqttProperty,
  MqttPubOptions,
  MqttSubOptions,
  MqttWill,
} from "./src/mqtt.ts";
export * from "./src/constants.ts";
export { MG_EV_HTTP_BODY } from "./src/body_stream.ts";
export * from "./src/json.ts";
export * from "./src/rpc.ts";
export {
  base64Decode,
  base64Encode,
  base64UrlDecode,
  base64UrlEncode,
  type BytesLike,
  checkIpAcl,
  crc32,
  hmacSha256,
  match,
  md5,
  pathIsSane,
  randomBytes,
  randomString,
  sha1,
  sha256,
  toHex,
  urlDecode,
  urlEncode,
  urlHost,
  urlIsTls,
  urlPass,
  urlPort,
  urlUri,
  urlUser,
} from "./src/util.ts";
export type { LimitOptions, ManagerStats, ShutdownOptions } from "./src/limits.ts";
export { serve, ServeWebSocket, upgradeWebSocket, type WsListener } from "./src/serve.ts";
export type {
  HttpServer,
  NetAddr,
  ServeHandler,
  ServeHandlerInfo,
  ServeOptions,
  UpgradeWebSocketOptions,
} from "./src/serve.ts";
export type { SseMessage } from "./src/chunk.ts";
export { EventRouter, parseMultipart, parseVars, Router, RouteTable } from "./src/router.ts";
export type {
  EventRouteContext,
  EventRouteHandler,
  MultipartPart,
  Params,
  RouteContext,
  RouteHandler,
  RouteMatch,
} from "./src/router.ts";
export { processId, runWorkers, workerDone, workerIndex } from "./src/workers.ts";
export type { WorkersOptions } from "./src/workers.ts";
export type {
  EventData,
  EventHandler,
  ListenOptions,
  TimerOptions,
  TlsOptions,
  WsConnectOptions,
} from "./src/types.ts";

interface NodeProc {
  argv: string[];
  getBuiltinModule?: (id: string) => unknown;
}

/** Whether this module is the program's entry point. */
function isMain(): boolean {
  const main = (import.meta as { main?: boolean }).main;
  if (typeof main === "boolean") return main; // Deno, Bun, Node >= 24
  const proc = (globalThis as { process?: NodeProc }).process;
  const script = proc?.argv[1];
  if (script === undefined || proc?.getBuiltinModule === undefined) return false;
  try {
    const fs = proc.getBuiltinModule("node:fs") as {
      realpathSync(p: string): string;
    };
    const url = proc.getBuiltinModule("node:url") as {
      fileURLToPath(u: string): string;
    };
    return fs.realpathSync(script) === fs.realpathSync(url.fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) runCli();
