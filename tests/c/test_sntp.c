// Unit tests over the fake driver: the SNTP client (request format, time
// from a reply with and without round-trip correction, rejection of bad
// replies), UDP datagram semantics of net.c, and mg_wakeup.
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "check.h"

#define NTP_UNIX 2208988800ULL

static void put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t) (v >> 24), p[1] = (uint8_t) (v >> 16);
  p[2] = (uint8_t) (v >> 8), p[3] = (uint8_t) v;
}
static uint32_t get32(const uint8_t *p) {
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}
// Unix ms -> NTP timestamp (exact for whole milliseconds after rounding up)
static void ntp_put(uint8_t *p, uint64_t ms) {
  put32(p, (uint32_t) (ms / 1000 + NTP_UNIX));
  put32(p + 4, (uint32_t) ((((ms % 1000) << 32) + 999) / 1000));
}

static int s_times, s_errors;
static uint64_t s_ms;
static char s_err[128];
static void sfn(struct mg_connection *c, int ev, void *ev_data) {
  (void) c;
  if (ev == MG_EV_SNTP_TIME) s_times++, s_ms = *(uint64_t *) ev_data;
  if (ev == MG_EV_ERROR) {
    s_errors++;
    mg_snprintf(s_err, sizeof(s_err), "%s", (char *) ev_data);
  }
}

// A server reply to the request in fake_out
static void reply(uint8_t *r, uint8_t b0, uint8_t stratum, uint64_t t2, uint64_t t3) {
  memset(r, 0, 48);
  r[0] = b0;
  r[1] = stratum;
  memcpy(r + 24, fake_out.buf + 40, 8);  // originate = our transmit time
  ntp_put(r + 32, t2);
  ntp_put(r + 40, t3);
}

static struct mg_connection *sntp_conn(struct mg_mgr *mgr) {
  struct mg_connection *c = mg_sntp_connect(mgr, "udp://127.0.0.1:123", sfn, NULL);
  fake_reset();
  mg_sntp_request(c);  // not connected yet: sent at MG_EV_CONNECT
  CHECK(fake_out.len == 0);
  mg_io_connected(c, NULL);
  mg_io_finish(mgr);
  CHECK(fake_out.len == 48);
  return c;
}

static void test_sntp(void) {
  struct mg_mgr mgr;
  struct mg_connection *c;
  uint8_t r[48];
  const uint64_t server = 1800000123456ULL;  // 2027-01-15
  uint64_t t1;
  mg_mgr_init(&mgr);
  c = sntp_conn(&mgr);
  CHECK(c->is_udp && c->is_client);
  CHECK(fake_out.buf[0] == 0x23);  // LI 0, version 4, mode 3 (client)
  t1 = (uint64_t) (get32(fake_out.buf + 40) - NTP_UNIX) * 1000;
  CHECK(t1 / 1000 == mg_now() / 1000);
  // The server's clock, corrected by half the round trip (100 ms)
  fake_now += 100;
  reply(r, 0x24, 2, server, server);
  s_times = 0;
  CHECK(fake_recv(c, r, sizeof(r)));
  CHECK(s_times == 1);
  CHECK(s_ms >= server + 49 && s_ms <= server + 51);
  CHECK(c->recv.len == 0);
  // A duplicate of the same reply is ignored (no request outstanding)
  CHECK(fake_recv(c, r, sizeof(r)) && s_times == 1 && s_errors == 0);
  // A second request; a reply with another originate time is ignored
  fake_reset();
  mg_sntp_request(c);
  CHECK(fake_out.len == 48);
  reply(r, 0x1c, 3, server, server + 10);  // version 3, server
  r[31] ^= 1;
  CHECK(fake_recv(c, r, sizeof(r)) && s_times == 1);
  r[31] ^= 1;
  CHECK(fake_recv(c, r, sizeof(r)) && s_times == 2);
  // T2 = server, T3 = server + 10, T1 = T4: offset = (2 server + 10 - 2 T1) / 2
  CHECK(s_ms >= server + 4 && s_ms <= server + 6);
  mg_mgr_free(&mgr);
}

// Each bad reply fires MG_EV_ERROR and closes the connection
static void bad_reply(uint8_t b0, uint8_t stratum, size_t len, const char *want) {
  struct mg_mgr mgr;
  struct mg_connection *c;
  uint8_t r[48];
  mg_mgr_init(&mgr);
  c = sntp_conn(&mgr);
  reply(r, b0, stratum, 1800000000000ULL, 1800000000000ULL);
  if (stratum == 0) memcpy(r + 12, "RATE", 4);
  s_errors = s_times = 0;
  s_err[0] = '\0';
  CHECK(!fake_recv(c, r, len));
  CHECK(s_errors == 1 && s_times == 0);
  if (strstr(s_err, want) == NULL) printf("got error '%s', want '%s'\n", s_err, want);
  CHECK(strstr(s_err, want) != NULL);
  mg_mgr_free(&mgr);
}

static void test_sntp_bad(void) {
  bad_reply(0x24, 0, 48, "kiss");          // stratum 0: kiss-o'-death
  bad_reply(0xe4, 2, 48, "synchronised");  // LI 3: alarm
  bad_reply(0x23, 2, 48, "not a server");  // mode 3 (a client request)
  bad_reply(0x26, 2, 48, "not a server");  // mode 6 (control)
  bad_reply(0x04, 2, 48, "version");       // version 0
  bad_reply(0x24, 16, 48, "stratum");      // 16: unsynchronised
  bad_reply(0x24, 2, 47, "short");
  {
    uint64_t ms = 0;
    const char *err = NULL;
    uint8_t r[48];
    memset(r, 0, sizeof(r));
    r[0] = 0x24, r[1] = 1;
    CHECK(mg_sntp_parse(r, 48, 0, 0, &ms, &err) == -1 && strstr(err, "zero") != NULL);
    // Era: seconds with the top bit clear are after 2036
    put32(r + 40, 0x00000010);
    CHECK(mg_sntp_parse(r, 48, 0, 0, &ms, &err) == 0);
    CHECK(ms == (0x100000010ULL - NTP_UNIX) * 1000ULL);
    ntp_put(r + 40, 1700000000000ULL);
    CHECK(mg_sntp_parse(r, 48, 0, 0, &ms, &err) == 0 && ms == 1700000000000ULL);
  }
}

// ---- UDP --------------------------------------------------------------------
static int s_reads;
static size_t s_seen;
static void ufn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_READ) {
    s_reads++;
    s_seen = c->recv.len;
    CHECK(*(long *) ev_data == (long) c->recv.len);
    mg_send(c, c->recv.buf, c->recv.len);  // echo: one datagram back
  }
}

static void test_udp(void) {
  struct mg_mgr mgr;
  struct mg_connection *l;
  static uint8_t big[MG_UDP_MAX + 1];
  mg_mgr_init(&mgr);
  l = mg_listen(&mgr, "udp://127.0.0.1:5000", ufn, NULL);
  CHECK(l != NULL && l->is_udp && l->is_listening);
  fake_reset();
  CHECK(fake_recv(l, "one", 3));
  CHECK(fake_recv(l, "second", 6));
  // Each datagram is one MG_EV_READ with only its bytes; replies go out at
  // once (mg_send on a UDP listener flushes), one per datagram
  CHECK(s_reads == 2 && s_seen == 6 && l->recv.len == 0);
  CHECK(fake_out.len == 9 && memcmp(fake_out.buf, "onesecond", 9) == 0);
  CHECK(l->send.len == 0);
  CHECK(!mg_send(l, big, sizeof(big)));  // larger than a datagram
  CHECK(mg_send(l, big, MG_UDP_MAX) && fake_out.len == 9 + MG_UDP_MAX);
  mg_mgr_free(&mgr);
}

// ---- wakeup -----------------------------------------------------------------
static char s_wake[64];
static void wfn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_WAKEUP) {
    struct mg_str *s = (struct mg_str *) ev_data;
    mg_snprintf(s_wake, sizeof(s_wake), "%lu:%.*s", c->id, (int) s->len, s->buf);
  }
}

static void test_wakeup(void) {
  struct mg_mgr mgr;
  struct mg_connection *l, *c;
  char want[64];
  mg_mgr_init(&mgr);
  CHECK(mg_wakeup_init(&mgr));
  l = mg_listen(&mgr, "tcp://127.0.0.1:5001", wfn, NULL);
  c = fake_accept(l);
  CHECK(mg_wakeup(&mgr, c->id, "result", 6));
  mg_snprintf(want, sizeof(want), "%lu:result", c->id);
  CHECK(strcmp(s_wake, want) == 0);
  CHECK(mg_wakeup(&mgr, c->id, NULL, 0));
  mg_snprintf(want, sizeof(want), "%lu:", c->id);
  CHECK(strcmp(s_wake, want) == 0);
  CHECK(!mg_wakeup(&mgr, c->id + 100, "x", 1));  // no such connection
  c->is_closing = 1;
  CHECK(!mg_wakeup(&mgr, c->id, "x", 1));  // closing: dropped
  mg_mgr_free(&mgr);
}

int main(void) {
  test_sntp();
  test_sntp_bad();
  test_udp();
  test_wakeup();
  return check_summary();
}
