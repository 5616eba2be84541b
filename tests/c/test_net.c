// Unit tests of the driver-independent core (src/net.c) through the fake
// driver: connection lifecycle, event order, output, draining/closing/is_full,
// timers driven by mg_mgr_poll, limits.
// SPDX-License-Identifier: MIT
#include "fake_driver.h"
#include "check.h"

// Records the events a connection sees, as letters: O open, A accept,
// R read, W write, C close, E error, N connect, P poll
static char s_evs[64];
static char s_err[128];
static void record(struct mg_connection *c, int ev, void *ev_data) {
  static const char letters[] = "EOP?NA?RWC";
  size_t n = strlen(s_evs);
  (void) c;
  if (ev < (int) sizeof(letters) - 1 && n + 1 < sizeof(s_evs)) {
    s_evs[n] = letters[ev];
    s_evs[n + 1] = '\0';
  }
  if (ev == MG_EV_ERROR) mg_snprintf(s_err, sizeof(s_err), "%s", (char *) ev_data);
}

// Echoes what it reads
static void echo(struct mg_connection *c, int ev, void *ev_data) {
  record(c, ev, ev_data);
  if (ev == MG_EV_READ) {
    mg_send(c, c->recv.buf, c->recv.len);
    c->recv.len = 0;
  }
}

static void test_lifecycle(void) {
  struct mg_mgr mgr;
  struct mg_connection *l, *c;
  unsigned long id;
  mg_mgr_init(&mgr);
  s_evs[0] = '\0';
  CHECK(mg_listen(&mgr, "tcp://0.0.0.0:1234/fail", echo, NULL) == NULL);
  l = mg_listen(&mgr, "tcp://127.0.0.1:1234", echo, NULL);
  CHECK(l != NULL && l->is_listening && mg_ntohs(l->loc.port) == 1234);
  CHECK(strcmp(s_evs, "O") == 0);
  s_evs[0] = '\0';
  c = fake_accept(l);
  CHECK(c != NULL && c->is_accepted && c->fn == echo && c->id > l->id);
  CHECK(strcmp(s_evs, "OA") == 0);
  id = c->id;
  fake_reset();
  s_evs[0] = '\0';
  CHECK(fake_recv(c, "hello", 5));
  CHECK(fake_out.len == 5 && memcmp(fake_out.buf, "hello", 5) == 0);
  CHECK(strcmp(s_evs, "RW") == 0);  // read, then the echo was written
  CHECK(c->send.len == 0);
  // draining: output goes out first, then the connection closes
  fake_reset();
  s_evs[0] = '\0';
  mg_printf(c, "%s-%d", "bye", 7);
  c->is_draining = 1;
  mg_io_check(c);
  CHECK(!fake_finish(c));
  CHECK(fake_out.len == 5 && memcmp(fake_out.buf, "bye-7", 5) == 0);
  CHECK(strcmp(s_evs, "WC") == 0);
  CHECK(fake_last_closed_id == id && !fake_alive(&mgr, id));
  mg_mgr_free(&mgr);
  CHECK(mgr.conns == NULL);
}

static void test_partial_writes_and_full(void) {
  struct mg_mgr mgr;
  struct mg_connection *c;
  mg_mgr_init(&mgr);
  c = fake_accept(mg_listen(&mgr, "tcp://127.0.0.1:1", record, NULL));
  fake_reset();
  fake_write_limit = 3;  // the "socket" takes 3 bytes per write call
  s_evs[0] = '\0';
  mg_send(c, "abcdefgh", 8);
  CHECK(fake_finish(c));  // the core keeps writing while the socket takes data
  CHECK(fake_out.len == 8 && c->send.len == 0);
  CHECK(memcmp(fake_out.buf, "abcdefgh", 8) == 0);
  CHECK(strcmp(s_evs, "WWW") == 0);  // 3 + 3 + 2
  fake_write_limit = 0;
  // is_full pauses reads, clearing it resumes them
  c->is_full = 1;
  mg_io_check(c);
  CHECK(fake_finish(c) && fake_paused == 1);
  c->is_full = 0;
  mg_io_check(c);
  CHECK(fake_finish(c) && fake_paused == 0);
  // is_closing: closed at once, even with output pending
  mg_send(c, "x", 1);
  c->is_closing = 1;
  CHECK(!fake_finish(c));
  mg_mgr_free(&mgr);
}

static void test_errors_and_eof(void) {
  struct mg_mgr mgr;
  struct mg_connection *c;
  static char big[MG_MAX_RECV_SIZE / 4];
  int i;
  bool alive = true;
  mg_mgr_init(&mgr);
  c = fake_accept(mg_listen(&mgr, "tcp://127.0.0.1:2", record, NULL));
  s_evs[0] = '\0';
  mg_error(c, "boom %d", 42);
  CHECK(!fake_finish(c));
  CHECK(strcmp(s_evs, "EC") == 0 && strcmp(s_err, "boom 42") == 0);
  // a raw connection that never consumes its input is cut at the limit
  c = fake_accept(mg_listen(&mgr, "tcp://127.0.0.1:3", record, NULL));
  memset(big, 'x', sizeof(big));
  for (i = 0; i < 5 && alive; i++) alive = fake_recv(c, big, sizeof(big));
  CHECK(!alive && i == 5);
  CHECK(strstr(s_err, "max_recv_buf_size") != NULL);
  // EOF: the connection drains (nothing pending here, so it closes)
  c = fake_accept(mg_listen(&mgr, "tcp://127.0.0.1:4", record, NULL));
  mg_io_eof(c);
  CHECK(!fake_finish(c));
  mg_mgr_free(&mgr);
}

static void test_connect(void) {
  struct mg_mgr mgr;
  struct mg_connection *c;
  mg_mgr_init(&mgr);
  s_evs[0] = '\0';
  c = mg_connect(&mgr, "tcp://127.0.0.1:5555", record, NULL);
  CHECK(c != NULL && c->is_client && c->is_connecting);
  CHECK(mg_ntohs(c->rem.port) == 5555);
  mg_send(c, "early", 5);  // queued until connected
  fake_reset();
  CHECK(fake_finish(c) && fake_out.len == 0);
  mg_io_connected(c, NULL);
  CHECK(fake_finish(c) && fake_out.len == 5);
  CHECK(strcmp(s_evs, "ONW") == 0);
  c = mg_connect(&mgr, "tcp://127.0.0.1:5556", record, NULL);
  s_evs[0] = '\0';
  mg_io_connected(c, "connection refused");
  CHECK(!fake_finish(c));
  CHECK(strcmp(s_evs, "EC") == 0 && strcmp(s_err, "connection refused") == 0);
  mg_mgr_free(&mgr);
}

static int s_ticks;
static void tick(void *arg) {
  s_ticks += *(int *) arg;
}

static void test_timers(void) {
  struct mg_mgr mgr;
  int one = 1, hundred = 100;
  struct mg_timer *t;
  mg_mgr_init(&mgr);
  fake_now = 10000;
  s_ticks = 0;
  t = mg_timer_add(&mgr, 50, MG_TIMER_REPEAT, tick, &one);
  mg_timer_add(&mgr, 120, MG_TIMER_ONCE, tick, &hundred);
  mg_mgr_poll(&mgr, 0);
  CHECK(s_ticks == 0);
  fake_now += 50;
  mg_mgr_poll(&mgr, 0);
  CHECK(s_ticks == 1);
  fake_now += 50;
  mg_mgr_poll(&mgr, 0);
  CHECK(s_ticks == 2);
  fake_now += 50;
  mg_mgr_poll(&mgr, 0);
  CHECK(s_ticks == 103);  // the once timer fired and is gone
  fake_now += 50;
  mg_mgr_poll(&mgr, 0);
  CHECK(s_ticks == 104);
  mg_timer_free(&mgr.timers, t);
  fake_now += 500;
  mg_mgr_poll(&mgr, 0);
  CHECK(s_ticks == 104 && mgr.timers == NULL);
  mg_mgr_free(&mgr);
}

int main(void) {
  mg_log_set(MG_LL_NONE);
  test_lifecycle();
  test_partial_writes_and_full();
  test_errors_and_eof();
  test_connect();
  test_timers();
  return check_summary();
}
