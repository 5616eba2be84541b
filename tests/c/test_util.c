// Unit tests of the wasmgoose utility modules: str, iobuf, printf, log,
// timer, url. Standalone: prints "N passed, N failed".
#include <math.h>

#include "fake_driver.h"
#include "check.h"



// The clock is fake_now of the fake driver (tests/c/fake_driver.c)
#define s_clock fake_now


// mg_snprintf into a static buffer, also checking the returned length
static char s_buf[1024];
#define SP(...) (sp_len = mg_snprintf(s_buf, sizeof(s_buf), __VA_ARGS__), s_buf)
static size_t sp_len;
#define FMT(want, ...) \
  CHECK(strcmp(SP(__VA_ARGS__), want) == 0 && sp_len == strlen(want))

// ---- str ------------------------------------------------------------------------

static void test_str(void) {
  struct mg_str s = mg_str("hello"), caps[5], a, b, d;
  CHECK(s.len == 5 && mg_str(NULL).buf == NULL && mg_str(NULL).len == 0);
  CHECK(mg_str_n("abc", 2).len == 2);
  CHECK(mg_casecmp("HeLLo", "hello") == 0);
  CHECK(mg_casecmp("a", "b") < 0 && mg_casecmp("b", "A") > 0);
  CHECK(mg_casecmp("ab", "abc") < 0 && mg_casecmp("abc", "AB") > 0);
  CHECK(mg_strcmp(mg_str("abc"), mg_str("abc")) == 0);
  CHECK(mg_strcmp(mg_str("abc"), mg_str("abd")) < 0);
  CHECK(mg_strcmp(mg_str("ab"), mg_str("abc")) < 0);
  CHECK(mg_strcmp(mg_str("abc"), mg_str("ab")) > 0);
  CHECK(mg_strcmp(mg_str("ABC"), mg_str("abc")) != 0);
  CHECK(mg_strcmp(mg_str(""), mg_str_n(NULL, 0)) == 0);
  CHECK(mg_strcasecmp(mg_str("ABC"), mg_str("abc")) == 0);
  CHECK(mg_strcasecmp(mg_str("ABC"), mg_str("abd")) < 0);

  d = mg_strdup(mg_str_n("hello world", 5));
  CHECK(d.len == 5 && d.buf != NULL && strcmp(d.buf, "hello") == 0);
  free(d.buf);
  d = mg_strdup(mg_str(""));
  CHECK(d.len == 0 && d.buf != NULL && d.buf[0] == '\0');
  free(d.buf);

  // mg_match
  CHECK(mg_match(mg_str("abc"), mg_str("abc"), NULL));
  CHECK(!mg_match(mg_str("abc"), mg_str("ab"), NULL));
  CHECK(!mg_match(mg_str("ab"), mg_str("abc"), NULL));
  CHECK(!mg_match(mg_str("ABC"), mg_str("abc"), NULL));
  CHECK(mg_match(mg_str(""), mg_str(""), NULL));
  CHECK(mg_match(mg_str(""), mg_str("*"), NULL));
  CHECK(mg_match(mg_str(""), mg_str("#"), NULL));
  CHECK(!mg_match(mg_str(""), mg_str("?"), NULL));
  CHECK(mg_match(mg_str_n(NULL, 0), mg_str("#"), NULL));
  CHECK(mg_match(mg_str("a/b"), mg_str("a?b"), NULL));
  CHECK(mg_match(mg_str("/api/foo"), mg_str("/api/*"), NULL));
  CHECK(!mg_match(mg_str("/api/foo/bar"), mg_str("/api/*"), NULL));
  CHECK(mg_match(mg_str("/api/foo/bar"), mg_str("/api/#"), NULL));
  CHECK(mg_match(mg_str("/api/foo/bar"), mg_str("/api/*/bar"), NULL));
  CHECK(mg_match(mg_str("a/b/cx"), mg_str("#/*x"), NULL));
  CHECK(mg_match(mg_str("index.shtml"), mg_str("#.shtml"), NULL));
  CHECK(!mg_match(mg_str("index.html"), mg_str("#.shtml"), NULL));
  CHECK(mg_match(mg_str("aaa"), mg_str("*a"), NULL));
  CHECK(mg_match(mg_str("/a/b/c"), mg_str("/*/?/#"), caps));
  CHECK(str_is(caps[0], "a") && str_is(caps[1], "b") && str_is(caps[2], "c"));
  CHECK(caps[3].buf == NULL && caps[3].len == 0);
  CHECK(mg_match(mg_str("x.y.z"), mg_str("*.*"), caps));  // lazy
  CHECK(str_is(caps[0], "x") && str_is(caps[1], "y.z") && caps[2].buf == NULL);
  CHECK(mg_match(mg_str("/foo/bar/baz"), mg_str("/foo#"), caps));
  CHECK(str_is(caps[0], "/bar/baz") && caps[1].buf == NULL);
  CHECK(mg_match(mg_str("ab"), mg_str("a*b"), caps));
  CHECK(str_is(caps[0], "") && caps[0].buf != NULL && caps[1].buf == NULL);
  CHECK(mg_match(mg_str("abc"), mg_str("abc"), caps) && caps[0].buf == NULL);
  CHECK(mg_match(mg_str("aaaaaaaaaaaaaaaaaaaaaaaaaaaaab"),
                 mg_str("#a#a#a#a#a#b"), NULL));
  {  // no exponential blow-up
    char s[3001];
    memset(s, 'a', 3000), s[3000] = '\0';
    CHECK(!mg_match(mg_str(s), mg_str("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"), NULL));
    CHECK(!mg_match(mg_str(s), mg_str("#a#a#a#a#a#a#a#a#a#a#a#a#a#a#b"), NULL));
    s[2998] = '/';
    CHECK(mg_match(mg_str(s), mg_str("*a*a*a*a*a*a*a*a*a*a*a#/?"), NULL));
  }

  // mg_span
  CHECK(mg_span(mg_str("a,b,c"), &a, &b, ','));
  CHECK(str_is(a, "a") && str_is(b, "b,c"));
  CHECK(mg_span(mg_str("abc"), &a, &b, ','));
  CHECK(str_is(a, "abc") && str_is(b, ""));
  CHECK(mg_span(mg_str(",x"), &a, &b, ','));
  CHECK(str_is(a, "") && str_is(b, "x"));
  CHECK(mg_span(mg_str("x,"), &a, &b, ','));
  CHECK(str_is(a, "x") && str_is(b, ""));
  CHECK(!mg_span(mg_str(""), &a, &b, ','));
  CHECK(mg_span(mg_str("k=v"), NULL, &b, '=') && str_is(b, "v"));
  CHECK(mg_span(mg_str("k=v"), &a, NULL, '=') && str_is(a, "k"));
  s = mg_str("1,22,333");
  {
    int count = 0;
    while (mg_span(s, &a, &s, ',')) count++;
    CHECK(count == 3);
  }
}

// Plain exponential reference matcher, to cross-check mg_match
static bool ref_match(const char *s, const char *p) {
  if (*p == '\0') return *s == '\0';
  if (*p == '*' || *p == '#') {
    for (;; s++) {
      if (ref_match(s, p + 1)) return true;
      if (*s == '\0' || (*p == '*' && *s == '/')) return false;
    }
  }
  if (*s == '\0' || (*p != '?' && *p != *s)) return false;
  return ref_match(s + 1, p + 1);
}

static void test_match_random(void) {
  uint32_t r = 1;
  size_t i, k, bad = 0;
  for (i = 0; i < 50000; i++) {
    char s[12], p[10];
    size_t sl, pl;
    r = r * 1103515245 + 12345, sl = (r >> 16) % 11;
    for (k = 0; k < sl; k++) r = r * 1103515245 + 12345, s[k] = "ab/"[(r >> 16) % 3];
    r = r * 1103515245 + 12345, pl = (r >> 16) % 9;
    for (k = 0; k < pl; k++) r = r * 1103515245 + 12345, p[k] = "ab/?*#"[(r >> 16) % 6];
    s[sl] = p[pl] = '\0';
    if (mg_match(mg_str(s), mg_str(p), NULL) != ref_match(s, p)) {
      if (bad++ < 5) printf("  match [%s] [%s] differs\n", s, p);
    }
  }
  CHECK(bad == 0);
}

static void test_str_to_num(void) {
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  int8_t i8;
  int16_t i16;
  int32_t i32;
  int64_t i64;
  CHECK(mg_str_to_num(mg_str("255"), 10, &u8, 1) && u8 == 255);
  CHECK(!mg_str_to_num(mg_str("256"), 10, &u8, 1));
  CHECK(mg_str_to_num(mg_str("65535"), 10, &u16, 2) && u16 == 65535);
  CHECK(!mg_str_to_num(mg_str("65536"), 10, &u16, 2));
  CHECK(mg_str_to_num(mg_str("4294967295"), 10, &u32, 4) && u32 == 4294967295U);
  CHECK(!mg_str_to_num(mg_str("4294967296"), 10, &u32, 4));
  CHECK(mg_str_to_num(mg_str("18446744073709551615"), 10, &u64, 8) &&
        u64 == UINT64_MAX);
  CHECK(!mg_str_to_num(mg_str("18446744073709551616"), 10, &u64, 8));
  CHECK(!mg_str_to_num(mg_str("99999999999999999999"), 10, &u64, 8));
  CHECK(mg_str_to_num(mg_str("-128"), 10, &i8, 1) && i8 == -128);
  CHECK(!mg_str_to_num(mg_str("-129"), 10, &i8, 1));
  CHECK(mg_str_to_num(mg_str("-32768"), 10, &i16, 2) && i16 == -32768);
  CHECK(mg_str_to_num(mg_str("-5"), 10, &i32, 4) && i32 == -5);
  CHECK(mg_str_to_num(mg_str("-9223372036854775808"), 10, &i64, 8) &&
        i64 == INT64_MIN);
  CHECK(!mg_str_to_num(mg_str("-9223372036854775809"), 10, &i64, 8));
  CHECK(mg_str_to_num(mg_str("ff"), 16, &u8, 1) && u8 == 255);
  CHECK(mg_str_to_num(mg_str("0xFF"), 16, &u16, 2) && u16 == 255);
  CHECK(mg_str_to_num(mg_str("0x1F"), 0, &u32, 4) && u32 == 31);
  CHECK(mg_str_to_num(mg_str("0b101"), 0, &u32, 4) && u32 == 5);
  CHECK(mg_str_to_num(mg_str("101"), 2, &u32, 4) && u32 == 5);
  CHECK(mg_str_to_num(mg_str("0b1"), 16, &u32, 4) && u32 == 0xb1);
  CHECK(mg_str_to_num(mg_str("0"), 0, &u32, 4) && u32 == 0);
  CHECK(mg_str_to_num(mg_str("077"), 0, &u32, 4) && u32 == 77);
  CHECK(!mg_str_to_num(mg_str("12"), 2, &u32, 4));
  CHECK(!mg_str_to_num(mg_str("1ff"), 16, &u8, 1));
  CHECK(!mg_str_to_num(mg_str(""), 10, &u32, 4));
  CHECK(!mg_str_to_num(mg_str("-"), 10, &i32, 4));
  CHECK(!mg_str_to_num(mg_str("0x"), 0, &u32, 4));
  CHECK(!mg_str_to_num(mg_str("12a"), 10, &u32, 4));
  CHECK(!mg_str_to_num(mg_str(" 12"), 10, &u32, 4));
  CHECK(!mg_str_to_num(mg_str("12"), 10, &u32, 3));
  CHECK(!mg_str_to_num(mg_str("12"), 1, &u32, 4));
  CHECK(!mg_str_to_num(mg_str_n(NULL, 0), 10, &u32, 4));
  CHECK(mg_str_to_num(mg_str_n("123456", 3), 10, &u32, 4) && u32 == 123);
}

// ---- iobuf ----------------------------------------------------------------------

static void test_iobuf(void) {
  struct mg_iobuf io = {NULL, 0, 0, 0};
  size_t i;
  CHECK(mg_iobuf_init(&io, 0, 10) == 1 && io.buf == NULL && io.size == 0);
  CHECK(mg_iobuf_add(&io, 0, "hello", 5) == 5 && io.size == 10);
  CHECK(memcmp(io.buf, "hello", 5) == 0);
  CHECK(mg_iobuf_add(&io, 0, "[", 1) == 6);           // prepend
  CHECK(mg_iobuf_add(&io, 100, "]", 1) == 7);         // ofs clamped: append
  CHECK(mg_iobuf_add(&io, 3, "--", 2) == 9);          // middle
  CHECK(memcmp(io.buf, "[he--llo]", 9) == 0);
  CHECK(mg_iobuf_add(&io, 9, "0123456789", 10) == 19 && io.size % 10 == 0);
  CHECK(memcmp(io.buf, "[he--llo]0123456789", 19) == 0);
  CHECK(mg_iobuf_add(&io, 1, NULL, 3) == 22 && memcmp(io.buf, "[\0\0\0he", 6) == 0);
  CHECK(mg_iobuf_del(&io, 1, 3) == 19);
  CHECK(mg_iobuf_del(&io, 3, 2) == 17 && memcmp(io.buf, "[hello]0123456789", 17) == 0);
  CHECK(mg_iobuf_del(&io, 0, 1) == 16 && memcmp(io.buf, "hello]", 6) == 0);
  CHECK(mg_iobuf_del(&io, 10, 100) == 10 && memcmp(io.buf, "hello]0123", 10) == 0);
  CHECK(mg_iobuf_del(&io, 50, 5) == 10);
  CHECK(mg_iobuf_add(&io, 5, "x", 0) == 10);
  CHECK(mg_iobuf_resize(&io, 4) == 1 && io.size == 10 && io.len == 10);  // align
  CHECK(mg_iobuf_resize(&io, 3) == 1 && io.size == 10);
  mg_iobuf_free(&io);
  CHECK(io.buf == NULL && io.size == 0 && io.len == 0);

  CHECK(mg_iobuf_init(&io, 100, 0) == 1 && io.size == 100 && io.len == 0);
  mg_iobuf_add(&io, 0, "abcdef", 6);
  CHECK(mg_iobuf_resize(&io, 4) == 1 && io.size == 4 && io.len == 4);
  CHECK(memcmp(io.buf, "abcd", 4) == 0);
  CHECK(mg_iobuf_resize(&io, 0) == 1 && io.buf == NULL);
  CHECK(mg_iobuf_del(&io, 0, 5) == 0);

  // Byte-by-byte appends change the size O(log n) times, keeping alignment
  {
    size_t sizes = 0, last = 0, misaligned = 0;
    mg_iobuf_init(&io, 0, 16);
    for (i = 0; i < 100000; i++) {
      char c = (char) ('a' + i % 26);
      if (mg_iobuf_add(&io, io.len, &c, 1) != i + 1) break;
      if (io.size != last) sizes++, last = io.size;
      if (io.size % 16 != 0) misaligned++;
    }
    CHECK(i == 100000 && io.len == 100000 && misaligned == 0);
    CHECK(io.buf[99999] == 'a' + 99999 % 26 && io.buf[26] == 'a');
    CHECK(sizes < 20 && io.size < 2 * 100000 + 16);
    mg_iobuf_free(&io);
  }
}

// ---- printf ---------------------------------------------------------------------

static void count_char(char c, void *arg) {
  (void) c;
  (*(size_t *) arg)++;
}

// Our float formatting agrees with the C library on typical values
static void test_floats_vs_libc(void) {
  static const double vals[] = {0,       1,         -1,       0.5,     1.5,
                                2.5,     0.1,       0.125,    3.14159, 2.675,
                                1.005,   123.456,   -0.001,   1e-5,    1e-4,
                                9.99999, 99999.5,   999999.5, 1e6,     123456789,
                                1e21,    1.5e-10,   6.02e23,  1e100,   -2.5e-300,
                                0.009,   0.0049999, 42,       1e15,    65536.0625};
  static const char *fmts[] = {"%f",   "%.2f", "%.0f", "%.1f", "%.10f", "%g",
                               "%.3g", "%.1g", "%.10g", "%e",  "%.2e",  "%.0e",
                               "%G",   "%E",   "%12.4f", "%-10.3g|", "%010.2f"};
  static const char *rfmts[] = {"%.17g", "%g", "%.3e", "%.0e", "%.8f"};
  char want[512];
  size_t i, j, bad = 0;
  uint64_t rnd;
  for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
    for (j = 0; j < sizeof(fmts) / sizeof(fmts[0]); j++) {
      snprintf(want, sizeof(want), fmts[j], vals[i]);
      if (strcmp(SP(fmts[j], vals[i]), want) != 0 || sp_len != strlen(want)) {
        printf("  float: fmt %s: got [%s], want [%s]\n", fmts[j], s_buf, want);
        bad++;
      }
    }
  }
  // Random bit patterns: every finite double, big or tiny, prints exactly
  for (i = 0, rnd = 12345; i < 3000; i++) {
    double v;
    rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
    memcpy(&v, &rnd, sizeof(v));
    if (isnan(v) || isinf(v)) continue;
    for (j = 0; j < sizeof(rfmts) / sizeof(rfmts[0]); j++) {
      snprintf(want, sizeof(want), rfmts[j], v);
      if (strcmp(SP(rfmts[j], v), want) != 0) {
        if (bad++ < 5) printf("  float: fmt %s: got [%s], want [%s]\n", rfmts[j], s_buf, want);
      }
    }
  }
  CHECK(bad == 0);
}

static void test_printf(void) {
  char buf[16], *p;
  size_t n = 0;
  void *ptr = (void *) (uintptr_t) 0x1234abcd;
  uint8_t bin[] = {0, 1, 0x7f, 0x80, 0xfe, 0xff, 'A'};
  uint8_t mac[6] = {0xaa, 0xbb, 0xcc, 0x01, 0x02, 0xff};
  uint8_t v4[4] = {192, 168, 0, 1};
  uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  struct mg_addr a4, a6;
  struct mg_iobuf io = {NULL, 0, 0, 0};

  FMT("", "%s", "");
  FMT("plain text", "plain text");
  FMT("%", "%%");
  FMT("42 -42 0", "%d %i %d", 42, -42, 0);
  FMT("-2147483648 2147483647", "%d %d", INT32_MIN, INT32_MAX);
  FMT("4294967295", "%u", 4294967295U);
  FMT("ff FF 777 0", "%x %X %o %x", 255, 255, 511, 0);
  FMT("-123456789 123456789 abcdef", "%ld %lu %lx", -123456789L, 123456789UL, 0xabcdefUL);
  FMT("-9223372036854775808 18446744073709551615 ffffffffffffffff", "%lld %llu %llx",
      (long long) INT64_MIN, (unsigned long long) UINT64_MAX,
      (unsigned long long) UINT64_MAX);
  FMT("123 -5", "%zu %zd", (size_t) 123, (ptrdiff_t) -5);
  FMT("-1 65535 -1 255", "%hd %hu %hhd %hhu", -1, 65535, 255, 255);
  FMT("x y", "%c %c", 'x', 'y');
  FMT("hello (null)", "%s %s", "hello", (char *) NULL);
  FMT("0x1234abcd", "%p", ptr);
  FMT("[   42][42   ][00042][-0042][  -42]", "[%5d][%-5d][%05d][%05d][%5d]", 42, 42, 42, -42, -42);
  FMT("[  abc][abc  ][ab][abcde]", "[%5s][%-5s][%.2s][%.5s]", "abc", "abc", "abcdef", "abcdefgh");
  FMT("[abc][   ab]", "[%.*s][%*.*s]", 3, "abcdef", 5, 2, "abcdef");
  FMT("[   7][7   ]", "[%*d][%*d]", 4, 7, -4, 7);
  FMT("[00042][  042][]", "[%.5d][%5.3d][%.0d]", 42, 42, 0);
  FMT("+5 -5  5", "%+d %+d % d", 5, -5, 5);
  FMT("[  x][x  ]", "[%3c][%-3c]", 'x', 'x');
  FMT("1.500000 3.14 -0.000000", "%f %.2f %f", 1.5, 3.14159, -0.0);
  FMT("0.1 1e+06 100000 1e-05 0.0001", "%g %g %g %g %g", 0.1, 1e6, 1e5, 1e-5, 1e-4);
  FMT("1.234568e+04 1.2E-07", "%e %.1E", 12345.678, 1.234e-7);
  FMT("inf -inf nan INF", "%f %g %e %F", INFINITY, -INFINITY, NAN, INFINITY);
  FMT("[  inf]", "[%05f]", INFINITY);
  FMT("1e+300", "%g", 1e300);
  FMT("4.94066e-324 4.9406564584124654e-324", "%g %.16e", 5e-324, 5e-324);
  FMT("1.7976931348623157e+308", "%.16e", 1.7976931348623157e308);
  FMT("100000000000000000000.000000", "%f", 1e20);
  FMT("0.29999999999999998890", "%.20f", 0.3);  // exact binary value
  FMT("%y", "%y");
  FMT("abc", "abc%");
  test_floats_vs_libc();

  // snprintf truncation and return value
  CHECK(mg_snprintf(buf, sizeof(buf), "%s", "0123456789abcdefXYZ") == 19);
  CHECK(strcmp(buf, "0123456789abcde") == 0);
  CHECK(mg_snprintf(buf, 4, "%d", 123456) == 6 && strcmp(buf, "123") == 0);
  CHECK(mg_snprintf(buf, 1, "%d", 123456) == 6 && buf[0] == '\0');
  buf[0] = 'q';
  CHECK(mg_snprintf(buf, 0, "%d", 123456) == 6 && buf[0] == 'q');
  CHECK(mg_snprintf(NULL, 0, "%s=%d", "abc", 5) == 5);
  CHECK(mg_snprintf(buf, 6, "%s", "hello") == 5 && strcmp(buf, "hello") == 0);
  CHECK(mg_snprintf(buf, 5, "%s", "hello") == 5 && strcmp(buf, "hell") == 0);

  // xprintf counts every produced character
  CHECK(mg_xprintf(count_char, &n, "%s-%05d%m", "ab", 7, MG_ESC("q")) == 11 && n == 11);

  // mprintf and the iobuf printer
  p = mg_mprintf("%s:%d", "host", 8080);
  CHECK(p != NULL && strcmp(p, "host:8080") == 0);
  free(p);
  p = mg_mprintf("%s", "");
  CHECK(p != NULL && p[0] == '\0');
  free(p);
  p = mg_mprintf("%0*d", 5000, 1);
  CHECK(p != NULL && strlen(p) == 5000 && p[0] == '0' && p[4999] == '1');
  free(p);
  CHECK(mg_xprintf(mg_pfn_iobuf, &io, "%s", "abc") == 3);
  CHECK(io.len == 3 && io.size > 3 && strcmp((char *) io.buf, "abc") == 0);
  CHECK(mg_xprintf(mg_pfn_iobuf, &io, "%d", 42) == 2 && strcmp((char *) io.buf, "abc42") == 0);
  for (n = 0; n < 10000; n++) mg_pfn_iobuf('x', &io);
  CHECK(io.len == 10005 && io.size < 40000 && io.buf[io.len] == '\0');
  mg_iobuf_free(&io);

  // %m and %M with every printer
  FMT("\"a\\\"b\"", "%m", MG_ESC("a\"b"));
  FMT("\"\\\\ \\n\\r\\t\\b\\f \\u0001\\u001f \xc3\xa9\"", "%m",
      MG_ESC("\\ \n\r\t\b\f \x01\x1f \xc3\xa9"));
  FMT("{\"k\":\"v\"}", "{%m:%m}", MG_ESC("k"), MG_ESC("v"));
  FMT("a\\u0000b", "%M", mg_print_esc, 3, "a\0b");
  FMT("ab", "%M", mg_print_esc, 2, "abcd");
  FMT("x\"\"y", "x%my", MG_ESC(""));
  FMT("AAF/gP7/QQ==", "%M", mg_print_base64, (int) sizeof(bin), bin);
  FMT("\"AAF/gP7/QQ==\"", "%m", mg_print_base64, (int) sizeof(bin), bin);
  FMT("TWFu TWE= TQ== ", "%M %M %M %M", mg_print_base64, 3, "Man", mg_print_base64, 2, "Ma",
      mg_print_base64, 1, "M", mg_print_base64, 0, "");
  FMT("00017f80feff41", "%M", mg_print_hex, (int) sizeof(bin), bin);
  FMT("aa:bb:cc:01:02:ff", "%M", mg_print_mac, mac);
  FMT("192.168.0.1", "%M", mg_print_ip4, v4);
  FMT("2001:db8::1", "%M", mg_print_ip6, v6);
  CHECK(mg_aton(mg_str("10.0.0.2"), &a4) && mg_aton(mg_str("::1"), &a6));
  a4.port = mg_htons(8000);
  a6.port = mg_htons(443);
  FMT("10.0.0.2 ::1", "%M %M", mg_print_ip, &a4, mg_print_ip, &a6);
  FMT("10.0.0.2:8000 [::1]:443", "%M %M", mg_print_ip_port, &a4, mg_print_ip_port, &a6);
  FMT("\"[::1]:443\"", "%m", mg_print_ip_port, &a6);
  FMT("1 10.0.0.2 2", "%d %M %d", 1, mg_print_ip, &a4, 2);  // va_list stays in sync
}

// RFC 5952 output of mg_aton input
static void check_ip6(const char *in, const char *want, int line) {
  struct mg_addr a;
  memset(&a, 0, sizeof(a));
  if (!mg_aton(mg_str(in), &a) || !a.is_ip6 ||
      strcmp(SP("%M", mg_print_ip, &a), want) != 0) {
    printf("%s:%d: ip6 %s: got [%s], want [%s]\n", __FILE__, line, in, s_buf, want);
    s_failed++;
  } else {
    s_passed++;
  }
}

static void test_ip6_text(void) {
  check_ip6("::", "::", __LINE__);
  check_ip6("::1", "::1", __LINE__);
  check_ip6("1::", "1::", __LINE__);
  check_ip6("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1", __LINE__);
  check_ip6("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1", __LINE__);  // first run
  check_ip6("2001:0:0:1:0:0:0:1", "2001:0:0:1::1", __LINE__);        // longest
  check_ip6("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1", __LINE__);  // no "::" for one
  check_ip6("FE80::ABCD:1", "fe80::abcd:1", __LINE__);
  check_ip6("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8", __LINE__);
  check_ip6("::ffff:1.2.3.4", "::ffff:1.2.3.4", __LINE__);
  check_ip6("64:ff9b::1.2.3.4", "64:ff9b::102:304", __LINE__);
  check_ip6("[::1]", "::1", __LINE__);
  check_ip6("fe80::1%5", "fe80::1", __LINE__);
  check_ip6("fe80::1%eth0", "fe80::1", __LINE__);
}

// ---- log ------------------------------------------------------------------------

static void test_log(void) {
  struct mg_iobuf io = {NULL, 0, 0, 0};
  const char *s;
  int old = mg_log_level;
  uint8_t data[20];
  size_t i;
  mg_log_set_fn(mg_pfn_iobuf, &io);
  s_clock = 0xabc;
  MG_INFO(("hello %d", 42));
  s = (const char *) io.buf;
  CHECK(s != NULL && strncmp(s, "00000abc 2 test_util.c:", 23) == 0);
  CHECK(s != NULL && strstr(s, ":test_log hello 42\n") != NULL);
  CHECK(s != NULL && s[io.len - 1] == '\n');
  io.len = 0;
  MG_DEBUG(("hidden"));
  CHECK(io.len == 0);
  mg_log_set(MG_LL_DEBUG);
  MG_DEBUG(("shown"));
  CHECK(io.len > 0 && strstr((char *) io.buf, " 3 ") != NULL);
  mg_log_set(MG_LL_NONE);
  io.len = 0;
  MG_ERROR(("hidden"));
  CHECK(io.len == 0);
  mg_log_prefix(MG_LL_ERROR, "C:\\src\\x.c", 7, "fn");
  CHECK(io.len > 0 && strcmp((char *) io.buf, "00000abc 1 x.c:7:fn ") == 0);
  io.len = 0;
  mg_log("%s", "raw");
  CHECK(strcmp((char *) io.buf, "raw\n") == 0);

  for (i = 0; i < sizeof(data); i++) data[i] = (uint8_t) ('0' + i);
  data[1] = 0, data[2] = 0xff;
  io.len = 0;
  mg_hexdump(data, sizeof(data));
  CHECK(strcmp((char *) io.buf,
               "0000  30 00 ff 33 34 35 36 37 38 39 3a 3b 3c 3d 3e 3f  "
               "0..3456789:;<=>?\n"
               "0010  40 41 42 43                                      "
               "@ABC\n") == 0);
  io.len = 0;
  io.buf[0] = '\0';
  mg_hexdump(data, 0);
  CHECK(io.len == 0);
  mg_log_set_fn(NULL, NULL);  // back to stdout
  mg_iobuf_free(&io);
  mg_log_level = old;
}

// ---- timers ---------------------------------------------------------------------

static int s_calls[4];
static struct mg_timer **s_head;
static struct mg_timer *s_victim;

static void tcount(void *arg) {
  s_calls[*(int *) arg]++;
}

static void tfree_self(void *arg) {  // frees its own (autodelete) timer
  s_calls[3]++;
  mg_timer_free(s_head, (struct mg_timer *) arg);
}

static void tfree_other(void *arg) {  // frees another timer
  (void) arg;
  s_calls[2]++;
  if (s_victim != NULL) mg_timer_free(s_head, s_victim), s_victim = NULL;
}

static size_t count_timers(struct mg_timer *t) {
  size_t n = 0;
  for (; t != NULL; t = t->next) n++;
  return n;
}

static void test_timers(void) {
  struct mg_timer *head = NULL, t1, t2, t3, *ta;
  struct mg_mgr mgr;
  int i0 = 0, i1 = 1;
  uint64_t exp = 0;
  memset(s_calls, 0, sizeof(s_calls));
  memset(&mgr, 0, sizeof(mgr));
  s_head = &head;
  s_clock = 1000;

  mg_timer_init(&head, &t1, 100, MG_TIMER_ONCE, tcount, &i0);
  mg_timer_init(&head, &t2, 50, MG_TIMER_REPEAT, tcount, &i1);
  CHECK(head == &t2 && t2.next == &t1 && t1.expire == 1100 && t2.expire == 1050);
  mg_timer_poll(&head, 1049);
  CHECK(s_calls[0] == 0 && s_calls[1] == 0);
  mg_timer_poll(&head, 1050);
  CHECK(s_calls[1] == 1 && t2.expire == 1100 && (t2.flags & MG_TIMER_CALLED));
  CHECK(!(t1.flags & MG_TIMER_CALLED));
  mg_timer_poll(&head, 1100);
  CHECK(s_calls[0] == 1 && s_calls[1] == 2 && t2.expire == 1150);
  CHECK(head == &t2 && t2.next == NULL && (t1.flags & MG_TIMER_CALLED));  // once: gone
  mg_timer_poll(&head, 5000);  // far behind: rescheduled from now
  CHECK(s_calls[0] == 1 && s_calls[1] == 3 && t2.expire == 5050);
  mg_timer_poll(&head, 5075);  // a little behind: keeps the schedule
  CHECK(s_calls[1] == 4 && t2.expire == 5100);
  mg_timer_free(&head, &t2);
  CHECK(head == NULL);
  mg_timer_free(&head, &t2);  // not in the list: harmless
  mg_timer_poll(&head, 9000);
  CHECK(s_calls[1] == 4);

  // RUN_NOW
  s_clock = 2000;
  mg_timer_init(&head, &t3, 500, MG_TIMER_REPEAT | MG_TIMER_RUN_NOW, tcount, &i0);
  CHECK(t3.expire == 2000);
  mg_timer_poll(&head, 2000);
  CHECK(s_calls[0] == 2 && t3.expire == 2500);
  mg_timer_poll(&head, 2499);
  CHECK(s_calls[0] == 2);
  mg_timer_free(&head, &t3);

  // Zero-period repeat timer: called once per poll
  mg_timer_init(&head, &t3, 0, MG_TIMER_REPEAT, tcount, &i0);
  mg_timer_poll(&head, 2000);
  mg_timer_poll(&head, 2000);
  CHECK(s_calls[0] == 4);
  mg_timer_free(&head, &t3);

  // mg_timer_add: autodelete once, freed after its call (ASan checks leaks)
  ta = mg_timer_add(&mgr, 10, MG_TIMER_ONCE, tcount, &i1);
  CHECK(ta != NULL && mgr.timers == ta && (ta->flags & MG_TIMER_AUTODELETE));
  CHECK(ta->expire == 2010);
  mg_timer_poll(&mgr.timers, 2010);
  CHECK(s_calls[1] == 5 && mgr.timers == NULL);

  // A repeat timer that frees itself from its callback
  s_head = &mgr.timers;
  ta = mg_timer_add(&mgr, 10, MG_TIMER_REPEAT, tfree_self, NULL);
  ta->arg = ta;
  mg_timer_poll(&mgr.timers, 2010);
  CHECK(s_calls[3] == 1 && mgr.timers == NULL);

  // A once timer that frees itself: no double free
  ta = mg_timer_add(&mgr, 10, MG_TIMER_ONCE, tfree_self, NULL);
  ta->arg = ta;
  mg_timer_poll(&mgr.timers, 2010);
  CHECK(s_calls[3] == 2 && mgr.timers == NULL);

  // A callback frees another due timer: the victim is not called
  s_victim = mg_timer_add(&mgr, 10, MG_TIMER_REPEAT, tcount, &i1);
  mg_timer_add(&mgr, 10, MG_TIMER_REPEAT, tfree_other, NULL);
  mg_timer_add(&mgr, 10, MG_TIMER_REPEAT, tcount, &i0);
  CHECK(count_timers(mgr.timers) == 3);
  mg_timer_poll(&mgr.timers, 2010);
  CHECK(s_calls[2] == 1 && s_calls[1] == 5 && s_calls[0] == 5);
  CHECK(count_timers(mgr.timers) == 2 && s_victim == NULL);
  while (mgr.timers != NULL) mg_timer_free(&mgr.timers, mgr.timers);

  // Allocation keeps working with a user loop over several timers
  ta = mg_timer_add(&mgr, 5, MG_TIMER_REPEAT | MG_TIMER_RUN_NOW, tcount, &i0);
  mg_timer_poll(&mgr.timers, 2000);
  CHECK(s_calls[0] == 6);
  mg_timer_free(&mgr.timers, ta);
  CHECK(mgr.timers == NULL);

  // mg_timer_expired
  CHECK(!mg_timer_expired(&exp, 100, 1000) && exp == 1100);
  CHECK(!mg_timer_expired(&exp, 100, 1099));
  CHECK(mg_timer_expired(&exp, 100, 1100) && exp == 1200);
  CHECK(!mg_timer_expired(&exp, 100, 1150));
  CHECK(mg_timer_expired(&exp, 100, 1250) && exp == 1300);
  CHECK(mg_timer_expired(&exp, 100, 5000) && exp == 5100);  // far behind
  CHECK(!mg_timer_expired(&exp, 100, 10) && exp == 110);    // clock went back
  CHECK(!mg_timer_expired(&exp, 100, 50) && exp == 110);
  CHECK(mg_timer_expired(&exp, 100, 110) && exp == 210);
}

// ---- url and addresses -------------------------------------------------------------

static void test_url(void) {
  CHECK(mg_url_port("http://a.com") == 80);
  CHECK(mg_url_port("https://a.com/x") == 443);
  CHECK(mg_url_port("ws://a.com") == 80);
  CHECK(mg_url_port("WSS://a.com") == 443);
  CHECK(mg_url_port("mqtt://broker") == 1883);
  CHECK(mg_url_port("mqtts://broker") == 8883);
  CHECK(mg_url_port("tcp://a") == 0 && mg_url_port("udp://a") == 0);
  CHECK(mg_url_port("foo://a") == 0 && mg_url_port("a.com") == 0);
  CHECK(mg_url_port("http://a.com:8080/x") == 8080);
  CHECK(mg_url_port("http://u:p@a.com:81") == 81);
  CHECK(mg_url_port("http://[::1]:8000/x") == 8000);
  CHECK(mg_url_port("https://[::1]/x") == 443);
  CHECK(mg_url_port("localhost:1234") == 1234);
  CHECK(mg_url_port("udp://0.0.0.0:53") == 53);
  CHECK(mg_url_port("http://a:65535") == 65535);
  CHECK(mg_url_port("http://a:65536") == 0);
  CHECK(mg_url_port("http://a:-1") == 0);
  CHECK(mg_url_port("http://a:x") == 0);

  CHECK(mg_url_is_ssl("https://a") && mg_url_is_ssl("wss://a"));
  CHECK(mg_url_is_ssl("mqtts://a") && mg_url_is_ssl("ssl://a") && mg_url_is_ssl("tls://a"));
  CHECK(mg_url_is_ssl("HTTPS://a"));
  CHECK(!mg_url_is_ssl("http://a") && !mg_url_is_ssl("ws://a") && !mg_url_is_ssl("mqtt://a"));
  CHECK(!mg_url_is_ssl("a.com:443") && !mg_url_is_ssl("httpsx://a") && !mg_url_is_ssl(""));

  CHECK(str_is(mg_url_host("http://a.com"), "a.com"));
  CHECK(str_is(mg_url_host("http://a.com:80/x/y"), "a.com"));
  CHECK(str_is(mg_url_host("http://a.com/x:y@z"), "a.com"));
  CHECK(str_is(mg_url_host("http://u:p@a.com:80/x"), "a.com"));
  CHECK(str_is(mg_url_host("http://[::1]:8000/x"), "::1"));
  CHECK(str_is(mg_url_host("ws://[fe80::1%25eth0]/x"), "fe80::1%25eth0"));
  CHECK(str_is(mg_url_host("http://u@[2001:db8::1]"), "2001:db8::1"));
  CHECK(str_is(mg_url_host("localhost:8000"), "localhost"));
  CHECK(str_is(mg_url_host("1.2.3.4"), "1.2.3.4"));
  CHECK(str_is(mg_url_host("http://a.com?q=1"), "a.com"));
  CHECK(str_is(mg_url_host("tcp://:1234"), ""));
  CHECK(str_is(mg_url_host(""), ""));

  CHECK(str_is(mg_url_user("http://user:pass@a.com/x"), "user"));
  CHECK(str_is(mg_url_pass("http://user:pass@a.com/x"), "pass"));
  CHECK(str_is(mg_url_user("http://user@a.com"), "user"));
  CHECK(str_is(mg_url_pass("http://user@a.com"), ""));
  CHECK(str_is(mg_url_user("http://:secret@a.com"), ""));
  CHECK(str_is(mg_url_pass("http://:secret@a.com"), "secret"));
  CHECK(str_is(mg_url_pass("mqtt://u:p:q@a.com"), "p:q"));
  CHECK(str_is(mg_url_user("http://a.com/u:p@b"), ""));
  CHECK(str_is(mg_url_user("http://a.com"), "") && mg_url_user("http://a.com").len == 0);

  CHECK(strcmp(mg_url_uri("http://a.com"), "/") == 0);
  CHECK(strcmp(mg_url_uri("http://a.com/"), "/") == 0);
  CHECK(strcmp(mg_url_uri("http://a.com:80/x/y?z=1"), "/x/y?z=1") == 0);
  CHECK(strcmp(mg_url_uri("http://u:p@[::1]:80/api"), "/api") == 0);
  CHECK(strcmp(mg_url_uri("a.com:80/x"), "/x") == 0);
  CHECK(strcmp(mg_url_uri("http://a.com?x"), "/") == 0);
  {
    const char *u = "http://a.com/p";
    CHECK(mg_url_uri(u) == u + 12);
  }
}

static void test_aton(void) {
  struct mg_addr a;
  memset(&a, 0, sizeof(a));
  a.port = 1234;
  CHECK(mg_aton(mg_str("1.2.3.4"), &a) && !a.is_ip6 && a.port == 1234);
  CHECK(a.addr.ip[0] == 1 && a.addr.ip[1] == 2 && a.addr.ip[2] == 3 && a.addr.ip[3] == 4);
  CHECK(a.addr.ip4 == mg_htonl(0x01020304));
  CHECK(mg_aton(mg_str("255.255.255.255"), &a) && a.addr.ip4 == 0xffffffffU);
  CHECK(mg_aton(mg_str("0.0.0.0"), &a) && a.addr.ip4 == 0);
  CHECK(mg_aton(mg_str("localhost"), &a) && !a.is_ip6 && a.addr.ip4 == mg_htonl(0x7f000001));
  CHECK(mg_aton(mg_str_n("10.0.0.1xyz", 8), &a) && a.addr.ip[3] == 1);
  CHECK(!mg_aton(mg_str("256.1.1.1"), &a));
  CHECK(!mg_aton(mg_str("1.2.3"), &a));
  CHECK(!mg_aton(mg_str("1.2.3.4.5"), &a));
  CHECK(!mg_aton(mg_str("1..3.4"), &a));
  CHECK(!mg_aton(mg_str("1.2.3.4."), &a));
  CHECK(!mg_aton(mg_str("1.2.3.0004"), &a));
  CHECK(!mg_aton(mg_str("a.b.c.d"), &a));
  CHECK(!mg_aton(mg_str("1.2.3.-4"), &a));
  CHECK(!mg_aton(mg_str(""), &a) && !mg_aton(mg_str_n(NULL, 0), &a));
  CHECK(!mg_aton(mg_str("example.com"), &a));
  CHECK(!mg_aton(mg_str("LOCALHOSTX"), &a));

  CHECK(mg_aton(mg_str("::1"), &a) && a.is_ip6 && a.port == 1234);
  CHECK(a.addr.ip6[0] == 0 && a.addr.ip[15] == 1 && a.addr.ip[14] == 0);
  CHECK(mg_aton(mg_str("[2001:db8::ff00:42:8329]"), &a) && a.is_ip6);
  CHECK(a.addr.ip[0] == 0x20 && a.addr.ip[1] == 0x01 && a.addr.ip[3] == 0xb8);
  CHECK(a.addr.ip[10] == 0xff && a.addr.ip[11] == 0 && a.addr.ip[15] == 0x29);
  CHECK(mg_aton(mg_str("::ffff:1.2.3.4"), &a) && a.is_ip6 && a.addr.ip[10] == 0xff);
  CHECK(a.addr.ip[11] == 0xff && a.addr.ip[12] == 1 && a.addr.ip[15] == 4);
  CHECK(mg_aton(mg_str("fe80::1%3"), &a) && a.is_ip6 && a.scope_id == 3);
  CHECK(mg_aton(mg_str("fe80::1%eth0"), &a) && a.scope_id == 0);
  CHECK(mg_aton(mg_str("[fe80::2%7]"), &a) && a.scope_id == 7 && a.addr.ip[15] == 2);
  CHECK(!mg_aton(mg_str(":::"), &a));
  CHECK(!mg_aton(mg_str("1::2::3"), &a));
  CHECK(!mg_aton(mg_str(":1::2"), &a));
  CHECK(!mg_aton(mg_str("1::2:"), &a));
  CHECK(!mg_aton(mg_str("1:2:3:4:5:6:7"), &a));
  CHECK(!mg_aton(mg_str("1:2:3:4:5:6:7:8:9"), &a));
  CHECK(!mg_aton(mg_str("1:2:3:4::5:6:7:8"), &a));
  CHECK(!mg_aton(mg_str("12345::1"), &a));
  CHECK(!mg_aton(mg_str("g::1"), &a));
  CHECK(!mg_aton(mg_str("::1.2.3"), &a));
  CHECK(!mg_aton(mg_str("1:2:3:4:5:6:7:1.2.3.4"), &a));
  CHECK(mg_aton(mg_str("1:2:3:4:5:6:1.2.3.4"), &a) && a.addr.ip[12] == 1);
  CHECK(!mg_aton(mg_str("[::1"), &a));
  CHECK(mg_ntohs(mg_htons(0x1234)) == 0x1234 && mg_ntohl(mg_htonl(0x12345678)) == 0x12345678);
  {
    uint8_t b[4] = {0x12, 0x34, 0x56, 0x78};
    uint16_t s16;
    uint32_t s32;
    memcpy(&s16, b, 2);
    memcpy(&s32, b, 4);
    CHECK(mg_ntohs(s16) == 0x1234 && mg_ntohl(s32) == 0x12345678);
  }
  test_ip6_text();
}

int main(void) {
  test_str();
  test_match_random();
  test_str_to_num();
  test_iobuf();
  test_printf();
  test_log();
  test_timers();
  test_url();
  test_aton();
  return check_summary();
}
