// Unit tests for vendor/mongoose/src/http_body.c: the incremental chunked
// decoder (mg_http_chunked_step) and request bodies streamed to the handler
// (mg_http_body_stream): Content-Length and chunked bodies across reads,
// bodies larger than MG_MAX_RECV_SIZE, pipelining after a streamed body,
// answers before the body ends, malformed chunked bodies, 100-continue,
// pausing, and a connection dying mid-body (through tests/c/fake_driver.c).
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "check.h"

// ---- the decoder ----------------------------------------------------------------------
// Decodes in[0..n) fed `step` bytes at a time (0: all at once) into out.
// Returns 1 at the end of the body (*used: input bytes taken), 0 if more input
// is needed, -1 if malformed.
static int unchunk(const char *in, size_t n, size_t step, char *out, size_t olen,
                   size_t *dlen, size_t *used) {
  struct mg_http_chunked ck;
  char buf[4096];
  size_t have = 0, fed = 0, ofs;
  memset(&ck, 0, sizeof(ck));
  *dlen = 0, *used = 0;
  for (;;) {
    size_t k = step == 0 ? n - fed : (n - fed < step ? n - fed : step);
    if (have + k > sizeof(buf)) return -2;
    memcpy(buf + have, in + fed, k);
    have += k, fed += k;
    ofs = 0;
    for (;;) {
      struct mg_str d;
      long r = mg_http_chunked_step(&ck, buf + ofs, have - ofs, &d);
      if (r < 0) return -1;
      if (d.len > 0) {
        if (*dlen + d.len > olen) return -2;
        memcpy(out + *dlen, d.buf, d.len);
        *dlen += d.len;
      }
      ofs += (size_t) r;
      *used += (size_t) r;
      if (ck.state == MG_HTTP_CHUNKED_DONE) return 1;
      if (r == 0 || ofs == have) break;
    }
    memmove(buf, buf + ofs, have - ofs);
    have -= ofs;
    if (fed == n) return 0;
  }
}

// Same result fed at once and byte by byte
static int unchunk_all(const char *in, char *out, size_t olen, size_t *dlen, size_t *used) {
  char out1[4096];
  size_t d1 = 0, u1 = 0;
  int a = unchunk(in, strlen(in), 0, out, olen, dlen, used);
  int b = unchunk(in, strlen(in), 1, out1, sizeof(out1), &d1, &u1);
  CHECK(a == b);
  if (a == 1) CHECK(d1 == *dlen && u1 == *used && memcmp(out, out1, d1) == 0);
  return a;
}

static void test_decoder(void) {
  char out[4096];
  size_t dlen, used;
  static char trailer[MG_HTTP_MAX_HEAD + 64];
  struct mg_http_chunked ck;
  struct mg_str d;
  CHECK(unchunk_all("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nNEXT", out, sizeof(out), &dlen,
                    &used) == 1);
  CHECK(dlen == 11 && memcmp(out, "hello world", 11) == 0 && used == 26);
  // extensions, upper-case hex, bare LF, whitespace before ';', trailers
  CHECK(unchunk_all("A;name=v\r\n0123456789\n1 ;x\r\n!\r\n0\r\nX-T: 1\r\nY: 2\r\n\r\n", out,
                    sizeof(out), &dlen, &used) == 1);
  CHECK(dlen == 11 && memcmp(out, "0123456789!", 11) == 0);
  CHECK(unchunk_all("0\r\n\r\n", out, sizeof(out), &dlen, &used) == 1 && dlen == 0);
  CHECK(unchunk_all("000\r\n\r\n", out, sizeof(out), &dlen, &used) == 1 && dlen == 0);
  // incomplete
  CHECK(unchunk_all("5\r\nhel", out, sizeof(out), &dlen, &used) == 0 && dlen == 3);
  CHECK(unchunk_all("5\r\nhello\r\n0\r\n", out, sizeof(out), &dlen, &used) == 0);
  CHECK(unchunk_all("5\r\nhello\r", out, sizeof(out), &dlen, &used) == 0);
  // malformed
  CHECK(unchunk_all("x\r\n", out, sizeof(out), &dlen, &used) == -1);
  CHECK(unchunk_all("\r\n", out, sizeof(out), &dlen, &used) == -1);
  CHECK(unchunk_all("5 x\r\nhello\r\n", out, sizeof(out), &dlen, &used) == -1);
  CHECK(unchunk_all("5\r\nhelloX\r\n", out, sizeof(out), &dlen, &used) == -1);
  CHECK(unchunk_all("5\rx\nhello", out, sizeof(out), &dlen, &used) == -1);
  CHECK(unchunk_all("5\x01\r\nhello", out, sizeof(out), &dlen, &used) == -1);
  CHECK(unchunk_all("1000000000000000\r\n", out, sizeof(out), &dlen, &used) == -1);
  CHECK(unchunk_all("-1\r\n", out, sizeof(out), &dlen, &used) == -1);
  CHECK(unchunk_all("0\r\nBad\rX\r\n\r\n", out, sizeof(out), &dlen, &used) == -1);
  {
    char line[400];
    memset(line, 'a', sizeof(line) - 1);  // an over-long chunk-size line
    line[0] = '1', line[1] = ';', line[sizeof(line) - 1] = '\0';
    CHECK(unchunk_all(line, out, sizeof(out), &dlen, &used) == -1);
  }
  // a trailer section over MG_HTTP_MAX_HEAD
  memset(&ck, 0, sizeof(ck));
  CHECK(mg_http_chunked_step(&ck, "0\r\n", 3, &d) == 3 && ck.state == MG_HTTP_CHUNKED_TRAILER);
  memset(trailer, 'a', sizeof(trailer));
  {
    long r = 0;
    size_t ofs = 0, i;
    for (i = 0; i + 100 < sizeof(trailer); i += 100) trailer[i + 99] = '\n';
    while (ofs < sizeof(trailer) && (r = mg_http_chunked_step(&ck, trailer + ofs,
                                                               sizeof(trailer) - ofs, &d)) > 0) {
      ofs += (size_t) r;
    }
    CHECK(r == -1 && ck.state == MG_HTTP_CHUNKED_ERROR && ofs <= MG_HTTP_MAX_HEAD);
    CHECK(mg_http_chunked_step(&ck, "0\r\n", 3, &d) == -1);  // stays failed
  }
  // a huge chunk: data is handed out as it comes
  memset(&ck, 0, sizeof(ck));
  CHECK(mg_http_chunked_step(&ck, "fffffffff\r\n", 11, &d) == 11);
  CHECK(ck.left == 0xfffffffffULL && ck.state == MG_HTTP_CHUNKED_DATA);
  CHECK(mg_http_chunked_step(&ck, "abc", 3, &d) == 3 && d.len == 3 && ck.left == 0xffffffffcULL);
}

// ---- streamed bodies ------------------------------------------------------------------
static struct mg_mgr s_mgr;
static struct mg_connection *s_lsn;
enum { ANSWER_AT_END, ANSWER_AT_HDRS, NO_STREAM, PAUSE };
static int s_mode;
static struct mg_iobuf s_body;  // what MG_EV_HTTP_BODY delivered
static int s_pieces, s_ends, s_bad, s_msgs, s_hdrs, s_streamed;
static size_t s_hdrs_body_len;
static char s_msg_body[64];

static void srv_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (ev == MG_EV_HTTP_HDRS) {
    s_hdrs++;
    s_hdrs_body_len = hm->body.len;
    if (s_mode != NO_STREAM && mg_match(hm->uri, mg_str("/s"), NULL)) {
      if (mg_http_body_stream(c, hm)) {
        s_streamed++;
        CHECK(!mg_http_body_stream(c, hm));  // once
        if (s_mode == ANSWER_AT_HDRS) mg_http_reply(c, 200, "", "early\n");
      }
    }
  } else if (ev == MG_EV_HTTP_BODY) {
    struct mg_str *p = (struct mg_str *) ev_data;
    if (p == NULL) {
      s_bad++;
      mg_http_reply(c, 400, "", "bad body\n");
    } else if (p->buf == NULL && p->len == 0) {
      s_ends++;
      if (s_mode != ANSWER_AT_HDRS) {
        mg_http_reply(c, 200, "", "got %lu\n", (unsigned long) s_body.len);
      }
    } else {
      CHECK(p->len > 0);
      s_pieces++;
      mg_iobuf_add(&s_body, s_body.len, p->buf, p->len);
      if (s_mode == PAUSE) c->is_full = 1;
    }
  } else if (ev == MG_EV_HTTP_MSG) {
    s_msgs++;
    snprintf(s_msg_body, sizeof(s_msg_body), "%.*s", (int) hm->body.len, hm->body.buf);
    mg_http_reply(c, 200, "", "msg %.*s\n", (int) hm->body.len, hm->body.buf);
  }
}

static bool out_has(const char *want) {
  size_t n = strlen(want), i;
  for (i = 0; i + n <= fake_out.len; i++) {
    if (memcmp(fake_out.buf + i, want, n) == 0) return true;
  }
  fprintf(stderr, "no [%s] in [%.*s]\n", want, (int) (fake_out.len > 300 ? 300 : fake_out.len),
          (char *) fake_out.buf);
  return false;
}

static void reset(int mode) {
  s_mode = mode;
  s_body.len = 0;
  s_pieces = s_ends = s_bad = s_msgs = s_hdrs = s_streamed = 0;
  fake_reset();
}

static bool send_str(struct mg_connection *c, const char *s) {
  return fake_recv(c, s, strlen(s));
}

static void test_content_length(void) {
  struct mg_connection *c = fake_accept(s_lsn);
  reset(ANSWER_AT_END);
  CHECK(send_str(c, "POST /s HTTP/1.1\r\nContent-Length: 10\r\n\r\n012"));
  CHECK(s_pieces == 1 && s_body.len == 3 && s_ends == 0 && fake_out.len == 0);
  CHECK(c->recv.len == 0 && c->pfn_data != NULL);
  CHECK(send_str(c, "3456"));
  CHECK(s_pieces == 2 && s_body.len == 7 && s_ends == 0);
  // the rest of the body and two pipelined requests in one read
  CHECK(send_str(c, "789GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"));
  CHECK(s_ends == 1 && s_body.len == 10 && memcmp(s_body.buf, "0123456789", 10) == 0);
  CHECK(s_msgs == 2 && strcmp(s_msg_body, "hi") == 0 && c->pfn_data == NULL);
  CHECK(out_has("got 10\n") && out_has("msg \n") && out_has("msg hi\n"));
  CHECK(c->recv.len == 0);
  // Expect: 100-continue is answered
  reset(ANSWER_AT_END);
  CHECK(send_str(c, "PUT /s HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"));
  CHECK(out_has("HTTP/1.1 100 Continue\r\n\r\n") && s_ends == 0);
  CHECK(send_str(c, "ok"));
  CHECK(s_ends == 1 && out_has("got 2\n"));
  mg_close_conn(c);
}

static void test_large(void) {
  static char chunk[65536];
  struct mg_connection *c = fake_accept(s_lsn);
  unsigned long long total = 3ULL * MG_MAX_RECV_SIZE, sent = 0;
  char head[128];
  size_t i;
  reset(ANSWER_AT_END);
  snprintf(head, sizeof(head), "PUT /s HTTP/1.1\r\nContent-Length: %llu\r\n\r\n", total);
  CHECK(send_str(c, head));
  for (i = 0; i < sizeof(chunk); i++) chunk[i] = (char) (i % 253);
  while (sent < total && c != NULL) {
    if (!fake_recv(c, chunk, sizeof(chunk))) c = NULL;
    sent += sizeof(chunk);
    if (c != NULL) CHECK(c->recv.len == 0);  // nothing is buffered
    if (s_body.len > 0) s_body.len = 0;      // the handler "consumes" it
  }
  CHECK(c != NULL && s_ends == 1 && out_has("HTTP/1.1 200 OK"));
  CHECK(s_pieces == (int) (total / sizeof(chunk)));
  if (c != NULL) mg_close_conn(c);
}

static void test_chunked(void) {
  struct mg_connection *c = fake_accept(s_lsn);
  const char *parts[] = {"POST /s HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                         "5", ";ext=1\r\nhel", "lo\r", "\n6\r\n wor", "ld\r\n0\r\nX-Trailer: y",
                         "\r\n\r\nGET /next HTTP/1.1\r\n\r\n"};
  size_t i;
  reset(ANSWER_AT_END);
  for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) CHECK(send_str(c, parts[i]));
  CHECK(s_ends == 1 && s_body.len == 11 && memcmp(s_body.buf, "hello world", 11) == 0);
  CHECK(s_msgs == 1 && out_has("got 11\n") && out_has("msg \n"));
  // not streamed: a complete chunked body still reaches MG_EV_HTTP_MSG decoded,
  // and MG_EV_HTTP_HDRS sees it empty
  reset(NO_STREAM);
  CHECK(send_str(c, "POST /s HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
                    "2;x\r\nde\r\n0\r\n\r\n"));
  CHECK(s_hdrs == 1 && s_hdrs_body_len == 0 && s_msgs == 1 && strcmp(s_msg_body, "abcde") == 0);
  CHECK(out_has("msg abcde\n"));
  // malformed: NULL, 400, closed
  reset(ANSWER_AT_END);
  CHECK(send_str(c, "POST /s HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"));
  CHECK(s_pieces == 1 && s_bad == 0);
  CHECK(!send_str(c, "zz\r\nGET / HTTP/1.1\r\n\r\n"));  // closed
  CHECK(s_bad == 1 && s_msgs == 0 && out_has("HTTP/1.1 400 ") && out_has("bad body"));
}

static void test_answer_first(void) {
  struct mg_connection *c = fake_accept(s_lsn);
  reset(ANSWER_AT_HDRS);
  CHECK(send_str(c, "POST /s HTTP/1.1\r\nContent-Length: 8\r\n\r\nabc"));
  CHECK(out_has("early\n") && c->pfn_data != NULL && !c->is_draining);
  CHECK(send_str(c, "de"));
  CHECK(c->recv.len == 0);  // body bytes are not parsed as a request
  CHECK(send_str(c, "fgGET /after HTTP/1.1\r\n\r\n"));
  CHECK(s_ends == 1 && s_body.len == 8 && s_msgs == 1 && out_has("msg \n"));
  // a partial chunk-size line left in c->recv is not parsed as a request either
  reset(ANSWER_AT_HDRS);
  CHECK(send_str(c, "POST /s HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n1"));
  CHECK(c->recv.len == 1 && s_msgs == 0);
  CHECK(send_str(c, "0\r\n0123456789abcdef\r\n0\r\n\r\nGET /z HTTP/1.1\r\n\r\n"));
  CHECK(s_ends == 1 && s_body.len == 20 && s_msgs == 1);
  mg_close_conn(c);
}

static void test_pause_and_close(void) {
  struct mg_connection *c = fake_accept(s_lsn);
  unsigned long id = c->id;
  reset(PAUSE);
  fake_paused = 0;
  CHECK(send_str(c, "POST /s HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc"));
  CHECK(fake_paused == 1 && c->is_full);
  c->is_full = 0;
  mg_io_check(c);
  CHECK(fake_finish(c) && fake_paused == 0);
  // the connection dies mid-body: the hook is freed (ASan checks)
  mg_close_conn(c);
  CHECK(!fake_alive(&s_mgr, id));
  // chunks already read wait while paused, one piece per resume, in order;
  // the request after the body too
  reset(PAUSE);
  c = fake_accept(s_lsn);
  CHECK(send_str(c, "POST /s HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "2\r\nab\r\n2\r\ncd\r\n2\r\nef\r\n0\r\n\r\nPOST /m HTTP/1.1\r\n"
                    "Content-Length: 1\r\n\r\nz"));
  CHECK(s_pieces == 1 && c->is_full && s_ends == 0 && s_msgs == 0);
  {
    int turns = 0;
    while (c->is_full && turns++ < 10) {
      int before = s_pieces;
      CHECK(fake_finish(c) && s_pieces == before);  // nothing while still paused
      c->is_full = 0;
      mg_io_check(c);
      CHECK(fake_finish(c));
    }
    CHECK(turns == 3);
  }
  CHECK(s_pieces == 3 && s_body.len == 6 && memcmp(s_body.buf, "abcdef", 6) == 0);
  CHECK(s_ends == 1 && s_msgs == 1 && out_has("got 6\n") && out_has("msg z\n"));
  mg_close_conn(c);
  // no body, or not at MG_EV_HTTP_HDRS: not streamed
  reset(ANSWER_AT_END);
  c = fake_accept(s_lsn);
  CHECK(send_str(c, "GET /s HTTP/1.1\r\n\r\n"));
  CHECK(s_msgs == 1 && s_ends == 0 && s_streamed == 0);
  {
    struct mg_http_message hm;
    const char *r = "POST /s HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
    CHECK(mg_http_parse(r, strlen(r), &hm) > 0);
    CHECK(!mg_http_body_stream(c, &hm));  // c is between requests
  }
  mg_close_conn(c);
}

// A client that stalls mid-body is timed out (body timeout), also while the
// application is answering; a paused connection (the application's turn) is not
static void test_body_timeout(void) {
  struct mg_mgr mgr;
  struct mg_limits l = {0, 0, 1000, 0};
  struct mg_connection *lsn, *c;
  unsigned long id;
  uint64_t end;
  mg_mgr_init(&mgr);
  lsn = mg_http_listen(&mgr, "http://127.0.0.1:8001", srv_fn, NULL);
  mg_limits_set(lsn, &l);
  reset(ANSWER_AT_END);
  c = fake_accept(lsn);
  id = c->id;
  CHECK(send_str(c, "POST /s HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc"));
  for (end = fake_now + 800; fake_now < end;) fake_now += 50, mg_mgr_poll(&mgr, 0);
  CHECK(fake_alive(&mgr, id) && send_str(c, "def"));  // activity restarts the clock
  for (end = fake_now + 800; fake_now < end;) fake_now += 50, mg_mgr_poll(&mgr, 0);
  CHECK(fake_alive(&mgr, id));
  for (end = fake_now + 600; fake_now < end;) fake_now += 50, mg_mgr_poll(&mgr, 0);
  CHECK(!fake_alive(&mgr, id) && s_ends == 0);
  // paused by the application: no timeout
  reset(PAUSE);
  c = fake_accept(lsn);
  id = c->id;
  CHECK(send_str(c, "POST /s HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc"));
  CHECK(c->is_full);
  for (end = fake_now + 5000; fake_now < end;) fake_now += 50, mg_mgr_poll(&mgr, 0);
  CHECK(fake_alive(&mgr, id));
  mg_mgr_free(&mgr);
}

int main(void) {
  mg_mgr_init(&s_mgr);
  s_lsn = mg_http_listen(&s_mgr, "http://127.0.0.1:8000", srv_fn, NULL);
  test_decoder();
  test_content_length();
  test_large();
  test_chunked();
  test_answer_first();
  test_pause_and_close();
  test_body_timeout();
  mg_mgr_free(&s_mgr);
  mg_iobuf_free(&s_body);
  mg_iobuf_free(&fake_out);
  return check_summary();
}
