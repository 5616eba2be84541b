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

// ---- Small string helpers -------------------------------------------------------
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

// RFC 9110 token characters: ALPHA, DIGIT and !#$%&'*+-.^_`|~ (a bitmap)
static bool is_tchar(int ch) {
  static const uint32_t map[4] = {0, 0x03ff6cfa, 0xc7fffffe, 0x57ffffff};
  return ch >= 0 && ch < 128 && (map[ch >> 5] >> (ch & 31) & 1) != 0;
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

static bool ieq(struct mg_str a, const char *b) {
  return ieq_n(a, b, strlen(b));
}

static bool has_prefix(struct mg_str s, const char *p) {
  size_t n = strlen(p);
  return s.len >= n && ieq_n(mg_str_n(s.buf, n), p, n);
}

// s[0..n) without surrounding spaces and tabs
static struct mg_str trim(const char *s, size_t n) {
  while (n > 0 && is_ws(*s)) s++, n--;
  while (n > 0 && is_ws(s[n - 1])) n--;
  return mg_str_n(s, n);
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
static size_t put_num(char *p, uint64_t v, unsigned base) {
  char tmp[24];
  size_t n = 0, i;
  do {
    tmp[n++] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v > 0);
  for (i = 0; i < n; i++) p[i] = tmp[n - 1 - i];
  return n;
}

// ---- Head parsing ---------------------------------------------------------------
// No control characters but HTAB in s[0..n). Words of 8 bytes are checked at
// once ("has a byte < 0x20 or == 0x7f", which may flag a few more bytes: the
// exact check below then decides).
static bool text_ok(const unsigned char *s, size_t n) {
  const uint64_t ones = 0x0101010101010101ULL, highs = ones << 7;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    memcpy(&x, s + i, 8);
    y = x ^ (ones * 0x7f);
    if ((((x - ones * 0x20) & ~x) | ((y - ones) & ~y)) & highs) break;
  }
  for (; i < n; i++) {
    if ((s[i] < ' ' && s[i] != '\t') || s[i] == 0x7f) return false;
  }
  return true;
}

int mg_http_get_request_len(const unsigned char *buf, size_t buf_len) {
  size_t start = 0, end;
  bool seen = false;  // a non-empty line was seen: leading empty lines are skipped
  if (buf_len > (size_t) INT32_MAX) buf_len = (size_t) INT32_MAX;
  while (start < buf_len) {
    const unsigned char *nl =
        (const unsigned char *) memchr(buf + start, '\n', buf_len - start);
    end = nl == NULL ? buf_len : (size_t) (nl - buf);
    if (end > start && buf[end - 1] == '\r') end--;  // CR allowed before LF only
    if (!text_ok(buf + start, end - start)) return -1;
    if (nl == NULL) break;
    if (end > start) {
      seen = true;
    } else if (seen) {
      return (int) (nl - buf + 1);
    }
    start = (size_t) (nl - buf + 1);
  }
  return 0;
}

// The line at *p (without its line break); moves *p past it. The head has been
// validated, so the line break exists.
static struct mg_str next_line(const char **p, const char *end) {
  const char *s = *p, *e = (const char *) memchr(s, '\n', (size_t) (end - s));
  *p = e + 1;
  if (e > s && e[-1] == '\r') e--;
  return mg_str_n(s, (size_t) (e - s));
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

// Parses the start line into hm; returns 0 (malformed), 1 (request) or
// HTTP_RESPONSE + 1 (status line).
static int parse_start(struct mg_str l, struct mg_http_message *hm) {
  const char *sp1 = (const char *) memchr(l.buf, ' ', l.len), *sp2, *end;
  size_t i;
  if (sp1 == NULL || sp1 == l.buf) return 0;
  end = l.buf + l.len;
  sp2 = (const char *) memchr(sp1 + 1, ' ', (size_t) (end - sp1 - 1));
  if (sp2 == NULL) sp2 = end;
  hm->method = mg_str_n(l.buf, (size_t) (sp1 - l.buf));
  hm->uri = mg_str_n(sp1 + 1, (size_t) (sp2 - sp1 - 1));
  hm->proto = mg_str_n(sp2 + (sp2 < end), (size_t) (end - sp2 - (sp2 < end)));
  if (has_prefix(hm->method, "HTTP/")) {  // "HTTP/1.1 200 OK"
    if (hm->uri.len != 3) return 0;
    for (i = 0; i < 3; i++) {
      if (!is_digit(hm->uri.buf[i])) return 0;
    }
    return HTTP_RESPONSE + 1;
  }
  if (sp2 == end || memchr(l.buf, '\t', l.len) != NULL || hm->uri.len == 0) return 0;
  for (i = 0; i < hm->method.len; i++) {
    if (!is_tchar(hm->method.buf[i])) return 0;
  }
  if (!eq(hm->proto, "HTTP/1.1") && !eq(hm->proto, "HTTP/1.0")) return 0;
  if (!target_ok(hm->method, hm->uri)) return 0;
  if ((sp1 = (const char *) memchr(hm->uri.buf, '?', hm->uri.len)) != NULL) {
    hm->query = mg_str_n(sp1 + 1, (size_t) (hm->uri.buf + hm->uri.len - sp1 - 1));
    hm->uri.len = (size_t) (sp1 - hm->uri.buf);
  }
  return 1;
}

// "Name: value" with a token name, no space before ':' and no obs-fold
static bool parse_header(struct mg_str l, struct mg_http_header *h) {
  size_t i = 0;
  while (i < l.len && is_tchar(l.buf[i])) i++;
  if (i == 0 || i == l.len || l.buf[i] != ':') return false;
  h->name = mg_str_n(l.buf, i);
  h->value = trim(l.buf + i + 1, l.len - i - 1);
  return true;
}

// Finds the next header called `name` from index *i on; *i moves past it
static struct mg_http_header *hdr_find(const struct mg_http_message *hm,
                                       const char *name, size_t *i) {
  size_t n = strlen(name);
  while (*i < MG_MAX_HTTP_HEADERS && hm->headers[*i].name.len > 0) {
    const struct mg_http_header *h = &hm->headers[(*i)++];
    if (ieq_n(h->name, name, n)) return (struct mg_http_header *) h;
  }
  return NULL;
}

// Does a header called `name` hold `tok` in its comma-separated list?
static bool hdr_has_token(const struct mg_http_message *hm, const char *name,
                          const char *tok) {
  size_t i = 0, j, k;
  struct mg_http_header *h;
  while ((h = hdr_find(hm, name, &i)) != NULL) {
    for (j = 0; j < h->value.len; j = k + 1) {
      for (k = j; k < h->value.len && h->value.buf[k] != ','; k++) (void) 0;
      if (ieq(trim(h->value.buf + j, k - j), tok)) return true;
    }
  }
  return false;
}

// Content-Length: 1 and *cl set if present, 0 if absent, -1 if invalid
// (not all digits, too long, or repeated with a different value)
static int http_clen(const struct mg_http_message *hm, uint64_t *cl) {
  size_t i = 0, k;
  int found = 0;
  struct mg_http_header *h;
  while ((h = hdr_find(hm, "Content-Length", &i)) != NULL) {
    uint64_t v = 0;
    if (h->value.len == 0 || h->value.len > 15) return -1;
    for (k = 0; k < h->value.len; k++) {
      if (!is_digit(h->value.buf[k])) return -1;
      v = v * 10 + (uint64_t) (h->value.buf[k] - '0');
    }
    if (found && v != *cl) return -1;
    *cl = v, found = 1;
  }
  return found;
}

static bool status_has_body(int status) {
  return status >= 200 && status != 204 && status != 304;
}

// mg_http_parse() that also reports HTTP_RESPONSE / HTTP_TOO_MANY in *flags
static int http_parse(const char *s, size_t len, struct mg_http_message *hm,
                      unsigned *flags) {
  int n = mg_http_get_request_len((const unsigned char *) s, len), kind;
  const char *p = s, *end = s + (n > 0 ? n : 0);
  size_t i = 0, rest = len - (size_t) (end - s);
  uint64_t cl = 0;
  struct mg_str line;
  *flags = 0;
  if (n <= 0) return n;
  while (*p == '\r' || *p == '\n') p++;  // empty lines before the start line
  memset(hm, 0, offsetof(struct mg_http_message, headers));
  if ((kind = parse_start(next_line(&p, end), hm)) == 0) return -1;
  *flags = (unsigned) kind - 1;
  hm->head = mg_str_n(hm->method.buf, (size_t) (end - hm->method.buf));
  while ((line = next_line(&p, end)).len > 0) {
    if (i >= MG_MAX_HTTP_HEADERS) {
      *flags |= HTTP_TOO_MANY;
      return -1;
    }
    if (!parse_header(line, &hm->headers[i++])) return -1;
  }
  // The list ends at the first empty name: one terminator is enough (zeroing
  // every unused entry cost more than the rest of the parse)
  if (i < MG_MAX_HTTP_HEADERS) memset(&hm->headers[i], 0, sizeof(hm->headers[0]));
  if ((kind = http_clen(hm, &cl)) < 0) return -1;
  if (kind == 0) {  // no Content-Length: a response runs until the close
    cl = (*flags & HTTP_RESPONSE) && status_has_body(mg_http_status(hm)) ? rest : 0;
  }
  hm->body = mg_str_n(end, cl < rest ? (size_t) cl : rest);
  hm->message = mg_str_n(hm->head.buf, hm->head.len + hm->body.len);
  return n;
}

int mg_http_parse(const char *s, size_t len, struct mg_http_message *hm) {
  unsigned flags;
  return http_parse(s, len, hm, &flags);
}

struct mg_str *mg_http_get_header(struct mg_http_message *hm, const char *name) {
  size_t i = 0;
  struct mg_http_header *h = hdr_find(hm, name, &i);
  return h == NULL ? NULL : &h->value;
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
      return mg_str_n(s.buf + vs, ve - vs);
    }
  }
  return mg_str_n(NULL, 0);
}

struct mg_str mg_http_var(struct mg_str buf, struct mg_str name) {
  size_t i, k;
  for (i = 0; buf.buf != NULL && name.len > 0 && i < buf.len; i = k + 1) {
    const char *eq;
    for (k = i; k < buf.len && buf.buf[k] != '&'; k++) (void) 0;
    eq = (const char *) memchr(buf.buf + i, '=', k - i);
    if ((size_t) ((eq ? eq : buf.buf + k) - (buf.buf + i)) == name.len &&
        memcmp(buf.buf + i, name.buf, name.len) == 0) {
      return eq ? mg_str_n(eq + 1, (size_t) (buf.buf + k - eq - 1))
                : mg_str_n(buf.buf + k, 0);
    }
  }
  return mg_str_n(NULL, 0);
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
  if (v != NULL && has_prefix(*v, "Basic ")) {
    // "user:pass" is decoded into pass, then split
    struct mg_str b = trim(v->buf + 6, v->len - 6);
    int n = b64_decode(b.buf, b.len, pass, plen);
    char *colon = n > 0 ? (char *) memchr(pass, ':', (size_t) n) : NULL;
    if (colon != NULL && copy_str(user, ulen, pass, (size_t) (colon - pass))) {
      memmove(pass, colon + 1, (size_t) (pass + n - colon));
    } else if (plen > 0) {
      pass[0] = '\0';
    }
  } else if (v != NULL && has_prefix(*v, "Bearer ")) {
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

// Appends the status line, hdrs and the framing headers, ending with the
// empty line. Content-Length is blen, or a slot of HTTP_LEN_SLOT spaces ending
// 4 bytes before the returned offset when `known` is false. Statuses without
// a body get no Content-Length. Returns the offset of the body, 0 on failure.
static size_t http_head(struct mg_connection *c, int status, const char *hdrs,
                        size_t hlen, size_t blen, bool known) {
  const char *reason = mg_http_status_text(status);
  size_t rlen = strlen(reason), n = 9;
  char line[80];
  memcpy(line, "HTTP/1.1 ", 9);
  n += put_num(line + n, (uint64_t) (status < 0 ? 0 : status), 10);
  line[n++] = ' ';
  memcpy(line + n, reason, rlen);
  n += rlen;
  line[n++] = '\r', line[n++] = '\n';
  if (!put(c, line, n) || !put(c, hdrs, hdrs == NULL ? 0 : hlen)) return 0;
  n = 0;
  if (c->is_close_after) {
    memcpy(line, "Connection: close\r\n", 19);
    n = 19;
  }
  if (status_has_body(status)) {
    memcpy(line + n, "Content-Length: ", 16);
    n += 16;
    if (!known) memset(line + n, ' ', HTTP_LEN_SLOT);
    n += known ? put_num(line + n, blen, 10) : HTTP_LEN_SLOT;
    line[n++] = '\r', line[n++] = '\n';
  }
  line[n++] = '\r', line[n++] = '\n';
  return put(c, line, n) ? c->send.len : 0;
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
  size_t start = c->send.len, ofs = http_head(c, status, hdrs, hlen, blen, true);
  if (ofs > 0 && !c->is_head && !put(c, body, blen)) ofs = 0;
  http_end_reply(c, status, start, ofs);
}

void mg_http_reply(struct mg_connection *c, int status, const char *headers,
                   const char *fmt, ...) {
  size_t start = c->send.len;
  size_t ofs = http_head(c, status, headers, headers ? strlen(headers) : 0, 0,
                         false);
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
// chunked body is decoded in place), 0 if more input is needed, or an HTTP
// error status (400, 413, 501). `eof`: the peer has closed.
static int http_frame(struct mg_connection *c, struct mg_http_message *hm,
                      size_t n, unsigned flags, bool eof, size_t *total) {
  char *b = (char *) c->recv.buf + n;
  size_t avail = c->recv.len - n, i = 0, dlen = 0;
  uint64_t cl = 0;
  int has_cl = http_clen(hm, &cl);  // the parser has validated it
  struct mg_http_header *te = hdr_find(hm, "Transfer-Encoding", &i);
  if (te != NULL) {
    long r;
    if (has_cl || hdr_find(hm, "Transfer-Encoding", &i) != NULL ||
        (!(flags & HTTP_RESPONSE) && eq(hm->proto, "HTTP/1.0"))) {
      return 400;  // ambiguous framing: a request smuggling attempt
    }
    if (!ieq(te->value, "chunked")) return 501;
    r = http_unchunk(b, avail, false, &dlen);
    if (r == 0 && c->recv.len > MG_MAX_RECV_SIZE) return 413;  // still growing
    if (r <= 0) return (int) -r;
    http_unchunk(b, avail, true, &dlen);
    hm->body = mg_str_n(b, dlen);
    hm->message.len = (size_t) (b + dlen - hm->message.buf);
    *total = n + (size_t) r;
  } else if (has_cl) {
    if (cl > MG_MAX_RECV_SIZE - n) return 413;  // must fit in c->recv
    if (avail < cl) return 0;
    *total = n + (size_t) cl;
  } else if ((flags & HTTP_RESPONSE) && status_has_body(mg_http_status(hm))) {
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

// Handles the buffered requests, in order, until one is left unanswered
static void http_serve(struct mg_connection *c) {
  while (c->pfn == http_server_ev && !c->is_resp && c->recv.len > 0) {
    struct mg_http_message hm;
    unsigned flags;
    size_t total = 0;
    int n, st;
    if (c->is_draining || c->is_closing) {  // nothing more will be answered
      mg_iobuf_del(&c->recv, 0, c->recv.len);
      break;
    }
    n = http_parse((char *) c->recv.buf, c->recv.len, &hm, &flags);
    if (n == 0 && c->recv.len <= MG_HTTP_MAX_HEAD) break;  // head incomplete
    if (n < 0 || (flags & HTTP_RESPONSE)) {
      http_reject(c, flags & HTTP_TOO_MANY ? 431 : 400);
      break;
    }
    if (n == 0 || n > MG_HTTP_MAX_HEAD) {
      http_reject(c, 431);
      break;
    }
    if ((st = http_frame(c, &hm, (size_t) n, flags, false, &total)) > 1) {
      http_reject(c, st);
      break;
    }
    if (!c->is_http_body) {  // first complete sight of this head
      c->is_head = eq(hm.method, "HEAD");
      c->is_close_after = hdr_has_token(&hm, "Connection", "close") ||
                          (hm.proto.buf[7] == '0' &&
                           !hdr_has_token(&hm, "Connection", "keep-alive"));
      c->is_http_body = c->is_resp = 1;  // is_resp catches an answer from HDRS
      mg_call(c, MG_EV_HTTP_HDRS, &hm);
      if (!c->is_resp) {  // answered already: the body is not wanted, close
        c->is_http_body = 0;
        c->is_draining = 1;
        continue;
      }
      c->is_resp = 0;
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
  if (ev == MG_EV_READ) http_serve(c);
  (void) ev_data;
}

struct mg_connection *mg_http_listen(struct mg_mgr *mgr, const char *url,
                                     mg_event_handler_t fn, void *fn_data) {
  struct mg_connection *c = mg_listen(mgr, url, fn, fn_data);
  if (c != NULL) c->pfn = http_server_ev;
  return c;
}

// ---- Client -------------------------------------------------------------------------
// Parses responses; a body without framing ends when the peer closes
static void http_client_ev(struct mg_connection *c, int ev, void *ev_data) {
  while ((ev == MG_EV_READ || ev == MG_EV_CLOSE) && c->pfn == http_client_ev &&
         c->recv.len > 0) {
    struct mg_http_message hm;
    unsigned flags;
    size_t total = 0;
    int n = http_parse((char *) c->recv.buf, c->recv.len, &hm, &flags), st = 0;
    if (n == 0 && c->recv.len <= MG_HTTP_MAX_HEAD) break;
    if (n > 0 && (flags & HTTP_RESPONSE)) {
      st = http_frame(c, &hm, (size_t) n, flags, ev == MG_EV_CLOSE, &total);
      if (st == 0) break;
    }
    if (st != 1) {
      mg_error(c, "bad HTTP response");
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
