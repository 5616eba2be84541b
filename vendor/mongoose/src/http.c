// wasmgoose — HTTP/1.x: message parser, helpers, server and client handlers.
// Written from RFC 9110/9112 and the API in MONGOOSE_API.md.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

#define HTTP_CHUNK_LINE_MAX 256  // longest chunk-size line (with extensions)
#define HTTP_LEN_SLOT 20         // room for a decimal Content-Length
#define HTTP_HEX_SLOT 16         // room for a hexadecimal chunk size

// http_parse() flags
#define HTTP_RESPONSE 1  // the start line is a status line
#define HTTP_TOO_MANY 2  // failed: more than MG_MAX_HTTP_HEADERS headers
#define HTTP_CONN_CLOSE 4       // Connection: close
#define HTTP_CONN_KEEP_ALIVE 8  // Connection: keep-alive

// ---- Small string helpers -------------------------------------------------------
// mg_str_n() that can be inlined
static struct mg_str str_n(const char *s, size_t n) {
  struct mg_str r;
  r.buf = (char *) s;
  r.len = n;
  return r;
}

static int lc(int ch) {
  return ch >= 'A' && ch <= 'Z' ? ch + 'a' - 'A' : ch;
}

static bool is_ws(int ch) {
  return ch == ' ' || ch == '\t';
}

static bool is_digit(int ch) {
  return ch >= '0' && ch <= '9';
}

static bool is_alpha(int ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static int hex_val(int ch) {
  if (is_digit(ch)) return ch - '0';
  ch = lc(ch);
  return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

// RFC 9110 token characters: ALPHA, DIGIT and !#$%&'*+-.^_`|~ (a byte per
// character: one load, where a bitmap needs a variable shift; 128 and up
// are zero)
static const unsigned char s_tchar[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0,
};
static bool is_tchar(int ch) {
  return s_tchar[(unsigned char) ch] != 0;
}

// Case-insensitive comparison of a with the first n bytes of b
static bool ieq_n(struct mg_str a, const char *b, size_t n) {
  size_t i;
  if (a.len != n) return false;
  for (i = 0; i < n; i++) {
    if (lc((unsigned char) a.buf[i]) != lc((unsigned char) b[i])) return false;
  }
  return true;
}

static bool eq(struct mg_str a, const char *b) {
  size_t n = strlen(b);
  return a.len == n && memcmp(a.buf, b, n) == 0;
}

// Case-insensitive comparison of a with `lower`, which has no capitals
static bool ieq(struct mg_str a, const char *lower) {
  size_t i, n = strlen(lower);
  if (a.len != n) return false;
  for (i = 0; i < n && lc((unsigned char) a.buf[i]) == lower[i]; i++) (void) 0;
  return i == n;
}

static bool has_prefix(struct mg_str s, const char *lower) {
  size_t n = strlen(lower);
  return s.len >= n && ieq(str_n(s.buf, n), lower);
}

// s[0..n) without surrounding spaces and tabs
static struct mg_str trim(const char *s, size_t n) {
  while (n > 0 && is_ws(*s)) s++, n--;
  while (n > 0 && is_ws(s[n - 1])) n--;
  return str_n(s, n);
}

// Copies s[0..n) into dst as a C string; false (dst emptied) if it won't fit
static bool copy_str(char *dst, size_t dlen, const char *s, size_t n) {
  bool fits = n < dlen;
  if (dlen == 0) return false;
  if (!fits) n = 0;
  if (n > 0) memmove(dst, s, n);
  dst[n] = '\0';
  return fits;
}

// Writes v in the given base (lowercase digits) to p; returns the digit count
static size_t put_num(char *p, size_t v, unsigned base) {
  size_t t = v, n = 1, i;
  while (t >= base) t /= base, n++;
  for (i = n; i-- > 0; v /= base) p[i] = "0123456789abcdef"[v % base];
  return n;
}

static bool status_has_body(int status) {
  return status >= 200 && status != 204 && status != 304;
}

// ---- Head parsing ---------------------------------------------------------------
// What http_parse() learns besides hm: flags and the framing headers, noted
// while the headers are split so that nothing has to look them up again.
struct http_info {
  unsigned flags;    // HTTP_RESPONSE, HTTP_TOO_MANY, HTTP_CONN_*
  int clen;          // Content-Length: 1 present (value cl), 0 absent, -1 invalid
  unsigned nte;      // number of Transfer-Encoding headers
  struct mg_str te;  // the first one's value
  uint64_t cl;       // the body length (also without Content-Length)
};

// Index of the first control character or DEL (CR, LF and HTAB included) in
// s[i..n), or n. Words of 8 bytes are tested at once ("has a byte < 0x20 or
// == 0x7f", which may also flag bytes above the first such one).
static size_t skip_text(const unsigned char *s, size_t i, size_t n) {
  const uint64_t ones = 0x0101010101010101ULL, highs = ones << 7;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    memcpy(&x, s + i, 8);
    y = x ^ (ones * 0x7f);
    x = (((x - ones * 0x20) & ~x) | ((y - ones) & ~y)) & highs;
    if (x != 0) {
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
      return i + (size_t) __builtin_ctzll(x) / 8;  // the lowest flag is exact
#else
      break;
#endif
    }
  }
  while (i < n && s[i] >= ' ' && s[i] != 0x7f) i++;
  return i;
}

// Takes the line at s[*i..n): *e is set where its text ends (before "\r\n" or
// "\n") and *i past the break. Returns 1, 0 if the break has not arrived yet,
// or -1 on a control character but HTAB, DEL, or a CR not before LF.
static int take_line(const unsigned char *s, size_t *i, size_t n, size_t *e) {
  size_t k = *i;
  while ((k = skip_text(s, k, n)) < n && s[k] == '\t') k++;
  if (k >= n || (s[k] == '\r' && k + 1 == n)) return 0;
  if (s[k] != '\n' && (s[k] != '\r' || s[k + 1] != '\n')) return -1;
  *e = k;
  *i = k + 1 + (s[k] == '\r');
  return 1;
}

int mg_http_get_request_len(const unsigned char *buf, size_t buf_len) {
  size_t i = 0, start, e;
  bool seen = false;  // a non-empty line was seen: leading empty lines are skipped
  int r;
  if (buf_len > (size_t) INT32_MAX) buf_len = (size_t) INT32_MAX;
  for (;;) {
    start = i;
    if ((r = take_line(buf, &i, buf_len, &e)) <= 0) return r;
    if (e > start) {
      seen = true;
    } else if (seen) {
      return (int) i;
    }
  }
}

// Request targets accepted: origin-form ("/..."), absolute-form (scheme ":"
// ...), "*" for OPTIONS and authority-form for CONNECT (RFC 9112 3.2).
static bool target_ok(struct mg_str method, struct mg_str t) {
  size_t i = 1;
  if (t.buf[0] == '/') return true;
  if (t.len == 1 && t.buf[0] == '*') return eq(method, "OPTIONS");
  if (eq(method, "CONNECT")) return true;
  if (!is_alpha(t.buf[0])) return false;  // scheme = ALPHA *(ALPHA / DIGIT / "+-.")
  while (i < t.len && (is_alpha(t.buf[i]) || is_digit(t.buf[i]) ||
                       t.buf[i] == '+' || t.buf[i] == '-' || t.buf[i] == '.')) {
    i++;
  }
  return i < t.len && t.buf[i] == ':';
}

// Whether the 8 bytes at p hold a ' ', '?' or HTAB (may say yes wrongly
// after the first such byte, never no wrongly: "has a zero byte" on x^c)
static bool has_target_stop(const char *p) {
  const uint64_t ones = 0x0101010101010101ULL, highs = ones << 7;
  uint64_t x, a, b, c;
  memcpy(&x, p, 8);
  a = x ^ (ones * ' ');
  b = x ^ (ones * '?');
  c = x ^ (ones * '\t');
  return ((((a - ones) & ~a) | ((b - ones) & ~b) | ((c - ones) & ~c)) & highs) != 0;
}

// Parses the start line into hm; returns 0 (malformed), 1 (request) or
// HTTP_RESPONSE + 1 (status line).
static int parse_start(struct mg_str l, struct mg_http_message *hm) {
  const char *p = l.buf, *end = l.buf + l.len, *q = NULL;
  bool tok = true, tab = false;  // the method is a token; the target has a HTAB
  size_t i;
  for (; p < end && *p != ' '; p++) tok = tok & is_tchar(*p);
  if (p == end || p == l.buf) return 0;
  hm->method = str_n(l.buf, (size_t) (p - l.buf));
  // The target ends at ' '; '?' starts the query, a HTAB fails. Words of 8
  // bytes without any of the three are skipped at once (long query strings)
  for (hm->uri.buf = (char *) ++p; p < end && *p != ' ';) {
    if (end - p >= 8 && !has_target_stop(p)) {
      p += 8;
      continue;
    }
    tab = tab | (*p == '\t');
    if (*p == '?' && q == NULL) q = p;
    p++;
  }
  hm->uri.len = (size_t) (p - hm->uri.buf);
  hm->proto = str_n(p + (p < end), (size_t) (end - p - (p < end)));
  if (has_prefix(hm->method, "http/")) {  // "HTTP/1.1 200 OK"
    if (hm->uri.len != 3) return 0;
    for (i = 0; i < 3; i++) {
      if (!is_digit(hm->uri.buf[i])) return 0;
    }
    return HTTP_RESPONSE + 1;
  }
  // A HTAB elsewhere fails too: the method is a token, the version exact
  if (p == end || hm->uri.len == 0 || !tok || tab) return 0;
  if (!eq(hm->proto, "HTTP/1.1") && !eq(hm->proto, "HTTP/1.0")) return 0;
  if (!target_ok(hm->method, hm->uri)) return 0;
  if (q != NULL) {
    hm->query = str_n(q + 1, (size_t) (p - q - 1));
    hm->uri.len = (size_t) (q - hm->uri.buf);
  }
  return 1;
}

// The "close" and "keep-alive" tokens of a Connection list, as HTTP_CONN_*
static unsigned conn_tokens(struct mg_str v) {
  unsigned bits = 0;
  size_t j, k;
  for (j = 0; j < v.len; j = k + 1) {
    struct mg_str t;
    for (k = j; k < v.len && v.buf[k] != ','; k++) (void) 0;
    t = trim(v.buf + j, k - j);
    if (ieq(t, "close")) bits |= HTTP_CONN_CLOSE;
    if (ieq(t, "keep-alive")) bits |= HTTP_CONN_KEEP_ALIVE;
  }
  return bits;
}

// Content-Length: 1 to 15 digits, the same in every copy
static void note_clen(struct http_info *in, struct mg_str v) {
  uint64_t x = 0;
  size_t k;
  if (in->clen < 0) return;
  for (k = 0; k < v.len && k < 16 && is_digit(v.buf[k]); k++) {
    x = x * 10 + (uint64_t) (v.buf[k] - '0');
  }
  if (k == 0 || k != v.len || k > 15 || (in->clen > 0 && x != in->cl)) {
    in->clen = -1;
  } else {
    in->clen = 1, in->cl = x;
  }
}

// Is the n-byte token s (n >= 8) `lower`, ignoring case? A word at a time:
// in a token, ORing 0x20 into each byte folds case and otherwise only changes
// '^' and '_', which `lower` (letters and '-') lacks.
static bool token_is(const char *s, const char *lower, size_t n) {
  const uint64_t fold = 0x2020202020202020ULL;
  uint64_t a, b;
  size_t i;
  for (i = 0; i < n; i += 8) {
    if (i + 8 > n) i = n - 8;  // the last word overlaps the one before
    memcpy(&a, s + i, 8);
    memcpy(&b, lower + i, 8);
    if ((a | fold) != b) return false;
  }
  return true;
}

// "Name: value" with a token name, no space before ':' and no obs-fold. The
// headers framing depends on are noted in *in (names told apart by length).
static bool parse_header(const char *l, size_t n, struct mg_http_header *h,
                         struct http_info *in) {
  size_t i = 0;
  while (is_tchar(l[i])) i++;  // l[n] is the CR or LF after the line
  if (i == 0 || l[i] != ':') return false;
  h->name = str_n(l, i);
  h->value = trim(l + i + 1, n - i - 1);
  if (i == 10 && token_is(l, "connection", 10)) {
    in->flags |= conn_tokens(h->value);
  } else if (i == 14 && token_is(l, "content-length", 14)) {
    note_clen(in, h->value);
  } else if (i == 17 && token_is(l, "transfer-encoding", 17) && in->nte++ == 0) {
    in->te = h->value;
  }
  return true;
}

// mg_http_parse() that also fills *in. One pass over the head both validates
// its bytes and splits it; a malformed line only makes the result -1 once the
// head is complete and free of bad bytes (as mg_http_get_request_len says).
static int http_parse(const char *s, size_t len, struct mg_http_message *hm,
                      struct http_info *in) {
  const unsigned char *u = (const unsigned char *) s;
  size_t i = 0, start, e, nh = 0, rest, lim = len;
  int r, kind;
  bool ok;
  if (lim > (size_t) INT32_MAX) lim = (size_t) INT32_MAX;  // as for the length
  memset(in, 0, sizeof(*in));
  do {  // empty lines before the start line are skipped
    start = i;
    if ((r = take_line(u, &i, lim, &e)) <= 0) return r;
  } while (e == start);
  memset(hm, 0, offsetof(struct mg_http_message, headers));
  ok = (kind = parse_start(str_n(s + start, e - start), hm)) != 0;
  if (ok) in->flags = (unsigned) kind - 1;
  for (;;) {
    start = i;
    if ((r = take_line(u, &i, lim, &e)) <= 0) {
      in->flags = 0;
      return r;
    }
    if (e == start) break;  // the empty line that ends the head
    if (ok && nh >= MG_MAX_HTTP_HEADERS) {
      in->flags |= HTTP_TOO_MANY;
      ok = false;
    }
    ok = ok && parse_header(s + start, e - start, &hm->headers[nh++], in);
  }
  if (!ok || in->clen < 0) return -1;
  // The list ends at the first empty name: one terminator is enough (zeroing
  // every unused entry cost more than the rest of the parse)
  if (nh < MG_MAX_HTTP_HEADERS) memset(&hm->headers[nh], 0, sizeof(hm->headers[0]));
  hm->head = str_n(hm->method.buf, (size_t) (s + i - hm->method.buf));
  rest = len - i;
  if (in->clen == 0) {  // no Content-Length: a response runs until the close
    bool to_close = (in->flags & HTTP_RESPONSE) && status_has_body(mg_http_status(hm));
    in->cl = to_close ? rest : 0;
  }
  hm->body = str_n(s + i, in->cl < rest ? (size_t) in->cl : rest);
  hm->message = str_n(hm->head.buf, hm->head.len + hm->body.len);
  return (int) i;
}

int mg_http_parse(const char *s, size_t len, struct mg_http_message *hm) {
  struct http_info in;
  return http_parse(s, len, hm, &in);
}

struct mg_str *mg_http_get_header(struct mg_http_message *hm, const char *name) {
  size_t i, n = strlen(name);
  for (i = 0; i < MG_MAX_HTTP_HEADERS && hm->headers[i].name.len > 0; i++) {
    if (ieq_n(hm->headers[i].name, name, n)) return &hm->headers[i].value;
  }
  return NULL;
}

int mg_http_status(const struct mg_http_message *hm) {
  int status = 0;
  size_t i;
  for (i = 0; i < hm->uri.len && i < 9 && is_digit(hm->uri.buf[i]); i++) {
    status = status * 10 + hm->uri.buf[i] - '0';
  }
  return status;
}

// ---- Variables and URL encoding --------------------------------------------------
static bool is_var_sep(int ch) {
  return is_ws(ch) || ch == ';' || ch == ',';
}

struct mg_str mg_http_get_header_var(struct mg_str s, struct mg_str v) {
  size_t i = 0, ks, ke, vs, ve;
  while (v.len > 0 && i < s.len) {
    while (i < s.len && is_var_sep(s.buf[i])) i++;
    for (ks = i; i < s.len && !is_var_sep(s.buf[i]) && s.buf[i] != '='; i++) (void) 0;
    for (ke = i; i < s.len && is_ws(s.buf[i]); i++) (void) 0;
    if (i >= s.len || s.buf[i] != '=') continue;  // a bare token, like "Basic"
    for (i++; i < s.len && is_ws(s.buf[i]); i++) (void) 0;
    if (i < s.len && s.buf[i] == '"') {  // quoted: up to the closing quote
      for (vs = ++i; i < s.len && s.buf[i] != '"'; i += s.buf[i] == '\\' ? 2 : 1) (void) 0;
      ve = i < s.len ? i++ : s.len;
    } else {
      for (vs = i; i < s.len && !is_var_sep(s.buf[i]); i++) (void) 0;
      ve = i;
    }
    if (ke - ks == v.len && memcmp(s.buf + ks, v.buf, v.len) == 0) {
      return str_n(s.buf + vs, ve - vs);
    }
  }
  return str_n(NULL, 0);
}

struct mg_str mg_http_var(struct mg_str buf, struct mg_str name) {
  size_t i, k;
  for (i = 0; buf.buf != NULL && name.len > 0 && i < buf.len; i = k + 1) {
    const char *eq;
    for (k = i; k < buf.len && buf.buf[k] != '&'; k++) (void) 0;
    eq = (const char *) memchr(buf.buf + i, '=', k - i);
    if ((size_t) ((eq ? eq : buf.buf + k) - (buf.buf + i)) == name.len &&
        memcmp(buf.buf + i, name.buf, name.len) == 0) {
      return eq ? str_n(eq + 1, (size_t) (buf.buf + k - eq - 1))
                : str_n(buf.buf + k, 0);
    }
  }
  return str_n(NULL, 0);
}

// Decodes %XX (and '+' when form is set); returns the length, -2 when `to`
// is too small, -3 on a bad escape. `to` is always NUL-terminated.
static int url_decode(const char *s, size_t n, char *to, size_t tolen, int form) {
  size_t i, j = 0;
  int rc = 0;
  if (to == NULL || tolen == 0) return -2;
  for (i = 0; i < n; i++, j++) {
    if (j + 1 >= tolen) {
      rc = -2;
      break;
    }
    if (s[i] == '%') {
      int hi = i + 2 < n ? hex_val(s[i + 1]) : -1;
      int lo = hi < 0 ? -1 : hex_val(s[i + 2]);
      if (lo < 0) {
        rc = -3;
        break;
      }
      to[j] = (char) (hi << 4 | lo);
      i += 2;
    } else {
      to[j] = form && s[i] == '+' ? ' ' : s[i];
    }
  }
  to[j] = '\0';
  return rc != 0 ? rc : (int) j;
}

int mg_url_decode(const char *s, size_t n, char *to, size_t to_len, int form) {
  int r = url_decode(s, n, to, to_len, form);
  return r < 0 ? -1 : r;
}

int mg_http_get_var(const struct mg_str *buf, const char *name, char *dst,
                    size_t dst_len) {
  struct mg_str v;
  int r;
  if (dst == NULL || dst_len == 0) return -2;
  dst[0] = '\0';
  if (name == NULL) return -2;
  if (buf == NULL || buf->buf == NULL) return -1;
  v = mg_http_var(*buf, mg_str(name));
  if (v.buf == NULL) return -1;
  r = url_decode(v.buf, v.len, dst, dst_len, 1);
  if (r < 0) dst[0] = '\0';
  return r;
}

size_t mg_url_encode(const char *s, size_t n, char *buf, size_t len) {
  size_t i, j = 0;
  for (i = 0; i < n; i++) {
    unsigned char ch = (unsigned char) s[i];
    if (is_digit(ch) || (lc(ch) >= 'a' && lc(ch) <= 'z') || (ch != 0 && strchr("-._~", ch) != NULL)) {
      if (j + 1 >= len) break;
      buf[j++] = (char) ch;
    } else {
      if (j + 3 >= len) break;
      buf[j++] = '%';
      buf[j++] = "0123456789ABCDEF"[ch >> 4];
      buf[j++] = "0123456789ABCDEF"[ch & 15];
    }
  }
  if (len > 0) buf[i < n ? 0 : j] = '\0';
  return i < n ? 0 : j;
}

// ---- Base64 and credentials ---------------------------------------------------------
static const char s_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_val(int ch) {
  const char *p = ch == 0 ? NULL : strchr(s_b64, ch);
  return p == NULL ? -1 : (int) (p - s_b64);
}

// Decodes standard base64 (padding optional); returns the length, -1 if
// malformed or too long for `to`, which is NUL-terminated.
static int b64_decode(const char *s, size_t n, char *to, size_t tolen) {
  size_t i, j = 0, bits = 0;
  uint32_t acc = 0;
  while (n > 0 && s[n - 1] == '=') n--;
  for (i = 0; i < n; i++) {
    int v = b64_val(s[i]);
    if (v < 0) return -1;
    acc = acc << 6 | (uint32_t) v, bits += 6;
    if (bits >= 8) {
      if (j + 1 >= tolen) return -1;
      bits -= 8;
      to[j++] = (char) (acc >> bits & 0xff);
    }
  }
  if (tolen == 0 || bits >= 6) return -1;  // a single dangling character
  to[j] = '\0';
  return (int) j;
}

void mg_http_bauth(struct mg_connection *c, const char *user, const char *pass) {
  size_t ul = user ? strlen(user) : 0, pl = pass ? strlen(pass) : 0;
  size_t n = ul + 1 + pl, i, k;
  mg_send(c, "Authorization: Basic ", 21);
  for (i = 0; i < n; i += 3) {  // base64 of "user:pass", 3 bytes at a time
    uint32_t v = 0;
    char q[4];
    for (k = i; k < i + 3; k++) {
      unsigned char b = k >= n ? 0 : k < ul ? (unsigned char) user[k]
                            : k == ul ? ':' : (unsigned char) pass[k - ul - 1];
      v = v << 8 | b;
    }
    q[0] = s_b64[v >> 18 & 63], q[1] = s_b64[v >> 12 & 63];
    q[2] = i + 1 < n ? s_b64[v >> 6 & 63] : '=';
    q[3] = i + 2 < n ? s_b64[v & 63] : '=';
    mg_send(c, q, sizeof(q));
  }
  mg_send(c, "\r\n", 2);
}

void mg_http_creds(struct mg_http_message *hm, char *user, size_t ulen,
                   char *pass, size_t plen) {
  struct mg_str *v = mg_http_get_header(hm, "Authorization"), t;
  if (ulen > 0) user[0] = '\0';
  if (plen > 0) pass[0] = '\0';
  if (v != NULL && has_prefix(*v, "basic ")) {
    // "user:pass" is decoded into pass, then split
    struct mg_str b = trim(v->buf + 6, v->len - 6);
    int n = b64_decode(b.buf, b.len, pass, plen);
    char *colon = n > 0 ? (char *) memchr(pass, ':', (size_t) n) : NULL;
    if (colon != NULL && copy_str(user, ulen, pass, (size_t) (colon - pass))) {
      memmove(pass, colon + 1, (size_t) (pass + n - colon));
    } else if (plen > 0) {
      pass[0] = '\0';
    }
  } else if (v != NULL && has_prefix(*v, "bearer ")) {
    t = trim(v->buf + 7, v->len - 7);
    copy_str(pass, plen, t.buf, t.len);
  } else if ((v = mg_http_get_header(hm, "Cookie")) != NULL &&
             (t = mg_http_get_header_var(*v, mg_str("access_token"))).buf != NULL) {
    copy_str(pass, plen, t.buf, t.len);
  } else {
    mg_http_get_var(&hm->query, "access_token", pass, plen);
  }
}

// ---- Responses ------------------------------------------------------------------
const char *mg_http_status_text(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 305: return "Use Proxy";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 407: return "Proxy Authentication Required";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

// Room for n more bytes at the end of c->send (grown as mg_iobuf_add grows
// it); NULL when out of memory. The caller writes them and adds to len.
static char *send_room(struct mg_connection *c, size_t n) {
  struct mg_iobuf *io = &c->send;
  if (io->size - io->len < n) {
    if (mg_iobuf_add(io, io->len, NULL, n) == 0) return NULL;
    io->len -= n;
  }
  return (char *) io->buf + io->len;
}

static bool put(struct mg_connection *c, const void *buf, size_t len) {
  return len == 0 || mg_iobuf_add(&c->send, c->send.len, buf, len) != 0;
}

// The response is complete: let the next pipelined request be parsed
static void http_finish(struct mg_connection *c) {
  c->is_resp = 0;
  if (c->is_close_after) {
    c->is_draining = 1;
  } else if (c->recv.len > 0) {
    c->is_resume = 1;
  }
  mg_io_check(c);
}

// Writes a number into a slot of `width` spaces at ofs in c->send and closes
// the gap behind it; returns the number of bytes removed.
static size_t fill_slot(struct mg_connection *c, size_t ofs, size_t width,
                        size_t v, unsigned base) {
  size_t n = put_num((char *) c->send.buf + ofs, v, base);
  mg_iobuf_del(&c->send, ofs + n, width - n);
  return width - n;
}

// Appends, in one go, the status line, hdrs, the framing headers, the empty
// line and (but for HEAD requests) the blen-byte body. When the length is not
// `known` there is no body yet and Content-Length is a slot of HTTP_LEN_SLOT
// spaces ending 4 bytes before the returned offset. Statuses without a body
// get no Content-Length. Returns the offset of the body, 0 on failure.
static size_t http_head(struct mg_connection *c, int status, const char *hdrs,
                        size_t hlen, bool known, const void *body, size_t blen) {
  const char *reason = mg_http_status_text(status);
  size_t rlen = strlen(reason), bn = 0, ofs;
  char *p, *p0;
  if (hdrs == NULL) hdrs = "", hlen = 0;
  if (known && !c->is_head) bn = blen;
  // 81: "HTTP/1.1 ", 10 digits, " ", CRLF, Connection, Content-Length, 2 CRLF
  if (hlen > SIZE_MAX / 4 || bn > SIZE_MAX / 4 ||
      (p = p0 = send_room(c, 81 + rlen + hlen + bn)) == NULL) {
    return 0;
  }
  memcpy(p, "HTTP/1.1 ", 9);
  p += 9;
  p += put_num(p, (size_t) (status < 0 ? 0 : status), 10);
  *p++ = ' ';
  memcpy(p, reason, rlen);
  p += rlen;
  *p++ = '\r', *p++ = '\n';
  memcpy(p, hdrs, hlen);
  p += hlen;
  if (c->is_close_after) {
    memcpy(p, "Connection: close\r\n", 19);
    p += 19;
  }
  if (status_has_body(status)) {
    memcpy(p, "Content-Length: ", 16);
    p += 16;
    if (!known) memset(p, ' ', HTTP_LEN_SLOT);
    p += known ? put_num(p, blen, 10) : HTTP_LEN_SLOT;
    *p++ = '\r', *p++ = '\n';
  }
  *p++ = '\r', *p++ = '\n';
  if (bn > 0 && body != NULL) {
    memcpy(p, body, bn);
  } else if (bn > 0) {
    memset(p, 0, bn);  // as mg_iobuf_add() reads a NULL buffer
  }
  ofs = c->send.len + (size_t) (p - p0);
  c->send.len = ofs + bn;
  return ofs;
}

// Ends a reply whose head starts at `start` and body at `body`
static void http_end_reply(struct mg_connection *c, int status, size_t start,
                           size_t body) {
  if (body == 0) {
    c->send.len = start;
    mg_error(c, "out of memory");
    return;
  }
  if (c->is_head || !status_has_body(status)) c->send.len = body;
  if (status >= 200) {
    http_finish(c);
  } else {
    mg_io_check(c);  // an interim response: the request is still pending
  }
}

void mg_http_reply_raw(struct mg_connection *c, int status, const char *hdrs,
                       size_t hlen, const void *body, size_t blen) {
  size_t start = c->send.len;
  http_end_reply(c, status, start, http_head(c, status, hdrs, hlen, true, body, blen));
}

void mg_http_reply(struct mg_connection *c, int status, const char *headers,
                   const char *fmt, ...) {
  size_t start = c->send.len;
  size_t ofs = http_head(c, status, headers, headers ? strlen(headers) : 0, false,
                         NULL, 0);
  if (ofs > 0 && status_has_body(status)) {
    va_list ap;
    va_start(ap, fmt);
    mg_vxprintf(mg_pfn_iobuf, &c->send, fmt, &ap);
    va_end(ap);
    ofs -= fill_slot(c, ofs - 4 - HTTP_LEN_SLOT, HTTP_LEN_SLOT, c->send.len - ofs, 10);
  }
  http_end_reply(c, status, start, ofs);
}

void mg_http_write_chunk(struct mg_connection *c, const char *buf, size_t len) {
  if (!c->is_head) {
    char line[HTTP_HEX_SLOT + 2];
    size_t n = put_num(line, len, 16);
    line[n++] = '\r', line[n++] = '\n';
    if (!put(c, line, n) || !put(c, buf, len) || !put(c, "\r\n", 2)) {
      mg_error(c, "out of memory");
      return;
    }
  }
  if (len == 0) {
    http_finish(c);
  } else {
    mg_io_check(c);
  }
}

void mg_http_printf_chunk(struct mg_connection *c, const char *fmt, ...) {
  size_t start = c->send.len, ofs = start + HTTP_HEX_SLOT + 2, len;
  char slot[HTTP_HEX_SLOT + 2];
  va_list ap;
  memset(slot, ' ', HTTP_HEX_SLOT);
  slot[HTTP_HEX_SLOT] = '\r', slot[HTTP_HEX_SLOT + 1] = '\n';
  if (!put(c, slot, sizeof(slot))) {
    mg_error(c, "out of memory");
    return;
  }
  va_start(ap, fmt);
  mg_vxprintf(mg_pfn_iobuf, &c->send, fmt, &ap);
  va_end(ap);
  len = c->send.len - ofs;
  if (len == 0 || c->is_head) {  // write_chunk does the rest (no data read)
    c->send.len = start;
    mg_http_write_chunk(c, "", len);
  } else if (!put(c, "\r\n", 2)) {
    mg_error(c, "out of memory");
  } else {
    fill_slot(c, start, HTTP_HEX_SLOT, len, 16);
    mg_io_check(c);
  }
}

// ---- Message framing ----------------------------------------------------------------
// Length of the line at s[0..len) without its "\r\n" or "\n"; *next is set
// past the break. -1: no break yet (within max bytes); -2: malformed.
static long line_len(const char *s, size_t len, size_t max, size_t *next) {
  size_t i;
  for (i = 0; i < len && i < max; i++) {
    unsigned char ch = (unsigned char) s[i];
    if (ch == '\n') {
      *next = i + 1;
      return (long) (i > 0 && s[i - 1] == '\r' ? i - 1 : i);
    }
    if (ch == '\r' ? i + 1 < len && s[i + 1] != '\n' : ch < ' ' && ch != '\t') {
      return -2;
    }
  }
  return i < max ? -1 : -2;
}

// Walks the chunked body at b[0..len). Returns the bytes it takes once the
// last chunk and the trailers are all there, 0 if incomplete, -400 or -413.
// With `decode`, the data is also moved together to b[0..*dlen).
static long http_unchunk(char *b, size_t len, bool decode, size_t *dlen) {
  size_t i = 0, sum = 0, next = 0, tstart;
  long ll;
  for (;;) {
    uint64_t sz = 0;
    size_t k = 0;
    if ((ll = line_len(b + i, len - i, HTTP_CHUNK_LINE_MAX, &next)) < 0) {
      return ll == -1 ? 0 : -400;
    }
    for (; k < (size_t) ll && hex_val(b[i + k]) >= 0; k++) {
      if (k >= 15) return -400;
      sz = sz << 4 | (uint64_t) hex_val(b[i + k]);
    }
    while (k > 0 && k < (size_t) ll && is_ws(b[i + k])) k++;
    if (k == 0 || (k < (size_t) ll && b[i + k] != ';')) return -400;
    i += next;
    if (sz == 0) break;
    if (sz > MG_MAX_RECV_SIZE - sum) return -413;
    if (len - i < sz) return 0;
    ll = line_len(b + i + sz, len - i - (size_t) sz, 2, &next);
    if (ll != 0) return ll == -1 ? 0 : -400;  // data must end with a line break
    if (decode) memmove(b + sum, b + i, (size_t) sz);
    sum += (size_t) sz, i += (size_t) sz + next;
  }
  for (tstart = i; ll != 0; i += next) {  // trailers, up to an empty line
    ll = line_len(b + i, len - i, MG_HTTP_MAX_HEAD - (i - tstart), &next);
    if (ll < 0) return ll == -1 ? 0 : -400;
  }
  *dlen = sum;
  return (long) i;
}

// Frames the body after the n-byte head at the start of c->recv, parsed into
// hm. Returns 1 when the message is complete (*total: its size in c->recv; a
// chunked body is decoded in place if `decode`, else hm->body is empty), 0 if
// more input is needed, or an HTTP error status (400, 413, 501). `eof`: the
// peer has closed.
static int http_frame(struct mg_connection *c, struct mg_http_message *hm,
                      size_t n, const struct http_info *in, bool eof,
                      size_t *total, bool decode) {
  char *b = (char *) c->recv.buf + n;
  size_t avail = c->recv.len - n, dlen = 0;
  uint64_t cl = in->cl;
  if (in->nte > 0) {
    long r;
    if (in->clen || in->nte > 1 ||
        (!(in->flags & HTTP_RESPONSE) && eq(hm->proto, "HTTP/1.0"))) {
      return 400;  // ambiguous framing: a request smuggling attempt
    }
    if (!ieq(in->te, "chunked")) return 501;
    r = http_unchunk(b, avail, false, &dlen);
    if (r == 0 && c->recv.len > MG_MAX_RECV_SIZE) return 413;  // still growing
    if (r <= 0) return (int) -r;
    if (decode) http_unchunk(b, avail, true, &dlen);
    hm->body = str_n(b, decode ? dlen : 0);
    hm->message.len = (size_t) (b + hm->body.len - hm->message.buf);
    *total = n + (size_t) r;
  } else if (in->clen) {
    if (cl > MG_MAX_RECV_SIZE - n) return 413;  // must fit in c->recv
    if (avail < cl) return 0;
    *total = n + (size_t) cl;
  } else if ((in->flags & HTTP_RESPONSE) && status_has_body(mg_http_status(hm))) {
    if (!eof) return 0;  // the body runs until the connection closes
    *total = c->recv.len;
  } else {
    *total = n;
  }
  return 1;
}

// ---- Server -------------------------------------------------------------------------
// Answers a bad request with `status` and closes; the rest of the input is dropped
static void http_reject(struct mg_connection *c, int status) {
  mg_iobuf_del(&c->recv, 0, c->recv.len);
  c->is_http_body = c->is_sent_100 = c->is_head = 0;
  c->is_close_after = 1;
  mg_http_reply(c, status, "Content-Type: text/plain\r\n", "%s\n",
                mg_http_status_text(status));
}

static void http_server_ev(struct mg_connection *c, int ev, void *ev_data);

// Handles the buffered requests, in order, until one is left unanswered, or
// until more than MG_HTTP_SEND_HWM bytes of answers wait for a slow reader
// (parsing resumes on MG_EV_WRITE): a client that pipelines and never reads
// cannot make the server queue unbounded output.
static void http_serve(struct mg_connection *c) {
  while (c->pfn == http_server_ev && !c->is_resp && c->recv.len > 0 &&
         c->send.len <= MG_HTTP_SEND_HWM &&
         (c->pfn_data == NULL || !((struct mg_http_hook *) c->pfn_data)->is_body)) {
    struct mg_http_message hm;
    struct http_info in;
    size_t total = 0;
    int n, st;
    if (c->is_draining || c->is_closing) {  // nothing more will be answered
      mg_iobuf_del(&c->recv, 0, c->recv.len);
      break;
    }
    n = http_parse((char *) c->recv.buf, c->recv.len, &hm, &in);
    if (n == 0 && c->recv.len <= MG_HTTP_MAX_HEAD) break;  // head incomplete
    if (n < 0 || (in.flags & HTTP_RESPONSE)) {
      http_reject(c, in.flags & HTTP_TOO_MANY ? 431 : 400);
      break;
    }
    if (n == 0 || n > MG_HTTP_MAX_HEAD) {
      http_reject(c, 431);
      break;
    }
    // A body too large to buffer may still be streamed by a handler of
    // MG_EV_HTTP_HDRS (mg_http_upload_stream): 413 only if none takes it
    st = http_frame(c, &hm, (size_t) n, &in, false, &total, false);
    if (st > 1 && (st != 413 || c->is_http_body || !in.clen)) {
      http_reject(c, st);
      break;
    }
    if (!c->is_http_body) {  // first complete sight of this head
      c->is_head = eq(hm.method, "HEAD");
      c->is_close_after = (in.flags & HTTP_CONN_CLOSE) ||
                          (hm.proto.buf[7] == '0' && !(in.flags & HTTP_CONN_KEEP_ALIVE));
      c->is_http_body = c->is_resp = 1;  // is_resp catches an answer from HDRS
      mg_call(c, MG_EV_HTTP_HDRS, &hm);
      if (c->pfn_data != NULL && c->pfn == http_server_ev) {
        // A hook took over (struct mg_http_hook): a body consumer gets the
        // body bytes from here on; a response started here ends the
        // connection, as the body is not wanted
        struct mg_http_hook *hook = (struct mg_http_hook *) c->pfn_data;
        long zero = 0;
        c->is_http_body = c->is_sent_100 = 0;
        if (!hook->is_body) c->is_close_after = 1;
        mg_iobuf_del(&c->recv, 0, (size_t) n);
        hook->fn(c, MG_EV_READ, &zero);
        break;
      }
      if (!c->is_resp) {  // answered already: the body is not wanted, close
        c->is_http_body = 0;
        c->is_draining = 1;
        continue;
      }
      c->is_resp = 0;
    }
    if (st > 1) {
      http_reject(c, st);
      break;
    }
    if (st == 0) {  // body incomplete
      struct mg_str *ex = mg_http_get_header(&hm, "Expect");
      if (ex != NULL && !c->is_sent_100 && ieq(*ex, "100-continue") &&
          hm.proto.buf[7] == '1') {
        c->is_sent_100 = 1;
        mg_send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
      }
      break;
    }
    if (in.nte > 0) {  // chunked: decoded now (MG_EV_HTTP_HDRS saw it raw)
      http_frame(c, &hm, (size_t) n, &in, false, &total, true);
    }
    c->is_resp = 1;
    c->is_http_body = c->is_sent_100 = 0;
    mg_call(c, MG_EV_HTTP_MSG, &hm);
    mg_iobuf_del(&c->recv, 0, total);
    if (c->pfn != http_server_ev) {  // upgraded: the new protocol takes the rest
      c->is_resp = 0;
      c->is_resume = c->recv.len > 0;
      mg_io_check(c);
      break;
    }
    if (c->is_resp) break;  // answered later: the next requests wait
    c->is_resume = 0;       // answered already: go on with the next one here
  }
}

static void http_server_ev(struct mg_connection *c, int ev, void *ev_data) {
  if (c->pfn_data != NULL) {  // a streamed response or request body
    ((struct mg_http_hook *) c->pfn_data)->fn(c, ev, ev_data);
  }
  if (ev == MG_EV_READ || (ev == MG_EV_WRITE && c->recv.len > 0)) http_serve(c);
  (void) ev_data;
}

struct mg_connection *mg_http_listen(struct mg_mgr *mgr, const char *url,
                                     mg_event_handler_t fn, void *fn_data) {
  struct mg_connection *c = mg_listen(mgr, url, fn, fn_data);
  if (c != NULL) c->pfn = http_server_ev, mg_limits_http(c);
  return c;
}

// ---- Client -------------------------------------------------------------------------
// Parses responses; a body without framing ends when the peer closes
static void http_client_ev(struct mg_connection *c, int ev, void *ev_data) {
  while ((ev == MG_EV_READ || ev == MG_EV_CLOSE) && c->pfn == http_client_ev &&
         c->recv.len > 0) {
    struct mg_http_message hm;
    struct http_info in;
    size_t total = 0;
    int n = http_parse((char *) c->recv.buf, c->recv.len, &hm, &in), st = 0;
    if (n == 0 && c->recv.len <= MG_HTTP_MAX_HEAD) break;
    if (n > 0 && (in.flags & HTTP_RESPONSE) && c->is_head &&
        mg_http_status(&hm) >= 200) {  // the answer to a HEAD has no body
      hm.body = str_n(hm.head.buf + hm.head.len, 0);
      hm.message = hm.head;
      total = (size_t) n, st = 1;
    } else if (n > 0 && (in.flags & HTTP_RESPONSE)) {
      st = http_frame(c, &hm, (size_t) n, &in, ev == MG_EV_CLOSE, &total, true);
      if (st == 0) break;
    }
    if (st != 1) {
      mg_error(c, st == 413 ? "HTTP response too large" : "bad HTTP response");
      mg_iobuf_del(&c->recv, 0, c->recv.len);
      break;
    }
    if (mg_http_status(&hm) != 100) mg_call(c, MG_EV_HTTP_MSG, &hm);
    mg_iobuf_del(&c->recv, 0, total);
  }
  (void) ev_data;
}

struct mg_connection *mg_http_connect(struct mg_mgr *mgr, const char *url,
                                      mg_event_handler_t fn, void *fn_data) {
  struct mg_connection *c = mg_connect(mgr, url, fn, fn_data);
  if (c != NULL) c->pfn = http_client_ev;
  return c;
}
