# FastAPI on uvicorn (the seeds' ASGI competitor): hello JSON and the API
# workloads with FastAPI's typed parameters. Usage: python fastapi_server.py PORT
# SPDX-License-Identifier: MIT
import datetime
import sys
import uuid

import uvicorn
from fastapi import FastAPI, Request, Response, UploadFile

from pyapi import HELLO, typed

app = FastAPI()
J = "application/json"


@app.get("/")
async def hello():
    return Response(HELLO, media_type=J)


@app.post("/json/{size}")
async def json_body(size: str, body: dict):
    return {"keys": len(body), "first": body.get("id")}


@app.get("/items/{id}")
async def item(id: str):
    return {"id": id}


@app.get("/users/{user_id}/posts/{post_id}")
async def user_post(user_id: str, post_id: str):
    return {"user_id": user_id, "post_id": post_id}


@app.get("/a/{p1}/b/{p2}/c/{p3}/d/{p4}/e/{p5}")
async def deep(p1: str, p2: str, p3: str, p4: str, p5: str):
    return {"p1": p1, "p2": p2, "p3": p3, "p4": p4, "p5": p5}


@app.get("/int/{n}")
async def int_(n: int):
    return {"n": n}


@app.get("/uuid/{u}")
async def uuid_(u: uuid.UUID):
    return {"uuid": str(u)}


@app.get("/date/{d}")
async def date_(d: datetime.date):
    return {"date": d.isoformat()}


@app.get("/query/{kind}")
async def query(kind: str, request: Request):
    return typed(request.query_params.multi_items())


@app.post("/form/{kind}")
async def form(kind: str, request: Request):
    return dict((await request.form()).multi_items())


@app.post("/upload")
async def upload(file: UploadFile):
    data = await file.read()
    return {"files": 1, "bytes": len(data)}


uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 8000,
            log_level="warning", access_log=False)
