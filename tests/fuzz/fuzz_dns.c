// libFuzzer target: the DNS message parser (mg_dns_parse, mg_dns_parse_rr,
// mg_dns_decode_name) on an exact-size heap copy of the input, and the SNTP
// reply parser on the same bytes. Checks: no crash, no read outside the
// input (ASan), decoding terminates (compression loops are refused), names
// are NUL-terminated, at most 253 characters, made of the label bytes and
// dots; record lengths stay inside the input; a resolved address is A or AAAA.
// SPDX-License-Identifier: MIT
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *buf = (uint8_t *) malloc(size == 0 ? 1 : size);
  struct mg_dns_message dm;
  struct mg_dns_rr rr;
  char name[256], tiny[8];
  size_t ofs, n;
  uint64_t ms = 0;
  const char *err = NULL;
  if (buf == NULL) abort();
  if (size > 0) memcpy(buf, data, size);
  if (mg_dns_parse(buf, size, &dm)) {
    FUZZ_CHECK(size >= 12);
    FUZZ_CHECK(memchr(dm.name, '\0', sizeof(dm.name)) != NULL);
    FUZZ_CHECK(strlen(dm.name) <= 253);
    FUZZ_CHECK(dm.txnid == (uint16_t) (buf[0] << 8 | buf[1]));
    if (dm.resolved) FUZZ_CHECK((buf[2] & 0x80) != 0);
  }
  // Every offset as the start of a name and of a record
  for (ofs = 0; ofs < size && ofs < 512; ofs++) {
    n = mg_dns_decode_name(buf, size, ofs, name, sizeof(name));
    if (n > 0) {
      size_t i, len = strlen(name);
      FUZZ_CHECK(ofs + n <= size);
      FUZZ_CHECK(len <= 253);
      for (i = 0; i < len; i++) FUZZ_CHECK(name[i] != '\0');
      // A smaller destination either fits the whole name or fails
      n = mg_dns_decode_name(buf, size, ofs, tiny, sizeof(tiny));
      FUZZ_CHECK(n == 0 ? len + 1 > sizeof(tiny) : strcmp(tiny, name) == 0);
    }
    n = mg_dns_parse_rr(buf, size, ofs, false, &rr);
    if (n > 0) {
      FUZZ_CHECK(ofs + n <= size);
      FUZZ_CHECK(n == (size_t) rr.nlen + 10 + rr.alen);
    }
    n = mg_dns_parse_rr(buf, size, ofs, true, &rr);
    if (n > 0) FUZZ_CHECK(ofs + n <= size && n == (size_t) rr.nlen + 4);
  }
  if (mg_sntp_parse(buf, size, 1700000000000ULL, 1700000000100ULL, &ms, &err) == 0) {
    FUZZ_CHECK(size >= 48 && err == NULL);
  } else {
    FUZZ_CHECK(err != NULL);
  }
  free(buf);
  return 0;
}
