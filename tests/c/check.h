// The assertion helpers of the native unit tests: CHECK counts and reports,
// check_summary() prints "N passed, N failed" and gives the exit status.
// SPDX-License-Identifier: MIT
#ifndef CHECK_H
#define CHECK_H
#include "mongoose.h"

static int s_passed, s_failed;

#define CHECK(cond)                                                    \
  do {                                                                 \
    if (cond) {                                                        \
      s_passed++;                                                      \
    } else {                                                           \
      s_failed++;                                                      \
      fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                  \
  } while (0)

// Is s exactly the NUL-terminated string want?
static inline bool str_is(struct mg_str s, const char *want) {
  return s.len == strlen(want) && (s.len == 0 || memcmp(s.buf, want, s.len) == 0);
}

static inline int check_summary(void) {
  printf("%d passed, %d failed\n", s_passed, s_failed);
  return s_failed == 0 ? 0 : 1;
}
#endif
