// libFuzzer target: form variables and URL encoding. The input is split at
// its first NUL into a buffer (a query string or a header value) and a name.
// Checks mg_http_var, mg_http_get_var (small and big destinations),
// mg_url_decode (form 0 and 1) against a reference decoder, the
// mg_url_encode -> mg_url_decode round trip, and mg_http_get_header_var.
// SPDX-License-Identifier: MIT
#include "fuzz_common.h"

static int hexv(int ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

// Reference decoder into an unbounded buffer: length, or -1 on a bad escape
static long ref_decode(const char *s, size_t n, char *to, int form) {
  size_t i, j = 0;
  for (i = 0; i < n; i++) {
    if (s[i] == '%') {
      if (i + 2 >= n || hexv((unsigned char) s[i + 1]) < 0 ||
          hexv((unsigned char) s[i + 2]) < 0) {
        return -1;
      }
      to[j++] = (char) (hexv((unsigned char) s[i + 1]) << 4 | hexv((unsigned char) s[i + 2]));
      i += 2;
    } else {
      to[j++] = form && s[i] == '+' ? ' ' : s[i];
    }
  }
  return (long) j;
}

// mg_url_decode into a tolen-byte buffer agrees with the reference
static void check_decode(const char *s, size_t n, size_t tolen, int form,
                         const char *ref, long reflen) {
  char *to = (char *) malloc(tolen == 0 ? 1 : tolen);
  int r;
  FUZZ_CHECK(to != NULL);
  r = mg_url_decode(s, n, to, tolen, form);
  if (reflen >= 0 && (size_t) reflen < tolen) {
    FUZZ_CHECK(r == reflen);
    FUZZ_CHECK(memcmp(to, ref, (size_t) reflen) == 0 && to[reflen] == '\0');
  } else {
    FUZZ_CHECK(r == -1);
  }
  if (tolen > 0) FUZZ_CHECK(memchr(to, '\0', tolen) != NULL);
  free(to);
}

static void check_vars(const char *buf, size_t blen, const char *name,
                       size_t nlen) {
  struct mg_str b = mg_str_n(buf, blen), v = mg_http_var(b, mg_str_n(name, nlen));
  char small[4], *big = (char *) malloc(blen + 1), *ref = (char *) malloc(blen + 1);
  long reflen = -1;
  int r;
  FUZZ_CHECK(big != NULL && ref != NULL);
  FUZZ_CHECK(fuzz_inside(v, buf, blen, true));
  if (v.buf != NULL) {
    // v follows "name=" (or is the empty value of a bare "name") at the start
    // of a '&'-separated field
    const char *field;
    FUZZ_CHECK(nlen > 0 && v.buf > buf);
    field = v.buf - (v.buf[-1] == '=' ? 1 : 0) - nlen;
    FUZZ_CHECK(field >= buf);
    FUZZ_CHECK(memcmp(field, name, nlen) == 0);
    FUZZ_CHECK(field == buf || field[-1] == '&');
    FUZZ_CHECK(memchr(v.buf, '&', v.len) == NULL);
    reflen = ref_decode(v.buf, v.len, ref, 1);
  }
  // mg_http_get_var wants a C string name; only names without NUL apply
  if (memchr(name, '\0', nlen) == NULL) {
    char *cname = fuzz_cstr((const uint8_t *) name, nlen);
    r = mg_http_get_var(&b, cname, big, blen + 1);
    if (v.buf == NULL || nlen == 0) {
      FUZZ_CHECK(r == -1 || (nlen == 0 && r < 0));
      FUZZ_CHECK(big[0] == '\0');
    } else if (reflen < 0) {
      FUZZ_CHECK(r == -3 && big[0] == '\0');
    } else {
      FUZZ_CHECK(r == reflen && memcmp(big, ref, (size_t) reflen) == 0 && big[r] == '\0');
    }
    r = mg_http_get_var(&b, cname, small, sizeof(small));
    FUZZ_CHECK(memchr(small, '\0', sizeof(small)) != NULL);
    if (v.buf != NULL && reflen >= 0 && (size_t) reflen < sizeof(small)) {
      FUZZ_CHECK(r == reflen && memcmp(small, ref, (size_t) reflen) == 0);
    } else if (v.buf != NULL && reflen >= 0) {
      FUZZ_CHECK(r == -2 && small[0] == '\0');
    } else {
      FUZZ_CHECK(r < 0 && small[0] == '\0');
    }
    FUZZ_CHECK(mg_http_get_var(&b, cname, small, 0) == -2);
    free(cname);
  }
  free(big);
  free(ref);
}

static void check_url_coding(const char *s, size_t n) {
  size_t elen = 3 * n + 1, e, i;
  char *enc = (char *) malloc(elen), *dec = (char *) malloc(n + 1),
       *ref = (char *) malloc(n + 1);
  long reflen;
  FUZZ_CHECK(enc != NULL && dec != NULL && ref != NULL);
  // Decoding the raw input, form and not, small and exact destinations
  reflen = ref_decode(s, n, ref, 0);
  check_decode(s, n, n + 1, 0, ref, reflen);
  check_decode(s, n, reflen > 0 ? (size_t) reflen : 1, 0, ref, reflen);
  check_decode(s, n, 0, 0, ref, reflen);
  reflen = ref_decode(s, n, ref, 1);
  check_decode(s, n, n + 1, 1, ref, reflen);
  check_decode(s, n, 3, 1, ref, reflen);
  // Round trip
  e = mg_url_encode(s, n, enc, elen);
  FUZZ_CHECK(e <= 3 * n && enc[e] == '\0');
  FUZZ_CHECK(n == 0 || e >= n);
  for (i = 0; i < e; i++) {
    unsigned char ch = (unsigned char) enc[i];
    FUZZ_CHECK((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
               (ch >= 'A' && ch <= 'Z') || strchr("-._~%", ch) != NULL);
    FUZZ_CHECK(ch != 0);
  }
  FUZZ_CHECK(mg_url_decode(enc, e, dec, n + 1, 0) == (int) n);
  FUZZ_CHECK(memcmp(dec, s, n) == 0 && dec[n] == '\0');
  FUZZ_CHECK(mg_url_decode(enc, e, dec, n + 1, 1) == (int) n);
  FUZZ_CHECK(memcmp(dec, s, n) == 0);
  // Too small a buffer: 0 and an empty string
  if (e > 0) {
    FUZZ_CHECK(mg_url_encode(s, n, enc, e) == 0 && enc[0] == '\0');
  }
  free(enc);
  free(dec);
  free(ref);
}

static void check_header_var(const char *s, size_t n, const char *v, size_t vn) {
  struct mg_str r = mg_http_get_header_var(mg_str_n(s, n), mg_str_n(v, vn));
  FUZZ_CHECK(fuzz_inside(r, s, n, true));
  if (r.buf != NULL) {
    FUZZ_CHECK(vn > 0);
    FUZZ_CHECK(memchr(s, '=', (size_t) (r.buf - s)) != NULL);  // a key=value pair
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t z = fuzz_nul(data, size), nlen = z < size ? size - z - 1 : 0;
  // Exact-size copies, so that over-reads of either part are caught
  char *buf = fuzz_dup(data, z), *name = fuzz_dup(data + z + (z < size), nlen);
  check_vars(buf, z, name, nlen);
  check_header_var(buf, z, name, nlen);
  check_url_coding((const char *) data, size);
  free(buf);
  free(name);
  return 0;
}
