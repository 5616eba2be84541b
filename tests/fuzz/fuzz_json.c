// libFuzzer target: the JSON module. The input is split at its first NUL
// into a document and a path. Checks: mg_json_get on "$" gives an offset or
// an error code, never NOT_FOUND; a found value lies inside the document
// with only whitespace around it. For a valid document, a walk with
// mg_json_next visits every value, and mg_json_get on each value's path
// (keys unescaped; the first of duplicate keys) finds exactly that span;
// strings unescape, numbers parse, and the typed getters agree with the
// token. The extra path is looked up with every getter (no crash, no leak).
// SPDX-License-Identifier: MIT
#include "fuzz_common.h"

static struct mg_str s_doc;
static int s_visits;

static bool is_ws(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Checks the value `val` (a span of s_doc) reached by `path`
static void check_value(struct mg_str val, const char *path) {
  int len = -1, ofs = mg_json_get(s_doc, path, &len);
  double d;
  bool b;
  FUZZ_CHECK(ofs >= 0);
  FUZZ_CHECK(s_doc.buf + ofs == val.buf && (size_t) len == val.len);
  s_visits++;
  if (val.buf[0] == '"') {
    char *s = mg_json_get_str(s_doc, path);
    long n;
    char *buf = (char *) malloc(val.len + 1);
    FUZZ_CHECK(s != NULL && buf != NULL);
    n = mg_json_unescape_n(mg_str_n(val.buf + 1, val.len - 2), buf, val.len);
    FUZZ_CHECK(n >= 0 && (size_t) n <= val.len - 2);
    FUZZ_CHECK(memcmp(s, buf, (size_t) n) == 0 && s[n] == '\0');
    free(buf);
    free(s);
    FUZZ_CHECK(!mg_json_get_num(s_doc, path, &d));
  } else if (val.buf[0] == '-' || (val.buf[0] >= '0' && val.buf[0] <= '9')) {
    FUZZ_CHECK(mg_json_get_num(s_doc, path, &d));
    FUZZ_CHECK(mg_json_get_str(s_doc, path) == NULL);
  } else if (val.buf[0] == 't' || val.buf[0] == 'f') {
    FUZZ_CHECK(mg_json_get_bool(s_doc, path, &b) && b == (val.buf[0] == 't'));
  } else {
    FUZZ_CHECK(!mg_json_get_bool(s_doc, path, &b));
  }
}

// Walks the container `obj` at `path` (a malloc'd, NUL-terminated string)
static void walk(struct mg_str obj, const char *path, int depth) {
  struct mg_str key, val, seen[64];
  size_t ofs = 0, nseen = 0, idx = 0;
  FUZZ_CHECK(depth <= MG_JSON_MAX_DEPTH);
  while ((ofs = mg_json_next(obj, ofs, &key, &val)) > 0) {
    char *sub = NULL;
    FUZZ_CHECK(fuzz_inside(val, obj.buf, obj.len, false) && val.len > 0);
    FUZZ_CHECK(ofs == (size_t) (val.buf + val.len - obj.buf));
    if (obj.buf[0] == '[' || (obj.buf[0] != '{' && key.buf == NULL)) {
      FUZZ_CHECK(key.buf == NULL);
      sub = mg_mprintf("%s[%u]", path, (unsigned) idx++);
    } else {
      char *k = (char *) malloc(key.len);
      long kn;
      size_t i;
      bool dup = false, addressable;
      FUZZ_CHECK(k != NULL && fuzz_inside(key, obj.buf, obj.len, false));
      FUZZ_CHECK(key.len >= 2 && key.buf[0] == '"' && key.buf[key.len - 1] == '"');
      kn = mg_json_unescape_n(mg_str_n(key.buf + 1, key.len - 2), k, key.len);
      FUZZ_CHECK(kn >= 0);
      addressable = memchr(k, '.', (size_t) kn) == NULL &&
                    memchr(k, '[', (size_t) kn) == NULL &&
                    memchr(k, '\0', (size_t) kn) == NULL;
      for (i = 0; i < nseen && i < 64; i++) {
        if (seen[i].len == (size_t) kn && memcmp(seen[i].buf, k, (size_t) kn) == 0) dup = true;
      }
      if (addressable && !dup) sub = mg_mprintf("%s.%.*s", path, (int) kn, k);
      if (nseen < 64) {
        seen[nseen++] = mg_strdup(mg_str_n(k, (size_t) kn));
      } else {
        nseen++;  // (later duplicates are not tracked: do not check them)
        if (sub != NULL) free(sub), sub = NULL;
      }
      free(k);
    }
    if (sub != NULL) {
      check_value(val, sub);
      if (val.buf[0] == '{' || val.buf[0] == '[') walk(val, sub, depth + 1);
      free(sub);
    }
  }
  while (nseen > 0) {
    nseen--;
    if (nseen < 64) free(seen[nseen].buf);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t z = fuzz_nul(data, size), plen = z < size ? size - z - 1 : 0;
  char *doc = fuzz_dup(data, z), *path = fuzz_cstr(data + z + (z < size), plen);
  int len = -1, ofs;
  double d;
  bool b;
  char *s;
  s_doc = mg_str_n(doc, z);
  ofs = mg_json_get(s_doc, "$", &len);
  FUZZ_CHECK(ofs == MG_JSON_INVALID || ofs == MG_JSON_TOO_DEEP || ofs >= 0);
  if (ofs >= 0) {
    size_t i;
    struct mg_str root = mg_str_n(doc + ofs, (size_t) len);
    FUZZ_CHECK(len > 0 && (size_t) ofs + (size_t) len <= z);
    for (i = 0; i < (size_t) ofs; i++) FUZZ_CHECK(is_ws(doc[i]));
    for (i = (size_t) (ofs + len); i < z; i++) FUZZ_CHECK(is_ws(doc[i]));
    s_visits = 0;
    check_value(root, "$");
    if (root.buf[0] == '{' || root.buf[0] == '[') walk(root, "$", 1);
  } else {
    FUZZ_CHECK(mg_json_get_tok(s_doc, "$").buf == NULL);
  }
  // The extra path with every getter
  ofs = mg_json_get(s_doc, path, &len);
  FUZZ_CHECK(ofs >= -3);
  if (ofs >= 0) FUZZ_CHECK((size_t) ofs + (size_t) len <= z && len > 0);
  mg_json_get_num(s_doc, path, &d);
  mg_json_get_bool(s_doc, path, &b);
  mg_json_get_long(s_doc, path, 0);
  free(mg_json_get_str(s_doc, path));
  free(mg_json_get_hex(s_doc, path, &len));
  free(mg_json_get_b64(s_doc, path, &len));
  if ((s = (char *) malloc(z + 1)) != NULL) {
    mg_json_unescape(s_doc, s, z + 1);
    free(s);
  }
  free(doc);
  free(path);
  return 0;
}
