/*
 * pkt.c — Ethernet/IP/UDP parse and in-place reply for the DNS dataplane.
 */
#include <string.h>
#include <sys/socket.h>

#include "pkt.h"

#define ETH_HLEN      14
#define ETH_P_IPV4    0x0800
#define ETH_P_IPV6    0x86dd
#define ETH_P_8021Q   0x8100
#define IPPROTO_UDP_  17
#define REPLY_TTL     64

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * The Internet checksum (RFC 1071) without checksum offload: every query
 * is checked and every response summed here, so the sums are taken in
 * whole words. RFC 1071 2(B): a one's complement sum does not care about
 * byte order as long as it is swapped once at the end, so little-endian
 * machines add memory as 64-bit words with the carry brought around
 * (two sums that do not wait for each other), and swap the folded 16 bits.
 * Every region summed starts at an even offset of the checksummed bytes,
 * so the byte lanes keep their parity. A packet's regions go into one
 * accumulator and are folded once.
 */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static inline uint64_t ld8(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint64_t add_c(uint64_t a, uint64_t b)
{
	uint64_t s = a + b;

	return s + (s < b);
}

/* The tail of a region: its last n bytes (1..7) in their lanes. A region
 * of 8 bytes or more is read as the word that ends with it, never past
 * its end. */
static inline uint64_t tail(const uint8_t *start, const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	size_t k = 0;

	if ((size_t)(p - start) + n >= 8)
		return ld8(p + n - 8) >> (8 * (8 - n));
	if (n >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		v = w;
		k = 4;
	}
	if (n - k >= 2) {
		uint16_t w;

		memcpy(&w, p + k, 2);
		v |= (uint64_t)w << (8 * k);
		k += 2;
	}
	if (n > k)
		v |= (uint64_t)p[k] << (8 * k);
	return v;
}

/* Whole 32-byte blocks from p on, in one chain of add-with-carry: the
 * carry flag brings each carry around, where add_c takes a compare and
 * two adds a word (as Linux's csum_partial). */
static inline uint64_t sum_blocks(uint64_t acc, const uint8_t **pp, size_t *plen)
{
#if defined(__x86_64__) && defined(__GNUC__)
	const uint8_t *p = *pp;
	size_t len = *plen;

	for (; len >= 32; p += 32, len -= 32)
		__asm__("addq (%[p]), %[a]\n\t"
			"adcq 8(%[p]), %[a]\n\t"
			"adcq 16(%[p]), %[a]\n\t"
			"adcq 24(%[p]), %[a]\n\t"
			"adcq $0, %[a]"
			: [a] "+r"(acc)
			: [p] "r"(p), "m"(*(const uint8_t(*)[32])(const void *)p)
			: "cc");
	*pp = p;
	*plen = len;
#else
	(void)pp;
	(void)plen;
#endif
	return acc;
}

static inline uint64_t sum_mem(uint64_t acc, const void *data, size_t len)
{
	const uint8_t *start = data, *p = start;
	uint64_t acc2 = 0;

	acc = sum_blocks(acc, &p, &len);
	for (; len >= 16; p += 16, len -= 16) {
		acc = add_c(acc, ld8(p));
		acc2 = add_c(acc2, ld8(p + 8));
	}
	if (len >= 8) {
		acc = add_c(acc, ld8(p));
		p += 8;
		len -= 8;
	}
	if (len)
		acc2 = add_c(acc2, tail(start, p, len));
	return add_c(acc, acc2);
}

/* The accumulator folded to 16 bits, in network byte order's value. */
static inline uint32_t sum_fold(uint64_t acc)
{
	uint32_t lo = (uint32_t)acc, hi = (uint32_t)(acc >> 32), s = lo + hi;

	s += s < hi;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)(s << 8 | s >> 8);
}
#else
static inline uint64_t sum_mem(uint64_t acc, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (; len >= 2; p += 2, len -= 2)
		acc += rd16(p);
	if (len)
		acc += (uint32_t)p[0] << 8;
	return acc;
}

static inline uint32_t sum_fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint32_t)acc;
}
#endif

uint32_t pkt_csum_add(uint32_t sum, const void *data, size_t len)
{
	uint64_t s = (uint64_t)sum + sum_fold(sum_mem(0, data, len));

	return (uint32_t)(s + (s >> 32));
}

/* A 32-bit partial sum folded and complemented: the checksum field. */
static inline uint16_t csum_field(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t pkt_csum_fold(uint32_t sum)
{
	return csum_field(sum);
}

/* The checksum field of an IPv4 header without options (20 bytes): 0
 * over a header whose own field is right. */
static inline uint16_t ip4_csum(const uint8_t *ip)
{
	return csum_field(sum_fold(sum_mem(0, ip, 20)));
}

const char *pkt_verdict_name(enum pkt_verdict v)
{
	static const char *names[PKT_VERDICT_COUNT] = {
		"dns", "kernel", "malformed", "fragment", "options", "checksum",
	};
	return (unsigned)v < PKT_VERDICT_COUNT ? names[v] : "unknown";
}

static int ours4(const struct pkt_services *svc, const uint8_t *a)
{
	for (unsigned i = 0; i < svc->n4; i++)
		if (memcmp(svc->v4[i], a, 4) == 0)
			return 1;
	return 0;
}

static int ours6(const struct pkt_services *svc, const uint8_t *a)
{
	for (unsigned i = 0; i < svc->n6; i++)
		if (memcmp(svc->v6[i], a, 16) == 0)
			return 1;
	return 0;
}

/* UDP checksum over the pseudo-header (the source and destination
 * addresses, adjacent in both IP headers: alen bytes in all; protocol,
 * UDP length) and the UDP header plus payload. */
static uint16_t udp_csum(const uint8_t *addrs, size_t alen, const uint8_t *udp,
			 size_t ulen)
{
	uint32_t sum = sum_fold(sum_mem(sum_mem(0, addrs, alen), udp, ulen));

	return csum_field(sum + IPPROTO_UDP_ + (uint32_t)ulen);
}

/* The UDP part, common to both families: port, length, checksum. */
static enum pkt_verdict parse_udp(const uint8_t *f, size_t l4, size_t avail,
				  const struct pkt_services *svc, int v6,
				  unsigned rx_flags, struct pkt_info *info)
{
	const uint8_t *u = f + l4;
	size_t ulen;

	if (avail < 8)
		return PKT_DROP_MALFORMED;
	if (rd16(u + 2) != svc->port)
		return PKT_KERNEL;
	ulen = rd16(u + 4);
	if (ulen < 8 || ulen > avail)
		return PKT_DROP_MALFORMED;
	if (!(rx_flags & PKT_RX_L4_CKSUM_GOOD)) {
		const uint8_t *ip = f + info->l3;
		uint16_t c = rd16(u + 6);
		/* Zero means "no checksum" for IPv4 only (RFC 8200 8.1). */
		if (v6 ? (c == 0 || udp_csum(ip + 8, 32, u, ulen) != 0)
		       : (c != 0 && udp_csum(ip + 12, 8, u, ulen) != 0))
			return PKT_DROP_CHECKSUM;
	}
	info->l4 = (uint16_t)l4;
	info->dns = (uint16_t)(l4 + 8);
	info->dns_len = (uint16_t)(ulen - 8);
	info->client.transport = ENGINE_UDP;
	info->client.port = rd16(u);
	return PKT_DNS;
}

static enum pkt_verdict parse_v4(const uint8_t *f, size_t len, size_t l3,
				 const struct pkt_services *svc, unsigned rx_flags,
				 struct pkt_info *info)
{
	const uint8_t *ip = f + l3;
	size_t ihl, tot;

	if (len < l3 + 20 || (ip[0] >> 4) != 4)
		return PKT_KERNEL;
	if (ip[9] != IPPROTO_UDP_ || !ours4(svc, ip + 16))
		return PKT_KERNEL;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	tot = rd16(ip + 2);
	if (ihl < 20 || tot < ihl || l3 + tot > len)
		return PKT_DROP_MALFORMED;
	if (rd16(ip + 6) & 0x3fff)   /* MF or a fragment offset */
		return PKT_DROP_FRAGMENT;
	if (ihl != 20)
		return PKT_DROP_OPTIONS;
	if (!(rx_flags & PKT_RX_IP_CKSUM_GOOD) && ip4_csum(ip) != 0)
		return PKT_DROP_CHECKSUM;
	info->l3 = (uint16_t)l3;
	info->client.family = AF_INET;
	memset(info->client.addr, 0, sizeof(info->client.addr));
	memcpy(info->client.addr, ip + 12, 4);
	return parse_udp(f, l3 + 20, tot - 20, svc, 0, rx_flags, info);
}

static enum pkt_verdict parse_v6(const uint8_t *f, size_t len, size_t l3,
				 const struct pkt_services *svc, unsigned rx_flags,
				 struct pkt_info *info)
{
	const uint8_t *ip = f + l3;
	size_t plen;

	if (len < l3 + 40 || (ip[0] >> 4) != 6 || !ours6(svc, ip + 24))
		return PKT_KERNEL;
	switch (ip[6]) {
	case IPPROTO_UDP_:
		break;
	case 44:                     /* fragment header */
		return PKT_DROP_FRAGMENT;
	case 0: case 43: case 60: case 51: case 50: case 135: case 139: case 140:
		return PKT_DROP_OPTIONS;  /* extension headers before UDP */
	default:
		return PKT_KERNEL;        /* ICMPv6 (ND!), TCP, ... */
	}
	plen = rd16(ip + 4);
	if (l3 + 40 + plen > len)
		return PKT_DROP_MALFORMED;
	info->l3 = (uint16_t)l3;
	info->client.family = AF_INET6;
	memcpy(info->client.addr, ip + 8, 16);
	return parse_udp(f, l3 + 40, plen, svc, 1, rx_flags, info);
}

enum pkt_verdict pkt_parse(const uint8_t *frame, size_t len,
			   const struct pkt_services *svc, unsigned rx_flags,
			   struct pkt_info *info)
{
	size_t l3 = ETH_HLEN;
	uint16_t type;

	if (len < ETH_HLEN)
		return PKT_DROP_MALFORMED;
	type = rd16(frame + 12);
	if (type == ETH_P_8021Q) {
		if (len < ETH_HLEN + 4)
			return PKT_DROP_MALFORMED;
		type = rd16(frame + 16);
		l3 += 4;
	}
	if (type == ETH_P_IPV4)
		return parse_v4(frame, len, l3, svc, rx_flags, info);
	if (type == ETH_P_IPV6)
		return parse_v6(frame, len, l3, svc, rx_flags, info);
	return PKT_KERNEL;           /* ARP, LLDP, a second VLAN tag, ... */
}

static void swap(uint8_t *a, uint8_t *b, size_t n)
{
	uint8_t t[16];

	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

/*
 * The checksums are summed before any header byte is rewritten: from the
 * response, which the engine wrote a burst ago, from the addresses and
 * ports as they came in (swapping them leaves their sum alone) and from
 * values in registers. Summed after, each wide load of bytes just
 * stored two at a time would wait for those stores to drain (a failed
 * store-to-load forward), and that stall was most of the checksum's cost
 * in the DPDK loop.
 */
size_t pkt_reply(uint8_t *frame, const struct pkt_info *info, size_t dns_len,
		 unsigned tx_offloads)
{
	uint8_t *ip = frame + info->l3, *u = frame + info->l4;
	size_t ulen = 8 + dns_len;
	int v6 = info->client.family == AF_INET6;
	uint64_t acc = sum_mem(0, v6 ? ip + 8 : ip + 12, v6 ? 32 : 8);
	uint32_t addrs = sum_fold(acc), udp = 0, hdr = 0;

	if (!(tx_offloads & PKT_TX_UDP_CKSUM))
		/* pseudo-header (addresses, protocol, length), ports, the
		 * length again, a zero checksum, the response */
		udp = sum_fold(sum_mem(sum_mem(acc, u, 4), u + 8, dns_len)) +
		      IPPROTO_UDP_ + 2 * (uint32_t)ulen;
	if (!v6 && !(tx_offloads & PKT_TX_IP_CKSUM))
		/* version, TOS, ID, fragment field, the new length and TTL,
		 * the protocol, a zero checksum, the addresses */
		hdr = addrs + rd16(ip) + rd16(ip + 4) + rd16(ip + 6) + 20 + (uint32_t)ulen +
		      (REPLY_TTL << 8 | ip[9]);
	swap(frame, frame + 6, 6);
	swap(u, u + 2, 2);
	wr16(u + 4, (uint16_t)ulen);
	wr16(u + 6, 0);
	if (v6) {
		swap(ip + 8, ip + 24, 16);
		wr16(ip + 4, (uint16_t)ulen);
		ip[7] = REPLY_TTL;
	} else {
		swap(ip + 12, ip + 16, 4);
		wr16(ip + 2, (uint16_t)(20 + ulen));
		ip[8] = REPLY_TTL;
		wr16(ip + 10, 0);
		if (!(tx_offloads & PKT_TX_IP_CKSUM))
			wr16(ip + 10, csum_field(hdr));
	}
	if (!(tx_offloads & PKT_TX_UDP_CKSUM)) {
		uint16_t c = csum_field(udp);

		wr16(u + 6, c ? c : 0xffff);   /* 0 would mean "none" */
	}
	return info->l4 + ulen;
}

size_t pkt_build(uint8_t *frame, size_t cap, const struct engine_client *client,
		 const uint8_t *dst, uint16_t dport, const uint8_t *dns,
		 size_t len)
{
	static const uint8_t mac_dst[6] = { 0x02, 0x50, 0x35, 0x33, 0, 1 };
	static const uint8_t mac_src[6] = { 0x02, 0x50, 0x35, 0x33, 0, 2 };
	int v6 = client->family == AF_INET6;
	size_t l3 = 14, l4 = l3 + (v6 ? 40 : 20), ulen = 8 + len;
	uint8_t *ip = frame + l3, *u = frame + l4;
	uint16_t c;

	if (l4 + ulen > cap || ulen > 0xffff - 40)
		return 0;
	memcpy(frame, mac_dst, 6);
	memcpy(frame + 6, mac_src, 6);
	wr16(frame + 12, v6 ? 0x86dd : 0x0800);
	memset(ip, 0, l4 - l3);
	if (v6) {
		ip[0] = 0x60;
		wr16(ip + 4, (uint16_t)ulen);
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, client->addr, 16);
		memcpy(ip + 24, dst, 16);
	} else {
		ip[0] = 0x45;
		wr16(ip + 2, (uint16_t)(20 + ulen));
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, client->addr, 4);
		memcpy(ip + 16, dst, 4);
		wr16(ip + 10, ip4_csum(ip));
	}
	wr16(u, client->port);
	wr16(u + 2, dport);
	wr16(u + 4, (uint16_t)ulen);
	wr16(u + 6, 0);
	memcpy(u + 8, dns, len);
	c = v6 ? udp_csum(ip + 8, 32, u, ulen)
	       : udp_csum(ip + 12, 8, u, ulen);
	wr16(u + 6, c ? c : 0xffff);
	return l4 + ulen;
}
