// Unit tests for vendor/mongoose/src/http_multipart.c (mg_http_next_multipart)
// and the client-side extras: mg_http_bauth, HEAD responses without a body.
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "check.h"

// Does buf[0..n) contain the NUL-terminated string want?
static bool contains(const void *buf, size_t n, const char *want) {
  size_t i, wn = strlen(want);
  for (i = 0; i + wn <= n; i++) {
    if (memcmp((const char *) buf + i, want, wn) == 0) return true;
  }
  return false;
}

static struct mg_str S(const char *s) {
  return mg_str_n(s, strlen(s));
}

// A body as a browser sends it (CRLF, a text field, a file, an empty file)
static const char *s_form =
    "------WebKitFormBoundaryX7\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "hello world\r\n"
    "------WebKitFormBoundaryX7\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"a b.txt\"\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "line1\r\nline2\r\n--not-a-boundary\r\n\r\n"
    "------WebKitFormBoundaryX7\r\n"
    "content-disposition: form-data; name=empty; filename=\"\"\r\n"
    "\r\n"
    "\r\n"
    "------WebKitFormBoundaryX7--\r\n";

static void test_browser_form(void) {
  struct mg_http_part p;
  struct mg_str body = S(s_form);
  size_t ofs = mg_http_next_multipart(body, 0, &p);
  CHECK(ofs > 0);
  CHECK(str_is(p.name, "title") && p.filename.len == 0 && str_is(p.body, "hello world"));
  CHECK(memcmp(body.buf + ofs, "------WebKitFormBoundaryX7\r\nContent-Disposition", 46) == 0);
  ofs = mg_http_next_multipart(body, ofs, &p);
  CHECK(ofs > 0);
  CHECK(str_is(p.name, "file") && str_is(p.filename, "a b.txt"));
  CHECK(str_is(p.body, "line1\r\nline2\r\n--not-a-boundary\r\n"));
  ofs = mg_http_next_multipart(body, ofs, &p);
  CHECK(ofs > 0);
  CHECK(str_is(p.name, "empty") && p.filename.len == 0 && p.filename.buf != NULL);
  CHECK(p.body.len == 0 && p.body.buf != NULL);
  CHECK(mg_http_next_multipart(body, ofs, &p) == 0);  // the close delimiter
  CHECK(p.name.len == 0 && p.body.buf == NULL);       // cleared
  // part may be NULL: only the walk
  CHECK(mg_http_next_multipart(body, 0, NULL) > 0);
}

static void test_variants(void) {
  struct mg_http_part p;
  size_t ofs;
  // Bare LF, a preamble, no Content-Disposition, binary bytes in the body
  const char lf[] = "preamble line\n--b\nX-A: 1\n\n\x00\x01\xff\n--b\n"
                    "Content-Disposition: form-data; name=\"n\"\n\nv\n--b--\n";
  struct mg_str body = mg_str_n(lf, sizeof(lf) - 1);
  ofs = mg_http_next_multipart(body, 0, &p);
  CHECK(ofs > 0 && p.name.len == 0 && p.body.len == 3 && p.body.buf[2] == '\xff');
  ofs = mg_http_next_multipart(body, ofs, &p);
  CHECK(ofs > 0 && str_is(p.name, "n") && str_is(p.body, "v"));
  CHECK(mg_http_next_multipart(body, ofs, &p) == 0);

  // An empty body right after the headers (no line break before the delimiter)
  body = S("--b\r\nContent-Disposition: form-data; name=x\r\n\r\n--b--\r\n");
  ofs = mg_http_next_multipart(body, 0, &p);
  CHECK(ofs > 0 && str_is(p.name, "x") && p.body.len == 0);
  CHECK(mg_http_next_multipart(body, ofs, &p) == 0);

  // Truncated or malformed: 0, never a part past the input
  CHECK(mg_http_next_multipart(S(""), 0, &p) == 0);
  CHECK(mg_http_next_multipart(mg_str_n(NULL, 0), 0, &p) == 0);
  CHECK(mg_http_next_multipart(S("--b\r\n"), 0, &p) == 0);
  CHECK(mg_http_next_multipart(S("--b\r\nA: 1\r\n\r\nno end"), 0, &p) == 0);
  CHECK(mg_http_next_multipart(S("--b\r\nA: 1\r\n\r\ndata\r\n--c\r\n"), 0, &p) == 0);
  CHECK(mg_http_next_multipart(S("--\r\n\r\n"), 0, &p) == 0);
  CHECK(mg_http_next_multipart(S("no delimiter at all\r\n"), 0, &p) == 0);
  CHECK(mg_http_next_multipart(S("--b--\r\n"), 0, &p) == 0);
  CHECK(mg_http_next_multipart(S(s_form), strlen(s_form), &p) == 0);
  CHECK(mg_http_next_multipart(S(s_form), strlen(s_form) + 10, &p) == 0);
  // A boundary that is a prefix of a line in the body is still a delimiter
  // only at the start of a line
  body = S("--ab\r\n\r\nx--ab\r\n--ab--\r\n");
  ofs = mg_http_next_multipart(body, 0, &p);
  CHECK(ofs > 0 && str_is(p.body, "x--ab"));
}

// What a client handler saw
static int s_msgs;
static int s_status;
static char s_body[64];

static void client_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    s_msgs++;
    s_status = mg_http_status(hm);
    snprintf(s_body, sizeof(s_body), "%.*s", (int) hm->body.len, hm->body.buf);
  }
  (void) c;
}

static void test_client_head_and_bauth(void) {
  struct mg_mgr mgr;
  struct mg_connection *c;
  const char *r1 = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  const char *r2 = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  mg_mgr_init(&mgr);
  c = mg_http_connect(&mgr, "http://127.0.0.1:1234", client_fn, NULL);
  CHECK(c != NULL);
  mg_io_connected(c, NULL);
  fake_reset();
  mg_printf(c, "GET / HTTP/1.1\r\n");
  mg_http_bauth(c, "Aladdin", "open sesame");
  mg_http_bauth(c, "", "");  // ":" alone
  CHECK(c->send.len > 0);
  CHECK(contains(c->send.buf, c->send.len,
                 "Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"));
  CHECK(contains(c->send.buf, c->send.len, "Authorization: Basic Og==\r\n"));
  // HEAD: the Content-Length does not announce a body
  c->is_head = 1;
  s_msgs = 0;
  CHECK(fake_recv(c, r1, strlen(r1)));
  CHECK(s_msgs == 1 && s_status == 200 && s_body[0] == '\0');
  CHECK(c->recv.len == 0);
  // The next answer (to a GET) has one
  c->is_head = 0;
  CHECK(fake_recv(c, r2, strlen(r2)));
  CHECK(s_msgs == 2 && strcmp(s_body, "hello") == 0);
  mg_mgr_free(&mgr);
}

int main(void) {
  test_browser_form();
  test_variants();
  test_client_head_and_bauth();
  return check_summary();
}
