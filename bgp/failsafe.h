/*
 * failsafe.h — withdraw the anycast prefixes when pop53d dies, with no
 * other process acting.
 *
 * pop53d creates a TAP interface ("p53hold0") and keeps only its file
 * descriptor: no TUNSETPERSIST, so the kernel deletes the interface when
 * the last descriptor closes, which happens on any death of the process
 * (SIGKILL, crash, OOM kill). BIRD's static routes for the service
 * prefixes point at it (`route 192.0.2.53/32 via "p53hold0";`); BIRD
 * hears the deletion over netlink and withdraws them (measured: see
 * docs/anycast.md). The descriptor is close-on-exec so a child cannot keep
 * the interface alive after pop53d is gone. The interface is brought up
 * (BIRD ignores a device route on a down interface) and has IPv6 off so
 * the kernel sends nothing into it; nobody reads the descriptor.
 *
 * A hang of pop53d keeps the descriptor open: that case is for the health
 * checks (stalled workers withdraw) and a supervisor's watchdog.
 * Needs CAP_NET_ADMIN and /dev/net/tun; pop53d and BIRD must share the
 * network namespace.
 */
#ifndef POP53_BGP_FAILSAFE_H
#define POP53_BGP_FAILSAFE_H

#include <stddef.h>

#define BGP_FAILSAFE_IFNAME "p53hold0"

struct bgp_failsafe;

/* Create the interface ifname (NULL = BGP_FAILSAFE_IFNAME) held by a new
 * descriptor and bring it up. Returns 0 and *out, or P53_EINVAL (bad
 * name), P53_EEXIST (the interface exists: another pop53d holds it, or it
 * was made persistent), P53_ENOTSUP (no TUN/TAP in the kernel), P53_EIO
 * (no permission, ioctl failed), P53_ENOMEM, with err filled. */
int bgp_failsafe_open(struct bgp_failsafe **out, const char *ifname,
		      char *err, size_t errlen);

/* Make sure the interface is still ours and up: re-create it if someone
 * deleted it (`ip link del`), bring it up if someone downed it. Call it on
 * a timer. Returns 0 (fine), 1 (repaired), or a negative code as
 * bgp_failsafe_open with err filled. */
int bgp_failsafe_check(struct bgp_failsafe *f, char *err, size_t errlen);

/* The interface name. */
const char *bgp_failsafe_ifname(const struct bgp_failsafe *f);

/* The descriptor holding the interface (-1 after a failed check). */
int bgp_failsafe_fd(const struct bgp_failsafe *f);

/* Take the interface ifname down (BIRD then withdraws the routes through
 * it) without touching the descriptor: for a watchdog thread that finds
 * pop53d's event loop hung (bgp_failsafe_check brings it up again once
 * the loop runs). Thread-safe: only ioctls on a socket of its own.
 * 0, or P53_EIO. */
int bgp_failsafe_down(const char *ifname);

/* Close the descriptor (the interface vanishes, BIRD withdraws) and free
 * f. NULL is fine. */
void bgp_failsafe_close(struct bgp_failsafe *f);

#endif
