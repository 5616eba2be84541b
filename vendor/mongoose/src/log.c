// wasmgoose — logging.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

int mg_log_level = MG_LL_INFO;
static mg_pfn_t s_log_fn = mg_pfn_stdout;
static void *s_log_arg = NULL;

// fn NULL restores the default (stdout)
void mg_log_set_fn(mg_pfn_t fn, void *param) {
  s_log_fn = fn == NULL ? mg_pfn_stdout : fn;
  s_log_arg = param;
}

// "<hex milliseconds> <level> <file basename>:<line>:<function> "
void mg_log_prefix(int ll, const char *file, int line, const char *fname) {
  const char *base = file, *p;
  for (p = file; *p != '\0'; p++) {
    if (*p == '/' || *p == '\\') base = p + 1;
  }
  mg_xprintf(s_log_fn, s_log_arg, "%08llx %d %s:%d:%s ",
             (unsigned long long) mg_millis(), ll, base, line, fname);
}

void mg_log(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mg_vxprintf(s_log_fn, s_log_arg, fmt, &ap);
  va_end(ap);
  s_log_fn('\n', s_log_arg);
}

// 16 bytes per line: offset, hex bytes, then printable ASCII ('.' otherwise)
void mg_hexdump(const void *buf, size_t len) {
  const unsigned char *p = (const unsigned char *) buf;
  size_t i, j;
  for (i = 0; i < len; i += 16) {
    mg_xprintf(s_log_fn, s_log_arg, "%04zx ", i);
    for (j = i; j < i + 16; j++) {
      if (j < len) {
        mg_xprintf(s_log_fn, s_log_arg, " %02x", p[j]);
      } else {
        mg_xprintf(s_log_fn, s_log_arg, "   ");
      }
    }
    mg_xprintf(s_log_fn, s_log_arg, "  ");
    for (j = i; j < i + 16 && j < len; j++) {
      s_log_fn(p[j] >= 0x20 && p[j] < 0x7f ? (char) p[j] : '.', s_log_arg);
    }
    s_log_fn('\n', s_log_arg);
  }
}
