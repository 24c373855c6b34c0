/*
 * conf.c — pop53d's command line and configuration file -> ctl_daemon_opts.
 *
 * One table (fields[]) names every setting once: its flag, its place in
 * the file and what it must be. Both sources go through parse_value(), so
 * a flag and a key cannot drift apart. Checks that need the final picture
 * (files exist, one source of zones, what the push API needs) run once,
 * after the flags were applied over the file, and name where the value
 * came from.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "error.h"
#include "srv.h"
#include "yconf.h"

enum vkind {
	V_CONFIG, V_IO, V_LISTEN, V_ZONE, V_SNAPSHOT, V_UINT, V_NSID, V_TEXT, V_EAL,
	V_EXC_FLAG, V_EXC_MODE, V_PREFIX, V_DIR, V_SOCKET, V_HOSTPORT, V_FILE, V_KEY, V_SIZE,
};

enum field_id {
	F_CONFIG, F_IO, F_LISTEN, F_ZONE, F_SNAPSHOT, F_UDP, F_IDLE, F_CONNS, F_NSID,
	F_VERSION, F_IDENTITY, F_EAL, F_EXC, F_EXC_MODE, F_EXC_IFNAME, F_EXC_ADDR, F_STATE,
	F_CONTROL, F_PUSH, F_CERT, F_KEY, F_CA, F_TRUSTED, F_MAXB, F_TIMEOUT, F_METRICS,
	F_AGE, F_HINT, F_HFALL, F_HRISE, F_HHOLD, F_FAULT, F_BIRD, F_BSTATE, F_BHOLD,
	F_BDRAIN, F_RRL_R, F_RRL_ND, F_RRL_NX, F_RRL_REF, F_RRL_ERR, F_RRL_WIN, F_RRL_SLIP,
	F_RRL_V4, F_RRL_V6, F_RRL_LOG, F_RRL_TABLE, F_RRL_EXEMPT, F_COOKIE, F_COOKIE_FILE,
	F_ECS, F_ECS_V4, F_ECS_V6, F_ALIAS_RES, F_ALIAS_MIN, F_SIG_WARN, F_COUNT
};

struct field {
	const char *flag;   /* long option without "--"; NULL: file only */
	const char *path;   /* "section.key" in the file; NULL: flag only */
	enum vkind kind;
	size_t off;         /* where in struct ctl_daemon_opts */
	uint64_t min, max;  /* V_UINT, V_SIZE: range; V_TEXT, V_NSID: most bytes */
	const char *want;   /* what a value must be (V_UINT, V_SIZE: from the range) */
};

#define OFF(m) offsetof(struct ctl_daemon_opts, m)

static const struct field fields[F_COUNT] = {
	[F_CONFIG] = { "config", NULL, V_CONFIG, OFF(config_path), 0, 0, "a file name" },
	[F_IO] = { "io", "server.io", V_IO, OFF(io), 0, 0, "kernel or dpdk" },
	[F_LISTEN] = { "listen", "server.listen", V_LISTEN, 0, 0, 0,
		       "ADDR[@PORT] (an IPv4 or IPv6 address, port 1..65535; at most 16)" },
	[F_ZONE] = { "zone", "zones", V_ZONE, 0, 0, 0, "a zone file name (at most 256)" },
	[F_SNAPSHOT] = { "snapshot", "snapshot", V_SNAPSHOT, OFF(snapshot), 0, 0, "a file name" },
	[F_UDP] = { "udp-threads", "server.udp_threads", V_UINT, OFF(srv.udp_threads), 1, 256, NULL },
	[F_IDLE] = { "tcp-idle-ms", "server.tcp_idle_ms", V_UINT, OFF(srv.tcp_idle_ms), 1, 3600000,
		     NULL },
	[F_CONNS] = { "tcp-max-conns", "server.tcp_max_conns", V_UINT, OFF(srv.tcp_max_conns), 1,
		      1000000, NULL },
	[F_NSID] = { "nsid", "server.nsid", V_NSID, 0, 0, 128, "a text of 1..128 bytes" },
	[F_VERSION] = { "version-string", "server.version_string", V_TEXT, OFF(srv.engine.version),
			0, 255, "a text of 1..255 bytes" },
	[F_IDENTITY] = { "identity", "server.identity", V_TEXT, OFF(srv.engine.identity), 0, 255,
			 "a text of 1..255 bytes" },
	[F_EAL] = { "eal", "dpdk.eal", V_EAL, OFF(eal), 0, 0,
		    "EAL arguments (a string, or a list of arguments without blanks)" },
	[F_EXC] = { "exception", NULL, V_EXC_FLAG, 0, 0, 0, "tap or tap:IFNAME" },
	[F_EXC_MODE] = { NULL, "dpdk.exception", V_EXC_MODE, 0, 0, 0, "none or tap" },
	[F_EXC_IFNAME] = { NULL, "dpdk.exception_ifname", V_TEXT, OFF(exc_ifname), 0, 15,
			   "an interface name of 1..15 bytes" },
	[F_EXC_ADDR] = { "exception-addr", "dpdk.exception_addr", V_PREFIX, 0, 0, 0,
			 "ADDR/LEN (at most 16)" },
	[F_STATE] = { "state-dir", "state_dir", V_DIR, OFF(state_dir), 0, 0, "a directory name" },
	[F_CONTROL] = { "control-socket", "control.socket", V_SOCKET, OFF(control_socket), 0, 0,
			"a socket path of 1..107 bytes" },
	[F_PUSH] = { "push-listen", "push.listen", V_HOSTPORT, OFF(push_listen), 0, 0,
		     "ADDR@PORT (an IPv4 or IPv6 address and a port 1..65535)" },
	[F_CERT] = { "tls-cert", "push.tls.cert", V_FILE, OFF(tls_cert), 0, 0, "a file name" },
	[F_KEY] = { "tls-key", "push.tls.key", V_FILE, OFF(tls_key), 0, 0, "a file name" },
	[F_CA] = { "tls-client-ca", "push.tls.client_ca", V_FILE, OFF(tls_client_ca), 0, 0,
		   "a file name" },
	[F_TRUSTED] = { "trusted-key", "push.trusted_keys", V_KEY, 0, 0, 0,
			"a public key file name (at most 16)" },
	[F_MAXB] = { "push-max-bytes", "push.max_bytes", V_SIZE, OFF(push_max_bytes), 1024,
		     64ull << 30, NULL },
	[F_TIMEOUT] = { "push-timeout-ms", "push.timeout_ms", V_UINT, OFF(push_timeout_ms), 100,
			3600000, NULL },
	[F_METRICS] = { "metrics-listen", "metrics.listen", V_HOSTPORT, OFF(metrics_listen), 0, 0,
			"ADDR@PORT (an IPv4 or IPv6 address and a port 1..65535)" },
	[F_AGE] = { "max-snapshot-age", "health.max_snapshot_age", V_UINT, OFF(max_snapshot_age_s),
		    0, 315360000, NULL },
	[F_HINT] = { "health-interval-ms", "health.interval_ms", V_UINT, OFF(health_interval_ms),
		     20, 60000, NULL },
	[F_HFALL] = { "health-fall", "health.fall", V_UINT, OFF(health_fall), 1, 100, NULL },
	[F_HRISE] = { "health-rise", "health.rise", V_UINT, OFF(health_rise), 1, 100, NULL },
	[F_HHOLD] = { "health-hold-down-ms", "health.hold_down_ms", V_UINT,
		      OFF(health_hold_down_ms), 0, 3600000, NULL },
	[F_FAULT] = { "fault-injection", "debug.fault_injection", V_UINT, OFF(fault_injection),
		      0, 1, "0 or 1" },
	[F_BIRD] = { "bird-socket", "bgp.bird_socket", V_SOCKET, OFF(bgp_socket), 0, 0,
		     "a socket path of 1..107 bytes" },
	[F_BSTATE] = { "bgp-state-file", "bgp.state_file", V_SOCKET, OFF(bgp_state_file), 0, 0,
		       "a file name" },
	[F_BHOLD] = { "failsafe-interface", "bgp.failsafe_interface", V_TEXT,
		      OFF(bgp_failsafe_ifname), 0, 15, "an interface name of 1..15 bytes" },
	[F_BDRAIN] = { "drain-wait-ms", "bgp.drain_wait_ms", V_UINT, OFF(bgp_drain_wait_ms), 0,
		       600000, NULL },
	[F_RRL_R] = { "rrl-responses-per-second", "rrl.responses_per_second", V_UINT,
		      OFF(rrl_responses), 0, 1000000, NULL },
	[F_RRL_ND] = { "rrl-nodata-per-second", "rrl.nodata_per_second", V_UINT, OFF(rrl_nodata),
		       0, 1000000, NULL },
	[F_RRL_NX] = { "rrl-nxdomains-per-second", "rrl.nxdomains_per_second", V_UINT,
		       OFF(rrl_nxdomains), 0, 1000000, NULL },
	[F_RRL_REF] = { "rrl-referrals-per-second", "rrl.referrals_per_second", V_UINT,
			OFF(rrl_referrals), 0, 1000000, NULL },
	[F_RRL_ERR] = { "rrl-errors-per-second", "rrl.errors_per_second", V_UINT, OFF(rrl_errors),
			0, 1000000, NULL },
	[F_RRL_WIN] = { "rrl-window", "rrl.window", V_UINT, OFF(rrl_window), 1, 3600, NULL },
	[F_RRL_SLIP] = { "rrl-slip", "rrl.slip", V_UINT, OFF(rrl_slip), 0, 10, NULL },
	[F_RRL_V4] = { "rrl-ipv4-prefix-length", "rrl.ipv4_prefix_length", V_UINT, OFF(rrl_v4len),
		       8, 32, NULL },
	[F_RRL_V6] = { "rrl-ipv6-prefix-length", "rrl.ipv6_prefix_length", V_UINT, OFF(rrl_v6len),
		       16, 128, NULL },
	[F_RRL_LOG] = { "rrl-log-only", "rrl.log_only", V_UINT, OFF(rrl_log_only), 0, 1,
			"0 or 1" },
	[F_RRL_TABLE] = { "rrl-table-size", "rrl.table_size", V_UINT, OFF(rrl_table_size), 64,
			  16777216, NULL },
	[F_RRL_EXEMPT] = { "rrl-exempt", "rrl.exempt_clients", V_PREFIX, 0, 0, 0,
			   "ADDR/LEN (at most 32)" },
	[F_COOKIE] = { "cookie-secret", "cookies.secret", V_TEXT, OFF(cookie_secret), 0, 64,
		       "32 hexadecimal digits" },
	[F_COOKIE_FILE] = { "cookie-secret-file", "cookies.secret_file", V_FILE,
			    OFF(cookie_secret_file), 0, 0, "a file name" },
	[F_ECS] = { "ecs", "server.ecs", V_UINT, OFF(ecs), 0, 1, "0 or 1" },
	[F_ECS_V4] = { "ecs-ipv4-prefix-length", "server.ecs_ipv4_prefix_length", V_UINT,
		       OFF(ecs_v4len), 1, 32, NULL },
	[F_ECS_V6] = { "ecs-ipv6-prefix-length", "server.ecs_ipv6_prefix_length", V_UINT,
		       OFF(ecs_v6len), 1, 128, NULL },
	[F_ALIAS_RES] = { "alias-resolver", "policy.alias_resolvers", V_LISTEN, 0, 0, 0,
			  "ADDR[@PORT] (an IPv4 or IPv6 address, port 1..65535; at most 4)" },
	[F_ALIAS_MIN] = { "alias-min-refresh-s", "policy.alias_min_refresh_s", V_UINT,
			  OFF(alias_min_refresh_s), 1, 86400, NULL },
	[F_SIG_WARN] = { "dnssec-expiry-warning-s", "dnssec.expiry_warning_s", V_UINT,
			 OFF(dnssec_expiry_warning_s), 60, 31536000, NULL },
};

/* Sections of later issues: named so that a file written for a newer
 * pop53d fails clearly rather than as a typo. */
static const char *const reserved[] = { NULL };

struct ctl_conf {
	struct ctl_daemon_opts o;
	char **strs;                  /* every string o points to */
	size_t nstrs, capstrs;
	int argc;
	char **argv;                  /* a copy, for ctl_conf_reload */
	struct ctl_conf *next;        /* in live, once returned */
};

/* Every conf handed out and not yet freed, for ctl_conf_of. */
static struct ctl_conf *live;

/* Where a value came from: a file node, or a flag. */
struct origin {
	const struct yconf_node *node;
	const char *flag;
};

/* One load: the conf being filled and the positions of its values. */
struct ld {
	struct ctl_conf *c;
	struct diag *d;
	unsigned errors0;
	const char *dir;              /* the configuration file's directory */
	uint64_t cli_seen;            /* fields a flag has set */
	struct origin at[F_COUNT];
	struct origin zone_at[CTL_MAX_ZONES], key_at[CTL_MAX_KEYS];
	struct yconf_doc *doc;        /* the file, while origins point into it */
};

#define BIT(id) (1ull << (id))

static bool failed(const struct ld *l)
{
	return l->d->errors > l->errors0;
}

/* ---- strings the conf owns ------------------------------------------------- */

static char *keep_n(struct ctl_conf *c, const char *a, const char *b)
{
	char *s;

	if (c->nstrs == c->capstrs) {
		size_t cap = c->capstrs ? c->capstrs * 2 : 32;
		char **v = realloc(c->strs, cap * sizeof(*v));
		if (!v)
			return NULL;
		c->strs = v;
		c->capstrs = cap;
	}
	if (b ? asprintf(&s, "%s/%s", a, b) < 0 : !(s = strdup(a)))
		return NULL;
	return c->strs[c->nstrs++] = s;
}

static char *keep(struct ctl_conf *c, const char *s)
{
	return keep_n(c, s, NULL);
}

/* A path from the file is relative to the file's directory. */
static char *keep_path(struct ld *l, const char *p, bool from_file)
{
	if (from_file && l->dir && p[0] != '/')
		return keep_n(l->c, l->dir, p);
	return keep(l->c, p);
}

/* ---- parsers shared by flags and keys -------------------------------------- */

/* Decimal digits, no sign, no leading zero (YAML 1.1 reads 010 as 8). */
static int parse_uint(const char *s, uint64_t *out, const char **rest)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return P53_ESYNTAX;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return P53_ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	*rest = s;
	return 0;
}

int ctl_conf_parse_size(const char *text, uint64_t *out)
{
	static const char units[] = "KMG";
	const char *rest, *u;
	uint64_t v;
	int ret = parse_uint(text, &v, &rest);

	if (ret < 0)
		return ret;
	if (*rest) {
		if (rest[1] || !(u = strchr(units, *rest & ~0x20)) || !*u)
			return P53_ESYNTAX;
		for (int shift = (int)(u - units + 1) * 10; shift > 0; shift -= 10) {
			if (v > (UINT64_MAX >> 10))
				return P53_ERANGE;
			v <<= 10;
		}
	}
	*out = v;
	return 0;
}

static int in_range(const char *text, uint64_t min, uint64_t max, bool size, uint64_t *v)
{
	const char *rest;
	int ret = size ? ctl_conf_parse_size(text, v) : parse_uint(text, v, &rest);

	if (ret == 0 && !size && *rest)
		ret = P53_ESYNTAX;
	if (ret == 0 && (*v < min || *v > max))
		ret = P53_ERANGE;
	return ret;
}

static void size_text(uint64_t v, char *buf, size_t cap)
{
	static const char units[] = "KMG";
	int u = 0;

	while (u < 3 && v && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	snprintf(buf, cap, "%llu%.*s", (unsigned long long)v, u ? 1 : 0, u ? &units[u - 1] : "");
}

/* What field f's values must be, for messages. */
static const char *want(const struct field *f, char *buf, size_t cap)
{
	char lo[24], hi[24];

	if (f->kind == V_UINT) {
		snprintf(buf, cap, "an integer %llu..%llu", (unsigned long long)f->min,
			 (unsigned long long)f->max);
	} else if (f->kind == V_SIZE) {
		size_text(f->min, lo, sizeof(lo));
		size_text(f->max, hi, sizeof(hi));
		snprintf(buf, cap, "a byte count %s..%s (K, M, G: 1024-based)", lo, hi);
	} else {
		snprintf(buf, cap, "%s", f->want);
	}
	return buf;
}

/* "tap" or "tap:IFNAME". */
static int parse_exception(struct ld *l, const char *text)
{
	struct ctl_daemon_opts *o = &l->c->o;

	if (strncmp(text, "tap", 3) != 0 || (text[3] && (text[3] != ':' || !text[4])) ||
	    (text[3] && strlen(text + 4) > fields[F_EXC_IFNAME].max))
		return P53_ESYNTAX;
	o->exception = CTL_EXC_TAP;
	o->exc_ifname = NULL;
	if (text[3] && !(o->exc_ifname = keep(l->c, text + 4)))
		return P53_ENOMEM;
	return 0;
}

static int set_string(struct ld *l, enum field_id id, const char *text, bool from_file,
		      struct origin at)
{
	const struct field *f = &fields[id];
	const char **dst = (const char **)((char *)&l->c->o + f->off);
	bool is_path = f->kind != V_TEXT && f->kind != V_EAL && f->kind != V_HOSTPORT;
	struct srv_listen tmp;
	char *s;

	if (!*text || (f->kind == V_TEXT && strlen(text) > f->max))
		return P53_ESYNTAX;
	if (f->kind == V_HOSTPORT && (!strchr(text, '@') || srv_parse_listen(text, &tmp) < 0))
		return P53_ESYNTAX;
	if (!(s = is_path ? keep_path(l, text, from_file) : keep(l->c, text)))
		return P53_ENOMEM;
	if (f->kind == V_SOCKET && strlen(s) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return P53_ESYNTAX;
	*dst = s;
	l->at[id] = at;
	return 0;
}

/* Append to one of the lists (listen, zones, keys, exception addresses). */
static int add_item(struct ld *l, enum field_id id, const char *text, bool from_file,
		    struct origin at)
{
	struct ctl_daemon_opts *o = &l->c->o;

	switch (id) {
	case F_LISTEN:
		if (o->srv.nlisten == SRV_MAX_LISTEN)
			return P53_ELIMIT;
		if (srv_parse_listen(text, &o->srv.listen[o->srv.nlisten]) < 0)
			return P53_ESYNTAX;
		o->srv.nlisten++;
		return 0;
	case F_ALIAS_RES:
		if (o->nalias_resolvers == CTL_MAX_ALIAS_RESOLVERS)
			return P53_ELIMIT;
		if (srv_parse_listen(text, &o->alias_resolvers[o->nalias_resolvers]) < 0)
			return P53_ESYNTAX;
		o->nalias_resolvers++;
		return 0;
	case F_RRL_EXEMPT: {
		struct ctl_prefix p;

		if (o->nrrl_exempt == CTL_MAX_RRL_EXEMPT)
			return P53_ELIMIT;
		if (ctl_parse_prefix(text, &p) < 0)
			return P53_ESYNTAX;
		return (o->rrl_exempt[o->nrrl_exempt++] = keep(l->c, text)) ? 0 : P53_ENOMEM;
	}
	case F_EXC_ADDR:
		if (o->nexc_addr == CTL_MAX_EXC_ADDRS)
			return P53_ELIMIT;
		if (ctl_parse_prefix(text, &o->exc_addr[o->nexc_addr]) < 0)
			return P53_ESYNTAX;
		o->nexc_addr++;
		return 0;
	case F_ZONE:
		if (o->nzones == CTL_MAX_ZONES)
			return P53_ELIMIT;
		if (!*text)
			return P53_ESYNTAX;
		l->zone_at[o->nzones] = at;
		return (o->zones[o->nzones++] = keep_path(l, text, from_file)) ? 0 : P53_ENOMEM;
	default:   /* F_TRUSTED */
		if (o->nkeys == CTL_MAX_KEYS)
			return P53_ELIMIT;
		if (!*text)
			return P53_ESYNTAX;
		l->key_at[o->nkeys] = at;
		return (o->trusted_keys[o->nkeys++] = keep_path(l, text, from_file)) ? 0 :
			P53_ENOMEM;
	}
}

/* Set field id from text. Returns 0 or a p53_err: the caller reports it
 * with the value's position (P53_ENOMEM aside, "must be want(f)"). */
static int parse_value(struct ld *l, enum field_id id, const char *text, bool from_file,
		       struct origin at)
{
	struct ctl_daemon_opts *o = &l->c->o;
	const struct field *f = &fields[id];
	uint64_t v;
	int ret;

	switch (f->kind) {
	case V_IO:
		if (strcmp(text, "kernel") && strcmp(text, "dpdk"))
			return P53_ESYNTAX;
		o->io = strcmp(text, "dpdk") ? CTL_IO_KERNEL : CTL_IO_DPDK;
		return 0;
	case V_EXC_MODE:
		if (strcmp(text, "none") && strcmp(text, "tap"))
			return P53_ESYNTAX;
		o->exception = strcmp(text, "tap") ? CTL_EXC_NONE : CTL_EXC_TAP;
		return 0;
	case V_EXC_FLAG:
		return parse_exception(l, text);
	case V_UINT:
	case V_SIZE:
		if ((ret = in_range(text, f->min, f->max, f->kind == V_SIZE, &v)) < 0)
			return ret;
		if (f->kind == V_SIZE)
			*(uint64_t *)((char *)o + f->off) = v;
		else
			*(unsigned *)((char *)o + f->off) = (unsigned)v;
		return 0;
	case V_NSID:
		if (!*text || strlen(text) > f->max)
			return P53_ESYNTAX;
		if (!(o->srv.engine.nsid = (const uint8_t *)keep(l->c, text)))
			return P53_ENOMEM;
		o->srv.engine.nsid_len = (uint16_t)strlen(text);
		return 0;
	case V_LISTEN:
	case V_PREFIX:
	case V_ZONE:
	case V_KEY:
		return add_item(l, id, text, from_file, at);
	default:
		return set_string(l, id, text, from_file, at);
	}
}

/* ---- reporting ------------------------------------------------------------- */

static void report_flag(struct ld *l, enum field_id id, const char *text, int ret)
{
	char w[128];

	if (ret == P53_ENOMEM)
		diag_error(l->d, "pop53d", 0, 0, "out of memory");
	else
		diag_error(l->d, "pop53d", 0, 0, "--%s wants %s, got '%s'", fields[id].flag,
			   want(&fields[id], w, sizeof(w)), text);
}

static void report_node(struct ld *l, enum field_id id, const struct yconf_node *n, int ret)
{
	char w[128], name[160], shown[64];

	if (ret == P53_ENOMEM)
		yconf_error(n, l->d, "out of memory");
	else
		yconf_error(n, l->d, "%s must be %s, got %s", yconf_name(n, name, sizeof(name)),
			    want(&fields[id], w, sizeof(w)), yconf_show(n, shown, sizeof(shown)));
}

/* An error about a value, said where it came from. */
static void __attribute__((format(printf, 3, 4)))
report_at(struct ld *l, const struct origin *at, const char *fmt, ...)
{
	char msg[400], name[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (at->node)
		yconf_error(at->node, l->d, "%s: %s", yconf_name(at->node, name, sizeof(name)), msg);
	else
		diag_error(l->d, "pop53d", 0, 0, "--%s: %s", at->flag ? at->flag : "?", msg);
}

/* ---- the configuration file ------------------------------------------------ */

static void file_scalar(struct ld *l, enum field_id id, const struct yconf_node *n)
{
	int ret = yconf_kind(n) == YCONF_SCALAR ?
		parse_value(l, id, yconf_text(n), true, (struct origin){ .node = n }) : P53_ESYNTAX;

	if (ret < 0)
		report_node(l, id, n, ret);
}

static void file_list(struct ld *l, enum field_id id, const struct yconf_node *n)
{
	char name[160], shown[64];

	if (yconf_kind(n) != YCONF_SEQ) {
		yconf_error(n, l->d, "%s must be a list ([ a, b ] or '- a' lines), got %s",
			    yconf_name(n, name, sizeof(name)), yconf_show(n, shown, sizeof(shown)));
		return;
	}
	for (size_t i = 0; i < yconf_count(n); i++)
		file_scalar(l, id, yconf_at(n, i));
}

/* dpdk.eal: one string, or a list joined with blanks (pop53d splits the
 * string on blanks, so an item cannot hold one). */
static void file_eal(struct ld *l, const struct yconf_node *n)
{
	char buf[4096];
	size_t len = 0;

	if (yconf_kind(n) != YCONF_SEQ) {
		file_scalar(l, F_EAL, n);
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < yconf_count(n); i++) {
		const struct yconf_node *it = yconf_at(n, i);
		const char *t = yconf_text(it);
		if (yconf_kind(it) != YCONF_SCALAR || !*t || strpbrk(t, " \t\n") ||
		    len + strlen(t) + 2 > sizeof(buf)) {
			report_node(l, F_EAL, it, P53_ESYNTAX);
			return;
		}
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "", t);
	}
	int ret = parse_value(l, F_EAL, buf, true, (struct origin){ .node = n });
	if (ret < 0)
		report_node(l, F_EAL, n, ret);
}

static void file_value(struct ld *l, enum field_id id, const struct yconf_node *n)
{
	switch (fields[id].kind) {
	case V_LISTEN:
	case V_ZONE:
	case V_KEY:
	case V_PREFIX:
		file_list(l, id, n);
		break;
	case V_EAL:
		file_eal(l, n);
		break;
	default:
		file_scalar(l, id, n);
	}
}

static int field_by_path(const char *path)
{
	for (int i = 0; i < F_COUNT; i++)
		if (fields[i].path && !strcmp(fields[i].path, path))
			return i;
	return -1;
}

/* The keys that may appear in the section named by prefix ("" for the
 * top, "push.tls." for push.tls), gathered from fields[]. */
static size_t section_keys(const char *prefix, char names[][24], const char **keys, size_t cap)
{
	size_t n = 0, plen = strlen(prefix);

	for (int i = 0; i < F_COUNT && n + 1 < cap; i++) {
		const char *p = fields[i].path, *rest;
		size_t len, j;
		if (!p || strncmp(p, prefix, plen))
			continue;
		rest = p + plen;
		len = strcspn(rest, ".");
		for (j = 0; j < n && (strlen(keys[j]) != len || strncmp(keys[j], rest, len)); j++)
			;
		if (j < n || len >= 24)
			continue;
		memcpy(names[n], rest, len);
		names[n][len] = '\0';
		keys[n] = names[n];
		n++;
	}
	keys[n] = NULL;
	return n;
}

static void walk(struct ld *l, const struct yconf_node *map, const char *prefix);

static void walk_entry(struct ld *l, const struct yconf_node *map, size_t i, const char *prefix)
{
	const char *key = yconf_text(yconf_key_at(map, i));
	const struct yconf_node *val = yconf_at(map, i);
	char path[64];
	int id;

	if (snprintf(path, sizeof(path), "%s%s", prefix, key) >= (int)sizeof(path))
		return;   /* longer than any known key: reported as unknown */
	if ((id = field_by_path(path)) >= 0) {
		file_value(l, (enum field_id)id, val);
		return;
	}
	strcat(path, ".");
	for (int f = 0; f < F_COUNT; f++) {
		if (fields[f].path && !strncmp(fields[f].path, path, strlen(path))) {
			if (yconf_expect(val, YCONF_MAP, l->d) == 0)
				walk(l, val, path);
			return;
		}
	}
}

static void walk(struct ld *l, const struct yconf_node *map, const char *prefix)
{
	char names[24][24];
	const char *keys[24 + 3];
	size_t n = section_keys(prefix, names, keys, 24);

	if (!*prefix) {
		for (size_t i = 0; reserved[i]; i++)
			keys[n++] = reserved[i];
		keys[n] = NULL;
		for (size_t i = 0; i < yconf_count(map); i++) {
			const struct yconf_node *k = yconf_key_at(map, i);
			for (size_t r = 0; reserved[r]; r++)
				if (!strcmp(yconf_text(k), reserved[r]))
					yconf_error(k, l->d, "section '%s' is not supported by this "
						    "version of pop53d", reserved[r]);
		}
	}
	yconf_check_keys(map, keys, l->d);
	for (size_t i = 0; i < yconf_count(map); i++)
		walk_entry(l, map, i, prefix);
}

/* Values from the file; l->doc keeps their positions for check(). */
static int load_file(struct ld *l, const char *path)
{
	const struct yconf_node *root, *z, *s;
	char *dir, *slash;
	int ret;

	if (!(l->c->o.config_path = keep(l->c, path)) || !(dir = keep(l->c, path)))
		return P53_ENOMEM;
	if ((slash = strrchr(dir, '/'))) {
		*slash = '\0';   /* "/x.yaml": "", and "/" is put back by the join */
		l->dir = dir;
	}
	if ((ret = yconf_load_file(path, l->d, &l->doc)) < 0)
		return ret;
	root = yconf_root(l->doc);
	if (yconf_kind(root) != YCONF_NULL && yconf_expect(root, YCONF_MAP, l->d) == 0)
		walk(l, root, "");
	if ((z = yconf_get(root, "zones")) && (s = yconf_get(root, "snapshot")))
		yconf_error(yconf_line(s) > yconf_line(z) ? s : z, l->d,
			    "'zones' and 'snapshot' exclude each other: give one of them");
	return failed(l) ? P53_ESYNTAX : 0;
}

/* ---- the command line ------------------------------------------------------ */

static void long_options(struct option *opts)
{
	size_t n = 0;

	for (int i = 0; i < F_COUNT; i++)
		if (fields[i].flag)
			opts[n++] = (struct option){ fields[i].flag, required_argument, NULL, 256 + i };
	opts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	opts[n] = (struct option){ 0 };
}

/* The first use of a list flag replaces the file's list; --zone and
 * --snapshot replace whatever the file serves from. */
static void first_use(struct ld *l, enum field_id id)
{
	struct ctl_daemon_opts *o = &l->c->o;

	if (id == F_LISTEN)
		o->srv.nlisten = 0;
	else if (id == F_ALIAS_RES)
		o->nalias_resolvers = 0;
	else if (id == F_EXC_ADDR)
		o->nexc_addr = 0;
	else if (id == F_RRL_EXEMPT)
		o->nrrl_exempt = 0;
	else if (id == F_TRUSTED)
		o->nkeys = 0;
	else if ((id == F_ZONE || id == F_SNAPSHOT) &&
		 !(l->cli_seen & (BIT(F_ZONE) | BIT(F_SNAPSHOT)))) {
		o->nzones = 0;
		o->snapshot = NULL;
	}
}

static void apply_flag(struct ld *l, enum field_id id, const char *text)
{
	int ret;

	if (!(l->cli_seen & BIT(id)))
		first_use(l, id);
	l->cli_seen |= BIT(id);
	ret = parse_value(l, id, text, false, (struct origin){ .flag = fields[id].flag });
	if (ret < 0)
		report_flag(l, id, text, ret);
}

/* One getopt pass. The first (apply false) checks the grammar and finds
 * --help and --config (*config); the second applies every flag over what
 * the file set. */
static int args_pass(struct ld *l, bool apply, const char **config)
{
	struct option opts[F_COUNT + 2];
	char **argv = l->c->argv;
	int ch, help = 0;

	long_options(opts);
	optind = 0;   /* glibc: start afresh (reload parses the same argv again) */
	opterr = 0;
	while ((ch = getopt_long(l->c->argc, argv, "+:h", opts, NULL)) != -1) {
		if (ch == 'h')
			help = 1;
		else if (ch == '?' || ch == ':') {
			if (!apply)
				diag_error(l->d, "pop53d", 0, 0, ch == '?' ? "unknown option '%s'" :
					   "option '%s' needs a value", argv[optind - 1]);
		} else if (ch - 256 == F_CONFIG) {
			if (!apply)
				*config = optarg;
		} else if (apply) {
			apply_flag(l, (enum field_id)(ch - 256), optarg);
		}
	}
	if (!apply && optind < l->c->argc)
		diag_error(l->d, "pop53d", 0, 0, "unexpected argument '%s' (every value follows "
			   "its --option)", argv[optind]);
	if (help)
		return CTL_CONF_HELP;
	return failed(l) ? P53_ESYNTAX : 0;
}

/* ---- checks of the whole picture ------------------------------------------- */

static void readable(struct ld *l, const struct origin *at, const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		report_at(l, at, "cannot read %s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		report_at(l, at, "%s is not a regular file", path);
	if (fd >= 0)
		close(fd);
}

static void directory(struct ld *l, const struct origin *at, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 && errno == ENOENT)
		report_at(l, at, "directory %s does not exist (pop53d does not create it)", path);
	else if (stat(path, &st) < 0)
		report_at(l, at, "cannot use directory %s: %s", path, strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		report_at(l, at, "%s is not a directory", path);
	else if (access(path, R_OK | W_OK | X_OK) < 0)
		report_at(l, at, "directory %s is not writable: %s", path, strerror(errno));
}

static void check_files(struct ld *l)
{
	static const enum field_id singles[] = { F_SNAPSHOT, F_CERT, F_KEY, F_CA };
	const struct ctl_daemon_opts *o = &l->c->o;

	for (size_t i = 0; i < o->nzones; i++)
		readable(l, &l->zone_at[i], o->zones[i]);
	for (size_t i = 0; i < o->nkeys; i++)
		readable(l, &l->key_at[i], o->trusted_keys[i]);
	for (size_t i = 0; i < sizeof(singles) / sizeof(singles[0]); i++) {
		const char *p = *(const char *const *)((const char *)o + fields[singles[i]].off);
		if (p)
			readable(l, &l->at[singles[i]], p);
	}
	if (o->state_dir)
		directory(l, &l->at[F_STATE], o->state_dir);
}

/* The push API is mutual TLS and signed snapshots or nothing. */
static void check_push(struct ld *l)
{
	static const enum field_id need[] = { F_CERT, F_KEY, F_CA };
	const struct ctl_daemon_opts *o = &l->c->o;

	if (!o->push_listen)
		return;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!*(const char *const *)((const char *)o + fields[need[i]].off))
			report_at(l, &l->at[F_PUSH], "the push API needs %s (--%s)",
				  fields[need[i]].path, fields[need[i]].flag);
	if (!o->nkeys)
		report_at(l, &l->at[F_PUSH], "the push API needs at least one trusted controller "
			  "key: push.trusted_keys (--trusted-key)");
}

/* Anycast needs both ends of the BIRD configuration it drives. */
static void check_bgp(struct ld *l)
{
	const struct ctl_daemon_opts *o = &l->c->o;

	if (o->bgp_socket && !o->bgp_state_file)
		report_at(l, &l->at[F_BIRD], "announcing through BIRD needs bgp.state_file "
			  "(--bgp-state-file): the include file BIRD's static protocols read");
	if (!o->bgp_socket && (o->bgp_state_file || o->bgp_failsafe_ifname))
		report_at(l, o->bgp_state_file ? &l->at[F_BSTATE] : &l->at[F_BHOLD],
			  "this needs bgp.bird_socket (--bird-socket)");
}

static void check(struct ld *l)
{
	const struct ctl_daemon_opts *o = &l->c->o;

	if (!o->srv.nlisten)
		diag_error(l->d, "pop53d", 0, 0, "need at least one --listen ADDR[@PORT] "
			   "(server.listen in the configuration file)");
	check_bgp(l);
	if (o->nzones && o->snapshot)
		diag_error(l->d, "pop53d", 0, 0, "--zone and --snapshot exclude each other: "
			   "give one of them");
	else if (!o->nzones && !o->snapshot && !o->state_dir)
		diag_error(l->d, "pop53d", 0, 0, "need either --zone or --snapshot (zones or "
			   "snapshot in the configuration file), or a state directory holding a "
			   "stored snapshot (--state-dir, state_dir)");
	if (o->exc_ifname && o->exception != CTL_EXC_TAP)
		report_at(l, &l->at[F_EXC_IFNAME], "needs dpdk.exception: tap");
	check_push(l);
	check_files(l);
}

/* Hand checked values to the modules that own them, in their own types. */
static void apply(struct ctl_daemon_opts *o)
{
	o->srv.engine.ecs = (uint8_t)o->ecs;
	o->srv.engine.ecs_v4_cap = (uint8_t)o->ecs_v4len;
	o->srv.engine.ecs_v6_cap = (uint8_t)o->ecs_v6len;
}

/* ---- public ---------------------------------------------------------------- */

static struct ctl_conf *conf_new(int argc, char *const *argv)
{
	struct ctl_conf *c = calloc(1, sizeof(*c));

	if (!c || !(c->argv = calloc((size_t)argc + 1, sizeof(*c->argv))))
		goto fail;
	for (c->argc = 0; c->argc < argc; c->argc++)
		if (!(c->argv[c->argc] = strdup(argv[c->argc])))
			goto fail;
	engine_conf_init(&c->o.srv.engine);
	/* RRL: BIND's recommendations; the kinds inherit responses. */
	c->o.rrl_nodata = c->o.rrl_nxdomains = c->o.rrl_referrals = c->o.rrl_errors =
		CTL_RRL_INHERIT;
	c->o.rrl_window = 15;
	c->o.rrl_slip = 2;
	c->o.rrl_v4len = 24;
	c->o.rrl_v6len = 56;
	c->o.rrl_table_size = 65536;
	c->o.ecs_v4len = ENGINE_ECS_V4_CAP;
	c->o.ecs_v6len = ENGINE_ECS_V6_CAP;
	c->o.push_max_bytes = CTL_CONF_PUSH_MAX_BYTES;
	c->o.push_timeout_ms = CTL_CONF_PUSH_TIMEOUT_MS;
	return c;
fail:
	ctl_conf_free(c);
	return NULL;
}

void ctl_conf_free(struct ctl_conf *c)
{
	if (!c)
		return;
	for (struct ctl_conf **p = &live; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	for (size_t i = 0; i < c->nstrs; i++)
		free(c->strs[i]);
	free(c->strs);
	for (int i = 0; c->argv && i < c->argc; i++)
		free(c->argv[i]);
	free(c->argv);
	free(c);
}

int ctl_conf_from_args(int argc, char *const *argv, struct diag *d, struct ctl_conf **out)
{
	struct ld *l = calloc(1, sizeof(*l));
	const char *config = NULL;
	int ret = P53_ENOMEM;

	*out = NULL;
	if (!l || !(l->c = conf_new(argc, argv))) {
		diag_error(d, "pop53d", 0, 0, "out of memory");
		goto fail;
	}
	l->d = d;
	l->errors0 = d->errors;
	if ((ret = args_pass(l, false, &config)) != 0)
		goto fail;
	if (config && (ret = load_file(l, config)) < 0)
		goto fail;
	args_pass(l, true, NULL);
	if (!failed(l))
		check(l);
	if (failed(l)) {
		ret = P53_ESYNTAX;
		goto fail;
	}
	apply(&l->c->o);
	*out = l->c;
	l->c->next = live;
	live = l->c;
	yconf_free(l->doc);
	free(l);
	return 0;
fail:
	if (l) {
		ctl_conf_free(l->c);
		yconf_free(l->doc);
	}
	free(l);
	return ret;
}

int ctl_conf_load(const char *path, struct diag *d, struct ctl_conf **out)
{
	char *argv[] = { (char *)"pop53d", (char *)"--config", (char *)path, NULL };

	return ctl_conf_from_args(3, argv, d, out);
}

int ctl_conf_reload(const struct ctl_conf *running, struct diag *d, struct ctl_conf **out)
{
	return ctl_conf_from_args(running->argc, running->argv, d, out);
}

struct ctl_daemon_opts *ctl_conf_opts(struct ctl_conf *c)
{
	return &c->o;
}

const struct ctl_conf *ctl_conf_of(const struct ctl_daemon_opts *o)
{
	for (const struct ctl_conf *c = live; c; c = c->next)
		if (&c->o == o)
			return c;
	return NULL;
}

void ctl_conf_usage(FILE *f)
{
	fputs("usage: pop53d [--config FILE] [--io kernel|dpdk] --listen ADDR[@PORT]...\n"
	      "              (--zone FILE... | --snapshot FILE | --state-dir DIR)\n"
	      "              [--udp-threads N] [--tcp-idle-ms N] [--tcp-max-conns N]\n"
	      "              [--nsid TEXT] [--version-string TEXT] [--identity TEXT] [--eal 'ARGS']\n"
	      "              [--exception tap[:IFNAME]] [--exception-addr ADDR/LEN]...\n"
	      "              [--state-dir DIR] [--control-socket PATH] [--metrics-listen ADDR@PORT]\n"
	      "              [--push-listen ADDR@PORT --tls-cert FILE --tls-key FILE\n"
	      "               --tls-client-ca FILE --trusted-key FILE...]\n"
	      "              [--push-max-bytes N[K|M|G]] [--push-timeout-ms N]\n"
	      "              [--max-snapshot-age SECONDS] [--health-interval-ms N]\n"
	      "              [--health-fall N] [--health-rise N] [--health-hold-down-ms N]\n"
	      "              [--bird-socket PATH --bgp-state-file FILE [--failsafe-interface NAME]\n"
	      "               [--drain-wait-ms N]] [--fault-injection 0|1]\n"
	      "              [--rrl-responses-per-second N (0: off) [--rrl-nxdomains-per-second N]\n"
	      "               [--rrl-nodata-per-second N] [--rrl-referrals-per-second N]\n"
	      "               [--rrl-errors-per-second N] [--rrl-window S] [--rrl-slip N]\n"
	      "               [--rrl-ipv4-prefix-length N] [--rrl-ipv6-prefix-length N]\n"
	      "               [--rrl-log-only 0|1] [--rrl-table-size N] [--rrl-exempt ADDR/LEN]...]\n"
	      "              [--cookie-secret HEX | --cookie-secret-file FILE]\n"
	      "              [--ecs 0|1 [--ecs-ipv4-prefix-length N] [--ecs-ipv6-prefix-length N]]\n"
	      "              [--alias-resolver ADDR[@PORT]]... [--alias-min-refresh-s N]\n"
	      "              [--dnssec-expiry-warning-s N]\n"
	      "--config FILE reads a YAML configuration (docs/config.md); every flag given\n"
	      "overrides the file, and a repeated flag replaces the file's whole list.\n"
	      "SIGHUP reloads the zones (or the snapshot); a failed reload changes nothing.\n"
	      "--exception tap (DPDK mode, ports other than af_xdp): frames that are not DNS go to\n"
	      "the kernel through a TAP interface (IFNAME, default p53x<port>) with the port's MAC,\n"
	      "the service addresses and each --exception-addr (the link addresses).\n"
	      "--push-listen starts the HTTPS push API (mutual TLS: --tls-client-ca signs the\n"
	      "controllers' certificates; snapshots must be signed by a --trusted-key).\n",
	      f);
}
