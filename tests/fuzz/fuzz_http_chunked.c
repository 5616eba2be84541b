// libFuzzer target: the incremental chunked decoder (mg_http_chunked_step)
// and streamed request bodies (mg_http_body_stream), checked against each
// other and against the server's buffered chunked decoding.
//
// Input layout: byte 0 = seed of the packet splitter, the rest = a chunked
// body. Checks: the decoder fed everything at once and fed in random pieces
// agrees (outcome, decoded bytes, input taken); pieces never point outside
// their input; a request with that body through the server streamed
// (MG_EV_HTTP_BODY, random packets) yields the same bytes and outcome; the
// same request buffered (MG_EV_HTTP_MSG) yields the same body when the
// decoder says complete, and a 400 only when the decoder says malformed.
// mg_mgr_free() must release everything (the leak checker is on).
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "fuzz_common.h"

#define HEAD "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"

static uint32_t s_rng;
static uint32_t rnd(void) {  // xorshift32
  s_rng ^= s_rng << 13;
  s_rng ^= s_rng >> 17;
  s_rng ^= s_rng << 5;
  return s_rng;
}

struct result {
  int outcome;  // 1 complete, 0 incomplete, -1 malformed
  size_t used;  // input taken (when complete)
  struct mg_iobuf out;
};

// Feeds in[0..n) in pieces of at most `step` bytes (0: all at once)
static void decode(const char *in, size_t n, size_t step, struct result *res) {
  struct mg_http_chunked ck;
  struct mg_iobuf buf = {NULL, 0, 0, 64};
  size_t fed = 0;
  memset(&ck, 0, sizeof(ck));
  res->outcome = 0, res->used = 0;
  for (;;) {
    size_t k = step == 0 ? n - fed : (n - fed < step ? n - fed : 1 + rnd() % step);
    size_t ofs = 0;
    if (k > n - fed) k = n - fed;
    if (k > 0) FUZZ_CHECK(mg_iobuf_add(&buf, buf.len, in + fed, k) != 0);
    fed += k;
    for (;;) {
      struct mg_str d;
      const char *at = buf.buf == NULL ? "" : (char *) buf.buf + ofs;
      long r = mg_http_chunked_step(&ck, at, buf.len - ofs, &d);
      if (r < 0) {
        FUZZ_CHECK(ck.state == MG_HTTP_CHUNKED_ERROR);
        res->outcome = -1;
        mg_iobuf_free(&buf);
        return;
      }
      FUZZ_CHECK((size_t) r <= buf.len - ofs);
      if (d.len > 0) {
        FUZZ_CHECK(d.buf == at && d.len == (size_t) r);
        FUZZ_CHECK(mg_iobuf_add(&res->out, res->out.len, d.buf, d.len) != 0);
      }
      ofs += (size_t) r, res->used += (size_t) r;
      if (ck.state == MG_HTTP_CHUNKED_DONE) {
        res->outcome = 1;
        mg_iobuf_free(&buf);
        return;
      }
      if (r == 0 || ofs == buf.len) break;
    }
    mg_iobuf_del(&buf, 0, ofs);
    if (fed == n) break;
  }
  mg_iobuf_free(&buf);
}

static int s_stream;  // 1: stream the first request's body from MG_EV_HTTP_HDRS
static int s_ends, s_bad, s_msgs, s_done;  // s_done: the first request has ended
static struct mg_iobuf s_got;

static void srv_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_HDRS && s_stream && !s_done) {
    FUZZ_CHECK(mg_http_body_stream(c, (struct mg_http_message *) ev_data));
  } else if (ev == MG_EV_HTTP_BODY) {
    struct mg_str *p = (struct mg_str *) ev_data;
    FUZZ_CHECK(!s_done);
    if (p == NULL) {
      s_bad++, s_done = 1;
      mg_http_reply(c, 400, "", "bad\n");
    } else if (p->len == 0) {
      FUZZ_CHECK(p->buf == NULL);
      s_ends++, s_done = 1;
      mg_http_reply(c, 200, "", "ok\n");
    } else {
      FUZZ_CHECK(fuzz_inside(*p, c->recv.buf, c->recv.len, false));
      FUZZ_CHECK(mg_iobuf_add(&s_got, s_got.len, p->buf, p->len) != 0);
    }
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    if (!s_done) {
      FUZZ_CHECK(!s_stream);
      s_msgs++, s_done = 1;
      FUZZ_CHECK(hm->body.len == 0 ||
                 mg_iobuf_add(&s_got, s_got.len, hm->body.buf, hm->body.len) != 0);
    }
    mg_http_reply(c, 200, "", "ok\n");
  }
}

static bool out_starts(const char *s) {
  return fake_out.len >= strlen(s) && memcmp(fake_out.buf, s, strlen(s)) == 0;
}

// The request through a server; packets of random sizes when `split`
static void serve(const char *body, size_t n, int stream, bool split) {
  struct mg_mgr mgr;
  struct mg_connection *lsn, *c;
  size_t ofs = 0;
  mg_mgr_init(&mgr);
  lsn = mg_http_listen(&mgr, "http://127.0.0.1:1", srv_fn, NULL);
  FUZZ_CHECK(lsn != NULL);
  s_stream = stream, s_ends = s_bad = s_msgs = s_done = 0, s_got.len = 0;
  c = fake_accept(lsn);
  fake_reset();
  if (fake_recv(c, HEAD, strlen(HEAD))) {
    while (ofs < n) {
      size_t k = split ? 1 + rnd() % 300 : n;
      if (k > n - ofs) k = n - ofs;
      if (!fake_recv(c, body + ofs, k)) break;
      ofs += k;
    }
  }
  mg_mgr_free(&mgr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct result whole, parts;
  char *body;
  size_t n;
  if (size < 1) return 0;
  s_rng = 0x9e3779b9U ^ data[0];
  if (s_rng == 0) s_rng = 1;
  n = size - 1;
  body = fuzz_dup(data + 1, n);
  memset(&whole, 0, sizeof(whole));
  memset(&parts, 0, sizeof(parts));
  decode(body, n, 0, &whole);
  decode(body, n, 1 + (data[0] % 16), &parts);
  FUZZ_CHECK(whole.outcome == parts.outcome);
  if (whole.outcome >= 0) {
    FUZZ_CHECK(whole.out.len == parts.out.len);
    FUZZ_CHECK(whole.out.len == 0 || memcmp(whole.out.buf, parts.out.buf, whole.out.len) == 0);
    FUZZ_CHECK(whole.used == parts.used && whole.used <= n);
    FUZZ_CHECK(whole.out.len <= n);
  }
  // Streamed through the server, in random packets
  serve(body, n, 1, true);
  FUZZ_CHECK(s_ends == (whole.outcome == 1) && s_bad == (whole.outcome == -1));
  if (whole.outcome == 1) {
    FUZZ_CHECK(s_got.len == whole.out.len &&
               (s_got.len == 0 || memcmp(s_got.buf, whole.out.buf, s_got.len) == 0));
  }
  if (whole.outcome == -1) FUZZ_CHECK(out_starts("HTTP/1.1 400 "));
  // Buffered by the server
  serve(body, n, 0, false);
  if (s_msgs > 0) {
    FUZZ_CHECK(whole.outcome == 1 && s_got.len == whole.out.len &&
               (s_got.len == 0 || memcmp(s_got.buf, whole.out.buf, s_got.len) == 0));
  } else if (out_starts("HTTP/1.1 400 ")) {
    FUZZ_CHECK(whole.outcome == -1);
  }
  if (whole.outcome == 1 && whole.out.len < 4096) FUZZ_CHECK(s_msgs == 1);
  mg_iobuf_free(&whole.out);
  mg_iobuf_free(&parts.out);
  mg_iobuf_free(&s_got);
  free(body);
  return 0;
}
