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

// ---- Floating point ---------------------------------------------------------
// Exact: a double is m * 2^e, whose decimal expansion is computed digit by
// digit, then rounded half to even like the C library does.

#define DEC_MAX 800  // a double has at most 767 significant decimal digits

struct dec {
  uint8_t d[DEC_MAX];  // digits 0..9, d[0] != 0; n == 0 means zero
  int n, point;        // value = 0.d[0]d[1]... * 10^point
};

static void dec_mul(struct dec *v, int k) {  // v *= 2^k, k <= 28
  uint32_t carry = 0;
  int i;
  for (i = v->n - 1; i >= 0; i--) {
    uint32_t t = ((uint32_t) v->d[i] << k) + carry;
    v->d[i] = (uint8_t) (t % 10);
    carry = t / 10;
  }
  for (; carry != 0; carry /= 10) {
    memmove(v->d + 1, v->d, (size_t) v->n);
    v->d[0] = (uint8_t) (carry % 10);
    v->n++, v->point++;
  }
}

static void dec_div(struct dec *v, int k) {  // v /= 2^k, k <= 28
  uint32_t r = 0, mask = (1U << k) - 1;
  int i, w = 0;  // w <= i: the quotient overwrites the dividend
  for (i = 0; (i < v->n || r != 0) && w < DEC_MAX; i++) {
    r = r * 10 + (i < v->n ? v->d[i] : 0);
    if (w == 0 && (r >> k) == 0) {
      v->point--;  // leading zero
    } else {
      v->d[w++] = (uint8_t) (r >> k);
    }
    r &= mask;
  }
  v->n = w;
}

static void dec_init(struct dec *v, double x) {  // finite x >= 0
  uint64_t bits, m;
  char tmp[24];
  int e, i, k;
  memcpy(&bits, &x, sizeof(bits));
  e = (int) (bits >> 52) & 0x7ff;
  m = bits & ((1ULL << 52) - 1);
  if (e == 0) {
    e = -1074;  // subnormal
  } else {
    m |= 1ULL << 52, e -= 1075;
  }
  v->n = 0, v->point = 1;
  if (m == 0) return;
  for (; (m & 1) == 0; m >>= 1) e++;
  v->n = v->point = (int) utoa(m, 10, false, tmp);
  for (i = 0; i < v->n; i++) v->d[i] = (uint8_t) (tmp[i] - '0');
  for (; e > 0; e -= k) dec_mul(v, k = e < 28 ? e : 28);
  for (; e < 0; e += k) dec_div(v, k = -e < 28 ? -e : 28);
}

// Rounds v to a multiple of 10^pos, half to even
static void dec_round(struct dec *v, int pos) {
  int keep = v->point - pos, i;  // number of digits kept
  bool up, rest = false;
  if (keep >= v->n) return;
  if (keep < 0) keep = 0, v->n = 0;  // below a tenth of 10^pos
  for (i = keep + 1; i < v->n; i++) rest = rest || v->d[i] != 0;
  up = keep < v->n &&
       (v->d[keep] > 5 ||
        (v->d[keep] == 5 && (rest || (keep > 0 && (v->d[keep - 1] & 1)))));
  v->n = keep;
  if (!up) return;
  for (i = keep - 1; i >= 0 && v->d[i] == 9; i--) v->d[i] = 0;
  if (i >= 0) {
    v->d[i]++;
  } else {  // 0.999 -> 1.000, or 0.5+ -> 1 at 10^pos
    v->d[0] = 1, v->n = 1, v->point++;
  }
}

static char dec_digit(const struct dec *v, int power) {  // digit at 10^power
  int i = v->point - 1 - power;
  return (char) ('0' + (i >= 0 && i < v->n ? v->d[i] : 0));
}

static int dec_exp(const struct dec *v) {  // exponent of the first digit
  return v->n > 0 ? v->point - 1 : 0;
}

// Fixed notation with p decimals
static size_t fixed(char *b, const struct dec *v, int p) {
  int k = dec_exp(v) > 0 ? dec_exp(v) : 0;
  size_t len = 0;
  for (; k >= -p; k--) {
    if (k == -1) b[len++] = '.';
    b[len++] = dec_digit(v, k);
  }
  return len;
}

// Exponent notation d.ddd with p decimals, then e+XX
static size_t expo(char *b, const struct dec *v, int p, char ec) {
  int e = dec_exp(v), i;
  size_t len = 0;
  b[len++] = dec_digit(v, e);
  if (p > 0) b[len++] = '.';
  for (i = 1; i <= p; i++) b[len++] = dec_digit(v, e - i);
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
  struct dec v;
  char ec = c >= 'a' ? 'e' : 'E';
  int e;
  dec_init(&v, x);
  if (c == 'f' || c == 'F') {
    dec_round(&v, -p);
    return fixed(b, &v, p);
  }
  if (c == 'e' || c == 'E') {
    dec_round(&v, dec_exp(&v) - p);
    return expo(b, &v, p, ec);
  }
  if (p == 0) p = 1;  // %g: p significant digits
  dec_round(&v, dec_exp(&v) - p + 1);
  e = dec_exp(&v);
  if (e < -4 || e >= p) return strip_zeros(b, expo(b, &v, p - 1, ec));
  return strip_zeros(b, fixed(b, &v, p - 1 - e));
}

// ---- The formatter ----------------------------------------------------------

static size_t convert(mg_pfn_t fn, void *arg, char c, char lm, struct spec *sp,
                      va_list *ap) {
  char buf[512];  // fits 309 integer digits and MAX_FLOAT_PREC decimals
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
      size_t max = sp->prec < 0 ? SIZE_MAX : (size_t) sp->prec;
      if (s == NULL) s = "(null)";
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
    case '%':
      fn('%', arg);
      return 1;
    default:  // unknown conversion: print it as is
      fn('%', arg);
      fn(c, arg);
      return 2;
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

// ---- %M printers ------------------------------------------------------------

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

static unsigned group(const uint8_t *p, size_t i) {  // i-th 16-bit group
  return (unsigned) p[2 * i] << 8 | p[2 * i + 1];
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
    for (run = 0; i + run < 8 && group(p, i + run) == 0;) run++;
    if (run > blen) best = i, blen = run;
  }
  for (i = 0; i < 8; i++) {
    if (blen > 1 && i == best) {
      n += mg_xprintf(out, arg, "::");
      i += blen - 1;
    } else {
      bool sep = i > 0 && !(blen > 1 && i == best + blen);
      n += mg_xprintf(out, arg, "%s%x", sep ? ":" : "", group(p, i));
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
