#!/usr/bin/python3
"""Helpers of push_api.sh that curl cannot do.

  push_api.py scrape URL OUT.json
      GET the metrics page, parse it with prometheus_client's parser (a
      format error raises) and write {"name|label=value,...": value}.
      The health check's canary is counted as sent before a UDP thread
      counts it as a query, so a page read in between is one canary ahead
      of the query counters; the page is read again until two reads in a
      row agree on the UDP counters less the canaries.
  push_api.py slow PORT PKI_DIR TIMEOUT_MS
      Connection A starts a push and stalls in its body; connection B
      pushes meanwhile and must get 503 busy; A must get 408 timeout once
      TIMEOUT_MS have passed. Both answers must be the contract's JSON.
"""
import json
import socket
import ssl
import sys
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def read_page(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        ctype = r.headers.get("Content-Type", "")
        text = r.read().decode()
    if not ctype.startswith("text/plain") or "version=0.0.4" not in ctype:
        sys.exit(f"metrics Content-Type is {ctype!r}")
    values, families = {}, set()
    for fam in text_string_to_metric_families(text):
        if fam.name in families:
            sys.exit(f"family {fam.name} appears twice")
        families.add(fam.name)
        if not fam.name.startswith("pop53_"):
            sys.exit(f"family {fam.name} lacks the pop53_ prefix")
        if not fam.documentation:
            sys.exit(f"family {fam.name} has no HELP")
        for s in fam.samples:
            key = s.name + "|" + ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
            values[key] = s.value
    return values


SETTLED = ("pop53_queries_total|transport=udp",
           "pop53_responses_total|rcode=NOERROR,transport=udp")


def scrape(url, out):
    def beyond_canaries(v):
        c = v.get("pop53_health_canaries_total|", 0)
        return tuple(v.get(k, 0) - c for k in SETTLED)

    values = read_page(url)
    for _ in range(50):
        time.sleep(0.02)
        again = read_page(url)
        settled = beyond_canaries(again) == beyond_canaries(values)
        values = again
        if settled:
            break
    else:
        sys.exit("the UDP counters less the canaries did not settle in 50 reads")
    json.dump(values, open(out, "w"), indent=1, sort_keys=True)


def tls_conn(port, pki):
    ctx = ssl.create_default_context(cafile=f"{pki}/ca.crt")
    ctx.load_cert_chain(f"{pki}/client.crt", f"{pki}/client.key")
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def read_answer(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep:
            length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")]
            if length and len(body) >= length[0]:
                break
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head else 0
    return status, json.loads(body) if body else None


def slow(port, pki, timeout_ms):
    ok = True
    a = tls_conn(port, pki)
    a.sendall(b"PUT /v1/snapshot HTTP/1.1\r\nHost: node\r\nContent-Length: 100000\r\n\r\n"
              + b"POP53SNP" + b"\0" * 8)
    t0 = time.monotonic()
    time.sleep(0.3)
    b = tls_conn(port, pki)
    b.sendall(b"PUT /v1/snapshot HTTP/1.1\r\nHost: node\r\nContent-Length: 16\r\n\r\n"
              + b"\0" * 16)
    status, body = read_answer(b)
    if status != 503 or not body or body.get("error") != "busy" or "serial" not in body:
        print(f"second push during a push: {status} {body} (want 503 busy)")
        ok = False
    else:
        print(f"PASS push_api: a second push meanwhile: 503 {body['message']}")
    status, body = read_answer(a)
    waited = (time.monotonic() - t0) * 1000
    if status != 408 or not body or body.get("error") != "timeout":
        print(f"stalled push: {status} {body} (want 408 timeout)")
        ok = False
    elif waited < timeout_ms * 0.9 or waited > timeout_ms + 3000:
        print(f"stalled push answered after {waited:.0f} ms (timeout {timeout_ms} ms)")
        ok = False
    else:
        print(f"PASS push_api: stalled push: 408 after {waited:.0f} ms: {body['message']}")
    return ok


def main():
    if sys.argv[1] == "scrape":
        scrape(sys.argv[2], sys.argv[3])
        return 0
    if sys.argv[1] == "slow":
        return 0 if slow(int(sys.argv[2]), sys.argv[3], int(sys.argv[4])) else 1
    sys.exit(f"unknown command {sys.argv[1]}")


if __name__ == "__main__":
    sys.exit(main())
