#!/usr/bin/python3
"""rrl_flood.py — the clients of tests/integration/rrl_flood.sh (and of
bench/rrl-bench.sh's amplification figure), run inside the client
namespace. Everything is bounded in time.

  flood    spoofed queries from many addresses of FLOOD_NET (a /24), sent as
           raw Ethernet frames on IFACE (AF_PACKET) at RATE per second for
           SECONDS, all for one name with a large answer (the reflection
           attack); the answers to them are captured on IFACE and counted
           (frames and bytes, full answers vs truncated).
  legit    a resolver on LEGIT_ADDR (another prefix) asking NAMES distinct
           names, spread over the flood, one try each plus one retry.
  cookie   a client on COOKIE_ADDR, inside the flood's /24, asking the
           flooded name: first it learns a server cookie (any response
           carries one, BADCOOKIE included), then it asks COOKIE_N times with
           it: none may be dropped or truncated.
  control  the same client without a cookie, asking the flooded name: it
           shares the flood's account and must see limiting.

Prints one JSON object with the counts.
"""
import argparse
import json
import os
import random
import select
import socket
import struct
import threading
import time

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def qname(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"


def query(qid, name, qtype, cookie=None, edns=True):
    """A DNS query; cookie: the COOKIE option's bytes (client [+ server])."""
    ar = 1 if edns else 0
    msg = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, ar) + qname(name) + struct.pack("!HH", qtype, 1)
    if edns:
        opt = b""
        if cookie is not None:
            opt = struct.pack("!HH", 10, len(cookie)) + cookie
        msg += b"\0" + struct.pack("!HHIH", 41, 1232, 0, len(opt)) + opt
    return msg


def frame(src_mac, dst_mac, src, dst, sport, dport, payload):
    udp_len = 8 + len(payload)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    c = csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, random.randrange(65536), 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return dst_mac + src_mac + struct.pack("!H", ETH_P_IP) + ip + udp


def mac(text):
    return bytes(int(x, 16) for x in text.split(":"))


def resp_cookie(msg):
    """The COOKIE option of a response's OPT, or None."""
    try:
        qd, an, ns, ar = struct.unpack("!HHHH", msg[4:12])
        pos = 12
        for _ in range(qd):
            while msg[pos]:
                pos += 1 + msg[pos]
            pos += 5
        for _ in range(an + ns + ar):
            while msg[pos] and msg[pos] < 0xC0:
                pos += 1 + msg[pos]
            pos += 2 if msg[pos] >= 0xC0 else 1
            rtype, _, _, rdlen = struct.unpack("!HHIH", msg[pos:pos + 10])
            pos += 10
            if rtype == 41:
                rd, p = msg[pos:pos + rdlen], 0
                while p + 4 <= len(rd):
                    code, olen = struct.unpack("!HH", rd[p:p + 4])
                    if code == 10:
                        return rd[p + 4:p + 4 + olen]
                    p += 4 + olen
            pos += rdlen
    except (IndexError, struct.error):
        return None
    return None


class Capture(threading.Thread):
    """Answers from SERVICE:53 to the flood's /24 (not COOKIE_ADDR)."""

    def __init__(self, iface, service, flood_net, skip):
        super().__init__(daemon=True)
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
        self.s.bind((iface, 0))
        self.service = socket.inet_aton(service)
        self.net = socket.inet_aton(flood_net)[:3]
        self.skip = socket.inet_aton(skip)
        self.frames = self.bytes = self.tc = self.full = self.badcookie = 0
        self.running = True

    def run(self):
        while self.running:
            r, _, _ = select.select([self.s], [], [], 0.1)
            if not r:
                continue
            data, addr = self.s.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING or len(data) < 14 + 20 + 8 + 12:
                continue
            ip = data[14:]
            if ip[9] != 17 or ip[12:16] != self.service or ip[16:19] != self.net or ip[16:20] == self.skip:
                continue
            ihl = (ip[0] & 15) * 4
            if struct.unpack("!H", ip[ihl:ihl + 2])[0] != 53:
                continue
            dns = ip[ihl + 8:]
            self.frames += 1
            self.bytes += len(data)
            if dns[2] & 0x02:
                self.tc += 1
            elif (dns[3] & 15) == 7:
                self.badcookie += 1
            else:
                self.full += 1


def flood(args, stats):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((args.iface, 0))
    src_mac, dst_mac = mac(args.src_mac), mac(args.dst_mac)
    base = args.flood_net.rsplit(".", 1)[0]
    hosts = [h for h in range(1, 255) if "%s.%d" % (base, h) != args.cookie_addr]
    frames = []
    for i in range(512):
        src = "%s.%d" % (base, hosts[i % len(hosts)])
        frames.append(frame(src_mac, dst_mac, src, args.service, 1024 + i, 53,
                            query(i, args.flood_name, 16)))
    t0 = time.monotonic()
    sent = nbytes = 0
    batch = max(1, args.rate // 100)
    while True:
        now = time.monotonic() - t0
        if now >= args.seconds:
            break
        due = int(now * args.rate) + batch
        while sent < due:
            f = frames[sent % len(frames)]
            s.send(f)
            sent += 1
            nbytes += len(f)
        time.sleep(0.01)
    stats["flood_sent"] = sent
    stats["flood_bytes_in"] = nbytes
    stats["flood_seconds"] = round(time.monotonic() - t0, 2)


def ask(sock, q, timeout):
    sock.send(q)
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            return None
        msg = sock.recv(65535)
        if msg[:2] == q[:2]:
            return msg


def legit(args, stats):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((args.legit_addr, 0))
    s.connect((args.service, 53))
    first = answered = 0
    gap = args.legit_seconds / args.names
    for i in range(args.names):
        q = query(random.randrange(65536), "h%d.%s" % (i + 1, args.zone), 1)
        for attempt in range(2):
            r = ask(s, q, 1.0)
            if r and not (r[2] & 0x02) and (r[3] & 15) == 0 and struct.unpack("!H", r[6:8])[0] >= 1:
                answered += 1
                first += attempt == 0
                break
        time.sleep(gap)
    stats["legit_asked"] = args.names
    stats["legit_answered"] = answered
    stats["legit_first_try"] = first


def cookie_client(args, stats):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((args.cookie_addr, 0))
    s.connect((args.service, 53))
    cc = os.urandom(8)
    server = None
    for _ in range(40):          # learn a server cookie (bounded)
        r = ask(s, query(random.randrange(65536), args.flood_name, 16, cc), 0.5)
        ck = resp_cookie(r) if r else None
        if ck and len(ck) == 24 and ck[:8] == cc:
            server = ck[8:]
            # how it was learned: 0 an answer, 7 BADCOOKIE (a slip), "TC"
            stats["cookie_learned_from"] = "TC" if r[2] & 0x02 else r[3] & 15
            break
    stats["cookie_learned"] = server is not None
    ok = bad = 0
    for _ in range(args.cookie_n if server else 0):
        r = ask(s, query(random.randrange(65536), args.flood_name, 16, cc + server), 1.0)
        if r and not (r[2] & 0x02) and (r[3] & 15) == 0 and struct.unpack("!H", r[6:8])[0] >= 1:
            ok += 1
            ck = resp_cookie(r)
            if ck and len(ck) == 24:
                server = ck[8:]
        else:
            bad += 1
        time.sleep(0.05)
    stats["cookie_asked"] = args.cookie_n
    stats["cookie_answered"] = ok
    # the control: no cookie, same address and name: limited like the flood
    full = 0
    for _ in range(args.cookie_n):
        r = ask(s, query(random.randrange(65536), args.flood_name, 16, None), 0.3)
        if r and not (r[2] & 0x02) and (r[3] & 15) == 0:
            full += 1
        time.sleep(0.05)
    stats["control_asked"] = args.cookie_n
    stats["control_full_answers"] = full


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iface", required=True)
    p.add_argument("--src-mac", required=True)
    p.add_argument("--dst-mac", required=True)
    p.add_argument("--service", required=True)
    p.add_argument("--zone", default="example.com")
    p.add_argument("--flood-net", default="203.0.113.0")
    p.add_argument("--flood-name", default="big.example.com")
    p.add_argument("--rate", type=int, default=2000)
    p.add_argument("--seconds", type=float, default=6)
    p.add_argument("--legit-addr")
    p.add_argument("--names", type=int, default=200)
    p.add_argument("--cookie-addr", default="")
    p.add_argument("--cookie-n", type=int, default=20)
    args = p.parse_args()
    args.legit_seconds = max(1.0, args.seconds - 1.5)
    stats = {}
    cap = Capture(args.iface, args.service, args.flood_net, args.cookie_addr or "0.0.0.0")
    cap.start()
    threads = [threading.Thread(target=flood, args=(args, stats))]
    if args.legit_addr:
        threads.append(threading.Thread(target=legit, args=(args, stats)))
    if args.cookie_addr:
        threads.append(threading.Thread(target=cookie_client, args=(args, stats)))
    threads[0].start()
    time.sleep(0.5)              # the flood first: the accounts are in debt
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(args.seconds + 60)
    time.sleep(0.5)              # the last answers
    cap.running = False
    cap.join(2)
    stats.update(flood_frames_out=cap.frames, flood_bytes_out=cap.bytes, flood_full=cap.full,
                 flood_tc=cap.tc, flood_badcookie=cap.badcookie)
    stats["amplification"] = round(cap.bytes / stats["flood_bytes_in"], 3) if stats.get("flood_bytes_in") else None
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
