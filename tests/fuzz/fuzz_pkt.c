/*
 * Fuzz target for the dataplane's frame code (dataplane/pkt.c): the input
 * is one Ethernet frame as it would come off the wire. Its first byte is
 * not part of the frame: it chooses the checksum checks the "NIC" claims
 * to have made, the tx offloads, and the length of the response written
 * in place, so the frames themselves stay plain.
 *
 * Properties, checked against a reference made here (a byte-pair RFC 1071
 * sum and a header walk of its own, not pkt.c's):
 * - pkt_parse reads nothing outside the frame (ASan) and says PKT_DNS only
 *   for an unfragmented UDP datagram without IP options or extension
 *   headers, to a service address and port, whose lengths agree with the
 *   frame and whose checksums are right (unless claimed by the flags; a
 *   zero UDP checksum is "none" for IPv4 only);
 * - for PKT_DNS, the offsets it reports are those of the headers, the
 *   client is the source address and port;
 * - pkt_reply then turns the frame into the reply: MACs, addresses and
 *   ports swapped, lengths set, and (without offloads) an IPv4 header
 *   checksum and a UDP checksum that the reference accepts; with offloads,
 *   zero in those fields.
 *
 * Built with -DFUZZ_DRIVER_MAIN, main() makes frames from every DNS message
 * of the directories (or files) given (IPv4, IPv6, with an 802.1Q tag, each
 * with right and wrong checksums, and with single bytes changed) and runs
 * each through the same function: that is how the corpus runs under `meson
 * test`. A missing or empty corpus is a failure.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz_pkt: %s:%d: check failed: %s\n", \
		__FILE__, __LINE__, #c); abort(); } } while (0)

#define FRAME_MAX 2048

static const uint8_t svc4[4] = { 198, 51, 100, 53 };
static const uint8_t svc6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x53 };

static struct pkt_services services(void)
{
	struct pkt_services s;

	memset(&s, 0, sizeof(s));
	memcpy(s.v4[0], svc4, 4);
	s.v4[1][0] = 192;
	s.v4[1][3] = 1;
	s.n4 = 2;
	memcpy(s.v6[0], svc6, 16);
	s.n6 = 1;
	s.port = 53;
	return s;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071, two bytes at a time in network order. */
static uint32_t ref_sum(uint32_t s, const uint8_t *p, size_t n)
{
	for (; n >= 2; p += 2, n -= 2)
		s += rd16(p);
	if (n)
		s += (uint32_t)p[0] << 8;
	return s;
}

static uint16_t ref_fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* The UDP checksum over pseudo-header, header and payload sums to 0xffff. */
static int udp_ok(const uint8_t *ip, int v6, const uint8_t *u, size_t ulen)
{
	uint32_t s = v6 ? ref_sum(0, ip + 8, 32) : ref_sum(0, ip + 12, 8);

	s += 17 + (uint32_t)ulen;
	return ref_fold(ref_sum(s, u, ulen)) == 0xffff;
}

/* What a correct parser must say about frame f (len bytes), worked out
 * here; *l3 and *l4 get the offsets for PKT_DNS. */
static enum pkt_verdict expect(const uint8_t *f, size_t len, unsigned flags,
			       size_t *l3, size_t *l4)
{
	size_t at = 14, ulen, avail;
	uint16_t type;
	const uint8_t *ip, *u;
	int v6;

	if (len < 14)
		return PKT_DROP_MALFORMED;
	type = rd16(f + 12);
	if (type == 0x8100) {
		if (len < 18)
			return PKT_DROP_MALFORMED;
		type = rd16(f + 16);
		at = 18;
	}
	ip = f + at;
	if (type == 0x0800) {
		size_t ihl, tot;

		if (len < at + 20 || ip[0] >> 4 != 4 || ip[9] != 17)
			return PKT_KERNEL;
		if (memcmp(ip + 16, svc4, 4) && !(ip[16] == 192 && !ip[17] && !ip[18] && ip[19] == 1))
			return PKT_KERNEL;
		ihl = (size_t)(ip[0] & 15) * 4;
		tot = rd16(ip + 2);
		if (ihl < 20 || tot < ihl || at + tot > len)
			return PKT_DROP_MALFORMED;
		if (rd16(ip + 6) & 0x3fff)
			return PKT_DROP_FRAGMENT;
		if (ihl != 20)
			return PKT_DROP_OPTIONS;
		if (!(flags & PKT_RX_IP_CKSUM_GOOD) && ref_fold(ref_sum(0, ip, 20)) != 0xffff)
			return PKT_DROP_CHECKSUM;
		*l4 = at + 20;
		avail = tot - 20;
		v6 = 0;
	} else if (type == 0x86dd) {
		if (len < at + 40 || ip[0] >> 4 != 6 || memcmp(ip + 24, svc6, 16))
			return PKT_KERNEL;
		if (ip[6] == 44)
			return PKT_DROP_FRAGMENT;
		/* hop-by-hop, routing, destination options, AH, ESP,
		 * mobility, HIP, shim6: extension headers before UDP */
		if (memchr("\0\x2b\x3c\x33\x32\x87\x8b\x8c", ip[6], 8))
			return PKT_DROP_OPTIONS;
		if (ip[6] != 17)
			return PKT_KERNEL;
		avail = rd16(ip + 4);
		if (at + 40 + avail > len)
			return PKT_DROP_MALFORMED;
		*l4 = at + 40;
		v6 = 1;
	} else {
		return PKT_KERNEL;
	}
	u = f + *l4;
	if (avail < 8)
		return PKT_DROP_MALFORMED;
	if (rd16(u + 2) != 53)
		return PKT_KERNEL;
	ulen = rd16(u + 4);
	if (ulen < 8 || ulen > avail)
		return PKT_DROP_MALFORMED;
	if (!(flags & PKT_RX_L4_CKSUM_GOOD) &&
	    (v6 ? rd16(u + 6) == 0 || !udp_ok(ip, 1, u, ulen)
		: rd16(u + 6) != 0 && !udp_ok(ip, 0, u, ulen)))
		return PKT_DROP_CHECKSUM;
	*l3 = at;
	return PKT_DNS;
}

/* The reply pkt_reply made of q (the query frame, as it was) in r. */
static void check_reply(const uint8_t *q, const uint8_t *r, size_t rlen,
			const struct pkt_info *in, size_t dns_len, unsigned tx)
{
	const uint8_t *ip = r + in->l3, *u = r + in->l4, *qip = q + in->l3,
		      *qu = q + in->l4;
	int v6 = in->client.family == AF_INET6;
	size_t ulen = 8 + dns_len;

	CHECK(rlen == (size_t)in->l4 + ulen);
	CHECK(!memcmp(r, q + 6, 6) && !memcmp(r + 6, q, 6));
	CHECK(!memcmp(u, qu + 2, 2) && !memcmp(u + 2, qu, 2));
	CHECK(rd16(u + 4) == ulen);
	if (v6) {
		CHECK(!memcmp(ip + 8, qip + 24, 16) && !memcmp(ip + 24, qip + 8, 16));
		CHECK(rd16(ip + 4) == ulen);
	} else {
		CHECK(!memcmp(ip + 12, qip + 16, 4) && !memcmp(ip + 16, qip + 12, 4));
		CHECK(rd16(ip + 2) == 20 + ulen);
		if (tx & PKT_TX_IP_CKSUM)
			CHECK(rd16(ip + 10) == 0);
		else
			CHECK(ref_fold(ref_sum(0, ip, 20)) == 0xffff);
	}
	if (tx & PKT_TX_UDP_CKSUM)
		CHECK(rd16(u + 6) == 0);
	else
		CHECK(rd16(u + 6) != 0 && udp_ok(ip, v6, u, ulen));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t q[FRAME_MAX];
	struct pkt_services s = services();
	struct pkt_info in;
	enum pkt_verdict v, want;
	size_t len, l3 = 0, l4 = 0, dns_len, cap;
	unsigned flags, tx;
	uint8_t *f;

	if (size < 1 || size - 1 > FRAME_MAX)
		return 0;
	flags = data[0] & 3;
	tx = (data[0] >> 2) & 3;
	len = size - 1;
	/* exactly len bytes, then room for the response: ASan sees any read
	 * past the frame during the parse */
	f = malloc(len ? len : 1);
	if (!f)
		abort();
	memcpy(f, data + 1, len);
	memset(&in, 0xa5, sizeof(in));
	v = pkt_parse(f, len, &s, flags, &in);
	want = expect(f, len, flags, &l3, &l4);
	CHECK(v == want);
	if (v != PKT_DNS) {
		free(f);
		return 0;
	}
	CHECK(in.l3 == l3 && in.l4 == l4 && in.dns == l4 + 8);
	CHECK(in.dns_len == rd16(f + l4 + 4) - 8 && in.dns + in.dns_len <= len);
	CHECK(in.client.transport == ENGINE_UDP && in.client.port == rd16(f + l4));
	if (in.client.family == AF_INET6)
		CHECK(!memcmp(in.client.addr, f + l3 + 8, 16));
	else
		CHECK(in.client.family == AF_INET &&
		      !memcmp(in.client.addr, f + l3 + 12, 4));
	/* A response of some length in the same buffer, as the engine
	 * writes it: the query's bytes, then a pattern. */
	memcpy(q, f, len);
	cap = FRAME_MAX - in.dns;
	dns_len = ((size_t)data[0] >> 4) * 97 % cap;
	f = realloc(f, (size_t)in.dns + dns_len > len ? (size_t)in.dns + dns_len : len);
	if (!f)
		abort();
	for (size_t i = in.dns_len; i < dns_len; i++)
		f[in.dns + i] = (uint8_t)(i * 31 + data[0]);
	check_reply(q, f, pkt_reply(f, &in, dns_len, tx), &in, dns_len, tx);
	free(f);
	return 0;
}

#ifdef FUZZ_DRIVER_MAIN
/* ---- corpus driver: frames around each DNS message ---------------------- */

static unsigned runs;

static void run(const uint8_t *frame, size_t len, unsigned flags)
{
	static uint8_t in[FRAME_MAX + 1];

	if (len > FRAME_MAX)
		return;
	in[0] = (uint8_t)flags;
	memcpy(in + 1, frame, len);
	LLVMFuzzerTestOneInput(in, len + 1);
	runs++;
}

/* One frame in its variants: as built, with an 802.1Q tag, with every
 * 7th byte changed in turn (headers and payload: checksums catch them),
 * and truncated. */
static void variants(uint8_t *f, size_t len, unsigned seed)
{
	static uint8_t t[FRAME_MAX];

	run(f, len, seed & 0xf0);
	run(f, len, (seed & 0xf0) | PKT_RX_IP_CKSUM_GOOD | PKT_RX_L4_CKSUM_GOOD |
	    PKT_TX_IP_CKSUM << 2 | PKT_TX_UDP_CKSUM << 2);
	if (len + 4 <= FRAME_MAX) {
		memcpy(t, f, 12);
		t[12] = 0x81;
		t[13] = 0x00;
		t[14] = 0x00;
		t[15] = 0x07;
		memcpy(t + 16, f + 12, len - 12);
		run(t, len + 4, (seed * 7) & 0xf0);
	}
	for (size_t i = seed % 7; i < len; i += 7) {
		memcpy(t, f, len);
		t[i] ^= (uint8_t)(1u << (i % 8));
		run(t, len, (unsigned)(i * 16) & 0xf0);
	}
	for (size_t cut = 0; cut < len; cut += 1 + len / 5)
		run(f, cut, seed & 0xf0);
}

static void one(const uint8_t *msg, size_t mlen, unsigned seed)
{
	static uint8_t f[FRAME_MAX];
	struct engine_client c4 = { .family = AF_INET, .port = 5353 };
	struct engine_client c6 = { .family = AF_INET6, .port = (uint16_t)(1024 + seed) };
	size_t len;

	c4.addr[0] = 192;
	c4.addr[1] = 0;
	c4.addr[2] = 2;
	c4.addr[3] = (uint8_t)seed;
	c6.addr[0] = 0x20;
	c6.addr[1] = 0x01;
	c6.addr[15] = (uint8_t)seed;
	if ((len = pkt_build(f, sizeof(f), &c4, svc4, 53, msg, mlen)))
		variants(f, len, seed);
	if ((len = pkt_build(f, sizeof(f), &c6, svc6, 53, msg, mlen)))
		variants(f, len, seed + 1);
}

static int run_file(const char *path, unsigned seed)
{
	static uint8_t buf[FRAME_MAX];
	FILE *fp = fopen(path, "rb");
	size_t n;

	if (!fp) {
		fprintf(stderr, "fuzz_pkt: %s: cannot open\n", path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	one(buf, n, seed);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned files = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *e;

		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "fuzz_pkt: %s: no such corpus\n", argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			if (run_file(argv[i], files++) < 0)
				return 1;
			continue;
		}
		if (!(d = opendir(argv[i])))
			return 1;
		while ((e = readdir(d))) {
			char path[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (run_file(path, files++) < 0) {
				closedir(d);
				return 1;
			}
		}
		closedir(d);
	}
	if (!files) {
		fprintf(stderr, "fuzz_pkt: empty corpus\n");
		return 1;
	}
	printf("fuzz_pkt: %u frames from %u messages, all properties held\n", runs, files);
	return 0;
}
#endif
