// Unit tests of the JSON module: mg_json_get and its typed getters on
// RFC 8259 edge cases (escapes, \u sequences with surrogate pairs, numbers
// with exponents, nesting up to and past MG_JSON_MAX_DEPTH, invalid
// documents), mg_json_unescape and mg_json_next.
// SPDX-License-Identifier: MIT
#include <math.h>

#include "fake_driver.h"
#include "check.h"

// mg_json_get on a C string; the token (if any) must be `want`
static bool tok_is(const char *json, const char *path, const char *want) {
  int len = -1, ofs = mg_json_get(mg_str(json), path, &len);
  if (ofs < 0) return want == NULL;
  return want != NULL && len == (int) strlen(want) &&
         memcmp(json + ofs, want, (size_t) len) == 0;
}

static int get(const char *json, const char *path) {
  return mg_json_get(mg_str(json), path, NULL);
}

static void test_get(void) {
  const char *doc =
      " { \"a\" : 1, \"b\": [10, \"x\", {\"c\": null}, [true, false]],"
      " \"d\": {\"e\": {\"f\": -1.5e+3}}, \"\": \"empty key\", \"a.b\": 2 } ";
  int len;
  CHECK(tok_is(doc, "$", "{ \"a\" : 1, \"b\": [10, \"x\", {\"c\": null}, [true, false]],"
                         " \"d\": {\"e\": {\"f\": -1.5e+3}}, \"\": \"empty key\", \"a.b\": 2 }"));
  CHECK(tok_is(doc, "$.a", "1"));
  CHECK(tok_is(doc, "$.b", "[10, \"x\", {\"c\": null}, [true, false]]"));
  CHECK(tok_is(doc, "$.b[0]", "10"));
  CHECK(tok_is(doc, "$.b[1]", "\"x\""));
  CHECK(tok_is(doc, "$.b[2].c", "null"));
  CHECK(tok_is(doc, "$.b[3][1]", "false"));
  CHECK(tok_is(doc, "$.d.e.f", "-1.5e+3"));
  CHECK(tok_is(doc, "$.d.e", "{\"f\": -1.5e+3}"));
  CHECK(tok_is(doc, "$.", "\"empty key\""));
  CHECK(get(doc, "$.b[4]") == MG_JSON_NOT_FOUND);
  CHECK(get(doc, "$.b[01]") == MG_JSON_NOT_FOUND);
  CHECK(get(doc, "$.b[-1]") == MG_JSON_NOT_FOUND);
  CHECK(get(doc, "$.b[]") == MG_JSON_NOT_FOUND);
  CHECK(get(doc, "$.b[0") == MG_JSON_NOT_FOUND);
  CHECK(get(doc, "$.a.b") == MG_JSON_NOT_FOUND);  // keys with '.' are unreachable
  CHECK(get(doc, "$.a[0]") == MG_JSON_NOT_FOUND);
  CHECK(get(doc, "$[0]") == MG_JSON_NOT_FOUND);
  CHECK(get(doc, "$.x") == MG_JSON_NOT_FOUND);
  CHECK(get(doc, "$.A") == MG_JSON_NOT_FOUND);  // case matters
  CHECK(get(doc, "a") == MG_JSON_NOT_FOUND);   // a path starts with '$'
  CHECK(get(doc, "") == MG_JSON_NOT_FOUND);
  CHECK(get(doc, NULL) == MG_JSON_NOT_FOUND);
  CHECK(mg_json_get(mg_str(doc), "$.a", &len) == 9 && len == 1);
  // Arrays at the top, scalars at the top
  CHECK(tok_is("[1,[2,[3]]]", "$[1][1][0]", "3"));
  CHECK(tok_is("[1,[2,[3]]]", "$[1][1]", "[3]"));
  CHECK(tok_is("\"s\"", "$", "\"s\""));
  CHECK(tok_is(" 42 ", "$", "42"));
  CHECK(tok_is("null", "$", "null"));
  CHECK(tok_is("[]", "$", "[]") && get("[]", "$[0]") == MG_JSON_NOT_FOUND);
  CHECK(tok_is("{}", "$", "{}") && get("{}", "$.a") == MG_JSON_NOT_FOUND);
  // Big indexes
  {
    char big[4000];
    size_t i, n = 0;
    big[n++] = '[';
    for (i = 0; i < 1000; i++) n += (size_t) sprintf(big + n, "%s%u", i ? "," : "", (unsigned) i);
    big[n++] = ']';
    big[n] = '\0';
    CHECK(tok_is(big, "$[999]", "999"));
    CHECK(tok_is(big, "$[123]", "123"));
    CHECK(get(big, "$[1000]") == MG_JSON_NOT_FOUND);
    CHECK(get(big, "$[99999999999999999999999]") == MG_JSON_NOT_FOUND);
  }
  // The first of duplicate keys
  CHECK(tok_is("{\"a\":1,\"a\":2}", "$.a", "1"));
  // Keys are compared unescaped
  CHECK(tok_is("{\"\\u0061\\\"b\":7}", "$.a\"b", "7"));
  CHECK(tok_is("{\"\\u00e9\":8}", "$.\xc3\xa9", "8"));
  CHECK(tok_is("{\"\\ud83d\\ude00\":9}", "$.\xf0\x9f\x98\x80", "9"));
  // Whitespace of every kind
  CHECK(tok_is("\t\r\n[\t1\r,\n2 ]\n", "$[1]", "2"));
}

static void test_invalid(void) {
  static const char *bad[] = {
      "",           " ",          "{",          "}",         "[",         "]",
      "[1,]",       "[,1]",       "{\"a\":}",   "{\"a\" 1}", "{a:1}",     "{'a':1}",
      "{\"a\":1,}", "[1 2]",      "01",         "1.",        ".5",        "-",
      "+1",         "1e",         "1e+",        "0x10",      "NaN",       "Infinity",
      "tru",        "True",       "nul",        "nulll",     "\"abc",     "\"\\x\"",
      "\"\\u12\"",  "\"\\u12g4\"", "\"a\nb\"",  "\"\t\"",    "[1]]",      "{}{}",
      "1 2",        "[\"a\",]",   "\"\\\"",     "--1",       "1.2.3",     "[1,2",
      "{\"a\":1",   "\"\\",       "[\x01]",     "[1]x",      "\"\\U0041\"",
  };
  size_t i;
  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    int r = get(bad[i], "$");
    if (r != MG_JSON_INVALID) fprintf(stderr, "  accepted bad JSON #%u: %s\n", (unsigned) i, bad[i]);
    CHECK(r == MG_JSON_INVALID);
  }
  // A NUL byte inside is invalid (outside a string it is not whitespace)
  CHECK(mg_json_get(mg_str_n("[1]\0", 4), "$", NULL) == MG_JSON_INVALID);
  CHECK(mg_json_get(mg_str_n("\"a\0b\"", 5), "$", NULL) == MG_JSON_INVALID);
  CHECK(mg_json_get(mg_str_n(NULL, 0), "$", NULL) == MG_JSON_INVALID);
  // The whole document is checked, even past the value asked for
  CHECK(get("{\"a\":1,\"b\":[}", "$.a") == MG_JSON_INVALID);
  // Valid edge cases
  CHECK(get("0", "$") == 0 && get("-0", "$") == 0 && get("-0.0e-0", "$") == 0);
  CHECK(get("1E5", "$") == 0 && get("1e+05", "$") == 0 && get("12.5E-10", "$") == 0);
  CHECK(get("\"\\/\\b\\f\\n\\r\\t\\\\\\\"\"", "$") == 0);
  CHECK(get("\"\\uD800\"", "$") == 0);  // a lone surrogate is valid syntax
  CHECK(get("\"\xff\xfe\"", "$") == 0);  // bytes are not checked as UTF-8
}

static void test_depth(void) {
  char doc[200];
  int i;
  // MG_JSON_MAX_DEPTH nested arrays are fine, one more is too deep
  for (i = 0; i < MG_JSON_MAX_DEPTH; i++) doc[i] = '[';
  for (i = 0; i < MG_JSON_MAX_DEPTH; i++) doc[MG_JSON_MAX_DEPTH + i] = ']';
  doc[2 * MG_JSON_MAX_DEPTH] = '\0';
  CHECK(get(doc, "$") == 0);
  memmove(doc + 1, doc, strlen(doc) + 1);
  doc[0] = '[';
  strcat(doc, "]");
  CHECK(get(doc, "$") == MG_JSON_TOO_DEEP);
  CHECK(get(doc, "$[0]") == MG_JSON_TOO_DEEP);
  // An unterminated deep document: too deep wins over invalid
  CHECK(get("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "$") == MG_JSON_TOO_DEEP);
  // Objects count too
  {
    char o[400];
    int depth;
    for (depth = MG_JSON_MAX_DEPTH; depth <= MG_JSON_MAX_DEPTH + 1; depth++) {
      size_t n = 0;
      for (i = 0; i < depth; i++) n += (size_t) sprintf(o + n, "{\"a\":");
      o[n++] = '1';
      for (i = 0; i < depth; i++) o[n++] = '}';
      o[n] = '\0';
      CHECK(get(o, "$") == (depth > MG_JSON_MAX_DEPTH ? MG_JSON_TOO_DEEP : 0));
    }
  }
}

static void test_getters(void) {
  const char *doc =
      "{\"i\":42,\"n\":-7,\"f\":3.75,\"e\":-1.25e2,\"E\":5E-1,\"big\":1e400,"
      "\"z\":-0,\"t\":true,\"no\":false,\"nul\":null,\"s\":\"a\\\"b\\\\c\\/\\n\\u0041\","
      "\"u\":\"\\u00e9\\u20ac\\ud83d\\ude00\",\"lone\":\"x\\ud800y\",\"lo\":\"\\udc00\","
      "\"zero\":\"a\\u0000b\",\"hex\":\"0aFf10\",\"badhex\":\"0g\",\"oddhex\":\"abc\","
      "\"b64\":\"aGVsbG8=\",\"b64url\":\"-_-__g\",\"badb64\":\"a\","
      "\"l64\":9007199254740993,\"lneg\":-2147483648,\"lbig\":99999999999999999999}";
  struct mg_str j = mg_str(doc);
  double d = 0;
  bool b = false;
  char *s;
  int len = -1;
  CHECK(mg_json_get_num(j, "$.i", &d) && d == 42);
  CHECK(mg_json_get_num(j, "$.n", &d) && d == -7);
  CHECK(mg_json_get_num(j, "$.f", &d) && d == 3.75);
  CHECK(mg_json_get_num(j, "$.e", &d) && d == -125);
  CHECK(mg_json_get_num(j, "$.E", &d) && d == 0.5);
  CHECK(mg_json_get_num(j, "$.big", &d) && isinf(d));
  CHECK(mg_json_get_num(j, "$.z", &d) && d == 0 && signbit(d));
  CHECK(!mg_json_get_num(j, "$.t", &d) && !mg_json_get_num(j, "$.s", &d));
  CHECK(!mg_json_get_num(j, "$.missing", &d));
  CHECK(mg_json_get_bool(j, "$.t", &b) && b);
  CHECK(mg_json_get_bool(j, "$.no", &b) && !b);
  CHECK(!mg_json_get_bool(j, "$.nul", &b) && !mg_json_get_bool(j, "$.i", &b));
  CHECK(mg_json_get_long(j, "$.i", 0) == 42);
  CHECK(mg_json_get_long(j, "$.n", 0) == -7);
  CHECK(mg_json_get_long(j, "$.f", 0) == 3);
  CHECK(mg_json_get_long(j, "$.e", 0) == -125);
  CHECK(mg_json_get_long(j, "$.s", 99) == 99);
  CHECK(mg_json_get_long(j, "$.missing", -5) == -5);
  CHECK(mg_json_get_long(j, "$.big", 11) == 11);
  CHECK(mg_json_get_long(j, "$.lbig", 12) == 12);
  CHECK(mg_json_get_long(j, "$.lneg", 0) == -2147483647L - 1);
  if (sizeof(long) == 8) CHECK(mg_json_get_long(j, "$.l64", 0) == 9007199254740993L);
  // Strings
  s = mg_json_get_str(j, "$.s");
  CHECK(s != NULL && strcmp(s, "a\"b\\c/\nA") == 0);
  free(s);
  s = mg_json_get_str(j, "$.u");
  CHECK(s != NULL && strcmp(s, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80") == 0);
  free(s);
  s = mg_json_get_str(j, "$.lone");  // lone surrogates become U+FFFD
  CHECK(s != NULL && strcmp(s, "x\xef\xbf\xbdy") == 0);
  free(s);
  s = mg_json_get_str(j, "$.lo");
  CHECK(s != NULL && strcmp(s, "\xef\xbf\xbd") == 0);
  free(s);
  s = mg_json_get_str(j, "$.zero");
  CHECK(s != NULL && s[0] == 'a' && s[1] == '\0' && s[2] == 'b' && s[3] == '\0');
  free(s);
  CHECK(mg_json_get_str(j, "$.i") == NULL && mg_json_get_str(j, "$.none") == NULL);
  // Hex and base64
  s = mg_json_get_hex(j, "$.hex", &len);
  CHECK(s != NULL && len == 3 && memcmp(s, "\x0a\xff\x10", 3) == 0);
  free(s);
  CHECK(mg_json_get_hex(j, "$.badhex", &len) == NULL);
  CHECK(mg_json_get_hex(j, "$.oddhex", &len) == NULL);
  CHECK(mg_json_get_hex(j, "$.i", &len) == NULL);
  s = mg_json_get_b64(j, "$.b64", &len);
  CHECK(s != NULL && len == 5 && strcmp(s, "hello") == 0);
  free(s);
  s = mg_json_get_b64(j, "$.b64url", &len);
  CHECK(s != NULL && len == 4 && memcmp(s, "\xfb\xff\xbf\xfe", 4) == 0);
  free(s);
  CHECK(mg_json_get_b64(j, "$.badb64", &len) == NULL);
  // mg_json_get_tok
  {
    struct mg_str t = mg_json_get_tok(j, "$.t");
    CHECK(str_is(t, "true"));
    t = mg_json_get_tok(j, "$.nope");
    CHECK(t.buf == NULL && t.len == 0);
  }
}

static void test_unescape(void) {
  char buf[16];
  CHECK(mg_json_unescape(mg_str("a\\tb"), buf, sizeof(buf)) && strcmp(buf, "a\tb") == 0);
  CHECK(mg_json_unescape(mg_str(""), buf, 1) && buf[0] == '\0');
  CHECK(!mg_json_unescape(mg_str("abc"), buf, 3));  // no room for the NUL
  CHECK(mg_json_unescape(mg_str("abc"), buf, 4) && strcmp(buf, "abc") == 0);
  CHECK(!mg_json_unescape(mg_str("\\q"), buf, sizeof(buf)));
  CHECK(!mg_json_unescape(mg_str("\\u12"), buf, sizeof(buf)));
  CHECK(!mg_json_unescape(mg_str("\\"), buf, sizeof(buf)));
  CHECK(!mg_json_unescape(mg_str("x"), buf, 0));
  CHECK(mg_json_unescape(mg_str("\\u00FF"), buf, sizeof(buf)) && strcmp(buf, "\xc3\xbf") == 0);
  CHECK(mg_json_unescape(mg_str("\\u0800"), buf, sizeof(buf)) && strcmp(buf, "\xe0\xa0\x80") == 0);
  CHECK(mg_json_unescape(mg_str("\\uDBFF\\uDFFF"), buf, sizeof(buf)) &&
        strcmp(buf, "\xf4\x8f\xbf\xbf") == 0);
  // A high surrogate followed by a non-low \u: both kept, the first as U+FFFD
  CHECK(mg_json_unescape(mg_str("\\ud800\\u0041"), buf, sizeof(buf)) &&
        strcmp(buf, "\xef\xbf\xbd" "A") == 0);
  CHECK(mg_json_unescape_n(mg_str("a\\u0000b"), buf, sizeof(buf)) == 3);
  CHECK(mg_json_unescape_n(mg_str("abc"), buf, 3) == 3);
  CHECK(mg_json_unescape_n(mg_str("abc"), buf, 2) == -1);
}

static void test_next(void) {
  struct mg_str key, val, obj = mg_str(" { \"a\" : 1 , \"b\":[1,2], \"c\":{\"d\":null} } ");
  struct mg_str arr = mg_str("[ 10, \"x\" ,[] ]");
  size_t ofs = 0;
  int n = 0;
  while ((ofs = mg_json_next(obj, ofs, &key, &val)) > 0) {
    if (n == 0) CHECK(str_is(key, "\"a\"") && str_is(val, "1"));
    if (n == 1) CHECK(str_is(key, "\"b\"") && str_is(val, "[1,2]"));
    if (n == 2) CHECK(str_is(key, "\"c\"") && str_is(val, "{\"d\":null}"));
    n++;
  }
  CHECK(n == 3);
  for (n = 0, ofs = 0; (ofs = mg_json_next(arr, ofs, &key, &val)) > 0; n++) {
    CHECK(key.buf == NULL && key.len == 0);
    if (n == 0) CHECK(str_is(val, "10"));
    if (n == 1) CHECK(str_is(val, "\"x\""));
    if (n == 2) CHECK(str_is(val, "[]"));
  }
  CHECK(n == 3);
  CHECK(mg_json_next(mg_str("{}"), 0, &key, &val) == 0);
  CHECK(mg_json_next(mg_str("[]"), 0, &key, &val) == 0);
  CHECK(mg_json_next(mg_str("42"), 0, &key, &val) == 0);
  CHECK(mg_json_next(mg_str("{\"a\" 1}"), 0, &key, &val) == 0);
  CHECK(mg_json_next(mg_str("[1 2]"), 0, &key, &val) > 0);
  CHECK(mg_json_next(mg_str("[1 2]"), 2, &key, &val) == 0);
  CHECK(mg_json_next(mg_str_n(NULL, 0), 0, &key, &val) == 0);
  // Over a token found by path
  {
    struct mg_str doc = mg_str("{\"list\":[{\"id\":1},{\"id\":2}]}");
    struct mg_str list = mg_json_get_tok(doc, "$.list");
    long sum = 0;
    for (ofs = 0; (ofs = mg_json_next(list, ofs, NULL, &val)) > 0;) {
      sum += mg_json_get_long(val, "$.id", 0);
    }
    CHECK(sum == 3);
  }
}

int main(void) {
  test_get();
  test_invalid();
  test_depth();
  test_getters();
  test_unescape();
  test_next();
  return check_summary();
}
