// Unit tests for src/fs.c, src/fs_posix.c and src/http_serve.c: the mg_fs
// helpers on a temporary directory, the path sanitiser, mg_http_serve_dir /
// mg_http_serve_file (ranges, 304, gzip, listings, streaming, pipelining)
// and mg_http_upload_stream / mg_http_upload, through tests/c/fake_driver.c.
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "check.h"

#include <sys/stat.h>
#include <unistd.h>

static char s_root[96];      // <tmp>/www: the web root
static char s_top[32];       // <tmp>: holds a file outside the root
static char s_updir[96];     // <tmp>/up: uploads
static struct mg_mgr s_mgr;
static struct mg_connection *s_lsn;
static int s_mode;           // what the handler does
static uint64_t s_max = 1000;
static const char *s_extra = "X-Extra: 1\r\n";
static long s_ret;           // what mg_http_upload returned
enum { SERVE_DIR, SERVE_FILE, UPLOAD, UPLOAD_IN_MSG, SERVE_IN_HDRS, PIECES, PIECES_IN_HDRS };

static void path_of(char *buf, size_t len, const char *dir, const char *name) {
  snprintf(buf, len, "%s/%s", dir, name);
}

static void put_file(const char *dir, const char *name, const char *data, size_t n) {
  char p[256];
  path_of(p, sizeof(p), dir, name);
  CHECK(mg_file_write(&mg_fs_posix, p, data, n));
}

static void srv_fn(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  struct mg_http_serve_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.root_dir = s_root;
  opts.extra_headers = s_extra;
  opts.mime_types = "foo=application/x-foo,TXT=text/x-custom";
  if (ev == MG_EV_HTTP_HDRS && s_mode == UPLOAD) {
    mg_http_upload_stream(c, hm, &mg_fs_posix, s_updir, s_max);
  } else if (ev == MG_EV_HTTP_HDRS && s_mode == SERVE_IN_HDRS) {
    mg_http_serve_dir(c, hm, &opts);
  } else if ((ev == MG_EV_HTTP_MSG && s_mode == PIECES) ||
             (ev == MG_EV_HTTP_HDRS && s_mode == PIECES_IN_HDRS)) {
    s_ret = mg_http_upload(c, hm, &mg_fs_posix, s_updir, (size_t) s_max);
  } else if (ev == MG_EV_HTTP_MSG && s_mode == UPLOAD_IN_MSG) {
    mg_http_upload_stream(c, hm, &mg_fs_posix, s_updir, s_max);
  } else if (ev == MG_EV_HTTP_MSG && s_mode == SERVE_DIR) {
    if (mg_match(hm->uri, mg_str("/p404/#"), NULL)) {
      static char p404[128];
      path_of(p404, sizeof(p404), s_root, "404.html");
      opts.page404 = p404;
    }
    mg_http_serve_dir(c, hm, &opts);
  } else if (ev == MG_EV_HTTP_MSG && s_mode == SERVE_FILE) {
    char p[256];
    path_of(p, sizeof(p), s_top, "secret.txt");
    mg_http_serve_file(c, hm, p, &opts);
  }
}

static bool out_has(const char *want) {
  size_t n = strlen(want), i;
  for (i = 0; i + n <= fake_out.len; i++) {
    if (memcmp(fake_out.buf + i, want, n) == 0) return true;
  }
  return false;
}

static bool out_starts(const char *want) {
  bool ok = fake_out.len >= strlen(want) && memcmp(fake_out.buf, want, strlen(want)) == 0;
  if (!ok) fprintf(stderr, "got [%.*s]\n", (int) (fake_out.len > 300 ? 300 : fake_out.len),
                   (char *) fake_out.buf);
  return ok;
}

// The body of the (single) response in fake_out
static struct mg_str out_body(void) {
  struct mg_http_message hm;
  int n = mg_http_parse((char *) fake_out.buf, fake_out.len, &hm);
  return n <= 0 ? mg_str_n(NULL, 0) : mg_str_n((char *) fake_out.buf + n, fake_out.len - (size_t) n);
}

// Sends one request on a new connection; returns it (still open) or NULL
static struct mg_connection *req(const char *r) {
  struct mg_connection *c = fake_accept(s_lsn);
  fake_reset();
  if (!fake_recv(c, r, strlen(r))) return NULL;
  return c;
}

static void get(const char *r) {
  struct mg_connection *c = req(r);
  if (c != NULL) mg_close_conn(c);
}

// ---- mg_fs helpers -----------------------------------------------------------------
static void test_fs_helpers(void) {
  char p[256], name[64];
  size_t size = 0;
  time_t mtime = 0;
  char *data;
  int seen = 0;
  path_of(p, sizeof(p), s_top, "f.txt");
  CHECK(mg_file_printf(&mg_fs_posix, p, "%s=%d", "x", 42));
  data = mg_file_read(&mg_fs_posix, p, &size);
  CHECK(data != NULL && size == 4 && strcmp(data, "x=42") == 0);
  free(data);
  CHECK(mg_fs_posix.st(p, &size, &mtime) == (MG_FS_READ | MG_FS_WRITE) && size == 4 && mtime > 0);
  CHECK((mg_fs_posix.st(s_top, NULL, NULL) & MG_FS_DIR) != 0);
  CHECK(mg_fs_posix.st("/nonexistent/zz", NULL, NULL) == 0);
  CHECK(mg_file_read(&mg_fs_posix, "/nonexistent/zz", NULL) == NULL);
  CHECK(mg_file_read(&mg_fs_posix, s_top, NULL) == NULL);  // a directory
  {
    struct mg_fd *fd = mg_fs_open(&mg_fs_posix, p, MG_FS_READ);
    char buf[8] = {0};
    CHECK(fd != NULL && fd->fs->sk(fd->fd, 2) == 2 && fd->fs->rd(fd->fd, buf, 8) == 2 &&
          strcmp(buf, "42") == 0);
    mg_fs_close(fd);
    CHECK(mg_fs_open(&mg_fs_posix, s_top, MG_FS_READ) == NULL);
  }
  // mg_fs_ls walks every entry once
  name[0] = '\0';
  while (mg_fs_ls(&mg_fs_posix, s_top, name, sizeof(name))) {
    seen |= strcmp(name, "f.txt") == 0 ? 1 : strcmp(name, "www") == 0 ? 2 : 0;
  }
  CHECK(seen == 3 && name[0] == '\0');
  {
    char q[256], d[256];
    path_of(q, sizeof(q), s_top, "g.txt");
    path_of(d, sizeof(d), s_top, "newdir");
    CHECK(mg_fs_posix.mv(p, q) && mg_fs_posix.st(p, NULL, NULL) == 0);
    CHECK(mg_fs_posix.rm(q) && mg_fs_posix.st(q, NULL, NULL) == 0 && !mg_fs_posix.rm(q));
    CHECK(mg_fs_posix.mkd(d) && (mg_fs_posix.st(d, NULL, NULL) & MG_FS_DIR) && rmdir(d) == 0);
  }
}

// ---- the path sanitiser -------------------------------------------------------------
static bool path_is(const char *uri, const char *want) {
  char buf[128];
  bool ok = mg_http_path("/r", mg_str(uri), buf, sizeof(buf));
  if (want == NULL) return !ok;
  if (!ok || strcmp(buf, want) != 0) fprintf(stderr, "%s -> %s\n", uri, ok ? buf : "(refused)");
  return ok && strcmp(buf, want) == 0;
}

static void test_path(void) {
  char small[8];
  CHECK(path_is("/", "/r"));
  CHECK(path_is("/a/b.txt", "/r/a/b.txt"));
  CHECK(path_is("//a///b/", "/r/a/b"));
  CHECK(path_is("/./a/%2e/b", "/r/a/b"));
  CHECK(path_is("/a%20b", "/r/a b"));
  CHECK(path_is("/..", NULL));
  CHECK(path_is("/a/../b", NULL));
  CHECK(path_is("/%2e%2e/x", NULL));
  CHECK(path_is("/%2E%2E/x", NULL));
  CHECK(path_is("/.%2e/x", NULL));
  CHECK(path_is("/a%2f..%2f..%2fetc", NULL));
  CHECK(path_is("/a%2Fb", NULL));
  CHECK(path_is("/a%5c..%5cb", NULL));
  CHECK(path_is("/a\\..\\b", NULL));
  CHECK(path_is("/a%00b", NULL));
  CHECK(path_is("/a%0ab", NULL));
  CHECK(path_is("/a%zz", NULL));
  CHECK(path_is("/a%2", NULL));
  CHECK(path_is("a/b", NULL));
  CHECK(path_is("/...", "/r/..."));  // a legal name
  CHECK(!mg_http_path("/r", mg_str("/much/too/long/for/this"), small, sizeof(small)));
  CHECK(mg_http_path("/r/", mg_str("/x"), small, sizeof(small)) && strcmp(small, "/r/x") == 0);
}

// ---- serving ------------------------------------------------------------------------
static void test_serve_basic(void) {
  struct mg_str b;
  s_mode = SERVE_DIR;
  get("GET /hello.txt HTTP/1.1\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 200 OK\r\n") && out_has("Content-Type: text/x-custom\r\n"));
  CHECK(out_has("Content-Length: 5\r\n") && out_has("X-Extra: 1\r\n"));
  CHECK(out_has("Accept-Ranges: bytes\r\n") && out_has("ETag: \"") && out_has("Last-Modified: "));
  b = out_body();
  CHECK(b.len == 5 && memcmp(b.buf, "hello", 5) == 0);
  get("HEAD /hello.txt HTTP/1.1\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 200 OK\r\n") && out_has("Content-Length: 5\r\n") &&
        out_body().len == 0);
  get("GET /x.foo HTTP/1.1\r\n\r\n");
  CHECK(out_has("Content-Type: application/x-foo\r\n"));
  get("GET /page.html HTTP/1.1\r\n\r\n");
  CHECK(out_has("Content-Type: text/html; charset=utf-8\r\n"));
  get("GET /missing HTTP/1.1\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 404 Not Found\r\n") && out_has("X-Extra: 1\r\n"));
  get("GET /p404/missing HTTP/1.1\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 404 Not Found\r\n") && out_has("custom 404"));
  get("POST /hello.txt HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 405 ") && out_has("Allow: GET, HEAD\r\n"));
  // directories: redirect, index.html, listing
  get("GET /sub HTTP/1.1\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 301 ") && out_has("Location: /sub/\r\n"));
  get("GET //sub HTTP/1.1\r\n\r\n");  // not "//sub/": a link to host "sub"
  CHECK(out_starts("HTTP/1.1 301 ") && out_has("Location: /sub/\r\n"));
  get("GET /sub?a=1 HTTP/1.1\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 301 ") && out_has("Location: /sub/?a=1\r\n"));
  get("GET /sub/ HTTP/1.1\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 200 OK\r\n") && out_has("<p>index</p>"));
  get("GET / HTTP/1.1\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 200 OK\r\n") && out_has("<title>Index of /</title>"));
  CHECK(out_has("<a href=\"hello.txt\">hello.txt</a>") && out_has("<a href=\"sub/\">sub/</a>"));
  CHECK(out_has("<a href=\"a%3Cb%3E%20%26%22.txt\">a&lt;b&gt; &amp;&quot;.txt</a>"));
  CHECK(!out_has("<a href=\"../\">"));
  get("GET /empty/ HTTP/1.1\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 200 OK\r\n") && out_has("<a href=\"../\">../</a>"));
  // serve_file names its file itself
  s_mode = SERVE_FILE;
  get("GET /anything HTTP/1.1\r\n\r\n");
  b = out_body();
  CHECK(out_starts("HTTP/1.1 200 OK\r\n") && b.len == 7 && memcmp(b.buf, "secret\n", 7) == 0);
}

// Extra headers of any length reach every kind of answer whole
static void test_serve_long_extra(void) {
  static char extra[3100];
  static const char *reqs[] = {
      "GET /hello.txt HTTP/1.1\r\n\r\n", "GET /missing HTTP/1.1\r\n\r\n",
      "GET /hello.txt HTTP/1.1\r\nRange: bytes=9-\r\n\r\n", "GET / HTTP/1.1\r\n\r\n",
      "DELETE / HTTP/1.1\r\n\r\n", "GET /sub HTTP/1.1\r\n\r\n", "GET /%2e%2e/ HTTP/1.1\r\n\r\n",
  };
  size_t i;
  memcpy(extra, "X-Long: ", 8);
  memset(extra + 8, 'v', 3000);
  memcpy(extra + 3008, "\r\n", 3);
  s_extra = extra;
  s_mode = SERVE_DIR;
  for (i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
    struct mg_http_message hm;
    struct mg_str *v;
    get(reqs[i]);
    CHECK(mg_http_parse((char *) fake_out.buf, fake_out.len, &hm) > 0);
    v = mg_http_get_header(&hm, "X-Long");
    CHECK(v != NULL && v->len == 3000);
  }
  s_extra = "X-Extra: 1\r\n";
}

static void test_serve_traversal(void) {
  static const char *bad[] = {
      "GET /../secret.txt HTTP/1.1\r\n\r\n",
      "GET /%2e%2e/secret.txt HTTP/1.1\r\n\r\n",
      "GET /sub/..%2f..%2fsecret.txt HTTP/1.1\r\n\r\n",
      "GET /..%5csecret.txt HTTP/1.1\r\n\r\n",
      "GET /..\\secret.txt HTTP/1.1\r\n\r\n",
      "GET /%00/../secret.txt HTTP/1.1\r\n\r\n",
      "GET /sub/%2E%2E/%2E%2E/secret.txt HTTP/1.1\r\n\r\n",
  };
  size_t i;
  s_mode = SERVE_DIR;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    get(bad[i]);
    CHECK(out_starts("HTTP/1.1 400 ") || out_starts("HTTP/1.1 404 "));
    CHECK(!out_has("secret"));
  }
}

static void test_serve_conditional(void) {
  char etag[64], inm[160], date[64], ims[160];
  const char *p, *e;
  s_mode = SERVE_DIR;
  get("GET /hello.txt HTTP/1.1\r\n\r\n");
  p = strstr((char *) fake_out.buf, "ETag: ") + 6;
  e = strstr(p, "\r\n");
  snprintf(etag, sizeof(etag), "%.*s", (int) (e - p), p);
  p = strstr((char *) fake_out.buf, "Last-Modified: ") + 15;
  e = strstr(p, "\r\n");
  snprintf(date, sizeof(date), "%.*s", (int) (e - p), p);
  snprintf(inm, sizeof(inm), "GET /hello.txt HTTP/1.1\r\nIf-None-Match: \"x\", %s\r\n\r\n", etag);
  get(inm);
  CHECK(out_starts("HTTP/1.1 304 Not Modified\r\n") && out_has(etag) && !out_has("Content-Length"));
  CHECK(out_body().len == 0);
  get("GET /hello.txt HTTP/1.1\r\nIf-None-Match: *\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 304 "));
  get("GET /hello.txt HTTP/1.1\r\nIf-None-Match: \"nope\"\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 200 "));
  snprintf(ims, sizeof(ims), "GET /hello.txt HTTP/1.1\r\nIf-Modified-Since: %s\r\n\r\n", date);
  get(ims);
  CHECK(out_starts("HTTP/1.1 304 "));
  get("GET /hello.txt HTTP/1.1\r\nIf-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 200 "));
  get("GET /hello.txt HTTP/1.1\r\nIf-Modified-Since: garbage\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 200 "));
}

static void test_serve_ranges(void) {
  struct mg_str b;
  s_mode = SERVE_DIR;
  get("GET /hello.txt HTTP/1.1\r\nRange: bytes=1-3\r\n\r\n");
  b = out_body();
  CHECK(out_starts("HTTP/1.1 206 Partial Content\r\n") && out_has("Content-Range: bytes 1-3/5\r\n"));
  CHECK(b.len == 3 && memcmp(b.buf, "ell", 3) == 0);
  get("GET /hello.txt HTTP/1.1\r\nRange: bytes=-2\r\n\r\n");
  b = out_body();
  CHECK(out_has("Content-Range: bytes 3-4/5\r\n") && b.len == 2 && memcmp(b.buf, "lo", 2) == 0);
  get("GET /hello.txt HTTP/1.1\r\nRange: bytes=2-\r\n\r\n");
  CHECK(out_has("Content-Range: bytes 2-4/5\r\n") && out_body().len == 3);
  get("GET /hello.txt HTTP/1.1\r\nRange: bytes=3-100\r\n\r\n");
  CHECK(out_has("Content-Range: bytes 3-4/5\r\n") && out_body().len == 2);
  get("GET /hello.txt HTTP/1.1\r\nRange: bytes=5-\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 416 ") && out_has("Content-Range: bytes */5\r\n"));
  get("GET /hello.txt HTTP/1.1\r\nRange: bytes=0-1,3-4\r\n\r\n");  // ignored
  CHECK(out_starts("HTTP/1.1 200 ") && out_body().len == 5);
  get("GET /hello.txt HTTP/1.1\r\nRange: bytes=x-y\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 200 "));
  get("GET /hello.txt HTTP/1.1\r\nRange: bytes=1-2\r\nIf-Range: \"other\"\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 200 ") && out_body().len == 5);
}

static void test_serve_gzip(void) {
  struct mg_str b;
  s_mode = SERVE_DIR;
  get("GET /app.js HTTP/1.1\r\nAccept-Encoding: br, gzip;q=0.8\r\n\r\n");
  b = out_body();
  CHECK(out_has("Content-Encoding: gzip\r\n") && out_has("Vary: Accept-Encoding\r\n"));
  CHECK(out_has("Content-Type: text/javascript") && b.len == 6 && memcmp(b.buf, "GZDATA", 6) == 0);
  get("GET /app.js HTTP/1.1\r\nAccept-Encoding: gzip;q=0\r\n\r\n");
  b = out_body();
  CHECK(!out_has("Content-Encoding") && b.len == 9);
  get("GET /app.js HTTP/1.1\r\nAccept-Encoding: , gzip\r\n\r\n");
  CHECK(out_has("Content-Encoding: gzip\r\n") && out_body().len == 6);
  get("GET /hello.txt HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n");  // no .gz
  CHECK(!out_has("Content-Encoding") && !out_has("Vary") && out_body().len == 5);
  get("GET /app.js HTTP/1.1\r\n\r\n");
  CHECK(!out_has("Content-Encoding") && out_body().len == 9);
}

// A file larger than MG_HTTP_FILE_CHUNK: c->send stays bounded while the
// peer reads nothing, every byte arrives in order once it reads
static void test_serve_stream(void) {
  struct mg_connection *c;
  struct mg_str b;
  size_t i;
  bool same = true;
  s_mode = SERVE_DIR;
  fake_write_stall = true;
  c = req("GET /big.bin HTTP/1.1\r\n\r\nGET /hello.txt HTTP/1.1\r\n\r\n");
  CHECK(c != NULL && c->send.len <= MG_HTTP_FILE_CHUNK + 512 && c->pfn_data != NULL);
  CHECK(c->is_resp && c->recv.len > 0);  // the second request waits
  fake_write_stall = false;
  fake_write_limit = 10000;
  mg_io_check(c);
  CHECK(fake_finish(c));
  fake_write_limit = 0;
  CHECK(c->pfn_data == NULL && !c->is_resp && c->recv.len == 0);
  b = out_body();
  CHECK(out_has("Content-Length: 300000\r\n"));
  for (i = 0; i < 300000 && i < b.len; i++) same = same && b.buf[i] == (char) (i % 251);
  CHECK(same);
  CHECK(memcmp(b.buf + 300000, "HTTP/1.1 200 OK\r\n", 17) == 0);
  CHECK(fake_out.len > 300000 && memcmp(fake_out.buf + fake_out.len - 5, "hello", 5) == 0);
  // closed mid-file: the file is closed and the hook freed (ASan would tell)
  fake_write_stall = true;
  c = req("GET /big.bin HTTP/1.1\r\n\r\n");
  CHECK(c != NULL && c->pfn_data != NULL);
  mg_close_conn(c);
  fake_write_stall = false;
  // a range of a big file
  get("GET /big.bin HTTP/1.1\r\nRange: bytes=200000-\r\n\r\n");
  b = out_body();
  CHECK(out_has("Content-Range: bytes 200000-299999/300000\r\n") && b.len == 100000 &&
        b.buf[0] == (char) (200000 % 251));
  // served from MG_EV_HTTP_HDRS: streamed, then the connection closes
  s_mode = SERVE_IN_HDRS;
  c = fake_accept(s_lsn);
  fake_reset();
  CHECK(!fake_recv(c, "GET /big.bin HTTP/1.1\r\n\r\n", 25));
  CHECK(out_body().len == 300000);
}

// ---- uploads --------------------------------------------------------------------------
static void test_upload(void) {
  struct mg_connection *c;
  char p[256], *data;
  size_t size = 0;
  const char *head = "PUT /up/file.bin HTTP/1.1\r\nContent-Length: 600\r\n\r\n";
  char body[600];
  size_t i;
  for (i = 0; i < sizeof(body); i++) body[i] = (char) ('a' + i % 26);
  s_mode = UPLOAD;
  s_max = 1000;
  c = fake_accept(s_lsn);
  fake_reset();
  CHECK(fake_recv(c, head, strlen(head)));
  CHECK(c->pfn_data != NULL && fake_out.len == 0);
  CHECK(fake_recv(c, body, 250) && c->recv.len == 0);
  CHECK(fake_recv(c, body + 250, 350));
  CHECK(out_starts("HTTP/1.1 201 Created\r\n") && out_has("{\"name\":\"file.bin\",\"size\":600}"));
  path_of(p, sizeof(p), s_updir, "file.bin");
  data = mg_file_read(&mg_fs_posix, p, &size);
  CHECK(data != NULL && size == 600 && memcmp(data, body, 600) == 0);
  free(data);
  // keep-alive: the next request on the same connection, in the same read
  fake_reset();
  {
    char two[512];
    snprintf(two, sizeof(two), "PUT /x?name=q%%20r.txt HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                               "PUT /y.txt HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
    CHECK(fake_recv(c, two, strlen(two)));
  }
  CHECK(out_has("{\"name\":\"q r.txt\",\"size\":3}") && out_has("{\"name\":\"y.txt\",\"size\":0}"));
  mg_close_conn(c);
  // too large: 413 before the body, nothing written
  c = req("PUT /up/big.bin HTTP/1.1\r\nContent-Length: 1001\r\nExpect: 100-continue\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 413 ") && !out_has("100 Continue"));
  if (c != NULL) mg_close_conn(c);
  path_of(p, sizeof(p), s_updir, "big.bin");
  CHECK(mg_fs_posix.st(p, NULL, NULL) == 0);
  // beyond MG_MAX_RECV_SIZE: streamed, not 413
  s_max = (uint64_t) MG_MAX_RECV_SIZE * 2;
  c = req("PUT /huge.bin HTTP/1.1\r\nContent-Length: 6291456\r\nExpect: 100-continue\r\n\r\n");
  CHECK(c != NULL && out_starts("HTTP/1.1 100 Continue\r\n\r\n"));
  {
    static char chunk[65536];
    for (i = 0; i < 96 && c != NULL; i++) {
      memset(chunk, (int) i, sizeof(chunk));
      if (!fake_recv(c, chunk, sizeof(chunk))) c = NULL;
    }
  }
  CHECK(c != NULL && out_has("\"size\":6291456"));
  path_of(p, sizeof(p), s_updir, "huge.bin");
  CHECK(mg_fs_posix.st(p, &size, NULL) != 0 && size == 6291456);
  if (c != NULL) mg_close_conn(c);
  // unsafe names
  get("PUT /x?name=..%2fevil HTTP/1.1\r\nContent-Length: 1\r\n\r\nx");
  CHECK(out_starts("HTTP/1.1 400 "));
  get("PUT /x?name=.hidden HTTP/1.1\r\nContent-Length: 1\r\n\r\nx");
  CHECK(out_starts("HTTP/1.1 400 "));
  get("PUT /a%5cb HTTP/1.1\r\nContent-Length: 1\r\n\r\nx");
  CHECK(out_starts("HTTP/1.1 400 "));
  get("PUT /up/ HTTP/1.1\r\nContent-Length: 1\r\n\r\nx");
  CHECK(out_starts("HTTP/1.1 400 "));
  get("PUT /c.txt HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n");
  CHECK(out_starts("HTTP/1.1 411 "));
  // the connection dies mid-body: the partial file is removed
  c = req("PUT /partial.bin HTTP/1.1\r\nContent-Length: 100\r\n\r\n0123456789");
  CHECK(c != NULL && c->pfn_data != NULL);
  mg_close_conn(c);
  path_of(p, sizeof(p), s_updir, "partial.bin");
  CHECK(mg_fs_posix.st(p, NULL, NULL) == 0);
  {
    char name[64] = "";
    int n = 0;
    while (mg_fs_ls(&mg_fs_posix, s_updir, name, sizeof(name))) n += name[0] == '.';
    CHECK(n == 0);  // no temporary file left
  }
  // from MG_EV_HTTP_MSG (a body that fits in memory)
  s_mode = UPLOAD_IN_MSG;
  get("POST /m.txt HTTP/1.1\r\nContent-Length: 4\r\n\r\nmmmm");
  CHECK(out_has("{\"name\":\"m.txt\",\"size\":4}"));
  path_of(p, sizeof(p), s_updir, "m.txt");
  CHECK(mg_fs_posix.st(p, &size, NULL) != 0 && size == 4);
  s_max = 1000;
}

// One piece for mg_http_upload: POST /upload?QUERY with body `data` on a new
// connection (the response in fake_out); false if the connection was freed
static bool piece(const char *query, const char *data, size_t n) {
  char r[512];
  struct mg_connection *c;
  snprintf(r, sizeof(r), "POST /upload?%s HTTP/1.1\r\nContent-Length: %lu\r\n\r\n", query,
           (unsigned long) n);
  s_ret = -99;
  if ((c = req(r)) == NULL) return false;
  if (n > 0 && !fake_recv(c, data, n)) return false;
  mg_close_conn(c);
  return true;
}

static void test_upload_pieces(void) {
  char p[256], *data;
  size_t size = 0;
  s_mode = PIECES;
  s_max = 10;
  path_of(p, sizeof(p), s_updir, "pieces.bin");
  // offset 0 creates; the next offsets append
  CHECK(piece("file=pieces.bin&offset=0", "abcd", 4) && s_ret == 4);
  CHECK(out_starts("HTTP/1.1 200 OK\r\n") && out_has("{\"name\":\"pieces.bin\",\"size\":4}"));
  CHECK(piece("offset=4&file=pieces.bin", "efg", 3) && s_ret == 3);
  CHECK(out_has("{\"name\":\"pieces.bin\",\"size\":7}"));
  data = mg_file_read(&mg_fs_posix, p, &size);
  CHECK(data != NULL && size == 7 && memcmp(data, "abcdefg", 7) == 0);
  free(data);
  // a gap or a repeat: 409 with the size to resume from, nothing written
  CHECK(piece("file=pieces.bin&offset=9", "x", 1) && s_ret == -1);
  CHECK(out_starts("HTTP/1.1 409 ") && out_has("{\"name\":\"pieces.bin\",\"size\":7}"));
  CHECK(piece("file=pieces.bin&offset=4", "efg", 3) && s_ret == -1 && out_starts("HTTP/1.1 409 "));
  CHECK(mg_fs_posix.st(p, &size, NULL) != 0 && size == 7);
  // past max_size (10): 413, nothing written; up to it: taken
  CHECK(piece("file=pieces.bin&offset=7", "hijk", 4) && s_ret == -1 && out_starts("HTTP/1.1 413 "));
  CHECK(piece("file=pieces.bin&offset=7", "hij", 3) && s_ret == 3 && out_has("\"size\":10}"));
  CHECK(piece("file=pieces.bin&offset=10", "", 0) && s_ret == 0 && out_has("\"size\":10}"));
  // offset 0 again truncates
  CHECK(piece("file=pieces.bin&offset=0", "Z", 1) && s_ret == 1);
  CHECK(mg_fs_posix.st(p, &size, NULL) != 0 && size == 1);
  // an offset into a file that does not exist: 409 with size 0
  CHECK(piece("file=none.bin&offset=5", "x", 1) && s_ret == -1 && out_has("\"size\":0}"));
  path_of(p, sizeof(p), s_updir, "none.bin");
  CHECK(mg_fs_posix.st(p, NULL, NULL) == 0);
  // names and offsets refused with 400
  {
    static const char *bad[] = {"offset=0",
                                "file=&offset=0",
                                "file=..%2fevil&offset=0",
                                "file=.hidden&offset=0",
                                "file=a%5cb&offset=0",
                                "file=a%00b&offset=0",
                                "file=x.bin",
                                "file=x.bin&offset=",
                                "file=x.bin&offset=-1",
                                "file=x.bin&offset=1x",
                                "file=x.bin&offset=9999999999999999999"};
    size_t i;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
      CHECK(piece(bad[i], "x", 1) && s_ret == -1 && out_starts("HTTP/1.1 400 "));
    }
    path_of(p, sizeof(p), s_top, "evil");
    CHECK(mg_fs_posix.st(p, NULL, NULL) == 0);
    path_of(p, sizeof(p), s_updir, "x.bin");
    CHECK(mg_fs_posix.st(p, NULL, NULL) == 0);
  }
  // a directory of that name cannot be appended to
  path_of(p, sizeof(p), s_updir, "adir");
  mkdir(p, 0755);
  CHECK(piece("file=adir&offset=1", "x", 1) && s_ret == -1 && out_starts("HTTP/1.1 409 "));
  CHECK(piece("file=adir&offset=0", "x", 1) && s_ret == -1 && out_starts("HTTP/1.1 500 "));
  rmdir(p);
  // called before the body arrived (MG_EV_HTTP_HDRS): an error, no file
  s_mode = PIECES_IN_HDRS;
  {
    struct mg_connection *c = req("POST /upload?file=early.bin&offset=0 HTTP/1.1\r\n"
                                  "Content-Length: 5\r\n\r\nab");
    CHECK(c == NULL || c->is_closing);
    CHECK(s_ret == -1);
    if (c != NULL) mg_close_conn(c);
    path_of(p, sizeof(p), s_updir, "early.bin");
    CHECK(mg_fs_posix.st(p, NULL, NULL) == 0);
  }
  s_max = 1000;
}

static void rm_tree(const char *dir) {
  char name[256], p[512];
  name[0] = '\0';
  while (mg_fs_ls(&mg_fs_posix, dir, name, sizeof(name))) {
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    if (mg_fs_posix.st(p, NULL, NULL) & MG_FS_DIR) {
      rm_tree(p);
    } else {
      unlink(p);
    }
    name[0] = '\0';
  }
  rmdir(dir);
}

int main(void) {
  char p[256];
  static char big[300000];
  size_t i;
  strcpy(s_top, "/tmp/wgfsXXXXXX");
  if (mkdtemp(s_top) == NULL) return 1;
  snprintf(s_root, sizeof(s_root), "%s/www", s_top);
  snprintf(s_updir, sizeof(s_updir), "%s/up", s_top);
  mkdir(s_root, 0755);
  mkdir(s_updir, 0755);
  path_of(p, sizeof(p), s_root, "sub");
  mkdir(p, 0755);
  path_of(p, sizeof(p), s_root, "empty");
  mkdir(p, 0755);
  put_file(s_root, "hello.txt", "hello", 5);
  put_file(s_root, "x.foo", "foo", 3);
  put_file(s_root, "page.html", "<b>x</b>", 8);
  put_file(s_root, "404.html", "custom 404", 10);
  put_file(s_root, "sub/index.html", "<p>index</p>", 12);
  put_file(s_root, "a<b> &\".txt", "odd", 3);
  put_file(s_root, "app.js", "plain js;", 9);
  put_file(s_root, "app.js.gz", "GZDATA", 6);
  put_file(s_top, "secret.txt", "secret\n", 7);
  for (i = 0; i < sizeof(big); i++) big[i] = (char) (i % 251);
  put_file(s_root, "big.bin", big, sizeof(big));

  mg_mgr_init(&s_mgr);
  s_lsn = mg_http_listen(&s_mgr, "http://127.0.0.1:8000", srv_fn, NULL);
  test_fs_helpers();
  test_path();
  test_serve_basic();
  test_serve_traversal();
  test_serve_long_extra();
  test_serve_conditional();
  test_serve_ranges();
  test_serve_gzip();
  test_serve_stream();
  test_upload();
  test_upload_pieces();
  mg_mgr_free(&s_mgr);
  mg_iobuf_free(&fake_out);
  rm_tree(s_top);
  return check_summary();
}
