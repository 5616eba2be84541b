// libFuzzer target: mg_match(). The input is split at its first NUL into the
// string and the pattern. Checks the result against a dynamic-programming
// reference matcher, that every capture lies inside the string, that '?'
// captures one byte and '*' captures no '/', that the pattern with its
// wildcards replaced by the captures spells the string, and that the capture
// list ends with {NULL, 0}.
// SPDX-License-Identifier: MIT
#include "fuzz_common.h"

static bool is_wild(char c) {
  return c == '*' || c == '#' || c == '?';
}

// Reference: '?' any byte, '*' any run without '/', '#' any run, else literal
static bool ref_match(const char *s, size_t n, const char *p, size_t m) {
  // ok[i] for the current j: does s[i..] match p[j..]? Computed for j = m..0.
  bool *ok = (bool *) calloc(n + 1, sizeof(bool)), res;
  size_t i, j;
  FUZZ_CHECK(ok != NULL);
  ok[n] = true;  // j == m: only the empty rest matches
  for (j = m; j-- > 0;) {
    char c = p[j];
    if (c == '*' || c == '#') {  // ok'[i] = ok[i] || (s[i] fits && ok'[i+1])
      for (i = n; i-- > 0;) ok[i] = ok[i] || ((c == '#' || s[i] != '/') && ok[i + 1]);
    } else {  // ok'[i] = s[i] fits && ok[i+1]; ok'[n] = false
      for (i = 0; i < n; i++) ok[i] = (c == '?' || s[i] == c) && ok[i + 1];
      ok[n] = false;
    }
  }
  res = ok[0];
  free(ok);
  return res;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t z = fuzz_nul(data, size), plen = z < size ? size - z - 1 : 0;
  char *s = fuzz_dup(data, z), *p = fuzz_dup(data + z + (z < size), plen);
  size_t nw = 0, i, k, pos;
  struct mg_str *caps;
  bool r, r2, ref;
  for (i = 0; i < plen; i++) nw += is_wild(p[i]);
#ifdef FUZZ_MATCH_MAX_WILD  // build with this to explore past a known slowness
  if (nw > FUZZ_MATCH_MAX_WILD) {
    free(s);
    free(p);
    return 0;
  }
#endif
  caps = (struct mg_str *) malloc((nw + 1) * sizeof(*caps));
  FUZZ_CHECK(caps != NULL);
  memset(caps, 0x5a, (nw + 1) * sizeof(*caps));
  r = mg_match(mg_str_n(s, z), mg_str_n(p, plen), caps);
  r2 = mg_match(mg_str_n(s, z), mg_str_n(p, plen), NULL);
  ref = ref_match(s, z, p, plen);
  if (r != ref || r2 != ref) {
    fprintf(stderr, "mg_match %d (no caps: %d), reference %d\n", r, r2, ref);
    FUZZ_CHECK(r == ref && r2 == ref);
  }
  if (r) {
    // Rebuild the string from the pattern and the captures
    for (i = 0, k = 0, pos = 0; i < plen; i++) {
      if (is_wild(p[i])) {
        struct mg_str cp = caps[k++];
        FUZZ_CHECK(fuzz_inside(cp, s, z, false));
        FUZZ_CHECK(cp.buf == s + pos);
        if (p[i] == '?') FUZZ_CHECK(cp.len == 1);
        if (p[i] == '*') FUZZ_CHECK(memchr(cp.buf, '/', cp.len) == NULL);
        pos += cp.len;
      } else {
        FUZZ_CHECK(pos < z && s[pos] == p[i]);
        pos++;
      }
    }
    FUZZ_CHECK(k == nw && pos == z);
    FUZZ_CHECK(caps[nw].buf == NULL && caps[nw].len == 0);
  }
  // Matching is not affected by NULL vs empty
  if (z == 0) FUZZ_CHECK(mg_match(mg_str_n(NULL, 0), mg_str_n(p, plen), NULL) == r);
  free(caps);
  free(s);
  free(p);
  return 0;
}
