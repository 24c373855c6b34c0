/*
 * policy_parse.c — the policy file (YAML, docs/policy.md) -> the compiled
 * blob of policy_format.h.
 *
 * The file is walked once into growable tables that already have the
 * blob's layout (offsets into the data section are relative until the
 * blob is assembled). Every mistake is reported at its file:line:col and
 * the walk goes on, so that one run shows them all; no blob comes out of
 * a file with an error.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "dname.h"
#include "error.h"
#include "policy.h"
#include "policy_format.h"
#include "rdata.h"

#define DEFAULT_TTL        60
#define NAME_MAX_LEN       63     /* check and region names */

struct arr {
	void *v;
	size_t n, cap;
};

struct named {
	const char *name;
	uint32_t idx;
};

/* A record as found in the file, before sorting. */
struct recsrc {
	uint8_t name[DNAME_MAXLEN];
	uint16_t len;
	uint16_t type;
	size_t order;
	const struct yconf_node *map;
};

struct cc {
	struct diag *d;
	unsigned errors0;
	bool oom;
	struct arr recs, nodes, mems, eps, checks, refs, regions, data;
	struct named *check_idx, *region_idx;
	const struct yconf_node **check_at;   /* each check's key, for messages */
	/* the record being compiled */
	uint16_t rec_type;
	uint32_t tree_members;
	bool tree_client, tree_health;
};

static bool failed(const struct cc *c)
{
	return c->oom || c->d->errors > c->errors0;
}

/* A zeroed new item of size bytes at the end of a; NULL (and c->oom) when
 * memory runs out. Items move: keep indexes, not pointers, across pushes. */
static void *push(struct cc *c, struct arr *a, size_t size)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		void *v = realloc(a->v, cap * size);
		if (!v) {
			c->oom = true;
			return NULL;
		}
		a->v = v;
		a->cap = cap;
	}
	memset((char *)a->v + a->n * size, 0, size);
	return (char *)a->v + a->n++ * size;
}

#define AT(a, type, i) (&((type *)(a).v)[i])

/* Append len bytes to the data section; returns their relative offset. */
static uint32_t add_bytes(struct cc *c, const void *p, size_t len)
{
	uint32_t off = (uint32_t)c->data.n;

	if (c->data.n + len > c->data.cap) {
		size_t cap = c->data.cap ? c->data.cap : 4096;
		void *v;
		while (cap < c->data.n + len)
			cap *= 2;
		if (!(v = realloc(c->data.v, cap))) {
			c->oom = true;
			return 0;
		}
		c->data.v = v;
		c->data.cap = cap;
	}
	if (len)
		memcpy((uint8_t *)c->data.v + c->data.n, p, len);
	c->data.n += len;
	return off;
}

static struct pol_str add_str(struct cc *c, const char *s)
{
	size_t len = strlen(s);

	return (struct pol_str){ .off = add_bytes(c, s, len + 1), .len = (uint32_t)len };
}

static int named_cmp(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

static uint32_t lookup(const struct named *idx, size_t n, const char *name)
{
	struct named key = { .name = name };
	const struct named *hit = n ? bsearch(&key, idx, n, sizeof(*idx), named_cmp) : NULL;

	return hit ? hit->idx : POL_NONE;
}

/* ---- scalar helpers ---------------------------------------------------------- */

static bool word_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > NAME_MAX_LEN)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

/* A decimal number (optional sign and fraction) in min..max. */
static int get_number(struct cc *c, const struct yconf_node *n, double min, double max,
		      bool integer, double *out)
{
	const char *s = yconf_text(n), *p;
	char name[160], shown[64], *end;
	double v;

	p = s && (*s == '-' || *s == '+') ? s + 1 : s;
	if (yconf_kind(n) == YCONF_SCALAR && *p >= '0' && *p <= '9' &&
	    strspn(p, "0123456789.") == strlen(p) && (!integer || !strchr(p, '.'))) {
		v = strtod(s, &end);
		if (!*end && isfinite(v) && v >= min && v <= max) {
			*out = v;
			return 0;
		}
	}
	yconf_error(n, c->d, "%s must be %s %g..%g, got %s", yconf_name(n, name, sizeof(name)),
		    integer ? "an integer" : "a number", min, max, yconf_show(n, shown, sizeof(shown)));
	return P53_ESYNTAX;
}

static int get_uint(struct cc *c, const struct yconf_node *map, const char *key, uint64_t min,
		    uint64_t max, uint64_t def, uint64_t *out)
{
	const struct yconf_node *n = yconf_get(map, key);

	*out = def;
	return n ? yconf_uint(n, min, max, c->d, out) : 0;
}

static int get_bool(struct cc *c, const struct yconf_node *map, const char *key, bool def,
		    bool *out)
{
	const struct yconf_node *n = yconf_get(map, key);

	*out = def;
	return n ? yconf_bool(n, c->d, out) : 0;
}

/* A string that is required (missing: reported at map). */
static const char *need_str(struct cc *c, const struct yconf_node *map, const char *key,
			    const char *what)
{
	const struct yconf_node *n = yconf_get(map, key);
	const char *s = NULL;

	if (!n)
		yconf_error(map, c->d, "%s needs '%s'", what, key);
	else if (yconf_str(n, c->d, &s) < 0)
		s = NULL;
	return s;
}

/* ---- latency regions ------------------------------------------------------------ */

static void parse_latency(struct cc *c, const struct yconf_node *sec)
{
	static const char *const keys[] = { "regions", NULL };
	const struct yconf_node *list;
	size_t n;

	if (yconf_expect(sec, YCONF_MAP, c->d) < 0 || yconf_check_keys(sec, keys, c->d) < 0)
		return;
	if (!(list = yconf_get(sec, "regions"))) {
		yconf_error(sec, c->d, "'latency' needs 'regions': the list of region names");
		return;
	}
	if (yconf_expect(list, YCONF_SEQ, c->d) < 0)
		return;
	n = yconf_count(list);
	if (n > POLICY_MAX_REGIONS) {
		yconf_error(list, c->d, "more than %u latency regions", POLICY_MAX_REGIONS);
		return;
	}
	if (!(c->region_idx = calloc(n ? n : 1, sizeof(*c->region_idx)))) {
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct yconf_node *it = yconf_at(list, i);
		const char *s;
		struct pol_str *slot;
		if (yconf_str(it, c->d, &s) < 0)
			continue;
		if (!word_ok(s)) {
			yconf_error(it, c->d, "a region name is 1..63 letters, digits, '-', '_' or '.'");
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(yconf_text(yconf_at(list, j)), s))
				yconf_error(it, c->d, "region '%s' is listed twice (first at line %u)",
					    s, yconf_line(yconf_at(list, j)));
		if (!(slot = push(c, &c->regions, sizeof(*slot))))
			return;
		*slot = add_str(c, s);
		c->region_idx[c->regions.n - 1] = (struct named){ s, (uint32_t)(c->regions.n - 1) };
	}
	qsort(c->region_idx, c->regions.n, sizeof(*c->region_idx), named_cmp);
}

/* ---- health checks ---------------------------------------------------------------- */

static const char *const check_types[] = { "tcp", "http", "https", "calculated", NULL };
static const char *const check_ops[] = { "and", "or", "at_least", NULL };
static const char *const tcp_keys[] = { "type", "target", "port", "interval_ms", "timeout_ms",
					"fall", "rise", "quorum", NULL };
static const char *const http_keys[] = { "type", "target", "port", "host", "path", "status",
					 "body", "interval_ms", "timeout_ms", "fall", "rise",
					 "quorum", NULL };
static const char *const calc_keys[] = { "type", "op", "n", "members", NULL };

static bool is_address(const char *s)
{
	uint8_t a[16];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

static void __attribute__((format(printf, 3, 4)))
warn_at(struct cc *c, const struct yconf_node *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_warn(c->d, yconf_file(n), yconf_line(n), yconf_col(n), "%s", msg);
}

static bool host_ok(const char *s)
{
	size_t n = strlen(s);

	if (is_address(s))
		return true;
	if (n < 1 || n > 253)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '.'))
			return false;
	return true;
}

/* "200" or "200-399", within 100..599. */
static void parse_status(struct cc *c, const struct yconf_node *n, struct pol_check *k)
{
	const char *s = yconf_text(n);
	char *end;
	unsigned long lo, hi;

	if (yconf_kind(n) != YCONF_SCALAR || *s < '0' || *s > '9')
		goto bad;
	lo = hi = strtoul(s, &end, 10);
	if (*end == '-') {
		if (end[1] < '0' || end[1] > '9')
			goto bad;
		hi = strtoul(end + 1, &end, 10);
	}
	if (*end || lo < 100 || hi > 599 || lo > hi)
		goto bad;
	k->status_lo = (uint16_t)lo;
	k->status_hi = (uint16_t)hi;
	return;
bad:
	yconf_error(n, c->d, "'status' must be a status code or a range like 200-399 "
		    "(within 100..599), got \"%s\"", s ? s : "");
}

static void parse_probe(struct cc *c, const struct yconf_node *map, struct pol_check *k)
{
	const struct yconf_node *n;
	const char *target = need_str(c, map, "target", "a tcp, http or https check"), *s;
	bool web = k->type != POLICY_CHECK_TCP;
	uint64_t v;

	if (target && !host_ok(target))
		yconf_error(yconf_get(map, "target"), c->d, "'target' must be an IP address or a "
			    "host name, got \"%s\"", target);
	else if (target && !is_address(target))
		warn_at(c, yconf_get(map, "target"), "'target' %s is a host name: pop53d does "
			"not resolve names while serving and refuses the snapshot; give the "
			"address, and the name as 'host'", target);
	k->target = add_str(c, target ? target : "");
	if (!web && !yconf_get(map, "port"))
		yconf_error(map, c->d, "a tcp check needs 'port'");
	if (get_uint(c, map, "port", 1, 65535, k->type == POLICY_CHECK_HTTPS ? 443 : 80, &v) == 0)
		k->port = (uint16_t)v;
	s = "";
	if ((n = yconf_get(map, "host")) && yconf_str(n, c->d, &s) == 0 && !host_ok(s))
		yconf_error(n, c->d, "'host' must be a host name, got \"%s\"", s);
	k->host = add_str(c, s);
	s = "/";
	if ((n = yconf_get(map, "path")) && yconf_str(n, c->d, &s) == 0 &&
	    (s[0] != '/' || strpbrk(s, " \t\r\n") || strlen(s) > 1024))
		yconf_error(n, c->d, "'path' must start with '/' and have no blanks (1024 bytes "
			    "at most)");
	k->path = add_str(c, web ? s : "");
	k->status_lo = web ? 200 : 0;
	k->status_hi = web ? 399 : 0;
	if ((n = yconf_get(map, "status")))
		parse_status(c, n, k);
	s = "";
	if ((n = yconf_get(map, "body")) && yconf_str(n, c->d, &s) == 0 && strlen(s) > 255)
		yconf_error(n, c->d, "'body' is at most 255 bytes (it is searched for in the "
			    "first 5,120 bytes of the response)");
	k->body = add_str(c, s);
	if (get_uint(c, map, "interval_ms", 100, 3600000, 10000, &v) == 0)
		k->interval_ms = (uint32_t)v;
	if (get_uint(c, map, "timeout_ms", 10, 3600000, 2000, &v) == 0)
		k->timeout_ms = (uint32_t)v;
	if (k->interval_ms && k->timeout_ms > k->interval_ms)
		yconf_error(yconf_get(map, "timeout_ms") ? yconf_get(map, "timeout_ms") : map, c->d,
			    "'timeout_ms' (%u) must not exceed 'interval_ms' (%u)", k->timeout_ms,
			    k->interval_ms);
	if (get_uint(c, map, "fall", 1, 100, 3, &v) == 0)
		k->fall = (uint8_t)v;
	if (get_uint(c, map, "rise", 1, 100, 3, &v) == 0)
		k->rise = (uint8_t)v;
	if (get_uint(c, map, "quorum", 1, 100, 50, &v) == 0)
		k->quorum = (uint8_t)v;
}

static void parse_calculated(struct cc *c, uint32_t self, const struct yconf_node *map,
			     struct pol_check *k)
{
	const struct yconf_node *ops = yconf_get(map, "op"), *list = yconf_get(map, "members");
	const struct yconf_node *nn = yconf_get(map, "n");
	unsigned op = 0;
	uint64_t v;

	k->target = k->host = k->path = k->body = add_str(c, "");
	if (!ops)
		yconf_error(map, c->d, "a calculated check needs 'op' (and, or or at_least)");
	else if (yconf_enum(ops, check_ops, c->d, &op) == 0)
		k->op = (uint8_t)op;
	if (!list) {
		yconf_error(map, c->d, "a calculated check needs 'members': the checks it combines");
		return;
	}
	if (yconf_expect(list, YCONF_SEQ, c->d) < 0)
		return;
	if (yconf_count(list) < 1 || yconf_count(list) > 256) {
		yconf_error(list, c->d, "'members' must list 1..256 checks");
		return;
	}
	k->refs = (uint32_t)c->refs.n;
	for (size_t i = 0; i < yconf_count(list); i++) {
		const struct yconf_node *it = yconf_at(list, i);
		const char *s;
		uint32_t m, *slot;
		if (yconf_str(it, c->d, &s) < 0)
			continue;
		if ((m = lookup(c->check_idx, c->checks.n, s)) == POL_NONE)
			yconf_error(it, c->d, "no check named '%s' in 'checks'", s);
		else if (m == self)
			yconf_error(it, c->d, "a calculated check cannot use itself");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(yconf_text(yconf_at(list, j)), s))
				yconf_error(it, c->d, "check '%s' is listed twice", s);
		if (!(slot = push(c, &c->refs, sizeof(*slot))))
			return;
		*slot = m;
	}
	k->nrefs = (uint32_t)yconf_count(list);
	if (op == POLICY_OP_AT_LEAST && !nn)
		yconf_error(map, c->d, "op at_least needs 'n': how many members must be healthy");
	else if (op != POLICY_OP_AT_LEAST && nn)
		yconf_error(nn, c->d, "'n' only goes with op: at_least");
	else if (nn && yconf_uint(nn, 1, k->nrefs, c->d, &v) == 0)
		k->n = (uint32_t)v;
}

static void parse_check(struct cc *c, uint32_t i, const struct yconf_node *map)
{
	const struct yconf_node *t;
	struct pol_check *k = AT(c->checks, struct pol_check, i);
	unsigned type;

	k->name = add_str(c, yconf_text(c->check_at[i]));
	if (yconf_expect(map, YCONF_MAP, c->d) < 0)
		return;
	if (!(t = yconf_get(map, "type"))) {
		yconf_error(map, c->d, "a check needs 'type' (tcp, http, https or calculated)");
		return;
	}
	if (yconf_enum(t, check_types, c->d, &type) < 0)
		return;
	k->type = (uint8_t)type;
	if (yconf_check_keys(map, type == POLICY_CHECK_CALCULATED ? calc_keys :
			     type == POLICY_CHECK_TCP ? tcp_keys : http_keys, c->d) < 0)
		return;
	if (type == POLICY_CHECK_CALCULATED)
		parse_calculated(c, i, map, k);
	else
		parse_probe(c, map, k);
}

/* Levels prove there is no cycle (policy_format.h); a depth-first walk
 * with an explicit stack finds them, or the cycle to report. */
static void check_levels(struct cc *c)
{
	size_t n = c->checks.n;
	uint8_t *state = calloc(n ? n : 1, 1);          /* 0 new, 1 on the stack, 2 done */
	uint32_t (*stack)[2] = calloc(n ? n : 1, sizeof(*stack));   /* check, next member */
	struct pol_check *k = c->checks.v;

	if (!state || !stack) {
		c->oom = true;
		goto out;
	}
	for (uint32_t s = 0; s < n; s++) {
		size_t sp = 0;
		if (state[s])
			continue;
		stack[sp][0] = s;
		stack[sp++][1] = 0;
		state[s] = 1;
		while (sp) {
			uint32_t top = stack[sp - 1][0], j = stack[sp - 1][1]++;
			uint32_t m;
			if (j >= k[top].nrefs) {
				for (uint32_t r = 0; r < k[top].nrefs; r++) {
					uint32_t lv = k[((uint32_t *)c->refs.v)[k[top].refs + r]].level;
					if (lv + 1 > k[top].level)
						k[top].level = lv + 1;
				}
				state[top] = 2;
				sp--;
				continue;
			}
			m = ((uint32_t *)c->refs.v)[k[top].refs + j];
			if (state[m] == 1) {
				yconf_error(c->check_at[m], c->d, "calculated check '%s' is part of a "
					    "cycle (through '%s')", yconf_text(c->check_at[m]),
					    yconf_text(c->check_at[top]));
				goto out;
			}
			if (state[m] == 0) {
				state[m] = 1;
				stack[sp][0] = m;
				stack[sp++][1] = 0;
			}
		}
	}
out:
	free(state);
	free(stack);
}

static void parse_checks(struct cc *c, const struct yconf_node *sec)
{
	size_t n;

	if (yconf_expect(sec, YCONF_MAP, c->d) < 0)
		return;
	if ((n = yconf_count(sec)) > POLICY_MAX_CHECKS) {
		yconf_error(sec, c->d, "more than %u checks", POLICY_MAX_CHECKS);
		return;
	}
	c->check_idx = calloc(n ? n : 1, sizeof(*c->check_idx));
	c->check_at = calloc(n ? n : 1, sizeof(*c->check_at));
	if (!c->check_idx || !c->check_at) {
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct yconf_node *key = yconf_key_at(sec, i);
		if (!word_ok(yconf_text(key)))
			yconf_error(key, c->d, "a check name is 1..63 letters, digits, '-', '_' or '.'");
		c->check_at[i] = key;
		c->check_idx[i] = (struct named){ yconf_text(key), (uint32_t)i };
		if (!push(c, &c->checks, sizeof(struct pol_check)))
			return;
	}
	qsort(c->check_idx, n, sizeof(*c->check_idx), named_cmp);
	for (size_t i = 0; i < n; i++)
		parse_check(c, (uint32_t)i, yconf_at(sec, i));
	if (!failed(c))
		check_levels(c);
}

/* ---- endpoints ------------------------------------------------------------------------ */

static const char *rtype_name(uint16_t t)
{
	return t == RRTYPE_A ? "an A" : t == RRTYPE_AAAA ? "an AAAA" : t == RRTYPE_CNAME ? "a CNAME" :
	       "a TXT";
}

static int add_endpoint(struct cc *c, uint16_t type, const void *rdata, size_t len)
{
	struct pol_endpoint *e = push(c, &c->eps, sizeof(*e));

	if (!e)
		return P53_ENOMEM;
	e->type = type;
	e->rdlen = (uint16_t)len;
	e->rdata = add_bytes(c, rdata, len);
	return (int)(c->eps.n - 1);
}

static int endpoint_address(struct cc *c, const struct yconf_node *n)
{
	uint8_t a[16];
	const char *s;
	uint16_t t;

	if (yconf_str(n, c->d, &s) < 0)
		return P53_ESYNTAX;
	t = inet_pton(AF_INET, s, a) == 1 ? RRTYPE_A : inet_pton(AF_INET6, s, a) == 1 ?
	    RRTYPE_AAAA : 0;
	if (!t) {
		yconf_error(n, c->d, "'address' must be an IPv4 or IPv6 address, got \"%s\"", s);
		return P53_ESYNTAX;
	}
	if (t != c->rec_type) {
		yconf_error(n, c->d, "%s address in %s record%s", t == RRTYPE_A ? "an IPv4" :
			    "an IPv6", rtype_name(c->rec_type),
			    c->rec_type == RRTYPE_CNAME ? " (members of a CNAME record are 'name's)" : "");
		return P53_ESYNTAX;
	}
	return add_endpoint(c, t, a, t == RRTYPE_A ? 4 : 16);
}

/* A 'name' (answered as a CNAME) or an 'alias' (answered with the
 * target's addresses, which must be static data in a served zone:
 * snap_policy_prepare checks). */
static int endpoint_target(struct cc *c, const struct yconf_node *n, bool alias)
{
	const char *key = alias ? "alias" : "name";
	uint8_t w[DNAME_MAXLEN];
	const char *s;
	int len;

	if (yconf_str(n, c->d, &s) < 0)
		return P53_ESYNTAX;
	if (!alias && c->rec_type == RRTYPE_TXT) {
		yconf_error(n, c->d, "a TXT record's members are 'text', not names");
		return P53_ESYNTAX;
	}
	if (alias && c->rec_type != RRTYPE_A && c->rec_type != RRTYPE_AAAA) {
		yconf_error(n, c->d, "'alias' only fits an A or AAAA record, this is %s record",
			    rtype_name(c->rec_type));
		return P53_ESYNTAX;
	}
	if ((len = dname_from_text(s, strlen(s), (const uint8_t *)"", w)) < 0) {
		yconf_error(n, c->d, "'%s' must be a domain name, got \"%s\" (%s)", key, s,
			    p53_strerror(len));
		return P53_ESYNTAX;
	}
	return add_endpoint(c, alias ? POLICY_ALIAS : RRTYPE_CNAME, w, (size_t)len);
}

/* A string (cut into 255-byte character-strings) or a list of strings
 * (one character-string each). */
static int endpoint_text(struct cc *c, const struct yconf_node *n)
{
	uint8_t w[RDATA_MAXLEN];
	size_t len = 0, k = yconf_kind(n) == YCONF_SEQ ? yconf_count(n) : 1;

	if (c->rec_type != RRTYPE_TXT) {
		yconf_error(n, c->d, "'text' only fits a TXT record, this is %s record",
			    rtype_name(c->rec_type));
		return P53_ESYNTAX;
	}
	for (size_t i = 0; i < k; i++) {
		const struct yconf_node *it = yconf_kind(n) == YCONF_SEQ ? yconf_at(n, i) : n;
		const char *s;
		size_t sl, off = 0;
		if (yconf_str(it, c->d, &s) < 0)
			return P53_ESYNTAX;
		sl = strlen(s);
		if (yconf_kind(n) == YCONF_SEQ && sl > 255) {
			yconf_error(it, c->d, "a TXT string in a list is at most 255 bytes");
			return P53_ESYNTAX;
		}
		do {
			size_t part = sl - off > 255 ? 255 : sl - off;
			if (len + 1 + part > sizeof(w)) {
				yconf_error(it, c->d, "TXT data longer than 65535 bytes");
				return P53_ESYNTAX;
			}
			w[len++] = (uint8_t)part;
			memcpy(w + len, s + off, part);
			len += part;
			off += part;
		} while (off < sl);
	}
	return add_endpoint(c, RRTYPE_TXT, w, len);
}

/* ---- members ---------------------------------------------------------------------------- */

static const char *const kinds[] = { "simple", "weighted", "latency", "geolocation",
				     "geoproximity", "failover", "multivalue", NULL };
static const char *const member_keys[] = { "address", "name", "alias", "text", "policy", "check",
					   "weight", "region", "lat", "lon", "bias", "continent",
					   "country", "subdivision", "default", NULL };
static const char *const what_keys[] = { "address", "name", "alias", "text", "policy", NULL };
static const char *const loc_keys[] = { "default", "continent", "country", "subdivision", NULL };
static const char *const continents[] = { "AF", "AN", "AS", "EU", "NA", "OC", "SA", NULL };

/* Keys that only a member of one kind of policy takes. */
static const struct { const char *key; enum pol_kind kind; } only[] = {
	{ "weight", POL_WEIGHTED }, { "region", POL_LATENCY }, { "lat", POL_GEOPROXIMITY },
	{ "lon", POL_GEOPROXIMITY }, { "bias", POL_GEOPROXIMITY }, { "continent", POL_GEOLOCATION },
	{ "country", POL_GEOLOCATION }, { "subdivision", POL_GEOLOCATION },
	{ "default", POL_GEOLOCATION },
};

/* The endpoint of a member (or a last-resort entry); the first of
 * address/name/text/policy found is *which. Returns the endpoint index, 1
 * << 30 for a nested policy, or < 0. */
#define NESTED (1 << 30)
static int member_what(struct cc *c, const struct yconf_node *map, bool lr)
{
	const struct yconf_node *found = NULL, *n;
	const char *fkey = NULL;

	for (size_t i = 0; what_keys[i]; i++) {
		if (!(n = yconf_get(map, what_keys[i])))
			continue;
		if (found) {
			yconf_error(n, c->d, "'%s' and '%s' exclude each other: a member is one "
				    "endpoint or one policy", what_keys[i], fkey);
			return P53_ESYNTAX;
		}
		found = n;
		fkey = what_keys[i];
	}
	if (!found || (lr && !strcmp(fkey, "policy"))) {
		yconf_error(found ? found : map, c->d, lr ? "a last-resort entry is an endpoint: "
			    "'address', 'name', 'alias' or 'text'" : "a member needs 'address', "
			    "'name', 'alias', 'text' or 'policy'");
		return P53_ESYNTAX;
	}
	if (!strcmp(fkey, "policy"))
		return yconf_expect(found, YCONF_MAP, c->d) < 0 ? P53_ESYNTAX : NESTED;
	if (!strcmp(fkey, "address"))
		return endpoint_address(c, found);
	if (!strcmp(fkey, "text"))
		return endpoint_text(c, found);
	return endpoint_target(c, found, !strcmp(fkey, "alias"));
}

static void upcase(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n && src[i]; i++)
		dst[i] = (src[i] >= 'a' && src[i] <= 'z') ? (char)(src[i] - 32) : src[i];
}

static bool letters(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
			return false;
	return true;
}

static bool alnums(const char *s)
{
	for (; *s; s++)
		if (!letters(s, 1) && (*s < '0' || *s > '9'))
			return false;
	return true;
}

/* continent / country / subdivision / default: exactly one. */
static void member_location(struct cc *c, const struct yconf_node *map, struct pol_member *m)
{
	const struct yconf_node *n = NULL;
	const char *s;
	size_t which = 0, len;
	bool yes;

	for (size_t i = 0; loc_keys[i]; i++) {
		const struct yconf_node *k = yconf_get(map, loc_keys[i]);
		if (k && n) {
			yconf_error(k, c->d, "a geolocation member has one location: '%s' and '%s' "
				    "exclude each other", loc_keys[which], loc_keys[i]);
			return;
		}
		if (k) {
			n = k;
			which = i;
		}
	}
	if (!n) {
		yconf_error(map, c->d, "a geolocation member needs 'continent', 'country', "
			    "'subdivision' or 'default: true'");
		return;
	}
	if (which == 0) {
		if (yconf_bool(n, c->d, &yes) == 0 && !yes)
			yconf_error(n, c->d, "'default' can only be true (leave it out otherwise)");
		m->loc_kind = POL_LOC_DEFAULT;
		return;
	}
	if (yconf_str(n, c->d, &s) < 0)
		return;
	len = strlen(s);
	m->loc_kind = (uint8_t)(POL_LOC_DEFAULT + which);
	upcase(m->loc, s, 2);
	if (which == 1) {
		for (size_t i = 0; continents[i]; i++)
			if (len == 2 && !memcmp(m->loc, continents[i], 2))
				return;
		yconf_error(n, c->d, "'continent' must be one of AF, AN, AS, EU, NA, OC or SA, "
			    "got \"%s\"", s);
	} else if (which == 2) {
		if (len == 2 && letters(s, 2))
			return;
		yconf_error(n, c->d, "'country' must be an ISO 3166-1 alpha-2 code like DE, "
			    "got \"%s\"", s);
	} else {
		if (len >= 4 && len <= 6 && letters(s, 2) && s[2] == '-' && alnums(s + 3)) {
			upcase(m->loc + 2, s + 3, 3);
			return;
		}
		yconf_error(n, c->d, "'subdivision' must be an ISO 3166-2 code like US-CA or "
			    "DE-BY, got \"%s\"", s);
	}
}

static void member_coords(struct cc *c, const struct yconf_node *map, struct pol_member *m)
{
	const struct yconf_node *la = yconf_get(map, "lat"), *lo = yconf_get(map, "lon");
	const struct yconf_node *bi = yconf_get(map, "bias");
	double lat = 0, lon = 0, bias = 0, rla, rlo;

	if (!la || !lo) {
		yconf_error(map, c->d, "a geoproximity member needs 'lat' and 'lon' (degrees)");
		return;
	}
	if (get_number(c, la, -90, 90, false, &lat) < 0 ||
	    get_number(c, lo, -180, 180, false, &lon) < 0 ||
	    (bi && get_number(c, bi, -99, 99, true, &bias) < 0))
		return;
	m->lat_e6 = (int32_t)lround(lat * 1e6);
	m->lon_e6 = (int32_t)lround(lon * 1e6);
	m->bias = (int8_t)bias;
	m->flags |= POL_MEM_COORDS;
	rla = m->lat_e6 * 1e-6 * M_PI / 180;
	rlo = m->lon_e6 * 1e-6 * M_PI / 180;
	m->vec[0] = (int32_t)lround(cos(rla) * cos(rlo) * (1 << 30));
	m->vec[1] = (int32_t)lround(cos(rla) * sin(rlo) * (1 << 30));
	m->vec[2] = (int32_t)lround(sin(rla) * (1 << 30));
}

static void member_attrs(struct cc *c, enum pol_kind kind, const struct yconf_node *map,
			 struct pol_member *m)
{
	const struct yconf_node *n;
	const char *s;
	uint64_t v;

	for (size_t i = 0; i < sizeof(only) / sizeof(only[0]); i++)
		if (only[i].kind != kind && (n = yconf_get(map, only[i].key)))
			yconf_error(n, c->d, "'%s' only applies to members of a %s policy, this "
				    "one is %s", only[i].key, kinds[only[i].kind], kinds[kind]);
	if ((n = yconf_get(map, "check")) && yconf_str(n, c->d, &s) == 0) {
		if ((m->check = lookup(c->check_idx, c->checks.n, s)) == POL_NONE)
			yconf_error(n, c->d, "no check named '%s' in 'checks'", s);
		c->tree_health = true;
	}
	if (kind == POL_WEIGHTED && get_uint(c, map, "weight", 0, POLICY_MAX_WEIGHT, 1, &v) == 0)
		m->weight = (uint32_t)v;
	if (kind == POL_LATENCY && (s = need_str(c, map, "region", "a latency member")) &&
	    (m->region = lookup(c->region_idx, c->regions.n, s)) == POL_NONE)
		yconf_error(yconf_get(map, "region"), c->d, "no latency region named '%s' "
			    "(the 'latency' section lists them)", s);
	if (kind == POL_GEOLOCATION)
		member_location(c, map, m);
	if (kind == POL_GEOPROXIMITY)
		member_coords(c, map, m);
}

/* ---- policies ------------------------------------------------------------------------------ */

static int compile_policy(struct cc *c, const struct yconf_node *map, unsigned depth,
			  uint32_t parent_member);

static void check_locations(struct cc *c, const struct yconf_node *list, uint32_t first)
{
	for (uint32_t i = 1; i < yconf_count(list); i++) {
		const struct pol_member *a = AT(c->mems, struct pol_member, first + i);
		for (uint32_t j = 0; j < i && a->loc_kind; j++) {
			const struct pol_member *b = AT(c->mems, struct pol_member, first + j);
			if (a->loc_kind == b->loc_kind && !memcmp(a->loc, b->loc, sizeof(a->loc))) {
				yconf_error(yconf_at(list, i), c->d, "this location is already taken "
					    "by member %u (line %u)", j + 1, yconf_line(yconf_at(list, j)));
				break;
			}
		}
	}
}

static const char *const node_keys[POL_KIND_COUNT][6] = {
	[POL_SIMPLE] = { "routing", "members", "fail_open", NULL },
	[POL_WEIGHTED] = { "routing", "members", "fail_open", "pick", NULL },
	[POL_LATENCY] = { "routing", "members", "fail_open", NULL },
	[POL_GEOLOCATION] = { "routing", "members", "fail_open", "fallback", NULL },
	[POL_GEOPROXIMITY] = { "routing", "members", "fail_open", NULL },
	[POL_FAILOVER] = { "routing", "members", "fail_open", "last_resort", NULL },
	[POL_MULTIVALUE] = { "routing", "members", "fail_open", "max", NULL },
};

/* The node's own settings; returns the member list or NULL. */
static const struct yconf_node *node_head(struct cc *c, const struct yconf_node *map,
					  struct pol_node *n)
{
	const struct yconf_node *r = yconf_get(map, "routing"), *list;
	unsigned kind;
	uint64_t v;
	bool b;

	if (!r) {
		yconf_error(map, c->d, "a policy needs 'routing' (simple, weighted, latency, "
			    "geolocation, geoproximity, failover or multivalue)");
		return NULL;
	}
	if (yconf_enum(r, kinds, c->d, &kind) < 0 || yconf_check_keys(map, node_keys[kind], c->d) < 0)
		return NULL;
	n->kind = (uint8_t)kind;
	if (get_bool(c, map, "fail_open", true, &b) == 0 && b)
		n->flags |= POL_NODE_FAIL_OPEN;
	if (get_bool(c, map, "fallback", true, &b) == 0 && b && kind == POL_GEOLOCATION)
		n->flags |= POL_NODE_FALLBACK;
	if (kind == POL_WEIGHTED && get_uint(c, map, "pick", 1, POLICY_MAX_ANSWER, 1, &v) == 0)
		n->pick = (uint16_t)v;
	if (kind == POL_MULTIVALUE && get_uint(c, map, "max", 1, POLICY_MAX_ANSWER, 8, &v) == 0)
		n->pick = (uint16_t)v;
	if (!(list = yconf_get(map, "members"))) {
		yconf_error(map, c->d, "a policy needs 'members'");
		return NULL;
	}
	if (yconf_expect(list, YCONF_SEQ, c->d) < 0)
		return NULL;
	if (yconf_count(list) < 1 || yconf_count(list) > POLICY_MAX_MEMBERS) {
		yconf_error(list, c->d, "'members' must list 1..%u members", POLICY_MAX_MEMBERS);
		return NULL;
	}
	if (kind == POL_WEIGHTED && n->pick > yconf_count(list))
		yconf_error(yconf_get(map, "pick"), c->d, "'pick' (%u) is more than the %zu members",
			    n->pick, yconf_count(list));
	return list;
}

/* Last-resort endpoints of a failover: members after the regular ones. */
static void last_resort(struct cc *c, const struct yconf_node *map, uint32_t ni)
{
	const struct yconf_node *lr = yconf_get(map, "last_resort");
	uint32_t first = (uint32_t)c->mems.n;

	AT(c->nodes, struct pol_node, ni)->lr_first = first;
	if (!lr || yconf_expect(lr, YCONF_SEQ, c->d) < 0)
		return;
	if (yconf_count(lr) < 1 || yconf_count(lr) > POLICY_MAX_ANSWER) {
		yconf_error(lr, c->d, "'last_resort' must list 1..%u endpoints", POLICY_MAX_ANSWER);
		return;
	}
	for (size_t i = 0; i < yconf_count(lr); i++) {
		const struct yconf_node *it = yconf_at(lr, i);
		static const char *const ep_keys[] = { "address", "name", "alias", "text", NULL };
		struct pol_member *m = push(c, &c->mems, sizeof(*m));
		int ep;
		if (!m)
			return;
		m->check = m->region = POL_NONE;
		if (yconf_expect(it, YCONF_MAP, c->d) < 0 || yconf_check_keys(it, ep_keys, c->d) < 0 ||
		    (ep = member_what(c, it, true)) < 0)
			continue;
		AT(c->mems, struct pol_member, c->mems.n - 1)->target = (uint32_t)ep;
	}
	AT(c->nodes, struct pol_node, ni)->lr_count = (uint32_t)yconf_count(lr);
}

/* Parse the members of node ni into [first, first + count); nested
 * policies are compiled afterwards so that the member range stays whole. */
static void node_members(struct cc *c, const struct yconf_node *list, uint32_t ni,
			 unsigned depth)
{
	enum pol_kind kind = AT(c->nodes, struct pol_node, ni)->kind;
	uint32_t first = AT(c->nodes, struct pol_node, ni)->first;
	bool checked = false, nested = false;

	for (uint32_t i = 0; i < yconf_count(list); i++) {
		const struct yconf_node *it = yconf_at(list, i);
		struct pol_member m = { .check = POL_NONE, .region = POL_NONE };
		int what;
		if (yconf_expect(it, YCONF_MAP, c->d) < 0 ||
		    yconf_check_keys(it, member_keys, c->d) < 0 ||
		    (what = member_what(c, it, false)) < 0)
			continue;
		m.kind = what == NESTED ? POL_MEM_NODE : POL_MEM_ENDPOINT;
		m.target = what == NESTED ? POL_NONE : (uint32_t)what;
		member_attrs(c, kind, it, &m);
		checked |= m.check != POL_NONE;
		nested |= what == NESTED;
		*AT(c->mems, struct pol_member, first + i) = m;
	}
	if (kind == POL_GEOLOCATION)
		check_locations(c, list, first);
	if (kind == POL_FAILOVER && !checked && !nested)
		diag_warn(c->d, yconf_file(list), yconf_line(list), yconf_col(list),
			  "a failover policy without health checks always answers its first member");
	for (uint32_t i = 0; i < yconf_count(list); i++) {
		const struct yconf_node *p = yconf_get(yconf_at(list, i), "policy");
		int child;
		if (p && (child = compile_policy(c, p, depth + 1, first + i)) >= 0)
			AT(c->mems, struct pol_member, first + i)->target = (uint32_t)child;
	}
}

static int compile_policy(struct cc *c, const struct yconf_node *map, unsigned depth,
			  uint32_t parent_member)
{
	const struct yconf_node *list;
	struct pol_node head = { .depth = (uint8_t)depth, .parent_member = parent_member };
	uint32_t ni, count;

	if (depth > POLICY_MAX_DEPTH) {
		yconf_error(map, c->d, "policies nested deeper than %u levels", POLICY_MAX_DEPTH);
		return P53_ELIMIT;
	}
	if (yconf_expect(map, YCONF_MAP, c->d) < 0 || !(list = node_head(c, map, &head)))
		return P53_ESYNTAX;
	count = (uint32_t)yconf_count(list);
	head.first = (uint32_t)c->mems.n;
	head.count = count;
	ni = (uint32_t)c->nodes.n;
	if (!push(c, &c->nodes, sizeof(struct pol_node)))
		return P53_ENOMEM;
	*AT(c->nodes, struct pol_node, ni) = head;
	for (uint32_t i = 0; i < count; i++)
		if (!push(c, &c->mems, sizeof(struct pol_member)))
			return P53_ENOMEM;
	last_resort(c, map, ni);   /* node_head refused it outside failover */
	c->tree_members += count + AT(c->nodes, struct pol_node, ni)->lr_count;
	if (head.kind == POL_LATENCY || head.kind == POL_GEOLOCATION ||
	    head.kind == POL_GEOPROXIMITY)
		c->tree_client = true;
	node_members(c, list, ni, depth);
	return failed(c) ? P53_ESYNTAX : (int)ni;
}

/* ---- records ------------------------------------------------------------------------------- */

static const char *const rec_keys[] = { "name", "type", "ttl", "policy", NULL };
static const char *const rec_types[] = { "A", "AAAA", "CNAME", "TXT", NULL };
static const uint16_t rec_type_codes[] = { RRTYPE_A, RRTYPE_AAAA, RRTYPE_CNAME, RRTYPE_TXT };

static int rec_cmp(const void *pa, const void *pb)
{
	const struct recsrc *a = pa, *b = pb;
	int r = memcmp(a->name, b->name, a->len < b->len ? a->len : b->len);

	if (r)
		return r;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	return (a->order > b->order) - (a->order < b->order);
}

static int read_record(struct cc *c, const struct yconf_node *map, size_t order,
		       struct recsrc *r)
{
	const struct yconf_node *tn;
	const char *s;
	unsigned t;
	int len;

	if (yconf_expect(map, YCONF_MAP, c->d) < 0 || yconf_check_keys(map, rec_keys, c->d) < 0)
		return P53_ESYNTAX;
	if (!(s = need_str(c, map, "name", "a record")))
		return P53_ESYNTAX;
	if ((len = dname_from_text(s, strlen(s), (const uint8_t *)"", r->name)) < 0) {
		yconf_error(yconf_get(map, "name"), c->d, "'name' must be a domain name, got \"%s\" "
			    "(%s)", s, p53_strerror(len));
		return P53_ESYNTAX;
	}
	dname_lower(r->name);
	r->len = (uint16_t)len;
	if (!(tn = yconf_get(map, "type"))) {
		yconf_error(map, c->d, "a record needs 'type' (A, AAAA, CNAME or TXT)");
		return P53_ESYNTAX;
	}
	if (yconf_enum(tn, rec_types, c->d, &t) < 0)
		return P53_ESYNTAX;
	r->type = rec_type_codes[t];
	r->order = order;
	r->map = map;
	return 0;
}

/* Two records for one (name, type), or a CNAME beside other data. */
static void check_clashes(struct cc *c, const struct recsrc *r, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		const struct recsrc *a = &r[i - 1], *b = &r[i];
		const struct recsrc *late = a->order > b->order ? a : b, *early = late == a ? b : a;
		if (a->len != b->len || memcmp(a->name, b->name, a->len))
			continue;
		if (a->type == b->type)
			yconf_error(late->map, c->d, "a second %s policy for this name (the first "
				    "is at line %u)", rrtype_name(a->type), yconf_line(early->map));
		else if (a->type == RRTYPE_CNAME || b->type == RRTYPE_CNAME)
			yconf_error(late->map, c->d, "a CNAME policy cannot share its name with "
				    "other types (line %u)", yconf_line(early->map));
	}
}

static void ttl_lint(struct cc *c, const struct yconf_node *map, uint32_t ttl)
{
	const struct yconf_node *at = yconf_get(map, "ttl") ? yconf_get(map, "ttl") : map;

	if (ttl <= POLICY_TTL_WARN)
		return;
	if (c->tree_client)
		diag_warn(c->d, yconf_file(at), yconf_line(at), yconf_col(at), "TTL %u on an "
			  "answer that depends on the client's location: a resolver serves one "
			  "client's answer to all its clients that long (at most %u advised)", ttl,
			  POLICY_TTL_WARN);
	else if (c->tree_health)
		diag_warn(c->d, yconf_file(at), yconf_line(at), yconf_col(at), "TTL %u on an "
			  "answer that follows health checks: resolvers keep a dead endpoint that "
			  "long after it fails (at most %u advised)", ttl, POLICY_TTL_WARN);
}

static void compile_record(struct cc *c, const struct recsrc *r)
{
	const struct yconf_node *pol = yconf_get(r->map, "policy");
	struct pol_record rec = { .name_len = r->len, .type = r->type };
	uint32_t root = (uint32_t)c->nodes.n;
	uint64_t ttl;
	struct pol_record *slot;

	if (get_uint(c, r->map, "ttl", 0, INT32_MAX, DEFAULT_TTL, &ttl) < 0)
		return;
	if (!pol) {
		yconf_error(r->map, c->d, "a record needs 'policy'");
		return;
	}
	c->rec_type = r->type;
	c->tree_members = 0;
	c->tree_client = c->tree_health = false;
	if (compile_policy(c, pol, 1, POL_NONE) < 0)
		return;
	if (c->tree_members > POLICY_MAX_TREE)
		yconf_error(pol, c->d, "this record's policies have %u members, more than %u",
			    c->tree_members, POLICY_MAX_TREE);
	ttl_lint(c, r->map, (uint32_t)ttl);
	rec.ttl = (uint32_t)ttl;
	rec.root = root;
	rec.node_count = (uint32_t)c->nodes.n - root;
	rec.flags = c->tree_client ? POL_REC_CLIENT : 0;
	rec.name = add_bytes(c, r->name, r->len);
	if ((slot = push(c, &c->recs, sizeof(*slot))))
		*slot = rec;
}

static void parse_records(struct cc *c, const struct yconf_node *list)
{
	struct recsrc *r;
	size_t n, k = 0;

	if (yconf_expect(list, YCONF_SEQ, c->d) < 0)
		return;
	if ((n = yconf_count(list)) > POLICY_MAX_RECORDS) {
		yconf_error(list, c->d, "more than %u records", POLICY_MAX_RECORDS);
		return;
	}
	if (!(r = calloc(n ? n : 1, sizeof(*r)))) {
		c->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (read_record(c, yconf_at(list, i), i, &r[k]) == 0)
			k++;
	qsort(r, k, sizeof(*r), rec_cmp);
	check_clashes(c, r, k);
	for (size_t i = 0; i < k && !c->oom; i++)
		compile_record(c, &r[i]);
	free(r);
}

/* ---- the blob -------------------------------------------------------------------------------- */

static uint64_t align8(uint64_t v)
{
	return (v + 7) & ~(uint64_t)7;
}

/* Place a section of n items of size bytes at *off; returns its offset. */
static uint32_t place(uint64_t *off, size_t n, size_t size)
{
	uint32_t at = (uint32_t)*off;

	*off = align8(*off + (uint64_t)n * size);
	return n ? at : 0;
}

static void rebase(struct cc *c, uint32_t data)
{
	struct pol_check *k = c->checks.v;

	for (size_t i = 0; i < c->recs.n; i++)
		AT(c->recs, struct pol_record, i)->name += data;
	for (size_t i = 0; i < c->eps.n; i++)
		AT(c->eps, struct pol_endpoint, i)->rdata += data;
	for (size_t i = 0; i < c->regions.n; i++)
		AT(c->regions, struct pol_str, i)->off += data;
	for (size_t i = 0; i < c->checks.n; i++) {
		k[i].name.off += data;
		k[i].target.off += data;
		k[i].host.off += data;
		k[i].path.off += data;
		k[i].body.off += data;
	}
}

/* Copy an output table; an empty one may have no buffer at all (memcpy
 * must not be given NULL, even for 0 bytes). */
static void put_table(uint8_t *dst, const void *src, size_t n)
{
	if (n)
		memcpy(dst, src, n);
}

static int assemble(struct cc *c, uint8_t **blob, size_t *len)
{
	struct pol_header h = { .version_major = POL_VERSION_MAJOR,
				.version_minor = POL_VERSION_MINOR };
	uint64_t off = align8(sizeof(h));
	uint8_t *b;

	memcpy(h.magic, POL_MAGIC, 8);
	h.nrecords = (uint32_t)c->recs.n;
	h.records = place(&off, c->recs.n, sizeof(struct pol_record));
	h.nnodes = (uint32_t)c->nodes.n;
	h.nodes = place(&off, c->nodes.n, sizeof(struct pol_node));
	h.nmembers = (uint32_t)c->mems.n;
	h.members = place(&off, c->mems.n, sizeof(struct pol_member));
	h.nendpoints = (uint32_t)c->eps.n;
	h.endpoints = place(&off, c->eps.n, sizeof(struct pol_endpoint));
	h.nchecks = (uint32_t)c->checks.n;
	h.checks = place(&off, c->checks.n, sizeof(struct pol_check));
	h.nrefs = (uint32_t)c->refs.n;
	h.refs = place(&off, c->refs.n, sizeof(uint32_t));
	h.nregions = (uint32_t)c->regions.n;
	h.regions = place(&off, c->regions.n, sizeof(struct pol_str));
	h.data_len = (uint32_t)c->data.n;
	h.data = place(&off, c->data.n, 1);
	if (off > UINT32_MAX || c->data.n > UINT32_MAX) {
		diag_error(c->d, NULL, 0, 0, "the compiled policies would exceed 4 GiB");
		return P53_ELIMIT;
	}
	h.size = (uint32_t)off;
	rebase(c, h.data);
	if (!(b = calloc(1, off)))
		return P53_ENOMEM;
	memcpy(b, &h, sizeof(h));
	put_table(b + h.records, c->recs.v, c->recs.n * sizeof(struct pol_record));
	put_table(b + h.nodes, c->nodes.v, c->nodes.n * sizeof(struct pol_node));
	put_table(b + h.members, c->mems.v, c->mems.n * sizeof(struct pol_member));
	put_table(b + h.endpoints, c->eps.v, c->eps.n * sizeof(struct pol_endpoint));
	put_table(b + h.checks, c->checks.v, c->checks.n * sizeof(struct pol_check));
	put_table(b + h.refs, c->refs.v, c->refs.n * sizeof(uint32_t));
	put_table(b + h.regions, c->regions.v, c->regions.n * sizeof(struct pol_str));
	put_table(b + h.data, c->data.v, c->data.n);
	*blob = b;
	*len = (size_t)off;
	return 0;
}

/* ---- entry points ------------------------------------------------------------------------------ */

static void cc_free(struct cc *c)
{
	struct arr *all[] = { &c->recs, &c->nodes, &c->mems, &c->eps, &c->checks, &c->refs,
			      &c->regions, &c->data };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		free(all[i]->v);
	free(c->check_idx);
	free(c->region_idx);
	free(c->check_at);
}

static void parse_root(struct cc *c, const struct yconf_node *root)
{
	static const char *const keys[] = { "version", "checks", "latency", "records", NULL };
	const struct yconf_node *n;
	uint64_t v;

	if (yconf_kind(root) == YCONF_NULL)
		return;
	if (yconf_expect(root, YCONF_MAP, c->d) < 0 || yconf_check_keys(root, keys, c->d) < 0)
		return;
	if ((n = yconf_get(root, "version")))
		yconf_uint(n, 1, 1, c->d, &v);
	if ((n = yconf_get(root, "latency")))
		parse_latency(c, n);
	if ((n = yconf_get(root, "checks")))
		parse_checks(c, n);
	if ((n = yconf_get(root, "records")))
		parse_records(c, n);
}

int policy_compile(const struct yconf_doc *doc, struct diag *d, uint8_t **blob, size_t *len)
{
	struct diag quiet;
	struct cc c = { .d = d };
	int ret = P53_ESYNTAX;

	*blob = NULL;
	*len = 0;
	if (!c.d) {
		diag_init(&quiet, NULL);
		c.d = &quiet;
	}
	c.errors0 = c.d->errors;
	parse_root(&c, yconf_root(doc));
	if (c.oom) {
		diag_error(c.d, yconf_file(yconf_root(doc)), 0, 0, "out of memory");
		ret = P53_ENOMEM;
	} else if (!failed(&c)) {
		ret = assemble(&c, blob, len);
	}
	cc_free(&c);
	return ret;
}

int policy_compile_text(const char *name, const char *text, size_t len, struct diag *d,
			uint8_t **blob, size_t *blob_len)
{
	struct yconf_doc *doc;
	int ret;

	*blob = NULL;
	*blob_len = 0;
	if ((ret = yconf_load_text(name, text, len, d, &doc)) < 0)
		return ret;
	ret = policy_compile(doc, d, blob, blob_len);
	yconf_free(doc);
	return ret;
}

int policy_compile_file(const char *path, struct diag *d, uint8_t **blob, size_t *len)
{
	struct yconf_doc *doc;
	int ret;

	*blob = NULL;
	*len = 0;
	if ((ret = yconf_load_file(path, d, &doc)) < 0)
		return ret;
	ret = policy_compile(doc, d, blob, len);
	yconf_free(doc);
	return ret;
}
