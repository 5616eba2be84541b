// libFuzzer target: the HTTP client protocol (mg_http_connect) driven through
// tests/c/fake_driver.c. Input: byte 0 = flags, byte 1 = seed of the packet
// splitter, the rest = the bytes the server sends back, delivered in packets.
// mg_mgr_free() at the end closes the connection, which ends a body framed by
// the close. Every message the handler sees must lie inside c->recv; no crash,
// no leak.
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "fuzz_common.h"

#define F_CLOSE_AFTER_MSG 0x01  // the handler closes after the first response
#define F_HEAD 0x02             // the request is a HEAD
#define F_POLL 0x04             // mg_mgr_poll() between packets
#define F_SCALE(f) ((f) >> 6)   // packet size scale

static uint32_t s_rng;
static unsigned s_flags;
static int s_msgs;

static uint32_t rnd(void) {  // xorshift32
  s_rng ^= s_rng << 13;
  s_rng ^= s_rng >> 17;
  s_rng ^= s_rng << 5;
  return s_rng;
}

static void handler(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_CONNECT) {
    mg_printf(c, "%s / HTTP/1.1\r\nHost: x\r\n\r\n", (s_flags & F_HEAD) ? "HEAD" : "GET");
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    const void *b = c->recv.buf;
    size_t n = c->recv.len, i;
    int st = mg_http_status(hm);
    s_msgs++;
    FUZZ_CHECK(st >= 0 && st <= 999 && st != 100);
    FUZZ_CHECK(fuzz_inside(hm->method, b, n, false));
    FUZZ_CHECK(fuzz_inside(hm->uri, b, n, false) && hm->uri.len == 3);
    FUZZ_CHECK(fuzz_inside(hm->proto, b, n, false));
    FUZZ_CHECK(fuzz_inside(hm->head, b, n, false));
    FUZZ_CHECK(fuzz_inside(hm->body, b, n, false));
    FUZZ_CHECK(fuzz_inside(hm->message, b, n, false));
    FUZZ_CHECK(hm->message.buf == hm->head.buf);
    FUZZ_CHECK(hm->body.buf == hm->head.buf + hm->head.len);
    FUZZ_CHECK(hm->message.len == hm->head.len + hm->body.len);
    for (i = 0; i < MG_MAX_HTTP_HEADERS && hm->headers[i].name.len > 0; i++) {
      FUZZ_CHECK(fuzz_inside(hm->headers[i].name, b, n, false));
      FUZZ_CHECK(fuzz_inside(hm->headers[i].value, b, n, false));
    }
    if (s_flags & F_CLOSE_AFTER_MSG) c->is_draining = 1;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct mg_mgr mgr;
  struct mg_connection *c;
  size_t i = 2, maxchunk;
  bool alive = true;
  if (size < 2) return 0;
  s_flags = data[0];
  s_rng = 0x9e3779b9u ^ ((uint32_t) data[1] << 8 | data[0]);
  s_msgs = 0;
  fake_reset();
  maxchunk = F_SCALE(s_flags) == 0 ? 3 : F_SCALE(s_flags) == 1 ? 17 : F_SCALE(s_flags) == 2 ? 200 : size;
  mg_log_set(MG_LL_NONE);
  mg_mgr_init(&mgr);
  c = mg_http_connect(&mgr, "http://127.0.0.1:80", handler, NULL);
  FUZZ_CHECK(c != NULL);
  mg_io_connected(c, NULL);
  alive = fake_finish(c);
  FUZZ_CHECK(alive && fake_out.len > 0);
  while (alive && i < size) {
    size_t n = 1 + rnd() % maxchunk;
    if (n > size - i) n = size - i;
    alive = fake_recv(c, data + i, n);
    i += n;
    if (alive) FUZZ_CHECK(c->recv.len <= MG_MAX_RECV_SIZE);
    if (alive && (s_flags & F_POLL)) {
      fake_now += 10;
      mg_mgr_poll(&mgr, 0);
      alive = fake_alive(&mgr, c->id);
    }
  }
  mg_mgr_free(&mgr);  // MG_EV_CLOSE: a body running until the close ends here
  return 0;
}
