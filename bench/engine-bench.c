/*
 * engine-bench.c — answers per second of the answer engine alone: one
 * thread, in process, no I/O.
 *
 * The zone (master files, parsed, checked and compiled in memory, or a
 * compiled snapshot) supplies its own names for a query mix: hits (A/AAAA
 * at names that have them), NXDOMAIN (a random label under the apex or
 * under a data name), NODATA (a data name and a type it lacks), CNAME
 * (aliases, chased by the engine), wildcard (a random label under a
 * wildcard's parent) and referral (at or below a zone cut). Each query is
 * checked by snap_lookup() when it is made, so its expected answer class
 * is known, and every response of the timed loop is checked against it:
 * a fast engine that answers wrongly must not look good.
 *
 * The query set is built before timing, in one buffer, with varied IDs,
 * 0x20-style mixed case and (mostly) an EDNS OPT record, as resolvers send
 * them. The loop replays it for a fixed time and reports answers/s from
 * the thread's CPU time (what the engine costs) and from the wall clock
 * (what this core delivered, preemption included). With -b it answers in
 * bursts and, for snapshots too big for the caches, warms the caches for
 * each burst first (snap_warm_run), as a DPDK loop can with an rx burst.
 *
 * With --policy (zone files only) the snapshot also carries a traffic-policy
 * file, and --geo-map a CIDR map of locations for it; every check counts as
 * healthy (the words are attached and read as in service). --query-policy
 * makes the query set of policy names alone (the records' names and
 * types), to compare with a set of static names (-m 100,0,0,0,0,0) on the
 * same snapshot; --ecs adds an EDNS Client Subnet option (a /24 inside
 * 10.0.0.0/8) to that share of the queries, so that geolocation has
 * clients in many places; --pool makes sets of hits and of policy names
 * touch as many names (bench/policy-bench.sh). --do sets the DNSSEC OK bit
 * on that share of the EDNS queries (100: all of them, with the very same
 * names and cases as --do 0), so that a signed zone answers with its
 * RRSIGs and NSEC proofs. A referral may be truncated (RFC 9471: its glue
 * does not all fit in 512 bytes without EDNS, or beside the DS and its
 * RRSIG), which counts as right.
 *
 * The last line of output is "RESULT key=value ..." for scripts
 * (bench/engine-bench.sh).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "diag.h"
#include "dname.h"
#include "engine.h"
#include "error.h"
#include "geo.h"
#include "policy.h"
#include "rdata.h"
#include "snap.h"
#include "zone.h"

/* C_POLICY (names of policy records) is not part of the -m mix: only
 * --query-policy asks for it, alone. */
enum cat { C_HIT, C_NXDOMAIN, C_NODATA, C_CNAME, C_WILD, C_REFERRAL, C_POLICY, C_N };
#define C_MIX C_POLICY

static const char *const cat_name[C_N] = {
	"hit", "nxdomain", "nodata", "cname", "wildcard", "referral", "policy",
};

/* Percent of the query set per category: issue 3's "realistic mix". */
static const unsigned default_mix[C_N] = { 50, 15, 10, 10, 10, 5 };

/* What a correct response of each category looks like in its header (and
 * in the engine's own classification, which RRL and metrics rely on). */
struct expect {
	uint8_t rcode;
	uint8_t aa;
	uint8_t answers;        /* 1: ANCOUNT > 0, 0: ANCOUNT == 0 */
	uint8_t kind;           /* enum engine_kind */
};

static const struct expect expect[C_N] = {
	[C_HIT]      = { 0, 1, 1, ENGINE_KIND_ANSWER },
	[C_NXDOMAIN] = { 3, 1, 0, ENGINE_KIND_NXDOMAIN },
	[C_NODATA]   = { 0, 1, 0, ENGINE_KIND_NODATA },
	[C_CNAME]    = { 0, 1, 1, ENGINE_KIND_ANSWER },
	[C_WILD]     = { 0, 1, 1, ENGINE_KIND_ANSWER },
	[C_REFERRAL] = { 0, 0, 0, ENGINE_KIND_REFERRAL },
	[C_POLICY]   = { 0, 1, 1, ENGINE_KIND_ANSWER },
};

struct query {
	uint32_t off;           /* in the packet buffer */
	uint16_t len;
	uint16_t qtype;
	uint8_t cat;
	uint8_t qname_len;
	uint8_t tc_ok;          /* TC is a right answer too */
};

struct cand {                   /* a node of the snapshot */
	uint32_t zone;
	uint32_t node;
};

struct pool {
	struct cand *v;
	size_t n, cap;
};

struct opts {
	double seconds;
	size_t queries;
	int cpu;
	uint64_t seed;
	unsigned mix[C_N];
	unsigned edns_pct;
	unsigned case_pct;
	bool hugepages;
	uint8_t interleave;     /* enum engine_interleave */
	unsigned burst;         /* 0: one query at a time; else bursts */
	const char *label;
	const char *policy;     /* --policy: policy file for the zone files */
	const char *geo_map;    /* --geo-map: CIDR map of locations */
	unsigned ecs_pct;       /* --ecs: queries with an ECS option */
	bool policy_set;        /* --query-policy: policy names only */
	const char *policy_prefix;  /* ... whose first label starts so */
	size_t pool;            /* --pool: at most this many hit / policy names */
	unsigned do_pct;        /* --do: EDNS queries with DO=1 */
};

/* Room for one query: header, name, question, OPT with an ECS option. */
#define PKT_MAX (12 + DNAME_MAXLEN + 4 + 11 + 11)

/* ---- small helpers -------------------------------------------------------- */

static uint64_t rng_state;

/* splitmix64: enough for picking names, and the same on every machine. */
static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t rnd_below(size_t n)
{
	return (size_t)(rnd() % n);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static double ts_sec(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static double now(clockid_t clk)
{
	struct timespec t;

	clock_gettime(clk, &t);
	return ts_sec(&t);
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "engine-bench: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(2);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die("out of memory%s", "");
	return p;
}

static void pool_add(struct pool *p, uint32_t zone, uint32_t node)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 1024;
		p->v = realloc(p->v, p->cap * sizeof(*p->v));
		if (!p->v)
			die("out of memory%s", "");
	}
	p->v[p->n].zone = zone;
	p->v[p->n].node = node;
	p->n++;
}

/* ---- loading -------------------------------------------------------------- */

static bool is_snapshot(const char *path)
{
	char magic[8];
	FILE *f = fopen(path, "rb");
	bool yes;

	if (!f)
		die("cannot open %s", path);
	yes = fread(magic, 1, 8, f) == 8 && !memcmp(magic, SNAP_MAGIC, 8);
	fclose(f);
	return yes;
}

static size_t huge_len(size_t len)
{
	const size_t huge = 2u << 20;

	return (len + huge - 1) / huge * huge;
}

/* A copy of blob in anonymous memory that asks for transparent huge pages:
 * a million-name snapshot spans ~140 MB, far more than 4 KiB TLB entries
 * cover, and the DPDK path may hold it in huge pages. */
static uint8_t *huge_copy(const uint8_t *blob, size_t len)
{
	size_t map_len = huge_len(len);
	void *p = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("cannot map %s of memory", "the snapshot's size");
	if (madvise(p, map_len, MADV_HUGEPAGE) != 0)
		fprintf(stderr, "engine-bench: madvise(MADV_HUGEPAGE): %s\n",
			strerror(errno));
	memcpy(p, blob, len);
	return p;
}

/* The blob under a snapshot opened with snap_open_mem, to free after it. */
struct owned {
	uint8_t *blob;
	size_t map_len;         /* huge_copy's mapping; 0: malloc'd */
};

/* The --policy and --geo-map sections for zones z[0..n) (their policy
 * records get their placeholders); *nsec of them in sec, to free. */
static void policy_sections(struct zone **z, int n, const struct opts *o,
			    struct diag *d, struct snap_section_in sec[2],
			    size_t *nsec)
{
	uint8_t *blob;
	size_t len;

	*nsec = 0;
	if (o->policy) {
		if (policy_compile_file(o->policy, d, &blob, &len) < 0 ||
		    snap_policy_prepare(z, (size_t)n, blob, len, d) < 0)
			die("policy file does not compile: %s", d->first);
		sec[(*nsec)++] = (struct snap_section_in){ SNAP_SECT_POLICY, blob, len };
	}
	if (o->geo_map) {
		struct geo_builder *b;

		if (geo_builder_new(&b) < 0 ||
		    geo_add_cidr_map_file(b, o->geo_map, GEO_MAP_LOCATION, d) < 0 ||
		    geo_builder_serialize(b, &blob, &len) < 0)
			die("geo map does not load: %s", d->first);
		geo_builder_free(b);
		sec[(*nsec)++] = (struct snap_section_in){ SNAP_SECT_GEO, blob, len };
	}
}

static struct snap *load(char **files, int n, const struct opts *o,
			 const char **how, struct owned *own)
{
	struct zone **z = xmalloc((size_t)n * sizeof(*z));
	struct snap_section_in sec[2];
	struct snap_compile_opts co = { .serial = 1, .sections = sec };
	struct zone_parse_opts po = { 0 };
	struct snap *s = NULL;
	struct diag d;
	uint8_t *blob;
	size_t len;

	diag_init(&d, stderr);
	d.hide_warnings = 1;
	if (n == 1 && is_snapshot(files[0])) {
		if (o->policy || o->geo_map)
			die("--policy and --geo-map are for zone files; %s is a "
			    "snapshot", files[0]);
		if (snap_open(files[0], &d, &s) < 0)
			die("cannot open snapshot %s", files[0]);
		*how = "snapshot file, mapped";
		if (!o->hugepages) {
			free(z);
			return s;
		}
		len = snap_size(s);
		blob = huge_copy(snap_data(s), len);
		own->map_len = huge_len(len);
		snap_close(s);
		*how = "snapshot file, copied to huge pages";
	} else {
		for (int i = 0; i < n; i++) {
			if (zone_parse_file(files[i], &po, &d, &z[i]) < 0)
				die("%s does not load", files[i]);
		}
		policy_sections(z, n, o, &d, sec, &co.nsections);
		for (int i = 0; i < n; i++) {
			if (zone_check(z[i], NULL, &d) < 0)
				die("%s does not load", files[i]);
		}
		if (snap_compile(z, (size_t)n, &co, &d, &blob, &len) < 0)
			die("cannot compile: %s", d.first);
		for (int i = 0; i < n; i++)
			zone_free(z[i]);
		for (size_t i = 0; i < co.nsections; i++)
			free((void *)sec[i].data);
		*how = "zone files, compiled in memory";
		if (o->hugepages) {
			uint8_t *h = huge_copy(blob, len);

			free(blob);
			blob = h;
			own->map_len = huge_len(len);
			*how = "zone files, compiled, in huge pages";
		}
	}
	free(z);
	own->blob = blob;
	if (snap_open_mem(blob, len, &d, &s) < 0)
		die("compiled snapshot does not verify: %s", d.first);
	return s;
}

/* ---- the query set -------------------------------------------------------- */

struct pools {
	struct pool data;       /* names with RRsets, not special */
	struct pool addr;       /* of those, with A or AAAA */
	struct pool cname;
	struct pool wild;
	struct pool deleg;
	struct pool policy;     /* policy record indexes (in .node) */
};

/* Keep at most max candidates of p, evenly spread over it (candidates
 * come in name or node order: a prefix would be one kind of name). */
static void thin(struct pool *p, size_t max)
{
	if (!max || p->n <= max)
		return;
	for (size_t i = 0; i < max; i++)
		p->v[i] = p->v[i * p->n / max];
	p->n = max;
}

/* The policy records the query set may ask for: all, or those whose
 * first label starts with prefix. */
static void collect_policy(const struct snap *s, const char *prefix,
			   struct pool *p)
{
	const struct policy *pol = snap_policy(s);
	size_t plen = prefix ? strlen(prefix) : 0;

	for (uint32_t i = 0; pol && i < policy_record_count(pol); i++) {
		struct policy_record r;

		policy_record_get(pol, i, &r);
		if (plen <= r.name[0] && !memcmp(r.name + 1, prefix, plen))
			pool_add(p, 0, i);
	}
}

/* An RRset of static addresses, which a policy's stand-in RRset is not:
 * policy answers are what --query-policy measures against these. */
static bool static_addr(const struct snap_rrset *set)
{
	return set && !(set->flags & SNAP_RRSET_POLICY);
}

static void collect(const struct snap *s, struct pools *p)
{
	for (uint32_t zi = 0; zi < snap_zone_count(s); zi++) {
		const struct snap_zone *z = snap_zone_at(s, zi);

		for (uint32_t i = 0; i < z->node_count; i++) {
			const struct snap_node *n = snap_node_at(s, z, i);

			/* NSEC3 owners do not exist for queries (RFC 5155 7.2.8) */
			if (n->flags & (SNAP_NODE_OCCLUDED | SNAP_NODE_DNAME |
					SNAP_NODE_NSEC3))
				continue;
			if (n->flags & SNAP_NODE_DELEG)
				pool_add(&p->deleg, zi, i);
			else if (n->flags & SNAP_NODE_WILDCARD)
				pool_add(&p->wild, zi, i);
			else if (n->flags & SNAP_NODE_CNAME)
				pool_add(&p->cname, zi, i);
			else if (n->rrset_count) {
				pool_add(&p->data, zi, i);
				if (static_addr(snap_node_rrset(s, n, RRTYPE_A)) ||
				    static_addr(snap_node_rrset(s, n, RRTYPE_AAAA)))
					pool_add(&p->addr, zi, i);
			}
		}
	}
}

static const struct snap_node *cand_node(const struct snap *s,
					 const struct cand *c)
{
	return snap_node_at(s, snap_zone_at(s, c->zone), c->node);
}

static const uint8_t *cand_name(const struct snap *s, const struct cand *c)
{
	return snap_ptr(s, cand_node(s, c)->name);
}

/* A random LDH label of 4..14 characters, written at w; its length. */
static size_t random_label(uint8_t *w)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = 4 + rnd_below(11);

	w[0] = (uint8_t)n;
	for (size_t i = 1; i <= n; i++)
		w[i] = (uint8_t)chars[rnd_below(36)];
	return n + 1;
}

/* label + parent into name; false when it would be too long. */
static bool prepend_random(uint8_t *name, const uint8_t *parent)
{
	uint8_t label[16];
	size_t l = random_label(label), plen = (size_t)dname_wire_len(parent,
							     DNAME_MAXLEN);

	if (l + plen > DNAME_MAXLEN)
		return false;
	memcpy(name, label, l);
	memcpy(name + l, parent, plen);
	return true;
}

static bool lookup(const struct snap *s, const uint8_t *name,
		   struct snap_lookup *lk)
{
	struct snap_qname q;

	snap_qname_init(&q, name, (size_t)dname_wire_len(name, DNAME_MAXLEN));
	return snap_lookup(s, &q, lk) == 0;
}

/*
 * Fill name/qtype with one query of category c. False when this attempt
 * did not give the category (a random label that exists, a wildcard under
 * a zone cut...): the caller tries again.
 */
static bool make_query(const struct snap *s, const struct pools *p,
		       enum cat c, uint8_t *name, uint16_t *qtype)
{
	static const uint16_t nodata_types[] = {
		RRTYPE_AAAA, RRTYPE_A, RRTYPE_TXT, RRTYPE_MX, RRTYPE_SRV,
		RRTYPE_HTTPS, RRTYPE_CAA,
	};
	const struct cand *k;
	const struct snap_node *n;
	struct snap_lookup lk;
	bool a, aaaa;

	switch (c) {
	case C_HIT:
		k = &p->addr.v[rnd_below(p->addr.n)];
		n = cand_node(s, k);
		a = static_addr(snap_node_rrset(s, n, RRTYPE_A));
		aaaa = static_addr(snap_node_rrset(s, n, RRTYPE_AAAA));
		*qtype = a && (!aaaa || rnd() % 3) ? RRTYPE_A : RRTYPE_AAAA;
		dname_copy_lower(name, cand_name(s, k));
		return true;
	case C_NODATA:
		k = &p->data.v[rnd_below(p->data.n)];
		n = cand_node(s, k);
		/* AAAA at an IPv4-only name is the common case; else any
		 * type the name lacks. */
		*qtype = nodata_types[rnd() % 2 ? 0 : rnd_below(7)];
		if (snap_node_rrset(s, n, *qtype))
			return false;
		dname_copy_lower(name, cand_name(s, k));
		return true;
	case C_NXDOMAIN:
		*qtype = rnd() % 4 ? RRTYPE_A : RRTYPE_AAAA;
		/* mostly straight under the apex, some under a data name */
		if (rnd() % 3 || !p->data.n) {
			const struct snap_zone *z =
				snap_zone_at(s, (uint32_t)rnd_below(
					     snap_zone_count(s)));

			if (!prepend_random(name, snap_ptr(s, z->apex_name)))
				return false;
		} else if (!prepend_random(name, cand_name(s,
				&p->data.v[rnd_below(p->data.n)]))) {
			return false;
		}
		return lookup(s, name, &lk) && !lk.node && !lk.wildcard &&
		       !lk.deleg && !(lk.encloser->flags & SNAP_NODE_DNAME);
	case C_CNAME:
		k = &p->cname.v[rnd_below(p->cname.n)];
		*qtype = rnd() % 5 ? RRTYPE_A : RRTYPE_AAAA;
		dname_copy_lower(name, cand_name(s, k));
		return true;
	case C_WILD:
		k = &p->wild.v[rnd_below(p->wild.n)];
		n = cand_node(s, k);
		{
			const uint8_t *w = cand_name(s, k);

			if (!prepend_random(name, w + 1 + w[0]))
				return false;
		}
		*qtype = snap_node_rrset(s, n, RRTYPE_A) ? RRTYPE_A :
			 snap_node_rrsets(s, n)[0].type;
		return lookup(s, name, &lk) && !lk.node && !lk.deleg &&
		       lk.wildcard == n;
	case C_POLICY: {
		struct policy_record r;

		policy_record_get(snap_policy(s),
				  p->policy.v[rnd_below(p->policy.n)].node, &r);
		memcpy(name, r.name, r.name_len);
		*qtype = r.type;
		return true;
	}
	case C_REFERRAL:
		k = &p->deleg.v[rnd_below(p->deleg.n)];
		*qtype = RRTYPE_A;
		if (rnd() % 2) {
			dname_copy_lower(name, cand_name(s, k));
		} else if (!prepend_random(name, cand_name(s, k))) {
			return false;
		}
		return lookup(s, name, &lk) && lk.deleg == cand_node(s, k);
	default:
		return false;
	}
}

/* Mixed case (0x20, as some resolvers send) on about half the letters. */
static void mix_case(uint8_t *w)
{
	for (size_t i = 0; w[i]; i += 1u + w[i]) {
		for (size_t j = i + 1; j <= i + w[i]; j++) {
			if (w[j] >= 'a' && w[j] <= 'z' && rnd() % 2)
				w[j] = (uint8_t)(w[j] - 32);
		}
	}
}

/* Header, question and (per edns) an OPT with payload 1232, holding (per
 * ecs) an ECS option for a random /24 in 10.0.0.0/8; its length. */
static size_t write_packet(uint8_t *p, const uint8_t *name, size_t nlen,
			   uint16_t qtype, bool edns, bool ecs, bool dnssec)
{
	size_t len = 12;

	edns = edns || ecs;

	put16(p, (uint16_t)rnd());
	p[2] = 0;                       /* query, RD=0 as resolvers ask us */
	p[3] = 0;
	put16(p + 4, 1);
	put16(p + 6, 0);
	put16(p + 8, 0);
	put16(p + 10, edns ? 1 : 0);
	memcpy(p + len, name, nlen);
	len += nlen;
	put16(p + len, qtype);
	put16(p + len + 2, RRCLASS_IN);
	len += 4;
	if (edns) {
		p[len] = 0;
		put16(p + len + 1, RRTYPE_OPT);
		put16(p + len + 3, 1232);
		memset(p + len + 5, 0, 6);      /* ext-rcode, version, flags, rdlen */
		p[len + 7] = dnssec ? 0x80 : 0;
		len += 11;
	}
	if (ecs) {
		static const uint8_t opt[8] = { 0, 8, 0, 7, 0, 1, 24, 0 };

		put16(p + len - 2, 11);
		memcpy(p + len, opt, 8);
		p[len + 8] = 10;
		p[len + 9] = (uint8_t)rnd();
		p[len + 10] = (uint8_t)rnd();
		len += 11;
	}
	return len;
}

/* Category counts that add up to n, as close to the percentages as
 * rounding allows; categories without candidates go to hits. A zone
 * without addresses in authoritative data (the root: only glue) may still
 * be measured with a mix that asks for no hits; the rest of the rounding
 * then goes to NXDOMAIN, which every zone can answer. */
static void split(const struct opts *o, const struct pools *p, size_t n,
		  size_t count[C_N])
{
	const size_t avail[C_N] = {
		p->addr.n, 1, p->data.n, p->cname.n, p->wild.n, p->deleg.n,
		p->policy.n,
	};
	unsigned total = 0;
	size_t given = 0;

	if (o->policy_set) {
		if (!p->policy.n)
			die("no policy records%s to ask for (--query-policy)",
			    o->policy_prefix ? " with that prefix" : "");
		memset(count, 0, C_N * sizeof(count[0]));
		count[C_POLICY] = n;
		return;
	}
	for (int c = 0; c < C_N; c++)
		total += o->mix[c];
	for (int c = C_N - 1; c >= 0; c--) {
		count[c] = avail[c] ? n * o->mix[c] / total : 0;
		if (o->mix[c] && !avail[c])
			fprintf(stderr, "engine-bench: the zone has no %s names; "
				"their share goes to hits\n", cat_name[c]);
		given += count[c];
	}
	if (!p->addr.n && o->mix[C_HIT])
		die("the zone has no names with A or AAAA%s", " (try -m 0,...)");
	count[p->addr.n ? C_HIT : C_NXDOMAIN] += n - given;
}

static struct query *build_queries(const struct snap *s, const struct opts *o,
				   uint8_t **packets, size_t count[C_N])
{
	struct pools p = { 0 };
	struct query *q = xmalloc(o->queries * sizeof(*q));
	uint8_t *buf = xmalloc(o->queries * PKT_MAX);
	size_t at = 0, pos = 0;

	collect(s, &p);
	collect_policy(s, o->policy_prefix, &p.policy);
	thin(&p.addr, o->pool);
	thin(&p.policy, o->pool);
	split(o, &p, o->queries, count);
	for (int c = 0; c < C_N; c++) {
		for (size_t i = 0; i < count[c]; i++) {
			uint8_t name[DNAME_MAXLEN];
			uint16_t qtype;
			unsigned tries = 0;

			while (!make_query(s, &p, (enum cat)c, name, &qtype)) {
				if (++tries == 1000)
					die("cannot make %s queries from this "
					    "zone", cat_name[c]);
			}
			q[at].cat = (uint8_t)c;
			q[at].qtype = qtype;
			q[at].qname_len = (uint8_t)dname_wire_len(name,
								  DNAME_MAXLEN);
			q[at].off = (uint32_t)pos;
			memcpy(buf + pos, name, q[at].qname_len);
			pos += q[at].qname_len;
			at++;
		}
	}
	/* Shuffle so that the categories interleave as in real traffic. */
	for (size_t i = o->queries - 1; i > 0; i--) {
		size_t j = rnd_below(i + 1);
		struct query t = q[i];

		q[i] = q[j];
		q[j] = t;
	}
	/* Lay the packets out in replay order, one after the other. */
	*packets = xmalloc(o->queries * PKT_MAX);
	pos = 0;
	for (size_t i = 0; i < o->queries; i++) {
		uint8_t name[DNAME_MAXLEN];

		memcpy(name, buf + q[i].off, q[i].qname_len);
		if (rnd() % 100 < o->case_pct)
			mix_case(name);
		q[i].off = (uint32_t)pos;
		bool edns = rnd() % 100 < o->edns_pct;
		bool ecs = o->ecs_pct && rnd() % 100 < o->ecs_pct;
		/* no draw without --ecs or with --do 0 or 100: the set stays
		 * what it always was */
		bool dnssec = (edns || ecs) && (o->do_pct >= 100 ||
			      (o->do_pct && rnd() % 100 < o->do_pct));

		/* RFC 9471: a referral whose in-domain glue does not all fit
		 * is truncated, in 512 bytes or beside a DS and its RRSIG */
		q[i].tc_ok = (dnssec || !(edns || ecs)) && q[i].cat == C_REFERRAL;
		q[i].len = (uint16_t)write_packet(*packets + pos, name,
						  q[i].qname_len, q[i].qtype, edns,
						  ecs, dnssec);
		pos += q[i].len;
	}
	free(buf);
	free(p.data.v);
	free(p.addr.v);
	free(p.cname.v);
	free(p.wild.v);
	free(p.deleg.v);
	free(p.policy.v);
	return q;
}

/* ---- checking ------------------------------------------------------------- */

/* The header check of the timed loop: cheap, the response is in L1. */
static inline bool header_ok(const struct query *q, const uint8_t *r,
			     size_t len, const struct engine_result *res)
{
	const struct expect *e = &expect[q->cat];

	return len >= 12 && (r[3] & 0xf) == e->rcode &&
	       (r[2] & (q->tc_ok ? 0x04 : 0x06)) ==     /* AA, no TC */
	       (e->aa ? 0x04 : 0) &&
	       (get16(r + 6) != 0) == e->answers &&
	       res->kind == e->kind;
}

/* The full check of the first pass: also the ID, the question echoed as
 * asked, and the type of the first answer RR (the CNAME for aliases, the
 * query type otherwise), and an authority section where one is due. */
static bool full_ok(const struct query *q, const uint8_t *pkt, const uint8_t *r,
		    size_t len, const struct engine_result *res)
{
	size_t qsec = 12u + q->qname_len + 4;
	uint16_t want;

	if (!header_ok(q, r, len, res) || len < qsec ||
	    memcmp(r, pkt, 2) != 0 || get16(r + 4) != 1 ||
	    memcmp(r + 12, pkt + 12, qsec - 12) != 0)
		return false;
	if (!expect[q->cat].answers)
		return get16(r + 8) > 0;        /* SOA or the cut's NS */
	if (len < qsec + 4 || (r[qsec] & 0xc0) != 0xc0)
		return false;
	want = q->cat == C_CNAME ? RRTYPE_CNAME : q->qtype;
	return get16(r + qsec + 2) == want;
}

static void report_wrong(const struct query *q, const uint8_t *pkt,
			 const uint8_t *r, size_t len,
			 const struct engine_result *res)
{
	char text[DNAME_TEXT_MAX];
	uint8_t name[DNAME_MAXLEN];

	memcpy(name, pkt + 12, q->qname_len);
	dname_to_text(name, text, sizeof(text));
	fprintf(stderr, "engine-bench: WRONG %s %s type %u: len %zu rcode %u "
		"flags %02x%02x an %u ns %u ar %u kind %u\n", cat_name[q->cat],
		text, q->qtype, len, len >= 12 ? r[3] & 0xf : 0,
		len >= 12 ? r[2] : 0, len >= 12 ? r[3] : 0,
		len >= 12 ? get16(r + 6) : 0, len >= 12 ? get16(r + 8) : 0,
		len >= 12 ? get16(r + 10) : 0, res->kind);
}

/* ---- bursts ---------------------------------------------------------------- */

#define BATCH     4096  /* answers between two clock reads */
#define BURST_MAX ENGINE_BURST_MAX

/* Responses of one burst, each in its own buffer as in an rx burst: as
 * far apart as mbufs (2 KiB of data room plus headroom and the mbuf
 * itself). A stride of a multiple of 4 KiB would put every buffer in the
 * same L1 sets, which no packet pool does. Queries ask for at most 1232
 * bytes over UDP. */
#define BURST_CAP    2048
#define BURST_STRIDE (BURST_CAP + 256)
static uint8_t burst_out[BURST_MAX][BURST_STRIDE];

/* engine_answer_burst over n queries from index i of the replayed set
 * (wrapping); res[k] and burst_out[k] get the k-th answer. */
static void answer_burst(const struct engine_conf *conf,
			 const struct snap *s, const struct query *q,
			 const uint8_t *pk, size_t i, size_t nq, unsigned n,
			 const struct engine_client *client,
			 struct engine_result *res, struct engine_job *jobs)
{
	for (unsigned k = 0; k < n; k++) {
		jobs[k] = (struct engine_job){
			.q = pk + q[i].off, .qlen = q[i].len, .client = client,
			.out = burst_out[k], .cap = BURST_CAP,
			.res = &res[k],
		};
		if (++i == nq)
			i = 0;
	}
	engine_answer_burst(conf, s, jobs, n);
}

/* ---- main ----------------------------------------------------------------- */

/* --dump: the responses of the checked pass, for comparing two builds
 * byte for byte. */
static FILE *dump;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: engine-bench [options] ZONEFILE... | SNAPSHOT\n"
		"  -t SECONDS    time to measure (default 3)\n"
		"  -q N          queries in the replayed set (default 65536)\n"
		"  -c CPU        pin this thread to CPU (default: not pinned)\n"
		"  -s SEED       random seed (default 53)\n"
		"  -m MIX        percent per category, hit,nxdomain,nodata,cname,"
		"wildcard,referral\n"
		"                (default 50,15,10,10,10,5)\n"
		"  -e PCT        queries with EDNS (default 90)\n"
		"  -x PCT        queries with mixed case (default 50)\n"
		"  -H            hold the snapshot in transparent huge pages\n"
		"  -b N          answer in bursts of N (power of two, up to 64) with\n"
		"                engine_answer_burst, as a DPDK loop does with an\n"
		"                rx burst (default: one query at a time)\n"
		"  -B N          the same, always interleaving the lookups (the\n"
		"                engine does when the snapshot outgrows the caches)\n"
		"  -l LABEL      label for the RESULT line\n"
		"  --policy FILE         compile this policy file with the zone "
		"files\n"
		"  --geo-map FILE        ... and this CIDR map of locations\n"
		"  --query-policy[=PFX]  query policy names only (those whose "
		"first label\n"
		"                        starts with PFX), instead of the -m mix\n"
		"  --ecs PCT             queries with an ECS option, a /24 in "
		"10.0.0.0/8\n"
		"                        (default 0; turns ECS on)\n"
		"  --pool N              hits and policy queries ask for at most N "
		"names\n"
		"                        (spread over the candidates; default: "
		"all)\n"
		"  --do PCT              EDNS queries with DO=1 (default 0)\n"
		"  --dump FILE           write the checked pass's responses to FILE\n"
		"                        (length, 2 bytes big-endian, then the bytes)\n");
}

/* Every check of the snapshot's policies healthy, read as in service;
 * the words outlive s (the caller frees them after snap_close). */
static uint8_t *all_healthy(struct snap *s)
{
	const struct policy *p = snap_policy(s);
	uint32_t n = p ? policy_check_count(p) : 0;
	uint8_t *w = xmalloc(n);

	memset(w, 1, n);
	if (n)
		snap_set_health(s, w, n);
	return w;
}

static void parse_mix(const char *arg, unsigned mix[C_N])
{
	const char *p = arg;

	for (int c = 0; c < C_MIX; c++) {
		char *end;
		unsigned long v = strtoul(p, &end, 10);

		if (end == p || v > 100 || (c < C_MIX - 1 && *end != ',') ||
		    (c == C_MIX - 1 && *end))
			die("bad mix '%s' (six percentages)", arg);
		mix[c] = (unsigned)v;
		p = end + 1;
	}
}

int main(int argc, char **argv)
{
	struct opts o = {
		.seconds = 3, .queries = 65536, .cpu = -1, .seed = 53,
		.edns_pct = 90, .case_pct = 50, .label = "zone",
	};
	struct engine_client client = { .family = 2, .transport = ENGINE_UDP,
					.port = 5353 };
	static uint8_t out[ENGINE_MAX_RESPONSE];
	uint64_t answers = 0, wrong[C_N] = { 0 }, wrong_all = 0;
	size_t count[C_N], nodes = 0;
	const char *how;
	struct engine_result res;
	struct query *q;
	uint8_t *pk;
	struct snap *s;
	struct owned own = { 0 };
	double w0, c0, w1, c1;
	unsigned reported = 0;
	bool warming;
	static struct engine_result bres[BURST_MAX];
	static struct engine_job jobs[BURST_MAX];
	struct engine_conf econf;
	uint8_t *health;
	int opt;
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'P' },
		{ "geo-map", required_argument, NULL, 'G' },
		{ "query-policy", optional_argument, NULL, 'Q' },
		{ "ecs", required_argument, NULL, 'E' },
		{ "pool", required_argument, NULL, 'O' },
		{ "do", required_argument, NULL, 'D' },
		{ "dump", required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};

	memcpy(o.mix, default_mix, sizeof(o.mix));
	while ((opt = getopt_long(argc, argv, "t:q:c:s:m:e:x:Hb:B:l:h", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 't': o.seconds = atof(optarg); break;
		case 'q': o.queries = strtoul(optarg, NULL, 10); break;
		case 'c': o.cpu = atoi(optarg); break;
		case 's': o.seed = strtoull(optarg, NULL, 10); break;
		case 'm': parse_mix(optarg, o.mix); break;
		case 'e': o.edns_pct = (unsigned)atoi(optarg); break;
		case 'x': o.case_pct = (unsigned)atoi(optarg); break;
		case 'H': o.hugepages = true; break;
		case 'b': o.burst = (unsigned)atoi(optarg); break;
		case 'B': o.burst = (unsigned)atoi(optarg);
			  o.interleave = ENGINE_INTERLEAVE_ALWAYS; break;
		case 'l': o.label = optarg; break;
		case 'P': o.policy = optarg; break;
		case 'G': o.geo_map = optarg; break;
		case 'Q': o.policy_set = true; o.policy_prefix = optarg; break;
		case 'E': o.ecs_pct = (unsigned)atoi(optarg); break;
		case 'O': o.pool = strtoul(optarg, NULL, 10); break;
		case 'D': o.do_pct = (unsigned)atoi(optarg); break;
		case 'U': dump = fopen(optarg, "wb");
			if (!dump)
				die("cannot create %s", optarg);
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc || o.seconds <= 0 || o.queries < 1 ||
	    o.queries > (1u << 22) || o.burst > BURST_MAX ||
	    (o.burst & (o.burst - 1))) {
		usage(stderr);
		return 2;
	}
	rng_state = o.seed;

	s = load(argv + optind, argc - optind, &o, &how, &own);
	health = all_healthy(s);
	for (uint32_t i = 0; i < snap_zone_count(s); i++)
		nodes += snap_zone_at(s, i)->node_count;
	q = build_queries(s, &o, &pk, count);

	/* Pinned only now: snap_open hashes big blobs on a second thread,
	 * which would inherit the mask and share the core. */
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0)
			die("cannot pin to the CPU: %s", strerror(errno));
	}

	printf("engine-bench: %s: %u zone(s), %zu nodes, %zu bytes (%s)\n",
	       o.label, snap_zone_count(s), nodes, snap_size(s), how);
	printf("engine-bench: %zu queries:", o.queries);
	for (int c = 0; c < C_N; c++)
		printf(" %s %zu", cat_name[c], count[c]);
	engine_conf_init(&econf);
	econf.interleave = o.interleave;
	econf.ecs = o.ecs_pct > 0;
	warming = o.burst && (o.interleave == ENGINE_INTERLEAVE_ALWAYS ||
			      snap_burst_useful(s));
	printf("; EDNS %u%%, mixed case %u%%, ECS %u%%, DO %u%%; ", o.edns_pct,
	       o.case_pct, o.ecs_pct, o.do_pct);
	if (o.burst)
		printf("bursts of %u, %s\n", o.burst, warming ?
		       "lookups interleaved" : "answered one by one (snapshot "
		       "fits in the caches)");
	else
		printf("one query at a time\n");

	/* First pass, untimed: every response checked in full, made the way
	 * the timed loop makes it; it also warms the caches and the branch
	 * predictors. */
	for (size_t i = 0; i < o.queries;) {
		unsigned n = o.burst ? o.burst : 1;

		if (n > o.queries - i)
			n = (unsigned)(o.queries - i);
		answer_burst(&econf, s, q, pk, i, o.queries, n, &client, bres, jobs);
		for (unsigned k = 0; k < n; k++, i++) {
			const uint8_t *p = pk + q[i].off;

			if (dump) {
				uint8_t l2[2] = { (uint8_t)(jobs[k].len >> 8), (uint8_t)jobs[k].len };

				if (fwrite(l2, 1, 2, dump) != 2 ||
				    fwrite(burst_out[k], 1, jobs[k].len, dump) != jobs[k].len)
					die("cannot write %s", "the dump");
			}

			if (!full_ok(&q[i], p, burst_out[k], jobs[k].len,
				     &bres[k])) {
				wrong[q[i].cat]++;
				wrong_all++;
				if (reported++ < 10)
					report_wrong(&q[i], p, burst_out[k],
						     jobs[k].len, &bres[k]);
			}
		}
	}

	if (dump && fclose(dump) != 0)
		die("cannot write %s", "the dump");
	w0 = now(CLOCK_MONOTONIC);
	c0 = now(CLOCK_THREAD_CPUTIME_ID);
	w1 = w0;
	for (size_t i = 0; w1 - w0 < o.seconds;) {
		/* The clock is read once per batch: reading it per query
		 * would cost more than some answers. */
		for (unsigned b = 0; b < BATCH;) {
			unsigned n = o.burst;

			if (n) {
				answer_burst(&econf, s, q, pk, i, o.queries, n,
					     &client, bres, jobs);
				for (unsigned k = 0; k < n; k++, b++) {
					if (__builtin_expect(!header_ok(&q[i],
					    burst_out[k], jobs[k].len,
					    &bres[k]), 0)) {
						wrong[q[i].cat]++;
						wrong_all++;
					}
					if (++i == o.queries)
						i = 0;
				}
				continue;
			}
			const struct query *qq = &q[i];
			const uint8_t *p = pk + qq->off;
			size_t len = engine_answer(&econf, s, p, qq->len, &client,
						   out, sizeof(out), &res);

			if (__builtin_expect(!header_ok(qq, out, len, &res),
					     0)) {
				wrong[qq->cat]++;
				wrong_all++;
				if (reported++ < 10)
					report_wrong(qq, p, out, len, &res);
			}
			if (++i == o.queries)
				i = 0;
			b++;
		}
		answers += BATCH;
		w1 = now(CLOCK_MONOTONIC);
	}
	c1 = now(CLOCK_THREAD_CPUTIME_ID);

	printf("engine-bench: %" PRIu64 " answers in %.3f s CPU, %.3f s wall: "
	       "%.3f M/s (CPU time), %.3f M/s (wall), %.1f ns per answer\n",
	       answers, c1 - c0, w1 - w0, (double)answers / (c1 - c0) / 1e6,
	       (double)answers / (w1 - w0) / 1e6,
	       (c1 - c0) * 1e9 / (double)answers);
	printf("engine-bench: wrong answers %" PRIu64, wrong_all);
	for (int c = 0; c < C_N; c++) {
		if (wrong[c])
			printf(" (%s %" PRIu64 ")", cat_name[c], wrong[c]);
	}
	printf("\n");
	printf("RESULT label=%s nodes=%zu queries=%zu burst=%u warmed=%d "
	       "answers=%" PRIu64 " cpu_s=%.6f wall_s=%.6f cpu_rate=%.0f "
	       "wall_rate=%.0f wrong=%" PRIu64 "\n", o.label, nodes, o.queries,
	       o.burst, warming, answers, c1 - c0, w1 - w0,
	       (double)answers / (c1 - c0), (double)answers / (w1 - w0),
	       wrong_all);
	snap_close(s);
	free(health);
	if (own.map_len)
		munmap(own.blob, own.map_len);
	else
		free(own.blob);
	free(q);
	free(pk);
	return wrong_all ? 1 : 0;
}
