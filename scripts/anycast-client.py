#!/usr/bin/python3
"""A client of the anycast address for scripts/demo.sh and
tests/integration/anycast.sh.

  run SERVER SECONDS RATE OUT   send RATE queries/s (www.example.com A, with
                                the NSID option) to SERVER for SECONDS, each
                                with its own ID, without waiting for answers;
                                write one line per query to OUT:
                                "send_ms answered(0|1) nsid" (answered: within
                                500 ms)
  gaps OUT EVENTS               for each "NAME ms" line of EVENTS, the
                                unanswered stretch after it: from the first
                                query lost at or after the event to the next
                                answered one; prints "NAME gap_ms lost from->to"
"""
import socket
import sys
import threading
import time

import dns.edns
import dns.message
import dns.rdatatype

LATE_MS = 500   # an answer later than this counts as lost


def run(server, seconds, rate, out):
    fam = socket.AF_INET6 if ":" in server else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    sent, got, nsid = {}, {}, {}
    stop = threading.Event()

    def receive():
        while not stop.is_set():
            try:
                data = s.recv(4096)
            except socket.timeout:
                continue
            try:
                m = dns.message.from_wire(data)
            except Exception:
                continue
            if m.id in sent and m.id not in got and m.answer:
                # late answers (a stalled server's backlog) count as lost
                got[m.id] = int(int(time.time() * 1000) - sent[m.id] <= LATE_MS)
                for o in m.options:
                    if o.otype == dns.edns.NSID:
                        nsid[m.id] = o.data.decode(errors="replace")

    t = threading.Thread(target=receive, daemon=True)
    t.start()
    start = time.monotonic()
    step = 1.0 / rate
    i = 0
    while True:
        now = time.monotonic()
        if now - start >= seconds:
            break
        q = dns.message.make_query("www.example.com", dns.rdatatype.A,
                                   use_edns=0, options=[dns.edns.GenericOption(dns.edns.NSID, b"")])
        q.id = i % 65536
        sent[q.id] = int(time.time() * 1000)
        try:
            s.sendto(q.to_wire(), (server, 53))
        except OSError:
            pass
        i += 1
        # IDs are reused after 65536 queries: keep the run short enough
        if i % 65536 == 0:
            got.clear()
        next_t = start + i * step
        time.sleep(max(0.0, next_t - time.monotonic()))
    time.sleep(0.5)
    stop.set()
    t.join()
    with open(out, "w") as f:
        for qid, ms in sorted(sent.items(), key=lambda x: x[1]):
            f.write(f"{ms} {got.get(qid, 0)} {nsid.get(qid, '-')}\n")


def gaps(out, events):
    rows = []
    with open(out) as f:
        for line in f:
            ms, ok, who = line.split()
            rows.append((int(ms), int(ok), who))
    ev = []
    with open(events) as f:
        for line in f:
            name, t = line.split()
            ev.append((name, int(t)))
    # each event's window ends where the next begins
    for n, (name, t) in enumerate(ev):
        end = ev[n + 1][1] if n + 1 < len(ev) else float("inf")
        win = [r for r in rows if t <= r[0] < end]
        lost = [k for k, r in enumerate(win) if not r[1]]
        before = [r for r in rows if r[0] < t and r[1]]
        first_who = before[-1][2] if before else "-"
        if not lost:
            print(f"{name} 0 0 {first_who} {win[0][2] if win else '-'}")
            continue
        k0 = lost[0]
        k1 = next((k for k in range(k0, len(win)) if win[k][1]), None)
        prev = win[k0 - 1][2] if k0 else first_who
        if k1 is None:
            print(f"{name} {win[-1][0] - win[k0][0]} {len(win) - k0} {prev} never")
            continue
        print(f"{name} {win[k1][0] - win[k0][0]} {k1 - k0} {prev} {win[k1][2]}")


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == "gaps":
        gaps(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
