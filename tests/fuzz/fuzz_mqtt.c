// libFuzzer target: MQTT. The input (after its first byte) goes to
// mg_mqtt_parse (versions 4 and 5) with every property walked by
// mg_mqtt_next_prop, then, split into reads chosen by the first byte, to a
// broker connection (mg_mqtt_broker, with a second client subscribed to "#"
// that receives whatever is routed; then the subscriber leaves, the input
// comes again on a new connection and the subscriber returns to its session) and to a client connection as the
// server's replies. Checks: parsed fields lie inside the packet, packets are
// no longer than the input, event messages lie inside c->recv, c->recv stays
// under MG_MAX_RECV_SIZE, no leak or memory error (ASan), no crash.
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "fuzz_common.h"

static void check_msg(struct mg_mqtt_message *m, const void *lo, size_t n) {
  struct mg_mqtt_prop prop;
  size_t ofs = 0, steps = 0;
  FUZZ_CHECK(fuzz_inside(m->dgram, lo, n, false));
  FUZZ_CHECK(fuzz_inside(m->topic, m->dgram.buf, m->dgram.len, true));
  FUZZ_CHECK(fuzz_inside(m->data, m->dgram.buf, m->dgram.len, true));
  FUZZ_CHECK(m->props_start + m->props_size <= m->dgram.len);
  while ((ofs = mg_mqtt_next_prop(m, &prop, ofs)) > 0) {
    FUZZ_CHECK(ofs <= m->props_size);
    FUZZ_CHECK(mg_mqtt_prop_type(prop.id) >= 0);
    FUZZ_CHECK(fuzz_inside(prop.key, m->dgram.buf, m->dgram.len, true));
    FUZZ_CHECK(fuzz_inside(prop.val, m->dgram.buf, m->dgram.len, true));
    FUZZ_CHECK(++steps <= m->props_size);
  }
}

static void handler(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_MQTT_CMD || ev == MG_EV_MQTT_MSG) {
    check_msg((struct mg_mqtt_message *) ev_data, c->recv.buf, c->recv.len);
  }
  if (ev == MG_EV_MQTT_MSG && c->is_client) {  // exercise the client API
    struct mg_mqtt_opts o;
    memset(&o, 0, sizeof(o));
    o.topic = mg_str("echo");
    o.message = ((struct mg_mqtt_message *) ev_data)->data;
    o.qos = 1;
    mg_mqtt_pub(c, &o);
  }
}

// Feeds data in reads whose sizes come from a xorshift seeded by seed
static void feed(struct mg_mgr *mgr, struct mg_connection *c, unsigned long id,
                 const uint8_t *data, size_t size, uint8_t seed) {
  uint32_t x = seed | 1u;
  size_t pos = 0;
  while (pos < size && fake_alive(mgr, id)) {
    size_t n;
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    n = 1 + x % (seed & 0x80 ? 300 : 17);
    if (n > size - pos) n = size - pos;
    if (!fake_recv(c, data + pos, n)) break;
    FUZZ_CHECK(c->recv.len <= MG_MAX_RECV_SIZE);
    pos += n;
    if (x & 0x100) {
      fake_now += 700;
      mg_mgr_poll(mgr, 0);
    }
  }
}

// The subscriber: a persistent session (clean session 0)
static const uint8_t s_connect[] = {0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
                                    0x00, 0x00, 0x3c, 0x00, 0x01, 's'};
static const uint8_t s_sub_all[] = {0x82, 0x06, 0x00, 0x01, 0x00, 0x01, '#', 0x01};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct mg_mgr mgr;
  struct mg_mqtt_message m;
  struct mg_mqtt_opts o;
  struct mg_connection *lsn, *sub, *c;
  uint8_t seed;
  unsigned long cid, sid;
  size_t pos;
  int v;
  if (size < 1) return 0;
  seed = data[0];
  data++, size--;
  // 1. The parser, packet after packet
  for (v = 4; v <= 5; v++) {
    for (pos = 0; pos < size;) {
      int rc = mg_mqtt_parse(data + pos, size - pos, (uint8_t) v, &m);
      if (rc != MQTT_OK) break;
      FUZZ_CHECK(m.dgram.len >= 2 && m.dgram.len <= size - pos);
      check_msg(&m, data + pos, size - pos);
      pos += m.dgram.len;
    }
  }
  // 2. A broker: one subscriber to "#", the input from a second client
  mg_log_set(MG_LL_NONE);
  mg_mgr_init(&mgr);
  lsn = mg_mqtt_broker(&mgr, "mqtt://127.0.0.1:1883", handler, NULL);
  FUZZ_CHECK(lsn != NULL);
  sub = fake_accept(lsn);
  sid = sub->id;
  fake_recv(sub, s_connect, sizeof(s_connect));
  fake_recv(sub, s_sub_all, sizeof(s_sub_all));
  c = fake_accept(lsn);
  cid = c->id;
  feed(&mgr, c, cid, data, size, seed);
  // The subscriber goes away (its session stays and queues QoS 1), the
  // input comes again from a new connection (the same client id takes over
  // or resumes its session), then the subscriber comes back
  if (fake_alive(&mgr, sid)) {
    sub->is_closing = 1;
    fake_finish(sub);
  }
  if (fake_alive(&mgr, cid)) {
    c->is_closing = 1;
    fake_finish(c);
  }
  c = fake_accept(lsn);
  feed(&mgr, c, c->id, data, size, (uint8_t) (seed ^ 0x5a));
  sub = fake_accept(lsn);
  fake_recv(sub, s_connect, sizeof(s_connect));
  // 3. A client: the input as the server's replies
  memset(&o, 0, sizeof(o));
  o.client_id = mg_str("fz");
  o.keepalive = 1;
  o.version = (seed & 1) ? 5 : 4;
  c = mg_mqtt_connect(&mgr, "mqtt://127.0.0.1:1883", &o, handler, NULL);
  mg_io_connected(c, NULL);
  fake_finish(c);
  feed(&mgr, c, c->id, data, size, (uint8_t) (seed >> 1));
  mg_mgr_free(&mgr);
  fake_reset();
  return 0;
}
