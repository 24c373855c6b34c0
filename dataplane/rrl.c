/*
 * rrl.c — response rate limiting: the accounts table, BIND's credit
 * arithmetic and slip pattern, exemptions, counters and the top-prefixes
 * report.
 *
 * Accounts live in buckets of four 16-byte entries (one cache line); a
 * key looks only at its bucket (RRL_PROBE entries): one line per
 * response, which the burst prefetches. An entry holds 32 bits of the
 * key's hash as its tag (the other bits chose the bucket), so a false
 * match needs a 32-bit tag collision within four entries. The hash is keyed with a random seed per table: a flood cannot
 * aim its keys at one bucket to evict a victim's account.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "error.h"
#include "rrl.h"
#include "snap.h"

#define BUCKET          4       /* entries per bucket: one cache line */
#define MIN_ENTRIES     64
#define MAX_ENTRIES     (1u << 24)

struct rrl_entry {
	uint32_t tag;           /* 0: empty */
	int32_t balance;        /* credits, in 1/cores of a response */
	uint32_t last;          /* second of the last response */
	uint8_t slip;           /* limited responses since the last slip */
	uint8_t pad[3];
};

_Static_assert(sizeof(struct rrl_entry) * BUCKET == 64, "a bucket is one cache line");
_Static_assert(RRL_PROBE == BUCKET, "a key probes its bucket");
_Static_assert(sizeof(((struct engine_result *)0)->kind) == 1,
	       "struct rrl's kind table has a slot for every kind byte");

/* The prefixes limited during one report period (space-saving counts). */
struct rrl_top {
	struct rrl_report e[RRL_TOP];
	unsigned n;
};

struct rrl {
	struct rrl_entry *e;
	uint32_t mask;          /* entries - 1 */
	uint32_t now;
	int32_t cost;           /* credits one response costs (cores) */
	/* Per address family, indexed by its number: whether it is limited
	 * (1: AF_INET and AF_INET6), and its key: the prefix length as masks
	 * of addr[0..8) and addr[8..16), and the key's seeds for that family
	 * (32 bytes: an index is one shift). */
	uint8_t on[256];
	struct rrl_fam {
		uint64_t mask[2];
		uint64_t seed[2];
	} fam[256];
	struct rrl_kind {
		int32_t rate;           /* 0: not limited */
		int32_t floor;          /* -window * rate: the most an account
					 * may owe */
		uint64_t salt;          /* the kind in the key (random) */
		uint64_t qmask;         /* 0xffff: qtype is in the key */
		uint64_t reserved;      /* 32 bytes: an index is one shift */
	} kind[UINT8_MAX + 1];  /* by a result's kind byte, whatever it
				 * holds: those past the last kind have
				 * ENGINE_KIND_ERROR's settings, salt
				 * included (ENGINE_KIND_NONE: rate 0), so
				 * no response needs its kind clamped before
				 * it is accounted */
	unsigned top_cur;       /* buffer being filled (the table's thread) */
	struct rrl_stats st;
	struct rrl_conf conf;
	struct rrl_top top[2];
	_Atomic unsigned cur;   /* top_cur, published */
	_Atomic unsigned want;  /* the buffer the control plane asks for */
};

/* Single-writer counter update, readable by other threads. */
#define CNT_ADD(field, n) \
	__atomic_store_n(&(field), (field) + (uint64_t)(n), __ATOMIC_RELAXED)

void rrl_conf_init(struct rrl_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->responses_per_second = 5;
	conf->nodata_per_second = RRL_INHERIT;
	conf->nxdomains_per_second = RRL_INHERIT;
	conf->referrals_per_second = RRL_INHERIT;
	conf->errors_per_second = RRL_INHERIT;
	conf->window = 15;
	conf->slip = 2;
	conf->ipv4_prefix_length = 24;
	conf->ipv6_prefix_length = 56;
	conf->table_size = 65536;
	conf->cores = 1;
}

static uint32_t inherit(uint32_t v, uint32_t base)
{
	return v == RRL_INHERIT ? base : v;
}

/* The rate of each engine kind. */
static void kind_rates(const struct rrl_conf *c, uint32_t r[ENGINE_KIND_COUNT])
{
	uint32_t base = c->responses_per_second;

	r[ENGINE_KIND_ANSWER] = base;
	r[ENGINE_KIND_NODATA] = inherit(c->nodata_per_second, base);
	r[ENGINE_KIND_NXDOMAIN] = inherit(c->nxdomains_per_second, base);
	r[ENGINE_KIND_REFERRAL] = inherit(c->referrals_per_second, base);
	r[ENGINE_KIND_ERROR] = inherit(c->errors_per_second, base);
}

static int bad(char *err, size_t errlen, int code, const char *fmt, unsigned v,
	       unsigned lo, unsigned hi)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, v, lo, hi);
	return code;
}

int rrl_conf_check(const struct rrl_conf *c, char *err, size_t errlen)
{
	static const char *const names[ENGINE_KIND_COUNT] = {
		"responses_per_second", "referrals_per_second",
		"nodata_per_second", "nxdomains_per_second",
		"errors_per_second",
	};
	uint32_t r[ENGINE_KIND_COUNT];

	kind_rates(c, r);
	for (int k = 0; k < ENGINE_KIND_COUNT; k++) {
		if (r[k] > RRL_MAX_RATE) {
			if (err && errlen)
				snprintf(err, errlen, "rrl: %s is %u, at most %u",
					 names[k], r[k], RRL_MAX_RATE);
			return P53_ERANGE;
		}
	}
	if (c->window < 1 || c->window > RRL_MAX_WINDOW)
		return bad(err, errlen, P53_ERANGE, "rrl: window is %u s, want %u..%u",
			   c->window, 1, RRL_MAX_WINDOW);
	if (c->slip > RRL_MAX_SLIP)
		return bad(err, errlen, P53_ERANGE, "rrl: slip is %u, want %u..%u",
			   c->slip, 0, RRL_MAX_SLIP);
	if (c->ipv4_prefix_length > 32)
		return bad(err, errlen, P53_ERANGE, "rrl: ipv4_prefix_length is %u, want %u..%u",
			   c->ipv4_prefix_length, 0, 32);
	if (c->ipv6_prefix_length > 128)
		return bad(err, errlen, P53_ERANGE, "rrl: ipv6_prefix_length is %u, want %u..%u",
			   c->ipv6_prefix_length, 0, 128);
	if (c->table_size < 1 || c->table_size > MAX_ENTRIES)
		return bad(err, errlen, P53_ERANGE, "rrl: table_size is %u, want %u..%u",
			   c->table_size, 1, MAX_ENTRIES);
	if (c->cores < 1 || c->cores > RRL_MAX_CORES)
		return bad(err, errlen, P53_ERANGE, "rrl: %u cores share the limit, want %u..%u",
			   c->cores, 1, RRL_MAX_CORES);
	if (c->nexempt > RRL_MAX_EXEMPT)
		return bad(err, errlen, P53_ELIMIT, "rrl: %u exempt_clients, want %u..%u",
			   c->nexempt, 0, RRL_MAX_EXEMPT);
	for (unsigned i = 0; i < c->nexempt; i++) {
		const struct rrl_prefix *p = &c->exempt[i];

		if ((p->family != AF_INET && p->family != AF_INET6) ||
		    p->len > (p->family == AF_INET ? 32 : 128))
			return bad(err, errlen, P53_ERANGE,
				   "rrl: exempt_clients entry %u is not a prefix (%u..%u)",
				   i + 1, 0, 0);
	}
	return 0;
}

/* ---- prefixes ------------------------------------------------------------ */

/* Copy addr cut to len bits into out (16 bytes, the rest zero). */
static void cut(const uint8_t *addr, unsigned alen, unsigned len, uint8_t out[16])
{
	unsigned full = len / 8, rest = len % 8;

	memset(out, 0, 16);
	if (full > alen)
		full = alen;
	memcpy(out, addr, full);
	if (rest && full < alen)
		out[full] = (uint8_t)(addr[full] & (0xff00u >> rest));
}

int rrl_prefix_parse(const char *text, struct rrl_prefix *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	uint8_t a[16];
	const char *slash;
	unsigned long len;
	size_t n;
	int family;

	if (!text || (n = strlen(text)) >= sizeof(buf))
		return P53_ESYNTAX;
	memcpy(buf, text, n + 1);
	slash = strchr(buf, '/');
	if (slash)
		buf[slash - buf] = 0;
	family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(family, buf, a) != 1)
		return P53_ESYNTAX;
	len = family == AF_INET ? 32 : 128;
	if (slash) {
		char *end;

		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		if (!slash[1] || *end || errno)
			return P53_ESYNTAX;
		if (len > (family == AF_INET ? 32u : 128u))
			return P53_ERANGE;
	}
	out->family = (uint8_t)family;
	out->len = (uint8_t)len;
	cut(a, family == AF_INET ? 4 : 16, (unsigned)len, out->addr);
	return 0;
}

const char *rrl_prefix_format(const struct rrl_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(p->family == AF_INET6 ? AF_INET6 : AF_INET, p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
	return buf;
}

static bool in_prefix(const struct rrl_prefix *p, const struct engine_client *c)
{
	uint8_t m[16];

	if (p->family != c->family)
		return false;
	cut(c->addr, c->family == AF_INET ? 4 : 16, p->len, m);
	return memcmp(m, p->addr, 16) == 0;
}

/* ---- the table ------------------------------------------------------------- */

static void make_seed(uint64_t *seed, size_t n)
{
	struct timespec ts;

	if (getrandom(seed, n * sizeof(seed[0]), GRND_NONBLOCK) ==
	    (ssize_t)(n * sizeof(seed[0])))
		return;
	/* No entropy yet (early boot): still unpredictable enough for a
	 * hash seed, and never worse than a fixed one. */
	clock_gettime(CLOCK_REALTIME, &ts);
	for (size_t i = 0; i < n; i++)
		seed[i] = ((uint64_t)ts.tv_nsec + i) * 0x9e3779b97f4a7c15ull ^
			  ((uint64_t)ts.tv_sec + (uint64_t)getpid()) * 0xc2b2ae3d27d4eb4full ^
			  (uint64_t)(uintptr_t)seed;
}

/* The key's random parts: a seed pair per family and a salt per kind,
 * so that neither needs a bit of its own in the key. */
static void make_seeds(struct rrl *t)
{
	uint64_t r[4 + ENGINE_KIND_COUNT];

	make_seed(r, sizeof(r) / sizeof(r[0]));
	for (int f = 0; f < 2; f++) {
		t->fam[f ? AF_INET6 : AF_INET].seed[0] = r[2 * f];
		t->fam[f ? AF_INET6 : AF_INET].seed[1] = r[2 * f + 1];
	}
	for (int k = 0; k < ENGINE_KIND_COUNT; k++)
		t->kind[k].salt = r[4 + k];
}

/* The prefix lengths as masks over the address words, so that cutting a
 * client's address costs two ANDs per response, and no branch on the
 * family. */
static void prefix_masks(struct rrl *t)
{
	static const uint8_t ones[16] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	uint8_t m[16];

	cut(ones, 4, t->conf.ipv4_prefix_length, m);
	memcpy(t->fam[AF_INET].mask, m, 16);
	t->on[AF_INET] = 1;
	cut(ones, 16, t->conf.ipv6_prefix_length, m);
	memcpy(t->fam[AF_INET6].mask, m, 16);
	t->on[AF_INET6] = 1;
}

/* Every response probes a random bucket: with 4 KiB pages a large table
 * costs a TLB miss (a nested page walk under a hypervisor) on top of the
 * cache miss, so the table lives in 2 MiB-aligned memory that can be
 * backed by transparent huge pages (only a hint: harmless where THP is
 * off). Zeroed. */
static struct rrl_entry *table_alloc(size_t bytes)
{
	size_t huge = (size_t)2 << 20, len = (bytes + huge - 1) & ~(huge - 1);
	void *p = aligned_alloc(huge, len);

	if (!p)
		return NULL;
	(void)madvise(p, len, MADV_HUGEPAGE);
	memset(p, 0, len);
	return p;
}

int rrl_create(const struct rrl_conf *conf, struct rrl **out, char *err,
	       size_t errlen)
{
	uint32_t r[ENGINE_KIND_COUNT], n = MIN_ENTRIES;
	struct rrl *t = NULL;
	int ret;

	*out = NULL;
	if ((ret = rrl_conf_check(conf, err, errlen)) < 0)
		return ret;
	while (n < conf->table_size)
		n <<= 1;
	t = aligned_alloc(64, (sizeof(*t) + 63) & ~(size_t)63);
	if (!t)
		goto fail;
	memset(t, 0, sizeof(*t));
	if (!(t->e = table_alloc((size_t)n * sizeof(struct rrl_entry))))
		goto fail;
	t->mask = n - 1;
	t->conf = *conf;
	prefix_masks(t);
	t->cost = (int32_t)conf->cores;
	kind_rates(conf, r);
	/* window * rate <= 3600 * 100000 and a balance moves by at most
	 * that much plus one second's rate: every sum fits in 32 bits. */
	for (int k = 0; k < ENGINE_KIND_COUNT; k++) {
		t->kind[k].rate = (int32_t)r[k];
		t->kind[k].floor = -(int32_t)(conf->window * r[k]);
	}
	/* Answers and NODATA are accounted per query type (as BIND). */
	t->kind[ENGINE_KIND_ANSWER].qmask = 0xffff;
	t->kind[ENGINE_KIND_NODATA].qmask = 0xffff;
	make_seeds(t);
	for (unsigned k = ENGINE_KIND_COUNT; k <= UINT8_MAX; k++)
		t->kind[k] = t->kind[ENGINE_KIND_ERROR];
	/* A dropped query sends nothing: not limited, which lets a burst
	 * with drops in it be checked whole. */
	t->kind[ENGINE_KIND_NONE].rate = 0;
	*out = t;
	return 0;
fail:
	if (err && errlen)
		snprintf(err, errlen, "rrl: no memory for %u accounts", n);
	rrl_destroy(t);
	return P53_ENOMEM;
}

void rrl_destroy(struct rrl *t)
{
	if (!t)
		return;
	free(t->e);
	free(t);
}

void rrl_begin(struct rrl *t, uint32_t now_s)
{
	unsigned w = atomic_load_explicit(&t->want, memory_order_acquire);

	t->now = now_s;
	if (w != t->top_cur) {
		t->top[w].n = 0;
		t->top_cur = w;
		atomic_store_explicit(&t->cur, w, memory_order_release);
	}
}

/* ---- accounts -------------------------------------------------------------- */

static inline uint64_t mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)(r >> 64) ^ (uint64_t)r;
}

/* Make p opaque to the compiler: GCC otherwise derives the address of
 * each field of a table entry afresh from the table and the index, a
 * shift and a move a field (some ten instructions a response). */
#define OPAQUE(p) __asm__("" : "+r"(p))

static inline uint64_t ld8(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Keyed hash of the account: the client's prefix, and the name's hash
 * (snap_hash_name, the engine's when it had one), kind and qtype, in one
 * multiplication of two words: the prefix's first word, the rest of the
 * key in the second; the seeds of the client's family and the kind's
 * salt tell the families and kinds apart. The name's hash is not keyed:
 * two names whose hashes collide share their accounts, which only makes
 * the limit stricter, and an attacker who could aim such a collision at
 * a resolver's account can as well spoof the resolver's prefix, which RRL
 * answers with slips. */
static inline uint64_t key_hash(const struct rrl *t, const struct engine_client *c,
				const struct engine_result *res, const struct rrl_kind *k)
{
	const struct rrl_fam *f = &t->fam[c->family];
	uint64_t nh = res->rrl_hash;

	OPAQUE(f);
	if (__builtin_expect(!nh, 0) && res->rrl_name)
		nh = snap_hash_name(res->rrl_name, res->rrl_name_len);
	return mum((ld8(c->addr) & f->mask[0]) ^ f->seed[0],
		   (ld8(c->addr + 8) & f->mask[1]) ^ f->seed[1] ^
		   k->salt ^ (res->qtype & k->qmask) ^ nh << 32);
}

/* How good a victim e is: empty, then recovered (idle past the window:
 * a fresh account is the same), then in credit, then the least recently
 * used account in debt (forgetting a debt lets a flood through). */
static int64_t victim_score(const struct rrl *t, const struct rrl_entry *e)
{
	int32_t idle = (int32_t)(t->now - e->last);

	if (!e->tag)
		return INT64_MAX;
	if (idle > (int32_t)t->conf.window)
		return INT64_MAX - 1;
	if (e->balance > 0)
		return ((int64_t)1 << 40) + idle;
	return idle;
}

/* No account of hash tag in bucket b: the bucket's best victim, made
 * fresh with a full second of credit. One pass over the bucket. */
static struct rrl_entry *replace(struct rrl *t, struct rrl_entry *b, uint32_t tag,
				 const struct rrl_kind *k)
{
	int32_t rate = k->rate;
	struct rrl_entry *victim = b;
	int64_t best = victim_score(t, b);

	for (uint32_t i = 1; i < RRL_PROBE; i++) {
		int64_t score = victim_score(t, &b[i]);

		if (score > best) {
			best = score;
			victim = &b[i];
		}
	}
	if (victim->tag && victim->balance <= 0 && best < INT64_MAX - 1)
		CNT_ADD(t->st.evicted, 1);
	victim->tag = tag;
	victim->balance = rate;
	victim->last = t->now;
	victim->slip = 0;
	return victim;
}

/* The bucket and tag of hash h. */
static inline struct rrl_entry *bucket(const struct rrl *t, uint64_t h)
{
	return &t->e[((uint32_t)h * BUCKET) & t->mask];
}

static inline uint32_t tag_of(uint64_t h)
{
	return (uint32_t)(h >> 32) | 1;
}

/* The account of tag in bucket b: its entry, or a fresh one. The tags
 * are compared before any victim is scored: a hit reads nothing else. */
static inline struct rrl_entry *account(struct rrl *t, struct rrl_entry *b,
					uint32_t tag, const struct rrl_kind *k)
{
	_Static_assert(RRL_PROBE == 4, "the compares below are the bucket's");
	if (b[0].tag == tag)
		return b;
	if (b[1].tag == tag)
		return b + 1;
	if (b[2].tag == tag)
		return b + 2;
	if (b[3].tag == tag)
		return b + 3;
	return replace(t, b, tag, k);
}

/* BIND's arithmetic: earn `rate` per second since the last response, up
 * to one second of credit; a response is allowed while the account is
 * positive, and is debited in any case, down to `window` seconds of
 * debt. */
static int32_t earn(const struct rrl *t, struct rrl_entry *e, const struct rrl_kind *k,
		    int32_t bal)
{
	int32_t age = (int32_t)(t->now - e->last), rate = k->rate;

	if (age <= 0)
		return bal;
	if ((uint32_t)age > t->conf.window)
		age = (int32_t)t->conf.window + 1;
	bal += age * rate;
	e->last = t->now;
	return bal > rate ? rate : bal;
}

/* Most responses of an account come in the second of the one before:
 * nothing earned, no call. */
static inline bool debit(const struct rrl *t, struct rrl_entry *e, const struct rrl_kind *k)
{
	int32_t bal = e->balance, floor = k->floor;
	bool ok;

	if (__builtin_expect(e->last != t->now, 0))
		bal = earn(t, e, k, bal);
	ok = bal > 0;
	bal -= t->cost;
	e->balance = bal < floor ? floor : bal;
	return ok;
}

/* Every slip-th limited response slips, the first one first (as BIND). */
static bool slips(const struct rrl *t, struct rrl_entry *e)
{
	uint32_t slip = t->conf.slip;

	if (!slip)
		return false;
	if (e->slip++ == 0) {
		if (e->slip >= slip)
			e->slip = 0;
		return true;
	}
	if (e->slip >= slip)
		e->slip = 0;
	return false;
}

static void note_limited(struct rrl *t, const struct rrl_prefix *p)
{
	struct rrl_top *b = &t->top[t->top_cur];
	unsigned min = 0;

	for (unsigned i = 0; i < b->n; i++) {
		if (b->e[i].prefix.family == p->family &&
		    memcmp(b->e[i].prefix.addr, p->addr, 16) == 0) {
			b->e[i].limited++;
			return;
		}
		if (b->e[i].limited < b->e[min].limited)
			min = i;
	}
	if (b->n < RRL_TOP) {
		b->e[b->n].prefix = *p;
		b->e[b->n++].limited = 1;
		return;
	}
	/* Space-saving: the newcomer inherits the smallest count. */
	b->e[min].prefix = *p;
	b->e[min].limited++;
}

static bool exempt(struct rrl *t, const struct engine_client *c)
{
	for (unsigned i = 0; i < t->conf.nexempt; i++) {
		if (in_prefix(&t->conf.exempt[i], c)) {
			CNT_ADD(t->st.exempt, 1);
			return true;
		}
	}
	return false;
}

/* The part of a check that needs no account: exemptions and what is
 * not limited. True when the response is to be sent as it is. */
static inline bool unlimited(struct rrl *t, const struct engine_client *c,
			     const struct engine_result *res, const struct rrl_kind *k,
			     bool exemptions)
{
	/* on[] is 1 for the families limited, above ENGINE_UDP (0) and not
	 * above ENGINE_TCP: one compare for family and transport. */
	if ((t->on[c->family] <= c->transport) | !k->rate)
		return true;
	if (__builtin_expect((res->cookie == ENGINE_COOKIE_VALID) | exemptions, 0)) {
		if (res->cookie == ENGINE_COOKIE_VALID) {
			CNT_ADD(t->st.cookie_exempt, 1);
			return true;
		}
		return exempt(t, c);
	}
	return false;
}

/* A response over its account's limit: counted, reported, and dropped
 * or slipped. */
static enum rrl_action limited(struct rrl *t, const struct engine_client *c,
			       unsigned kind, struct rrl_entry *e)
{
	struct rrl_prefix p;

	if (kind >= ENGINE_KIND_COUNT)
		kind = ENGINE_KIND_ERROR;
	CNT_ADD(t->st.limited[kind], 1);
	p.family = c->family;
	p.len = c->family == AF_INET ? t->conf.ipv4_prefix_length :
				       t->conf.ipv6_prefix_length;
	cut(c->addr, c->family == AF_INET ? 4 : 16, p.len, p.addr);
	note_limited(t, &p);
	if (t->conf.log_only)
		return RRL_SEND;
	if (kind != ENGINE_KIND_ERROR && slips(t, e)) {
		CNT_ADD(t->st.slipped[kind], 1);
		return RRL_SLIP;
	}
	CNT_ADD(t->st.dropped[kind], 1);
	return RRL_DROP;
}

/* rrl_check_burst's loop, inlined twice: exemptions is a constant in
 * each, so the usual copy (no exempt prefixes) tests nothing for them.
 * The accounts' hashes are computed and their buckets prefetched first:
 * the packets a worker streams through evict the table from its caches,
 * and a burst then pays about one memory latency, not one a response
 * (measured: in a single pass, 16 fewer instructions a response gave no
 * more answers). */
static inline __attribute__((always_inline)) unsigned
check_burst(struct rrl *t, struct rrl_job *jobs, unsigned n, bool exemptions)
{
	struct rrl_entry *bs[RRL_BURST_MAX];
	uint32_t tags[RRL_BURST_MAX];
	unsigned held = 0;

	for (unsigned i = 0; i < n; i++) {
		uint64_t h = key_hash(t, jobs[i].client, jobs[i].res, &t->kind[jobs[i].res->kind]);

		bs[i] = bucket(t, h);
		tags[i] = tag_of(h);
		__builtin_prefetch(bs[i], 1);
	}
	for (unsigned i = 0; i < n; i++) {
		struct rrl_job *j = &jobs[i];
		const struct engine_result *res = j->res;
		const struct rrl_kind *k = &t->kind[res->kind];
		struct rrl_entry *e;

		OPAQUE(k);
		j->action = RRL_SEND;
		if (unlimited(t, j->client, res, k, exemptions))
			continue;
		e = account(t, bs[i], tags[i], k);
		if (__builtin_expect(debit(t, e, k), 1))
			continue;
		j->action = (uint8_t)limited(t, j->client, res->kind, e);
		held += j->action != RRL_SEND;
	}
	return held;
}

unsigned rrl_check_burst(struct rrl *t, struct rrl_job *jobs, unsigned n)
{
	if (n > RRL_BURST_MAX)
		n = RRL_BURST_MAX;
	if (__builtin_expect(t->conf.nexempt != 0, 0))
		return check_burst(t, jobs, n, true);
	return check_burst(t, jobs, n, false);
}

/* A burst of one: the hot path stays one body that the compiler can
 * inline whole. */
enum rrl_action rrl_check(struct rrl *t, const struct engine_client *c,
			  const struct engine_result *res)
{
	struct rrl_job job = { c, res, RRL_SEND };

	rrl_check_burst(t, &job, 1);
	return (enum rrl_action)job.action;
}

void rrl_stats_read(const struct rrl *t, struct rrl_stats *sum)
{
	const uint64_t *src = (const uint64_t *)&t->st;
	uint64_t *dst = (uint64_t *)sum;

	for (size_t i = 0; i < sizeof(*sum) / sizeof(uint64_t); i++)
		dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

/* ---- the report ------------------------------------------------------------ */

/* Add one table's finished period into out[0..*k) (at most max). */
static void merge(const struct rrl_top *b, struct rrl_report *out,
		  unsigned *k, unsigned max)
{
	for (unsigned i = 0; i < b->n; i++) {
		const struct rrl_report *r = &b->e[i];
		unsigned j, min = 0;

		for (j = 0; j < *k; j++) {
			if (out[j].prefix.family == r->prefix.family &&
			    memcmp(out[j].prefix.addr, r->prefix.addr, 16) == 0)
				break;
			if (out[j].limited < out[min].limited)
				min = j;
		}
		if (j < *k)
			out[j].limited += r->limited;
		else if (*k < max)
			out[(*k)++] = *r;
		else if (*k && out[min].limited < r->limited)
			out[min] = *r;
	}
}

static int by_limited(const void *a, const void *b)
{
	const struct rrl_report *x = a, *y = b;

	return x->limited < y->limited ? 1 : x->limited > y->limited ? -1 : 0;
}

unsigned rrl_report(struct rrl *const *t, unsigned n, struct rrl_report *out,
		    unsigned max)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		unsigned c = atomic_load_explicit(&t[i]->cur, memory_order_acquire);

		/* Not switched since the last call: nothing finished. */
		if (atomic_load_explicit(&t[i]->want, memory_order_relaxed) != c)
			continue;
		merge(&t[i]->top[c ^ 1], out, &k, max);
		t[i]->top[c ^ 1].n = 0;
		atomic_store_explicit(&t[i]->want, c ^ 1, memory_order_release);
	}
	qsort(out, k, sizeof(*out), by_limited);
	return k;
}
