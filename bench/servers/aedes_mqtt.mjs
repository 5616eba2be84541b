// aedes (npm) MQTT broker on node:net for bench/mqtt_bench.mjs.
// Port: first argument, else env PORT, else 1883.
//   node bench/servers/aedes_mqtt.mjs 18832

import net from "node:net";
import process from "node:process";
import * as aedesModule from "aedes";

const port = Number(process.argv[2] ?? process.env.PORT ?? 1883);
// aedes 1.x: a class with an async createBroker(); 0.x: a factory
const broker = typeof aedesModule.Aedes?.createBroker === "function"
  ? await aedesModule.Aedes.createBroker()
  : aedesModule.default();
const server = net.createServer(broker.handle);
server.listen(port, "127.0.0.1", () => console.log(`listening on mqtt://127.0.0.1:${port}`));
