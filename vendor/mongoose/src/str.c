// wasmgoose — string helpers: struct mg_str, comparison, glob match, parsing.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

static int lower(int c) {
  return c >= 'A' && c <= 'Z' ? c + 'a' - 'A' : c;
}

struct mg_str mg_str_s(const char *s) {
  return mg_str_n(s, s == NULL ? 0 : strlen(s));
}

struct mg_str mg_str_n(const char *s, size_t n) {
  struct mg_str str = {(char *) s, n};
  return str;
}

int mg_casecmp(const char *s1, const char *s2) {
  for (;; s1++, s2++) {
    int d = lower((unsigned char) *s1) - lower((unsigned char) *s2);
    if (d != 0 || *s1 == '\0') return d;
  }
}

// Lexicographic comparison; a proper prefix sorts first
static int compare(struct mg_str a, struct mg_str b, bool fold) {
  size_t i;
  for (i = 0; i < a.len && i < b.len; i++) {
    int x = (unsigned char) a.buf[i], y = (unsigned char) b.buf[i];
    if (fold) x = lower(x), y = lower(y);
    if (x != y) return x - y;
  }
  return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}

int mg_strcmp(const struct mg_str str1, const struct mg_str str2) {
  return compare(str1, str2, false);
}

int mg_strcasecmp(const struct mg_str str1, const struct mg_str str2) {
  return compare(str1, str2, true);
}

// Returns a malloc'd, NUL-terminated copy ({NULL, 0} if out of memory)
struct mg_str mg_strdup(const struct mg_str s) {
  char *p = (char *) malloc(s.len + 1);
  if (p == NULL) return mg_str_n(NULL, 0);
  if (s.len > 0) memcpy(p, s.buf, s.len);
  p[s.len] = '\0';
  return mg_str_n(p, s.len);
}

// Backtracking glob matcher. Wildcards are matched lazily (shortest run
// first); recursion happens only at '*' and '#', one level per wildcard.
// Remembering where the rest of the pattern failed after each star keeps
// patterns like "*a*a*a*b" from going exponential (GLOB_MEMO slots live on the
// stack; a pattern with more stars gets them malloc'd).
#define GLOB_MEMO 32

struct glob {
  struct mg_str s, p;
  size_t *failed;  // per star: a start in s where the rest failed
  size_t nmemo;    // stars that have a slot in failed[]
};

// Whether star number w, of kind c, surely fails from s[i]: it failed from an
// earlier start f, and could have absorbed s[f..i) there
static bool known_failure(const struct glob *g, size_t w, char c, size_t i) {
  size_t f = w < g->nmemo ? g->failed[w] : SIZE_MAX;
  if (f > i) return false;
  if (c == '#') return true;
  while (f < i && g->s.buf[f] != '/') f++;
  return f == i;
}

// Matches s[i..] against p[j..], where w stars of the pattern precede p[j]
static bool match(struct glob *g, size_t i, size_t j, size_t w,
                  struct mg_str *caps) {
  const char *s = g->s.buf, *p = g->p.buf;
  for (; j < g->p.len; j++) {
    char c = p[j];
    if (c == '*' || c == '#') {
      size_t k;
      if (known_failure(g, w, c, i)) return false;
      for (k = i;; k++) {
        if (caps != NULL) caps[0] = mg_str_n(s + i, k - i);
        if (match(g, k, j + 1, w + 1, caps == NULL ? NULL : caps + 1)) {
          return true;
        }
        if (k >= g->s.len || (c == '*' && s[k] == '/')) break;
      }
      if (w < g->nmemo) g->failed[w] = i;
      return false;
    }
    if (i >= g->s.len || (c != '?' && c != s[i])) return false;
    if (c == '?' && caps != NULL) *caps++ = mg_str_n(s + i, 1);
    i++;
  }
  if (i != g->s.len) return false;
  if (caps != NULL) *caps = mg_str_n(NULL, 0);
  return true;
}

// On success, caps (if not NULL) gets one entry per wildcard of the pattern,
// in order, followed by a {NULL, 0} terminator: it must have room for
// (number of wildcards + 1) entries. On failure its contents are unspecified.
bool mg_match(struct mg_str str, struct mg_str pattern, struct mg_str *caps) {
  struct glob g;
  size_t i, stars = 0, memo[GLOB_MEMO];
  bool ok;
  g.s = str.buf == NULL ? mg_str("") : str;  // avoid NULL + offset
  g.p = pattern.buf == NULL ? mg_str("") : pattern;
  for (i = 0; i < g.p.len; i++) stars += g.p.buf[i] == '*' || g.p.buf[i] == '#';
  // Every star needs a memo slot, or long patterns take exponential time
  g.failed = stars > GLOB_MEMO ? (size_t *) malloc(stars * sizeof(size_t)) : NULL;
  g.nmemo = g.failed != NULL ? stars : GLOB_MEMO;
  if (g.failed == NULL) g.failed = memo;  // (if malloc failed: as many as fit)
  for (i = 0; i < g.nmemo; i++) g.failed[i] = SIZE_MAX;
  ok = match(&g, 0, 0, 0, caps);
  if (g.failed != memo) free(g.failed);
  return ok;
}

bool mg_span(struct mg_str s, struct mg_str *a, struct mg_str *b, char delim) {
  size_t i = 0, skip;
  if (s.buf == NULL || s.len == 0) return false;
  while (i < s.len && s.buf[i] != delim) i++;
  skip = i < s.len ? 1 : 0;  // the delimiter itself
  if (a != NULL) *a = mg_str_n(s.buf, i);
  if (b != NULL) *b = mg_str_n(s.buf + i + skip, s.len - i - skip);
  return true;
}

static int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = (char) lower((unsigned char) c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : 99;
}

// Parses an integer of val_len bytes (1, 2, 4 or 8) in base 2..16; base 0
// means 10 unless there is a 0x or 0b prefix (also accepted with base 16 or
// 2). Without a sign the full unsigned range is accepted; a leading '-'
// parses a negative value in the signed range, stored in two's complement.
bool mg_str_to_num(struct mg_str str, int base, void *val, size_t val_len) {
  size_t i = 0;
  uint64_t v = 0, max;
  bool neg;
  if (val_len != 1 && val_len != 2 && val_len != 4 && val_len != 8) {
    return false;
  }
  if (str.buf == NULL) return false;
  max = val_len == 8 ? UINT64_MAX : (((uint64_t) 1) << (8 * val_len)) - 1;
  neg = str.len > 0 && str.buf[0] == '-';
  if (neg) i++, max = max / 2 + 1;  // magnitude of the most negative value
  if (str.len - i > 2 && str.buf[i] == '0') {
    int p = lower((unsigned char) str.buf[i + 1]);
    if (p == 'x' && (base == 0 || base == 16)) base = 16, i += 2;
    if (p == 'b' && (base == 0 || base == 2)) base = 2, i += 2;
  }
  if (base == 0) base = 10;
  if (base < 2 || base > 16 || i >= str.len) return false;
  for (; i < str.len; i++) {
    int d = digit_value(str.buf[i]);
    if (d >= base || v > (max - (uint64_t) d) / (uint64_t) base) return false;
    v = v * (uint64_t) base + (uint64_t) d;
  }
  if (neg) v = 0 - v;
  switch (val_len) {
    case 1: *(uint8_t *) val = (uint8_t) v; break;
    case 2: *(uint16_t *) val = (uint16_t) v; break;
    case 4: *(uint32_t *) val = (uint32_t) v; break;
    default: *(uint64_t *) val = v; break;
  }
  return true;
}
