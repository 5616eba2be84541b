// Unit tests for vendor/mongoose/src/http.c: the parser, the helpers and the
// server/client protocol handlers (driven through tests/c/fake_driver.c).
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "check.h"




static int parse(const char *s, struct mg_http_message *hm) {
  return mg_http_parse(s, strlen(s), hm);
}

// ---- Parser ---------------------------------------------------------------------
static void test_parse_request(void) {
  struct mg_http_message hm;
  const char *r = "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: ex.com\r\n"
                  "X-Pad:   spaced value \t\r\nEmpty:\r\n\r\nextra";
  CHECK(parse(r, &hm) == (int) (strlen(r) - 5));
  CHECK(str_is(hm.method, "GET"));
  CHECK(str_is(hm.uri, "/a/b"));
  CHECK(str_is(hm.query, "x=1&y=2"));
  CHECK(str_is(hm.proto, "HTTP/1.1"));
  CHECK(str_is(hm.headers[0].name, "Host"));
  CHECK(str_is(hm.headers[1].value, "spaced value"));
  CHECK(str_is(hm.headers[2].name, "Empty") && hm.headers[2].value.len == 0);
  CHECK(hm.headers[3].name.len == 0 && hm.headers[3].name.buf == NULL);
  CHECK(hm.headers[MG_MAX_HTTP_HEADERS - 1].name.len == 0);
  CHECK(hm.body.len == 0);  // no Content-Length: no body for a request
  CHECK(hm.head.len == strlen(r) - 5 && hm.message.len == hm.head.len);
  CHECK(str_is(*mg_http_get_header(&hm, "host"), "ex.com"));
  CHECK(str_is(*mg_http_get_header(&hm, "X-PAD"), "spaced value"));
  CHECK(mg_http_get_header(&hm, "Hos") == NULL);
  CHECK(mg_http_get_header(&hm, "Missing") == NULL);

  // No query, Content-Length body (complete, partial, with more after it)
  CHECK(parse("POST /p HTTP/1.0\r\nContent-Length: 5\r\n\r\nhelloGET", &hm) == 39);
  CHECK(hm.query.len == 0 && str_is(hm.uri, "/p") && str_is(hm.body, "hello"));
  CHECK(hm.message.len == 44);
  CHECK(parse("POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhe", &hm) == 39);
  CHECK(str_is(hm.body, "he"));
  CHECK(parse("POST /p HTTP/1.1\r\ncontent-length: 2\r\nContent-Length: 2\r\n\r\nhey", &hm) > 0);
  CHECK(str_is(hm.body, "he"));
  CHECK(parse("GET /? HTTP/1.1\r\n\r\n", &hm) > 0 && str_is(hm.uri, "/") &&
        hm.query.len == 0 && hm.query.buf != NULL);

  // Bare LF line endings, leading empty lines, other target forms
  CHECK(parse("GET / HTTP/1.1\nA: b\n\n", &hm) == 21 && str_is(hm.headers[0].value, "b"));
  CHECK(parse("\r\n\r\nGET / HTTP/1.1\r\n\r\n", &hm) == 22 && str_is(hm.method, "GET"));
  CHECK(hm.head.buf[0] == 'G' && hm.head.len == 18);
  CHECK(parse("GET http://h.com/x?q HTTP/1.1\r\n\r\n", &hm) > 0 &&
        str_is(hm.uri, "http://h.com/x") && str_is(hm.query, "q"));
  CHECK(parse("OPTIONS * HTTP/1.1\r\n\r\n", &hm) > 0 && str_is(hm.uri, "*"));
  CHECK(parse("CONNECT h.com:443 HTTP/1.1\r\n\r\n", &hm) > 0);
  CHECK(parse("M-SEARCH /x HTTP/1.1\r\nK: v\xc3\xa9\r\n\r\n", &hm) > 0);
  CHECK(parse("GET /\xc3\xa9 HTTP/1.1\r\n\r\n", &hm) > 0);  // raw UTF-8 target
}

static void test_parse_incomplete(void) {
  struct mg_http_message hm;
  CHECK(parse("", &hm) == 0);
  CHECK(parse("GET / HTTP/1.1\r\n", &hm) == 0);
  CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\n\r", &hm) == 0);
  CHECK(parse("GET / HTTP/1.1\r\nHost: x\r", &hm) == 0);
  CHECK(parse("\r\n\r\n", &hm) == 0);
  CHECK(mg_http_get_request_len((const unsigned char *) "GET / HTTP/1.1\r\n\r\nxx", 20) == 18);
  CHECK(mg_http_get_request_len((const unsigned char *) "GET / HTTP/1.1\r\n", 16) == 0);
  CHECK(mg_http_get_request_len((const unsigned char *) "GET /\0 HTTP/1.1\r\n\r\n", 19) == -1);
  CHECK(mg_http_get_request_len((const unsigned char *) "GET / HTTP/1.1\rX", 16) == -1);
  CHECK(mg_http_get_request_len((const unsigned char *) "A: \x7f\n\n", 6) == -1);
  CHECK(mg_http_get_request_len((const unsigned char *) "A: \tb\n\n", 7) == 7);
}

static void test_parse_malformed(void) {
  static const char *bad[] = {
      "GET /\x01 HTTP/1.1\r\n\r\n",               // control character
      "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",        // bare CR
      "GET / HTTP/1.1\r\nNoColon\r\n\r\n",        // header without ':'
      "GET / HTTP/1.1\r\n: v\r\n\r\n",            // empty header name
      "GET / HTTP/1.1\r\nName : v\r\n\r\n",       // space before ':'
      "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n",     // obs-fold
      "GET / HTTP/1.1\r\n\tA: b\r\n\r\n",         // obs-fold (tab)
      "G(T / HTTP/1.1\r\n\r\n",                   // method not a token
      "GET x HTTP/1.1\r\n\r\n",                   // bad target
      "GET * HTTP/1.1\r\n\r\n",                   // '*' only for OPTIONS
      "GET 1http://x HTTP/1.1\r\n\r\n",           // bad scheme
      "GET / HTTP/2.0\r\n\r\n",                   // unsupported version
      "GET / http/1.1\r\n\r\n",                   // versions are case-sensitive
      "GET / HTTP/1.1 \r\n\r\n",                  // trailing space
      "GET  / HTTP/1.1\r\n\r\n",                  // double space
      "GET /a b HTTP/1.1\r\n\r\n",                // space in target
      "GET\t/ HTTP/1.1\r\n\r\n",                  // tab in request line
      "GET /\tHTTP/1.1\r\n\r\n",                  // tab in request line
      " GET / HTTP/1.1\r\n\r\n",                  // leading space
      "GET /\r\n\r\n",                            // HTTP/0.9
      "GET\r\n\r\n",                              // nothing
      "GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: \r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 1,1\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
      "HTTP/1.1 20 OK\r\n\r\n",                   // status not 3 digits
      "HTTP/1.1 2x0 OK\r\n\r\n",
  };
  struct mg_http_message hm;
  size_t i;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int n = parse(bad[i], &hm);
    if (n != -1) fprintf(stderr, "case %lu: %d\n", (unsigned long) i, n);
    CHECK(n == -1);
  }
  CHECK(mg_http_parse("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", 27, &hm) == -1);
}

// Every byte in a header name and in the method: accepted exactly when it is
// an RFC 9110 token character; and targets long enough to be scanned a word
// at a time find their query and their end wherever they fall
static void test_parse_token_bytes(void) {
  static const char *tchars = "!#$%&'*+-.^_`|~";
  struct mg_http_message hm;
  char buf[256];
  int b;
  size_t i;
  for (b = 0x20; b < 0x100; b++) {
    bool tok = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
               (b < 0x80 && b != 0 && strchr(tchars, b) != NULL);
    int n;
    if (b == ':') continue;  // ends the name
    n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nA%cB: v\r\n\r\n", b);
    CHECK((mg_http_parse(buf, (size_t) n, &hm) > 0) == tok);
    if (b == ' ') continue;  // ends the method
    n = snprintf(buf, sizeof(buf), "G%cT / HTTP/1.1\r\n\r\n", b);
    CHECK((mg_http_parse(buf, (size_t) n, &hm) > 0) == tok);
  }
  for (i = 0; i < 40; i++) {  // '?' and the end at every offset of a long target
    char path[64];
    int n;
    memset(path, 'p', sizeof(path));
    path[0] = '/';
    path[i + 1] = '?';
    path[i + 1 + 7] = '?';  // a second '?' belongs to the query
    path[50] = '\0';
    n = snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\n\r\n", path);
    CHECK(mg_http_parse(buf, (size_t) n, &hm) == n);
    CHECK(hm.uri.len == i + 1 && hm.uri.buf == buf + 4);
    CHECK(hm.query.len == 50 - i - 2 && hm.query.buf == buf + 4 + i + 2);
    path[i + 5] = '\t';  // a HTAB anywhere in the target fails
    n = snprintf(buf, sizeof(buf), "GET %s HTTP/1.1\r\n\r\n", path);
    CHECK(mg_http_parse(buf, (size_t) n, &hm) == -1);
  }
}

static void test_parse_headers_limit(void) {
  char buf[4096];
  struct mg_http_message hm;
  size_t n = (size_t) snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n"), i;
  for (i = 0; i < MG_MAX_HTTP_HEADERS; i++) {
    n += (size_t) snprintf(buf + n, sizeof(buf) - n, "H%lu: %lu\r\n",
                           (unsigned long) i, (unsigned long) i);
  }
  snprintf(buf + n, sizeof(buf) - n, "\r\n");
  CHECK(parse(buf, &hm) > 0);  // exactly the maximum
  CHECK(str_is(hm.headers[MG_MAX_HTTP_HEADERS - 1].name, "H29"));
  CHECK(str_is(*mg_http_get_header(&hm, "h29"), "29"));
  snprintf(buf + n, sizeof(buf) - n, "One: more\r\n\r\n");
  CHECK(parse(buf, &hm) == -1);
}

static void test_parse_response(void) {
  struct mg_http_message hm;
  CHECK(parse("HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody", &hm) == 25);
  CHECK(str_is(hm.method, "HTTP/1.1") && str_is(hm.uri, "200") && str_is(hm.proto, "OK"));
  CHECK(str_is(hm.body, "body") && mg_http_status(&hm) == 200);  // until close
  CHECK(parse("HTTP/1.0 404 Not Found\r\nContent-Length: 2\r\n\r\nabcd", &hm) > 0);
  CHECK(str_is(hm.proto, "Not Found") && str_is(hm.body, "ab") && mg_http_status(&hm) == 404);
  CHECK(parse("HTTP/1.1 204\r\n\r\nxx", &hm) > 0 && hm.proto.len == 0 && hm.body.len == 0);
  CHECK(parse("HTTP/1.1 304 \r\n\r\n", &hm) > 0 && mg_http_status(&hm) == 304);
  CHECK(parse("HTTP/1.1 101 Switching Protocols\r\n\r\nws", &hm) > 0 && hm.body.len == 0);
}

// ---- Helpers --------------------------------------------------------------------
static void test_vars(void) {
  struct mg_str q = mg_str("a=1&bb=x%20y+z&empty=&flag&bad=%zz&pct=%4");
  char buf[16];
  CHECK(str_is(mg_http_var(q, mg_str("a")), "1"));
  CHECK(str_is(mg_http_var(q, mg_str("bb")), "x%20y+z"));
  CHECK(mg_http_var(q, mg_str("b")).buf == NULL);
  CHECK(mg_http_var(q, mg_str("empty")).buf != NULL);
  CHECK(mg_http_var(q, mg_str("flag")).buf != NULL && mg_http_var(q, mg_str("flag")).len == 0);
  CHECK(mg_http_var(mg_str_n(NULL, 0), mg_str("a")).buf == NULL);
  CHECK(mg_http_get_var(&q, "bb", buf, sizeof(buf)) == 5 && strcmp(buf, "x y z") == 0);
  CHECK(mg_http_get_var(&q, "a", buf, sizeof(buf)) == 1 && strcmp(buf, "1") == 0);
  CHECK(mg_http_get_var(&q, "empty", buf, sizeof(buf)) == 0 && buf[0] == '\0');
  CHECK(mg_http_get_var(&q, "nope", buf, sizeof(buf)) == -1 && buf[0] == '\0');
  CHECK(mg_http_get_var(&q, "bb", buf, 5) == -2 && buf[0] == '\0');
  CHECK(mg_http_get_var(&q, "bb", buf, 6) == 5);
  CHECK(mg_http_get_var(&q, "bad", buf, sizeof(buf)) == -3 && buf[0] == '\0');
  CHECK(mg_http_get_var(&q, "pct", buf, sizeof(buf)) == -3);
  CHECK(mg_http_get_var(&q, "a", NULL, 10) == -2);
  CHECK(mg_http_get_var(&q, "a", buf, 0) == -2);
  CHECK(mg_http_get_var(NULL, "a", buf, sizeof(buf)) == -1);
}

static void test_url_coding(void) {
  char buf[16];
  CHECK(mg_url_decode("a%41+b", 6, buf, sizeof(buf), 0) == 4 && strcmp(buf, "aA+b") == 0);
  CHECK(mg_url_decode("a%41+b", 6, buf, sizeof(buf), 1) == 4 && strcmp(buf, "aA b") == 0);
  CHECK(mg_url_decode("%e2%82%AC", 9, buf, sizeof(buf), 0) == 3 &&
        strcmp(buf, "\xe2\x82\xac") == 0);
  CHECK(mg_url_decode("abc", 3, buf, 4, 0) == 3);
  CHECK(mg_url_decode("abc", 3, buf, 3, 0) == -1 && strlen(buf) < 3);
  CHECK(mg_url_decode("a%g1", 4, buf, sizeof(buf), 0) == -1 && strcmp(buf, "a") == 0);
  CHECK(mg_url_decode("a%1", 3, buf, sizeof(buf), 0) == -1);
  CHECK(mg_url_decode("%", 1, buf, sizeof(buf), 0) == -1);
  CHECK(mg_url_decode("", 0, buf, sizeof(buf), 0) == 0 && buf[0] == '\0');
  CHECK(mg_url_decode("x", 1, buf, 0, 0) == -1);
  CHECK(mg_url_encode("aZ9-._~", 7, buf, sizeof(buf)) == 7 && strcmp(buf, "aZ9-._~") == 0);
  CHECK(mg_url_encode("a b/\xff", 5, buf, sizeof(buf)) == 11 &&
        strcmp(buf, "a%20b%2F%FF") == 0);
  CHECK(mg_url_encode("a b", 3, buf, 6) == 5);  // exactly fits with the NUL
  CHECK(mg_url_encode("a b", 3, buf, 5) == 0);
  CHECK(mg_url_encode("ab", 2, buf, 2) == 0);
  CHECK(mg_url_encode("a\0b", 3, buf, sizeof(buf)) == 5 && strcmp(buf, "a%00b") == 0);
}

static void test_header_var(void) {
  struct mg_str h = mg_str("Basic realm=\"my \\\"realm\\\"\", a=1; b = 2 ,c=\"x y\";d=");
  CHECK(str_is(mg_http_get_header_var(h, mg_str("realm")), "my \\\"realm\\\""));
  CHECK(str_is(mg_http_get_header_var(h, mg_str("a")), "1"));
  CHECK(str_is(mg_http_get_header_var(h, mg_str("b")), "2"));
  CHECK(str_is(mg_http_get_header_var(h, mg_str("c")), "x y"));
  CHECK(mg_http_get_header_var(h, mg_str("d")).buf != NULL);
  CHECK(mg_http_get_header_var(h, mg_str("d")).len == 0);
  CHECK(mg_http_get_header_var(h, mg_str("Basic")).buf == NULL);
  CHECK(mg_http_get_header_var(h, mg_str("alm")).buf == NULL);
  CHECK(mg_http_get_header_var(h, mg_str("")).buf == NULL);
  CHECK(str_is(mg_http_get_header_var(mg_str("k=\"open"), mg_str("k")), "open"));
  CHECK(str_is(mg_http_get_header_var(mg_str("multipart/form-data; boundary=--xyz"),
                                      mg_str("boundary")), "--xyz"));
}

static void test_status(void) {
  struct mg_http_message hm;
  CHECK(strcmp(mg_http_status_text(200), "OK") == 0);
  CHECK(strcmp(mg_http_status_text(404), "Not Found") == 0);
  CHECK(strcmp(mg_http_status_text(431), "Request Header Fields Too Large") == 0);
  CHECK(strcmp(mg_http_status_text(799), "Unknown") == 0);
  memset(&hm, 0, sizeof(hm));
  CHECK(mg_http_status(&hm) == 0);
}

static int creds(const char *req, char *u, size_t ul, char *p, size_t pl) {
  struct mg_http_message hm;
  int n = parse(req, &hm);
  memset(u, 'X', ul), memset(p, 'X', pl);
  if (n > 0) mg_http_creds(&hm, u, ul, p, pl);
  return n;
}

static void test_creds(void) {
  char u[16], p[16];
  // "alice:se:cret" and "alice:pw"
  CHECK(creds("GET / HTTP/1.1\r\nAuthorization: Basic YWxpY2U6c2U6Y3JldA==\r\n\r\n",
              u, sizeof(u), p, sizeof(p)) > 0);
  CHECK(strcmp(u, "alice") == 0 && strcmp(p, "se:cret") == 0);
  creds("GET / HTTP/1.1\r\nAuthorization: basic YWxpY2U6cHc\r\n\r\n", u, sizeof(u), p, sizeof(p));
  CHECK(strcmp(u, "alice") == 0 && strcmp(p, "pw") == 0);
  creds("GET / HTTP/1.1\r\nAuthorization: Basic YWxpY2U6cHc=\r\n\r\n", u, 5, p, sizeof(p));
  CHECK(u[0] == '\0' && p[0] == '\0');  // the user does not fit
  creds("GET / HTTP/1.1\r\nAuthorization: Basic YWxpY2U6cHc=\r\n\r\n", u, sizeof(u), p, 8);
  CHECK(u[0] == '\0' && p[0] == '\0');  // "alice:pw" does not fit the pass buffer
  creds("GET / HTTP/1.1\r\nAuthorization: Basic !!!\r\n\r\n", u, sizeof(u), p, sizeof(p));
  CHECK(u[0] == '\0' && p[0] == '\0');
  creds("GET / HTTP/1.1\r\nAuthorization: Basic bm9jb2xvbg==\r\n\r\n", u, sizeof(u), p, sizeof(p));
  CHECK(u[0] == '\0' && p[0] == '\0');  // "nocolon"
  creds("GET / HTTP/1.1\r\nAuthorization: Bearer tok123\r\n\r\n", u, sizeof(u), p, sizeof(p));
  CHECK(u[0] == '\0' && strcmp(p, "tok123") == 0);
  creds("GET / HTTP/1.1\r\nCookie: a=1; access_token=ck\r\n\r\n", u, sizeof(u), p, sizeof(p));
  CHECK(u[0] == '\0' && strcmp(p, "ck") == 0);
  creds("GET /?x=1&access_token=q%21 HTTP/1.1\r\n\r\n", u, sizeof(u), p, sizeof(p));
  CHECK(u[0] == '\0' && strcmp(p, "q!") == 0);
  creds("GET / HTTP/1.1\r\n\r\n", u, sizeof(u), p, sizeof(p));
  CHECK(u[0] == '\0' && p[0] == '\0');
}

// ---- Server ---------------------------------------------------------------------
static struct mg_mgr s_mgr;
static struct mg_connection *s_lsn;
static int s_msgs, s_hdrs, s_mode;  // s_mode: see srv_fn
static struct mg_connection *s_pending;
static char s_body[256];

enum { REPLY_NOW, REPLY_LATER, REPLY_CHUNKED, REPLY_RAW, REPLY_204, REPLY_IN_HDRS, REPLY_BIG };
#define BIG_REPLY 400000  // bytes of body in REPLY_BIG mode

static void srv_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (ev == MG_EV_HTTP_HDRS) {
    s_hdrs++;
    if (s_mode == REPLY_IN_HDRS) mg_http_reply(c, 403, "", "no");
  } else if (ev == MG_EV_HTTP_MSG) {
    s_msgs++;
    snprintf(s_body, sizeof(s_body), "%.*s", (int) hm->body.len, hm->body.buf);
    if (s_mode == REPLY_NOW) {
      mg_http_reply(c, 200, "X: y\r\n", "%.*s", (int) hm->uri.len, hm->uri.buf);
    } else if (s_mode == REPLY_CHUNKED) {
      mg_printf(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      mg_http_printf_chunk(c, "%s-%d", "ab", 42);
      mg_http_write_chunk(c, "xyz", 3);
      mg_http_printf_chunk(c, "");
    } else if (s_mode == REPLY_RAW) {
      mg_http_reply_raw(c, 201, "A: b\r\n", 6, "x\0y", 3);
    } else if (s_mode == REPLY_204) {
      mg_http_reply(c, 204, NULL, "ignored");
    } else if (s_mode == REPLY_BIG) {
      static char big[BIG_REPLY];
      mg_http_reply_raw(c, 200, "", 0, big, sizeof(big));
    } else {
      s_pending = c;
    }
  }
}

static void srv_reset(int mode) {
  s_msgs = s_hdrs = 0;
  s_mode = mode;
  s_pending = NULL;
  s_body[0] = '\0';
  fake_reset();
}

static bool out_is(const char *want) {
  bool ok = fake_out.len == strlen(want) && memcmp(fake_out.buf, want, fake_out.len) == 0;
  if (!ok) fprintf(stderr, "got [%.*s]\n", (int) fake_out.len, (char *) fake_out.buf);
  return ok;
}

static bool out_starts(const char *want) {
  return fake_out.len >= strlen(want) && memcmp(fake_out.buf, want, strlen(want)) == 0;
}

static bool out_has(const char *want) {
  size_t n = strlen(want), i;
  for (i = 0; i + n <= fake_out.len; i++) {
    if (memcmp(fake_out.buf + i, want, n) == 0) return true;
  }
  return false;
}

static bool send_str(struct mg_connection *c, const char *s) {
  return fake_recv(c, s, strlen(s));
}

#define OK200(body, cl) "HTTP/1.1 200 OK\r\nX: y\r\nContent-Length: " cl "\r\n\r\n" body

static void test_server_pipelining(void) {
  struct mg_connection *c;
  srv_reset(REPLY_NOW);
  c = fake_accept(s_lsn);
  CHECK(send_str(c, "GET /a HTTP/1.1\r\n\r\nGET /bb HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n"));
  CHECK(s_msgs == 3 && s_hdrs == 3 && c->recv.len == 0);
  CHECK(out_is(OK200("/a", "2") OK200("/bb", "3") OK200("/c", "2")));
  // A partial request after a full one waits for the rest
  fake_reset();
  CHECK(send_str(c, "GET /d HTTP/1.1\r\n\r\nGET /e HTT"));
  CHECK(out_is(OK200("/d", "2")) && s_msgs == 4);
  CHECK(send_str(c, "P/1.1\r\n\r\n") && s_msgs == 5);
  CHECK(out_is(OK200("/d", "2") OK200("/e", "2")));
  // Empty lines between requests are ignored
  fake_reset();
  CHECK(send_str(c, "\r\nGET /f HTTP/1.1\r\n\r\n") && out_is(OK200("/f", "2")));
  mg_close_conn(c);
}

static void test_server_later(void) {
  struct mg_connection *c;
  srv_reset(REPLY_LATER);
  c = fake_accept(s_lsn);
  CHECK(send_str(c, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"));
  CHECK(s_msgs == 1 && s_pending == c && c->is_resp && fake_out.len == 0);
  CHECK(send_str(c, "GET /3 HTTP/1.1\r\n\r\n") && s_msgs == 1);  // still waiting
  mg_http_reply(c, 200, "", "one");
  CHECK(fake_finish(c) && s_msgs == 2);  // the second one is resumed
  CHECK(out_is("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"));
  mg_http_reply(c, 200, "", "two");
  CHECK(fake_finish(c) && s_msgs == 3);
  mg_http_reply(c, 200, "", "three");
  CHECK(fake_finish(c) && s_msgs == 3 && !c->is_resp && c->recv.len == 0);
  CHECK(out_has("two") && out_has("three"));
  // Peer half-closes while a reply is pending: answered, then closed
  CHECK(send_str(c, "GET /4 HTTP/1.1\r\n\r\n") && s_msgs == 4);
  mg_io_eof(c);
  CHECK(fake_finish(c));
  mg_http_reply(c, 200, "", "four");
  CHECK(!fake_finish(c) && out_has("four"));
}

static void test_server_split(void) {
  const char *req = "POST /split?q=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbodyGET /n HTTP/1.1\r\n\r\n";
  struct mg_connection *c;
  size_t i;
  srv_reset(REPLY_NOW);
  c = fake_accept(s_lsn);
  for (i = 0; i < strlen(req); i++) CHECK(fake_recv(c, req + i, 1));
  CHECK(s_msgs == 2 && s_hdrs == 2 && strcmp(s_body, "") == 0);
  CHECK(out_is(OK200("/split", "6") OK200("/n", "2")));
  mg_close_conn(c);
}

static void test_server_chunked(void) {
  const char *req = "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5\r\nhello\r\n6;ext=\"1\"\r\n world\r\n000\r\nTrailer: x\r\n\r\n"
                    "GET /n HTTP/1.1\r\n\r\n";
  struct mg_connection *c;
  size_t i;
  srv_reset(REPLY_NOW);
  c = fake_accept(s_lsn);
  CHECK(send_str(c, req) && s_msgs == 2 && c->recv.len == 0);
  CHECK(strcmp(s_body, "") == 0 && out_is(OK200("/c", "2") OK200("/n", "2")));
  srv_reset(REPLY_LATER);
  for (i = 0; i < strlen(req); i++) CHECK(fake_recv(c, req + i, 1));
  CHECK(s_msgs == 1 && s_hdrs == 1 && strcmp(s_body, "hello world") == 0);
  mg_http_reply(c, 200, "", "ok");
  CHECK(fake_finish(c) && s_msgs == 2 && s_hdrs == 2);
  mg_http_reply(c, 200, "", "ok");
  CHECK(fake_finish(c) && c->recv.len == 0);
  // Bare LF framing and an empty body
  srv_reset(REPLY_LATER);
  CHECK(send_str(c, "POST / HTTP/1.1\nTransfer-Encoding: Chunked\n\n1\nx\n0\n\n"));
  CHECK(s_msgs == 1 && strcmp(s_body, "x") == 0);
  mg_http_reply(c, 200, "", "ok");
  CHECK(send_str(c, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  CHECK(s_msgs == 2 && s_body[0] == '\0');
  mg_close_conn(c);
}

// Sends req on a new connection; the server must answer `status` and close
static void expect_reject(const char *req, size_t len, int status) {
  struct mg_connection *c;
  char line[32];
  srv_reset(REPLY_NOW);
  c = fake_accept(s_lsn);
  snprintf(line, sizeof(line), "HTTP/1.1 %d ", status);
  CHECK(!fake_recv(c, req, len));
  CHECK(out_starts(line) && out_has("\r\nConnection: close\r\n") && s_msgs == 0);
  if (!out_starts(line)) fprintf(stderr, "  request: %.40s\n", req);
}

#define REJECT(req, status) expect_reject(req, sizeof(req) - 1, status)

static void test_server_errors(void) {
  char big[MG_HTTP_MAX_HEAD + 64];
  size_t n, i;
  REJECT("GET / HTTP/1.1\r\nBad Header\r\n\r\n", 400);
  REJECT("GET / HTTP/1.1\r\nA: \0\r\n\r\n", 400);
  REJECT("GET / HTTP/1.1\r\nA: \0", 400);  // rejected before the head ends
  REJECT("HTTP/1.1 200 OK\r\n\r\n", 400);
  REJECT("GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
  REJECT("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n", 400);
  REJECT("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
  REJECT("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
  REJECT("GET / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
  REJECT("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400);
  REJECT("GET / HTTP/1.1\r\nContent-Length: 9999999999\r\n\r\n", 413);
  REJECT("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400);
  REJECT("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 400);
  REJECT("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1 x\r\n", 400);
  REJECT("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\rx", 400);
  REJECT("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", 400);
  REJECT("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1234567890abcdef0\r\n", 400);
  REJECT("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\n", 413);
  // Size line too long
  n = (size_t) snprintf(big, sizeof(big), "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1;");
  memset(big + n, 'e', 300);
  expect_reject(big, n + 300, 400);
  // Head too large: incomplete, and complete
  n = (size_t) snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nA: ");
  memset(big + n, 'a', sizeof(big) - n);
  expect_reject(big, sizeof(big), 431);
  memcpy(big + sizeof(big) - 4, "\r\n\r\n", 4);
  expect_reject(big, sizeof(big), 431);
  // Too many headers
  n = (size_t) snprintf(big, sizeof(big), "GET / HTTP/1.1\r\n");
  for (i = 0; i <= MG_MAX_HTTP_HEADERS; i++) n += (size_t) snprintf(big + n, 16, "H: v\r\n");
  n += (size_t) snprintf(big + n, 16, "\r\n");
  expect_reject(big, n, 431);
}

static void test_server_chunked_limit(void) {
  struct mg_connection *c;
  char buf[4096];
  size_t total = 0;
  bool alive = true;
  srv_reset(REPLY_NOW);
  c = fake_accept(s_lsn);
  CHECK(send_str(c, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
  memset(buf, 'x', sizeof(buf));
  memcpy(buf, "3e8\r\n", 5);  // many 1000-byte chunks, one per read
  memcpy(buf + 1005, "\r\n", 2);
  while (alive && total < MG_MAX_RECV_SIZE + 8192) {
    alive = fake_recv(c, buf, 1007);
    total += 1000;
  }
  CHECK(!alive && out_starts("HTTP/1.1 413 ") && s_msgs == 0);
}

static void test_server_expect(void) {
  struct mg_connection *c;
  srv_reset(REPLY_NOW);
  c = fake_accept(s_lsn);
  CHECK(send_str(c, "PUT /e HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  CHECK(out_is("HTTP/1.1 100 Continue\r\n\r\n") && s_hdrs == 1);
  CHECK(send_str(c, "ab") && out_is("HTTP/1.1 100 Continue\r\n\r\n"));  // only once
  CHECK(send_str(c, "cd") && s_msgs == 1 && strcmp(s_body, "abcd") == 0);
  CHECK(out_is("HTTP/1.1 100 Continue\r\n\r\n" OK200("/e", "2")));
  // Body already there: no 100 Continue
  fake_reset();
  CHECK(send_str(c, "PUT /f HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nz"));
  CHECK(out_is(OK200("/f", "2")));
  // HTTP/1.0 clients get no 100 Continue
  fake_reset();
  CHECK(send_str(c, "PUT /g HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n"));
  CHECK(fake_out.len == 0);
  mg_close_conn(c);
}

static void test_server_head_and_replies(void) {
  struct mg_connection *c;
  srv_reset(REPLY_NOW);
  c = fake_accept(s_lsn);
  CHECK(send_str(c, "HEAD /abc HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\n"));
  CHECK(out_is("HTTP/1.1 200 OK\r\nX: y\r\nContent-Length: 4\r\n\r\n" OK200("/x", "2")));
  srv_reset(REPLY_CHUNKED);
  CHECK(send_str(c, "GET / HTTP/1.1\r\n\r\n"));
  CHECK(out_is("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nab-42\r\n3\r\nxyz\r\n0\r\n\r\n") && !c->is_resp);
  srv_reset(REPLY_CHUNKED);
  CHECK(send_str(c, "HEAD / HTTP/1.1\r\n\r\n"));
  CHECK(out_is("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") && !c->is_resp);
  srv_reset(REPLY_RAW);
  CHECK(send_str(c, "GET / HTTP/1.1\r\n\r\n"));
  CHECK(fake_out.len == 52 && memcmp(fake_out.buf, "HTTP/1.1 201 Created\r\nA: b\r\n"
                                     "Content-Length: 3\r\n\r\nx\0y", 52) == 0);
  srv_reset(REPLY_204);
  CHECK(send_str(c, "GET / HTTP/1.1\r\n\r\n") && out_is("HTTP/1.1 204 No Content\r\n\r\n"));
  srv_reset(REPLY_NOW);
  mg_http_bauth(c, "alice", "pw");
  mg_http_bauth(c, "", "");
  CHECK(fake_finish(c));
  CHECK(out_is("Authorization: Basic YWxpY2U6cHc=\r\nAuthorization: Basic Og==\r\n"));
  mg_close_conn(c);
}

static void test_server_big_reply(void) {
  struct mg_connection *c;
  static char body[100000];
  char want[64];
  srv_reset(REPLY_LATER);
  c = fake_accept(s_lsn);
  CHECK(send_str(c, "GET / HTTP/1.1\r\n\r\n"));
  memset(body, 'b', sizeof(body) - 1);
  mg_http_reply(c, 200, "", "%s", body);
  snprintf(want, sizeof(want), "HTTP/1.1 200 OK\r\nContent-Length: %lu\r\n\r\nbbb",
           (unsigned long) sizeof(body) - 1);
  CHECK(fake_finish(c) && out_starts(want) && fake_out.len == strlen(want) - 3 + sizeof(body) - 1);
  mg_close_conn(c);
}

// A client that pipelines and does not read: answers stop once more than
// MG_HTTP_SEND_HWM bytes wait, and go on as the output drains
static void test_server_slow_reader(void) {
  struct mg_connection *c;
  char req[400];
  size_t i, n = 0;
  srv_reset(REPLY_BIG);
  c = fake_accept(s_lsn);
  for (i = 0; i < 10; i++) {
    n += (size_t) snprintf(req + n, sizeof(req) - n, "GET /%lu HTTP/1.1\r\n\r\n", (unsigned long) i);
  }
  fake_write_stall = true;
  CHECK(send_str(c, req));
  CHECK(s_msgs == 3 && c->send.len > MG_HTTP_SEND_HWM);  // 3 x 400 KB > 1 MiB
  CHECK(c->send.len < MG_HTTP_SEND_HWM + BIG_REPLY + 100 && c->recv.len > 0);
  fake_write_stall = false;
  mg_io_check(c);  // the socket is writable again
  CHECK(fake_finish(c));
  CHECK(s_msgs == 10 && c->recv.len == 0 && c->send.len == 0);
  CHECK(fake_out.len > 10 * BIG_REPLY);
  mg_close_conn(c);
}

static void test_server_keepalive(void) {
  struct mg_connection *c;
  unsigned long id;
  srv_reset(REPLY_NOW);
  c = fake_accept(s_lsn);
  CHECK(send_str(c, "GET /1 HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
  CHECK(out_is(OK200("/1", "2")));
  fake_reset();
  CHECK(!send_str(c, "GET /2 HTTP/1.1\r\nConnection: foo, close\r\n\r\nGET /3 HTTP/1.1\r\n\r\n"));
  CHECK(out_is("HTTP/1.1 200 OK\r\nX: y\r\nConnection: close\r\nContent-Length: 2\r\n\r\n/2"));
  CHECK(s_msgs == 2);
  srv_reset(REPLY_NOW);
  c = fake_accept(s_lsn);
  CHECK(!send_str(c, "GET /4 HTTP/1.0\r\n\r\n") && out_has("Connection: close") && s_msgs == 1);
  // Answered from MG_EV_HTTP_HDRS: no MG_EV_HTTP_MSG, closed after the reply
  srv_reset(REPLY_IN_HDRS);
  c = fake_accept(s_lsn);
  id = c->id;
  CHECK(!send_str(c, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nab"));
  CHECK(s_hdrs == 1 && s_msgs == 0 && out_starts("HTTP/1.1 403 ") && !fake_alive(&s_mgr, id));
}

// A protocol switch from MG_EV_HTTP_MSG: the new handler gets the bytes after
// the request (through the resume pass)
static char s_raw[32];
static void raw_pfn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_READ) {
    snprintf(s_raw, sizeof(s_raw), "%.*s", (int) c->recv.len, (char *) c->recv.buf);
  }
  (void) ev_data;
}

static void upgrade_fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    mg_printf(c, "HTTP/1.1 101 Switching Protocols\r\n\r\n");
    c->pfn = raw_pfn;
  }
  (void) ev_data;
}

static void test_server_upgrade(void) {
  struct mg_connection *c;
  srv_reset(REPLY_NOW);
  c = fake_accept(s_lsn);
  c->fn = upgrade_fn;
  CHECK(send_str(c, "GET /ws HTTP/1.1\r\nUpgrade: x\r\n\r\nRAW BYTES"));
  CHECK(strcmp(s_raw, "RAW BYTES") == 0 && !c->is_resp);
  CHECK(out_is("HTTP/1.1 101 Switching Protocols\r\n\r\n"));
  mg_close_conn(c);
}

// ---- Client ---------------------------------------------------------------------
static int c_msgs, c_errors;
static char c_body[64];
static int c_status;

static void cli_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (ev == MG_EV_HTTP_MSG) {
    c_msgs++;
    c_status = mg_http_status(hm);
    snprintf(c_body, sizeof(c_body), "%.*s", (int) hm->body.len, hm->body.buf);
  } else if (ev == MG_EV_ERROR) {
    c_errors++;
  }
  (void) c;
}

static struct mg_connection *cli_new(void) {
  struct mg_connection *c = mg_http_connect(&s_mgr, "http://127.0.0.1:80", cli_fn, NULL);
  c_msgs = c_errors = c_status = 0;
  c_body[0] = '\0';
  mg_io_connected(c, NULL);
  return c;
}

static void test_client(void) {
  struct mg_connection *c = cli_new();
  CHECK(send_str(c, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab"));
  CHECK(c_msgs == 0 && send_str(c, "cHTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"));
  CHECK(c_msgs == 1 && c_status == 200 && strcmp(c_body, "abc") == 0);
  CHECK(send_str(c, "2\r\nno\r\n0\r\n\r\n") && c_msgs == 2 && c_status == 404);
  CHECK(strcmp(c_body, "no") == 0 && c->recv.len == 0);
  CHECK(send_str(c, "HTTP/1.1 204 No Content\r\n\r\n") && c_msgs == 3 && c_status == 204);
  CHECK(send_str(c, "HTTP/1.0 200 OK\r\n\r\nuntil") && c_msgs == 3);
  CHECK(send_str(c, " close") && c_msgs == 3);
  mg_close_conn(c);
  CHECK(c_msgs == 4 && strcmp(c_body, "until close") == 0 && c_errors == 0);
  c = cli_new();
  CHECK(!send_str(c, "HTTP/1.1 200 OK\r\nBad\r\n\r\n") && c_errors == 1 && c_msgs == 0);
}

int main(void) {
  test_parse_request();
  test_parse_incomplete();
  test_parse_malformed();
  test_parse_token_bytes();
  test_parse_headers_limit();
  test_parse_response();
  test_vars();
  test_url_coding();
  test_header_var();
  test_status();
  test_creds();

  mg_log_set(MG_LL_NONE);
  mg_mgr_init(&s_mgr);
  s_lsn = mg_http_listen(&s_mgr, "http://0.0.0.0:8000", srv_fn, NULL);
  CHECK(s_lsn != NULL);
  test_server_pipelining();
  test_server_later();
  test_server_split();
  test_server_chunked();
  test_server_errors();
  test_server_chunked_limit();
  test_server_expect();
  test_server_head_and_replies();
  test_server_big_reply();
  test_server_slow_reader();
  test_server_keepalive();
  test_server_upgrade();
  test_client();
  mg_mgr_free(&s_mgr);
  mg_iobuf_free(&fake_out);

  return check_summary();
}
