// wasmgoose — multipart/form-data bodies (RFC 7578, RFC 2046 section 5.1).
// SPDX-License-Identifier: MIT
#include "mongoose.h"

// Length of the line at s[i..n) without its line break ("\r\n" or "\n");
// *next is set past the break. Returns false if there is no break.
static bool mp_line(const char *s, size_t i, size_t n, size_t *len,
                    size_t *next) {
  const char *nl = (const char *) memchr(s + i, '\n', n - i);
  size_t e;
  if (nl == NULL) return false;
  e = (size_t) (nl - s);
  *next = e + 1;
  *len = (e > i && s[e - 1] == '\r' ? e - 1 : e) - i;
  return true;
}

static bool mp_ieq_prefix(const char *s, size_t n, const char *p) {
  size_t i, pn = strlen(p);
  if (n < pn) return false;
  for (i = 0; i < pn; i++) {
    int a = (unsigned char) s[i], b = (unsigned char) p[i];
    if (a >= 'A' && a <= 'Z') a += 32;
    if (a != b) return false;
  }
  return true;
}

// Finds the next delimiter "--" + boundary at the start of a line, at or
// after `from`; returns the offset of its first '-' (n if absent) and sets
// *bend to where the data before it ends (its line break excluded).
static size_t mp_find(const char *s, size_t from, size_t n, struct mg_str b,
                      size_t *bend) {
  size_t i = from;
  while (i + 2 + b.len <= n) {
    const char *p = (const char *) memchr(s + i, '-', n - i);
    if (p == NULL) break;
    i = (size_t) (p - s);
    if (i + 2 + b.len > n) break;
    if (i > 0 && s[i - 1] == '\n' && p[1] == '-' &&
        memcmp(p + 2, b.buf, b.len) == 0) {
      *bend = i >= 2 && s[i - 2] == '\r' ? i - 2 : i - 1;
      return i;
    }
    i++;
  }
  return n;
}

// Value of parameter `v` of a Content-Disposition value (quoted or token)
static struct mg_str mp_param(struct mg_str cd, const char *v) {
  return mg_http_get_header_var(cd, mg_str(v));
}

size_t mg_http_next_multipart(struct mg_str body, size_t ofs,
                              struct mg_http_part *part) {
  const char *s = body.buf;
  size_t n = body.len, i = ofs, len, next, end;
  struct mg_str b;
  struct mg_http_part pt;  // copied to *part only when the part is complete
  memset(&pt, 0, sizeof(pt));
  if (part != NULL) *part = pt;
  if (s == NULL || ofs >= n) return 0;
  // The delimiter line: "--" boundary, then CRLF ("--" after it: the end);
  // lines before the first one are a preamble, skipped
  for (;;) {
    if (!mp_line(s, i, n, &len, &next)) return 0;
    if (len >= 3 && s[i] == '-' && s[i + 1] == '-') break;
    i = next;
  }
  b = mg_str_n(s + i + 2, len - 2);
  while (b.len > 0 && (b.buf[b.len - 1] == ' ' || b.buf[b.len - 1] == '\t')) {
    b.len--;  // transport padding after the boundary
  }
  if (b.len == 0 || b.len > 70 + 2) return 0;
  if (b.len >= 2 && b.buf[b.len - 2] == '-' && b.buf[b.len - 1] == '-') {
    return 0;  // the close delimiter
  }
  // The part's headers, up to an empty line
  for (i = next;;) {
    if (!mp_line(s, i, n, &len, &next)) return 0;
    if (len == 0) break;
    if (mp_ieq_prefix(s + i, len, "content-disposition:")) {
      struct mg_str cd = mg_str_n(s + i + 20, len - 20);
      pt.name = mp_param(cd, "name");
      pt.filename = mp_param(cd, "filename");
    }
    i = next;
  }
  i = next;  // the body starts here and ends at the next delimiter
  end = mp_find(s, i, n, b, &len);
  if (end >= n) return 0;  // no closing delimiter: malformed or truncated
  if (len < i) len = i;    // no line break before it: an empty body
  pt.body = mg_str_n(s + i, len - i);
  if (part != NULL) *part = pt;
  return end;
}
