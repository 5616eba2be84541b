// libFuzzer target: the static file server's path handling. The input is
// split at its first NUL into a request target and header lines.
// 1. mg_http_path(): an accepted path starts with the root, and its segments
//    are neither empty, "." nor "..", and hold no backslash or control byte;
//    a target with a ".." segment (raw or %-encoded) is always refused.
// 2. mg_http_serve_dir() answers "GET <target> HTTP/1.1" plus the header lines
//    (ranges, conditionals, Accept-Encoding...) from a temporary web root
//    through the fake driver: the answer never holds the bytes of a file that
//    lies outside the root (unless the input itself holds those bytes).
// SPDX-License-Identifier: MIT
#include "fuzz_common.h"
#include "fake_driver.h"

#include <sys/stat.h>
#include <unistd.h>

#define SECRET "OUTSIDE-THE-ROOT-7f3a"
static char s_root[64];
static struct mg_mgr s_mgr;
static struct mg_connection *s_lsn;

static void fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_serve_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.root_dir = s_root;
    mg_http_serve_dir(c, (struct mg_http_message *) ev_data, &opts);
  }
}

static void put(const char *dir, const char *name, const char *data) {
  char p[128];
  snprintf(p, sizeof(p), "%s/%s", dir, name);
  if (!mg_file_write(&mg_fs_posix, p, data, strlen(data))) abort();
}

static char s_top[32] = "/tmp/wgfuzzXXXXXX";

static void cleanup(void) {
  static const char *names[] = {"www/sub/index.html", "www/sub", "www/a.txt.gz", "www/a.txt",
                                "www", "secret.txt"};
  char p[96];
  size_t i;
  for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    snprintf(p, sizeof(p), "%s/%s", s_top, names[i]);
    if (remove(p) != 0) (void) 0;
  }
  rmdir(s_top);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  char *top = s_top;
  char p[96];
  (void) argc, (void) argv;
  if (mkdtemp(top) == NULL) abort();
  atexit(cleanup);
  snprintf(s_root, sizeof(s_root), "%s/www", top);
  mkdir(s_root, 0755);
  snprintf(p, sizeof(p), "%s/sub", s_root);
  mkdir(p, 0755);
  put(top, "secret.txt", SECRET);
  put(s_root, "a.txt", "inside");
  put(s_root, "a.txt.gz", "gz-inside");
  put(s_root, "sub/index.html", "<p>index</p>");
  mg_log_set(MG_LL_NONE);
  mg_mgr_init(&s_mgr);
  s_lsn = mg_http_listen(&s_mgr, "http://127.0.0.1:80", fn, NULL);
  return 0;
}

// Does the target have a segment that decodes to ".."?
static bool has_dotdot(const char *t, size_t n) {
  size_t i = 0, k;
  while (i < n) {
    char seg[8];
    int d;
    while (i < n && t[i] == '/') i++;
    for (k = i; k < n && t[k] != '/'; k++) (void) 0;
    d = k - i < 7 ? mg_url_decode(t + i, k - i, seg, sizeof(seg), 0) : -1;
    if (d == 2 && seg[0] == '.' && seg[1] == '.') return true;
    i = k;
  }
  return false;
}

static bool contains(const uint8_t *data, size_t n, const char *s) {
  size_t i, k = strlen(s);
  for (i = 0; i + k <= n; i++) {
    if (memcmp(data + i, s, k) == 0) return true;
  }
  return false;
}

static void check_path(const char *t, size_t n) {
  char buf[128];
  size_t i, rl = strlen("/r");
  if (!mg_http_path("/r", mg_str_n(t, n), buf, sizeof(buf))) return;
  FUZZ_CHECK(!has_dotdot(t, n));
  FUZZ_CHECK(strlen(buf) < sizeof(buf) && strncmp(buf, "/r", rl) == 0);
  FUZZ_CHECK(buf[rl] == '\0' || buf[rl] == '/');
  for (i = rl; buf[i] != '\0'; i++) {
    unsigned char ch = (unsigned char) buf[i];
    FUZZ_CHECK(ch >= 0x20 && ch != 0x7f && ch != '\\');
    if (ch == '/') {
      FUZZ_CHECK(buf[i + 1] != '\0' && buf[i + 1] != '/');
      FUZZ_CHECK(!(buf[i + 1] == '.' && (buf[i + 2] == '/' || buf[i + 2] == '\0')));
      FUZZ_CHECK(!(buf[i + 1] == '.' && buf[i + 2] == '.' &&
                   (buf[i + 3] == '/' || buf[i + 3] == '\0')));
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t z = fuzz_nul(data, size), hl = z < size ? size - z - 1 : 0;
  struct mg_iobuf req = {NULL, 0, 0, 64};
  struct mg_connection *c;
  size_t i;
  if (size > 4096) return 0;
  check_path((const char *) data, z);
  mg_iobuf_add(&req, req.len, "GET ", 4);
  mg_iobuf_add(&req, req.len, data, z);
  mg_iobuf_add(&req, req.len, " HTTP/1.1\r\n", 11);
  mg_iobuf_add(&req, req.len, data + z + (z < size), hl);
  mg_iobuf_add(&req, req.len, "\r\n\r\n", 4);
  fake_reset();
  c = fake_accept(s_lsn);
  if (c != NULL) {
    if (fake_recv(c, req.buf, req.len)) mg_close_conn(c);
  }
  // (unless the input has it: a 301 echoes the target in its Location)
  for (i = 0; i + strlen(SECRET) <= fake_out.len && !contains(data, size, SECRET); i++) {
    FUZZ_CHECK(memcmp(fake_out.buf + i, SECRET, strlen(SECRET)) != 0);
  }
  mg_iobuf_free(&req);
  return 0;
}
