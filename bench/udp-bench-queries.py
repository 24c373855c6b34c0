#!/usr/bin/env python3
"""Make a dnsperf query file ("NAME TYPE" per line) from a zone file.

The zone is read as bench/gen-zone.py writes it: one record per line,
owner names explicit (relative to $ORIGIN, or "@", or absolute), no
$GENERATE or $INCLUDE, no multi-line records. The mix, by share of lines:

    36 %  A      on names that have A           (positive)
    24 %  AAAA   on names that have AAAA        (positive)
     5 %  MX     on names that have MX          (positive, additional A)
     5 %  TXT    on names that have TXT         (positive)
    14 %  NODATA: a type the name lacks (MX/TXT/AAAA/A), or A/AAAA at an
                  empty non-terminal (e.g. eu.ORIGIN)
    12 %  NXDOMAIN: names that do not exist (no "-" in their first label,
                  so they can never collide with gen-zone.py names), at
                  the apex level, under an empty non-terminal, or below
                  an existing name
     4 %  apex and infrastructure: SOA, NS at the apex, A/AAAA of ns1/ns2

Lines are shuffled; the same --seed gives the same file. --expect writes
the expected shares as "key value" lines (nxdomain, nodata, positive).

Usage: udp-bench-queries.py ZONEFILE [-n LINES] [--seed N] [-o FILE]
                            [--expect FILE]
"""
import argparse
import random
import sys

MIX = (  # (kind, percent); the sum is 100
    ("A", 36), ("AAAA", 24), ("MX", 5), ("TXT", 5),
    ("NODATA", 14), ("NXDOMAIN", 12), ("APEX", 4),
)


def read_zone(path):
    origin = None
    types = {}          # absolute owner -> set of types
    with open(path, encoding="ascii") as f:
        for line in f:
            line = line.split(";", 1)[0].strip() if '"' not in line else line.strip()
            if not line or line.startswith(";"):
                continue
            if line.startswith("$ORIGIN"):
                origin = line.split()[1].lower()
                continue
            if line.startswith("$"):
                continue
            if line[0].isspace():
                continue
            parts = line.split()
            if len(parts) < 3:
                continue
            owner = parts[0].lower()
            if owner == "@":
                owner = origin
            elif not owner.endswith("."):
                owner = owner + "." + origin
            # owner [ttl] [class] type ...
            rest = parts[1:]
            while rest and (rest[0].isdigit() or rest[0].upper() in ("IN", "CH", "HS")):
                rest = rest[1:]
            if not rest:
                continue
            types.setdefault(owner, set()).add(rest[0].upper())
    if origin is None:
        sys.exit("udp-bench-queries: no $ORIGIN in " + path)
    return origin, types


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("zone")
    ap.add_argument("-n", "--lines", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=5353)
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--expect", help="write expected shares (percent) here")
    args = ap.parse_args()

    origin, types = read_zone(args.zone)
    rng = random.Random(args.seed)
    apex = origin
    by_type = {t: sorted(n for n, ts in types.items() if t in ts and n != apex)
               for t in ("A", "AAAA", "MX", "TXT")}
    data = sorted(n for n in types if n != apex)
    # empty non-terminals: parents of names that are not names themselves
    ents = set()
    for n in data:
        p = n.split(".", 1)[1]
        while p != apex and p.endswith("." + apex):
            if p not in types:
                ents.add(p)
            p = p.split(".", 1)[1]
    ents = sorted(ents)
    for t, names in by_type.items():
        if not names:
            sys.exit(f"udp-bench-queries: the zone has no {t} names")

    def nodata():
        k = rng.randrange(5)
        if k == 0 and ents:
            return rng.choice(ents), rng.choice(("A", "AAAA"))
        while True:
            n = rng.choice(data)
            missing = [t for t in ("A", "AAAA", "MX", "TXT") if t not in types[n]]
            if missing:
                return n, rng.choice(missing)

    def nxdomain():
        label = "nxd%06x" % rng.randrange(1 << 24)   # no "-": never a zone name
        k = rng.randrange(3)
        if k == 0 or not ents:
            name = f"{label}.{apex}"
        elif k == 1:
            name = f"{label}.{rng.choice(ents)}"
        else:
            name = f"{label}.{rng.choice(data)}"
        return name, rng.choice(("A", "A", "AAAA"))

    def apex_q():
        return rng.choice(((apex, "SOA"), (apex, "NS"),
                           ("ns1." + apex, "A"), ("ns2." + apex, "AAAA")))

    lines = []
    counts = {}
    for kind, pct in MIX:
        k = args.lines * pct // 100
        counts[kind] = k
        for _ in range(k):
            if kind in by_type:
                lines.append((rng.choice(by_type[kind]), kind))
            elif kind == "NODATA":
                lines.append(nodata())
            elif kind == "NXDOMAIN":
                lines.append(nxdomain())
            else:
                lines.append(apex_q())
    rng.shuffle(lines)
    out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="ascii")
    out.write("".join(f"{n} {t}\n" for n, t in lines))
    if out is not sys.stdout:
        out.close()
    total = len(lines)
    if args.expect:
        with open(args.expect, "w", encoding="ascii") as f:
            f.write(f"nxdomain {100.0 * counts['NXDOMAIN'] / total:.2f}\n")
            f.write(f"nodata {100.0 * counts['NODATA'] / total:.2f}\n")
            f.write(f"positive {100.0 * (total - counts['NXDOMAIN'] - counts['NODATA']) / total:.2f}\n")
    print(f"udp-bench-queries: {total} queries from {len(data)} names, {len(ents)} "
          f"empty non-terminals: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
          file=sys.stderr)


if __name__ == "__main__":
    main()
