#!/usr/bin/python3
"""mkmmdb.py -- write a small MaxMind DB (format 2.0) for tests.

Usage: mkmmdb.py [--record-size 24|28|32] [--ip-version 4|6] [--no-aliases] IN.json OUT.mmdb

IN.json is either a list of networks or an object
  {"ip_version": 6, "record_size": 28, "ipv4_aliases": true,
   "database_type": "pop53-test", "networks": [...]}
where each network is
  {"network": "192.0.2.0/24", "continent": "EU", "country": "FR",
   "subdivision": "IDF", "registered_country": "DE",
   "latitude": 48.86, "longitude": 2.35}
(every key but "network" optional) and becomes a GeoIP2-shaped record:
  {continent: {code, geoname_id}, country: {iso_code, geoname_id},
   registered_country: {iso_code}, subdivisions: [{iso_code}],
   location: {accuracy_radius (uint16), latitude (double), longitude (double)}}.
"data_padding": N puts N unreferenced bytes at the start of the data section
(to make record values need more than 24 bits). A network may instead give its record as "data" (any JSON; integers are
uint32 unless written {"$uint16": n}, {"$uint64": n} or {"$int32": n};
{"$double": x} for a double).

In an IPv6 database, IPv4 networks live at ::/96; with aliases (the
default) ::ffff:0:0/96 and 2002::/16 point at the same IPv4 subtree, as
MaxMind's own databases do. Strings that repeat are written once and
pointed to, and identical records are shared, so readers meet pointers.
"""
import argparse
import ipaddress
import json
import struct
import sys
import time

MARKER = b"\xab\xcd\xefMaxMind.com"


class Node:
    __slots__ = ("rec",)

    def __init__(self, left=None, right=None):
        self.rec = [left, right]


class Data:
    """A record value in the data section (by offset)."""
    __slots__ = ("off",)

    def __init__(self, off):
        self.off = off


# ---- data section encoding ------------------------------------------------

def ctrl(typ, size):
    """Control bytes for type typ with payload size (or pair count) size."""
    if size < 29:
        first, extra = size, b""
    elif size < 285:
        first, extra = 29, bytes([size - 29])
    elif size < 65821:
        first, extra = 30, (size - 285).to_bytes(2, "big")
    else:
        first, extra = 31, (size - 65821).to_bytes(3, "big")
    if typ <= 7:
        return bytes([(typ << 5) | first]) + extra
    return bytes([first, typ - 7]) + extra


def pointer(p):
    if p < 2048:
        return bytes([0x20 | (p >> 8), p & 0xFF])
    if p < 2048 + (1 << 19):
        q = p - 2048
        return bytes([0x20 | (1 << 3) | (q >> 16)]) + (q & 0xFFFF).to_bytes(2, "big")
    if p < 526336 + (1 << 27):
        q = p - 526336
        return bytes([0x20 | (2 << 3) | (q >> 24)]) + (q & 0xFFFFFF).to_bytes(3, "big")
    return bytes([0x20 | (3 << 3)]) + p.to_bytes(4, "big")


def uint_bytes(v):
    return v.to_bytes((v.bit_length() + 7) // 8, "big") if v else b""


class DataWriter:
    def __init__(self, pointers=True):
        self.pointers = pointers
        self.buf = bytearray()
        self.strings = {}     # text -> offset of its first encoding
        self.records = {}     # canonical JSON -> offset

    def enc(self, v, out):
        """Append the encoding of v to out (a bytearray placed at self.buf's end)."""
        if isinstance(v, bool):
            out += ctrl(14, int(v))
        elif isinstance(v, str):
            here = len(self.buf) + len(out)
            if self.pointers and v in self.strings and len(v) >= 2:
                out += pointer(self.strings[v])
                return
            raw = v.encode()
            self.strings.setdefault(v, here)
            out += ctrl(2, len(raw)) + raw
        elif isinstance(v, int):
            if v < 0 or v >= 1 << 32:
                raise ValueError("integer %d: write {\"$uint64\": n} or {\"$int32\": n}" % v)
            out += ctrl(6, len(uint_bytes(v))) + uint_bytes(v)
        elif isinstance(v, float):
            out += ctrl(3, 8) + struct.pack(">d", v)
        elif isinstance(v, list):
            out += ctrl(11, len(v))
            for x in v:
                self.enc(x, out)
        elif isinstance(v, dict) and len(v) == 1 and next(iter(v)).startswith("$"):
            self.enc_typed(next(iter(v)), next(iter(v.values())), out)
        elif isinstance(v, dict):
            out += ctrl(7, len(v))
            for k, x in v.items():
                self.enc(str(k), out)
                self.enc(x, out)
        else:
            raise ValueError("cannot encode %r" % (v,))

    def enc_typed(self, tag, v, out):
        if tag == "$uint16":
            out += ctrl(5, len(uint_bytes(v))) + uint_bytes(v)
        elif tag == "$uint64":
            out += ctrl(9, len(uint_bytes(v))) + uint_bytes(v)
        elif tag == "$int32":
            b = struct.pack(">i", v).lstrip(b"\x00") if v >= 0 else struct.pack(">i", v)
            out += ctrl(8, len(b)) + b
        elif tag == "$double":
            out += ctrl(3, 8) + struct.pack(">d", float(v))
        else:
            raise ValueError("unknown tag " + tag)

    def record(self, v):
        key = json.dumps(v, sort_keys=True)
        if key not in self.records:
            out = bytearray()
            self.enc(v, out)
            self.records[key] = len(self.buf)
            self.buf += out
        return self.records[key]


def geo_record(n):
    rec = {}
    if n.get("continent"):
        rec["continent"] = {"code": n["continent"], "geoname_id": 6255148}
    if n.get("country"):
        rec["country"] = {"iso_code": n["country"], "geoname_id": 3017382}
    if n.get("registered_country"):
        rec["registered_country"] = {"iso_code": n["registered_country"]}
    if n.get("subdivision"):
        rec["subdivisions"] = [{"iso_code": n["subdivision"]}]
    rec["location"] = {"accuracy_radius": {"$uint16": 100}}
    for k in ("latitude", "longitude"):   # doubles, as GeoIP2 City has them
        if k in n:
            rec["location"][k] = {"$double": n[k]}
    return rec


# ---- search tree ----------------------------------------------------------

def bits_of(net, ip_version):
    """The network's address bits as a list, in the database's address space."""
    if net.version == 4 and ip_version == 6:
        return [0] * 96 + bits_of(net, 4)
    width = 32 if net.version == 4 else 128
    a = int(net.network_address)
    return [(a >> (width - 1 - i)) & 1 for i in range(net.prefixlen)]


def place(root, bits, value):
    """Set the record at path bits to value, splitting leaves on the way."""
    if not bits:
        root.rec = [value, value]
        return
    node = root
    for b in bits[:-1]:
        child = node.rec[b]
        if not isinstance(child, Node):
            child = Node(child, child)
            node.rec[b] = child
        node = child
    node.rec[bits[-1]] = value


def number(root):
    """Depth-first numbering, each node once even when aliased."""
    order, seen, stack = [], set(), [root]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        order.append(n)
        for c in reversed(n.rec):
            if isinstance(c, Node):
                stack.append(c)
    return order, {id(n): i for i, n in enumerate(order)}


def pack_node(left, right, rs):
    if rs == 24:
        return left.to_bytes(3, "big") + right.to_bytes(3, "big")
    if rs == 28:
        mid = ((left >> 24) << 4) | (right >> 24)
        return (left & 0xFFFFFF).to_bytes(3, "big") + bytes([mid]) + \
            (right & 0xFFFFFF).to_bytes(3, "big")
    if rs == 32:
        return left.to_bytes(4, "big") + right.to_bytes(4, "big")
    raise ValueError("record size must be 24, 28 or 32")


def build(spec):
    ipv = spec.get("ip_version", 6)
    rs = spec.get("record_size", 28)
    dw = DataWriter()
    pad = spec.get("data_padding", 0)
    while pad > 0:   # unreferenced strings: pushes records' offsets past 2^24
        n = min(pad, 16000000)
        dw.buf += ctrl(2, n) + b"p" * n
        pad -= n
    root = Node()
    nets = []
    for n in spec["networks"]:
        net = ipaddress.ip_network(n["network"], strict=True)
        if ipv == 4 and net.version == 6:
            raise ValueError("%s in an IPv4 database" % net)
        data = n["data"] if "data" in n else geo_record(n)
        nets.append((len(bits_of(net, ipv)), bits_of(net, ipv), data))
    nets.sort(key=lambda x: x[0])   # containing networks first: nested ones split them
    for _, bits, data in nets:
        place(root, bits, Data(dw.record(data)))
    if ipv == 6 and spec.get("ipv4_aliases", True):
        node = root   # make sure ::/96 is a node: the IPv4 subtree's root
        for b in [0] * 96:
            if not isinstance(node.rec[b], Node):
                node.rec[b] = Node(node.rec[b], node.rec[b])
            node = node.rec[b]
        place(root, [0] * 80 + [1] * 16, node)                               # ::ffff:0:0/96
        place(root, [(0x2002 >> (15 - i)) & 1 for i in range(16)], node)    # 2002::/16
    order, index = number(root)
    count = len(order)

    def rec_value(r):
        if r is None:
            return count
        if isinstance(r, Node):
            return index[id(r)]
        return count + 16 + r.off

    tree = bytearray()
    for n in order:
        left, right = rec_value(n.rec[0]), rec_value(n.rec[1])
        if max(left, right) >= 1 << rs:
            raise ValueError("record size %d too small" % rs)
        tree += pack_node(left, right, rs)
    meta = DataWriter(pointers=False)
    m = bytearray()
    meta.enc({
        "binary_format_major_version": {"$uint16": 2},
        "binary_format_minor_version": {"$uint16": 0},
        "build_epoch": {"$uint64": int(spec.get("build_epoch", time.time()))},
        "database_type": spec.get("database_type", "pop53-test"),
        "description": {"en": "pop53 test database"},
        "ip_version": {"$uint16": ipv},
        "languages": ["en"],
        "node_count": count,
        "record_size": {"$uint16": rs},
    }, m)
    return bytes(tree) + bytes(16) + bytes(dw.buf) + MARKER + bytes(m)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--record-size", type=int, choices=(24, 28, 32))
    ap.add_argument("--ip-version", type=int, choices=(4, 6))
    ap.add_argument("--no-aliases", action="store_true")
    ap.add_argument("input")
    ap.add_argument("output")
    a = ap.parse_args()
    with open(a.input) as f:
        spec = json.load(f)
    if isinstance(spec, list):
        spec = {"networks": spec}
    if a.record_size:
        spec["record_size"] = a.record_size
    if a.ip_version:
        spec["ip_version"] = a.ip_version
    if a.no_aliases:
        spec["ipv4_aliases"] = False
    try:
        blob = build(spec)
    except (ValueError, KeyError) as e:
        print("mkmmdb: %s" % e, file=sys.stderr)
        return 1
    with open(a.output, "wb") as f:
        f.write(blob)
    return 0


if __name__ == "__main__":
    sys.exit(main())
