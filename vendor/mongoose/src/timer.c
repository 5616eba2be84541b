// wasmgoose — software timers.
// SPDX-License-Identifier: MIT
#include "mongoose.h"

#define TIMER_DUE 0x80000000U  // private flag: to be called by this poll

// Next due time of a periodic timer that was due at `due`; restarts from now
// if the schedule fell a whole period (or more) behind.
static uint64_t next_due(uint64_t due, uint64_t period, uint64_t now) {
  return due + period > now ? due + period : now + period;
}

void mg_timer_init(struct mg_timer **head, struct mg_timer *t, uint64_t ms,
                   unsigned flags, void (*fn)(void *), void *arg) {
  t->period_ms = ms;
  t->expire = mg_millis() + ((flags & MG_TIMER_RUN_NOW) ? 0 : ms);
  t->flags = flags;
  t->fn = fn;
  t->arg = arg;
  t->next = *head;
  *head = t;
}

// Unlinks t; returns false if it was not in the list
static bool unlink_timer(struct mg_timer **head, struct mg_timer *t) {
  for (; *head != NULL; head = &(*head)->next) {
    if (*head == t) {
      *head = t->next;
      return true;
    }
  }
  return false;
}

// Unlinks t, and free()s it if it has MG_TIMER_AUTODELETE (timers made by
// mg_timer_add). A timer that is not in the list is not touched.
void mg_timer_free(struct mg_timer **head, struct mg_timer *t) {
  if (unlink_timer(head, t) && (t->flags & MG_TIMER_AUTODELETE)) free(t);
}

// Due timers are marked first, then each marked timer still in the list is
// looked up from the head and called: callbacks may free any timer (their
// own included) or add new ones (called from the next poll on).
// A one-shot timer is unlinked before its call and, if AUTODELETE, freed
// after it: its callback must not re-initialise it.
void mg_timer_poll(struct mg_timer **head, uint64_t now) {
  struct mg_timer *t;
  for (t = *head; t != NULL; t = t->next) {
    if (t->expire <= now) t->flags |= TIMER_DUE;
  }
  for (;;) {
    for (t = *head; t != NULL && !(t->flags & TIMER_DUE);) t = t->next;
    if (t == NULL) break;
    t->flags = (t->flags & ~TIMER_DUE) | MG_TIMER_CALLED;
    if (t->flags & MG_TIMER_REPEAT) {
      t->expire = next_due(t->expire, t->period_ms, now);
      t->fn(t->arg);  // t may be gone now
    } else {
      bool autodelete = (t->flags & MG_TIMER_AUTODELETE) != 0;
      unlink_timer(head, t);
      t->fn(t->arg);
      if (autodelete) free(t);
    }
  }
}

bool mg_timer_expired(uint64_t *expiration, uint64_t period, uint64_t now) {
  if (*expiration == 0 || now + period < *expiration) {  // first call, or the
    *expiration = now + period;                          // clock went back
    return false;
  }
  if (now < *expiration) return false;
  *expiration = next_due(*expiration, period, now);
  return true;
}

struct mg_timer *mg_timer_add(struct mg_mgr *mgr, uint64_t milliseconds,
                              unsigned flags, void (*fn)(void *), void *arg) {
  struct mg_timer *t = (struct mg_timer *) calloc(1, sizeof(*t));
  if (t != NULL) {
    mg_timer_init(&mgr->timers, t, milliseconds, flags | MG_TIMER_AUTODELETE,
                  fn, arg);
  }
  return t;
}
