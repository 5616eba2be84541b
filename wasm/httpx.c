// WASM exports of the HTTP extras: multipart parts, credentials, client HEAD.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

#define EXPORT(name) __attribute__((export_name(name)))

static struct mg_http_part s_part;  // the last part mgw_next_multipart found

// mg_http_next_multipart over body[0..blen) from ofs; the part is at
// mgw_multipart_part() until the next call.
EXPORT("mgw_next_multipart")
int mgw_next_multipart(const char *body, int blen, int ofs) {
  return (int) mg_http_next_multipart(mg_str_n(body, (size_t) blen),
                                      (size_t) ofs, &s_part);
}

EXPORT("mgw_multipart_part") struct mg_http_part *mgw_multipart_part(void) {
  return &s_part;
}

// mg_http_creds into user[0..ulen) and pass[0..plen) (NUL-terminated)
EXPORT("mgw_http_creds")
void mgw_http_creds(struct mg_http_message *hm, char *user, int ulen,
                    char *pass, int plen) {
  mg_http_creds(hm, user, (size_t) ulen, pass, (size_t) plen);
}

// A client connection: the next response answers a HEAD request (no body)
EXPORT("mgw_http_head") void mgw_http_head(struct mg_connection *c, int on) {
  c->is_head = on ? 1 : 0;
}

// The header lines of the last request asked about (from the first name to
// the end of the last value) and a generation that changes whenever they
// differ: serve() keeps the decoded text of one generation and reuses it
// while requests repeat their header lines (a memcmp instead of a decode).
static char s_lines[2048];
static size_t s_lines_len;
static uint32_t s_lines_gen;

// Whether a[0..n) equals b[0..n), eight bytes at a time (wasi-libc's memcmp
// goes byte by byte)
static bool same_bytes(const char *a, const char *b, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    memcpy(&x, a + i, 8);
    memcpy(&y, b + i, 8);
    if (x != y) return false;
  }
  for (; i < n; i++) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

// The generation of hm's header lines (0: none, or too long to keep)
EXPORT("mgw_head_lines")
uint32_t mgw_head_lines(const struct mg_http_message *hm) {
  size_t n = 0, len;
  const char *from;
  while (n < MG_MAX_HTTP_HEADERS && hm->headers[n].name.len > 0) n++;
  if (n == 0) return 0;
  from = hm->headers[0].name.buf;
  len = (size_t) (hm->headers[n - 1].value.buf + hm->headers[n - 1].value.len -
                  from);
  if (len > sizeof(s_lines)) return 0;
  if (len != s_lines_len || !same_bytes(from, s_lines, len)) {
    memcpy(s_lines, from, len);
    s_lines_len = len;
    if (++s_lines_gen == 0) s_lines_gen = 1;
  }
  return s_lines_gen;
}
