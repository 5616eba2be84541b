// libFuzzer target: the whole HTTP server protocol (src/http.c over src/net.c)
// driven through tests/c/fake_driver.c.
//
// Input layout: byte 0 = flags (see below), byte 1 = seed of the packet
// splitter, the rest = bytes "received" on one accepted connection, delivered
// in chunks whose sizes come from the seed. The handler answers requests in a
// way chosen by the flags: at once, later (at the next packet), never (the
// pipelined requests behind stay queued), with a chunked reply, from
// MG_EV_HTTP_HDRS, or a mix chosen per request. At the end the peer may close,
// and mg_mgr_free() must release everything (the leak checker is on).
// Built with small limits (see fuzz.mk) so that 431/413 paths are reachable
// with short inputs.
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "fuzz_common.h"

enum { M_NOW, M_NEVER, M_LATER, M_CHUNKED, M_HDRS, M_RAW, M_MIX, M_MIX2 };

// flags byte
#define F_MODE(f) ((f) & 7)
#define F_EOF 0x08       // peer half-closes after the last packet
#define F_SLOWWRITE 0x10 // the socket takes few bytes per flush
#define F_POLL 0x20      // mg_mgr_poll() between packets
#define F_SCALE(f) ((f) >> 6)  // packet size scale

static uint32_t s_rng;
static int s_mode, s_msgs, s_hdrs, s_replies, s_errors;
static unsigned long s_pending;  // id of a connection owing a reply (0: none)
static struct mg_connection *s_pending_c;

static uint32_t rnd(void) {  // xorshift32
  s_rng ^= s_rng << 13;
  s_rng ^= s_rng >> 17;
  s_rng ^= s_rng << 5;
  return s_rng;
}

// Every string of the message lies inside the receive buffer
static void check_hm(struct mg_connection *c, struct mg_http_message *hm) {
  const void *b = c->recv.buf;
  size_t n = c->recv.len;
  size_t i;
  FUZZ_CHECK(fuzz_inside(hm->method, b, n, false) && hm->method.len > 0);
  FUZZ_CHECK(fuzz_inside(hm->uri, b, n, false));
  FUZZ_CHECK(fuzz_inside(hm->query, b, n, true));
  FUZZ_CHECK(fuzz_inside(hm->proto, b, n, false));
  FUZZ_CHECK(fuzz_inside(hm->head, b, n, false));
  FUZZ_CHECK(fuzz_inside(hm->body, b, n, false));
  FUZZ_CHECK(fuzz_inside(hm->message, b, n, false));
  FUZZ_CHECK(hm->message.buf == hm->head.buf);
  FUZZ_CHECK(hm->body.buf == hm->head.buf + hm->head.len);
  FUZZ_CHECK(hm->message.len == hm->head.len + hm->body.len);
  FUZZ_CHECK(hm->head.len <= MG_HTTP_MAX_HEAD);
  for (i = 0; i < MG_MAX_HTTP_HEADERS && hm->headers[i].name.len > 0; i++) {
    FUZZ_CHECK(fuzz_inside(hm->headers[i].name, b, n, false));
    FUZZ_CHECK(fuzz_inside(hm->headers[i].value, b, n, false));
  }
}

// What a typical handler does with a request: credentials, cookies, query
// variables. Destinations are exact-size heap blocks, so ASan sees overflows.
static void use_helpers(struct mg_http_message *hm) {
  static const size_t sizes[] = {1, 5, 64};
  struct mg_str *cookie = mg_http_get_header(hm, "Cookie");
  size_t i;
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    char *u = (char *) malloc(sizes[i]), *p = (char *) malloc(sizes[i]);
    FUZZ_CHECK(u != NULL && p != NULL);
    mg_http_creds(hm, u, sizes[i], p, sizes[i]);
    FUZZ_CHECK(memchr(u, '\0', sizes[i]) != NULL);
    FUZZ_CHECK(memchr(p, '\0', sizes[i]) != NULL);
    mg_http_get_var(&hm->query, "q", p, sizes[i]);
    FUZZ_CHECK(memchr(p, '\0', sizes[i]) != NULL);
    free(u);
    free(p);
  }
  if (cookie != NULL) {
    struct mg_str v = mg_http_get_header_var(*cookie, mg_str("sid"));
    FUZZ_CHECK(fuzz_inside(v, cookie->buf, cookie->len, true));
  }
}

static void reply(struct mg_connection *c, int how) {
  s_replies++;
  if (how == M_CHUNKED) {
    mg_printf(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
    mg_http_printf_chunk(c, "%s-%d", "ab", s_msgs);
    mg_http_write_chunk(c, "xyz", 3);
    mg_http_printf_chunk(c, "");
  } else if (how == M_RAW) {
    if (s_msgs & 1) {
      mg_http_reply_raw(c, 201, "A: b\r\n", 6, "x\0y", 3);
    } else {
      mg_http_reply(c, 204, NULL, "ignored");
    }
  } else {
    mg_http_reply(c, 200, "Content-Type: text/plain\r\n", "%d", s_msgs);
  }
}

static void handler(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (ev == MG_EV_HTTP_HDRS) {
    s_hdrs++;
    check_hm(c, hm);
    if (s_mode == M_HDRS || ((s_mode == M_MIX || s_mode == M_MIX2) && rnd() % 8 == 0)) {
      s_replies++;
      mg_http_reply(c, 403, "", "no");
    }
  } else if (ev == MG_EV_HTTP_MSG) {
    int how = s_mode;
    s_msgs++;
    FUZZ_CHECK(s_msgs <= s_hdrs);
    FUZZ_CHECK(s_pending == 0);  // no new request while one is unanswered
    check_hm(c, hm);
    use_helpers(hm);
    if (how == M_MIX || how == M_MIX2) how = (int) (rnd() % 6);
    if (how == M_HDRS) how = M_NOW;
    if (how == M_NEVER || how == M_LATER) {
      s_pending = c->id;  // M_NEVER: replied only if the mode is M_LATER
      s_pending_c = c;
    } else {
      reply(c, how);
    }
  } else if (ev == MG_EV_ERROR) {
    s_errors++;  // e.g. max_recv_buf_size: closed at once, output dropped
  } else if (ev == MG_EV_CLOSE) {
    if (c->id == s_pending) s_pending = 0, s_pending_c = NULL;
  }
}

// Answers a request left pending, if the mode wants that now
static bool answer_pending(struct mg_connection *c, bool final) {
  if (s_pending == 0 || s_pending != c->id) return true;
  if (s_mode == M_NEVER && !final) return true;
  if ((s_mode == M_MIX || s_mode == M_MIX2) && !final && rnd() % 4 == 0) return true;
  s_pending = 0, s_pending_c = NULL;
  reply(c, s_mode == M_CHUNKED ? M_CHUNKED : M_NOW);
  return fake_finish(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct mg_mgr mgr;
  struct mg_connection *lsn, *c;
  unsigned flags;
  size_t i = 2, maxchunk;
  bool alive = true;
  if (size < 2) return 0;
  flags = data[0];
  s_rng = 0x9e3779b9u ^ ((uint32_t) data[1] << 8 | data[0]);
  s_mode = (int) F_MODE(flags);
  s_msgs = s_hdrs = s_replies = s_errors = 0;
  s_pending = 0, s_pending_c = NULL;
  fake_reset();
  fake_write_limit = (flags & F_SLOWWRITE) ? 7 : 0;
  maxchunk = F_SCALE(flags) == 0 ? 3 : F_SCALE(flags) == 1 ? 17 : F_SCALE(flags) == 2 ? 200 : size;
  mg_log_set(MG_LL_NONE);
  mg_mgr_init(&mgr);
  lsn = mg_http_listen(&mgr, "http://0.0.0.0:80", handler, NULL);
  FUZZ_CHECK(lsn != NULL);
  c = fake_accept(lsn);
  FUZZ_CHECK(c != NULL);
  while (alive && i < size) {
    size_t n = 1 + rnd() % maxchunk;
    if (n > size - i) n = size - i;
    alive = fake_recv(c, data + i, n);
    i += n;
    if (alive) {
      FUZZ_CHECK(c->recv.len <= MG_MAX_RECV_SIZE);
      FUZZ_CHECK(c->send.len == 0);  // the fake socket always drains
      alive = answer_pending(c, false);
    }
    if (alive && (flags & F_POLL)) {
      fake_now += 10;
      mg_mgr_poll(&mgr, 0);
      alive = fake_alive(&mgr, c->id);
    }
  }
  if (alive && (flags & F_EOF)) {
    mg_io_eof(c);
    alive = fake_finish(c);
    if (alive && s_mode != M_NEVER) alive = answer_pending(c, true);
    // Answered and the peer is gone: the connection must have been closed
    if (s_mode != M_NEVER && s_mode != M_MIX && s_mode != M_MIX2) {
      FUZZ_CHECK(!alive || s_pending != 0 || c->is_resp);
    }
  }
  // One response per reply made, plus at most one error response (400, 413,
  // 431, 501: the connection closes after it), plus interim 100 Continue.
  // After MG_EV_ERROR the connection closes at once and the unsent output is
  // dropped (a pipelining client that overflows MG_MAX_RECV_SIZE while a
  // request is unanswered), so fewer responses may go out then.
  {
    size_t final = 0, k;
    for (k = 0; k + 13 <= fake_out.len; k++) {
      if (memcmp(fake_out.buf + k, "HTTP/1.1 ", 9) == 0) {
        final += memcmp(fake_out.buf + k + 9, "100 ", 4) != 0;
      }
    }
    FUZZ_CHECK(fake_out.len == 0 || (fake_out.len >= 9 && memcmp(fake_out.buf, "HTTP/1.1 ", 9) == 0));
    if ((final < (size_t) s_replies && s_errors == 0) || final > (size_t) s_replies + 1) {
      fprintf(stderr, "%d replies made, %zu responses sent\n", s_replies, final);
      FUZZ_CHECK((final >= (size_t) s_replies || s_errors > 0) && final <= (size_t) s_replies + 1);
    }
  }
  mg_mgr_free(&mgr);
  FUZZ_CHECK(s_pending == 0);
  fake_write_limit = 0;
  return 0;
}
