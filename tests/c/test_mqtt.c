// MQTT unit tests: packet encoding and parsing against byte vectors written
// from the MQTT 3.1.1 and 5.0 specifications, the client acknowledgement
// flows and keepalive, and the broker, on the fake driver.
// SPDX-License-Identifier: MIT
#include "check.h"
#include "fake_driver.h"

static struct mg_mgr s_mgr;
static struct mg_mgr s_scratch;  // owner of connections that only build packets

static int s_ev[64];
static struct mg_mqtt_message s_last;
static char s_last_topic[64], s_last_data[64];
static int s_connack = -1;

static void handler(struct mg_connection *c, int ev, void *ev_data) {
  (void) c;
  if (ev < 64) s_ev[ev]++;
  if (ev == MG_EV_MQTT_MSG) {
    struct mg_mqtt_message *m = (struct mg_mqtt_message *) ev_data;
    s_last = *m;
    mg_snprintf(s_last_topic, sizeof(s_last_topic), "%.*s", (int) m->topic.len,
                m->topic.buf);
    mg_snprintf(s_last_data, sizeof(s_last_data), "%.*s", (int) m->data.len,
                m->data.buf);
  } else if (ev == MG_EV_MQTT_OPEN) {
    s_connack = *(int *) ev_data;
  }
}

static bool out_is(const void *want, size_t len) {
  bool ok = fake_out.len == len && memcmp(fake_out.buf, want, len) == 0;
  if (!ok) {
    size_t i;
    fprintf(stderr, "  output (%lu bytes):", (unsigned long) fake_out.len);
    for (i = 0; i < fake_out.len && i < 64; i++) {
      fprintf(stderr, " %02x", fake_out.buf[i]);
    }
    fprintf(stderr, "\n");
  }
  return ok;
}

// Output contains the bytes (anywhere)
static bool out_has(const void *want, size_t len) {
  size_t i;
  for (i = 0; i + len <= fake_out.len; i++) {
    if (memcmp(fake_out.buf + i, want, len) == 0) return true;
  }
  return false;
}

// ---- Remaining length (2.2.3 / 1.5.5) ---------------------------------------
static void test_remaining_length(void) {
  static const struct {
    uint32_t v;
    uint8_t bytes[4];
    size_t n;
  } vec[] = {
      {0, {0x00}, 1},
      {127, {0x7f}, 1},
      {128, {0x80, 0x01}, 2},
      {16383, {0xff, 0x7f}, 2},
      {16384, {0x80, 0x80, 0x01}, 3},
      {2097151, {0xff, 0xff, 0x7f}, 3},
      {2097152, {0x80, 0x80, 0x80, 0x01}, 4},
      {268435455, {0xff, 0xff, 0xff, 0x7f}, 4},
  };
  struct mg_connection *c = mg_alloc_conn(&s_scratch);
  size_t i;
  for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
    struct mg_mqtt_message m;
    uint8_t *buf;
    size_t total = 1 + vec[i].n + vec[i].v;
    c->send.len = 0;
    mg_mqtt_send_header(c, MQTT_CMD_PUBLISH, 0, vec[i].v);
    CHECK(c->send.len == 1 + vec[i].n);
    CHECK(c->send.buf[0] == 0x30);
    CHECK(memcmp(c->send.buf + 1, vec[i].bytes, vec[i].n) == 0);
    // Just the header: incomplete (unless the packet is that short)
    if (vec[i].v > 0) {
      CHECK(mg_mqtt_parse(c->send.buf, c->send.len, 4, &m) == MQTT_INCOMPLETE);
    }
    if (vec[i].v <= 2097152) {  // the whole packet: a topic "a/b", payload
      buf = (uint8_t *) calloc(1, total);
      memcpy(buf, c->send.buf, c->send.len);
      if (vec[i].v >= 5) {
        memcpy(buf + 1 + vec[i].n, "\x00\x03" "a/b", 5);
        CHECK(mg_mqtt_parse(buf, total, 4, &m) == MQTT_OK);
        CHECK(m.dgram.len == total);
        CHECK(str_is(m.topic, "a/b"));
        CHECK(m.data.len == vec[i].v - 5);
        CHECK(mg_mqtt_parse(buf, total - 1, 4, &m) == MQTT_INCOMPLETE);
      } else {  // shorter than a topic length: malformed PUBLISH
        CHECK(mg_mqtt_parse(buf, total, 4, &m) == MQTT_MALFORMED);
      }
      free(buf);
    }
  }
  {  // a fifth length byte is malformed; a 4-byte one needs its data
    static const uint8_t bad[] = {0x30, 0xff, 0xff, 0xff, 0xff, 0x7f};
    struct mg_mqtt_message m;
    CHECK(mg_mqtt_parse(bad, sizeof(bad), 4, &m) == MQTT_MALFORMED);
    CHECK(mg_mqtt_parse(bad, 5, 4, &m) == MQTT_MALFORMED);
    CHECK(mg_mqtt_parse(bad, 4, 4, &m) == MQTT_INCOMPLETE);
    CHECK(mg_mqtt_parse(bad, 1, 4, &m) == MQTT_INCOMPLETE);
  }
  mg_iobuf_free(&c->send);
  free(c);
  s_scratch.dirty = NULL;
}

// ---- Packets --------------------------------------------------------------------
static void test_encode(void) {
  struct mg_connection *c = mg_alloc_conn(&s_scratch);
  struct mg_mqtt_opts o;
  uint16_t id;
  memset(&o, 0, sizeof(o));
  // 3.1: CONNECT, client id "abc", keepalive 60, clean session
  o.client_id = mg_str("abc");
  o.keepalive = 60;
  o.clean = true;
  mg_mqtt_login(c, &o);
  CHECK(c->send.len == 17);
  CHECK(memcmp(c->send.buf,
               "\x10\x0f\x00\x04MQTT\x04\x02\x00\x3c\x00\x03" "abc", 17) == 0);
  // with will (QoS 1, retain), user and password
  c->send.len = 0;
  o.topic = mg_str("w");
  o.message = mg_str("bye");
  o.qos = 1;
  o.retain = true;
  o.user = mg_str("u");
  o.pass = mg_str("p");
  o.clean = false;
  mg_mqtt_login(c, &o);
  CHECK(c->send.len == 2 + 10 + 5 + 3 + 5 + 3 + 3);
  CHECK(c->send.buf[9] == (0x80 | 0x40 | 0x20 | 0x08 | 0x04));
  CHECK(memcmp(c->send.buf + 17, "\x00\x01w\x00\x03" "bye\x00\x01u\x00\x01p",
               14) == 0);
  // PUBLISH QoS 0 and 1 (3.3)
  c->send.len = 0;
  memset(&o, 0, sizeof(o));
  o.topic = mg_str("a/b");
  o.message = mg_str("hi");
  id = mg_mqtt_pub(c, &o);
  CHECK(id == 0);
  CHECK(c->send.len == 9);
  CHECK(memcmp(c->send.buf, "\x30\x07\x00\x03" "a/bhi", 9) == 0);
  c->send.len = 0;
  o.qos = 1;
  o.retain = true;
  id = mg_mqtt_pub(c, &o);
  CHECK(id != 0);
  CHECK(c->send.len == 11);
  CHECK(c->send.buf[0] == 0x33 && c->send.buf[1] == 9);
  CHECK(c->send.buf[7] == (id >> 8) && c->send.buf[8] == (id & 255));
  // retransmission: DUP flag, same id
  c->send.len = 0;
  o.retransmit_id = id;
  CHECK(mg_mqtt_pub(c, &o) == id);
  CHECK(c->send.buf[0] == 0x3b);
  // SUBSCRIBE (3.8): flags 2, id, topic, QoS
  c->send.len = 0;
  memset(&o, 0, sizeof(o));
  o.topic = mg_str("a/#");
  o.qos = 2;
  mg_mqtt_sub(c, &o);
  CHECK(c->send.len == 10);
  CHECK(c->send.buf[0] == 0x82 && c->send.buf[1] == 8);
  CHECK(memcmp(c->send.buf + 4, "\x00\x03" "a/#\x02", 6) == 0);
  c->send.len = 0;
  mg_mqtt_unsub(c, &o);
  CHECK(c->send.len == 9 && c->send.buf[0] == 0xa2 && c->send.buf[1] == 7);
  c->send.len = 0;
  mg_mqtt_ping(c);
  mg_mqtt_pong(c);
  mg_mqtt_disconnect(c, NULL);
  CHECK(c->send.len == 6);
  CHECK(memcmp(c->send.buf, "\xc0\x00\xd0\x00\xe0\x00", 6) == 0);
  // MQTT 5: CONNECT with a property, PUBLISH with a user property
  {
    struct mg_mqtt_prop p[2];
    struct mg_mqtt_message m;
    struct mg_mqtt_prop prop;
    size_t ofs;
    memset(p, 0, sizeof(p));
    c->send.len = 0;
    memset(&o, 0, sizeof(o));
    o.version = 5;
    o.client_id = mg_str("x");
    p[0].id = MQTT_PROP_SESSION_EXPIRY_INTERVAL;
    p[0].iv = 0x01020304;
    o.props = p;
    o.num_props = 1;
    mg_mqtt_login(c, &o);
    CHECK(c->is_mqtt5);
    CHECK(c->send.len == 2 + 10 + 6 + 3);
    CHECK(memcmp(c->send.buf + 8, "\x05\x00\x00\x00\x05\x11\x01\x02\x03\x04", 10) == 0);
    c->send.len = 0;
    p[0].id = MQTT_PROP_USER_PROPERTY;
    p[0].key = mg_str("k");
    p[0].val = mg_str("vv");
    p[1].id = MQTT_PROP_CONTENT_TYPE;
    p[1].val = mg_str("t");
    o.topic = mg_str("t");
    o.message = mg_str("m");
    o.num_props = 2;
    mg_mqtt_pub(c, &o);
    CHECK(c->send.len == 2 + 3 + 1 + 8 + 4 + 1);
    CHECK(mg_mqtt_parse(c->send.buf, c->send.len, 5, &m) == MQTT_OK);
    CHECK(str_is(m.topic, "t") && str_is(m.data, "m") && m.props_size == 12);
    ofs = mg_mqtt_next_prop(&m, &prop, 0);
    CHECK(ofs == 8 && prop.id == MQTT_PROP_USER_PROPERTY);
    CHECK(str_is(prop.key, "k") && str_is(prop.val, "vv"));
    ofs = mg_mqtt_next_prop(&m, &prop, ofs);
    CHECK(ofs == 12 && prop.id == MQTT_PROP_CONTENT_TYPE && str_is(prop.val, "t"));
    CHECK(mg_mqtt_next_prop(&m, &prop, ofs) == 0);
    // the same bytes parsed as 3.1.1: the properties are payload
    CHECK(mg_mqtt_parse(c->send.buf, c->send.len, 4, &m) == MQTT_OK);
    CHECK(m.data.len == 14 && m.props_size == 0);
  }
  mg_iobuf_free(&c->send);
  free(c);
  s_scratch.dirty = NULL;
}

static void test_parse(void) {
  struct mg_mqtt_message m;
  // 3.2 CONNACK, session present, code 0
  CHECK(mg_mqtt_parse((const uint8_t *) "\x20\x02\x01\x00", 4, 4, &m) == MQTT_OK);
  CHECK(m.cmd == MQTT_CMD_CONNACK && m.ack == 0 && m.dgram.len == 4);
  CHECK(mg_mqtt_parse((const uint8_t *) "\x20\x02\x00\x05", 4, 4, &m) == MQTT_OK);
  CHECK(m.ack == 5);
  // 3.3 PUBLISH QoS 2, id 0x1234
  CHECK(mg_mqtt_parse((const uint8_t *) "\x34\x08\x00\x02" "ab\x12\x34" "xy", 10,
                      4, &m) == MQTT_OK);
  CHECK(m.cmd == MQTT_CMD_PUBLISH && m.qos == 2 && m.id == 0x1234);
  CHECK(str_is(m.topic, "ab") && str_is(m.data, "xy"));
  // QoS 3, id 0, topic past the end: malformed
  CHECK(mg_mqtt_parse((const uint8_t *) "\x36\x06\x00\x02" "ab\x12\x34", 8, 4,
                      &m) == MQTT_MALFORMED);
  CHECK(mg_mqtt_parse((const uint8_t *) "\x32\x06\x00\x02" "ab\x00\x00", 8, 4,
                      &m) == MQTT_MALFORMED);
  CHECK(mg_mqtt_parse((const uint8_t *) "\x30\x03\x00\x09" "a", 5, 4, &m) ==
        MQTT_MALFORMED);
  // 3.4-3.7 acks; PUBREL needs flags 2
  CHECK(mg_mqtt_parse((const uint8_t *) "\x40\x02\x00\x07", 4, 4, &m) == MQTT_OK);
  CHECK(m.cmd == MQTT_CMD_PUBACK && m.id == 7);
  CHECK(mg_mqtt_parse((const uint8_t *) "\x62\x02\x00\x07", 4, 4, &m) == MQTT_OK);
  CHECK(mg_mqtt_parse((const uint8_t *) "\x60\x02\x00\x07", 4, 4, &m) ==
        MQTT_MALFORMED);
  // MQTT 5 PUBACK with reason code 0x10 and a reason string
  CHECK(mg_mqtt_parse((const uint8_t *) "\x40\x08\x00\x07\x10\x04\x1f\x00\x01z",
                      10, 5, &m) == MQTT_OK);
  CHECK(m.ack == 0x10 && m.props_size == 4);
  // bad property block (length past the end, unknown property id)
  CHECK(mg_mqtt_parse((const uint8_t *) "\x40\x05\x00\x07\x10\x04\x1f", 7, 5,
                      &m) == MQTT_MALFORMED);
  CHECK(mg_mqtt_parse((const uint8_t *) "\x40\x06\x00\x07\x10\x02\x7f\x00", 8,
                      5, &m) == MQTT_MALFORMED);
  // SUBACK with return codes; PINGREQ, PINGRESP; reserved type 0
  CHECK(mg_mqtt_parse((const uint8_t *) "\x90\x04\x00\x01\x01\x80", 6, 4, &m) ==
        MQTT_OK);
  CHECK(m.cmd == MQTT_CMD_SUBACK && m.ack == 1 && m.data.len == 2);
  CHECK(mg_mqtt_parse((const uint8_t *) "\xc0\x00", 2, 4, &m) == MQTT_OK);
  CHECK(m.cmd == MQTT_CMD_PINGREQ);
  CHECK(mg_mqtt_parse((const uint8_t *) "\xd0\x01\x00", 3, 4, &m) ==
        MQTT_MALFORMED);
  CHECK(mg_mqtt_parse((const uint8_t *) "\x00\x00", 2, 4, &m) == MQTT_MALFORMED);
  // two packets back to back: only the first is taken
  CHECK(mg_mqtt_parse((const uint8_t *) "\xc0\x00\xd0\x00", 4, 4, &m) == MQTT_OK);
  CHECK(m.dgram.len == 2);
}

static void test_match(void) {
  static const struct {
    const char *t, *f;
    bool ok;
  } vec[] = {
      {"sport/tennis/player1", "sport/tennis/player1/#", true},
      {"sport/tennis/player1/ranking", "sport/tennis/player1/#", true},
      {"sport", "sport/#", true},
      {"a/b", "#", true},
      {"sport/tennis/player1", "sport/tennis/+", true},
      {"sport/tennis/player1/ranking", "sport/tennis/+", false},
      {"sport", "sport/+", false},
      {"sport/", "sport/+", true},
      {"/finance", "+/+", true},
      {"/finance", "/+", true},
      {"/finance", "+", false},
      {"$SYS/x", "#", false},
      {"$SYS/x", "+/x", false},
      {"$SYS/x", "$SYS/#", true},
      {"a/b", "a/b", true},
      {"a/b", "a/c", false},
      {"ab", "a", false},
      {"a", "ab", false},
      {"a/b/c", "a/+/c", true},
      {"a//c", "a/+/c", true},
      {"a", "", false},
  };
  size_t i;
  for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
    bool r = mg_mqtt_match(mg_str(vec[i].t), mg_str(vec[i].f));
    if (r != vec[i].ok) fprintf(stderr, "  match %s %s\n", vec[i].t, vec[i].f);
    CHECK(r == vec[i].ok);
  }
}

// ---- Client flows (4.3) ---------------------------------------------------------
static void test_client(void) {
  struct mg_mqtt_opts o;
  struct mg_connection *c;
  memset(&o, 0, sizeof(o));
  memset(s_ev, 0, sizeof(s_ev));
  o.client_id = mg_str("c1");
  o.keepalive = 10;
  fake_reset();
  c = mg_mqtt_connect(&s_mgr, "mqtt://127.0.0.1:1883", &o, handler, NULL);
  CHECK(c != NULL && c->send.len == 16);  // CONNECT queued
  mg_io_connected(c, NULL);
  CHECK(fake_finish(c));
  CHECK(fake_out.len == 16 && fake_out.buf[0] == 0x10);
  fake_reset();
  CHECK(fake_recv(c, "\x20\x02\x00\x00", 4));
  CHECK(s_connack == 0 && s_ev[MG_EV_MQTT_OPEN] == 1 && s_ev[MG_EV_MQTT_CMD] == 1);
  // QoS 1 in: MSG, then PUBACK
  CHECK(fake_recv(c, "\x32\x07\x00\x01t\x00\x05hi", 9));
  CHECK(s_ev[MG_EV_MQTT_MSG] == 1 && strcmp(s_last_data, "hi") == 0);
  CHECK(s_last.qos == 1 && s_last.id == 5);
  CHECK(out_is("\x40\x02\x00\x05", 4));
  // QoS 2 in, split across reads; then a duplicate; then PUBREL
  fake_reset();
  CHECK(fake_recv(c, "\x34\x07\x00", 3));
  CHECK(fake_out.len == 0 && s_ev[MG_EV_MQTT_MSG] == 1);
  CHECK(fake_recv(c, "\x01t\x00\x06ho", 6));
  CHECK(s_ev[MG_EV_MQTT_MSG] == 2 && strcmp(s_last_data, "ho") == 0);
  CHECK(out_is("\x50\x02\x00\x06", 4));
  fake_reset();
  CHECK(fake_recv(c, "\x3c\x07\x00\x01t\x00\x06ho", 9));  // DUP
  CHECK(s_ev[MG_EV_MQTT_MSG] == 2);
  CHECK(out_is("\x50\x02\x00\x06", 4));
  fake_reset();
  CHECK(fake_recv(c, "\x62\x02\x00\x06", 4));
  CHECK(out_is("\x70\x02\x00\x06", 4));
  // QoS 2 out: PUBREC gets PUBREL; PUBCOMP ends it
  fake_reset();
  CHECK(fake_recv(c, "\x50\x02\x00\x09\x70\x02\x00\x09", 8));
  CHECK(out_is("\x62\x02\x00\x09", 4));
  CHECK(s_ev[MG_EV_MQTT_CMD] == 7);
  // keepalive: nothing sent for 5 s: PINGREQ; nothing received for 20 s: drop
  fake_reset();
  fake_now += 5000;
  mg_mgr_poll(&s_mgr, 0);
  CHECK(out_is("\xc0\x00", 2));
  CHECK(fake_recv(c, "\xd0\x00", 2));
  {
    unsigned long cid = c->id;
    fake_now += 19000;  // 19 s of silence: still within twice the keepalive
    mg_mgr_poll(&s_mgr, 0);
    CHECK(fake_alive(&s_mgr, cid));
    fake_now += 3000;  // 22 s (the timer runs every 2.5 s): dropped
    mg_mgr_poll(&s_mgr, 0);
    CHECK(!fake_alive(&s_mgr, cid));
  }
  CHECK(s_ev[MG_EV_CLOSE] == 1);
  // a malformed packet closes; a refused CONNACK closes
  memset(s_ev, 0, sizeof(s_ev));
  c = mg_mqtt_connect(&s_mgr, "mqtt://127.0.0.1:1883", &o, handler, NULL);
  mg_io_connected(c, NULL);
  CHECK(!fake_recv(c, "\x20\x02\x00\x05", 4));
  CHECK(s_connack == 5 && s_ev[MG_EV_CLOSE] == 1);
  c = mg_mqtt_connect(&s_mgr, "mqtt://127.0.0.1:1883", &o, handler, NULL);
  mg_io_connected(c, NULL);
  CHECK(!fake_recv(c, "\x30\xff\xff\xff\xff\x01", 6));
  // MQTT 5: the server's keepalive (3 s) replaces ours (10 s)
  o.version = 5;
  c = mg_mqtt_connect(&s_mgr, "mqtt://127.0.0.1:1883", &o, handler, NULL);
  mg_io_connected(c, NULL);
  CHECK(fake_recv(c, "\x20\x06\x00\x00\x03\x13\x00\x03", 8));
  fake_reset();
  fake_now += 2000;
  mg_mgr_poll(&s_mgr, 0);
  CHECK(out_is("\xc0\x00", 2));
  c->is_closing = 1;
  fake_finish(c);
  CHECK(s_ev[MG_EV_CLOSE] == 2 && s_ev[MG_EV_ERROR] >= 2);
}

// ---- Broker -------------------------------------------------------------------------
static struct mg_connection *broker_client(struct mg_connection *lsn,
                                           const char *id, bool clean,
                                           const char *will) {
  struct mg_connection *c = fake_accept(lsn);
  struct mg_connection tmp;
  struct mg_mqtt_opts o;
  memset(&tmp, 0, sizeof(tmp));
  memset(&o, 0, sizeof(o));
  tmp.mgr = &s_scratch;
  o.client_id = mg_str(id);
  o.clean = clean;
  o.keepalive = 2;
  if (will != NULL) o.topic = mg_str(will), o.message = mg_str("gone");
  mg_mqtt_login(&tmp, &o);
  fake_reset();
  fake_recv(c, tmp.send.buf, tmp.send.len);
  mg_iobuf_free(&tmp.send);
  s_scratch.dirty = NULL;
  return c;
}

static void sub(struct mg_connection *c, const char *topic, uint8_t qos) {
  struct mg_connection tmp;
  struct mg_mqtt_opts o;
  memset(&tmp, 0, sizeof(tmp));
  memset(&o, 0, sizeof(o));
  tmp.mgr = &s_scratch;
  o.topic = mg_str(topic);
  o.qos = qos;
  mg_mqtt_sub(&tmp, &o);
  fake_reset();
  fake_recv(c, tmp.send.buf, tmp.send.len);
  mg_iobuf_free(&tmp.send);
  s_scratch.dirty = NULL;
}

static void pub(struct mg_connection *c, const char *topic, const char *msg,
                uint8_t qos, bool retain) {
  struct mg_connection tmp;
  struct mg_mqtt_opts o;
  memset(&tmp, 0, sizeof(tmp));
  memset(&o, 0, sizeof(o));
  tmp.mgr = &s_scratch;
  o.topic = mg_str(topic);
  o.message = mg_str(msg);
  o.qos = qos;
  o.retain = retain;
  mg_mqtt_pub(&tmp, &o);
  fake_reset();
  fake_recv(c, tmp.send.buf, tmp.send.len);
  mg_iobuf_free(&tmp.send);
  s_scratch.dirty = NULL;
}

static void test_broker(void) {
  struct mg_connection *lsn, *a, *b, *d;
  unsigned long aid, bid;
  memset(s_ev, 0, sizeof(s_ev));
  lsn = mg_mqtt_broker(&s_mgr, "mqtt://127.0.0.1:1883", handler, NULL);
  CHECK(lsn != NULL);
  a = broker_client(lsn, "a", true, NULL);
  CHECK(out_is("\x20\x02\x00\x00", 4));
  b = broker_client(lsn, "b", true, "will/b");
  CHECK(out_is("\x20\x02\x00\x00", 4));
  sub(a, "x/+/z", 1);
  CHECK(fake_out.len == 5 && fake_out.buf[0] == 0x90 && fake_out.buf[4] == 1);
  pub(b, "x/y/z", "m1", 0, false);
  CHECK(out_is("\x30\x09\x00\x05x/y/zm1", 11));
  pub(b, "x/y/q", "m2", 0, false);
  CHECK(fake_out.len == 0);
  // QoS 1: PUBACK to the publisher, QoS 1 delivery; QoS 2 downgraded to 1
  pub(b, "x/y/z", "m3", 1, false);
  CHECK(out_has("\x40\x02", 2));
  CHECK(out_has("\x32\x0b\x00\x05x/y/z", 9));
  pub(b, "x/y/z", "m4", 2, false);
  CHECK(out_has("\x50\x02", 2) && out_has("\x32\x0b\x00\x05x/y/z", 9));
  // retained: kept, sent on subscribe with the retain flag; empty deletes
  pub(b, "r/1", "kept", 1, true);
  sub(a, "r/#", 0);
  CHECK(out_has("\x31\x09\x00\x03r/1kept", 11));
  pub(b, "r/1", "", 0, true);
  sub(a, "r/+", 0);
  CHECK(fake_out.len == 5);  // just the SUBACK
  // $-topics are not matched by a leading wildcard
  sub(a, "#", 0);
  pub(b, "$SYS/x", "s", 0, false);
  CHECK(fake_out.len == 0);
  // will on an abnormal close, not after DISCONNECT
  bid = b->id;
  fake_reset();
  b->is_closing = 1;
  mg_io_check(b);
  CHECK(!fake_finish(b) || !fake_alive(&s_mgr, bid));
  CHECK(out_has("\x30\x0c\x00\x06will/bgone", 14));
  b = broker_client(lsn, "b2", true, "will/b");
  bid = b->id;
  fake_reset();
  CHECK(!fake_recv(b, "\xe0\x00", 2));
  CHECK(!out_has("will/b", 6));
  // persistent session: subscriptions survive, session present is 1
  d = broker_client(lsn, "p", false, NULL);
  sub(d, "p/t", 1);
  d->is_closing = 1;
  mg_io_check(d);
  fake_finish(d);
  d = broker_client(lsn, "p", false, NULL);
  CHECK(out_is("\x20\x02\x01\x00", 4));
  pub(a, "p/t", "hello", 1, false);
  CHECK(out_has("\x32\x0c\x00\x03p/t", 7));
  // while it is away, QoS 1 messages for it are queued, QoS 0 are not
  d->is_closing = 1;
  mg_io_check(d);
  fake_finish(d);
  pub(a, "p/t", "queued", 1, false);
  pub(a, "p/t", "lost", 0, false);
  d = broker_client(lsn, "p", false, NULL);
  CHECK(fake_out.len > 4 && memcmp(fake_out.buf, "\x20\x02\x01\x00", 4) == 0);
  // 4.4: first "hello", never acknowledged, again with DUP and the same id
  CHECK(out_has("\x3a\x0c\x00\x03p/t\x00\x01hello", 14));
  CHECK(out_has("\x32\x0d\x00\x03p/t\x00\x02queued", 15));
  CHECK(!out_has("lost", 4));
  // a second connection with the same id takes over: the first is closed
  {
    unsigned long did = d->id;
    struct mg_connection *d2 = broker_client(lsn, "p", false, NULL);
    CHECK(fake_out.len > 4 && memcmp(fake_out.buf, "\x20\x02\x01\x00", 4) == 0);
    CHECK(!fake_alive(&s_mgr, did));
    // the unacknowledged messages follow the session to the new connection
    CHECK(out_has("\x3a\x0c\x00\x03p/t\x00\x01hello", 14));
    CHECK(out_has("\x3a\x0d\x00\x03p/t\x00\x02queued", 15));
    CHECK(fake_recv(d2, "\x40\x02\x00\x01\x40\x02\x00\x02", 8));
    pub(a, "p/t", "to the new one", 1, false);
    CHECK(out_has("\x32\x15\x00\x03p/t", 7));  // QoS 1: to d2 (a has "#" at 0)
    // unsubscribe: nothing more
    {
      struct mg_connection tmp;
      struct mg_mqtt_opts o;
      memset(&tmp, 0, sizeof(tmp));
      memset(&o, 0, sizeof(o));
      tmp.mgr = &s_scratch;
      o.topic = mg_str("p/t");
      mg_mqtt_unsub(&tmp, &o);
      fake_reset();
      fake_recv(d2, tmp.send.buf, tmp.send.len);
      mg_iobuf_free(&tmp.send);
      s_scratch.dirty = NULL;
      CHECK(fake_out.len == 4 && fake_out.buf[0] == 0xb0);
    }
    pub(a, "p/t", "nobody", 1, false);
    CHECK(!out_has("\x32\x0d\x00\x03p/t", 7) && out_has("nobody", 6));
    // "to the new one" (id 3) is acknowledged too: a reconnect resends nothing
    CHECK(fake_recv(d2, "\x40\x02\x00\x03", 4));
    d2->is_closing = 1;
    mg_io_check(d2);
    fake_finish(d2);
    d2 = broker_client(lsn, "p", false, NULL);
    CHECK(out_is("\x20\x02\x01\x00", 4));
  }
  // MQTT 5: CONNACK with properties, an assigned client id for an empty one
  {
    struct mg_connection tmp, *e = fake_accept(lsn);
    struct mg_mqtt_opts o;
    struct mg_mqtt_message m;
    struct mg_mqtt_prop prop;
    size_t ofs = 0;
    bool assigned = false;
    memset(&tmp, 0, sizeof(tmp));
    memset(&o, 0, sizeof(o));
    tmp.mgr = &s_scratch;
    o.version = 5;
    o.clean = true;
    mg_mqtt_login(&tmp, &o);
    fake_reset();
    fake_recv(e, tmp.send.buf, tmp.send.len);
    mg_iobuf_free(&tmp.send);
    s_scratch.dirty = NULL;
    CHECK(mg_mqtt_parse(fake_out.buf, fake_out.len, 5, &m) == MQTT_OK);
    CHECK(m.cmd == MQTT_CMD_CONNACK && m.ack == 0);
    while ((ofs = mg_mqtt_next_prop(&m, &prop, ofs)) > 0) {
      if (prop.id == MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE) assigned = prop.iv == 0;
    }
    CHECK(assigned);
    // an empty client id gets an Assigned Client Identifier
    e = fake_accept(lsn);
    fake_reset();
    CHECK(fake_recv(e, "\x10\x0d\x00\x04MQTT\x05\x02\x00\x00\x00\x00\x00", 15));
    CHECK(mg_mqtt_parse(fake_out.buf, fake_out.len, 5, &m) == MQTT_OK);
    CHECK(m.cmd == MQTT_CMD_CONNACK && m.ack == 0);
    for (assigned = false, ofs = 0; (ofs = mg_mqtt_next_prop(&m, &prop, ofs)) > 0;) {
      if (prop.id == MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER) assigned = prop.val.len > 0;
    }
    CHECK(assigned);
    // 3.1.1 with an empty id and no clean session: identifier rejected
    e = fake_accept(lsn);
    fake_reset();
    fake_recv(e, "\x10\x0c\x00\x04MQTT\x04\x00\x00\x00\x00\x00", 14);
    CHECK(out_is("\x20\x02\x00\x02", 4));
  }
  // keepalive expiry (2 s * 1.5)
  aid = a->id;
  fake_now += 3500;
  mg_mgr_poll(&s_mgr, 0);
  CHECK(!fake_alive(&s_mgr, aid));
  // malformed: closed, the broker goes on
  b = broker_client(lsn, "m", true, NULL);
  bid = b->id;
  CHECK(!fake_recv(b, "\x30\xff\xff\xff\xff\xff", 6));
  CHECK(!fake_alive(&s_mgr, bid));
  b = broker_client(lsn, "m2", true, NULL);
  CHECK(out_is("\x20\x02\x00\x00", 4));
  // PUBLISH before CONNECT; a wildcard in a PUBLISH topic
  b = fake_accept(lsn);
  bid = b->id;
  CHECK(!fake_recv(b, "\x30\x05\x00\x01t\x00\x00", 7));
  b = broker_client(lsn, "w", true, NULL);
  bid = b->id;
  pub(b, "a/+", "x", 0, false);
  CHECK(!fake_alive(&s_mgr, bid));
  // unsupported protocol level: CONNACK 1
  b = fake_accept(lsn);
  fake_reset();
  fake_recv(b, "\x10\x0d\x00\x04MQTT\x09\x02\x00\x00\x00\x01x", 15);
  CHECK(out_is("\x20\x02\x00\x01", 4));
  mg_close_conn(lsn);  // frees the broker; its clients close
  mg_mgr_poll(&s_mgr, 0);
}

int main(void) {
  mg_log_set(MG_LL_NONE);
  mg_mgr_init(&s_mgr);
  test_remaining_length();
  test_encode();
  test_parse();
  test_match();
  test_client();
  test_broker();
  mg_mgr_free(&s_mgr);
  mg_iobuf_free(&fake_out);
  return check_summary();
}
