// mg_wakeup: deliver data to a connection by id (MG_EV_WAKEUP).
// SPDX-License-Identifier: MIT
#include "mongoose.h"

bool mg_wakeup_init(struct mg_mgr *mgr) {
  (void) mgr;  // one thread drives the manager: there is no pipe to set up
  return true;
}

bool mg_wakeup(struct mg_mgr *mgr, unsigned long conn_id, const void *buf,
               size_t len) {
  struct mg_connection *c;
  for (c = mgr->conns; c != NULL; c = c->next) {
    if (c->id == conn_id && !c->is_closing) {
      struct mg_str data = mg_str_n((const char *) buf, buf == NULL ? 0 : len);
      mg_call(c, MG_EV_WAKEUP, &data);
      mg_io_check(c);
      return true;
    }
  }
  return false;
}
