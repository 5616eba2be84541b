// MQTT broker (3.1.1 and 5): subscriptions with + and #, retained messages,
// QoS 0 and 1, wills, keepalive, persistent sessions. It runs in the C core.
//
//   deno run -A examples/mqtt_broker.ts [--listen URL]   (default mqtt://127.0.0.1:1883)
//
// Try it with `mosquitto_sub -p 1883 -t '#' -v` and `mosquitto_pub -p 1883 -t a/b -m hi`,
// or with examples/mqtt_client.ts.

import process from "node:process";
import { Manager, MG_EV_MQTT_CMD, MQTT_CMD_CONNECT, mqttBroker, type MqttMessage } from "../mod.ts";

const args = process.argv.slice(2);
const at = args.indexOf("--listen");
const listen = at >= 0 && args[at + 1] ? args[at + 1] : "mqtt://127.0.0.1:1883";

const mgr = new Manager();
// The handler is optional: here it only logs logins (the broker needs no JS).
const lsn = mqttBroker(mgr, listen, {
  events: [MG_EV_MQTT_CMD],
  handler: (c, _ev, data) => {
    if ((data as MqttMessage).cmd === MQTT_CMD_CONNECT) {
      console.log(`client ${c.remoteAddr} logs in`);
    }
  },
});

console.log(`mqtt_broker listening on mqtt://${lsn.localAddr}`);
await mgr.run(); // until Ctrl-C or SIGTERM
console.log("mqtt_broker stopped");
