// Unit tests for vendor/mongoose/src/http_sse.c: the head of a chunked
// response, SSE framing (line splitting, fields), HEAD, and that the empty
// chunk lets the next pipelined request in (driven by tests/c/fake_driver.c).
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "check.h"

static struct mg_mgr s_mgr;
static struct mg_connection *s_lsn;

static void srv_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (ev != MG_EV_HTTP_MSG) return;
  if (mg_strcmp(hm->uri, mg_str("/chunked")) == 0) {
    mg_http_chunked_start(c, 201, "X-A: 1\r\n", 8);
    mg_http_write_chunk(c, "abc", 3);
    mg_http_printf_chunk(c, "%d", 42);
    mg_http_write_chunk(c, "", 0);
  } else if (mg_strcmp(hm->uri, mg_str("/sse")) == 0) {
    mg_http_sse_start(c, NULL, 0);
    mg_http_sse(c, "tick", "a\nb\r\nc\rd", 8, "7", 1500);
    mg_http_sse(c, NULL, "", 0, NULL, -1);
    mg_http_sse(c, "x\ny", "end\n", 4, "", -1);
    mg_http_write_chunk(c, "", 0);
  } else if (mg_strcmp(hm->uri, mg_str("/open")) == 0) {
    mg_http_sse_start(c, "X-B: 2\r\n", 8);  // left open: the next request waits
  } else {
    mg_http_reply(c, 200, "", "ok");
  }
}

static const char *out(void) {
  static char buf[4096];
  size_t n = fake_out.len < sizeof(buf) - 1 ? fake_out.len : sizeof(buf) - 1;
  memcpy(buf, fake_out.buf, n);
  buf[n] = '\0';
  return buf;
}

static bool send_str(struct mg_connection *c, const char *s) {
  return fake_recv(c, s, strlen(s));
}

static void test_chunked(void) {
  struct mg_connection *c = fake_accept(s_lsn);
  fake_reset();
  CHECK(send_str(c, "GET /chunked HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n"));
  CHECK(strcmp(out(),
               "HTTP/1.1 201 Created\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
               "3\r\nabc\r\n2\r\n42\r\n0\r\n\r\n"
               "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") == 0);
  // HEAD: the head only
  fake_reset();
  CHECK(send_str(c, "HEAD /chunked HTTP/1.1\r\n\r\n"));
  CHECK(strcmp(out(), "HTTP/1.1 201 Created\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n") ==
        0);
  // HTTP/1.0 without keep-alive: Connection: close, then the connection drains
  fake_reset();
  CHECK(!send_str(c, "GET /chunked HTTP/1.0\r\n\r\n"));
  CHECK(strstr(out(), "Connection: close\r\nTransfer-Encoding: chunked\r\n") != NULL);
}

static void test_sse(void) {
  struct mg_connection *c = fake_accept(s_lsn);
  const char *body;
  fake_reset();
  CHECK(send_str(c, "GET /sse HTTP/1.1\r\n\r\n"));
  const char *head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n";
  CHECK(strncmp(out(), head, strlen(head)) == 0);
  body = strstr(out(), "\r\n\r\n") + 4;
  CHECK(strcmp(body,
               "3f\r\nevent: tick\nid: 7\nretry: 1500\ndata: a\ndata: b\ndata: c\ndata: d\n\n"
               "\r\n"
               "8\r\ndata: \n\n\r\n"
               "20\r\nevent: x\nid: \ndata: end\ndata: \n\n\r\n"
               "0\r\n\r\n") == 0);
  if (s_failed) fprintf(stderr, "[%s]\n", out());
}

static void test_open_stream(void) {
  struct mg_connection *c = fake_accept(s_lsn);
  unsigned long id = c->id;
  fake_reset();
  CHECK(send_str(c, "GET /open HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n"));
  CHECK(strstr(out(), "X-B: 2\r\n") != NULL);
  CHECK(strstr(out(), "ok") == NULL);  // pipelined request waits for the end
  fake_reset();
  mg_http_sse(c, NULL, "later", 5, NULL, -1);
  mg_http_write_chunk(c, "", 0);
  CHECK(fake_finish(c));
  CHECK(strcmp(out(), "d\r\ndata: later\n\n\r\n0\r\n\r\n"
                      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") == 0);
  CHECK(fake_alive(&s_mgr, id));
}

static void test_split_vars(void) {
  const char *q = "q=search+term&limit=10&&empty=&flag&enc=%41%2b%C3%BC&bad=%zz&a%3Db=c%26d";
  char dst[128];
  struct mg_str out[16];
  size_t n = mg_http_split_vars(q, strlen(q), dst, out, 8);
  CHECK(n == 6);
  CHECK(str_is(out[0], "q") && str_is(out[1], "search term"));
  CHECK(str_is(out[2], "limit") && str_is(out[3], "10"));
  CHECK(str_is(out[4], "empty") && str_is(out[5], ""));
  CHECK(str_is(out[6], "flag") && str_is(out[7], ""));
  CHECK(str_is(out[8], "enc") && str_is(out[9], "A+\xc3\xbc"));
  CHECK(str_is(out[10], "a=b") && str_is(out[11], "c&d"));  // "bad" did not decode
  CHECK(mg_http_split_vars(q, strlen(q), dst, out, 2) == 2);
  CHECK(mg_http_split_vars("", 0, dst, out, 8) == 0);
  CHECK(mg_http_split_vars("&&&", 3, dst, out, 8) == 0);
}

int main(void) {
  mg_log_set(MG_LL_NONE);
  mg_mgr_init(&s_mgr);
  s_lsn = mg_http_listen(&s_mgr, "http://0.0.0.0:8000", srv_fn, NULL);
  CHECK(s_lsn != NULL);
  test_chunked();
  test_sse();
  test_open_stream();
  test_split_vars();
  mg_mgr_free(&s_mgr);
  mg_iobuf_free(&fake_out);
  return check_summary();
}
