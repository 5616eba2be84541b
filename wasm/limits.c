// WebAssembly exports for limits, graceful drain and memory statistics
// (see wasm/ABI.md, "Limits exports").
// SPDX-License-Identifier: MIT
#include <unistd.h>

#include "mongoose.h"

#define EXPORT(name) __attribute__((export_name(name)))

struct mg_mgr *mgw_mgr(void);  // wasm/driver.c
void mgw_enter(void);
void mgw_leave(void);

// Sets a listener's limits; a negative value keeps the current one
EXPORT("mgw_limits_set")
void mgw_limits_set(struct mg_connection *lsn, double idle, double header,
                    double body, double max_conns) {
  struct mg_limits l;
  mg_limits_get(lsn, &l);
  if (idle >= 0) l.idle_ms = idle > 4e9 ? 4000000000U : (uint32_t) idle;
  if (header >= 0) l.header_ms = header > 4e9 ? 4000000000U : (uint32_t) header;
  if (body >= 0) l.body_ms = body > 4e9 ? 4000000000U : (uint32_t) body;
  if (max_conns >= 0) {
    l.max_conns = max_conns > 4e9 ? 4000000000U : (uint32_t) max_conns;
  }
  mg_limits_set(lsn, &l);
}

// One of a listener's limits: 0 idle, 1 header, 2 body, 3 max_conns, 4 open
EXPORT("mgw_limits_get")
double mgw_limits_get(struct mg_connection *lsn, int what) {
  struct mg_limits l;
  mg_limits_get(lsn, &l);
  switch (what) {
    case 0: return l.idle_ms;
    case 1: return l.header_ms;
    case 2: return l.body_ms;
    case 3: return l.max_conns;
    case 4: return lsn->lim_count;
    default: return -1;
  }
}

EXPORT("mgw_mgr_drain") int mgw_mgr_drain(void) {
  size_t n;
  mgw_enter();
  n = mg_mgr_drain(mgw_mgr());
  mgw_leave();
  return (int) n;
}

// 0: live connections in C, 1: heap top (sbrk), 2: timers
EXPORT("mgw_stats") double mgw_stats(int what) {
  struct mg_mgr *mgr = mgw_mgr();
  double n = 0;
  if (what == 0) {
    struct mg_connection *c;
    for (c = mgr->conns; c != NULL; c = c->next) n++;
  } else if (what == 1) {
    n = (double) (uintptr_t) sbrk(0);
  } else if (what == 2) {
    struct mg_timer *t;
    for (t = mgr->timers; t != NULL; t = t->next) n++;
  } else {
    n = -1;
  }
  return n;
}

// Milliseconds until the next C timer is due (0: overdue), -1 if none: the
// host arms its timer with it after an accept, which may start the sweep.
EXPORT("mgw_timer_next") double mgw_timer_next(void) {
  uint64_t now = mg_millis(), min = UINT64_MAX;
  struct mg_timer *t;
  for (t = mgw_mgr()->timers; t != NULL; t = t->next) {
    if (t->expire < min) min = t->expire;
  }
  if (min == UINT64_MAX) return -1;
  return min <= now ? 0 : (double) (min - now);
}
