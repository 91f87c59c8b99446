"""Lets a request close its own TCP connection without an answer (the "dropped connection" fault).

ASGI hides the socket from the app, so the HTTP protocol class uvicorn runs is subclassed to
publish its transport in a context variable just before it parses incoming bytes; the request task
uvicorn then creates copies that context, so the app can find and close exactly its own
connection.
"""

from __future__ import annotations

import asyncio
import contextvars

from uvicorn.protocols.http.h11_impl import H11Protocol

CURRENT_TRANSPORT: contextvars.ContextVar[asyncio.Transport | None] = contextvars.ContextVar(
    "freshbooks_sandbox_transport", default=None
)


class DroppableH11Protocol(H11Protocol):
    def data_received(self, data: bytes) -> None:
        CURRENT_TRANSPORT.set(self.transport)
        super().data_received(data)


async def drop_connection() -> bool:
    """Close the current request's connection without writing anything; False if not possible."""
    transport = CURRENT_TRANSPORT.get()
    if transport is None:
        return False
    transport.close()
    # Let connection_lost run so uvicorn knows the client is gone and does not answer a 500.
    for _ in range(3):
        await asyncio.sleep(0)
    return True
