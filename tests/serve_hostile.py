#!/usr/bin/env python3
"""Hostile clients against agmodel-serve (ctest serve_hostile).

    serve_hostile.py AGMODEL_SERVE [EMULATOR...]

Starts the server itself on a free loopback port (127.0.0.1, --port 0),
sends each case of the table below on a raw socket and checks the status it
gets (or that the connection is closed), then that the server answers a
normal request right after. Every wait is bounded; the server is stopped
at the end (SIGTERM) and must exit cleanly. Python's standard library only.
"""
import json
import re
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from serve_util import start_server

SLOW = 1 if len(sys.argv) <= 2 else 6  # an emulated server is slower: longer bounds
failures = []


def start(extra):
    return start_server(sys.argv[2:] + [sys.argv[1], "--port", "0", "--host", "127.0.0.1"] + extra, 30 * SLOW)


def exchange(port, parts, delay=0.0, timeout=10.0, close_after=None, until_close=False):
    """Sends the byte strings in parts (delay seconds apart), then reads until
    the server closes or timeout; returns the bytes received (b"" if none)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout * SLOW)
    got = b""
    try:
        for i, part in enumerate(parts):
            if i and delay:
                time.sleep(delay)
            try:
                s.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break
        if close_after is not None:
            # Read close_after bytes (a stream begun) and hang up.
            while len(got) < close_after:
                b = s.recv(65536)
                if not b:
                    break
                got += b
            return got
        end = time.time() + timeout * SLOW
        while time.time() < end:
            try:
                b = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not b:
                break
            got += b
            if not until_close and response_complete(got):
                break
    finally:
        s.close()
    return got


def response_complete(data):
    """True once data holds one whole response (Content-Length or chunked)."""
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return False
    head = data[:head_end].decode("latin-1").lower()
    body = data[head_end + 4:]
    if head.startswith("http/1.1 100"):
        return response_complete(body)
    for line in head.split("\r\n"):
        if line.startswith("content-length:"):
            return len(body) >= int(line.split(":")[1])
    if "transfer-encoding: chunked" in head:
        return body.endswith(b"0\r\n\r\n")
    return False


def statuses(data):
    """The status of every response in data (interim 100s left out)."""
    codes = [int(m) for m in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]
    return [c for c in codes if c != 100]


def check(name, ok, detail=""):
    print(("ok   " if ok else "FAIL ") + name + (": " + detail if detail and not ok else ""))
    if not ok:
        failures.append(name)


def healthy(port, name):
    t0 = time.time()
    got = exchange(port, [b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"])
    check(name + " / then a normal request", statuses(got) == [200] and b'"ok"' in got,
          repr(got[:200]))
    return time.time() - t0


def post(path, body, extra=b""):
    if isinstance(body, str):
        body = body.encode()
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + extra +
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)


def main():
    server, port = start(["--max-header", "2048", "--max-body", "65536", "--request-timeout", str(2 * SLOW),
                          "--queue", "2"])
    chat = json.dumps({"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4, "temperature": 0})
    # (name, bytes to send, the statuses expected; None: the connection is just closed)
    table = [
        ("malformed request line", [b"GARBAGE\r\n\r\n"], [400]),
        ("no target", [b"GET  HTTP/1.1\r\n\r\n"], [400]),
        ("HTTP/2.0", [b"GET /health HTTP/2.0\r\n\r\n"], [505]),
        ("bare LF line ends", [b"GET /health HTTP/1.1\n\n"], [400]),
        ("a control byte in a header", [b"GET /health HTTP/1.1\r\nX: a\x01b\r\n\r\n"], [400]),
        ("obsolete line folding", [b"GET /health HTTP/1.1\r\nX: a\r\n b\r\n\r\n"], [400]),
        ("oversized headers", [b"GET /health HTTP/1.1\r\nX: " + b"a" * 3000 + b"\r\n\r\n"], [431]),
        ("oversized headers, never ended", [b"GET /health HTTP/1.1\r\nX: " + b"a" * 4000], [431]),
        ("a target of 3000 bytes", [b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\n\r\n"], [431]),
        ("oversized body", [b"POST /v1/completions HTTP/1.1\r\nContent-Length: 100000\r\n\r\n"], [413]),
        ("Content-Length not a number", [b"POST /v1/completions HTTP/1.1\r\nContent-Length: 12a\r\n\r\n"], [400]),
        ("negative Content-Length", [b"POST /v1/completions HTTP/1.1\r\nContent-Length: -1\r\n\r\n"], [400]),
        ("two Content-Lengths", [b"POST /v1/completions HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}"],
         [400]),
        ("Content-Length and chunked",
         [b"POST /v1/completions HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}"], [400]),
        ("Transfer-Encoding gzip", [b"POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"], [501]),
        ("a malformed chunk", [b"POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"], [400]),
        ("a chunked body over the limit",
         [b"POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n20000\r\n"], [413]),
        ("invalid JSON", [post("/v1/chat/completions", "{\"messages\": [")], [400]),
        ("deeply nested JSON", [post("/v1/chat/completions", "[" * 5000 + "]" * 5000)], [400]),
        ("invalid UTF-8 in JSON",
         [post("/v1/chat/completions", b'{"messages":[{"role":"user","content":"\xff\xfe"}]}')], [400]),
        ("not an object", [post("/v1/chat/completions", "[1,2]")], [400]),
        ("no messages", [post("/v1/chat/completions", "{}")], [400]),
        ("a bad role", [post("/v1/chat/completions", '{"messages":[{"role":"god","content":"x"}]}')], [400]),
        ("n = 2", [post("/v1/chat/completions", '{"n":2,"messages":[{"role":"user","content":"x"}]}')], [400]),
        ("logprobs", [post("/v1/chat/completions", '{"logprobs":true,"messages":[{"role":"user","content":"x"}]}')],
         [400]),
        ("temperature out of range",
         [post("/v1/chat/completions", '{"temperature":9,"messages":[{"role":"user","content":"x"}]}')], [400]),
        ("a prompt longer than the context",
         [post("/v1/completions", json.dumps({"prompt": "word " * 3000}))], [400]),
        ("a bad JSON schema",
         [post("/v1/chat/completions", json.dumps({"messages": [{"role": "user", "content": "x"}],
                                                   "response_format": {"type": "json_schema",
                                                                       "json_schema": {"schema": {"type": "nope"}}}}))],
         [400]),
        ("unknown endpoint", [b"GET /v2/nothing HTTP/1.1\r\n\r\n"], [404]),
        ("wrong method", [b"GET /v1/chat/completions HTTP/1.1\r\n\r\n"], [405]),
        ("unknown method", [b"BREW /v1/models HTTP/1.1\r\n\r\n"], [405]),
        ("pipelined requests", [b"GET /health HTTP/1.1\r\n\r\nGET /v1/models HTTP/1.1\r\n\r\n"
                                b"GET /api/version HTTP/1.1\r\nConnection: close\r\n\r\n"], [200, 200, 200]),
        ("a generation, then 50 pipelined requests", [
            post("/v1/completions", json.dumps({"prompt": "Once", "max_tokens": 50})).replace(
                b"Connection: close\r\n", b"") + b"GET /health HTTP/1.1\r\n\r\n" * 49 +
            b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"], [200] * 51),
        ("a chunked request body",
         [b"POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
          b"%x\r\n" % len(chat) + chat.encode() + b"\r\n0\r\n\r\n"], [200]),
        ("Expect: 100-continue", [b"POST /v1/chat/completions HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: " +
                                  str(len(chat)).encode() + b"\r\nConnection: close\r\n\r\n", chat.encode()], [200]),
    ]
    for name, parts, want in table:
        got = exchange(port, parts, delay=0.05, until_close=len(want) > 1)
        check(name, statuses(got)[:len(want)] == want and len(statuses(got)) == len(want),
              "got %s: %r" % (statuses(got), got[:300]))
        healthy(port, name)

    # Disconnects at every stage: before anything, inside the headers, inside
    # the body, and in the middle of a streamed reply (its generation stops).
    long_stream = json.dumps({"prompt": "Once upon a time", "max_tokens": 400, "temperature": 0, "stream": True})
    for name, parts, close_after in [
        ("connect and close", [], 0),
        ("close inside the headers", [b"POST /v1/completions HTTP/1.1\r\nContent-Le"], 0),
        ("close inside the body", [b"POST /v1/completions HTTP/1.1\r\nContent-Length: 50\r\n\r\n{\"pro"], 0),
        ("close during a streamed reply", [post("/v1/completions", long_stream)], 300),
    ]:
        exchange(port, parts, close_after=close_after)
        check(name, True)
        healthy(port, name)

    # A slow sender (a byte every 0.3 s) is cut off by the request timeout,
    # and does not hold up another client meanwhile.
    slow_result = {}

    def slow():
        req = b"GET /health HTTP/1.1\r\nX-Slow: " + b"a" * 40 + b"\r\n\r\n"
        t0 = time.time()
        got = exchange(port, [req[i:i + 1] for i in range(len(req))], delay=0.3, timeout=20)
        slow_result["statuses"] = statuses(got)
        slow_result["seconds"] = time.time() - t0

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.5)
    others = [healthy(port, "while a slow sender sends") for _ in range(3)]
    t.join(60 * SLOW)
    check("a slow sender is cut off", slow_result.get("statuses") in ([408], []),
          str(slow_result))
    check("others are served while it sends", max(others) < 2.0 * SLOW, "%.2f s" % max(others))

    # A full queue: 503 with Retry-After, never a hang.
    socks = []
    busy = json.dumps({"prompt": "Once upon a time", "max_tokens": 300, "temperature": 0}).encode()
    codes = []
    for _ in range(6):
        s = socket.create_connection(("127.0.0.1", port), timeout=60 * SLOW)
        s.sendall(post("/v1/completions", busy))
        socks.append(s)
    for s in socks:
        data = b""
        while not response_complete(data):
            b = s.recv(65536)
            if not b:
                break
            data += b
        codes += statuses(data)
        if b"503" in data[:20]:
            check("a 503 says when to retry", b"retry-after: 1" in data.lower(), repr(data[:300]))
        s.close()
    check("a full queue: every request answered, 200 or 503", len(codes) == 6 and set(codes) <= {200, 503}
          and 503 in codes and 200 in codes, str(codes))
    healthy(port, "after a full queue")

    server.send_signal(signal.SIGTERM)
    try:
        rc = server.wait(timeout=20 * SLOW)
    except subprocess.TimeoutExpired:
        server.kill()
        rc = "hung"
    check("SIGTERM stops the server", rc == 0, str(rc))

    # An API key: a missing or wrong key gets 401, the right one 200.
    server, port = start(["--api-key", "sekrit"])
    get = b"GET /v1/models HTTP/1.1\r\nConnection: close\r\n"
    check("no API key", statuses(exchange(port, [get + b"\r\n"])) == [401])
    check("a wrong API key", statuses(exchange(port, [get + b"Authorization: Bearer nope\r\n\r\n"])) == [401])
    check("the right API key", statuses(exchange(port, [get + b"Authorization: Bearer sekrit\r\n\r\n"])) == [200])
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=20 * SLOW)

    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
