/*
 * engine.c — the DNS answer engine: parse one query, answer it from a
 * snapshot, write the response. Bytes in, bytes out.
 *
 * Nothing here allocates, locks, logs or makes a system call, and the work
 * per query is bounded: the query is walked once, a CNAME/DNAME chain is
 * cut after MAX_CHAIN links, and every copy is bounded by the
 * response limit.
 *
 * The snapshot stores each RRset as ready wire whose RRs start with C0 0C,
 * a pointer to the question name. The common answer is therefore header +
 * question (copied from the query) + one memcpy. Other owners (CNAME
 * targets, the zone apex, a zone cut, glue) are always a name that is
 * already in the response without compression — the question, a suffix of
 * it, or a name inside the RDATA of an RR written earlier (the snapshot
 * keeps RDATA names uncompressed for exactly this) — so they cost a
 * two-byte pointer. Beyond offset 0x3fff a pointer cannot reach; there the
 * name is copied out instead.
 */
#include <stddef.h>
#include <string.h>

#include <sys/socket.h>

#include "cookie.h"
#include "dname.h"
#include "engine.h"
#include "geo.h"
#include "latency.h"
#include "policy.h"
#include "policy_sig.h"
#include "error.h"
#include "rdata.h"

#define HDR_LEN         12
#define PTR_MAX         0x3fff  /* highest offset a compression pointer reaches */
#define OPT_FIXED       11      /* root owner, TYPE, CLASS, TTL, RDLENGTH */
#define EDNS_NSID       3       /* RFC 5001 option code */
#define EDNS_COOKIE     10      /* RFC 7873 option code */
#define EDNS_ECS        8       /* RFC 7871 option code */
#define ECS_IP4         1       /* ECS FAMILY (IANA address family numbers) */
#define ECS_IP6         2
#define ECS_FIXED       4       /* FAMILY, SOURCE and SCOPE PREFIX-LENGTH */
#define ECS_MAX         (ECS_FIXED + 16)
#define COOKIE_OUT      (COOKIE_CLIENT_LEN + COOKIE_SERVER_LEN)
#define UDP_MIN         512
#define MAX_CHAIN       16      /* CNAME/DNAME links followed per query */
#define MAX_PROOF       8       /* NSEC/NSEC3 owners in one answer's proofs */

enum {
	RCODE_NOERROR = 0, RCODE_FORMERR = 1, RCODE_SERVFAIL = 2,
	RCODE_NXDOMAIN = 3, RCODE_NOTIMP = 4, RCODE_REFUSED = 5,
	RCODE_YXDOMAIN = 6, RCODE_BADVERS = 16,
};

#define FLAG_QR         0x80    /* header byte 2 */
#define FLAG_OPCODE     0x78
#define FLAG_AA         0x04
#define FLAG_TC         0x02
#define FLAG_RD         0x01
#define FLAG_CD         0x10    /* header byte 3 */
#define EDNS_DO         0x8000

/* What the parse of the query found. */
struct query {
	const uint8_t *wire;
	size_t len;
	uint16_t qsec_len;      /* question section bytes; 0 = none usable */
	uint16_t qname_len;
	uint16_t qtype;
	uint16_t qclass;
	uint16_t payload;       /* client's EDNS UDP payload size */
	uint8_t edns;           /* a valid OPT was seen */
	uint8_t version;
	uint8_t do_bit;
	uint8_t nsid;           /* NSID option present */
	uint8_t cookie;         /* enum engine_cookie: what to answer with */
	uint16_t cookie_len;    /* COOKIE option length, when cookie_at */
	const uint8_t *cookie_at;       /* the first COOKIE option's data (in
					 * the query: read before answering) */
	uint8_t ecs;            /* enum engine_ecs */
	uint8_t ecs_dup;        /* more than one ECS option */
	uint16_t ecs_len;       /* ECS option length, when ecs_at */
	uint8_t oecs_len;
	const uint8_t *ecs_at;  /* the first ECS option's data (in the query) */
	/* Copies of options, written before they are read (cookie, ecs say
	 * when): query_init leaves them as they are. */
	uint8_t ocookie[COOKIE_OUT];    /* the COOKIE option we send */
	uint8_t oecs[ECS_MAX];  /* the ECS option data we echo (the query's,
				 * kept before the response overwrites it) */
	/* Where the question name's labels start (snap_qname.off), taken
	 * while it is checked, valid when qsec_len is set. */
	uint8_t labels;
	uint8_t off[DNAME_MAXLABELS];
};

/* The response under construction. `end` leaves room for the OPT RR. */
struct writer {
	uint8_t *buf;
	uint32_t pos;
	uint32_t end;
	uint16_t an, ns, ar;
	uint8_t tc;
	uint8_t opt_nsid;       /* our OPT carries NSID ... */
	uint8_t opt_cookie;     /* ... and COOKIE ... */
	uint8_t opt_ecs;        /* ... and the ECS echo */
	uint8_t scope;          /* its SCOPE PREFIX-LENGTH (see note_scope) */
	uint8_t policy;         /* ENGINE_POLICY_* of policy RRsets written */
	uint32_t opt_at;        /* where finish() wrote the OPT RR */
};

/* State of one IN-class answer: the name being resolved (the qname, then
 * each CNAME/DNAME target) and where it sits, uncompressed, in the
 * response. */
struct ans {
	const struct snap *s;
	struct writer w;
	uint16_t qtype;
	uint16_t rcode;
	uint8_t aa;
	uint8_t kind;
	uint8_t chained;        /* a CNAME/DNAME has been followed */
	const struct snap_node *next;   /* the current name's node, when a
					 * CNAME link gave it (no lookup) */
	uint8_t nseen;
	uint8_t dnssec;         /* DO=1: RRSIGs and NSEC proofs (RFC 4035 3.1) */
	uint8_t nproof;
	uint8_t proved;         /* the proofs are written */
	uint32_t sname;         /* response offset of the current name */
	const struct snap_zone *zone;   /* zone of the qname */
	const uint8_t *rrl_name;
	uint8_t rrl_len;
	uint32_t rrl_hash;      /* 0, or snap_name_hash(rrl_name) */
	const struct snap_node *seen[MAX_CHAIN + 1];
	/* Nodes whose NSEC or NSEC3 goes into the authority section once the
	 * answer section is complete (denial and wildcard proofs, in order). */
	const struct snap_node *proof[MAX_PROOF];
	/* A policy that answered nothing in a signed zone: the proof at this
	 * node is the policy's own denial (policy_sig_denial) instead. */
	const struct snap_node *deny_node;
	uint32_t deny_record;
	struct snap_lookup lk;
	/* The client: client_loc() works out its location (what answers
	 * that depend on the client go by) when one first asks. */
	const struct engine_conf *conf;
	const struct query *pq;
	const struct engine_client *c;
	uint8_t located;
	uint8_t piped;          /* a burst's lookup fetched the policy tables */
	struct engine_loc loc;
	struct snap_qname *qn;  /* current name, lower-cased: own, or the
				 * burst's copy (no need to copy it again) */
	struct snap_qname own;  /* (last: it is big and only its used
				 * prefix is touched) */
};

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void engine_conf_init(struct engine_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->udp_payload = ENGINE_UDP_PAYLOAD_DEFAULT;
	conf->ecs_v4_cap = ENGINE_ECS_V4_CAP;
	conf->ecs_v6_cap = ENGINE_ECS_V6_CAP;
}

/* ---- query parsing ------------------------------------------------------ */

/* A query not parsed yet. Clearing the option copies too would cost every
 * query stores that only queries with options need. */
static inline void query_init(struct query *pq, const uint8_t *q, size_t len)
{
	memset(pq, 0, offsetof(struct query, ocookie));
	pq->wire = q;
	pq->len = len;
}

/* Length of the uncompressed question name at p (n bytes available), or
 * -1: compression and extended label types, labels over 63, names over
 * 255 bytes and running off the end are all malformed here. Where each
 * label starts goes to pq->off (the lookup's suffixes). */
static int qname_len(struct query *pq, const uint8_t *p, size_t n)
{
	size_t i = 0;
	unsigned labels = 0;

	for (;;) {
		if (i >= n)
			return -1;
		pq->off[labels] = (uint8_t)i;
		if (!p[i]) {
			pq->labels = (uint8_t)labels;
			return (int)i + 1;
		}
		if (p[i] > 63)
			return -1;
		labels++;
		i += 1u + p[i];
		if (i >= DNAME_MAXLEN)
			return -1;
	}
}

/*
 * Skip the possibly compressed name at *pos in an RR. Each pointer must
 * point strictly below the previous one (and below the name itself), so
 * following them always ends; the expanded name must stay within 255
 * bytes. *root tells whether the name is the root.
 */
static bool skip_name(const uint8_t *m, size_t len, size_t *pos, bool *root)
{
	size_t p = *pos, lowest = *pos, total = 1;
	bool jumped = false;

	for (;;) {
		uint8_t l;

		if (p >= len)
			return false;
		l = m[p];
		if (!l)
			break;
		if ((l & 0xc0) == 0xc0) {
			size_t t;

			if (p + 1 >= len)
				return false;
			t = (size_t)(l & 0x3f) << 8 | m[p + 1];
			if (!jumped)
				*pos = p + 2;
			jumped = true;
			if (t < HDR_LEN || t >= lowest)
				return false;
			lowest = t;
			p = t;
			continue;
		}
		if (l > 63)
			return false;
		total += 1u + l;
		if (total > DNAME_MAXLEN)
			return false;
		p += 1u + l;
	}
	if (!jumped)
		*pos = p + 1;
	*root = total == 1;
	return true;
}

/* OPT RDATA: a list of options that must fill it exactly (RFC 6891 6.1.2).
 * Unknown options are ignored. */
static bool parse_opt_rdata(struct query *pq, const uint8_t *rd, size_t len)
{
	size_t p = 0;

	while (p < len) {
		uint16_t code, olen;

		if (len - p < 4)
			return false;
		code = get16(rd + p);
		olen = get16(rd + p + 2);
		p += 4;
		if (olen > len - p)
			return false;
		if (code == EDNS_NSID)
			pq->nsid = 1;
		if (code == EDNS_COOKIE && !pq->cookie_at) {
			pq->cookie_at = rd + p;
			pq->cookie_len = olen;
		}
		if (code == EDNS_ECS) {
			pq->ecs_dup = pq->ecs_at != NULL;
			pq->ecs_at = rd + p;
			pq->ecs_len = olen;
		}
		p += olen;
	}
	return true;
}

/* The OPT RR at pos, whose owner (the root) is checked: EDNS fields and
 * options into pq. False when the query is malformed. */
static inline bool take_opt(struct query *pq, const uint8_t *m, size_t pos,
			    uint16_t rdlen)
{
	if (pq->edns)
		return false;
	pq->edns = 1;
	pq->payload = get16(m + pos + 2);
	pq->version = m[pos + 5];
	pq->do_bit = !!(get16(m + pos + 6) & EDNS_DO);
	return parse_opt_rdata(pq, m + pos + 10, rdlen);
}

/*
 * Walk the answer, authority and additional sections after the question:
 * every RR must be complete, names valid, nothing may follow the last RR
 * (as Knot), and there may be one OPT at most, in the additional section,
 * owned by the root (RFC 6891 6.1.1). Returns an RCODE.
 */
static int parse_sections(struct query *pq)
{
	const uint8_t *m = pq->wire;
	size_t pos = HDR_LEN + pq->qsec_len;
	uint32_t counts[3] = { get16(m + 6), get16(m + 8), get16(m + 10) };

	/* Nearly every query: nothing after the question but one OPT RR
	 * that ends the message. Read in place, without the walk below,
	 * whose loops over sections and names cost a query as much as
	 * the rest of this function. */
	if (!counts[0] && !counts[1] && counts[2] == 1 &&
	    pq->len - pos >= 11 && !m[pos] && get16(m + pos + 1) == RRTYPE_OPT &&
	    pq->len - pos - 11 == get16(m + pos + 9))
		return take_opt(pq, m, pos + 1, get16(m + pos + 9)) ?
		       RCODE_NOERROR : RCODE_FORMERR;
	for (int sec = 0; sec < 3; sec++) {
		for (uint32_t i = 0; i < counts[sec]; i++) {
			uint16_t type, rdlen;
			bool root;

			if (!skip_name(m, pq->len, &pos, &root) ||
			    pq->len - pos < 10)
				return RCODE_FORMERR;
			type = get16(m + pos);
			rdlen = get16(m + pos + 8);
			if (pq->len - pos - 10 < rdlen)
				return RCODE_FORMERR;
			if (type == RRTYPE_OPT &&
			    (sec != 2 || !root || !take_opt(pq, m, pos, rdlen)))
				return RCODE_FORMERR;
			pos += 10u + rdlen;
		}
	}
	return pos == pq->len ? RCODE_NOERROR : RCODE_FORMERR;
}

/* The question, when there is exactly one and it is well-formed. */
static void parse_question(struct query *pq)
{
	const uint8_t *m = pq->wire;
	int n;

	if (get16(m + 4) != 1)
		return;
	n = qname_len(pq, m + HDR_LEN, pq->len - HDR_LEN);
	if (n < 0 || pq->len - HDR_LEN - (size_t)n < 4)
		return;
	pq->qname_len = (uint16_t)n;
	pq->qsec_len = (uint16_t)(n + 4);
	pq->qtype = get16(m + HDR_LEN + n);
	pq->qclass = get16(m + HDR_LEN + n + 2);
}

/* ---- EDNS Client Subnet (RFC 7871) -------------------------------------- */

/*
 * RFC 7871 6, with ECS on: the query's ECS option. False when it is
 * malformed or repeated, which is FORMERR (7.2.1): a FAMILY other than
 * IPv4 and IPv6 (also with SOURCE 0: 7.1.2 has clients send the family
 * of their transport), a SOURCE PREFIX-LENGTH beyond the family's width,
 * a SCOPE PREFIX-LENGTH other than 0, an ADDRESS that is not exactly the
 * octets SOURCE needs, or that has bits set beyond SOURCE. A valid one
 * is kept for the echo: the response may overwrite the query.
 */
static bool take_ecs(const struct engine_conf *conf, struct query *pq)
{
	const uint8_t *o = pq->ecs_at;
	uint16_t n = pq->ecs_len;
	unsigned width, src;

	if (!o || !conf->ecs)
		return true;
	pq->ecs = ENGINE_ECS_BAD;
	if (pq->ecs_dup || n < ECS_FIXED)
		return false;
	width = get16(o) == ECS_IP4 ? 32 : get16(o) == ECS_IP6 ? 128 : 0;
	src = o[2];
	if (!width || src > width || o[3] || n != ECS_FIXED + (src + 7) / 8)
		return false;
	if ((src & 7) && (o[n - 1] & (0xffu >> (src & 7))))
		return false;
	memcpy(pq->oecs, o, n);
	pq->oecs_len = (uint8_t)n;
	pq->ecs = ENGINE_ECS_ECHO;
	return true;
}

/* The source prefix length of an ECS location: SOURCE cut to the cap of
 * its family (0: the default). SOURCE is within the family's width
 * already, so a cap beyond it changes nothing. */
static unsigned ecs_len(const struct engine_conf *conf, bool v6, unsigned src)
{
	unsigned cap = v6 ? conf->ecs_v6_cap : conf->ecs_v4_cap;

	if (!cap)
		cap = v6 ? ENGINE_ECS_V6_CAP : ENGINE_ECS_V4_CAP;
	return src < cap ? src : cap;
}

/* The first len bits (1..128) of the ECS address at src into dst, the
 * rest zero. src is struct query's oecs, 16 bytes past the option's
 * fixed part whatever the option's length: the address is loaded in the
 * widths the readers load (4 bytes of IPv4, 8 and 8 of IPv6) and the
 * bytes past it are masked off with the bits past len, so no loop runs
 * and the stores here feed the loads that follow at once. */
static void put_prefix(uint8_t *dst, const uint8_t *src, unsigned len, bool v6)
{
	_Static_assert(sizeof(((struct query *)0)->oecs) >= ECS_FIXED + 16,
		       "16 bytes of address are readable past the fixed part");
	if (v6) {
		uint64_t hi, lo;

		memcpy(&hi, src, 8);
		memcpy(&lo, src + 8, 8);
		if (len < 64) {
			hi &= htobe64(~(~0ull >> len));
			lo = 0;
		} else if (len < 128) {
			lo &= htobe64(~(~0ull >> (len - 64)));
		}
		memcpy(dst, &hi, 8);
		memcpy(dst + 8, &lo, 8);
	} else {
		uint32_t a;

		memcpy(&a, src, 4);
		a &= htobe32((uint32_t)(~0ull << (32 - len)));
		memcpy(dst, &a, 4);
	}
}

/* Where the client is (struct engine_loc), from the ECS option taken by
 * take_ecs or from the source address. */
static void locate(const struct engine_conf *conf, const struct query *pq,
		   const struct engine_client *c, struct engine_loc *loc)
{
	const uint8_t *o = pq->oecs;
	bool v6;
	unsigned len;

	if (pq->ecs != ENGINE_ECS_ECHO && c) {
		loc->from = ENGINE_LOC_ADDR;
		loc->family = c->family;
		loc->len = c->family == AF_INET6 ? 128 : 32;
		memcpy(loc->addr, c->addr, sizeof(loc->addr));
		return;
	}
	memset(loc, 0, sizeof(*loc));
	if (pq->ecs != ENGINE_ECS_ECHO)
		return;
	v6 = get16(o) == ECS_IP6;
	len = ecs_len(conf, v6, o[2]);
	if (!len)
		return;
	loc->from = ENGINE_LOC_ECS;
	loc->family = v6 ? AF_INET6 : AF_INET;
	loc->len = (uint8_t)len;
	put_prefix(loc->addr, o + ECS_FIXED, len, v6);
}

/* ---- writing ------------------------------------------------------------ */

/* Length of the uncompressed name at p (already known to be valid). */
static uint32_t wire_name_len(const uint8_t *p)
{
	uint32_t i = 0;

	while (p[i])
		i += 1u + p[i];
	return i + 1;
}

/* Bytes an owner reference takes: a pointer, or the name copied out. */
static inline uint32_t owner_size(const struct writer *w, uint32_t ref)
{
	return ref <= PTR_MAX ? 2 : wire_name_len(w->buf + ref);
}

/* Write the name at response offset ref (uncompressed there) at w->pos. */
static inline void put_owner(struct writer *w, uint32_t ref, uint32_t size)
{
	if (size == 2)
		put16(w->buf + w->pos, (uint16_t)(0xc000 | ref));
	else
		memcpy(w->buf + w->pos, w->buf + ref, size);
	w->pos += size;
}

/*
 * put_wire for an owner that is a pointer (at most PTR_MAX): the RRs then
 * lie as in the snapshot, so they are copied whole and their owners (and
 * with set_ttl, their TTLs) patched at offsets read from src; the
 * snapshot's owners already point at the question's name (HDR_LEN).
 * Reading the response back instead would wait for the copy's wide
 * stores. RR framing was checked when the snapshot was opened. All or
 * nothing.
 */
static inline __attribute__((always_inline)) bool
put_wire_ptr(struct writer *w, const uint8_t *src, uint32_t len, uint16_t n,
	     uint32_t owner, uint16_t *count, bool set_ttl, uint32_t ttl)
{
	uint8_t *out = w->buf + w->pos;
	uint32_t p = 0;

	if (len > w->end - w->pos || n > 0xffffu - *count)
		return false;
	memcpy(out, src, len);
	for (uint16_t k = 0; (owner != HDR_LEN || set_ttl) && k < n; k++) {
		put16(out + p, (uint16_t)(0xc000 | owner));
		if (set_ttl)
			put32(out + p + 6, ttl);
		p += 12u + get16(src + p + 10);
	}
	w->pos += len;
	*count = (uint16_t)(*count + n);
	return true;
}

/*
 * Append n RRs in a snapshot's wire form (len bytes at src, snap_format.h)
 * with each owner set to the name at response offset `owner`, counting
 * them in *count. All or nothing: false (and nothing written) when they
 * do not fit.
 */
static bool put_wire(struct writer *w, const uint8_t *src, uint32_t len, uint16_t n,
		     uint32_t owner, uint16_t *count)
{
	const uint8_t *end = src + len;
	uint32_t osize = owner_size(w, owner);
	uint64_t need = len + (uint64_t)n * (osize - 2);
	uint32_t k;

	if (osize == 2)
		return put_wire_ptr(w, src, len, n, owner, count, false, 0);
	if (need > w->end - w->pos || n > 0xffffu - *count)
		return false;
	for (k = 0; k < n && end - src >= 12; k++) {
		uint32_t rr = 10u + get16(src + 10);

		if (rr > (uint32_t)(end - src - 2))
			break;
		put_owner(w, owner, osize);
		memcpy(w->buf + w->pos, src + 2, rr);
		w->pos += rr;
		src += 2 + rr;
	}
	*count = (uint16_t)(*count + k);
	return true;
}

/* Append RRset `set` under the name at response offset `owner`. */
static inline bool put_rrset(struct writer *w, const struct snap *s,
			     const struct snap_rrset *set, uint32_t owner,
			     uint16_t *count)
{
	return put_wire(w, snap_ptr(s, set->wire), set->wire_len, set->count, owner, count);
}

/* Offset of the RDATA of the RR written at response offset rr. */
static uint32_t rr_rdata(const struct writer *w, uint32_t rr)
{
	const uint8_t *p = w->buf + rr;

	if ((p[0] & 0xc0) == 0xc0)
		return rr + 12;
	return rr + wire_name_len(p) + 10;
}

/* Set the TTL of the `count` RRs written from response offset rr on. */
static void patch_ttl(struct writer *w, uint32_t rr, uint32_t count,
		      uint32_t ttl)
{
	while (count--) {
		uint32_t rd = rr_rdata(w, rr);

		put32(w->buf + rd - 6, ttl);
		rr = rd + get16(w->buf + rd - 2);
	}
}

/*
 * Append RRset `set` owned by `name` (lower-cased wire, len bytes), a name
 * that is not in the response yet: the first RR carries it in full, the
 * others point at it; *ref gets its response offset. All or nothing.
 */
static bool put_wire_named(struct writer *w, const uint8_t *src, uint32_t wire_len,
			   uint16_t n, const uint8_t *name, uint32_t len, uint16_t *count,
			   uint32_t *ref)
{
	uint32_t at = w->pos, first = 12u + get16(src + 10);
	uint16_t before = *count;

	if (len + first - 2 > w->end - w->pos || *count == 0xffff)
		return false;
	memcpy(w->buf + w->pos, name, len);
	memcpy(w->buf + w->pos + len, src + 2, first - 2);
	w->pos += len + first - 2;
	(*count)++;
	if (n > 1 && !put_wire(w, src + first, wire_len - first, (uint16_t)(n - 1), at, count)) {
		w->pos = at;
		*count = before;
		return false;
	}
	*ref = at;
	return true;
}

static inline bool put_rrset_named(struct writer *w, const struct snap *s,
				   const struct snap_rrset *set, const uint8_t *name,
				   uint32_t len, uint16_t *count, uint32_t *ref)
{
	return put_wire_named(w, snap_ptr(s, set->wire), set->wire_len, set->count, name, len,
			      count, ref);
}

/* put_wire with every TTL set to ttl. */
static bool put_wire_ttl(struct writer *w, const uint8_t *src, uint32_t len, uint16_t n,
			 uint32_t owner, uint16_t *count, uint32_t ttl)
{
	uint32_t at = w->pos;
	uint16_t before = *count;

	if (owner <= PTR_MAX)
		return put_wire_ptr(w, src, len, n, owner, count, true, ttl);
	if (!put_wire(w, src, len, n, owner, count))
		return false;
	patch_ttl(w, at, (uint32_t)(*count - before), ttl);
	return true;
}

/* ---- IN class ------------------------------------------------------------ */

static void set_tc(struct ans *a)
{
	a->w.tc = 1;
}

/* With DO=1, the signatures of `set` (just written, owned by the name at
 * response offset `owner`) after it. False when they do not fit. */
static inline bool put_sig(struct ans *a, const struct snap_rrset *set,
			   uint32_t owner, uint16_t *count)
{
	if (!a->dnssec || !set->rrsig)
		return true;
	return put_rrset(&a->w, a->s,
			 (const struct snap_rrset *)(const void *)snap_ptr(a->s, set->rrsig),
			 owner, count);
}

/* An NSEC (or NSEC3) owner to prove a denial or a wildcard expansion
 * (RFC 4035 3.1.3, RFC 5155 7.2), written by put_proofs; each once. */
static void add_proof(struct ans *a, const struct snap_node *n)
{
	if (!n)
		return;
	for (unsigned i = 0; i < a->nproof; i++) {
		if (a->proof[i] == n)
			return;
	}
	if (a->nproof < MAX_PROOF)
		a->proof[a->nproof++] = n;
}

/* The NSEC that covers the current name, which does not exist: the name
 * below its closest encloser (or the wildcard there, `wild`). */
static void prove_absent(struct ans *a, bool wild)
{
	const struct snap_qname *q = a->qn;

	if (!a->dnssec || !a->lk.encloser_strip)
		return;
	if (wild)
		add_proof(a, snap_nsec_wild(a->s, a->lk.zone, a->lk.encloser));
	else
		add_proof(a, snap_nsec_cover(a->s, a->lk.zone, a->lk.encloser,
					     q->name + q->off[a->lk.encloser_strip - 1]));
}

/* ---- NSEC3 (RFC 5155 7.2) ---- */

enum proof3 {
	P3_NXDOMAIN,            /* 7.2.2: closest encloser proof, wildcard */
	P3_WILDCARD,            /* 7.2.6: the next closer name is covered */
	P3_WILD_NODATA,         /* 7.2.5: closest encloser proof, wildcard */
};

/* The NSEC3 matching (or covering) the suffix of the current name that
 * drops i labels. */
static const struct snap_node *n3_at(struct ans *a, unsigned i, bool cover)
{
	const struct snap_qname *q = a->qn;

	return snap_nsec3_find(a->s, a->lk.zone, q->name + q->off[i],
			       (size_t)(q->len - q->off[i]), cover);
}

/* A name that does not exist, in an NSEC3 zone. */
static void prove3_absent(struct ans *a, enum proof3 kind)
{
	unsigned strip = a->lk.encloser_strip;

	if (!strip)
		return;
	/* the encloser's match and its wildcard's cover are precomputed;
	 * the next closer name is hashed here */
	if (kind != P3_WILDCARD)
		add_proof(a, snap_nsec_after(a->s, a->lk.zone, a->lk.encloser));
	add_proof(a, n3_at(a, strip - 1, true));
	if (kind == P3_NXDOMAIN)
		add_proof(a, snap_nsec3_wild(a->s, a->lk.zone, a->lk.encloser));
}

/* RFC 5155 7.2.4 (opt-out): the closest provable encloser of the suffix
 * of the current name that drops `from` labels, and the NSEC3 covering
 * the name just below it. */
static void prove3_provable(struct ans *a, unsigned from)
{
	for (unsigned i = from + 1; i <= a->qn->labels; i++) {
		const struct snap_node *m = n3_at(a, i, false);

		if (m) {
			add_proof(a, m);
			add_proof(a, n3_at(a, i - 1, true));
			return;
		}
	}
}

/* NODATA at node n, a suffix of the current name (RFC 5155 7.2.3): its
 * own NSEC3, matched when the snapshot was compiled (node.nsec), or the
 * opt-out proof when it has none. */
static void prove3_nodata(struct ans *a, const struct snap_node *n)
{
	const struct snap_node *m = snap_nsec_after(a->s, a->lk.zone, n);

	if (m)
		add_proof(a, m);
	else
		prove3_provable(a, (unsigned)(a->qn->labels -
				dname_labels(snap_ptr(a->s, n->name))));
}

static inline bool nsec3_zone(const struct ans *a)
{
	return a->lk.zone->flags & SNAP_ZONE_NSEC3;
}

/* The denial a signed policy answer that is empty comes with: its owner's
 * NSEC or NSEC3 without the record's type (zones/policy_sig.h), signed.
 * False (and TC) when it does not fit. */
static bool put_policy_denial(struct ans *a)
{
	struct policy_sig_rrs nsec, sigs;
	const uint8_t *name;
	uint32_t len, ref;

	if (!policy_sig_denial(snap_policy_sig(a->s), a->deny_record, &name, &len, &nsec,
			       &sigs))
		return true;
	if (!put_wire_named(&a->w, nsec.wire, nsec.len, 1, name, len, &a->w.ns, &ref) ||
	    !put_wire(&a->w, sigs.wire, sigs.len, sigs.count, ref, &a->w.ns)) {
		set_tc(a);
		return false;
	}
	return true;
}

/* Point the owners of the `count` RRs copied from src (snapshot wire)
 * to response offset p on at the name at response offset `owner`, the
 * first one's too when `first`. Returns the offset after them. */
static uint32_t point_rrs(uint8_t *buf, uint32_t p, const uint8_t *src,
			  uint32_t count, uint32_t owner, bool first)
{
	for (uint32_t k = 0; k < count; k++) {
		uint32_t rr = 12u + get16(src + 10);

		if (k || first)
			put16(buf + p, (uint16_t)(0xc000 | owner));
		p += rr;
		src += rr;
	}
	return p;
}

/* A proof from n's denial record (snap_format.h): its owner in full, its
 * NSEC or NSEC3 and the RRSIGs, whose owners then point at it. False,
 * with nothing written, when there is no record or it does not fit whole
 * (put_proofs then writes what fits, as without records). */
static bool put_denial(struct ans *a, const struct snap_node *n)
{
	const struct snap_denial *d = snap_denial_of(a->s, a->lk.zone, n);
	struct writer *w = &a->w;
	uint32_t at = w->pos, p, rrs;
	uint8_t *out = w->buf + at;

	if (!d || !a->dnssec || at > PTR_MAX ||
	    (uint64_t)d->name_len + d->wire_len - 2 + d->sig_len > w->end - at ||
	    (rrs = (uint32_t)d->count + d->sig_count) > 0xffffu - w->ns)
		return false;
	memcpy(out, snap_ptr(a->s, d->name), d->name_len);
	out += d->name_len;
	/* the record and its signatures in one run when the compiler laid
	 * them so (sig_partner: an NSEC3 owner's, an insecure cut's NSEC) */
	if (d->sig == d->wire + d->wire_len) {
		memcpy(out, snap_ptr(a->s, d->wire) + 2, d->wire_len - 2 + d->sig_len);
		out += d->wire_len - 2;
	} else {
		memcpy(out, snap_ptr(a->s, d->wire) + 2, d->wire_len - 2);
		out += d->wire_len - 2;
		memcpy(out, snap_ptr(a->s, d->sig), d->sig_len);
	}
	/* The RRs are found in the snapshot, not in what was just copied:
	 * reading that back would wait for the copy's wide stores. RR
	 * framing was checked when the snapshot was opened. */
	p = at + d->name_len + d->wire_len - 2;
	if (d->count == 1 && d->sig_count == 1) {
		/* the usual record: one NSEC (which has the name) and one
		 * RRSIG right after it */
		put16(w->buf + p, (uint16_t)(0xc000 | at));
	} else {
		p = at + d->name_len - 2;
		p = point_rrs(w->buf, p, snap_ptr(a->s, d->wire), d->count, at, false);
		(void)point_rrs(w->buf, p, snap_ptr(a->s, d->sig), d->sig_count, at, true);
	}
	w->pos = (uint32_t)(out - w->buf) + d->sig_len;
	w->ns = (uint16_t)(w->ns + rrs);
	return true;
}

/* put_proofs with at least one proof to write. */
static void put_proof_list(struct ans *a)
{
	struct writer *w = &a->w;

	for (unsigned i = 0; i < a->nproof; i++) {
		const struct snap_node *n = a->proof[i];
		const struct snap_rrset *nsec;

		if (n == a->deny_node) {
			if (!put_policy_denial(a))
				return;
			continue;
		}
		if (put_denial(a, n))
			continue;
		nsec = snap_node_rrset(a->s, n, RRTYPE_NSEC);
		const uint8_t *name = snap_ptr(a->s, n->name);
		uint32_t ref;

		if (!nsec)
			nsec = snap_node_rrset(a->s, n, RRTYPE_NSEC3);
		if (!nsec)
			continue;
		if (!put_rrset_named(w, a->s, nsec, name, wire_name_len(name),
				     &w->ns, &ref) || !put_sig(a, nsec, ref, &w->ns)) {
			set_tc(a);
			return;
		}
	}
}

/* Required in authority (RFC 4035 3.1.3): TC when they do not fit. Only
 * before the additional section has begun, and once: a proof added
 * later is not written. Inline: most answers have none (DO=0), and the
 * call cost more than the checks. */
static inline void put_proofs(struct ans *a)
{
	if (a->proved || a->w.ar || a->w.tc)
		return;
	a->proved = 1;
	if (a->nproof)
		put_proof_list(a);
}

/* Response offset of the suffix of the current name that is `len` bytes
 * long (the zone apex or a zone cut above it). */
static inline uint32_t suffix_ref(const struct ans *a, uint32_t len)
{
	return a->sname + a->qn->len - len;
}

static const uint8_t *node_name(const struct ans *a, const struct snap_node *n)
{
	return snap_ptr(a->s, n->name);
}

/* RRL's name for this response; hash: its snap_name_hash when at hand,
 * else 0. */
static void set_rrl(struct ans *a, const uint8_t *name, uint32_t len, uint32_t hash)
{
	a->rrl_name = name;
	a->rrl_len = (uint8_t)len;
	a->rrl_hash = hash;
}

/* Where the client is: most answers never ask, so it is worked out on
 * demand, once. */
static const struct engine_loc *client_loc(struct ans *a)
{
	if (!a->located) {
		locate(a->conf, a->pq, a->c, &a->loc);
		a->located = 1;
	}
	return &a->loc;
}

/*
 * The answer depended on the first `len` bits of the client's ECS prefix:
 * the echo's SCOPE PREFIX-LENGTH is the longest such length (RFC 7871
 * 7.2.1: one scope for the whole answer). Whatever decides by location
 * (a geolocation or latency match of client_loc()) calls this with the length
 * of the prefix that matched. Without an ECS location there is nothing
 * to scope: no echo, or SOURCE 0, whose answer covers everyone.
 */
static inline void note_scope(struct ans *a, unsigned len)
{
	const struct engine_loc *loc = client_loc(a);
	unsigned width = loc->family == AF_INET6 ? 128 : 32;

	if (loc->from != ENGINE_LOC_ECS)
		return;
	if (len > width)
		len = width;
	if (len > a->w.scope)
		a->w.scope = (uint8_t)len;
}

/* Per-thread random numbers for weighted draws (xorshift64*): no shared
 * state on the query path. Seeded from the first query the thread sees
 * and the thread's own address, so threads do not draw in step. */
static _Thread_local uint64_t policy_rng;

static uint64_t next_random(uint64_t seed)
{
	uint64_t x = policy_rng;

	if (!x)
		x = (seed ^ (uintptr_t)&policy_rng) | 1;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	policy_rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

/* The client as the snapshot's tables see it: location code, coordinates
 * and latency row, each with the prefix length that matched. */
static void locate_client(const struct snap_policy_view *pv, const struct engine_loc *loc,
			  struct policy_input *in)
{
	const struct geo_table *geo = pv->geo, *coords = pv->coords;
	const struct latency_table *lat = pv->latency;
	int fam = loc->family == AF_INET6 ? AF_INET6 : AF_INET;
	uint32_t v;
	unsigned m;

	in->family = loc->family == AF_INET6 ? 6 : loc->family == AF_INET ? 4 : 0;
	in->prefix_len = loc->len;
	/* in the widths put_prefix wrote (in->addr is zero) */
	if (loc->family == AF_INET6) {
		memcpy(in->addr, loc->addr, 8);
		memcpy(in->addr + 8, loc->addr + 8, 8);
	} else {
		memcpy(in->addr, loc->addr, 4);
	}
	if (!in->family)
		return;
	/* A lookup matches at most the client's own prefix: the ECS source
	 * bits are all the client told us. A miss in a table is scoped to
	 * that whole prefix too: "unknown" holds only where no table prefix
	 * reaches, and scope 0 would hand the fallback answer to every
	 * client of the resolver. Without the table everyone is unknown. */
	in->geo_prefix = geo ? loc->len : 0;
	in->coords_prefix = coords ? loc->len : 0;
	in->latency_prefix = lat ? loc->len : 0;
	if (geo && geo_lookup(geo, fam, loc->addr, &v, &m) && v != GEO_LOC_NONE) {
		in->geo = v;
		in->geo_prefix = (uint8_t)(m < loc->len ? m : loc->len);
	}
	if (coords && geo_lookup(coords, fam, loc->addr, &v, &m) &&
	    geo_coord_unpack(v, &in->lat, &in->lon)) {
		in->has_coords = true;
		in->coords_prefix = (uint8_t)(m < loc->len ? m : loc->len);
	}
	if (lat && (in->latency = latency_lookup(lat, fam, loc->addr, &m))) {
		in->nlatency = lat->nregions;
		in->latency_prefix = (uint8_t)(m < loc->len ? m : loc->len);
	}
}

/* Map policy_output flags to the engine's (engine.h). */
static inline uint8_t policy_flags(const struct policy_output *out)
{
	return (uint8_t)(ENGINE_POLICY_ANSWERED |
			 (out->flags & POLICY_FAIL_OPEN ? ENGINE_POLICY_FAIL_OPEN : 0) |
			 (out->flags & POLICY_LAST_RESORT ? ENGINE_POLICY_LAST_RESORT : 0) |
			 (out->n ? 0 : ENGINE_POLICY_EMPTY));
}

/* One RR of a policy answer under the owner. False when it does not fit. */
static bool put_rr(struct writer *w, uint32_t owner, uint32_t osize, uint16_t type,
		   uint32_t ttl, const uint8_t *rdata, uint16_t rdlen, uint16_t *count)
{
	if (osize + 10u + rdlen > w->end - w->pos || *count == 0xffff)
		return false;
	put_owner(w, owner, osize);
	put16(w->buf + w->pos, type);
	put16(w->buf + w->pos + 2, 1);
	put32(w->buf + w->pos + 4, ttl);
	put16(w->buf + w->pos + 8, rdlen);
	memcpy(w->buf + w->pos + 10, rdata, rdlen);
	w->pos += 10u + rdlen;
	(*count)++;
	return true;
}

/* An alias whose target is outside every zone we serve: the addresses the
 * control plane resolved (snap.h). Until it knows them for this family
 * the response becomes SERVFAIL (ENGINE_POLICY_UNRESOLVED): an empty
 * NOERROR would be cached as NODATA by every resolver that asked. */
static bool put_external(struct ans *a, struct writer *w, uint32_t epi,
			 const struct policy_record *r, uint32_t owner, uint16_t *count)
{
	const struct snap_alias *slot = snap_alias_of(a->s, epi);
	bool v4 = r->type == RRTYPE_A;
	struct snap_alias_addrs v;
	uint32_t osize = owner_size(w, owner);

	if (!slot || !snap_alias_read(slot, &v) ||
	    !(v.have & (v4 ? SNAP_ALIAS_HAVE_A : SNAP_ALIAS_HAVE_AAAA))) {
		w->policy |= ENGINE_POLICY_UNRESOLVED;
		return true;
	}
	for (unsigned i = 0; i < (v4 ? v.n4 : v.n6) && i < SNAP_ALIAS_MAX; i++) {
		if (!put_rr(w, owner, osize, r->type, r->ttl, v4 ? v.a[i] : v.aaaa[i],
			    v4 ? 4 : 16, count))
			return false;
	}
	return true;
}

/* An alias endpoint (number epi): the target's own RRset of the record's
 * type (static data, snap_policy_prepare checked it), under the owner and
 * with the record's TTL; outside our zones, what pop53d resolved. */
static bool put_alias(struct ans *a, struct writer *w, const struct policy_endpoint *ep,
		      uint32_t epi, const struct policy_record *r, uint32_t owner,
		      uint16_t *count)
{
	struct snap_qname q;
	const struct snap_zone *z;
	const struct snap_node *n;
	const struct snap_rrset *set;
	uint32_t rr = w->pos;
	uint16_t before = *count;

	snap_qname_init(&q, ep->rdata, ep->rdlen);
	if (!(z = snap_find_zone(a->s, &q)))
		return put_external(a, w, epi, r, owner, count);
	if (!(n = snap_find_node(a->s, z, q.name, q.len)) ||
	    !(set = snap_node_rrset(a->s, n, r->type)) || (set->flags & SNAP_RRSET_POLICY))
		return true;
	if (!put_rrset(w, a->s, set, owner, count))
		return false;
	patch_ttl(w, rr, (uint32_t)(*count - before), r->ttl);
	return true;
}

/* With DO=1 in a signed zone: the RRSIGs the compiler made for the RRset
 * of these endpoints (zones/policy_sig.h), after it. */
static bool put_policy_sig(struct ans *a, struct writer *w, uint32_t ri,
			   const struct policy_output *out, uint32_t owner, uint16_t *count)
{
	const struct policy_sig *ps = snap_policy_sig(a->s);
	struct policy_sig_rrs sig;
	uint32_t key[POLICY_MAX_ANSWER];

	if (!ps || !policy_sig_signed(ps, ri))
		return true;
	/* the set's key is its endpoints in order (an insertion sort: a few) */
	for (uint32_t i = 0; i < out->n; i++) {
		uint32_t v = out->ep[i], j = i;

		for (; j && key[j - 1] > v; j--)
			key[j] = key[j - 1];
		key[j] = v;
	}
	/* every answer was signed at compile time; a miss would be a
	 * compiler bug, and the answer then goes out as it is */
	if (!policy_sig_find(ps, ri, key, out->n, &sig))
		return true;
	return put_wire(w, sig.wire, sig.len, sig.count, owner, count);
}

/* A blank policy input: copied rather than memset, which compilers turn
 * into a string instruction slow to start for a struct this size. */
static const struct policy_input blank_input;

/* What the policy draws with: the health words and the query's random
 * number. */
static inline void policy_draw_input(struct policy_input *in, const uint8_t *health,
				     uint32_t nhealth, uint64_t rnd)
{
	in->health = health;
	in->nhealth = nhealth;
	in->random = rnd;
	in->rotation = rnd >> 32;
}

/* put_policy's general case: policy_eval for this client (in: the draw
 * and, for a record that depends on the client, its location; otherwise
 * completed here), then each endpoint's RR and with DO=1 their RRSIGs. */
static bool put_policy_eval(struct ans *a, struct writer *w, const struct policy *p,
			    uint32_t ri, struct policy_input *in, bool client, uint32_t owner,
			    uint16_t *count)
{
	struct policy_output out;
	struct policy_record r;
	uint32_t osize = owner_size(w, owner), pos0 = w->pos;
	uint16_t count0 = *count;

	if (!client) {
		struct policy_input draw = *in;

		*in = blank_input;
		policy_draw_input(in, draw.health, draw.nhealth, draw.random);
		if (!a->piped)
			policy_prefetch(p, ri);
	}
	policy_eval(p, ri, in, &out);
	policy_record_brief(p, ri, &r);
	if (out.scope)   /* 0 widens nothing: no need to locate the client */
		note_scope(a, out.scope);
	w->policy |= policy_flags(&out);
	for (uint32_t i = 0; i < out.n; i++) {
		struct policy_endpoint ep;

		policy_output_endpoint(p, &out, i, &ep);
		if (ep.type == POLICY_ALIAS) {
			if (!put_alias(a, w, &ep, out.ep[i], &r, owner, count))
				goto fail;
			continue;
		}
		if (!put_rr(w, owner, osize, ep.type, r.ttl, ep.rdata, ep.rdlen, count))
			goto fail;
	}
	if (a->dnssec && *count != count0 &&
	    !put_policy_sig(a, w, ri, &out, owner, count))
		goto fail;
	return true;
fail:
	/* all of the RRset or none of it, as for static data (RFC 2181 9) */
	w->pos = pos0;
	*count = count0;
	return false;
}

/* A policy RRset (snap_format.h): the RRs come from the policy for this
 * client (its location, latency row and the health words); the RRset's
 * own wire in the snapshot is a stand-in that is never copied. For the
 * common shapes, while the checks they read are up, the policy has the
 * RRs ready (policy_quick); otherwise policy_eval chooses them. Writes
 * nothing when the policy chose nothing; the caller answers NODATA then.
 * All or nothing: false when the RRs do not fit. */
static bool put_policy(struct ans *a, struct writer *w, const struct snap_rrset *set,
		       uint32_t owner, uint16_t *count)
{
	const struct snap_policy_view *pv = snap_policy_view(a->s);
	const struct policy *p = pv->policy;
	struct policy_input in;
	struct policy_quick q;
	uint32_t ri = set->policy - 1;
	uint64_t rnd;
	bool client;

	if (!p)
		return true;
	rnd = next_random(get16(a->pq->wire) ^ (uint64_t)(a->c ? a->c->port : 0) << 16);
	/* weighted, failover, ... alone never ask where the client is */
	if ((client = policy_record_client(p, ri))) {
		/* the record's tables load while the client is located (in a
		 * burst the lookup pipeline has fetched them already) */
		if (!a->piped)
			policy_prefetch(p, ri);
		in = blank_input;
		locate_client(pv, client_loc(a), &in);
	} else {
		/* all policy_quick reads beside the draw */
		in.geo = blank_input.geo;
		in.geo_prefix = 0;
	}
	policy_draw_input(&in, pv->health, pv->nhealth, rnd);
	/* RRSIGs are found by the endpoints chosen: with DO=1 evaluate */
	if (!a->dnssec && policy_quick(p, ri, &in, &q)) {
		if (q.scope)
			note_scope(a, q.scope);
		w->policy |= ENGINE_POLICY_ANSWERED;
		return put_wire(w, q.wire, q.len, q.count, owner, count);
	}
	return put_policy_eval(a, w, p, ri, &in, client, owner, count);
}

static inline bool put_set(struct ans *a, struct writer *w, const struct snap_rrset *set,
			   uint32_t owner, uint16_t *count)
{
	if (set->flags & SNAP_RRSET_POLICY)
		return put_policy(a, w, set, owner, count);
	return put_rrset(w, a->s, set, owner, count);
}

/* Whether set's signatures lie right after its wire, so that both go in
 * one copy: the compiler lays one RRset a node so (sig_partner in
 * snap_compile.c: the apex's SOA, a cut's DS, the addresses of a name),
 * which the format does not promise. */
static inline bool sig_follows(const struct snap_rrset *set, const struct snap_rrset *sig)
{
	return sig->wire == set->wire + set->wire_len && set->count + sig->count <= 0xffff;
}

/* A static RRset and its signatures (put_signed with DO=1), in one copy
 * where sig_follows. */
static bool put_with_sig(struct ans *a, struct writer *w, const struct snap_rrset *set,
			 uint32_t owner, uint16_t *count)
{
	const struct snap_rrset *sig =
		(const struct snap_rrset *)(const void *)snap_ptr(a->s, set->rrsig);

	if (sig_follows(set, sig) &&
	    put_wire(w, snap_ptr(a->s, set->wire), set->wire_len + sig->wire_len,
		     (uint16_t)(set->count + sig->count), owner, count))
		return true;
	return put_rrset(w, a->s, set, owner, count) && put_rrset(w, a->s, sig, owner, count);
}

/* put_set, then with DO=1 the RRset's signatures (put_sig). False when
 * something does not fit, the RRset then perhaps written without its
 * signatures, as by put_set and put_sig. Inline: DO=0 pays one test. */
static inline bool put_signed(struct ans *a, struct writer *w, const struct snap_rrset *set,
			      uint32_t owner, uint16_t *count)
{
	if (!a->dnssec || !set->rrsig)
		return put_set(a, w, set, owner, count);
	return put_with_sig(a, w, set, owner, count);
}

/*
 * DS is the parent's data (RFC 4035 2.4, 3.1.4.1): when the name is the
 * apex of a zone we serve and we also serve a zone above it, the answer
 * comes from that zone as if the child were not here: the DS set at the
 * cut, a referral when another cut lies between, NXDOMAIN when the parent
 * does not know the name (as Knot answers). With no zone above, the child
 * answers (NODATA).
 */
static void ds_from_parent(struct ans *a)
{
	struct snap_qname pq;
	struct snap_lookup lk;
	const struct snap_zone *z;

	snap_qname_init(&pq, a->qn->name + a->qn->off[1],
			(size_t)(a->qn->len - a->qn->off[1]));
	z = snap_find_zone(a->s, &pq);
	if (z && snap_lookup_in(a->s, z, a->qn, &lk) == 0)
		a->lk = lk;
}

/* Whether the qname's lookup was made before answering (in a burst). */
enum prelookup {
	PRE_NONE = 0,           /* no: look it up */
	PRE_FOUND,              /* yes, a->lk holds it */
	PRE_NOZONE,             /* yes, no zone of ours holds the name */
};

/* RFC 5155 7.2.8: NSEC3 owners are not visible to queries: their names,
 * and names below them, do not exist; the parent (the apex) is the
 * closest encloser. */
static void hide_nsec3(struct ans *a)
{
	const struct snap_node *p = snap_node_at(a->s, a->lk.zone,
						 a->lk.encloser->parent);

	a->lk.node = NULL;
	a->lk.encloser = p;
	a->lk.encloser_strip++;
	a->lk.wildcard = p->wildcard == SNAP_NONE ? NULL :
			 snap_node_at(a->s, a->lk.zone, p->wildcard);
}

/* a->lk holds the lookup of the current name: DS at a served apex is
 * answered from the zone above. */
static inline void found(struct ans *a)
{
	if (a->lk.encloser->flags & SNAP_NODE_NSEC3)
		hide_nsec3(a);
	if (a->qtype == RRTYPE_DS && a->lk.node && a->qn->labels &&
	    (a->lk.node->flags & SNAP_NODE_APEX))
		ds_from_parent(a);
}

/* Look the current name up; false when no zone of ours holds it. A
 * CNAME linked to its target (follow_cname) names the node: the lookup
 * would find it in the same zone. */
static inline __attribute__((always_inline)) bool find(struct ans *a)
{
	if (a->next) {
		snap_lookup_node(a->s, a->lk.zone, a->next, &a->lk);
		a->next = NULL;
	} else if (snap_lookup(a->s, a->qn, &a->lk) < 0) {
		return false;
	}
	found(a);
	return true;
}

/* A referral, unless this is DS at the cut itself: the parent's data. */
static inline bool is_referral(const struct ans *a)
{
	return a->lk.deleg &&
	       !(a->qtype == RRTYPE_DS && a->lk.deleg == a->lk.node);
}

static bool seen(struct ans *a, const struct snap_node *n)
{
	for (unsigned i = 0; i < a->nseen; i++) {
		if (a->seen[i] == n)
			return true;
	}
	if (a->nseen < MAX_CHAIN + 1)
		a->seen[a->nseen++] = n;
	return false;
}

/* Case-insensitive equality of an uncompressed name in the response and a
 * lower-cased one from the snapshot. Length bytes are below 'A'. */
static bool name_eq(const uint8_t *resp, const uint8_t *lower, uint32_t len)
{
	uint64_t x, y;

	/* a word at a time (a referral compares every NS target), the last
	 * word overlapping the one before it */
	if (len >= 8) {
		for (uint32_t i = 0; i + 8 < len; i += 8) {
			memcpy(&x, resp + i, 8);
			memcpy(&y, lower + i, 8);
			if (dname_lower8(x) != y)
				return false;
		}
		memcpy(&x, resp + len - 8, 8);
		memcpy(&y, lower + len - 8, 8);
		return dname_lower8(x) == y;
	}
	for (uint32_t i = 0; i < len; i++) {
		uint8_t c = resp[i];

		if ((unsigned)c - 'A' < 26u)
			c = (uint8_t)(c + 32);
		if (c != lower[i])
			return false;
	}
	return true;
}

/* Where the additional-section target of the RR whose RDATA is at `rd`
 * sits in the response, or 0 (none). SVCB/HTTPS "." in ServiceMode stands
 * for the owner (RFC 9460 2.5.2), which is at `owner`. */
static uint32_t rr_target(const struct writer *w, uint32_t rd,
			  uint16_t rdlen, uint32_t owner)
{
	uint16_t type = get16(w->buf + rd - 10);
	const uint8_t *t = rdata_target(type, w->buf + rd, rdlen);

	if (!t)
		return 0;
	if (!t[0]) {
		if ((type == RRTYPE_SVCB || type == RRTYPE_HTTPS) &&
		    get16(w->buf + rd))
			return owner;
		return 0;
	}
	return (uint32_t)(t - w->buf);
}

/*
 * A and AAAA of one additional-section node, owned by the name at `ref`.
 * Glue below (or at) the zone cut `cut` of a referral is required (RFC
 * 9471): if it does not fit the response is truncated and false returned.
 * Everything else is optional and left out when it does not fit (RFC 2181
 * section 9).
 */
static bool put_glue(struct ans *a, const struct snap_node *n, uint32_t ref,
		     uint32_t cut)
{
	static const uint16_t types[2] = { RRTYPE_A, RRTYPE_AAAA };
	bool required = cut != SNAP_NONE && n->deleg == cut;

	for (int i = 0; i < 2; i++) {
		const struct snap_rrset *set = snap_node_rrset(a->s, n, types[i]);

		if (!set)
			continue;
		if (!put_set(a, &a->w, set, ref, &a->w.ar)) {
			if (!required)
				continue;
			set_tc(a);
			return false;
		}
		/* RRSIGs in additional are optional (RFC 4035 3.1) */
		(void)put_sig(a, set, ref, &a->w.ar);
	}
	return true;
}

/*
 * The additional section pre-rendered for `set` (snap_glue_of), copied in
 * one piece with each RR's owner pointed at its target's name: at `start`
 * plus where the stored RRset has it, or (packed NS targets) at ns_at[RR].
 * A referral from a big delegation (13 NS, 26 glue RRs) otherwise visits
 * every glue node, a cache miss each. False, with nothing written, when
 * there is none, when DO=1 wants signatures it leaves out, or when it
 * does not fit whole: the caller then writes the glue target by target,
 * which knows what may be left out.
 */
static bool put_glue_blob(struct ans *a, const struct snap_rrset *set, uint32_t start,
			  const uint32_t *ns_at)
{
	const struct snap_glue *g = snap_glue_of(a->s, set);
	struct writer *w = &a->w;
	uint8_t *out = w->buf + w->pos;

	if (!g || (a->dnssec && (g->flags & SNAP_GLUE_SIGNED)) ||
	    g->wire_len > w->end - w->pos || g->count > 0xffffu - w->ar)
		return false;
	memcpy(out, &g->fix[g->count], g->wire_len);
	for (uint32_t i = 0; i < g->count; i++) {
		const struct snap_glue_fix *f = &g->fix[i];
		uint32_t t = ns_at ? ns_at[f->rr] : start + f->target;

		if (t > PTR_MAX)
			return false;
		put16(out + f->at, (uint16_t)(0xc000 | t));
	}
	w->pos += g->wire_len;
	w->ar = (uint16_t)(w->ar + g->count);
	return true;
}

/*
 * Additional data for the RRset `set` just written at response offset
 * `start`. The snapshot lists the in-zone targets in RR order, first
 * occurrence only, so one merge pass over the written RRs finds each
 * target's name in the response, to point the glue owners at.
 */
static void put_additional(struct ans *a, const struct snap_zone *z,
			   const struct snap_rrset *set, uint32_t start,
			   uint32_t owner, uint32_t cut)
{
	const struct snap_addl *al = (const void *)snap_ptr(a->s, set->additional);
	uint32_t j = 0, rr = start;

	if (put_glue_blob(a, set, start, NULL))
		return;
	for (uint32_t k = 0; k < set->count && j < al->count; k++) {
		uint32_t rd = rr_rdata(&a->w, rr);
		uint16_t rdlen = get16(a->w.buf + rd - 2);
		uint32_t t = rr_target(&a->w, rd, rdlen, owner), len;
		const struct snap_node *n = snap_node_at(a->s, z, al->node[j]);
		const uint8_t *nn = node_name(a, n);

		rr = rd + rdlen;
		if (!t || (len = wire_name_len(a->w.buf + t)) != wire_name_len(nn) ||
		    !name_eq(a->w.buf + t, nn, len))
			continue;
		j++;
		/* Data below a zone cut is glue: only for NS RRsets. */
		if ((n->flags & SNAP_NODE_OCCLUDED) && set->type != RRTYPE_NS)
			continue;
		if (!put_glue(a, n, t, cut))
			return;
	}
}

/* SOA of zone z in the authority section with the negative TTL (RFC 2308
 * section 3 makes it required: truncate when it does not fit), and with
 * DO=1 its RRSIG with the same TTL, as Knot sends it. */
static void put_soa(struct ans *a, const struct snap_zone *z)
{
	const struct snap_rrset *soa =
		(const void *)snap_ptr(a->s, z->soa_rrset);
	const struct snap_rrset *sig = NULL;
	uint32_t apex = suffix_ref(a, wire_name_len(snap_ptr(a->s, z->apex_name)));

	if (a->dnssec && soa->rrsig) {
		sig = (const struct snap_rrset *)(const void *)snap_ptr(a->s, soa->rrsig);
		if (sig_follows(soa, sig) &&
		    put_wire_ttl(&a->w, snap_ptr(a->s, soa->wire), soa->wire_len + sig->wire_len,
				 (uint16_t)(soa->count + sig->count), apex, &a->w.ns, z->neg_ttl))
			return;
	}
	if (!put_wire_ttl(&a->w, snap_ptr(a->s, soa->wire), soa->wire_len, soa->count, apex,
			  &a->w.ns, z->neg_ttl)) {
		set_tc(a);
		return;
	}
	if (sig && !put_wire_ttl(&a->w, snap_ptr(a->s, sig->wire), sig->wire_len, sig->count,
				 apex, &a->w.ns, z->neg_ttl))
		set_tc(a);
}

static void answer_nxdomain(struct ans *a)
{
	const uint8_t *apex = snap_ptr(a->s, a->lk.zone->apex_name);

	a->rcode = RCODE_NXDOMAIN;
	a->kind = ENGINE_KIND_NXDOMAIN;
	set_rrl(a, apex, wire_name_len(apex), 0);
	put_soa(a, a->lk.zone);
	if (!a->dnssec)
		return;
	if (nsec3_zone(a)) {
		prove3_absent(a, P3_NXDOMAIN);
		return;
	}
	prove_absent(a, false);
	prove_absent(a, true);
}

/* With DO=1, after the NS of a referral (RFC 4035 3.1.4): the DS RRset
 * of the cut and its RRSIG, or the NSEC that proves there is none. */
static bool put_secure_cut(struct ans *a, const struct snap_node *cut,
			   uint32_t owner)
{
	const struct snap_rrset *set;

	/* DS is signed data: an unsigned zone's is not sent (as Knot) */
	if (!a->dnssec || !(a->lk.zone->flags & SNAP_ZONE_SIGNED))
		return true;
	set = snap_node_rrset(a->s, cut, RRTYPE_DS);
	if (!set && nsec3_zone(a)) {
		/* RFC 5155 7.2.7: the cut's NSEC3, or the opt-out proof */
		prove3_nodata(a, cut);
		return true;
	}
	if (!set)
		set = snap_node_rrset(a->s, cut, RRTYPE_NSEC);
	if (!set)
		return true;
	return put_signed(a, &a->w, set, owner, &a->w.ns);
}

/* ---- referrals: NS targets compressed ------------------------------------- */

#define DICT_MAX   64          /* names a referral's NS targets may point at */
#define NS_MAX     32          /* NS RRs whose glue is looked for */

/* Names already in the response that a target may end with: each an
 * uncompressed name as written there (in the snapshot, or the question)
 * and where it can be pointed at. Matches are exact, case included, so a
 * target keeps the case the zone gave it (a pointer into a question asked
 * in 0x20 mixed case would not). */
struct ndict {
	const uint8_t *name[DICT_MAX];
	uint32_t len[DICT_MAX];
	uint32_t at[DICT_MAX];
	unsigned n;
};

/* Every suffix of name (not the root) reachable at response offset at. */
static void dict_add(struct ndict *d, const uint8_t *name, uint32_t len, uint32_t at)
{
	for (uint32_t i = 0; name[i] && d->n < DICT_MAX && at + i <= PTR_MAX; i += 1u + name[i]) {
		d->name[d->n] = name + i;
		d->len[d->n] = len - i;
		d->at[d->n++] = at + i;
	}
}

static bool dict_find(const struct ndict *d, const uint8_t *name, uint32_t len, uint32_t *at)
{
	for (unsigned k = 0; k < d->n; k++) {
		if (d->len[k] == len && !memcmp(d->name[k], name, len)) {
			*at = d->at[k];
			return true;
		}
	}
	return false;
}

/* Write target name t (len bytes) at w->pos, ending in a pointer at its
 * longest suffix already in the dictionary. False if it does not fit. */
static bool put_packed_name(struct writer *w, struct ndict *d, const uint8_t *t, uint32_t len)
{
	uint32_t i = 0, at = 0, start = w->pos;

	while (t[i] && !dict_find(d, t + i, len - i, &at))
		i += 1u + t[i];
	if ((t[i] ? i + 2 : len) > w->end - w->pos)
		return false;
	memcpy(w->buf + w->pos, t, t[i] ? i : len);
	w->pos += t[i] ? i : len;
	if (t[i]) {
		put16(w->buf + w->pos, (uint16_t)(0xc000 | at));
		w->pos += 2;
	}
	/* the literal labels can be pointed at from now on */
	for (uint32_t j = 0; j < i && d->n < DICT_MAX && start + j <= PTR_MAX; j += 1u + t[j]) {
		d->name[d->n] = t + j;
		d->len[d->n] = len - j;
		d->at[d->n++] = start + j;
	}
	if (!t[i])
		dict_add(d, t + i, len - i, start + i);
	return true;
}

/*
 * The NS RRset of a referral with its targets compressed against the cut's
 * name and each other (RFC 1035 4.1.4), as most servers send it: the root's
 * "a.gtld-servers.net." ... "m.gtld-servers.net." shrink to a label and a
 * pointer each, which leaves room for the glue RFC 9471 requires beside DS
 * and RRSIGs. ns_at[k] gets where the target of RR k starts (for the glue
 * owners). The caller checks that every offset stays within pointer
 * reach and that there are at most NS_MAX RRs. All or nothing.
 */
static bool put_ns_packed(struct ans *a, const struct snap_rrset *set, const uint8_t *cut,
			  uint32_t owner, uint32_t *ns_at)
{
	struct writer *w = &a->w;
	const uint8_t *src = snap_ptr(a->s, set->wire), *end = src + set->wire_len;
	uint32_t pos0 = w->pos;
	struct ndict d;
	uint16_t k;

	d.n = 0;
	dict_add(&d, w->buf + owner, wire_name_len(cut), owner);
	for (k = 0; k < set->count && end - src >= 12; k++) {
		uint16_t rdlen = get16(src + 10);
		uint32_t rd;

		if (12u + rdlen > (uint32_t)(end - src) || 12u > w->end - w->pos)
			goto fail;
		put16(w->buf + w->pos, (uint16_t)(0xc000 | owner));
		memcpy(w->buf + w->pos + 2, src + 2, 8);
		rd = w->pos + 12;
		w->pos = rd;
		ns_at[k] = rd;
		if (!put_packed_name(w, &d, src + 12, rdlen))
			goto fail;
		put16(w->buf + rd - 2, (uint16_t)(w->pos - rd));
		src += 12u + rdlen;
	}
	w->ns = (uint16_t)(w->ns + k);
	return true;
fail:
	w->pos = pos0;
	return false;
}

/* The glue of a referral's NS RRset, its targets read from the snapshot
 * (the response holds them compressed) and pointed at where ns_at says. */
static void put_ns_glue(struct ans *a, const struct snap_rrset *set, const uint32_t *ns_at,
			uint32_t cut)
{
	const struct snap_addl *al = (const void *)snap_ptr(a->s, set->additional);
	const uint8_t *src = snap_ptr(a->s, set->wire);
	uint32_t j = 0;

	if (put_glue_blob(a, set, 0, ns_at))
		return;
	for (uint32_t k = 0; k < set->count && j < al->count; k++) {
		uint16_t rdlen = get16(src + 10);
		const struct snap_node *n = snap_node_at(a->s, a->lk.zone, al->node[j]);
		const uint8_t *nn = node_name(a, n);

		if (rdlen == wire_name_len(nn) && name_eq(src + 12, nn, rdlen)) {
			j++;
			if (!put_glue(a, n, ns_at[k], cut))
				return;
		}
		src += 12u + rdlen;
	}
}

/* The NS of cut in authority (owned by the name at `owner`), the DS or
 * its denial, and the glue; packed: the NS targets compressed. False
 * when something required did not fit (TC set). */
static bool put_referral(struct ans *a, const struct snap_node *cut,
			 const struct snap_rrset *ns, uint32_t owner, bool packed)
{
	uint32_t ns_at[NS_MAX], start = a->w.pos;
	uint32_t ci = (uint32_t)(cut - snap_node_at(a->s, a->lk.zone, 0));

	if (!(packed ? put_ns_packed(a, ns, node_name(a, cut), owner, ns_at) :
	      put_rrset(&a->w, a->s, ns, owner, &a->w.ns)) || !put_secure_cut(a, cut, owner)) {
		set_tc(a);
		return false;
	}
	put_proofs(a);
	if (ns->additional && packed)
		put_ns_glue(a, ns, ns_at, ci);
	else if (ns->additional)
		put_additional(a, a->lk.zone, ns, start, owner, ci);
	return !a->w.tc;
}

/*
 * NS of the zone cut in authority (owner: the cut, a suffix of the
 * current name) and its glue in additional. Written as stored first (a
 * copy); only when that does not fit is it written again with the NS
 * targets compressed, which costs a search per target but is what lets
 * a DO=1 referral from the root carry its glue in 1232 bytes (RFC 9471).
 */
static void answer_referral(struct ans *a)
{
	const struct snap_node *cut = a->lk.deleg;
	const struct snap_rrset *ns = snap_node_rrset(a->s, cut, RRTYPE_NS);
	const uint8_t *cname = node_name(a, cut);
	uint32_t clen = wire_name_len(cname), owner;
	struct writer w0;
	uint8_t nproof, proved;

	if (!a->chained) {
		a->aa = 0;
		a->kind = ENGINE_KIND_REFERRAL;
		set_rrl(a, cname, clen, 0);
	}
	if (!ns)
		return;
	owner = suffix_ref(a, clen);
	w0 = a->w;
	nproof = a->nproof;
	proved = a->proved;
	if (put_referral(a, cut, ns, owner, false) || owner > PTR_MAX ||
	    w0.pos + ns->wire_len > PTR_MAX || ns->count > NS_MAX)
		return;
	a->w = w0;
	a->nproof = nproof;
	a->proved = proved;
	(void)put_referral(a, cut, ns, owner, true);
}

/*
 * RFC 8482: ANY gets one RRset, never the whole node. The one with the
 * lowest type (RRSIG left out) is cheap to find and the same every time;
 * at a CNAME it is the CNAME.
 */
static const struct snap_rrset *any_rrset(const struct snap *s,
					  const struct snap_node *n)
{
	const struct snap_rrset *set = snap_node_rrsets(s, n);

	for (uint32_t i = 0; i < n->rrset_count; i++) {
		if (set[i].type != RRTYPE_RRSIG)
			return &set[i];
	}
	return NULL;
}

/* Make the name at response offset `ref` (len bytes) the current one. */
static void move_to(struct ans *a, uint32_t ref, uint32_t len)
{
	a->sname = ref;
	a->chained = 1;
	a->kind = ENGINE_KIND_ANSWER;
	snap_qname_init(a->qn, a->w.buf + ref, len);
}

/*
 * A policy that answered an address type with a name (a CNAME RR at
 * response offset rr): its target becomes the current name, as a CNAME of
 * the zone's would. True when the chain goes on.
 */
static inline bool policy_target(struct ans *a, uint32_t rr)
{
	uint32_t rd = rr_rdata(&a->w, rr);
	int len;

	/* inline: nearly every policy answers with addresses, and this test
	 * cost less than the call */
	if (get16(a->w.buf + rd - 10) != RRTYPE_CNAME)
		return false;
	len = dname_wire_len(a->w.buf + rd, get16(a->w.buf + rd - 2));
	if (len < 0)
		return false;
	move_to(a, rd, (uint32_t)len);
	return true;
}

/* NODATA at node n (RFC 4035 3.1.3.1, 3.1.3.4): n's NSEC (for an empty
 * non-terminal, the one that covers it); at a wildcard, also the NSEC
 * that covers the name itself. */
static void prove_nodata(struct ans *a, const struct snap_node *n)
{
	if (!a->dnssec)
		return;
	if (nsec3_zone(a)) {
		/* node.nsec: the NSEC3 matching the node's name */
		if (n != a->lk.node) {
			prove3_absent(a, P3_WILD_NODATA);
			add_proof(a, snap_nsec_after(a->s, a->lk.zone, n));
		} else if (n->nsec) {
			add_proof(a, snap_nsec_after(a->s, a->lk.zone, n));
		} else {
			prove3_provable(a, 0);
		}
		return;
	}
	if (n != a->lk.node)
		prove_absent(a, false);
	add_proof(a, snap_nsec_after(a->s, a->lk.zone, n));
}

/* NODATA from a policy that chose nothing: the node's own denial record
 * lists the record's type, so in a signed zone the proof of the node is
 * the policy's denial, signed without it. */
static void prove_policy_nodata(struct ans *a, const struct snap_node *n,
				const struct snap_rrset *set)
{
	const struct policy_sig *ps = snap_policy_sig(a->s);

	prove_nodata(a, n);
	if (a->dnssec && ps && policy_sig_signed(ps, set->policy - 1)) {
		a->deny_node = snap_nsec_after(a->s, a->lk.zone, n);
		a->deny_record = set->policy - 1;
	}
}

/* An answer synthesized from a wildcard: the proof that the name itself
 * does not exist (RFC 4035 3.1.3.3, RFC 5155 7.2.6). */
static void prove_wildcard(struct ans *a)
{
	if (!a->dnssec)
		return;
	if (nsec3_zone(a))
		prove3_absent(a, P3_WILDCARD);
	else
		prove_absent(a, false);
}

/* Data of type qtype at node n (exact or wildcard) for the current name.
 * True when a policy's name moved the chain to a new current name. */
static inline __attribute__((always_inline)) bool
answer_node(struct ans *a, const struct snap_node *n)
{
	const struct snap_rrset *set;
	uint32_t start = a->w.pos;
	uint16_t an;

	if (a->qtype == RRTYPE_ANY)
		set = any_rrset(a->s, n);
	else
		set = snap_node_rrset(a->s, n, a->qtype);
	if (!set) {
		if (!a->chained)
			a->kind = ENGINE_KIND_NODATA;
		put_soa(a, a->lk.zone);
		prove_nodata(a, n);
		return false;
	}
	/* a policy name met again in this chain is a loop: stop before
	 * repeating its answer */
	if ((set->flags & SNAP_RRSET_POLICY) && seen(a, n))
		return false;
	a->kind = ENGINE_KIND_ANSWER;
	an = a->w.an;
	if (!put_signed(a, &a->w, set, a->sname, &a->w.an)) {
		set_tc(a);
		return false;
	}
	if (a->w.an == an && (set->flags & SNAP_RRSET_POLICY)) {
		/* the policy chose nothing for this client */
		if (!a->chained)
			a->kind = ENGINE_KIND_NODATA;
		put_soa(a, a->lk.zone);
		prove_policy_nodata(a, n, set);
		return false;
	}
	if (n != a->lk.node)
		prove_wildcard(a);
	if ((set->flags & SNAP_RRSET_POLICY) && set->type != RRTYPE_CNAME &&
	    a->qtype != RRTYPE_ANY && policy_target(a, start))
		return true;
	put_proofs(a);
	if (snap_has_additional(set))
		put_additional(a, a->lk.zone, set, start, a->sname, SNAP_NONE);
	return false;
}

/*
 * The CNAME at node n goes into the answer and its target becomes the
 * current name. False ends the chain: a loop (as Knot: an exact node seen
 * before is not repeated; a wildcard seen before adds its CNAME once more
 * for the new owner, then stops), truncation or a broken target.
 */
static bool follow_cname(struct ans *a, const struct snap_node *n, bool wild)
{
	const struct snap_rrset *set = snap_node_rrset(a->s, n, RRTYPE_CNAME);
	uint32_t start = a->w.pos, rd;
	uint16_t an = a->w.an;
	bool again;
	int len;

	if (!set || (!wild && seen(a, n)))
		return false;
	if (!put_signed(a, &a->w, set, a->sname, &a->w.an)) {
		set_tc(a);
		return false;
	}
	if (a->w.an == an) {
		/* a CNAME policy chose nothing for this client: there is no
		 * target to read, the name has no data */
		if (!a->chained)
			a->kind = ENGINE_KIND_NODATA;
		put_soa(a, a->lk.zone);
		prove_policy_nodata(a, n, set);
		return false;
	}
	if (wild)
		prove_wildcard(a);
	a->kind = ENGINE_KIND_ANSWER;
	a->chained = 1;
	again = wild && seen(a, n);
	rd = rr_rdata(&a->w, start);
	len = dname_wire_len(a->w.buf + rd, get16(a->w.buf + rd - 2));
	if (again || len < 0)
		return false;
	move_to(a, rd, (uint32_t)len);
	if (!(set->flags & SNAP_RRSET_POLICY))
		a->next = snap_cname_link(a->s, a->lk.zone, set);
	return true;
}

/*
 * RFC 6672: the DNAME at the closest encloser, then a CNAME synthesized
 * from it (owner the current name, TTL the DNAME's), whose target becomes
 * the current name. The target is written uncompressed so that it can be
 * pointed at like any RDATA name. A DNAME already used ends the chain
 * rather than appear twice (as Knot, whose duplicate check stops there).
 */
static bool follow_dname(struct ans *a, const struct snap_rrset *set)
{
	struct writer *w = &a->w;
	uint32_t start = w->pos, rd, tlen, plen, osize, rdlen;
	uint32_t owner = a->sname + a->qn->off[a->lk.encloser_strip];
	int n;

	if (seen(a, a->lk.encloser))
		return false;
	if (!put_signed(a, w, set, owner, &w->an)) {
		set_tc(a);
		return false;
	}
	a->kind = ENGINE_KIND_ANSWER;
	a->chained = 1;
	rd = rr_rdata(w, start);
	n = dname_wire_len(w->buf + rd, get16(w->buf + rd - 2));
	if (n < 0)
		return false;
	tlen = (uint32_t)n;
	plen = a->qn->off[a->lk.encloser_strip];
	rdlen = plen + tlen;
	if (rdlen > DNAME_MAXLEN) {
		a->rcode = RCODE_YXDOMAIN;
		return false;
	}
	osize = owner_size(w, a->sname);
	if (osize + 10 + rdlen > w->end - w->pos || w->an == 0xffff) {
		set_tc(a);
		return false;
	}
	put_owner(w, a->sname, osize);
	put16(w->buf + w->pos, RRTYPE_CNAME);
	put16(w->buf + w->pos + 2, RRCLASS_IN);
	put32(w->buf + w->pos + 4, set->ttl);
	put16(w->buf + w->pos + 8, (uint16_t)rdlen);
	w->pos += 10;
	memcpy(w->buf + w->pos, w->buf + a->sname, plen);
	memcpy(w->buf + w->pos + plen, w->buf + rd, tlen);
	w->an++;
	w->pos += rdlen;
	move_to(a, w->pos - rdlen, rdlen);
	return true;
}

/* CNAME applies unless the question asks for the CNAME itself, or for
 * types that live beside it (as Knot: RRSIG, NSEC, and ANY). */
static inline bool chases(uint16_t qtype)
{
	return qtype != RRTYPE_CNAME && qtype != RRTYPE_RRSIG &&
	       qtype != RRTYPE_NSEC && qtype != RRTYPE_ANY;
}

/*
 * One step of RFC 1034 4.3.2 for the current name, looked up in a->lk.
 * Returns true when a CNAME or DNAME moved to a new current name.
 */
static bool step(struct ans *a)
{
	const struct snap_node *n = a->lk.node;
	const struct snap_rrset *dname;

	if (is_referral(a)) {
		answer_referral(a);
		return false;
	}
	if (!n && a->lk.wildcard) {
		n = a->lk.wildcard;
		if (!a->chained)
			set_rrl(a, node_name(a, n), wire_name_len(node_name(a, n)), 0);
		if ((n->flags & SNAP_NODE_CNAME) && chases(a->qtype))
			return follow_cname(a, n, true);
		return answer_node(a, n);
	}
	if (!n) {
		if ((a->lk.encloser->flags & SNAP_NODE_DNAME) &&
		    (dname = snap_node_rrset(a->s, a->lk.encloser, RRTYPE_DNAME))) {
			if (!a->chained)
				set_rrl(a, node_name(a, a->lk.encloser),
					(uint32_t)(a->qn->len -
					a->qn->off[a->lk.encloser_strip]), 0);
			return follow_dname(a, dname);
		}
		answer_nxdomain(a);
		return false;
	}
	if (!a->chained)   /* the qname's own node: its hash is the lookup's */
		set_rrl(a, node_name(a, n), a->qn->len, a->qn->hash);
	if ((n->flags & SNAP_NODE_CNAME) && chases(a->qtype))
		return follow_cname(a, n, false);
	return answer_node(a, n);
}

/*
 * Names outside every zone are REFUSED. Otherwise the answer is
 * authoritative unless the qname itself is referred; a chain keeps the AA
 * of its first name (RFC 1035 4.1.1) and may go on into another zone of
 * the snapshot (RFC 1034 4.3.2 step 3a restarts at step 1). It stops
 * silently at a name we do not serve, and with a referral in authority
 * at a name below a zone cut (as Knot).
 */
static void answer_in(struct ans *a, enum prelookup pre)
{
	bool in_zone;

	a->kind = ENGINE_KIND_ANSWER;
	a->sname = HDR_LEN;
	if (pre == PRE_FOUND)
		found(a);
	in_zone = pre == PRE_NONE ? find(a) : pre == PRE_FOUND;
	if (!in_zone) {
		a->rcode = RCODE_REFUSED;
		a->kind = ENGINE_KIND_ERROR;
		return;
	}
	a->zone = a->lk.zone;
	a->aa = 1;
	for (unsigned links = 0; step(a); links++) {
		if (links + 1 >= MAX_CHAIN || !find(a))
			break;
	}
	put_proofs(a);
	if (a->rcode == RCODE_YXDOMAIN)
		a->kind = ENGINE_KIND_ERROR;
}

/* ---- CHAOS class ----------------------------------------------------------- */

/*
 * CH TXT version.bind/version.server and id.server/hostname.bind, when
 * configured; everything else in CH is REFUSED. As Knot, the string is one
 * character-string (cut at 255 bytes) with TTL 0.
 */
static int answer_chaos(const struct engine_conf *conf, const struct query *pq,
			struct writer *w, uint8_t *aa)
{
	static const struct { uint8_t len; uint8_t ident; const char *name; }
	names[] = {
		{ 14, 0, "\7version\4bind" },
		{ 16, 0, "\7version\6server" },
		{ 11, 1, "\2id\6server" },
		{ 15, 1, "\10hostname\4bind" },
	};
	const uint8_t *q = pq->wire + HDR_LEN;
	const char *txt = NULL;
	size_t tlen;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (pq->qname_len == names[i].len &&
		    name_eq(q, (const uint8_t *)names[i].name, names[i].len)) {
			txt = names[i].ident ? conf->identity : conf->version;
			break;
		}
	}
	if (!txt || !*txt || pq->qtype != RRTYPE_TXT)
		return RCODE_REFUSED;
	tlen = strnlen(txt, 255);
	if (12 + 1 + tlen > w->end - w->pos) {
		w->tc = 1;
		return RCODE_NOERROR;
	}
	put16(w->buf + w->pos, 0xc000 | HDR_LEN);
	put16(w->buf + w->pos + 2, RRTYPE_TXT);
	put16(w->buf + w->pos + 4, RRCLASS_CH);
	put32(w->buf + w->pos + 6, 0);
	put16(w->buf + w->pos + 10, (uint16_t)(1 + tlen));
	w->buf[w->pos + 12] = (uint8_t)tlen;
	memcpy(w->buf + w->pos + 13, txt, tlen);
	w->pos += (uint32_t)(13 + tlen);
	w->an = 1;
	*aa = 1;
	return RCODE_NOERROR;
}

/* ---- the response ----------------------------------------------------------- */

/* Bytes of our OPT RR with the options w says it carries. */
static uint32_t opt_size(const struct engine_conf *conf, const struct query *pq,
			 const struct writer *w)
{
	if (!pq->edns)
		return 0;
	return OPT_FIXED + (w->opt_nsid ? 4u + conf->nsid_len : 0) +
	       (w->opt_cookie ? 4u + COOKIE_OUT : 0) +
	       (w->opt_ecs ? 4u + pq->oecs_len : 0);
}

/* The echo's SCOPE: a response without answer records (negative answers,
 * referrals, errors) holds nothing tailored and says 0 (RFC 7871 7.4). */
static inline uint8_t ecs_scope(const struct writer *w)
{
	return w->an ? w->scope : 0;
}

static inline __attribute__((always_inline)) void
put_opt(const struct engine_conf *conf, const struct query *pq,
	const struct writer *w, uint8_t *p, uint32_t size,
	uint16_t rcode)
{
	uint16_t payload = conf->udp_payload < UDP_MIN ? UDP_MIN :
			   conf->udp_payload;

	p[0] = 0;
	put16(p + 1, RRTYPE_OPT);
	put16(p + 3, payload);
	p[5] = (uint8_t)(rcode >> 4);
	p[6] = 0;       /* version 0 */
	put16(p + 7, pq->do_bit ? EDNS_DO : 0);
	put16(p + 9, (uint16_t)(size - OPT_FIXED));
	p += OPT_FIXED;
	if (w->opt_nsid) {
		put16(p, EDNS_NSID);
		put16(p + 2, conf->nsid_len);
		memcpy(p + 4, conf->nsid, conf->nsid_len);
		p += 4u + conf->nsid_len;
	}
	if (w->opt_ecs) {       /* RFC 7871 7.2.1: the query's, but SCOPE */
		put16(p, EDNS_ECS);
		put16(p + 2, pq->oecs_len);
		memcpy(p + 4, pq->oecs, pq->oecs_len);
		p[7] = ecs_scope(w);
		p += 4u + pq->oecs_len;
	}
	if (w->opt_cookie) {
		put16(p, EDNS_COOKIE);
		put16(p + 2, COOKIE_OUT);
		memcpy(p + 4, pq->ocookie, COOKIE_OUT);
	}
}

/* The most the client takes: 512 over UDP without EDNS, its EDNS payload
 * bounded by ours (never below 512) with it, 65535 over TCP. */
static uint32_t client_limit(const struct engine_conf *conf,
			     const struct query *pq,
			     const struct engine_client *c)
{
	uint32_t lim;

	if (c && c->transport == ENGINE_TCP)
		return ENGINE_MAX_RESPONSE;
	if (!pq->edns)
		return UDP_MIN;
	lim = pq->payload < conf->udp_payload ? pq->payload : conf->udp_payload;
	return lim < UDP_MIN ? UDP_MIN : lim;
}

/*
 * Header and question of the response: ID, opcode, RD and CD copied, QR
 * set, RA clear; the question as asked (case kept) when there is one.
 * Sets w->end to the room left for RRs. False when even this does not fit.
 */
static inline __attribute__((always_inline)) bool
start_response(const struct engine_conf *conf,
	       const struct query *pq,
	       const struct engine_client *c, uint8_t *out,
	       size_t cap, uint32_t *optlen, struct writer *w)
{
	uint32_t lim = client_limit(conf, pq, c);
	const uint8_t *q = pq->wire;
	uint32_t head = (uint32_t)HDR_LEN + pq->qsec_len;

	if (cap < lim)
		lim = (uint32_t)cap;
	w->opt_nsid = pq->nsid && conf->nsid && conf->nsid_len;
	w->opt_cookie = pq->cookie != ENGINE_COOKIE_NONE;
	w->opt_ecs = pq->ecs == ENGINE_ECS_ECHO;
	w->scope = 0;
	w->policy = 0;
	*optlen = opt_size(conf, pq, w);
	if (head + *optlen > lim && w->opt_nsid) {
		w->opt_nsid = 0;        /* NSID is the first thing to go ... */
		*optlen = opt_size(conf, pq, w);
	}
	if (head + *optlen > lim && w->opt_cookie) {
		w->opt_cookie = 0;      /* ... the cookie the second ... */
		*optlen = opt_size(conf, pq, w);
	}
	if (head + *optlen > lim && w->opt_ecs) {
		w->opt_ecs = 0;         /* ... the ECS echo the last */
		*optlen = opt_size(conf, pq, w);
	}
	if (head + *optlen > lim)
		return false;
	out[0] = q[0];
	out[1] = q[1];
	out[2] = (uint8_t)(FLAG_QR | (q[2] & (FLAG_OPCODE | FLAG_RD)));
	out[3] = (uint8_t)(q[3] & FLAG_CD);
	put16(out + 4, pq->qsec_len ? 1 : 0);
	/* In place (out == q) the question is already there. The rest of the
	 * query is overwritten from here on: it has been parsed. */
	if (out != q)
		memcpy(out + HDR_LEN, q + HDR_LEN, pq->qsec_len);
	w->buf = out;
	w->pos = HDR_LEN + pq->qsec_len;
	w->end = lim - *optlen;
	w->an = w->ns = w->ar = 0;
	w->tc = 0;
	return true;
}

/* Counts, flags, RCODE and the OPT RR. Returns the response length. */
static inline __attribute__((always_inline)) size_t
finish(const struct engine_conf *conf, const struct query *pq,
       struct writer *w, uint32_t optlen, uint16_t rcode,
       bool aa)
{
	uint8_t *out = w->buf;

	out[2] = (uint8_t)(out[2] | (aa ? FLAG_AA : 0) | (w->tc ? FLAG_TC : 0));
	out[3] = (uint8_t)(out[3] | (rcode & 0xf));
	put16(out + 6, w->an);
	put16(out + 8, w->ns);
	w->opt_at = w->pos;
	if (optlen) {
		put_opt(conf, pq, w, out + w->pos, optlen, rcode);
		w->pos += optlen;
		w->ar++;
	}
	put16(out + 10, w->ar);
	return w->pos;
}

/* Where the question ends and the OPT RR sits, for engine_truncate. */
static void set_layout(struct engine_result *res, const struct query *pq,
		       const struct writer *w)
{
	if (!res)
		return;
	res->qend = (uint16_t)(HDR_LEN + pq->qsec_len);
	res->opt_off = (uint16_t)w->opt_at;
	res->opt_len = (uint16_t)(w->pos - w->opt_at);
	res->policy = w->policy;
	if (w->opt_ecs && res->opt_len) {
		res->ecs = ENGINE_ECS_ECHO;
		res->ecs_scope = ecs_scope(w);
	}
}

static void set_result(struct engine_result *res, const struct query *pq,
		       uint16_t rcode, uint8_t kind, bool tc)
{
	if (!res)
		return;
	res->rcode = rcode;
	res->kind = kind;
	res->truncated = tc;
	res->edns = pq->edns;
	res->do_bit = pq->do_bit;
	res->qtype = pq->qtype;
	res->zone = NULL;
	res->rrl_name = NULL;
	res->rrl_name_len = 0;
	res->rrl_hash = 0;
	res->cookie = pq->cookie;
	res->ecs = pq->ecs == ENGINE_ECS_BAD ? ENGINE_ECS_BAD : ENGINE_ECS_NONE;
	res->ecs_scope = 0;
	res->policy = 0;
	res->qend = res->opt_off = res->opt_len = 0;
}

/* No response to pq (length 0): res says so (ENGINE_KIND_NONE, which
 * neither metrics nor RRL count). */
static size_t no_response(struct engine_result *res, const struct query *pq)
{
	set_result(res, pq, RCODE_NOERROR, ENGINE_KIND_NONE, false);
	return 0;
}

/* A response that is only header, question (if any) and OPT. */
static size_t error_response(const struct engine_conf *conf,
			     const struct query *pq,
			     const struct engine_client *c, uint8_t *out,
			     size_t cap, uint16_t rcode,
			     struct engine_result *res)
{
	struct writer w;
	uint32_t optlen;

	size_t len;

	if (!start_response(conf, pq, c, out, cap, &optlen, &w))
		return no_response(res, pq);
	set_result(res, pq, rcode, ENGINE_KIND_ERROR, false);
	len = finish(conf, pq, &w, optlen, rcode, false);
	set_layout(res, pq, &w);
	return len;
}

static size_t chaos_response(const struct engine_conf *conf,
			     const struct query *pq,
			     const struct engine_client *c, uint8_t *out,
			     size_t cap, struct engine_result *res)
{
	struct writer w;
	uint32_t optlen;
	uint8_t aa = 0;
	int rcode;
	size_t len;

	if (!start_response(conf, pq, c, out, cap, &optlen, &w))
		return no_response(res, pq);
	rcode = answer_chaos(conf, pq, &w, &aa);
	set_result(res, pq, (uint16_t)rcode,
		   rcode ? ENGINE_KIND_ERROR : ENGINE_KIND_ANSWER, w.tc);
	len = finish(conf, pq, &w, optlen, (uint16_t)rcode, aa);
	set_layout(res, pq, &w);
	return len;
}

/* An out-of-zone alias without known addresses was chosen: SERVFAIL with
 * nothing but the question, as a resolver retries that soon. */
static void unresolved(struct ans *a)
{
	a->w.pos = HDR_LEN + a->pq->qsec_len;
	a->w.an = a->w.ns = a->w.ar = 0;
	a->w.tc = 0;
	a->rcode = RCODE_SERVFAIL;
	a->aa = 0;
	a->kind = ENGINE_KIND_ERROR;
}

/* Answer from the snapshot into out. a->qn holds the lower-cased qname
 * and a->lk its lookup when pre says it was made (in a burst).
 * start_response, finish, put_opt, find, answer_node and put_proofs' checks
 * are inlined into it: their calls' prologues and register saves were
 * ~80 instructions of an answer's ~1,200 (callgrind, bench/engine-bench).
 * classify inlined into engine_answer cost more than its call (spills), so
 * it stays a call. */
static size_t answer_from_snap(const struct engine_conf *conf,
			       const struct snap *s, const struct query *pq,
			       const struct engine_client *c, uint8_t *out,
			       size_t cap, struct engine_result *res,
			       struct ans *a, enum prelookup pre)
{
	uint32_t optlen;
	size_t len;

	if (!start_response(conf, pq, c, out, cap, &optlen, &a->w))
		return no_response(res, pq);
	a->s = s;
	a->qtype = pq->qtype;
	a->rcode = RCODE_NOERROR;
	a->aa = 0;
	a->chained = 0;
	a->next = NULL;
	a->nseen = 0;
	a->dnssec = pq->do_bit;
	a->nproof = 0;
	a->proved = 0;
	a->deny_node = NULL;
	a->zone = NULL;
	a->rrl_name = NULL;
	a->rrl_len = 0;
	a->rrl_hash = 0;
	if (pre == PRE_NONE) {
		a->qn = &a->own;
		snap_qname_init_labels(a->qn, pq->wire + HDR_LEN,
				       pq->qname_len, pq->off, pq->labels);
	}
	a->conf = conf;
	a->pq = pq;
	a->c = c;
	a->located = 0;
	a->piped = pre != PRE_NONE;
	answer_in(a, pre);
	if (__builtin_expect(a->w.policy & ENGINE_POLICY_UNRESOLVED, 0))
		unresolved(a);
	if (conf->ecs_scope_test)
		note_scope(a, conf->ecs_scope_test);
	len = finish(conf, pq, &a->w, optlen, a->rcode, a->aa);
	if (res) {
		set_result(res, pq, a->rcode, a->kind, a->w.tc);
		res->zone = a->zone;
		res->rrl_name = a->rrl_name;
		res->rrl_name_len = a->rrl_len;
		res->rrl_hash = a->rrl_hash;
		set_layout(res, pq, &a->w);
	}
	return len;
}

static const struct engine_conf defaults = {
	.udp_payload = ENGINE_UDP_PAYLOAD_DEFAULT,
};

/*
 * RFC 7873 5.2, with cookies on: the query's COOKIE option. False when it
 * is malformed (5.2.2: FORMERR). Otherwise pq->cookie says what it proved
 * and pq->ocookie holds what we send back: the client cookie and a fresh
 * server cookie (made with the current secret every time, so clients
 * move to a new secret as soon as it is in use). The option is read here,
 * before the response overwrites the query.
 */
static bool take_cookie(const struct engine_conf *conf,
			const struct engine_client *c, struct query *pq)
{
	const struct cookie_secrets *sec;
	const uint8_t *cc = pq->cookie_at;
	uint16_t n = pq->cookie_len;
	size_t alen;

	if (!cc || !c || !(sec = cookie_box_get(conf->cookies)))
		return true;
	if (n < COOKIE_CLIENT_LEN ||
	    (n > COOKIE_CLIENT_LEN && n < COOKIE_CLIENT_LEN + COOKIE_SERVER_MIN) ||
	    n > COOKIE_CLIENT_LEN + COOKIE_SERVER_MAX)
		return false;
	alen = c->family == AF_INET6 ? 16 : 4;
	if (n == COOKIE_CLIENT_LEN)
		pq->cookie = ENGINE_COOKIE_CLIENT;
	else if (cookie_check(sec, cc, cc + COOKIE_CLIENT_LEN,
			      n - COOKIE_CLIENT_LEN, c->addr, alen,
			      conf->now) >= COOKIE_VALID)
		pq->cookie = ENGINE_COOKIE_VALID;
	else
		pq->cookie = ENGINE_COOKIE_BAD;
	memcpy(pq->ocookie, cc, COOKIE_CLIENT_LEN);
	cookie_make(sec->current, cc, c->addr, alen, conf->now,
		    pq->ocookie + COOKIE_CLIENT_LEN);
	return true;
}

/* What a parsed query gets: dropped, an answer from the snapshot, a CHAOS
 * answer, a server cookie alone (RFC 7873 5.4), or an error response with
 * the RCODE given (> 0). */
enum { ACT_DROP = -1, ACT_SNAP = -2, ACT_CHAOS = -3, ACT_COOKIE = -4 };

static int classify(const struct engine_conf *conf, const struct snap *s,
		    const struct engine_client *c, struct query *pq)
{
	const uint8_t *q = pq->wire;
	int rcode = RCODE_FORMERR;
	bool noq, ok, cookie_ok, ecs_ok;

	if (!q || pq->len < HDR_LEN || (q[2] & FLAG_QR))
		return ACT_DROP;
	parse_question(pq);
	/* No question is FORMERR, except a query for a server cookie. */
	noq = get16(q + 4) == 0;
	if (pq->qsec_len || noq)
		rcode = parse_sections(pq);
	ok = rcode == RCODE_NOERROR;
	cookie_ok = !ok || !pq->edns || take_cookie(conf, c, pq);
	ecs_ok = !ok || !pq->edns || take_ecs(conf, pq);
	if (q[2] & FLAG_OPCODE) {
		if (!pq->qsec_len || !ok)
			pq->edns = 0;
		return RCODE_NOTIMP;
	}
	if (!ok || (noq && pq->cookie == ENGINE_COOKIE_NONE && cookie_ok)) {
		pq->edns = 0;
		return RCODE_FORMERR;
	}
	if (!cookie_ok)
		return RCODE_FORMERR;
	if (pq->edns && pq->version) {
		pq->ecs = ENGINE_ECS_NONE;  /* options of a version we lack */
		return RCODE_BADVERS;
	}
	if (!ecs_ok)
		return RCODE_FORMERR;
	if (noq)
		return ACT_COOKIE;
	if (pq->qtype == RRTYPE_OPT)
		return RCODE_FORMERR;
	if (pq->qtype == RRTYPE_AXFR || pq->qtype == RRTYPE_IXFR)
		return RCODE_NOTIMP;
	if (pq->qclass == RRCLASS_CH)
		return ACT_CHAOS;
	if (pq->qclass != RRCLASS_IN)
		return RCODE_REFUSED;
	return s ? ACT_SNAP : RCODE_SERVFAIL;
}

/* The response to a classified query that needs no snapshot lookup. */
static size_t respond(const struct engine_conf *conf, struct query *pq,
		      int act, const struct engine_client *c, uint8_t *out,
		      size_t cap, struct engine_result *res)
{
	if (act == ACT_DROP || !out)
		return no_response(res, pq);
	if (act == ACT_CHAOS)
		return chaos_response(conf, pq, c, out, cap, res);
	if (act == ACT_COOKIE)  /* RFC 7873 5.4 */
		return error_response(conf, pq, c, out, cap,
				      pq->cookie == ENGINE_COOKIE_BAD ?
				      ENGINE_RCODE_BADCOOKIE : RCODE_NOERROR, res);
	return error_response(conf, pq, c, out, cap, act, res);
}

size_t engine_answer(const struct engine_conf *conf, const struct snap *s,
		     const uint8_t *q, size_t qlen, const struct engine_client *c,
		     uint8_t *out, size_t cap, struct engine_result *res)
{
	struct query pq;
	struct ans a;
	int act;

	if (!conf)
		conf = &defaults;
	query_init(&pq, q, qlen);
	act = out ? classify(conf, s, c, &pq) : ACT_DROP;
	if (act != ACT_SNAP)
		return respond(conf, &pq, act, c, out, cap, res);
	return answer_from_snap(conf, s, &pq, c, out, cap, res, &a, PRE_NONE);
}

int engine_locate(const struct engine_conf *conf, const uint8_t *q,
		  size_t qlen, const struct engine_client *c,
		  struct engine_loc *loc)
{
	struct query pq;
	int act;

	if (!conf)
		conf = &defaults;
	query_init(&pq, q, qlen);
	/* Without a snapshot, what would be looked up gets SERVFAIL here. */
	act = classify(conf, NULL, c, &pq);
	if (act == ACT_DROP)
		return -1;
	if (act > 0 && act != RCODE_SERVFAIL)
		return act;
	locate(conf, &pq, c, loc);
	return 0;
}

/* What answer_one needs of a burst. */
struct burst_ctx {
	const struct engine_conf *conf;
	const struct snap *s;
	struct engine_job *jobs;
	struct query *pq;
	const uint8_t *idx;
	struct snap_bq *bq;
	struct snap_qname *qn;
};

/* snap_burst_done_fn: lookup k of the burst is finished: answer it. */
static void answer_one(void *arg, size_t k)
{
	struct burst_ctx *b = arg;
	struct engine_job *j = &b->jobs[b->idx[k]];
	struct ans a;

	a.qn = &b->qn[k];
	a.lk = b->bq[k].lk;
	j->len = answer_from_snap(b->conf, b->s, &b->pq[b->idx[k]], j->client,
				  j->out, j->cap, j->res, &a,
				  b->bq[k].ret == 0 ? PRE_FOUND : PRE_NOZONE);
}

/* The part of a burst that needs the snapshot: lookups interleaved, each
 * answered as soon as its lookup is finished, while the others' misses
 * are on their way. The per-query state is large (a lower-cased name
 * each), so it is made for the queries that need it only. */
static void answer_burst_snap(const struct engine_conf *conf,
			      const struct snap *s, struct engine_job *jobs,
			      struct query *pq, const uint8_t *idx, size_t m)
{
	struct snap_bq bq[ENGINE_BURST_MAX];
	struct snap_qname qn[ENGINE_BURST_MAX];
	struct burst_ctx b = { conf, s, jobs, pq, idx, bq, qn };

	for (size_t k = 0; k < m; k++) {
		const struct query *p = &pq[idx[k]];

		snap_qname_init_labels(&qn[k], p->wire + HDR_LEN,
				       p->qname_len, p->off, p->labels);
		bq[k].q = &qn[k];
		bq[k].qtype = p->qtype;
	}
	snap_lookup_burst_each(s, bq, m, answer_one, &b);
}

void engine_answer_burst(const struct engine_conf *conf, const struct snap *s,
			 struct engine_job *jobs, size_t n)
{
	struct query pq[ENGINE_BURST_MAX];
	uint8_t idx[ENGINE_BURST_MAX];
	size_t m = 0;
	bool burst;

	if (!conf)
		conf = &defaults;
	burst = s && n > 1 && conf->interleave != ENGINE_INTERLEAVE_NEVER &&
		(conf->interleave == ENGINE_INTERLEAVE_ALWAYS ||
		 snap_burst_useful(s));
	if (n > ENGINE_BURST_MAX)
		n = ENGINE_BURST_MAX;
	/* One by one, the parsed query need not outlive its answer: one
	 * on the stack rather than a burst's worth of lines. */
	if (!burst) {
		for (size_t k = 0; k < n; k++) {
			struct engine_job *j = &jobs[k];

			j->len = engine_answer(conf, s, j->q, j->qlen, j->client, j->out,
					       j->cap, j->res);
		}
		return;
	}
	for (size_t k = 0; k < n; k++) {
		struct engine_job *j = &jobs[k];
		int act;

		query_init(&pq[k], j->q, j->qlen);
		act = j->out ? classify(conf, s, j->client, &pq[k]) : ACT_DROP;
		if (act == ACT_SNAP) {
			idx[m++] = (uint8_t)k;
			continue;
		}
		j->len = respond(conf, &pq[k], act, j->client, j->out, j->cap, j->res);
	}
	if (m)
		answer_burst_snap(conf, s, jobs, pq, idx, m);
}

size_t engine_truncate(uint8_t *r, size_t len, const struct engine_result *res,
		       int badcookie)
{
	size_t qend = res->qend, olen = res->opt_len;

	if (qend < HDR_LEN || qend > len || res->opt_off < qend ||
	    (size_t)res->opt_off + olen > len)
		return 0;
	memmove(r + qend, r + res->opt_off, olen);
	put16(r + 6, 0);
	put16(r + 8, 0);
	put16(r + 10, olen ? 1 : 0);
	if (badcookie && olen && res->cookie != ENGINE_COOKIE_NONE) {
		r[2] = (uint8_t)(r[2] & ~(FLAG_AA | FLAG_TC));
		r[3] = (uint8_t)((r[3] & 0xf0) | (ENGINE_RCODE_BADCOOKIE & 0xf));
		r[qend + 5] = ENGINE_RCODE_BADCOOKIE >> 4;
	} else {
		r[2] |= FLAG_TC;
	}
	return qend + olen;
}
