"""What the agmodel-serve test scripts share: starting a server."""
import subprocess
import sys
import threading
import time


def start_server(cmd, timeout_s=30):
    """Runs cmd (an agmodel-serve command line with --port 0) and waits for
    its "listening on http://127.0.0.1:PORT" line; returns (process, port).
    Its standard error is drained from then on, so it never blocks on a
    full pipe. Exits the test if the server does not start in timeout_s."""
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    deadline = time.time() + timeout_s
    port = None
    while time.time() < deadline:
        line = p.stderr.readline()
        if not line:
            break
        if "listening on http://127.0.0.1:" in line:
            port = int(line.rsplit(":", 1)[1])
            break
    if port is None:
        p.kill()
        sys.exit("FAIL: the server did not start: " + " ".join(cmd))
    threading.Thread(target=lambda: [None for _ in p.stderr], daemon=True).start()
    return p, port
