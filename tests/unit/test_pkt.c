/* Frame parsing and in-place replies (dataplane/pkt.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "pkt.h"

static const uint8_t SVC4[4] = { 192, 0, 2, 53 };
static const uint8_t CLI4[4] = { 198, 51, 100, 7 };
static const uint8_t SVC6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x53, [15] = 0x53 };
static const uint8_t CLI6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x99, [15] = 7 };
static const uint8_t MAC_SRV[6] = { 2, 0, 0, 0, 0, 1 }, MAC_CLI[6] = { 2, 0, 0, 0, 0, 2 };
static const uint8_t DNS[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
			     "\x03www\x07" "example\x00\x00\x01\x00\x01";
#define DNS_LEN (sizeof(DNS) - 1)

static struct pkt_services svc(void)
{
	struct pkt_services s = { .n4 = 1, .n6 = 1, .port = 53 };
	memcpy(s.v4[0], SVC4, 4);
	memcpy(s.v6[0], SVC6, 16);
	return s;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* An Ethernet frame with a UDP query from the client; returns its length. */
static size_t frame4(uint8_t *f, int vlan)
{
	size_t l3 = vlan ? 18 : 14;
	uint8_t *ip = f + l3, *u = ip + 20;

	memset(f, 0, 256);
	memcpy(f, MAC_SRV, 6);
	memcpy(f + 6, MAC_CLI, 6);
	if (vlan) {
		put16(f + 12, 0x8100);
		put16(f + 14, 42);
	}
	put16(f + l3 - 2, 0x0800);
	ip[0] = 0x45;
	ip[1] = 0x28;                    /* TOS, ID and DF: in the reply's sum */
	put16(ip + 2, (uint16_t)(20 + 8 + DNS_LEN));
	put16(ip + 4, 0xbeef);
	put16(ip + 6, 0x4000);
	ip[8] = 61;
	ip[9] = 17;
	memcpy(ip + 12, CLI4, 4);
	memcpy(ip + 16, SVC4, 4);
	put16(ip + 10, pkt_csum_fold(pkt_csum_add(0, ip, 20)));
	put16(u, 40000);
	put16(u + 2, 53);
	put16(u + 4, (uint16_t)(8 + DNS_LEN));
	memcpy(u + 8, DNS, DNS_LEN);
	uint32_t sum = pkt_csum_add(pkt_csum_add(0, ip + 12, 8), u, 8 + DNS_LEN);
	put16(u + 6, pkt_csum_fold(sum + 17 + 8 + DNS_LEN));
	return l3 + 20 + 8 + DNS_LEN;
}

static size_t frame6(uint8_t *f)
{
	uint8_t *ip = f + 14, *u = ip + 40;

	memset(f, 0, 256);
	memcpy(f, MAC_SRV, 6);
	memcpy(f + 6, MAC_CLI, 6);
	put16(f + 12, 0x86dd);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)(8 + DNS_LEN));
	ip[6] = 17;
	ip[7] = 50;
	memcpy(ip + 8, CLI6, 16);
	memcpy(ip + 24, SVC6, 16);
	put16(u, 40001);
	put16(u + 2, 53);
	put16(u + 4, (uint16_t)(8 + DNS_LEN));
	memcpy(u + 8, DNS, DNS_LEN);
	uint32_t sum = pkt_csum_add(pkt_csum_add(0, ip + 8, 32), u, 8 + DNS_LEN);
	put16(u + 6, pkt_csum_fold(sum + 17 + 8 + DNS_LEN));
	return 14 + 40 + 8 + DNS_LEN;
}

static void test_checksum_vector(void **state)
{
	(void)state;
	/* a well-known IPv4 header whose checksum is 0xb861 */
	uint8_t h[20] = { 0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0,
			  0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7 };
	assert_int_equal(pkt_csum_fold(pkt_csum_add(0, h, 20)), 0xb861);
	h[10] = 0xb8;
	h[11] = 0x61;
	assert_int_equal(pkt_csum_fold(pkt_csum_add(0, h, 20)), 0);
	/* odd length: the last byte is the high half of a word */
	assert_int_equal(pkt_csum_fold(pkt_csum_add(0, "\x01", 1)), 0xfeff);
}

/* RFC 1071 sum, two bytes at a time in network order: the reference. */
static uint32_t ref_sum(uint32_t sum, const uint8_t *p, size_t len)
{
	uint64_t s = sum;

	for (; len >= 2; p += 2, len -= 2)
		s += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		s += (uint32_t)p[0] << 8;
	while (s >> 32)
		s = (s & 0xffffffffu) + (s >> 32);
	return (uint32_t)s;
}

/* The word-at-a-time sum folds to what the reference folds to, for every
 * length, alignment and running sum (chained as pkt_reply chains it:
 * even-length pieces, then one of any length). */
static void test_checksum_words(void **state)
{
	static uint8_t buf[600];
	unsigned seed = 7;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(i % 3 == 0 ? 0xff : seed >> 16);
	}
	for (size_t off = 0; off < 8; off++) {
		for (size_t len = 0; len + off <= 520; len++) {
			uint32_t start = len * 0x01010101u;
			size_t head = (len / 3) & ~(size_t)1;

			assert_int_equal(pkt_csum_fold(pkt_csum_add(start, buf + off, len)),
					 pkt_csum_fold(ref_sum(start, buf + off, len)));
			assert_int_equal(pkt_csum_fold(pkt_csum_add(pkt_csum_add(start,
					 buf + off, head), buf + off + head, len - head)),
					 pkt_csum_fold(ref_sum(start, buf + off, len)));
		}
	}
}

static void test_parse_v4(void **state)
{
	(void)state;
	struct pkt_services s = svc();
	struct pkt_info in;
	uint8_t f[256];
	size_t len = frame4(f, 0);

	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_DNS);
	assert_int_equal(in.l3, 14);
	assert_int_equal(in.l4, 34);
	assert_int_equal(in.dns, 42);
	assert_int_equal(in.dns_len, DNS_LEN);
	assert_int_equal(in.client.family, AF_INET);
	assert_int_equal(in.client.port, 40000);
	assert_int_equal(in.client.transport, ENGINE_UDP);
	assert_memory_equal(in.client.addr, CLI4, 4);
	assert_memory_equal(f + in.dns, DNS, DNS_LEN);
	/* one 802.1Q tag */
	len = frame4(f, 1);
	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_DNS);
	assert_int_equal(in.l3, 18);
	assert_int_equal(in.dns, 46);
	/* Ethernet padding after the IP packet is ignored */
	assert_int_equal(pkt_parse(f, len + 20, &s, 0, &in), PKT_DNS);
	assert_int_equal(in.dns_len, DNS_LEN);
}

static void test_parse_v6(void **state)
{
	(void)state;
	struct pkt_services s = svc();
	struct pkt_info in;
	uint8_t f[256];
	size_t len = frame6(f);

	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_DNS);
	assert_int_equal(in.l4, 54);
	assert_int_equal(in.client.family, AF_INET6);
	assert_memory_equal(in.client.addr, CLI6, 16);
	assert_int_equal(in.client.port, 40001);
	f[14 + 6] = 58;                  /* ICMPv6: neighbour discovery */
	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_KERNEL);
	f[14 + 6] = 44;
	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_DROP_FRAGMENT);
	f[14 + 6] = 0;
	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_DROP_OPTIONS);
	len = frame6(f);
	f[14 + 40 + 6] = f[14 + 40 + 7] = 0;   /* no UDP checksum: not allowed */
	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_DROP_CHECKSUM);
	assert_int_equal(pkt_parse(f, len, &s, PKT_RX_L4_CKSUM_GOOD, &in), PKT_DNS);
}

static void test_not_ours(void **state)
{
	(void)state;
	struct pkt_services s = svc();
	struct pkt_info in;
	uint8_t f[256];
	size_t len = frame4(f, 0);

	put16(f + 12, 0x0806);           /* ARP */
	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_KERNEL);
	len = frame4(f, 0);
	f[14 + 19] = 54;                 /* another destination address */
	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_KERNEL);
	len = frame4(f, 0);
	f[14 + 9] = 6;                   /* TCP/53 goes to the kernel */
	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_KERNEL);
	len = frame4(f, 0);
	put16(f + 34 + 2, 5353);         /* UDP to another port */
	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_KERNEL);
	len = frame4(f, 0);
	put16(f + 12, 0x88a8);           /* an outer QinQ tag */
	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_KERNEL);
}

static void test_drops(void **state)
{
	(void)state;
	struct pkt_services s = svc();
	struct pkt_info in;
	uint8_t f[256];
	size_t len = frame4(f, 0);

	for (size_t cut = 0; cut < len; cut++) {
		enum pkt_verdict v = pkt_parse(f, cut, &s, 0, &in);
		assert_true(v == PKT_DROP_MALFORMED || v == PKT_KERNEL);
	}
	f[34 + 8] ^= 1;                  /* payload changed, UDP sum now wrong */
	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_DROP_CHECKSUM);
	assert_int_equal(pkt_parse(f, len, &s, PKT_RX_L4_CKSUM_GOOD, &in), PKT_DNS);
	len = frame4(f, 0);
	f[34 + 6] = f[34 + 7] = 0;       /* IPv4 may omit the UDP checksum */
	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_DNS);
	len = frame4(f, 0);
	f[14 + 8] ^= 1;                  /* IP header sum now wrong */
	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_DROP_CHECKSUM);
	len = frame4(f, 0);
	f[14 + 6] = 0x20;                /* more fragments */
	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_DROP_FRAGMENT);
	len = frame4(f, 0);
	f[14 + 7] = 8;                   /* a later fragment */
	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_DROP_FRAGMENT);
	len = frame4(f, 0);
	f[14] = 0x46;                    /* one word of options */
	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_DROP_OPTIONS);
	len = frame4(f, 0);
	put16(f + 34 + 4, 200);          /* UDP longer than the IP packet */
	assert_int_equal(pkt_parse(f, len, &s, 0, &in), PKT_DROP_MALFORMED);
	assert_string_equal(pkt_verdict_name(PKT_DROP_CHECKSUM), "checksum");
}

/* A reply must parse as a valid query frame seen from the client's side. */
/* Reply with a response of dlen bytes (a pattern of seed) and check that
 * the reply parses back, its checksums verified in software. */
static void check_reply_len(uint8_t *f, const struct pkt_info *in, int v6, unsigned offl,
			    size_t dlen, unsigned seed)
{
	struct pkt_services back = { .port = in->client.port };
	struct pkt_info rin;
	size_t len;

	for (size_t i = 0; i < dlen; i++) {
		seed = seed * 1103515245u + 12345u;
		f[in->dns + i] = (uint8_t)(i % 5 == 0 ? 0xff : seed >> 16);
	}
	len = pkt_reply(f, in, dlen, offl);
	assert_int_equal(len, in->dns + dlen);
	assert_memory_equal(f, MAC_CLI, 6);
	assert_memory_equal(f + 6, MAC_SRV, 6);
	if (v6) {
		back.n6 = 1;
		memcpy(back.v6[0], CLI6, 16);
	} else {
		back.n4 = 1;
		memcpy(back.v4[0], CLI4, 4);
	}
	unsigned flags = (offl & PKT_TX_UDP_CKSUM ? PKT_RX_L4_CKSUM_GOOD : 0) |
			 (offl & PKT_TX_IP_CKSUM ? PKT_RX_IP_CKSUM_GOOD : 0);
	assert_int_equal(pkt_parse(f, len, &back, flags, &rin), PKT_DNS);
	assert_int_equal(rin.dns_len, dlen);
	assert_int_equal(rin.client.port, 53);
	assert_memory_equal(rin.client.addr, v6 ? SVC6 : SVC4, v6 ? 16 : 4);
	assert_int_equal(f[in->l3 + (v6 ? 7 : 8)], 64);
}

static void check_reply(uint8_t *f, const struct pkt_info *in, int v6, unsigned offl)
{
	/* the answer is longer than the query */
	check_reply_len(f, in, v6, offl, 100, 1);
}

static void test_reply(void **state)
{
	(void)state;
	struct pkt_services s = svc();
	struct pkt_info in;
	uint8_t f[512];

	assert_int_equal(pkt_parse(f, frame4(f, 0), &s, 0, &in), PKT_DNS);
	check_reply(f, &in, 0, 0);
	assert_int_equal(pkt_parse(f, frame4(f, 1), &s, 0, &in), PKT_DNS);
	check_reply(f, &in, 0, 0);
	assert_int_equal(pkt_parse(f, frame6(f), &s, 0, &in), PKT_DNS);
	check_reply(f, &in, 1, 0);
	/* with offloads the sums are left to the NIC: zero in the frame */
	assert_int_equal(pkt_parse(f, frame4(f, 0), &s, 0, &in), PKT_DNS);
	check_reply(f, &in, 0, PKT_TX_IP_CKSUM | PKT_TX_UDP_CKSUM);
	assert_int_equal(f[14 + 10] | f[14 + 11] | f[34 + 6] | f[34 + 7], 0);
	/* pkt_reply sums before it rewrites: odd and even lengths, any
	 * bytes, either family */
	for (size_t dlen = 1; dlen < 420; dlen += 7) {
		for (int fam = 0; fam < 3; fam++) {
			size_t flen = fam == 2 ? frame6(f) : frame4(f, fam);

			assert_int_equal(pkt_parse(f, flen, &s, 0, &in), PKT_DNS);
			check_reply_len(f, &in, fam == 2, 0, dlen, (unsigned)dlen);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_vector),
		cmocka_unit_test(test_checksum_words),
		cmocka_unit_test(test_parse_v4),
		cmocka_unit_test(test_parse_v6),
		cmocka_unit_test(test_not_ours),
		cmocka_unit_test(test_drops),
		cmocka_unit_test(test_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
