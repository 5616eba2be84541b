// wasmgoose — JSON (RFC 8259): path lookup, typed getters, unescaping,
// iteration. One validating pass over the document; no allocation except the
// strings that the getters return.
// SPDX-License-Identifier: MIT
#include <limits.h>

#include "mongoose.h"

#define NO_MATCH ((size_t) -1)

struct scan {
  const char *s;     // the document
  size_t n, i;       // its length, the read position
  const char *path;  // the path being looked up ("$...")
  size_t plen;
  int ofs, len;      // the value found (ofs < 0: none yet)
  int err;           // 0, MG_JSON_INVALID or MG_JSON_TOO_DEEP
};

static bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

static int hex_val(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static bool str_eq(struct mg_str s, const char *w) {
  return s.len == strlen(w) && memcmp(s.buf, w, s.len) == 0;
}

static void skip_ws(struct scan *sc) {
  while (sc->i < sc->n && is_ws(sc->s[sc->i])) sc->i++;
}

static bool fail(struct scan *sc) {
  if (sc->err == 0) sc->err = MG_JSON_INVALID;
  return false;
}

// Four hex digits at s[0..4) as a code unit, or -1
static long hex4(const char *s, size_t avail) {
  long v = 0;
  size_t k;
  if (avail < 4) return -1;
  for (k = 0; k < 4; k++) {
    int d = hex_val(s[k]);
    if (d < 0) return -1;
    v = v << 4 | d;
  }
  return v;
}

// A string token at sc->i (which is at the opening quote)
static bool scan_string(struct scan *sc) {
  const char *s = sc->s;
  size_t i = sc->i + 1;
  while (i < sc->n) {
    unsigned char c = (unsigned char) s[i];
    if (c == '"') {
      sc->i = i + 1;
      return true;
    }
    if (c < 0x20) return fail(sc);
    if (c == '\\') {
      if (i + 1 >= sc->n) return fail(sc);
      c = (unsigned char) s[i + 1];
      if (c == 'u') {
        if (hex4(s + i + 2, sc->n - i - 2) < 0) return fail(sc);
        i += 6;
      } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' ||
                 c == 'n' || c == 'r' || c == 't') {
        i += 2;
      } else {
        return fail(sc);
      }
    } else {
      i++;
    }
  }
  return fail(sc);
}

// -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
static bool scan_number(struct scan *sc) {
  const char *s = sc->s;
  size_t i = sc->i, n = sc->n;
  if (i < n && s[i] == '-') i++;
  if (i >= n || !is_digit(s[i])) return fail(sc);
  if (s[i] == '0') {
    i++;
  } else {
    while (i < n && is_digit(s[i])) i++;
  }
  if (i < n && s[i] == '.') {
    if (++i >= n || !is_digit(s[i])) return fail(sc);
    while (i < n && is_digit(s[i])) i++;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    if (i >= n || !is_digit(s[i])) return fail(sc);
    while (i < n && is_digit(s[i])) i++;
  }
  sc->i = i;
  return true;
}

static bool scan_word(struct scan *sc, const char *w) {
  size_t len = strlen(w);
  if (sc->n - sc->i < len || memcmp(sc->s + sc->i, w, len) != 0) {
    return fail(sc);
  }
  sc->i += len;
  return true;
}

// Decodes one character of a valid string body s[*i..n) into out (UTF-8);
// returns its byte count, or -1 on a bad escape. A lone surrogate becomes
// U+FFFD, as a UTF-8 encoder does with a lone UTF-16 surrogate.
static int next_char(const char *s, size_t n, size_t *i, unsigned char *out) {
  unsigned long cp;
  char c = s[*i];
  if (c != '\\') {
    out[0] = (unsigned char) c;
    (*i)++;
    return 1;
  }
  if (*i + 1 >= n) return -1;
  c = s[*i + 1];
  *i += 2;
  switch (c) {
    case '"': out[0] = '"'; return 1;
    case '\\': out[0] = '\\'; return 1;
    case '/': out[0] = '/'; return 1;
    case 'b': out[0] = '\b'; return 1;
    case 'f': out[0] = '\f'; return 1;
    case 'n': out[0] = '\n'; return 1;
    case 'r': out[0] = '\r'; return 1;
    case 't': out[0] = '\t'; return 1;
    case 'u': break;
    default: return -1;
  }
  {
    long u = hex4(s + *i, n - *i);
    if (u < 0) return -1;
    *i += 4;
    cp = (unsigned long) u;
  }
  if (cp >= 0xd800 && cp <= 0xdbff) {  // high surrogate: a low one must follow
    long lo = *i + 6 <= n && s[*i] == '\\' && s[*i + 1] == 'u'
                  ? hex4(s + *i + 2, n - *i - 2)
                  : -1;
    if (lo >= 0xdc00 && lo <= 0xdfff) {
      cp = 0x10000 + ((cp - 0xd800) << 10) + ((unsigned long) lo - 0xdc00);
      *i += 6;
    } else {
      cp = 0xfffd;
    }
  } else if (cp >= 0xdc00 && cp <= 0xdfff) {
    cp = 0xfffd;
  }
  if (cp < 0x80) {
    out[0] = (unsigned char) cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (unsigned char) (0xc0 | cp >> 6);
    out[1] = (unsigned char) (0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (unsigned char) (0xe0 | cp >> 12);
    out[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
    out[2] = (unsigned char) (0x80 | (cp & 0x3f));
    return 3;
  }
  out[0] = (unsigned char) (0xf0 | cp >> 18);
  out[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3f));
  out[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
  out[3] = (unsigned char) (0x80 | (cp & 0x3f));
  return 4;
}

// The end of the path segment that starts at path[k] ('.' or '[')
static size_t seg_end(const struct scan *sc, size_t k) {
  size_t e = k + 1;
  if (sc->path[k] == '[') {
    while (e < sc->plen && sc->path[e] != ']') e++;
    return e < sc->plen ? e + 1 : NO_MATCH;
  }
  while (e < sc->plen && sc->path[e] != '.' && sc->path[e] != '[') e++;
  return e;
}

// Path position after member `key` (the string body s[a..b)) of an object
// whose own path ends at pk, or NO_MATCH
static size_t match_key(const struct scan *sc, size_t pk, size_t a, size_t b) {
  size_t e, j, i = a;
  unsigned char buf[4];
  if (pk == NO_MATCH || pk >= sc->plen || sc->path[pk] != '.') return NO_MATCH;
  e = seg_end(sc, pk);
  for (j = pk + 1; i < b;) {  // compare the unescaped key with path[pk+1..e)
    int k, len = next_char(sc->s, b, &i, buf);
    if (len < 0 || j + (size_t) len > e) return NO_MATCH;
    for (k = 0; k < len; k++) {
      if (sc->path[j++] != (char) buf[k]) return NO_MATCH;
    }
  }
  return j == e ? e : NO_MATCH;
}

// Path position after element `idx` of an array whose path ends at pk
static size_t match_index(const struct scan *sc, size_t pk, size_t idx) {
  size_t e, j, v = 0;
  if (pk == NO_MATCH || pk >= sc->plen || sc->path[pk] != '[') return NO_MATCH;
  if ((e = seg_end(sc, pk)) == NO_MATCH || e - pk < 3) return NO_MATCH;
  for (j = pk + 1; j + 1 < e; j++) {
    if (!is_digit(sc->path[j]) || v > (SIZE_MAX - 9) / 10) return NO_MATCH;
    v = v * 10 + (size_t) (sc->path[j] - '0');
  }
  if (e - pk > 3 && sc->path[pk + 1] == '0') return NO_MATCH;  // "[01]"
  return v == idx ? e : NO_MATCH;
}

// One value at sc->i (after whitespace); pk is how much of the path matches
// this value's position (NO_MATCH if none). Records the first full match.
static bool scan_value(struct scan *sc, int depth, size_t pk) {
  size_t start;
  bool ok;
  skip_ws(sc);
  if (sc->i >= sc->n) return fail(sc);
  start = sc->i;
  switch (sc->s[sc->i]) {
    case '{':
    case '[': {
      bool obj = sc->s[sc->i] == '{';
      char close = obj ? '}' : ']';
      size_t idx = 0;
      if (depth >= MG_JSON_MAX_DEPTH) {
        sc->err = MG_JSON_TOO_DEEP;
        return false;
      }
      sc->i++;
      skip_ws(sc);
      if (sc->i < sc->n && sc->s[sc->i] == close) {
        sc->i++;
        ok = true;
        break;
      }
      for (;;) {
        size_t child;
        if (obj) {
          size_t a;
          skip_ws(sc);
          if (sc->i >= sc->n || sc->s[sc->i] != '"') return fail(sc);
          a = sc->i + 1;
          if (!scan_string(sc)) return false;
          child = match_key(sc, pk, a, sc->i - 1);
          skip_ws(sc);
          if (sc->i >= sc->n || sc->s[sc->i] != ':') return fail(sc);
          sc->i++;
        } else {
          child = match_index(sc, pk, idx++);
        }
        if (!scan_value(sc, depth + 1, child)) return false;
        skip_ws(sc);
        if (sc->i >= sc->n) return fail(sc);
        if (sc->s[sc->i] == close) break;
        if (sc->s[sc->i] != ',') return fail(sc);
        sc->i++;
      }
      sc->i++;
      ok = true;
      break;
    }
    case '"': ok = scan_string(sc); break;
    case 't': ok = scan_word(sc, "true"); break;
    case 'f': ok = scan_word(sc, "false"); break;
    case 'n': ok = scan_word(sc, "null"); break;
    default: ok = scan_number(sc); break;
  }
  if (ok && pk == sc->plen && sc->ofs < 0) {
    sc->ofs = (int) start;
    sc->len = (int) (sc->i - start);
  }
  return ok;
}

int mg_json_get(struct mg_str json, const char *path, int *toklen) {
  struct scan sc;
  if (toklen != NULL) *toklen = 0;
  if (json.buf == NULL || json.len == 0 || json.len > INT32_MAX) {
    return MG_JSON_INVALID;
  }
  memset(&sc, 0, sizeof(sc));
  sc.s = json.buf, sc.n = json.len, sc.ofs = -1;
  sc.path = path == NULL ? "" : path;
  sc.plen = strlen(sc.path);
  // A path must start with '$'; a bad one never matches (and the document
  // is still checked)
  if (!scan_value(&sc, 0, sc.plen > 0 && sc.path[0] == '$' ? 1 : NO_MATCH)) {
    return sc.err;
  }
  skip_ws(&sc);
  if (sc.i != sc.n) return MG_JSON_INVALID;
  if (sc.ofs < 0) return MG_JSON_NOT_FOUND;
  if (toklen != NULL) *toklen = sc.len;
  return sc.ofs;
}

struct mg_str mg_json_get_tok(struct mg_str json, const char *path) {
  int len = 0, ofs = mg_json_get(json, path, &len);
  return ofs < 0 ? mg_str_n(NULL, 0) : mg_str_n(json.buf + ofs, (size_t) len);
}

bool mg_json_get_num(struct mg_str json, const char *path, double *v) {
  struct mg_str t = mg_json_get_tok(json, path);
  char small[64], *copy = small;
  double d;
  if (t.len == 0 || (t.buf[0] != '-' && !is_digit(t.buf[0]))) return false;
  if (t.len >= sizeof(small) && (copy = (char *) malloc(t.len + 1)) == NULL) {
    return false;
  }
  memcpy(copy, t.buf, t.len);
  copy[t.len] = '\0';
  d = strtod(copy, NULL);
  if (copy != small) free(copy);
  if (v != NULL) *v = d;
  return true;
}

bool mg_json_get_bool(struct mg_str json, const char *path, bool *v) {
  struct mg_str t = mg_json_get_tok(json, path);
  bool val;
  if (str_eq(t, "true")) {
    val = true;
  } else if (str_eq(t, "false")) {
    val = false;
  } else {
    return false;
  }
  if (v != NULL) *v = val;
  return true;
}

// An integer token (no fraction, no exponent) is parsed exactly; any other
// number is truncated toward zero. Out of range of long: dflt.
long mg_json_get_long(struct mg_str json, const char *path, long dflt) {
  struct mg_str t = mg_json_get_tok(json, path);
  int64_t iv;
  double d;
  size_t k;
  bool integral = t.len > 0;
  for (k = 0; k < t.len; k++) {
    if (t.buf[k] == '.' || t.buf[k] == 'e' || t.buf[k] == 'E') integral = false;
  }
  if (integral && mg_str_to_num(t, 10, &iv, sizeof(iv)) &&
      (t.buf[0] == '-' || iv >= 0)) {
    return iv >= (int64_t) LONG_MIN && iv <= (int64_t) LONG_MAX ? (long) iv
                                                                : dflt;
  }
  if (!mg_json_get_num(json, path, &d)) return dflt;
  if (!(d > (double) LONG_MIN - 1.0 && d < (double) LONG_MAX + 1.0)) {
    return dflt;  // (also NaN)
  }
  return (long) d;
}

long mg_json_unescape_n(struct mg_str str, char *buf, size_t len) {
  size_t i = 0, j = 0;
  unsigned char tmp[4];
  while (i < str.len) {
    int k = next_char(str.buf, str.len, &i, tmp);
    if (k < 0 || j + (size_t) k > len) return -1;
    memcpy(buf + j, tmp, (size_t) k);
    j += (size_t) k;
  }
  if (j < len) buf[j] = '\0';
  return (long) j;
}

bool mg_json_unescape(struct mg_str str, char *buf, size_t len) {
  long n = len == 0 ? -1 : mg_json_unescape_n(str, buf, len - 1);
  if (n >= 0) buf[n] = '\0';
  return n >= 0;
}

// The unescaped string at path, malloc'd and NUL-terminated (*n: its length)
static char *get_str(struct mg_str json, const char *path, size_t *n) {
  struct mg_str t = mg_json_get_tok(json, path);
  char *p;
  long len;
  if (t.len < 2 || t.buf[0] != '"') return NULL;
  t = mg_str_n(t.buf + 1, t.len - 2);
  if ((p = (char *) malloc(t.len + 1)) == NULL) return NULL;
  len = mg_json_unescape_n(t, p, t.len);  // never longer than the escaped
  if (len < 0) {
    free(p);
    return NULL;
  }
  p[len] = '\0';
  *n = (size_t) len;
  return p;
}

char *mg_json_get_str(struct mg_str json, const char *path) {
  size_t n;
  return get_str(json, path, &n);
}

char *mg_json_get_hex(struct mg_str json, const char *path, int *len) {
  size_t n = 0, k;
  char *s = get_str(json, path, &n);
  if (s == NULL) return NULL;
  if (n % 2 != 0) goto bad;
  for (k = 0; k < n; k += 2) {
    int hi = hex_val(s[k]), lo = hex_val(s[k + 1]);
    if (hi < 0 || lo < 0) goto bad;
    s[k / 2] = (char) (hi << 4 | lo);
  }
  s[n / 2] = '\0';
  if (len != NULL) *len = (int) (n / 2);
  return s;
bad:
  free(s);
  return NULL;
}

char *mg_json_get_b64(struct mg_str json, const char *path, int *len) {
  size_t n = 0, out;
  char *s = get_str(json, path, &n), *d;
  if (s == NULL) return NULL;
  if ((d = (char *) malloc(n / 4 * 3 + 4)) == NULL) {
    free(s);
    return NULL;
  }
  out = mg_base64_decode(s, n, d, n / 4 * 3 + 4);
  if (out == 0 && n > 0) out = mg_base64url_decode(s, n, d, n / 4 * 3 + 4);
  free(s);
  if (out == 0 && n > 0) {
    free(d);
    return NULL;
  }
  d[out] = '\0';
  if (len != NULL) *len = (int) out;
  return d;
}

size_t mg_json_next(struct mg_str obj, size_t ofs, struct mg_str *key,
                    struct mg_str *val) {
  struct scan sc;
  size_t start, a;
  bool is_obj;
  if (key != NULL) *key = mg_str_n(NULL, 0);
  if (val != NULL) *val = mg_str_n(NULL, 0);
  if (obj.buf == NULL || ofs >= obj.len) return 0;
  memset(&sc, 0, sizeof(sc));
  sc.s = obj.buf, sc.n = obj.len, sc.ofs = -1, sc.path = "";
  skip_ws(&sc);
  if (sc.i >= sc.n || (obj.buf[sc.i] != '{' && obj.buf[sc.i] != '[')) return 0;
  is_obj = obj.buf[sc.i] == '{';
  if (ofs == 0) {
    sc.i++;
  } else {
    sc.i = ofs;
    skip_ws(&sc);
    if (sc.i >= sc.n || sc.s[sc.i] != ',') return 0;  // '}', ']' or bad
    sc.i++;
  }
  skip_ws(&sc);
  if (sc.i >= sc.n || sc.s[sc.i] == (is_obj ? '}' : ']')) return 0;
  if (is_obj) {
    if (sc.s[sc.i] != '"') return 0;
    a = sc.i;
    if (!scan_string(&sc)) return 0;
    if (key != NULL) *key = mg_str_n(sc.s + a, sc.i - a);
    skip_ws(&sc);
    if (sc.i >= sc.n || sc.s[sc.i] != ':') return 0;
    sc.i++;
  }
  skip_ws(&sc);
  start = sc.i;
  if (!scan_value(&sc, 1, NO_MATCH)) {
    if (key != NULL) *key = mg_str_n(NULL, 0);
    return 0;
  }
  if (val != NULL) *val = mg_str_n(sc.s + start, sc.i - start);
  return sc.i;
}
