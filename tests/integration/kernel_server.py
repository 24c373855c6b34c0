#!/usr/bin/python3
"""pop53d --io kernel against real sockets: UDP (IPv4, IPv6), TCP per
RFC 7766 (pipelining, split messages, idle timeout, connection limit),
truncation completed over TCP, garbage input, clean stop on SIGTERM.

usage: kernel_server.py POP53D ZONEFILE
"""
import os
import signal
import socket
import struct
import subprocess
import sys
import time

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def query(name, qtype, payload=None):
    q = dns.message.make_query(name, qtype, use_edns=payload is not None,
                               payload=payload or 512)
    q.flags &= ~dns.flags.RD
    return q


def tcp_frame(msg):
    wire = msg.to_wire()
    return struct.pack("!H", len(wire)) + wire


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def recv_msg(sock):
    head = recv_exact(sock, 2)
    if head is None:
        return None
    body = recv_exact(sock, struct.unpack("!H", head)[0])
    return dns.message.from_wire(body) if body is not None else None


def closed_by_peer(sock, within):
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def main():
    pop53d, zone = sys.argv[1], sys.argv[2]
    port = 30000 + os.getpid() % 20000
    proc = subprocess.Popen([pop53d, "--io", "kernel", "--listen", f"127.0.0.1@{port}",
                             "--listen", f"::1@{port}", "--zone", zone, "--udp-threads", "2",
                             "--tcp-idle-ms", "1000", "--tcp-max-conns", "4"],
                            stderr=subprocess.PIPE, text=True)
    try:
        run(port)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = None
        check(rc == 0, f"pop53d exits 0 within 5 s of SIGTERM (got {rc})")
        if failures:
            print(proc.stderr.read())
    print(f"kernel_server: {len(failures)} failures")
    return 1 if failures else 0


def wait_ready(port):
    for _ in range(100):
        try:
            dns.query.udp(query("diff.test.", "SOA"), "127.0.0.1", port=port, timeout=0.2)
            return True
        except Exception:
            time.sleep(0.05)
    return False


def run(port):
    check(wait_ready(port), "pop53d answers the SOA over UDP")
    r = dns.query.udp(query("www.diff.test.", "A"), "127.0.0.1", port=port, timeout=2)
    check(r.rcode() == dns.rcode.NOERROR and r.flags & dns.flags.AA and
          r.answer and r.answer[0][0].to_text() == "192.0.2.80", "UDP over IPv4: A answer, AA")
    r = dns.query.udp(query("www.diff.test.", "AAAA", 1232), "::1", port=port, timeout=2)
    check(r.answer and r.answer[0][0].to_text() == "2001:db8::80" and r.edns == 0,
          "UDP over IPv6 with EDNS: AAAA answer, OPT echoed")

    # Pipelining: three queries in one write, three answers in order.
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    qs = [query("www.diff.test.", "A"), query("nothere.diff.test.", "A"),
          query("mail.diff.test.", "AAAA")]
    s.sendall(b"".join(tcp_frame(q) for q in qs))
    rs = [recv_msg(s) for _ in qs]
    check(all(r is not None for r in rs) and [r.id for r in rs] == [q.id for q in qs],
          "TCP: three pipelined queries answered in order on one connection")
    check(rs[1] is not None and rs[1].rcode() == dns.rcode.NXDOMAIN, "TCP: NXDOMAIN")
    # A message split across writes, the length prefix itself split too.
    frame = tcp_frame(query("ns1.diff.test.", "A"))
    for part in (frame[:1], frame[1:7], frame[7:]):
        s.sendall(part)
        time.sleep(0.05)
    r = recv_msg(s)
    check(r is not None and r.answer and r.answer[0][0].to_text() == "192.0.2.1",
          "TCP: a query split over three writes is answered")
    # Truncated over UDP, complete over TCP.
    u = dns.query.udp(query("big.diff.test.", "TXT"), "127.0.0.1", port=port, timeout=2)
    s.sendall(tcp_frame(query("big.diff.test.", "TXT")))
    t = recv_msg(s)
    check(u.flags & dns.flags.TC and not u.answer, "UDP without EDNS: large RRset sets TC")
    check(t is not None and not t.flags & dns.flags.TC and len(t.answer[0]) == 8,
          "TCP: the same RRset arrives whole (8 TXT records)")
    check(closed_by_peer(s, 3.0), "TCP: idle connection closed after the idle timeout")
    s.close()

    # Connection limit: four are served, the fifth is closed at once.
    conns = [socket.create_connection(("127.0.0.1", port), timeout=3) for _ in range(4)]
    time.sleep(0.2)
    fifth = socket.create_connection(("127.0.0.1", port), timeout=3)
    check(closed_by_peer(fifth, 0.8), "TCP: a fifth connection over the limit of 4 is closed")
    conns[0].sendall(tcp_frame(query("www.diff.test.", "A")))
    check(recv_msg(conns[0]) is not None, "TCP: connections within the limit are served")
    for c in conns + [fifth]:
        c.close()
    time.sleep(0.2)
    s = socket.create_connection(("::1", port), timeout=3)
    s.sendall(tcp_frame(query("www.diff.test.", "AAAA")))
    r = recv_msg(s)
    check(r is not None and r.answer, "TCP over IPv6 after the others closed: answered")
    s.close()

    # Garbage must not stop the server.
    g = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for blob in (b"", b"\x00", os.urandom(11), os.urandom(12), os.urandom(600),
                 b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01"):
        g.sendto(blob, ("127.0.0.1", port))
    g.close()
    r = dns.query.udp(query("www.diff.test.", "A"), "127.0.0.1", port=port, timeout=2)
    check(r.answer, "UDP: still answering after garbage packets")
    udp_batch(port)


def udp_batch(port):
    """Queries sent back to back are received and answered in batches
    (recvmmsg, one engine burst): every query gets its own answer, to its
    own socket, and a response-flagged packet among them (dropped) does
    not shift the answers after it."""
    names = [("www", "A"), ("mail", "AAAA"), ("nothere", "A"), ("c1", "A"),
             ("ns1", "A"), ("x.deleg", "A"), ("www", "TXT"), ("mail", "A")]
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in names]
    sent = {}
    for rnd in range(2):
        for k, (s, (n, t)) in enumerate(zip(socks, names)):
            q = query(f"{n}.diff.test.", t)
            sent.setdefault(k, []).append(q)
            s.sendto(q.to_wire(), ("127.0.0.1", port))
            wire = bytearray(q.to_wire())
            wire[2] |= 0x80     # QR=1: a response, never answered
            s.sendto(bytes(wire), ("127.0.0.1", port))
    ok, extra = True, False
    for k, s in enumerate(socks):
        s.settimeout(2)
        for q in sent[k]:
            try:
                r = dns.message.from_wire(s.recv(65535))
            except (socket.timeout, dns.exception.DNSException):
                ok = False
                break
            if r.id != q.id or r.question != q.question:
                ok = False
        s.settimeout(0.3)
        try:
            s.recv(65535)
            extra = True
        except socket.timeout:
            pass
        s.close()
    check(ok, "UDP: 16 queries from 8 sockets sent back to back, each answered on its own socket")
    check(not extra, "UDP: no answer to the 16 response-flagged packets between them")


if __name__ == "__main__":
    sys.exit(main())
