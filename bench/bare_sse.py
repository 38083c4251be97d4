"""The baseline of bench/stream.py: a bare Starlette Server-Sent Events fan-out, nothing stored.

    .venv/bin/python bench/bare_sse.py PORT

POST /publish takes a JSON object (the payload of the event govops would send), adds an id and the
moment it was accepted (`recorded_at`) as govops does, and puts the encoded event into every connected
subscriber's queue; GET /events streams them. No checks, no store, no rights.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

subscribers: set[asyncio.Queue[bytes]] = set()
counter = 0


async def publish(request: Request) -> Response:
    global counter
    counter += 1
    recorded_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    data = json.dumps({"id": counter, "recorded_at": recorded_at, **json.loads(await request.body())})
    event = f"id: {counter}\nevent: change\ndata: {data}\n\n".encode()
    for queue in list(subscribers):
        queue.put_nowait(event)
    return Response(status_code=201)


async def events(request: Request) -> StreamingResponse:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    subscribers.add(queue)

    async def body() -> AsyncIterator[bytes]:
        try:
            yield b": connected\n\n"
            while True:
                yield await queue.get()
        finally:
            subscribers.discard(queue)

    return StreamingResponse(body(), media_type="text/event-stream")


app = Starlette(routes=[Route("/publish", publish, methods=["POST"]), Route("/events", events)])

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", timeout_graceful_shutdown=1)
