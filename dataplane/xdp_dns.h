/*
 * xdp_dns.h — the service map shared by the XDP steering program
 * (xdp_dns.c) and its filler (dpdk.c). One entry, key 0, in an array map
 * named "p53_svc". Until it is filled (n4 == n6 == 0) the program passes
 * every frame to the kernel.
 */
#ifndef POP53_XDP_DNS_H
#define POP53_XDP_DNS_H

#include <linux/types.h>

#define XDP_DNS_MAX_SVC 16          /* = PKT_MAX_SERVICES */
#define XDP_DNS_SVC_MAP "p53_svc"

struct xdp_dns_svc {
	__u32 n4;                   /* IPv4 service addresses in v4 */
	__u32 n6;                   /* IPv6 service addresses in v6 */
	__u8 v4[XDP_DNS_MAX_SVC][4];
	__u8 v6[XDP_DNS_MAX_SVC][16];
	__u16 port;                 /* DNS port, network byte order */
	__u16 pad;
};

#endif
