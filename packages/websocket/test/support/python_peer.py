"""A Python `websockets` peer for the interop tests (Debian's python3-websockets).

  python_peer.py client URL   runs the echo checks against URL, prints one JSON object
  python_peer.py server       serves echo on a free port, prints {"port": N}, runs until stdin closes
"""
import asyncio
import json
import sys

import websockets


async def client(url):
    out = {}
    async with websockets.connect(url, max_size=2**21, compression=None) as ws:
        cases = {
            "empty text": "",
            "1 byte text": "x",
            "unicode text": "héllo ☃ 🎉",
            "64 KiB text": "t" * 65536,
            "empty binary": b"",
            "1 byte binary": b"\xff",
            "64 KiB binary": bytes(range(256)) * 256,
            "1 MiB binary": bytes(range(256)) * 4096,
        }
        for name, data in cases.items():
            await ws.send(data)
            got = await ws.recv()
            out[name] = got == data and type(got) is type(data)
        await ws.send(["frag", "men", "ted"])
        out["fragmented"] = (await ws.recv()) == "fragmented"
        pong = await ws.ping(b"py-ping")
        await asyncio.wait_for(pong, 5)
        out["ping"] = True
        await ws.close(code=4003, reason="py bye")
        out["close"] = [ws.close_code, ws.close_reason]
    return out


async def server():
    async def echo(ws):
        async for msg in ws:
            if msg == "close please":
                await ws.close(code=4004, reason="python closes")
                return
            await ws.send(msg)

    async with websockets.serve(echo, "127.0.0.1", 0, max_size=2**21, compression=None) as srv:
        port = srv.sockets[0].getsockname()[1]
        print(json.dumps({"port": port}), flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.read)


if __name__ == "__main__":
    if sys.argv[1] == "client":
        print(json.dumps(asyncio.run(client(sys.argv[2]))))
    else:
        asyncio.run(server())
