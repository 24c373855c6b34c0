/*
 * pkt.h — the frames around a DNS message: parse Ethernet (one 802.1Q tag),
 * IPv4/IPv6 and UDP without copying, decide whether a frame is a DNS query
 * to one of our service addresses, and turn the same buffer into the
 * response (swap MACs, addresses and ports, fix lengths and checksums).
 *
 * Pure C, no DPDK: the lcore loop wraps mbufs around these calls; tests and
 * the AF_PACKET path use them on plain buffers. No allocation, no syscalls.
 */
#ifndef POP53_PKT_H
#define POP53_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define PKT_MAX_SERVICES 16

/* The service addresses this node answers on, and the DNS port. */
struct pkt_services {
	uint8_t v4[PKT_MAX_SERVICES][4];
	unsigned n4;
	uint8_t v6[PKT_MAX_SERVICES][16];
	unsigned n6;
	uint16_t port;               /* host order, normally 53 */
};

/* What a frame is. Everything but PKT_DNS stays away from the engine. */
enum pkt_verdict {
	PKT_DNS = 0,                 /* UDP query to a service address: answer */
	PKT_KERNEL,                  /* not ours (ARP, ND, ICMP, TCP, other UDP) */
	PKT_DROP_MALFORMED,          /* truncated or inconsistent headers */
	PKT_DROP_FRAGMENT,           /* IPv4 fragment or IPv6 fragment header */
	PKT_DROP_OPTIONS,            /* IPv4 options / IPv6 extension headers */
	PKT_DROP_CHECKSUM,           /* IPv4 header or UDP checksum wrong */
	PKT_VERDICT_COUNT
};

/* Checksum state the NIC already established (mbuf ol_flags, mapped). */
#define PKT_RX_IP_CKSUM_GOOD  (1u << 0)
#define PKT_RX_L4_CKSUM_GOOD  (1u << 1)

/* Where the layers of a parsed DNS frame sit. */
struct pkt_info {
	uint16_t l3;                 /* offset of the IP header */
	uint16_t l4;                 /* offset of the UDP header */
	uint16_t dns;                /* offset of the DNS message */
	uint16_t dns_len;            /* its length (from the UDP length) */
	struct engine_client client; /* source address and port, UDP */
};

/* Parse frame (len bytes) against svc. rx_flags: PKT_RX_* checks the NIC
 * made (their software checks are then skipped). Fills *info for PKT_DNS.
 * Returns the verdict. */
enum pkt_verdict pkt_parse(const uint8_t *frame, size_t len,
			   const struct pkt_services *svc, unsigned rx_flags,
			   struct pkt_info *info);

/* Name of a verdict for logs and metrics ("checksum", "fragment"...). */
const char *pkt_verdict_name(enum pkt_verdict v);

/* Tx offloads the port does: the caller then fills the checksum fields
 * as its NIC wants (pseudo-header sum for L4), pkt_reply writes zero. */
#define PKT_TX_IP_CKSUM       (1u << 0)
#define PKT_TX_UDP_CKSUM      (1u << 1)

/* The DNS response (dns_len bytes) is already at frame + info->dns (the
 * engine answered in place). Rewrite the headers of frame into a reply to
 * the query: swap MACs, addresses and ports, set lengths, a fresh TTL/hop
 * limit, the IPv4 header checksum and the UDP checksum (mandatory for
 * IPv6) unless tx_offloads says the port computes them. Returns the new
 * frame length. */
size_t pkt_reply(uint8_t *frame, const struct pkt_info *info, size_t dns_len,
		 unsigned tx_offloads);

/* Build an Ethernet/IPv4 or IPv6/UDP frame around a DNS message (len
 * bytes) from client (family, address, port) to service address dst (4 or
 * 16 bytes as client's family) and port dport, with correct lengths and
 * checksums, into frame (cap bytes). For canary queries and tests.
 * Returns the frame length, or 0 when cap is too small. */
size_t pkt_build(uint8_t *frame, size_t cap, const struct engine_client *client,
		 const uint8_t *dst, uint16_t dport, const uint8_t *dns,
		 size_t len);

/* Internet checksum helpers (RFC 1071), exposed for tests and offloads. */
uint32_t pkt_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t pkt_csum_fold(uint32_t sum);

#endif
