"""A screen process for ``hwsim scenario screens-day``: one connection to kioskd's service
socket, as a recipient, courier or clerk screen has, driven by JSON lines on stdin.

Each line is a command ``{"id": N, "call": NAME, "args": {...}}`` (``sign_in`` is the
staff sign-in); each answer is one line ``{"id": N, "ok": VALUE}`` or ``{"id": N,
"error": CLASS, "message": TEXT}``. The process can be SIGKILLed at any instant, as a
screen can crash: the scenario starts another and a person tries again.

    python -m hwsim.scenarios.screen_child SOCKET
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.service.socket_client import ServiceClient


def _plain(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


async def serve(socket: Path) -> None:
    client = await ServiceClient.connect(socket)
    loop = asyncio.get_running_loop()
    print(json.dumps({"ready": True}), flush=True)
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            command = json.loads(line)
            answer: dict = {"id": command["id"]}
            try:
                if command["call"] == "sign_in":
                    value = await client.sign_in(command["args"]["code"])
                else:
                    value = await client.request(command["call"], **command["args"])
                answer["ok"] = _plain(value)
            except KioskError as err:
                answer.update(error=type(err).__name__, message=str(err))
            print(json.dumps(answer, default=str), flush=True)
    finally:
        await client.close()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1])))
