// Idle keep-alive connections give their I/O buffers back (src/limits.c
// shrink_idle): after a request and SHRINK_MS of quiet, recv and send are
// freed; the next request still works; a connection with a request half
// read or a slow answer pending keeps its data; raw TCP without limits is
// left alone.
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "check.h"

static bool s_answer = true;  // the handler answers at once

static void handler(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG && s_answer) mg_http_reply(c, 200, "", "ok");
  (void) ev_data;
}

// Advances fake time by `ms` in 50 ms polls
static void run_for(struct mg_mgr *mgr, uint64_t ms) {
  uint64_t end = fake_now + ms;
  while (fake_now < end) {
    fake_now += 50;
    mg_mgr_poll(mgr, 0);
  }
}

static size_t count(const char *s) {
  size_t n = strlen(s), i, k = 0;
  for (i = 0; i + n <= fake_out.len; i++) {
    if (memcmp(fake_out.buf + i, s, n) == 0) k++;
  }
  return k;
}

static void test_shrink_and_reuse(void) {
  struct mg_mgr mgr;
  struct mg_connection *lsn, *c;
  unsigned long id;
  const char *req = "GET / HTTP/1.1\r\n\r\n";
  int i;
  mg_mgr_init(&mgr);
  fake_reset();
  lsn = mg_http_listen(&mgr, "http://127.0.0.1:8000", handler, NULL);
  c = fake_accept(lsn);
  id = c->id;
  for (i = 0; i < 3; i++) {
    CHECK(fake_recv(c, req, strlen(req)));
    CHECK(c->recv.size > 0 && c->send.size > 0);  // used by this request
    CHECK(c->recv.len == 0 && c->send.len == 0);
    run_for(&mgr, 2500);  // default limits: swept every second
    CHECK(fake_alive(&mgr, id));
    CHECK(c->recv.size == 0 && c->recv.buf == NULL);
    CHECK(c->send.size == 0 && c->send.buf == NULL);
  }
  CHECK(count("HTTP/1.1 200 OK\r\n") == 3);  // answered after each shrink
  mg_mgr_free(&mgr);
}

static void test_keeps_pending_data(void) {
  struct mg_mgr mgr;
  struct mg_connection *lsn, *c;
  const char *req = "GET / HTTP/1.1\r\n\r\n";
  mg_mgr_init(&mgr);
  fake_reset();
  lsn = mg_http_listen(&mgr, "http://127.0.0.1:8000", handler, NULL);
  c = fake_accept(lsn);
  CHECK(fake_recv(c, "GET / HT", 8));  // half a request head
  run_for(&mgr, 2500);
  CHECK(c->recv.len == 8 && memcmp(c->recv.buf, "GET / HT", 8) == 0);
  CHECK(fake_recv(c, "TP/1.1\r\n\r\n", 10));
  CHECK(count("HTTP/1.1 200 OK\r\n") == 1);
  s_answer = false;  // a slow handler: the request waits for its answer
  CHECK(fake_recv(c, req, strlen(req)));
  run_for(&mgr, 2500);
  CHECK(c->is_resp);
  mg_http_reply(c, 200, "", "late");
  CHECK(fake_finish(c));
  s_answer = true;
  CHECK(count("late") == 1);
  mg_mgr_free(&mgr);
}

static void raw_handler(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_READ) mg_send(c, "x", 1), c->recv.len = 0;
  (void) ev_data;
}

static void test_unlimited_raw(void) {
  struct mg_mgr mgr;
  struct mg_connection *lsn, *c;
  mg_mgr_init(&mgr);
  fake_reset();
  lsn = mg_listen(&mgr, "tcp://127.0.0.1:8001", raw_handler, NULL);
  c = fake_accept(lsn);
  CHECK(fake_recv(c, "abc", 3));
  run_for(&mgr, 2500);  // no limits, no sweep: buffers stay as they are
  CHECK(c->recv.size > 0 && c->send.size > 0);
  mg_mgr_free(&mgr);
}

int main(void) {
  mg_log_set(MG_LL_NONE);
  test_shrink_and_reuse();
  test_keeps_pending_data();
  test_unlimited_raw();
  return check_summary();
}
