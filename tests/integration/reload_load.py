#!/usr/bin/python3
"""UDP query flood for reload_under_load.sh: bounded in time and rate.

usage: reload_load.py ADDR PORT SECONDS RATE ZONE

Sends RATE queries per second for SECONDS (or until SIGTERM/SIGINT, which
end the sending phase) over 4 sockets, alternating
  ZONE SOA          -> the answer's SOA serial, and
  q.ZONE TXT        -> q CNAME t<serial>.ZONE, t<serial> TXT "<serial>";
the CNAME target and the TXT text come from one snapshot or the answer is
a "mixture". Waits 1 s for late answers, then prints one line of
key=value counters (sent, received, malformed, mixture, servfail, other
rcodes, unexpected ids, serial min/max/distinct) and the serials seen, in
first-seen order, on a second line. Parsing is done by hand: this runs at
several thousand queries per second on one core.
"""
import select
import signal
import socket
import struct
import sys
import time


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def skip_name(msg, off):
    while True:
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n


def read_name(msg, off):
    labels, jumps = [], 0
    while True:
        n = msg[off]
        if n == 0:
            return ".".join(labels).lower()
        if n & 0xC0 == 0xC0:
            off = ((n & 0x3F) << 8) | msg[off + 1]
            jumps += 1
            if jumps > 20:
                raise ValueError("pointer loop")
            continue
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n


def parse(msg, qid, kind):
    """Returns (rcode, serial or None, mixture flag); raises on bad wire."""
    if len(msg) < 12:
        raise ValueError("short")
    rid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    if rid != qid or not flags & 0x8000 or qd != 1:
        raise ValueError("header")
    rcode = flags & 0xF
    off = skip_name(msg, 12) + 4
    rrs = []
    for _ in range(an):
        name = read_name(msg, off)
        off = skip_name(msg, off)
        rtype, _cls, _ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        rrs.append((name, rtype, off, rdlen))
        off += rdlen
        if off > len(msg):
            raise ValueError("rdata past the end")
    if rcode != 0:
        return rcode, None, False
    if kind == 0:   # SOA
        soa = [r for r in rrs if r[1] == 6]
        if len(soa) != 1:
            raise ValueError("no SOA")
        o = soa[0][2]
        o = skip_name(msg, skip_name(msg, o))
        return 0, struct.unpack("!I", msg[o:o + 4])[0], False
    cname = [r for r in rrs if r[1] == 5]
    txt = [r for r in rrs if r[1] == 16]
    if len(cname) != 1 or len(txt) != 1:
        raise ValueError("no CNAME+TXT")
    target = read_name(msg, cname[0][2])
    o = txt[0][2]
    text = msg[o + 1:o + 1 + msg[o]].decode("ascii", "replace")
    label = target.split(".")[0]
    if not label.startswith("t") or label[1:] != text or txt[0][0] != target:
        return 0, None, True
    return 0, int(text), False


def main():
    addr, port, seconds, rate, zone = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
        int(sys.argv[4]), sys.argv[5]
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    socks = []
    for _ in range(4):
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.setblocking(False)
        s.connect((addr, port))
        socks.append(s)
    qnames = [encode_name(zone), encode_name("q." + zone)]
    qtypes = [6, 16]
    pending = {}     # (sock index, id) -> kind
    c = dict(sent=0, received=0, malformed=0, mixture=0, servfail=0, rcode_other=0,
             unexpected=0, send_errors=0)
    serials, order = {}, []
    poller = select.epoll()
    for i, s in enumerate(socks):
        poller.register(s.fileno(), select.EPOLLIN)
    fd2i = {s.fileno(): i for i, s in enumerate(socks)}

    def drain(i):
        s = socks[i]
        while True:
            try:
                msg = s.recv(4096)
            except BlockingIOError:
                return
            qid = struct.unpack("!H", msg[:2])[0] if len(msg) >= 2 else -1
            kind = pending.pop((i, qid), None)
            if kind is None:
                c["unexpected"] += 1
                continue
            c["received"] += 1
            try:
                rcode, serial, mixed = parse(msg, qid, kind)
            except (ValueError, IndexError, struct.error, UnicodeError):
                c["malformed"] += 1
                continue
            if mixed:
                c["mixture"] += 1
            elif rcode == 2:
                c["servfail"] += 1
            elif rcode != 0:
                c["rcode_other"] += 1
            elif serial is not None:
                if serial not in serials:
                    serials[serial] = 0
                    order.append(serial)
                serials[serial] += 1

    start = time.monotonic()
    end = start + seconds

    def stop(_sig, _frame):
        nonlocal end
        end = time.monotonic()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    seq = 0
    tick = 0.002                     # send in small bursts every 2 ms
    per_tick = max(1, int(rate * tick))
    next_t = start
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if now >= next_t:
            for _ in range(per_tick):
                i = seq % len(socks)
                qid = (seq // len(socks)) & 0xFFFF
                kind = (seq // len(socks)) & 1
                wire = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + qnames[kind] + \
                    struct.pack("!HH", qtypes[kind], 1)
                if (i, qid) in pending:      # 16-bit ids wrapped: an old one is lost
                    del pending[(i, qid)]
                try:
                    socks[i].send(wire)
                    pending[(i, qid)] = kind
                    c["sent"] += 1
                except (BlockingIOError, ConnectionRefusedError):
                    c["send_errors"] += 1
                seq += 1
            next_t += tick
        try:
            events = poller.poll(max(0.0, min(next_t, end) - time.monotonic()))
        except InterruptedError:
            continue
        for fd, _ev in events:
            drain(fd2i[fd])
    late = time.monotonic() + 1.0
    while pending and time.monotonic() < late:
        for fd, _ev in poller.poll(0.05):
            drain(fd2i[fd])
    c["lost"] = c["sent"] - c["received"]
    c["elapsed"] = round(time.monotonic() - start, 2)
    if serials:
        c["serial_min"], c["serial_max"], c["serials"] = min(serials), max(serials), len(serials)
    print(" ".join("%s=%s" % kv for kv in c.items()))
    print(" ".join(str(s) for s in order))
    return 0


if __name__ == "__main__":
    sys.exit(main())
