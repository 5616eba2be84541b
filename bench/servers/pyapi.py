# The API workloads of bench/workloads.mjs for the Python servers: shared helpers
# (typed query values, date check, multipart count) and a plain dispatcher for
# servers without a router (cymongoose). Same contract as api.mjs.
# SPDX-License-Identifier: MIT
import datetime
import json
import re
from urllib.parse import parse_qsl

HELLO = b'{"message":"Hello, World!"}'
NUM = re.compile(r"^(limit|offset|page|n\d+)$")
INT = re.compile(r"^-?\d{1,15}$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.I)


def typed(pairs):
    """Query pairs -> dict; limit, offset, page, n* as numbers."""
    return {k: (int(v) if NUM.match(k) and INT.match(v) else v) for k, v in pairs}


def valid_date(s):
    try:
        datetime.date.fromisoformat(s)
        return len(s) == 10
    except ValueError:
        return False


def multipart(content_type, body):
    """multipart/form-data -> {"files": n, "bytes": total file bytes}, or None."""
    m = BOUNDARY.search(content_type or "")
    if not m:
        return None
    delim = b"\r\n--" + (m.group(1) or m.group(2)).encode()
    if not body.startswith(delim[2:]):
        return None
    pos = len(delim) - 2
    files = size = 0
    while True:
        if body[pos:pos + 2] == b"--":
            return {"files": files, "bytes": size}
        head_end = body.find(b"\r\n\r\n", pos)
        if head_end < 0:
            return None
        nxt = body.find(delim, head_end + 4)
        if nxt < 0:
            return None
        if b'filename="' in body[pos:head_end].lower():
            files += 1
            size += nxt - (head_end + 4)
        pos = nxt + len(delim)


def dumps(o):
    return json.dumps(o, separators=(",", ":")).encode()


NOT_FOUND = (404, b'{"error":"Not Found"}')


def api(method, path, query, content_type, body):
    """One request -> (status, JSON bytes). body: a function returning bytes."""
    p = path.split("/")
    head = p[1] if len(p) > 1 else ""
    n = len(p)
    if head == "":
        return (200, HELLO) if n == 2 and method == "GET" else NOT_FOUND
    if head == "json" and n == 3 and method == "POST":
        try:
            o = json.loads(body())
        except ValueError:
            return 400, b'{"error":"bad JSON"}'
        if not isinstance(o, dict):
            return 400, b'{"error":"bad JSON"}'
        return 200, dumps({"keys": len(o), "first": o.get("id")})
    if head == "items" and n == 3:
        return 200, dumps({"id": p[2]})
    if head == "users" and n == 5 and p[3] == "posts":
        return 200, dumps({"user_id": p[2], "post_id": p[4]})
    if head == "a" and n == 11 and p[3] == "b" and p[5] == "c" and p[7] == "d" and p[9] == "e":
        return 200, dumps({"p1": p[2], "p2": p[4], "p3": p[6], "p4": p[8], "p5": p[10]})
    if head == "int" and n == 3:
        return (200, dumps({"n": int(p[2])})) if INT.match(p[2]) else (400, b'{"error":"bad integer"}')
    if head == "uuid" and n == 3:
        return (200, dumps({"uuid": p[2]})) if UUID.match(p[2]) else (400, b'{"error":"bad UUID"}')
    if head == "date" and n == 3:
        return (200, dumps({"date": p[2]})) if valid_date(p[2]) else (400, b'{"error":"bad date"}')
    if head == "query" and n == 3:
        return 200, dumps(typed(parse_qsl(query, keep_blank_values=True)))
    if head == "form" and n == 3 and method == "POST":
        return 200, dumps(dict(parse_qsl(body().decode(), keep_blank_values=True)))
    if head == "upload" and n == 2 and method == "POST":
        r = multipart(content_type, body())
        return (200, dumps(r)) if r else (400, b'{"error":"bad multipart"}')
    return NOT_FOUND
