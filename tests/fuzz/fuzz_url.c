// libFuzzer target: the URL helpers and mg_aton(). mg_url_* run on a
// NUL-terminated copy of the input; every returned string must lie inside it
// (mg_url_uri may also return the literal "/"). mg_aton runs on the exact-size
// input and on the parsed host; a parsed address printed with mg_print_ip must
// parse back to the same address.
// SPDX-License-Identifier: MIT
#include "fuzz_common.h"

static void check_aton(struct mg_str s) {
  struct mg_addr a, b;
  char buf[64];
  size_t n;
  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  if (!mg_aton(s, &a)) return;
  FUZZ_CHECK(a.port == 0);  // the port is left alone
  n = mg_snprintf(buf, sizeof(buf), "%M", mg_print_ip, &a);
  FUZZ_CHECK(n > 0 && n < sizeof(buf));
  FUZZ_CHECK(mg_aton(mg_str_n(buf, n), &b));
  FUZZ_CHECK(a.is_ip6 == b.is_ip6);
  FUZZ_CHECK(memcmp(a.addr.ip, b.addr.ip, a.is_ip6 ? 16 : 4) == 0);
  if (!a.is_ip6) {
    size_t i, dots = 0;
    for (i = 0; i < n; i++) dots += buf[i] == '.';
    FUZZ_CHECK(dots == 3);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *url = fuzz_cstr(data, size), *exact = fuzz_dup(data, size);
  size_t len = strlen(url);  // the input may hold a NUL: the URL stops there
  struct mg_str host = mg_url_host(url), user = mg_url_user(url),
                pass = mg_url_pass(url);
  const char *uri = mg_url_uri(url);
  unsigned short port = mg_url_port(url);
  int ssl = mg_url_is_ssl(url);
  FUZZ_CHECK(fuzz_inside(host, url, len, false));
  FUZZ_CHECK(fuzz_inside(user, url, len, true));
  FUZZ_CHECK(fuzz_inside(pass, url, len, true));
  FUZZ_CHECK(strcmp(uri, "/") == 0 || (uri >= url && uri < url + len && *uri == '/'));
  FUZZ_CHECK(ssl == 0 || ssl == 1);
  // The parts come in order: user, pass, host, uri
  if (user.buf != NULL) {
    FUZZ_CHECK(user.buf + user.len <= host.buf);
    FUZZ_CHECK(memchr(user.buf, ':', user.len) == NULL);
  }
  if (pass.buf != NULL) FUZZ_CHECK(pass.buf + pass.len < host.buf);
  if (uri != url + len && *uri == '/' && uri >= url && uri < url + len) {
    FUZZ_CHECK(host.buf + host.len <= uri);
  }
  // A port comes from the URL itself or from its scheme's default
  if (port != 0) FUZZ_CHECK(strchr(url, ':') != NULL);
  check_aton(mg_str_n(exact, size));
  check_aton(host);
  free(url);
  free(exact);
  return 0;
}
