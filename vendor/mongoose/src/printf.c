// wasmgoose — printf family with %m/%M custom printers; no libc printf.
// SPDX-License-Identifier: MIT
#include <math.h>  // signbit, isnan, isinf: macros, no libm needed

#include "mongoose.h"

#define MAX_FLOAT_PREC 100  // larger float precisions are clamped

struct spec {
  size_t width;     // minimum field width
  int prec;         // precision, -1 if none
  bool minus;       // '-': left-justify
  bool zero;        // '0': pad with zeros
  const char *pos;  // prefix of non-negative numbers: "", "+" or " "
};

static size_t out_n(mg_pfn_t fn, void *arg, const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) fn(s[i], arg);
  return n;
}

static size_t out_rep(mg_pfn_t fn, void *arg, char c, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) fn(c, arg);
  return n;
}

// Prints pre (sign or "0x"), `zeros` zeros and s[0..n), padded to the width
static size_t field(mg_pfn_t fn, void *arg, const struct spec *sp,
                    const char *pre, size_t zeros, const char *s, size_t n) {
  size_t plen = strlen(pre), len = plen + zeros + n;
  size_t pad = sp->width > len ? sp->width - len : 0;
  if (!sp->minus && !sp->zero) out_rep(fn, arg, ' ', pad);
  out_n(fn, arg, pre, plen);
  if (!sp->minus && sp->zero) out_rep(fn, arg, '0', pad);
  out_rep(fn, arg, '0', zeros);
  out_n(fn, arg, s, n);
  if (sp->minus) out_rep(fn, arg, ' ', pad);
  return len + pad;
}

// Writes the digits of v in base (2..16) to buf, returns their count
static size_t utoa(uint64_t v, unsigned base, bool upper, char *buf) {
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[64];
  size_t n = 0, i;
  do {
    tmp[n++] = digits[v % base];
    v /= base;
  } while (v != 0);
  for (i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
  return n;
}

// Fetches an integer argument of length modifier lm ('H' is hh, 'L' is ll)
static uint64_t get_int(va_list *ap, char lm, bool sign) {
  int v;
  if (lm == 'L') {
    return sign ? (uint64_t) va_arg(*ap, long long)
                : (uint64_t) va_arg(*ap, unsigned long long);
  }
  if (lm == 'l') {
    return sign ? (uint64_t) (int64_t) va_arg(*ap, long)
                : (uint64_t) va_arg(*ap, unsigned long);
  }
  if (lm == 'z') {
    return sign ? (uint64_t) (int64_t) va_arg(*ap, ptrdiff_t)
                : (uint64_t) va_arg(*ap, size_t);
  }
  v = va_arg(*ap, int);  // narrower types are promoted to int
  if (lm == 'h') v = sign ? (short) v : (unsigned short) v;
  if (lm == 'H') v = sign ? (signed char) v : (unsigned char) v;
  return sign ? (uint64_t) (int64_t) v : (uint64_t) (unsigned) v;
}

// ---- Floating point -----------------------------------------------------------
// Good to about 16 significant digits; digits beyond the 17th print as 0.

static const double s_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
                                 1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
                                 1e18, 1e19, 1e20, 1e21, 1e22};

static double scale(double x, int k) {  // x * 10^-k
  for (; k < -22; k += 22) x *= 1e22;
  for (; k > 22; k -= 22) x /= 1e22;
  return k < 0 ? x * s_pow10[-k] : x / s_pow10[k];
}

static int exponent10(double x) {  // about floor(log10(x)), x > 0
  int e = 0;
  for (; x >= 10; e++) x /= 10;
  for (; x < 1; e--) x *= 10;
  return e;
}

// Rounds x >= 0 to a multiple of 10^*pos (half to even), raising *pos to keep
// at most 17 significant digits; writes the digits to d, returns their count.
static int round_digits(double x, int *pos, char *d) {
  uint64_t m;
  int min_pos = x > 0 ? exponent10(x) - 16 : *pos;
  if (*pos < min_pos) *pos = min_pos;
  for (;; (*pos)++) {
    double y = scale(x, *pos), f;
    if (y >= 1e17) continue;
    m = (uint64_t) y;
    f = y - (double) m;
    if (f > 0.5 || (f == 0.5 && (m & 1))) m++;
    if (m < 100000000000000000ULL) break;
  }
  return (int) utoa(m, 10, false, d);
}

// Rounds x >= 0 to p + 1 significant digits; *e gets the decimal exponent of
// the first digit and *pos that of the last one.
static int sci_digits(double x, int p, char *d, int *e, int *pos) {
  int n = 0, i;
  *e = x > 0 ? exponent10(x) : 0;
  for (i = 0; i < 3; i++) {  // rounding may carry into a new digit: retry
    *pos = *e - p;
    n = round_digits(x, pos, d);
    if (x == 0 || *pos + n - 1 == *e) break;
    *e = *pos + n - 1;
  }
  return n;
}

// Fixed notation with p decimals of the digits d[0..n), last one at 10^pos
static size_t fixed(char *b, const char *d, int n, int pos, int p) {
  int top = pos + n - 1, k;
  size_t len = 0;
  for (k = top > 0 ? top : 0; k >= -p; k--) {
    if (k == -1) b[len++] = '.';
    b[len++] = k <= top && k >= pos ? d[top - k] : '0';
  }
  return len;
}

// Exponent notation d.ddd with p decimals, then e+XX
static size_t expo(char *b, const char *d, int n, int p, int e, char ec) {
  size_t len = 0;
  int i;
  b[len++] = d[0];
  if (p > 0) b[len++] = '.';
  for (i = 1; i <= p; i++) b[len++] = i < n ? d[i] : '0';
  b[len++] = ec;
  b[len++] = e < 0 ? '-' : '+';
  if (e > -10 && e < 10) b[len++] = '0';
  return len + utoa((uint64_t) (e < 0 ? -e : e), 10, false, b + len);
}

// %g: drops trailing zeros of the fraction, and a trailing '.'
static size_t strip_zeros(char *b, size_t len) {
  size_t end = 0, k;
  while (end < len && b[end] != 'e' && b[end] != 'E') end++;
  if (memchr(b, '.', end) == NULL) return len;
  for (k = end; b[k - 1] == '0';) k--;
  if (b[k - 1] == '.') k--;
  memmove(b + k, b + end, len - end);
  return k + len - end;
}

// Formats finite x >= 0 for conversion c (f, e, g or upper case) into b
static size_t fmt_float(char *b, double x, char c, int p) {
  char d[24], ec = c >= 'a' ? 'e' : 'E';
  int n, e, pos = -p;
  if (c == 'f' || c == 'F') {
    n = round_digits(x, &pos, d);
    return fixed(b, d, n, pos, p);
  }
  if (c == 'e' || c == 'E') {
    n = sci_digits(x, p, d, &e, &pos);
    return expo(b, d, n, p, e, ec);
  }
  if (p == 0) p = 1;  // %g: p significant digits
  n = sci_digits(x, p - 1, d, &e, &pos);
  if (e < -4 || e >= p) return strip_zeros(b, expo(b, d, n, p - 1, e, ec));
  return strip_zeros(b, fixed(b, d, n, pos, p - 1 - e));
}

// ---- The formatter ------------------------------------------------------------

static size_t convert(mg_pfn_t fn, void *arg, char c, char lm, struct spec *sp,
                      va_list *ap) {
  char buf[512];  // MAX_FLOAT_PREC decimals plus 309 integer digits fit
  const char *pre = "";
  size_t n, zeros;
  switch (c) {
    case 'd': case 'i': case 'u': case 'x': case 'X': case 'o': case 'p': {
      bool sign = c == 'd' || c == 'i';
      unsigned base = c == 'o' ? 8 : c == 'd' || c == 'i' || c == 'u' ? 10 : 16;
      uint64_t v = c == 'p' ? (uint64_t) (uintptr_t) va_arg(*ap, void *)
                            : get_int(ap, lm, sign);
      if (sign) pre = sp->pos;
      if (sign && (int64_t) v < 0) v = 0 - v, pre = "-";
      if (c == 'p') pre = "0x";
      n = sp->prec == 0 && v == 0 ? 0 : utoa(v, base, c == 'X', buf);
      if (sp->prec >= 0) sp->zero = false;
      zeros = sp->prec > (int) n ? (size_t) sp->prec - n : 0;
      return field(fn, arg, sp, pre, zeros, buf, n);
    }
    case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': {
      double v = va_arg(*ap, double);
      int p = sp->prec < 0 ? 6 : sp->prec;
      if (p > MAX_FLOAT_PREC) p = MAX_FLOAT_PREC;
      pre = signbit(v) ? "-" : sp->pos;
      if (signbit(v)) v = -v;
      if (isnan(v) || isinf(v)) {
        const char *s = isnan(v) ? "nanNAN" : "infINF";
        sp->zero = false;
        return field(fn, arg, sp, pre, 0, c >= 'a' ? s : s + 3, 3);
      }
      return field(fn, arg, sp, pre, 0, buf, fmt_float(buf, v, c, p));
    }
    case 'c':
      buf[0] = (char) va_arg(*ap, int);
      return field(fn, arg, sp, pre, 0, buf, 1);
    case 's': {
      const char *s = va_arg(*ap, const char *);
      if (s == NULL) s = "(null)";
      size_t max = sp->prec < 0 ? SIZE_MAX : (size_t) sp->prec;
      for (n = 0; n < max && s[n] != '\0';) n++;
      return field(fn, arg, sp, pre, 0, s, n);
    }
    case 'm': case 'M': {  // custom printer and its arguments; %m adds quotes
      mg_pm_t pm = va_arg(*ap, mg_pm_t);
      if (c == 'm') fn('"', arg);
      n = pm(fn, arg, ap);
      if (c == 'm') fn('"', arg);
      return c == 'm' ? n + 2 : n;
    }
    default:  // "%%", or an unknown conversion: print it as is
      fn(c, arg);
      return 1;
  }
}

static int parse_num(const char **fmt) {
  int v = 0;
  for (; **fmt >= '0' && **fmt <= '9'; (*fmt)++) {
    if (v < 1000000) v = v * 10 + (**fmt - '0');
  }
  return v;
}

size_t mg_vxprintf(void (*fn)(char, void *), void *arg, const char *fmt,
                   va_list *ap) {
  size_t n = 0;
  while (*fmt != '\0') {
    struct spec sp = {0, -1, false, false, ""};
    char lm = 0, c = *fmt++;
    if (c != '%') {
      fn(c, arg);
      n++;
      continue;
    }
    for (;; fmt++) {  // flags
      if (*fmt == '-') sp.minus = true;
      else if (*fmt == '0') sp.zero = true;
      else if (*fmt == '+') sp.pos = "+";
      else if (*fmt == ' ') sp.pos = *sp.pos == '+' ? "+" : " ";
      else if (*fmt != '#') break;
    }
    if (*fmt == '*') {
      int w = va_arg(*ap, int);
      if (w < 0) sp.minus = true;
      sp.width = w < 0 ? 0U - (unsigned) w : (unsigned) w;
      fmt++;
    } else {
      sp.width = (size_t) parse_num(&fmt);
    }
    if (*fmt == '.') {
      fmt++;
      if (*fmt == '*') {
        int p = va_arg(*ap, int);
        sp.prec = p < 0 ? -1 : p;
        fmt++;
      } else {
        sp.prec = parse_num(&fmt);
      }
    }
    if (*fmt == 'h' || *fmt == 'l') {
      lm = *fmt++;
      if (*fmt == lm) lm = lm == 'l' ? 'L' : 'H', fmt++;
    } else if (*fmt == 'z') {
      lm = *fmt++;
    }
    if (*fmt == '\0') break;
    n += convert(fn, arg, *fmt++, lm, &sp, ap);
  }
  return n;
}

size_t mg_xprintf(void (*fn)(char, void *), void *arg, const char *fmt, ...) {
  size_t n;
  va_list ap;
  va_start(ap, fmt);
  n = mg_vxprintf(fn, arg, fmt, &ap);
  va_end(ap);
  return n;
}

struct sbuf {
  char *buf;
  size_t size, len;
};

static void pfn_sbuf(char c, void *param) {
  struct sbuf *s = (struct sbuf *) param;
  if (s->len + 1 < s->size) s->buf[s->len] = c;
  s->len++;
}

size_t mg_vsnprintf(char *buf, size_t len, const char *fmt, va_list *ap) {
  struct sbuf s = {buf, len, 0};
  size_t n = mg_vxprintf(pfn_sbuf, &s, fmt, ap);
  if (len > 0) buf[n < len ? n : len - 1] = '\0';
  return n;
}

size_t mg_snprintf(char *buf, size_t len, const char *fmt, ...) {
  size_t n;
  va_list ap;
  va_start(ap, fmt);
  n = mg_vsnprintf(buf, len, fmt, &ap);
  va_end(ap);
  return n;
}

// Returns a malloc'd string, or NULL if out of memory
char *mg_vmprintf(const char *fmt, va_list *ap) {
  struct mg_iobuf io = {NULL, 0, 0, 64};
  if (!mg_iobuf_resize(&io, 1)) return NULL;
  io.buf[0] = '\0';
  if (mg_vxprintf(mg_pfn_iobuf, &io, fmt, ap) != io.len) {
    mg_iobuf_free(&io);  // some output was lost
  }
  return (char *) io.buf;
}

char *mg_mprintf(const char *fmt, ...) {
  char *s;
  va_list ap;
  va_start(ap, fmt);
  s = mg_vmprintf(fmt, &ap);
  va_end(ap);
  return s;
}

// Appends ch to the iobuf, keeping a NUL after the data; grows by doubling
void mg_pfn_iobuf(char ch, void *param) {
  struct mg_iobuf *io = (struct mg_iobuf *) param;
  if (io->len + 2 > io->size && !mg_iobuf_resize(io, io->size + io->len + 2)) {
    return;
  }
  io->buf[io->len++] = (unsigned char) ch;
  io->buf[io->len] = '\0';
}

void mg_pfn_stdout(char c, void *param) {
  (void) param;
  putchar(c);
}

// ---- %M printers ---------------------------------------------------------------

// Fetches the (int len, const void *buf) pair of the binary printers
static size_t get_len(va_list *ap, const uint8_t **p) {
  int len = va_arg(*ap, int);
  *p = va_arg(*ap, const uint8_t *);
  return len > 0 ? (size_t) len : 0;
}

size_t mg_print_esc(void (*out)(char, void *), void *arg, va_list *ap) {
  static const char pairs[] = "\"\"\\\\\nn\rr\tt\bb\ff";  // char, escape
  const uint8_t *s;
  size_t len = get_len(ap, &s), i, j, n = 0;
  if (len == 0 && s != NULL) len = strlen((const char *) s);
  for (i = 0; i < len; i++) {
    for (j = 0; pairs[j] != '\0' && pairs[j] != (char) s[i];) j += 2;
    if (pairs[j] != '\0') {
      out('\\', arg), out(pairs[j + 1], arg), n += 2;
    } else if (s[i] < 0x20) {
      n += mg_xprintf(out, arg, "\\u%04x", s[i]);
    } else {
      out((char) s[i], arg), n++;
    }
  }
  return n;
}

size_t mg_print_base64(void (*out)(char, void *), void *arg, va_list *ap) {
  static const char t[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const uint8_t *p;
  size_t len = get_len(ap, &p), i;
  for (i = 0; i < len; i += 3) {
    uint32_t v = (uint32_t) p[i] << 16;
    if (i + 1 < len) v |= (uint32_t) p[i + 1] << 8;
    if (i + 2 < len) v |= p[i + 2];
    out(t[v >> 18], arg);
    out(t[(v >> 12) & 63], arg);
    out(i + 1 < len ? t[(v >> 6) & 63] : '=', arg);
    out(i + 2 < len ? t[v & 63] : '=', arg);
  }
  return (len + 2) / 3 * 4;
}

// Lowercase hex of p[0..len), bytes separated by sep unless it is 0
static size_t print_hex(mg_pfn_t out, void *arg, const uint8_t *p, size_t len,
                        char sep) {
  size_t i, n = 0;
  for (i = 0; i < len; i++) {
    if (sep != 0 && i > 0) out(sep, arg), n++;
    out("0123456789abcdef"[p[i] >> 4], arg);
    out("0123456789abcdef"[p[i] & 15], arg);
    n += 2;
  }
  return n;
}

size_t mg_print_hex(void (*out)(char, void *), void *arg, va_list *ap) {
  const uint8_t *p;
  size_t len = get_len(ap, &p);
  return print_hex(out, arg, p, len, 0);
}

size_t mg_print_mac(void (*out)(char, void *), void *arg, va_list *ap) {
  return print_hex(out, arg, va_arg(*ap, const uint8_t *), 6, ':');
}

static size_t print_ip4(mg_pfn_t out, void *arg, const uint8_t *p) {
  return mg_xprintf(out, arg, "%d.%d.%d.%d", p[0], p[1], p[2], p[3]);
}

// RFC 5952: lowercase, no leading zeros, the longest (first) run of two or
// more zero groups as "::"; IPv4-mapped addresses as ::ffff:a.b.c.d
static size_t print_ip6(mg_pfn_t out, void *arg, const uint8_t *p) {
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  size_t i, run, best = 0, blen = 0, n = 0;
  if (memcmp(p, mapped, sizeof(mapped)) == 0) {
    return mg_xprintf(out, arg, "::ffff:") + print_ip4(out, arg, p + 12);
  }
  for (i = 0; i < 8; i += run + 1) {
    for (run = 0; i + run < 8 && (p[2 * (i + run)] | p[2 * (i + run) + 1]) == 0;) {
      run++;
    }
    if (run > blen) best = i, blen = run;
  }
  for (i = 0; i < 8; i++) {
    if (blen > 1 && i == best) {
      n += mg_xprintf(out, arg, "::");
      i += blen - 1;
    } else {
      bool sep = i > 0 && !(blen > 1 && i == best + blen);
      n += mg_xprintf(out, arg, "%s%x", sep ? ":" : "",
                      p[2 * i] << 8 | p[2 * i + 1]);
    }
  }
  return n;
}

size_t mg_print_ip4(void (*out)(char, void *), void *arg, va_list *ap) {
  return print_ip4(out, arg, va_arg(*ap, const uint8_t *));
}

size_t mg_print_ip6(void (*out)(char, void *), void *arg, va_list *ap) {
  return print_ip6(out, arg, va_arg(*ap, const uint8_t *));
}

size_t mg_print_ip(void (*out)(char, void *), void *arg, va_list *ap) {
  const struct mg_addr *a = va_arg(*ap, const struct mg_addr *);
  return (a->is_ip6 ? print_ip6 : print_ip4)(out, arg, a->addr.ip);
}

size_t mg_print_ip_port(void (*out)(char, void *), void *arg, va_list *ap) {
  const struct mg_addr *a = va_arg(*ap, const struct mg_addr *);
  return mg_xprintf(out, arg, a->is_ip6 ? "[%M]:%d" : "%M:%d", mg_print_ip, a,
                    mg_ntohs(a->port));
}
