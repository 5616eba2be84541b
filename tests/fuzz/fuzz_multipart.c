// libFuzzer target: mg_http_next_multipart over the input as a
// multipart/form-data body (an exact-size copy, so over-reads are caught).
// Checks: every returned offset moves forward and stays inside the body and
// points at "--" at the start of a line; every part's name, filename and
// body lie inside the body, before the next offset; the body ends right
// before a line break and the delimiter; a NULL part walks the same offsets.
// SPDX-License-Identifier: MIT
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *buf = fuzz_dup(data, size);
  struct mg_str body = mg_str_n(buf, size);
  struct mg_http_part part;
  size_t ofs = 0, next, steps = 0;
  for (;;) {
    next = mg_http_next_multipart(body, ofs, &part);
    FUZZ_CHECK(mg_http_next_multipart(body, ofs, NULL) == next);
    if (next == 0) {
      FUZZ_CHECK(part.name.buf == NULL && part.filename.buf == NULL &&
                 part.body.buf == NULL);
      break;
    }
    FUZZ_CHECK(next > ofs && next + 2 < size + 1);
    FUZZ_CHECK(buf[next] == '-' && buf[next + 1] == '-');
    FUZZ_CHECK(buf[next - 1] == '\n');
    FUZZ_CHECK(fuzz_inside(part.name, buf, next, true));
    FUZZ_CHECK(fuzz_inside(part.filename, buf, next, true));
    FUZZ_CHECK(fuzz_inside(part.body, buf, next, false));
    FUZZ_CHECK(part.body.buf >= buf + ofs);
    {
      // Between the body and the delimiter: only its line break
      size_t gap = (size_t) (buf + next - (part.body.buf + part.body.len));
      FUZZ_CHECK(gap <= 2);
    }
    FUZZ_CHECK(++steps <= size);
    ofs = next;
  }
  free(buf);
  return 0;
}
