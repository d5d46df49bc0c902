#!/usr/bin/env python3
"""Tamper-to-refusal probe (scripts/demo.sh step 9, scripts/bench-tamper.sh).

Appends bytes to a measured file, then asks the verifier's kube-scheduler extender
(POST /v1/k8s/filter) every 20 ms over one keep-alive TLS connection until the node is
in FailedNodes; prints the elapsed milliseconds. One process does both so the number
is not inflated by process start-up. Exit 1 when the node is not refused in time.

usage: tamper_probe.py FILE URL CAFILE TOKEN NODE TAG [TIMEOUT_S]
"""
import http.client
import json
import ssl
import sys
import time
import urllib.parse


def main() -> int:
    path, url, cafile, token, node, tag = sys.argv[1:7]
    timeout = float(sys.argv[7]) if len(sys.argv) > 7 else 30.0
    u = urllib.parse.urlsplit(url)
    ctx = ssl.create_default_context(cafile=cafile)
    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10)
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    body = json.dumps({"Pod": {"metadata": {"name": "probe"}}, "NodeNames": [node]})
    t0 = time.monotonic()
    with open(path, "ab") as f:
        f.write(b"\x00bulwark-tamper-" + tag.encode())
    while time.monotonic() - t0 < timeout:
        conn.request("POST", "/v1/k8s/filter", body, headers)
        answer = json.loads(conn.getresponse().read())
        if node in (answer.get("FailedNodes") or {}):
            print(int((time.monotonic() - t0) * 1000))
            return 0
        time.sleep(0.02)
    return 1


if __name__ == "__main__":
    sys.exit(main())
