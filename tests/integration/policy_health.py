"""The query loop of policy_health.sh (and the endpoints it stops and starts).

Usage: policy_health.py DNS_PORT METRICS_PORT WEB1 WEB2 POP53CTL TMPDIR PUSH_PORT
pop53d runs already (started by the shell script) with s1.snap; TMPDIR holds
s2.snap (one more check), s3.snap (a host-name target) and pki/ (the push
API's certificates, as push_lib.bash makes them). Prints one ok/FAIL
line per assertion; exit 0 when all passed. Every wait is bounded.
"""
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dns.message
import dns.query
import dns.rdatatype
from prometheus_client.parser import text_string_to_metric_families

INTERVAL, FALL, RISE = 1.0, 2, 2
GOAL_DOWN = INTERVAL * FALL + 1.0      # the figure: interval x fall + 1 s
GOAL_UP = INTERVAL * RISE + 1.0

port, mport, web1, web2 = (int(a) for a in sys.argv[1:5])
ctl, tmp, pport = sys.argv[5], sys.argv[6], int(sys.argv[7])
failed = False


def check(ok, what):
    global failed
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    failed |= not ok
    return ok


class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Endpoint:
    """An HTTP endpoint on 127.0.0.1:port; stopped = its port refuses."""

    def __init__(self, port):
        self.port, self.srv = port, None

    def start(self):
        self.srv = ThreadingHTTPServer(("127.0.0.1", self.port), Health)
        threading.Thread(target=self.srv.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()

    def stop(self):
        if self.srv:
            self.srv.shutdown()
            self.srv.server_close()
            self.srv = None


def answer(name):
    """The A addresses pop53d answers for name (sorted), None on timeout."""
    q = dns.message.make_query(name, "A")
    try:
        r = dns.query.udp(q, "127.0.0.1", port=port, timeout=1.0)
    except dns.exception.Timeout:
        return None
    return sorted(rr.address for rrset in r.answer if rrset.rdtype == dns.rdatatype.A
                  for rr in rrset)


def metrics():
    """{(name, frozenset(labels)): value} of the metrics page."""
    with urllib.request.urlopen(f"http://127.0.0.1:{mport}/metrics", timeout=5) as f:
        text = f.read().decode()
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def healthy(m, check):
    return m.get(("pop53_policy_check_healthy", frozenset({("check", check)})))


def counter(m, name, **labels):
    return m.get((name, frozenset(labels.items())), 0)


def wait_for(what, pred, limit):
    """Seconds until pred() held (polled every 50 ms), or None after limit."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if pred():
            return time.monotonic() - t0
        time.sleep(0.05)
    print(f"     (gave up waiting for {what} after {limit:.0f} s)")
    return None


def pop53ctl(*args):
    return subprocess.run([ctl, "-s", os.path.join(tmp, "ctl.sock"), *args],
                          capture_output=True, text=True, timeout=20)


def checks():
    """{name: the check's status entry} from pop53ctl status."""
    r = pop53ctl("--json", "status")
    return {c["name"]: c for c in json.loads(r.stdout).get("policy_checks", [])} \
        if r.returncode == 0 else {}


def settle(names, limit=10):
    """Wait until every check in names is healthy and its latest probe,
    made after this call, passed: no failure streak is left over, so a
    death timed from now needs all `fall` failures."""
    p0 = {n: c["probes"] for n, c in checks().items()}

    def done():
        now = checks()
        return all(n in now and now[n]["healthy"] and now[n]["probes"] > p0.get(n, 0) and
                   not now[n]["last_error"] for n in names)
    return wait_for("the checks to settle", done, limit) is not None


def api(path, *args, body=None):
    """The push API as the controller: (HTTP status, JSON answer)."""
    pki = os.path.join(tmp, "pki")
    r = subprocess.run(["curl", "-sS", "--max-time", "20", "-w", "\n%{http_code}",
                        "--cacert", f"{pki}/ca.crt", "--cert", f"{pki}/client.crt",
                        "--key", f"{pki}/client.key", *args,
                        f"https://127.0.0.1:{pport}{path}"],
                       input=body, capture_output=True, text=True, timeout=30)
    text, _, code = r.stdout.rpartition("\n")
    try:
        return int(code), json.loads(text)
    except ValueError:
        return 0, {"curl": r.stderr.strip()}


def post_votes(body):
    return api("/v1/votes", "--data-binary", "@-", body=body)


def www_is(addr):
    return lambda: answer("www.example.com") == [addr]


def fail_open():
    return counter(metrics(), "pop53_policy_fail_open_total", transport="udp")


def failover(e1, e2):
    """The primary dies, then comes back: timed, with the metrics."""
    check(settle(["primary", "secondary"]) and answer("www.example.com") == ["127.0.0.10"]
          and answer("pair.example.com") == ["127.0.0.20"],
          "both endpoints up: www answers the primary, pair the calculated check's member")
    m = metrics()
    check(healthy(m, "primary") == 1 and healthy(m, "both") == 1,
          "metrics: primary and the calculated check healthy")
    e1.stop()
    t = wait_for("the secondary answer", www_is("127.0.0.11"), GOAL_DOWN + 3)
    check(t is not None and t <= GOAL_DOWN,
          f"primary stopped: answers moved to the secondary after {t or -1:.2f} s "
          f"(goal: interval x fall + 1 s = {GOAL_DOWN:.1f} s)")
    check(wait_for("pair on its second member", lambda: answer("pair.example.com") ==
                   ["127.0.0.21"], 1) is not None,
          "the calculated check (primary and secondary) went down with the primary")
    m = metrics()
    check(healthy(m, "primary") == 0 and healthy(m, "both") == 0 and
          counter(m, "pop53_policy_check_transitions_total", check="primary") >= 1 and
          counter(m, "pop53_policy_check_failures_total", check="primary") >= FALL,
          "metrics: primary unhealthy, its transition and failures counted")
    e1.start()
    t = wait_for("the primary answer again", www_is("127.0.0.10"), GOAL_UP + 3)
    check(t is not None and t <= GOAL_UP,
          f"primary started: answers came back after {t or -1:.2f} s "
          f"(rise {RISE}: goal {GOAL_UP:.1f} s)")
    check(healthy(metrics(), "primary") == 1 and answer("pair.example.com") == ["127.0.0.20"],
          "metrics: primary healthy again; pair back on its first member")


def all_down(e1, e2):
    """Both endpoints down: the failover fails open; votes override."""
    e1.stop()
    e2.stop()
    check(wait_for("both checks down", lambda: healthy(metrics(), "primary") == 0 and
                   healthy(metrics(), "secondary") == 0, 6) is not None,
          "both endpoints stopped: both checks unhealthy")
    before = fail_open()
    answers = [answer("www.example.com") for _ in range(5)]
    after = fail_open()
    check(all(a == ["127.0.0.10"] for a in answers) and after - before >= 5,
          f"both down: fail-open answers the primary ({answers[0]}), fail-open counter "
          f"{before:.0f} -> {after:.0f}")
    r = pop53ctl("vote", "primary", "7", "healthy", "60000")
    m = metrics()
    check(r.returncode == 0 and healthy(m, "primary") == 1 and
          counter(m, "pop53_policy_check_votes", check="primary", vote="healthy") == 1,
          "pop53ctl vote primary 7 healthy: 1 of 2 votes healthy meets quorum 50 %")
    before = fail_open()
    check(answer("www.example.com") == ["127.0.0.10"] and fail_open() == before,
          "with the vote the primary is answered without failing open")
    r = pop53ctl("vote", "primary", "7", "healthy", "0")
    check(r.returncode == 0 and healthy(metrics(), "primary") == 0,
          "a vote with TTL 0 withdraws it: primary unhealthy again")
    code, j = post_votes("primary 9 healthy 60000\nnot a vote\n\nnosuch 9 healthy 100\n")
    check(code == 200 and j.get("applied") == 1 and j.get("refused") == 2 and
          j["errors"][0] == "line 2: not CHECK SOURCE_ID healthy|unhealthy TTL_MS" and
          j["errors"][1].startswith("line 4: no policy check named 'nosuch'") and
          healthy(metrics(), "primary") == 1,
          f"POST /v1/votes: one vote applied, two lines refused by line: {code} {j}")
    code, j = post_votes("primary 9 unhealthy 0\n")
    check(code == 200 and j.get("applied") == 1 and healthy(metrics(), "primary") == 0,
          "POST /v1/votes with TTL 0 withdraws the vote")
    r = pop53ctl("vote", "nosuch", "7", "healthy", "1000")
    check(r.returncode == 1 and "no policy check named 'nosuch'" in r.stdout,
          f"a vote on an unknown check is refused: {r.stdout.strip()}")
    r = pop53ctl("vote", "both", "7", "unhealthy", "1000")
    check(r.returncode == 1 and "calculated" in r.stdout,
          f"a vote on a calculated check is refused: {r.stdout.strip()}")


def snapshots(e1, e2):
    """Status lists the checks; a host-name target is refused; a snapshot
    with one more check moves the words and answers still follow."""
    r = pop53ctl("--json", "status")
    st = json.loads(r.stdout) if r.returncode == 0 else {}
    names = [(c["name"], c["kind"], c["healthy"]) for c in st.get("policy_checks", [])]
    check(names == [("primary", "http", False), ("secondary", "http", False),
                    ("both", "calculated", False)],
          f"pop53ctl status lists the checks with their state: {names}")
    r = pop53ctl("load", os.path.join(tmp, "s3.snap"))
    stored = os.path.join(tmp, "state", "current.snap")
    with open(os.path.join(tmp, "s3.snap"), "rb") as f:
        s3 = f.read()
    kept = not os.path.exists(stored) or open(stored, "rb").read() != s3
    check(r.returncode == 1 and "host name" in r.stdout and kept and
          json.loads(pop53ctl("--json", "status").stdout)["serial"] == 1,
          f"a snapshot whose check targets a host name is refused, not stored: "
          f"{r.stdout.strip()}")
    code, j = api("/v1/snapshot", "-T", os.path.join(tmp, "s3.snap"))
    check(code == 400 and j.get("error") == "corrupt" and "host name" in j.get("message", "")
          and j.get("serial") == 1, f"... and so is its push: {code} {j.get('error')}")
    r = pop53ctl("load", os.path.join(tmp, "s2.snap"))
    st = json.loads(pop53ctl("--json", "status").stdout)
    check(r.returncode == 0 and st["serial"] == 2 and st["policy_checks_total"] == 4,
          "a snapshot with a fourth check is served (4 checks run)")
    e1.start()
    e2.start()
    check(settle(["primary", "secondary", "extra"]) and
          answer("www.example.com") == ["127.0.0.10"],
          "after the swap the endpoints' recovery shows in answers")
    e1.stop()
    t = wait_for("the secondary answer", www_is("127.0.0.11"), GOAL_DOWN + 3)
    check(t is not None and t <= GOAL_DOWN,
          f"after the swap a death still moves answers ({t or -1:.2f} s)")


def main():
    e1, e2 = Endpoint(web1), Endpoint(web2)
    e1.start()
    e2.start()
    try:
        failover(e1, e2)
        all_down(e1, e2)
        snapshots(e1, e2)
    finally:
        e1.stop()
        e2.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
