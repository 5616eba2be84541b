# Flask on its threaded Werkzeug server (the seeds' "Flask (threaded)" row):
# hello JSON and the API workloads with Flask's converters.
# Usage: python flask_server.py PORT
# SPDX-License-Identifier: MIT
import logging
import sys

from flask import Flask, Response, request

from pyapi import HELLO, INT, UUID, dumps, multipart, typed, valid_date

app = Flask(__name__)
logging.getLogger("werkzeug").setLevel(logging.ERROR)
J = "application/json"


def ok(o):
    return Response(dumps(o), mimetype=J)


def bad(what):
    return Response(dumps({"error": f"bad {what}"}), status=400, mimetype=J)


@app.get("/")
def hello():
    return Response(HELLO, mimetype=J)


@app.post("/json/<size>")
def json_body(size):
    o = request.get_json(silent=True)
    return ok({"keys": len(o), "first": o.get("id")}) if isinstance(o, dict) else bad("JSON")


@app.get("/items/<id>")
def item(id):
    return ok({"id": id})


@app.get("/users/<user_id>/posts/<post_id>")
def user_post(user_id, post_id):
    return ok({"user_id": user_id, "post_id": post_id})


@app.get("/a/<p1>/b/<p2>/c/<p3>/d/<p4>/e/<p5>")
def deep(p1, p2, p3, p4, p5):
    return ok({"p1": p1, "p2": p2, "p3": p3, "p4": p4, "p5": p5})


@app.get("/int/<n>")
def int_(n):
    return ok({"n": int(n)}) if INT.match(n) else bad("integer")


@app.get("/uuid/<u>")
def uuid_(u):
    return ok({"uuid": u}) if UUID.match(u) else bad("UUID")


@app.get("/date/<d>")
def date_(d):
    return ok({"date": d}) if valid_date(d) else bad("date")


@app.get("/query/<kind>")
def query(kind):
    return ok(typed(request.args.items(multi=True)))


@app.post("/form/<kind>")
def form(kind):
    return ok(dict(request.form.items(multi=True)))


@app.post("/upload")
def upload():
    r = multipart(request.content_type, request.get_data())
    return ok(r) if r else bad("multipart")


app.run(host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 8000, threaded=True)
