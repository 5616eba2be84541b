// libFuzzer target: mg_http_parse() and mg_http_get_request_len() on raw
// input. Checks that every returned mg_str lies inside the input, that the
// head, body and message are consistent, that the header list is terminated,
// and compares the head length with a plain byte-by-byte reference.
// SPDX-License-Identifier: MIT
#include "fuzz_common.h"

// Reference for mg_http_get_request_len(): skip empty lines, then the head
// ends at the first empty line; a line may end in CRLF or LF, and no line may
// hold control characters but HTAB (so no bare CR). -1 bad, 0 incomplete.
static int ref_request_len(const uint8_t *b, size_t n) {
  size_t start = 0, i, end;
  bool seen = false;
  while (start < n) {
    size_t nl = n;
    for (i = start; i < n; i++) {
      if (b[i] == '\n') {
        nl = i;
        break;
      }
    }
    end = nl;
    if (end > start && b[end - 1] == '\r') end--;
    for (i = start; i < end; i++) {
      if ((b[i] < 0x20 && b[i] != '\t') || b[i] == 0x7f) return -1;
    }
    if (nl == n) return 0;
    if (end > start) {
      seen = true;
    } else if (seen) {
      return (int) (nl + 1);
    }
    start = nl + 1;
  }
  return 0;
}

static bool is_tchar(int ch) {
  return ch > 0x20 && ch < 0x7f && strchr("\"(),/:;<=>?@[\\]{}", ch) == NULL;
}

static bool icase_eq(struct mg_str a, struct mg_str b) {
  return mg_strcasecmp(a, b) == 0;
}

static void check_parsed(const char *s, size_t len, int r,
                         struct mg_http_message *hm) {
  const char *end = s + r;
  size_t i, k, hlen = (size_t) r;
  bool response;
  // What precedes the head is only empty lines
  FUZZ_CHECK(hm->head.buf >= s && hm->head.buf < end);
  for (i = 0; s + i < hm->head.buf; i++) FUZZ_CHECK(s[i] == '\r' || s[i] == '\n');
  FUZZ_CHECK(hm->head.buf + hm->head.len == end);
  FUZZ_CHECK(hm->head.len == hlen - (size_t) (hm->head.buf - s));
  FUZZ_CHECK(hm->head.len >= 2 && end[-1] == '\n');
  // The start line
  FUZZ_CHECK(hm->method.buf == hm->head.buf && hm->method.len > 0);
  FUZZ_CHECK(fuzz_inside(hm->method, s, hlen, false));
  FUZZ_CHECK(fuzz_inside(hm->uri, s, hlen, false));
  FUZZ_CHECK(fuzz_inside(hm->proto, s, hlen, false));
  FUZZ_CHECK(fuzz_inside(hm->query, s, hlen, true));
  FUZZ_CHECK(hm->uri.buf > hm->method.buf + hm->method.len - 1);
  response = hm->method.len >= 5 &&
             icase_eq(mg_str_n(hm->method.buf, 5), mg_str("HTTP/"));
  if (!response) {
    FUZZ_CHECK(hm->uri.len > 0 || hm->query.buf != NULL);
    for (i = 0; i < hm->method.len; i++) FUZZ_CHECK(is_tchar((unsigned char) hm->method.buf[i]));
    FUZZ_CHECK(mg_strcmp(hm->proto, mg_str("HTTP/1.1")) == 0 ||
               mg_strcmp(hm->proto, mg_str("HTTP/1.0")) == 0);
    FUZZ_CHECK(memchr(hm->uri.buf, '?', hm->uri.len) == NULL);
    if (hm->query.buf != NULL) {
      FUZZ_CHECK(hm->query.buf == hm->uri.buf + hm->uri.len + 1);
      FUZZ_CHECK(hm->query.buf[-1] == '?');
      FUZZ_CHECK(hm->query.buf + hm->query.len <= hm->proto.buf);
    }
  } else {
    int st = mg_http_status(hm);
    FUZZ_CHECK(hm->uri.len == 3 && st >= 0 && st <= 999);
  }
  // Headers: k entries, then a terminator (unless the array is full)
  for (k = 0; k < MG_MAX_HTTP_HEADERS && hm->headers[k].name.len > 0; k++) {
    struct mg_http_header *h = &hm->headers[k];
    struct mg_str *v;
    FUZZ_CHECK(fuzz_inside(h->name, s, hlen, false));
    FUZZ_CHECK(fuzz_inside(h->value, s, hlen, false));
    FUZZ_CHECK(h->name.buf > hm->proto.buf);
    FUZZ_CHECK(h->name.buf[h->name.len] == ':');
    for (i = 0; i < h->name.len; i++) FUZZ_CHECK(is_tchar((unsigned char) h->name.buf[i]));
    FUZZ_CHECK(h->value.buf > h->name.buf + h->name.len);
    for (i = 0; i < h->value.len; i++) {
      unsigned char ch = (unsigned char) h->value.buf[i];
      FUZZ_CHECK(ch >= 0x20 || ch == '\t');
      FUZZ_CHECK(ch != 0x7f);
    }
    if (h->value.len > 0) {
      FUZZ_CHECK(h->value.buf[0] != ' ' && h->value.buf[0] != '\t');
      FUZZ_CHECK(h->value.buf[h->value.len - 1] != ' ' &&
                 h->value.buf[h->value.len - 1] != '\t');
    }
    if (k > 0) FUZZ_CHECK(h->name.buf > hm->headers[k - 1].value.buf);
    // mg_http_get_header finds the first header of that name
    {
      char name[64];
      if (h->name.len < sizeof(name)) {
        size_t j;
        memcpy(name, h->name.buf, h->name.len);
        name[h->name.len] = '\0';
        v = mg_http_get_header(hm, name);
        FUZZ_CHECK(v != NULL);
        for (j = 0; j < k && !icase_eq(hm->headers[j].name, h->name); j++) (void) 0;
        FUZZ_CHECK(v == &hm->headers[j].value);
      }
    }
  }
  if (k < MG_MAX_HTTP_HEADERS) {
    FUZZ_CHECK(hm->headers[k].name.buf == NULL && hm->headers[k].name.len == 0);
  }
  // Body and message
  FUZZ_CHECK(hm->body.buf == end);
  FUZZ_CHECK(hm->body.len <= len - hlen);
  FUZZ_CHECK(hm->message.buf == hm->head.buf);
  FUZZ_CHECK(hm->message.len == hm->head.len + hm->body.len);
  FUZZ_CHECK(fuzz_inside(hm->message, s, len, false));
  if (!response && mg_http_get_header(hm, "Content-Length") == NULL) {
    FUZZ_CHECK(hm->body.len == 0);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct mg_http_message hm;
  const char *s = (const char *) data;  // libFuzzer's copy is exactly `size` long
  int n = mg_http_get_request_len(data, size), r, ref = ref_request_len(data, size);
  if (n != ref) {
    fprintf(stderr, "mg_http_get_request_len %d, reference %d\n", n, ref);
    FUZZ_CHECK(n == ref);
  }
  memset(&hm, 0xa5, sizeof(hm));  // garbage past the header terminator is fine
  r = mg_http_parse(s, size, &hm);
  FUZZ_CHECK(r == n || (n > 0 && r == -1));
  if (r > 0) check_parsed(s, size, r, &hm);
  // Streaming consistency: a shorter prefix never ends the head earlier
  if (n > 0) {
    FUZZ_CHECK(mg_http_get_request_len(data, (size_t) n - 1) == 0);
    FUZZ_CHECK(mg_http_parse(s, (size_t) n - 1, &hm) == 0);
  } else if (size > 0) {
    int p = mg_http_get_request_len(data, size / 2);
    FUZZ_CHECK(p == 0 || (p == -1 && n == -1));
  }
  return 0;
}
