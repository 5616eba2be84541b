# aiohttp (the seeds' async Python competitor): hello JSON and the API workloads
# with aiohttp's router. Usage: python aiohttp_server.py PORT
# SPDX-License-Identifier: MIT
import json
import sys

from aiohttp import web

from pyapi import HELLO, INT, UUID, dumps, multipart, typed, valid_date

J = "application/json"


def ok(o):
    return web.Response(body=dumps(o), content_type=J)


def bad(what):
    return web.Response(status=400, body=dumps({"error": f"bad {what}"}), content_type=J)


async def hello(_):
    return web.Response(body=HELLO, content_type=J)


async def json_body(req):
    try:
        o = json.loads(await req.read())
    except ValueError:
        return bad("JSON")
    return ok({"keys": len(o), "first": o.get("id")}) if isinstance(o, dict) else bad("JSON")


async def item(req):
    return ok({"id": req.match_info["id"]})


async def user_post(req):
    m = req.match_info
    return ok({"user_id": m["user_id"], "post_id": m["post_id"]})


async def deep(req):
    return ok({k: req.match_info[k] for k in ("p1", "p2", "p3", "p4", "p5")})


async def int_(req):
    n = req.match_info["n"]
    return ok({"n": int(n)}) if INT.match(n) else bad("integer")


async def uuid_(req):
    u = req.match_info["u"]
    return ok({"uuid": u}) if UUID.match(u) else bad("UUID")


async def date_(req):
    d = req.match_info["d"]
    return ok({"date": d}) if valid_date(d) else bad("date")


async def query(req):
    return ok(typed(req.query.items()))


async def form(req):
    return ok(dict((await req.post()).items()))


async def upload(req):
    r = multipart(req.headers.get("Content-Type"), await req.read())
    return ok(r) if r else bad("multipart")


app = web.Application(client_max_size=8 << 20)
app.add_routes([
    web.get("/", hello),
    web.post("/json/{size}", json_body),
    web.get("/items/{id}", item),
    web.get("/users/{user_id}/posts/{post_id}", user_post),
    web.get("/a/{p1}/b/{p2}/c/{p3}/d/{p4}/e/{p5}", deep),
    web.get("/int/{n}", int_),
    web.get("/uuid/{u}", uuid_),
    web.get("/date/{d}", date_),
    web.get("/query/{kind}", query),
    web.post("/form/{kind}", form),
    web.post("/upload", upload),
])
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 8000,
            access_log=None, print=None)
