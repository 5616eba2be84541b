// wasmgoose MQTT broker for bench/mqtt_bench.mjs: `mqttBroker` (the broker runs
// in the C core; no event crosses into JavaScript per message).
// One file for both runtimes: on Deno it loads ../../mod.ts, on Node the compiled
// ../../dist/mod.js (`make dist`). Port: first argument, else env PORT, else 1883.
//   deno run -A bench/servers/wasmgoose_mqtt.mjs 18830
//   node bench/servers/wasmgoose_mqtt.mjs 18831

import process from "node:process";

const port = Number(process.argv[2] ?? process.env.PORT ?? 1883);
const entry = globalThis.Deno ? "../../mod.ts" : "../../dist/mod.js";
const { Manager, MG_EV_MQTT_MSG, mqttBroker } = await import(entry);

// --observe: every PUBLISH also crosses into a JavaScript handler that reads
// its topic and payload (to measure what a broker written in TS would pay)
let seen = 0;
const observe = process.argv.includes("--observe")
  ? { handler: (_c, _ev, m) => (seen += m.topic.length + m.data.length), events: [MG_EV_MQTT_MSG] }
  : undefined;
const mgr = new Manager();
mqttBroker(mgr, `mqtt://127.0.0.1:${port}`, observe);
console.log(`listening on mqtt://127.0.0.1:${port}`);
await mgr.run();
