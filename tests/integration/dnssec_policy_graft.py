#!/usr/bin/env python3
"""dnssec_policy_graft.py BASE DONOR OUT — the negative control of
dnssec_policy.sh: BASE's snapshot with the policy signature section
(SNAP_SECT_POLICY_SIG) of DONOR, which must have the same size and place
(same zone and policy compiled with another key of the same algorithm),
and the content hash recomputed (docs/snapshot-format.md). The result is
what a controller with the wrong key would have pushed."""
import hashlib
import struct
import sys

SECT_POLICY_SIG = 5


def sections(b):
    content, = struct.unpack_from("<Q", b, 16)
    off, count = struct.unpack_from("<II", b, 0x44)
    return content, {k: (o, n) for k, o, n, _ in
                     (struct.unpack_from("<IIII", b, off + 16 * i) for i in range(count))}


def main():
    base = bytearray(open(sys.argv[1], "rb").read())
    donor = open(sys.argv[2], "rb").read()
    content, bs = sections(base)
    _, ds = sections(donor)
    if SECT_POLICY_SIG not in bs or bs.get(SECT_POLICY_SIG) != ds.get(SECT_POLICY_SIG):
        sys.exit("the policy signature sections differ in place or size")
    off, n = bs[SECT_POLICY_SIG]
    if base[off:off + n] == donor[off:off + n]:
        sys.exit("the sections are the same")
    base[off:off + n] = donor[off:off + n]
    base = base[:content]                      # no controller signature
    at = 0x68                                  # header.sha256
    base[at:at + 32] = bytes(32)
    base[at:at + 32] = hashlib.sha256(base).digest()
    open(sys.argv[3], "wb").write(base)


main()
