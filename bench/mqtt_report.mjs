// Turns the JSON lines of bench/mqtt_bench.mjs (stdin) into bench/MQTT_RESULTS.md:
// the median of the runs per broker and QoS, and the broker's CPU per message.
// Usage: node bench/mqtt_bench.mjs --runs 3 | node bench/mqtt_report.mjs
// SPDX-License-Identifier: MIT
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";

const rows = readFileSync(0, "utf8").split("\n").filter((l) => l.startsWith("{"))
  .map((l) => JSON.parse(l)).filter((r) => r.bench === "mqtt_pub");
if (rows.length === 0) {
  console.error("mqtt_report: no results on stdin");
  process.exit(1);
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const groups = new Map();
for (const r of rows) {
  const k = `${r.qos}\u0000${r.broker}`;
  if (!groups.has(k)) groups.set(k, []);
  groups.get(k).push(r);
}
const fmt = (n, d = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
let md = "# MQTT publish throughput\n\n" +
  "Written by `make bench-full` (`node bench/mqtt_bench.mjs | node bench/mqtt_report.mjs`): one MQTT.js\n" +
  "publisher → broker → one MQTT.js subscriber on 127.0.0.1, " +
  `${rows[0].messages} messages of ${rows[0].payload} B per run, ` +
  "runs interleaved, medians. The clients (Node) share the 2 CPUs with the broker, so compare the\n" +
  "broker's CPU per message (user and system apart) as much as msg/s. CPU time has 10 ms\n" +
  `resolution: ${(10000 / rows[0].messages).toFixed(2)} µs per message at this message count.\n\n` +
  `${new Date().toISOString().slice(0, 10)}, ${
    os.cpus()[0]?.model ?? "?"
  } × ${os.cpus().length}, ` +
  `Node ${process.versions.node}.\n`;
for (const qos of [...new Set(rows.map((r) => r.qos))].sort()) {
  md += `\n## QoS ${qos}\n\n| broker | msg/s | broker user µs/msg | broker sys µs/msg | runs |\n` +
    "| --- | ---: | ---: | ---: | ---: |\n";
  const lines = [...groups.entries()].filter(([k]) => k.startsWith(`${qos}\u0000`))
    .map(([, rs]) => ({
      broker: rs[0].broker,
      rate: median(rs.map((r) => r.msgs_per_s)),
      user: median(rs.map((r) => r.broker_user_us)),
      sys: median(rs.map((r) => r.broker_sys_us)),
      n: rs.length,
    })).sort((a, b) => b.rate - a.rate);
  for (const l of lines) {
    md += `| ${l.broker} | ${fmt(l.rate)} | ${fmt(l.user, 2)} | ${fmt(l.sys, 2)} | ${l.n} |\n`;
  }
}
writeFileSync(new URL("./MQTT_RESULTS.md", import.meta.url), md);
process.stdout.write(md);
