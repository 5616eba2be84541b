# cymongoose (native Mongoose bindings for Python, from PyPI): the seeds' own
# system and native baseline. Hello JSON, the API workloads (pyapi.api) and
# WebSocket echo on /ws. Usage: python cymongoose_server.py PORT
# SPDX-License-Identifier: MIT
import sys

from cymongoose import MG_EV_HTTP_MSG, MG_EV_WS_MSG, Manager

from pyapi import HELLO, api

JSON = {"Content-Type": "application/json"}


def handler(conn, ev, data):
    if ev == MG_EV_HTTP_MSG:
        uri = data.uri
        if uri == "/":
            conn.reply(200, HELLO, JSON)
        elif uri == "/ws":
            conn.ws_upgrade(data)
        else:
            status, body = api(data.method, uri, data.query, data.header("Content-Type"),
                               lambda: data.body_bytes)
            conn.reply(status, body, JSON)
    elif ev == MG_EV_WS_MSG:
        conn.ws_send(data.data, data.flags & 15)


port = sys.argv[1] if len(sys.argv) > 1 else "8000"
mgr = Manager(handler)
mgr.listen(f"http://127.0.0.1:{port}", http=True)
mgr.run(100)
