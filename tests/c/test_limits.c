// Unit tests of src/limits.c through the fake driver (fake time): header,
// body and idle timeouts, stalled output, the connection cap, mg_mgr_drain.
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "check.h"

static bool s_answer = true;             // the handler answers at once
static struct mg_connection *s_pending;  // the request it left unanswered

static void handler(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    if (s_answer) {
      mg_http_reply(c, 200, "", "ok");
    } else {
      s_pending = c;
    }
  }
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

static bool out_has(const char *s) {
  size_t n = strlen(s), i;
  for (i = 0; i + n <= fake_out.len; i++) {
    if (memcmp(fake_out.buf + i, s, n) == 0) return true;
  }
  return false;
}

static struct mg_connection *listener(struct mg_mgr *mgr, uint32_t idle,
                                      uint32_t header, uint32_t body,
                                      uint32_t max) {
  struct mg_limits l = {idle, header, body, max};
  struct mg_connection *lsn =
      mg_http_listen(mgr, "http://127.0.0.1:8000", handler, NULL);
  mg_limits_set(lsn, &l);
  return lsn;
}

static void test_defaults(void) {
  struct mg_mgr mgr;
  struct mg_limits l;
  struct mg_connection *lsn, *raw;
  mg_mgr_init(&mgr);
  lsn = mg_http_listen(&mgr, "http://127.0.0.1:8000", handler, NULL);
  mg_limits_get(lsn, &l);
  CHECK(l.idle_ms == MG_IDLE_TIMEOUT_MS && l.header_ms == MG_HEADER_TIMEOUT_MS);
  CHECK(l.body_ms == MG_BODY_TIMEOUT_MS && l.max_conns == MG_MAX_CONNS);
  raw = mg_listen(&mgr, "tcp://127.0.0.1:8001", handler, NULL);
  mg_limits_get(raw, &l);
  CHECK(l.idle_ms == 0 && l.header_ms == 0 && l.body_ms == 0);
  CHECK(mgr.lim_timer == NULL);  // nothing to sweep yet
  mg_mgr_free(&mgr);
}

static void test_header_timeout(void) {
  struct mg_mgr mgr;
  struct mg_connection *lsn, *c;
  unsigned long id;
  mg_mgr_init(&mgr);
  fake_reset();
  lsn = listener(&mgr, 0, 1000, 0, 0);
  c = fake_accept(lsn);
  id = c->id;
  CHECK(mgr.lim_timer != NULL && mgr.lim_timer->period_ms == 250);
  fake_recv(c, "GET / HT", 8);
  run_for(&mgr, 600);
  CHECK(fake_alive(&mgr, id));
  fake_recv(c, "TP/1.1\r\n", 8);  // bytes keep coming, the head does not end
  run_for(&mgr, 1000);
  CHECK(!fake_alive(&mgr, id));
  CHECK(out_has("HTTP/1.1 408 Request Timeout\r\n"));
  CHECK(out_has("Connection: close\r\n"));
  run_for(&mgr, 600);  // no limited connection left: the sweep stops
  CHECK(mgr.lim_timer == NULL);
  // A connection that sends nothing: closed, nothing written
  fake_reset();
  c = fake_accept(lsn);
  id = c->id;
  run_for(&mgr, 1600);
  CHECK(!fake_alive(&mgr, id));
  CHECK(fake_out.len == 0);
  mg_mgr_free(&mgr);
}

static void test_body_timeout(void) {
  struct mg_mgr mgr;
  struct mg_connection *lsn, *c;
  unsigned long id;
  const char *req = "POST /u HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345";
  mg_mgr_init(&mgr);
  fake_reset();
  lsn = listener(&mgr, 0, 0, 1000, 0);
  c = fake_accept(lsn);
  id = c->id;
  fake_recv(c, req, strlen(req));
  run_for(&mgr, 800);
  fake_recv(c, "678", 3);  // progress restarts the clock
  run_for(&mgr, 800);
  CHECK(fake_alive(&mgr, id));
  run_for(&mgr, 800);
  CHECK(!fake_alive(&mgr, id));
  CHECK(out_has("HTTP/1.1 408 "));
  mg_mgr_free(&mgr);
}

static void test_idle_and_busy(void) {
  struct mg_mgr mgr;
  struct mg_connection *lsn, *c;
  unsigned long id;
  const char *req = "GET / HTTP/1.1\r\n\r\n";
  int i;
  mg_mgr_init(&mgr);
  fake_reset();
  lsn = listener(&mgr, 1000, 0, 0, 0);
  c = fake_accept(lsn);
  id = c->id;
  for (i = 0; i < 10; i++) {  // 3 s of requests every 300 ms
    fake_recv(c, req, strlen(req));
    run_for(&mgr, 300);
  }
  CHECK(fake_alive(&mgr, id));
  s_answer = false;  // a slow handler: no timeout while it works
  fake_recv(c, req, strlen(req));
  run_for(&mgr, 3000);
  CHECK(fake_alive(&mgr, id) && s_pending == c);
  mg_http_reply(c, 200, "", "late");
  fake_finish(c);
  s_answer = true;
  run_for(&mgr, 600);
  CHECK(fake_alive(&mgr, id));
  run_for(&mgr, 1000);  // idle now
  CHECK(!fake_alive(&mgr, id));
  // Stalled output: the peer reads nothing
  c = fake_accept(lsn);
  id = c->id;
  fake_write_stall = true;
  fake_recv(c, req, strlen(req));
  run_for(&mgr, 600);
  CHECK(fake_alive(&mgr, id) && c->send.len > 0);
  run_for(&mgr, 1000);
  CHECK(!fake_alive(&mgr, id));
  fake_write_stall = false;
  mg_mgr_free(&mgr);
}

static void test_cap(void) {
  struct mg_mgr mgr;
  struct mg_connection *lsn, *a, *b;
  unsigned long ida;
  mg_mgr_init(&mgr);
  lsn = listener(&mgr, 0, 0, 0, 2);
  a = fake_accept(lsn);
  b = fake_accept(lsn);
  CHECK(a != NULL && b != NULL && lsn->lim_count == 2);
  CHECK(fake_accept(lsn) == NULL);  // refused: the driver closes the socket
  ida = a->id;
  a->is_closing = 1;
  mg_io_check(a);
  fake_finish(a);
  CHECK(!fake_alive(&mgr, ida) && lsn->lim_count == 1);
  CHECK(fake_accept(lsn) != NULL);
  // The listener goes first: its connections forget it
  lsn->is_closing = 1;
  mg_io_check(lsn);
  fake_finish(lsn);
  CHECK(b->lim_lsn == NULL);
  mg_mgr_free(&mgr);
}

static void test_drain(void) {
  struct mg_mgr mgr;
  struct mg_connection *lsn, *idle, *busy;
  unsigned long idi, idb, idl;
  const char *req = "GET / HTTP/1.1\r\n\r\n";
  mg_mgr_init(&mgr);
  fake_reset();
  lsn = listener(&mgr, 0, 0, 0, 0);
  idl = lsn->id;
  idle = fake_accept(lsn);
  busy = fake_accept(lsn);
  idi = idle->id, idb = busy->id;
  fake_recv(idle, req, strlen(req));
  s_answer = false;
  fake_recv(busy, req, strlen(req));
  s_answer = true;
  CHECK(mg_mgr_drain(&mgr) == 1);
  mg_io_finish(&mgr);
  CHECK(!fake_alive(&mgr, idl) && !fake_alive(&mgr, idi));
  CHECK(fake_alive(&mgr, idb));
  fake_reset();
  mg_http_reply(busy, 200, "", "done");
  fake_finish(busy);
  CHECK(out_has("Connection: close\r\n") && out_has("done"));
  CHECK(!fake_alive(&mgr, idb));
  CHECK(mg_mgr_drain(&mgr) == 0);
  mg_mgr_free(&mgr);
}

int main(void) {
  mg_log_set(MG_LL_NONE);
  test_defaults();
  test_header_timeout();
  test_body_timeout();
  test_idle_and_busy();
  test_cap();
  test_drain();
  return check_summary();
}
