// Shared helpers of the libFuzzer targets in tests/fuzz/.
// SPDX-License-Identifier: MIT
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H
#include "mongoose.h"

// A failed invariant is a crash: libFuzzer saves the input and stops.
#define FUZZ_CHECK(cond)                                                  \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "FUZZ_CHECK failed %s:%d: %s\n", __FILE__, __LINE__, \
              #cond);                                                     \
      abort();                                                            \
    }                                                                     \
  } while (0)

// Does s lie inside [lo, lo + n)? (An empty s may sit at the very end; a NULL
// s is only accepted when allow_null is set and its length is 0.)
static inline bool fuzz_inside(struct mg_str s, const void *lo, size_t n,
                               bool allow_null) {
  const char *b = (const char *) lo;
  if (s.buf == NULL) return allow_null && s.len == 0;
  return s.buf >= b && s.buf <= b + n && s.len <= (size_t) (b + n - s.buf);
}

// NUL-terminated malloc'd copy of data[0..n)
static inline char *fuzz_cstr(const uint8_t *data, size_t n) {
  char *p = (char *) malloc(n + 1);
  if (p == NULL) abort();
  if (n > 0) memcpy(p, data, n);
  p[n] = '\0';
  return p;
}

// Exact-size malloc'd copy (ASan then catches reads one byte past the end)
static inline char *fuzz_dup(const uint8_t *data, size_t n) {
  char *p = (char *) malloc(n == 0 ? 1 : n);
  if (p == NULL) abort();
  if (n > 0) memcpy(p, data, n);
  return p;
}

// Index of the first NUL in data[0..n), or n
static inline size_t fuzz_nul(const uint8_t *data, size_t n) {
  const void *z = memchr(data, 0, n);
  return z == NULL ? n : (size_t) ((const uint8_t *) z - data);
}
#endif
