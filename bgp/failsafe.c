/*
 * failsafe.c — the TAP interface that lives exactly as long as pop53d
 * (see failsafe.h).
 */
#include "failsafe.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "error.h"

struct bgp_failsafe {
	char name[IFNAMSIZ];
	unsigned ifindex;
	int fd;
};

/* SIOCGIFFLAGS/SIOCSIFFLAGS: up unless it is. */
static int set_up(const char *name, char *err, size_t errlen)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = P53_EIO;

	if (s < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return P53_EIO;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		goto fail;
	rc = 0;
	if (ifr.ifr_flags & IFF_UP)
		goto done;
	ifr.ifr_flags |= IFF_UP;
	rc = 1;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) == 0)
		goto done;
	rc = P53_EIO;
fail:
	snprintf(err, errlen, "cannot bring %s up: %s", name, strerror(errno));
done:
	close(s);
	return rc;
}

/* Best effort: no IPv6 link-local address, no router solicitations or
 * MLD reports queued into a descriptor nobody reads. */
static void ipv6_off(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, "1", 1) != 1) {
		/* IPv6 compiled out or sysctl read-only: harmless. */
	}
	close(fd);
}

static int hold(struct bgp_failsafe *f, char *err, size_t errlen)
{
	struct ifreq ifr;
	int rc;

	if (if_nametoindex(f->name) != 0) {
		snprintf(err, errlen, "interface %s exists already (another pop53d holds it, "
			 "or it is persistent: ip link del %s)", f->name, f->name);
		return P53_EEXIST;
	}
	f->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (f->fd < 0) {
		snprintf(err, errlen, "cannot open /dev/net/tun: %s", strerror(errno));
		return errno == ENOENT || errno == ENODEV || errno == ENXIO ? P53_ENOTSUP : P53_EIO;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", f->name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	/* Deliberately no TUNSETPERSIST: the interface must die with us. */
	if (ioctl(f->fd, TUNSETIFF, &ifr) < 0) {
		snprintf(err, errlen, "cannot create TAP %s: %s", f->name, strerror(errno));
		rc = errno == EBUSY ? P53_EEXIST : P53_EIO;
		goto fail;
	}
	f->ifindex = if_nametoindex(f->name);
	ipv6_off(f->name);
	rc = set_up(f->name, err, errlen);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	close(f->fd);
	f->fd = -1;
	return rc;
}

int bgp_failsafe_open(struct bgp_failsafe **out, const char *ifname,
		      char *err, size_t errlen)
{
	struct bgp_failsafe *f;
	int rc;

	*out = NULL;
	ifname = ifname ? ifname : BGP_FAILSAFE_IFNAME;
	if (!*ifname || strlen(ifname) >= IFNAMSIZ || strpbrk(ifname, "/ \t\n")) {
		snprintf(err, errlen, "bad fail-safe interface name '%s'", ifname);
		return P53_EINVAL;
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return P53_ENOMEM;
	}
	snprintf(f->name, sizeof(f->name), "%s", ifname);
	rc = hold(f, err, errlen);
	if (rc < 0) {
		free(f);
		return rc;
	}
	*out = f;
	return 0;
}

int bgp_failsafe_check(struct bgp_failsafe *f, char *err, size_t errlen)
{
	int rc;

	if (f->fd >= 0 && if_nametoindex(f->name) == f->ifindex)
		return set_up(f->name, err, errlen);
	/* Deleted under us (or never re-made after a failed check). */
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	rc = hold(f, err, errlen);
	return rc < 0 ? rc : 1;
}

int bgp_failsafe_down(const char *ifname)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = P53_EIO;

	if (s < 0)
		return P53_EIO;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags &= ~IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) == 0)
			ret = 0;
	}
	close(s);
	return ret;
}

const char *bgp_failsafe_ifname(const struct bgp_failsafe *f)
{
	return f->name;
}

int bgp_failsafe_fd(const struct bgp_failsafe *f)
{
	return f->fd;
}

void bgp_failsafe_close(struct bgp_failsafe *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	free(f);
}
