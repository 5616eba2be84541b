// A fake network driver for the native unit tests: no sockets; output is
// captured in fake_out, time is fake_now. See fake_driver.c.
// SPDX-License-Identifier: MIT
#ifndef FAKE_DRIVER_H
#define FAKE_DRIVER_H
#include "mongoose.h"

extern uint64_t fake_now;           // what mg_millis() returns
extern struct mg_iobuf fake_out;    // everything "written" to any socket
extern size_t fake_write_limit;     // max bytes taken per flush (0: all)
extern bool fake_write_stall;       // the peer reads nothing: flushes take 0
extern unsigned long fake_closed;   // number of sockets closed
extern unsigned long fake_last_closed_id;  // id of the last closed conn
extern int fake_paused;             // last pause state requested

// Accept a new connection on listener lsn (fires OPEN and ACCEPT).
struct mg_connection *fake_accept(struct mg_connection *lsn);
// Deliver bytes to c as if read from its socket, then finish the I/O turn.
// Returns false if c was closed and freed during the turn.
bool fake_recv(struct mg_connection *c, const void *buf, size_t len);
// Finish an I/O turn (flush, resume, close); false if c was freed.
bool fake_finish(struct mg_connection *c);
// Is a connection with this id still alive in mgr?
bool fake_alive(struct mg_mgr *mgr, unsigned long id);
// Clear fake_out.
void fake_reset(void);
#endif
