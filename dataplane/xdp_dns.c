/*
 * xdp_dns.c — XDP steering for net_af_xdp: redirect only UDP to a service
 * address and the DNS port to the AF_XDP socket of the receive queue;
 * pass everything else (ARP, ND, ICMP, BGP, TCP/53, other UDP, fragments,
 * IPv4 options, IPv6 extension headers) to the kernel.
 *
 * Built with clang -O2 -g -target bpf; loaded by the af_xdp PMD through its
 * xdp_prog= devarg, which needs an XSKMAP named "xsks_map" keyed by queue.
 *
 * Why a map and not constants: the PMD opens and loads the object itself,
 * so pop53d gets no chance to set .rodata before load. After load, pop53d
 * finds this program on the interface (bpf_xdp_query_id), walks its maps
 * (bpf_prog_get_info_by_fd -> map ids) to the one named "p53_svc" and
 * writes the service addresses and port into it. Until then the map is
 * zero and every frame goes to the kernel, so a half-started pop53d never
 * black-holes anything.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xdp_dns.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdp_dns_svc);
} p53_svc SEC(".maps");

struct vlan_hdr_ {
	__be16 tci;
	__be16 proto;
};

static __always_inline int eq16(const __u8 *a, const __u8 *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return x[0] == y[0] && x[1] == y[1] && x[2] == y[2] && x[3] == y[3];
}

SEC("xdp")
int xdp_dns(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	const struct xdp_dns_svc *svc;
	struct udphdr *udp;
	__u32 key = 0;
	__u16 proto;
	void *l3;
	int hit = 0;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;
	svc = bpf_map_lookup_elem(&p53_svc, &key);
	if (!svc || (svc->n4 == 0 && svc->n6 == 0))
		return XDP_PASS;
	proto = eth->h_proto;
	l3 = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_hdr_ *vh = l3;

		if ((void *)(vh + 1) > end)
			return XDP_PASS;
		proto = vh->proto;
		l3 = vh + 1;
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = l3;
		__u32 n = svc->n4;

		if ((void *)(ip + 1) > end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
			return XDP_PASS;
		if (ip->frag_off & bpf_htons(0x3fff))   /* fragments: the kernel's */
			return XDP_PASS;
		for (__u32 i = 0; i < XDP_DNS_MAX_SVC; i++) {
			if (i >= n)
				break;
			if (*(const __u32 *)svc->v4[i] == ip->daddr) {
				hit = 1;
				break;
			}
		}
		udp = (struct udphdr *)(ip + 1);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = l3;
		__u32 n = svc->n6;

		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_UDP)
			return XDP_PASS;
		for (__u32 i = 0; i < XDP_DNS_MAX_SVC; i++) {
			if (i >= n)
				break;
			if (eq16(svc->v6[i], (const __u8 *)&ip6->daddr)) {
				hit = 1;
				break;
			}
		}
		udp = (struct udphdr *)(ip6 + 1);
	} else {
		return XDP_PASS;
	}
	if (!hit || (void *)(udp + 1) > end || udp->dest != svc->port)
		return XDP_PASS;
	return bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
