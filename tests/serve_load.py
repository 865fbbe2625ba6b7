#!/usr/bin/env python3
"""A bounded load test of agmodel-serve (ctest serve_load, host).

    serve_load.py AGMODEL_SERVE MODEL [CLIENTS [REQUESTS [QUEUE]]]

Starts the server on a free loopback port with --queue QUEUE (default 32),
then CLIENTS threads (default 32) each send REQUESTS (default 4) streaming
chat requests one after another on their own keep-alive connection. Every
request must end with a complete stream (data: [DONE]) or a 503 with
Retry-After; none may hang (each is bounded to 120 s) and the server must
still answer and stop cleanly. Prints the requests per second, the p50 and
p99 time to the first streamed token, and the server's peak RSS (VmHWM).
"""
import http.client
import json
import signal
import subprocess
import sys
import threading
import time

from serve_util import start_server

SERVE, MODEL = sys.argv[1:3]
CLIENTS = int(sys.argv[3]) if len(sys.argv) > 3 else 32
REQUESTS = int(sys.argv[4]) if len(sys.argv) > 4 else 4
QUEUE = int(sys.argv[5]) if len(sys.argv) > 5 else 32


def main():
    p, port = start_server([SERVE, "--model", MODEL, "--port", "0", "--queue", str(QUEUE)])

    results = []  # (status, complete, ttft seconds or None)
    lock = threading.Lock()
    body = json.dumps({"messages": [{"role": "user", "content": "Tell me a story about a dog"}],
                       "max_tokens": 24, "temperature": 0.7, "stream": True})

    def client(k):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        for i in range(REQUESTS):
            t0 = time.time()
            status, complete, ttft = 0, False, None
            try:
                c.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
                r = c.getresponse()
                status = r.status
                if status == 200:
                    buf = b""
                    while True:
                        chunk = r.read1(65536)
                        if not chunk:
                            break
                        buf += chunk
                        if ttft is None and b'"content":"' in buf and b'"content":""' not in buf[-200:]:
                            ttft = time.time() - t0
                    complete = buf.rstrip().endswith(b"data: [DONE]")
                else:
                    data = r.read()
                    complete = status == 503 and r.getheader("Retry-After") == "1" and b"error" in data
            except Exception as e:  # noqa: BLE001 (a failure of the request is the result)
                status = "exception %s" % e
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            with lock:
                results.append((status, complete, ttft))
        c.close()

    t0 = time.time()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    elapsed = time.time() - t0
    hung = sum(t.is_alive() for t in threads)
    rss_kb = 0
    with open("/proc/%d/status" % p.pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                rss_kb = int(line.split()[1])
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", "/health")
    alive = c.getresponse().status == 200
    c.close()
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "hung"

    ok_200 = [r for r in results if r[0] == 200 and r[1]]
    ok_503 = [r for r in results if r[0] == 503 and r[1]]
    bad = [r for r in results if not r[1]]
    ttfts = sorted(r[2] for r in ok_200 if r[2] is not None)

    def pct(q):
        return ttfts[min(len(ttfts) - 1, int(q * len(ttfts)))] * 1000 if ttfts else float("nan")

    print("serve_load: %d clients x %d streaming requests, --queue %d: %d complete, %d 503, %d bad, %d hung threads"
          % (CLIENTS, REQUESTS, QUEUE, len(ok_200), len(ok_503), len(bad), hung))
    print("serve_load: %.1f requests/s (%.1f s), time to first token p50 %.1f ms, p99 %.1f ms, peak RSS %d KB"
          % (len(results) / elapsed, elapsed, pct(0.50), pct(0.99), rss_kb))
    failed = bad or hung or len(results) != CLIENTS * REQUESTS or not alive or rc != 0 or not ok_200
    if failed:
        print("FAIL: %s" % (bad[:5] if bad else "hung %d, results %d, alive %s, rc %s" % (hung, len(results), alive, rc)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
