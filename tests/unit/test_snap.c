/*
 * Snapshot compiler and reader: lookups on a zone built in code, the exact
 * bytes of the pre-encoded RRsets, refusal of every kind of damaged blob
 * (and no crash on a hostile one that passes the hash), file round trip,
 * and the dump.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "dname.h"
#include "error.h"
#include "rdata.h"
#include "snap.h"
#include "zone.h"

/* ---- building zones in code ---------------------------------------------- */

static size_t wn(const char *text, uint8_t *out)
{
	int n = dname_from_text(text, strlen(text), NULL, out);

	assert_true(n > 0);
	return (size_t)n;
}

static void add(struct zone *z, const char *owner, uint16_t type, uint32_t ttl,
		const uint8_t *rd, size_t rdlen)
{
	uint8_t o[DNAME_MAXLEN];

	wn(owner, o);
	assert_int_equal(zone_add_rr(z, o, type, RRCLASS_IN, ttl, rd,
				     (uint16_t)rdlen, "test", 1), 0);
}

static void add_a(struct zone *z, const char *owner, uint32_t ttl,
		  const char *addr)
{
	uint8_t rd[4];

	assert_int_equal(inet_pton(AF_INET, addr, rd), 1);
	add(z, owner, RRTYPE_A, ttl, rd, 4);
}

static void add_name(struct zone *z, const char *owner, uint16_t type,
		     uint32_t ttl, const char *target)
{
	uint8_t rd[DNAME_MAXLEN];

	add(z, owner, type, ttl, rd, wn(target, rd));
}

static void add_mx(struct zone *z, const char *owner, uint32_t ttl,
		   uint16_t pref, const char *target)
{
	uint8_t rd[2 + DNAME_MAXLEN];

	rd[0] = (uint8_t)(pref >> 8);
	rd[1] = (uint8_t)pref;
	add(z, owner, RRTYPE_MX, ttl, rd, 2 + wn(target, rd + 2));
}

static void add_txt(struct zone *z, const char *owner, uint32_t ttl,
		    const char *s)
{
	uint8_t rd[256];
	size_t n = strlen(s);

	rd[0] = (uint8_t)n;
	memcpy(rd + 1, s, n);
	add(z, owner, RRTYPE_TXT, ttl, rd, n + 1);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void add_soa(struct zone *z, const char *apex, uint32_t ttl,
		    uint32_t serial, uint32_t minimum)
{
	uint8_t rd[2 * DNAME_MAXLEN + 20];
	char mname[300], rname[300];
	size_t n;

	snprintf(mname, sizeof(mname), "ns1.%s", apex);
	snprintf(rname, sizeof(rname), "hostmaster.%s", apex);
	n = wn(mname, rd);
	n += wn(rname, rd + n);
	put32(rd + n, serial);
	put32(rd + n + 4, 7200);
	put32(rd + n + 8, 900);
	put32(rd + n + 12, 1209600);
	put32(rd + n + 16, minimum);
	add(z, apex, RRTYPE_SOA, ttl, rd, n + 20);
}

static struct zone *new_zone(const char *apex)
{
	uint8_t o[DNAME_MAXLEN];

	wn(apex, o);
	return zone_new(o);
}

/* The main test zone: every node kind the reader reports. */
static struct zone *make_parent(void)
{
	struct zone *z = new_zone("example.com.");
	uint8_t svc[] = { 0, 1, 0 };   /* HTTPS 1 . */

	assert_non_null(z);
	add_soa(z, "example.com.", 3600, 2024010101, 300);
	add_name(z, "example.com.", RRTYPE_NS, 3600, "ns2.example.com.");
	add_name(z, "example.com.", RRTYPE_NS, 3600, "ns1.example.com.");
	add_mx(z, "example.com.", 3600, 20, "mx.other.net.");
	add_mx(z, "example.com.", 3600, 10, "Mail.Example.com.");
	add_mx(z, "example.com.", 3600, 30, "mail.example.com.");
	add_a(z, "ns1.example.com.", 3600, "192.0.2.1");
	add_a(z, "ns2.example.com.", 3600, "192.0.2.2");
	add_a(z, "mail.example.com.", 3600, "192.0.2.25");
	/* duplicate (dropped) and a TTL mismatch (lowest wins) */
	add_a(z, "www.example.com.", 300, "192.0.2.11");
	add_a(z, "www.example.com.", 300, "192.0.2.10");
	add_a(z, "WWW.example.COM.", 100, "192.0.2.11");
	add_txt(z, "www.example.com.", 60, "hello");
	add_name(z, "alias.example.com.", RRTYPE_CNAME, 300, "www.example.com.");
	add_a(z, "*.example.com.", 300, "192.0.2.99");
	add_txt(z, "a.b.c.example.com.", 300, "deep");
	/* delegation with glue, an occluded name with an occluded ENT */
	add_name(z, "sub.example.com.", RRTYPE_NS, 86400, "ns.sub.example.com.");
	add_name(z, "sub.example.com.", RRTYPE_NS, 86400, "ns.other.net.");
	add_a(z, "ns.sub.example.com.", 86400, "192.0.2.53");
	add_a(z, "x.y.sub.example.com.", 86400, "192.0.2.54");
	add(z, "svc.example.com.", RRTYPE_HTTPS, 300, svc, sizeof(svc));
	add_a(z, "svc.example.com.", 300, "192.0.2.80");
	add_name(z, "old.example.com.", RRTYPE_DNAME, 300, "new.example.org.");
	return z;
}

static struct zone *make_child(void)
{
	struct zone *z = new_zone("child.example.com.");

	assert_non_null(z);
	add_soa(z, "child.example.com.", 600, 7, 900);
	add_name(z, "child.example.com.", RRTYPE_NS, 600, "ns1.example.com.");
	add_a(z, "www.child.example.com.", 600, "198.51.100.1");
	return z;
}

struct fixture {
	uint8_t *blob;
	size_t len;
	struct snap *s;
};

static uint8_t *compile_zones(struct zone **zones, size_t n, size_t *len)
{
	struct snap_compile_opts opts = { .serial = 42 };
	struct diag d;
	uint8_t *blob;

	diag_init(&d, stderr);
	assert_int_equal(snap_compile(zones, n, &opts, &d, &blob, len), 0);
	return blob;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct zone *zones[2] = { make_parent(), make_child() };
	struct diag d;

	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	f->blob = compile_zones(zones, 2, &f->len);
	zone_free(zones[0]);
	zone_free(zones[1]);
	diag_init(&d, stderr);
	assert_int_equal(snap_open_mem(f->blob, f->len, &d, &f->s), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	snap_close(f->s);
	free(f->blob);
	free(f);
	return 0;
}

/* The hash over len bytes, whatever the (maybe damaged) header says. */
static void rehash(uint8_t *b, size_t len)
{
	struct snap_header *h = (struct snap_header *)b;
	unsigned int n;

	memset(h->sha256, 0, 32);
	assert_true(EVP_Digest(b, len, h->sha256, &n, EVP_sha256(), NULL));
}

/* ---- lookups ----------------------------------------------------------- */

static int lookup(const struct snap *s, const char *qname,
		  struct snap_lookup *out)
{
	uint8_t w[DNAME_MAXLEN];
	struct snap_qname q;

	snap_qname_init(&q, w, wn(qname, w));
	memset(out, 0xa5, sizeof(*out));
	return snap_lookup(s, &q, out);
}

static const uint8_t *nname(const struct snap *s, const struct snap_node *n)
{
	return snap_ptr(s, n->name);
}

static void assert_name(const struct snap *s, const struct snap_node *n,
			const char *text)
{
	uint8_t w[DNAME_MAXLEN];
	size_t len = wn(text, w);

	assert_non_null(n);
	dname_lower(w);
	assert_memory_equal(nname(s, n), w, len);
}

static const struct snap_node *node_of(const struct snap *s, const char *text)
{
	struct snap_lookup r;

	assert_int_equal(lookup(s, text, &r), 0);
	assert_non_null(r.node);
	return r.node;
}

static uint32_t node_index(const struct snap *s, const struct snap_zone *z,
			   const struct snap_node *n)
{
	return (uint32_t)(n - snap_node_at(s, z, 0));
}

static void test_exact_hit(void **state)
{
	struct fixture *f = *state;
	const struct snap_rrset *a;
	struct snap_lookup r;

	assert_int_equal(lookup(f->s, "www.example.com.", &r), 0);
	assert_name(f->s, r.node, "www.example.com.");
	assert_ptr_equal(r.encloser, r.node);
	assert_int_equal(r.encloser_strip, 0);
	assert_null(r.deleg);
	assert_null(r.wildcard);
	assert_int_equal(r.node->flags, 0);
	assert_int_equal(r.node->rrset_count, 2);
	a = snap_node_rrset(f->s, r.node, RRTYPE_A);
	assert_non_null(a);
	assert_int_equal(a->count, 2);          /* duplicate dropped */
	assert_int_equal(a->ttl, 100);          /* lowest TTL of the set */
	assert_non_null(snap_node_rrset(f->s, r.node, RRTYPE_TXT));
	assert_null(snap_node_rrset(f->s, r.node, RRTYPE_AAAA));
	assert_null(snap_node_rrset(f->s, r.node, RRTYPE_NS));
	assert_true(snap_node_rrsets(f->s, r.node)[0].type == RRTYPE_A);
}

static void test_case_insensitive(void **state)
{
	struct fixture *f = *state;
	struct snap_lookup r1, r2;

	assert_int_equal(lookup(f->s, "WwW.ExAmPlE.CoM.", &r1), 0);
	assert_int_equal(lookup(f->s, "www.example.com.", &r2), 0);
	assert_non_null(r1.node);
	assert_ptr_equal(r1.node, r2.node);
	assert_ptr_equal(r1.zone, r2.zone);
}

static void test_apex(void **state)
{
	struct fixture *f = *state;
	struct snap_lookup r;
	const struct snap_rrset *soa;

	assert_int_equal(lookup(f->s, "example.com.", &r), 0);
	assert_non_null(r.node);
	assert_int_equal(r.node->flags, SNAP_NODE_APEX);
	assert_int_equal(r.node->parent, SNAP_NONE);
	assert_int_equal(node_index(f->s, r.zone, r.node), r.zone->apex_node);
	assert_int_equal(r.zone->soa_serial, 2024010101);
	assert_int_equal(r.zone->neg_ttl, 300);
	soa = snap_node_rrset(f->s, r.node, RRTYPE_SOA);
	assert_non_null(soa);
	assert_ptr_equal(snap_ptr(f->s, r.zone->soa_rrset), soa);
	assert_name(f->s, r.node, "example.com.");
	assert_memory_equal(snap_ptr(f->s, r.zone->apex_name),
			    nname(f->s, r.node), 13);
	/* the wildcard below the apex is linked from it */
	assert_int_not_equal(r.node->wildcard, SNAP_NONE);
	assert_name(f->s, snap_node_at(f->s, r.zone, r.node->wildcard),
		    "*.example.com.");
}

static void test_ent(void **state)
{
	struct fixture *f = *state;
	struct snap_lookup r;
	const char *ents[] = { "c.example.com.", "b.c.example.com." };

	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(lookup(f->s, ents[i], &r), 0);
		assert_non_null(r.node);
		assert_int_equal(r.node->flags, SNAP_NODE_ENT);
		assert_int_equal(r.node->rrset_count, 0);
		assert_null(snap_node_rrset(f->s, r.node, RRTYPE_A));
		assert_null(r.wildcard);
	}
	/* a.b.c has data, and its parent chain is b.c -> c -> apex */
	assert_int_equal(lookup(f->s, "a.b.c.example.com.", &r), 0);
	assert_int_equal(r.node->flags, 0);
	assert_name(f->s, snap_node_at(f->s, r.zone, r.node->parent),
		    "b.c.example.com.");
	/* below the ENT: nothing; the ENT is the closest encloser */
	assert_int_equal(lookup(f->s, "x.b.c.example.com.", &r), 0);
	assert_null(r.node);
	assert_name(f->s, r.encloser, "b.c.example.com.");
	assert_int_equal(r.encloser_strip, 1);
	assert_null(r.wildcard);
	assert_null(r.deleg);
}

static void test_wildcard(void **state)
{
	struct fixture *f = *state;
	struct snap_lookup r;

	assert_int_equal(lookup(f->s, "nothere.example.com.", &r), 0);
	assert_null(r.node);
	assert_name(f->s, r.encloser, "example.com.");
	assert_int_equal(r.encloser_strip, 1);
	assert_non_null(r.wildcard);
	assert_name(f->s, r.wildcard, "*.example.com.");
	assert_int_equal(r.wildcard->flags, SNAP_NODE_WILDCARD);
	assert_null(r.deleg);

	assert_int_equal(lookup(f->s, "two.labels.example.com.", &r), 0);
	assert_null(r.node);
	assert_int_equal(r.encloser_strip, 2);
	assert_non_null(r.wildcard);

	/* the wildcard name itself is an exact match */
	assert_int_equal(lookup(f->s, "*.example.com.", &r), 0);
	assert_ptr_equal(r.node, r.encloser);
	assert_null(r.wildcard);
}

static void test_delegation(void **state)
{
	struct fixture *f = *state;
	const struct snap_node *sub = node_of(f->s, "sub.example.com.");
	struct snap_lookup r;

	assert_int_equal(sub->flags, SNAP_NODE_DELEG);
	assert_ptr_equal(snap_node_at(f->s, snap_zone_at(f->s, 0), sub->deleg),
			 sub);

	assert_int_equal(lookup(f->s, "host.sub.example.com.", &r), 0);
	assert_null(r.node);
	assert_ptr_equal(r.encloser, sub);
	assert_ptr_equal(r.deleg, sub);
	assert_null(r.wildcard);

	/* glue: found by exact match, occluded, under the cut */
	assert_int_equal(lookup(f->s, "ns.sub.example.com.", &r), 0);
	assert_name(f->s, r.node, "ns.sub.example.com.");
	assert_int_equal(r.node->flags, SNAP_NODE_OCCLUDED);
	assert_ptr_equal(r.deleg, sub);
	assert_non_null(snap_node_rrset(f->s, r.node, RRTYPE_A));

	assert_int_equal(lookup(f->s, "y.sub.example.com.", &r), 0);
	assert_int_equal(r.node->flags, SNAP_NODE_OCCLUDED | SNAP_NODE_ENT);
	assert_ptr_equal(r.deleg, sub);
	assert_int_equal(lookup(f->s, "deeper.x.y.sub.example.com.", &r), 0);
	assert_null(r.node);
	assert_name(f->s, r.encloser, "x.y.sub.example.com.");
	assert_ptr_equal(r.deleg, sub);

	/* the delegation point itself */
	assert_int_equal(lookup(f->s, "SUB.example.com.", &r), 0);
	assert_ptr_equal(r.node, sub);
	assert_ptr_equal(r.deleg, sub);
}

static void test_cname_dname_flags(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(node_of(f->s, "alias.example.com.")->flags,
			 SNAP_NODE_CNAME);
	assert_int_equal(node_of(f->s, "old.example.com.")->flags,
			 SNAP_NODE_DNAME);
}

static void test_outside(void **state)
{
	struct fixture *f = *state;
	struct snap_lookup r;
	const char *out[] = { "www.example.org.", "com.", ".", "example.co.",
			      "xexample.com.", "ample.com." };

	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
		assert_int_equal(lookup(f->s, out[i], &r), P53_ENOTFOUND);
}

static void test_child_zone(void **state)
{
	struct fixture *f = *state;
	struct snap_lookup r;
	uint8_t w[DNAME_MAXLEN];

	assert_int_equal(snap_zone_count(f->s), 2);
	assert_int_equal(lookup(f->s, "www.child.example.com.", &r), 0);
	assert_memory_equal(snap_ptr(f->s, r.zone->apex_name),
			    w, wn("child.example.com.", w));
	assert_int_equal(r.zone->soa_serial, 7);
	assert_int_equal(r.zone->neg_ttl, 600);
	assert_name(f->s, r.node, "www.child.example.com.");

	assert_int_equal(lookup(f->s, "CHILD.example.com.", &r), 0);
	assert_int_equal(r.node->flags, SNAP_NODE_APEX);
	assert_int_equal(r.zone->soa_serial, 7);

	assert_int_equal(lookup(f->s, "nope.child.example.com.", &r), 0);
	assert_null(r.node);
	assert_int_equal(r.zone->soa_serial, 7);
	assert_null(r.wildcard);     /* the parent's wildcard is not seen */

	assert_int_equal(lookup(f->s, "child2.example.com.", &r), 0);
	assert_int_equal(r.zone->soa_serial, 2024010101);
	assert_non_null(r.wildcard);
}

static void test_find_zone_node(void **state)
{
	struct fixture *f = *state;
	uint8_t w[DNAME_MAXLEN];
	struct snap_qname q;
	const struct snap_zone *z;
	size_t len;

	snap_qname_init(&q, w, wn("A.B.Child.Example.Com.", w));
	assert_int_equal(q.labels, 5);
	assert_int_equal(q.off[0], 0);
	assert_int_equal(q.off[1], 2);
	assert_int_equal(q.off[5], q.len - 1);
	assert_int_equal(q.name[1], 'a');
	z = snap_find_zone(f->s, &q);
	assert_non_null(z);
	assert_int_equal(z->soa_serial, 7);

	len = wn("mail.example.com.", w);
	z = snap_zone_at(f->s, 0);
	assert_int_equal(z->soa_serial, 2024010101);
	assert_name(f->s, snap_find_node(f->s, z, w, len), "mail.example.com.");
	len = wn("mailx.example.com.", w);
	assert_null(snap_find_node(f->s, z, w, len));
}

/* NS and MX targets in the zone, in RR order, deduplicated, glue too. */
static void test_additional(void **state)
{
	struct fixture *f = *state;
	const struct snap_zone *z = snap_zone_at(f->s, 0);
	const struct snap_node *apex = node_of(f->s, "example.com.");
	const struct snap_rrset *ns = snap_node_rrset(f->s, apex, RRTYPE_NS);
	const struct snap_rrset *mx = snap_node_rrset(f->s, apex, RRTYPE_MX);
	const struct snap_node *sub = node_of(f->s, "sub.example.com.");
	const struct snap_node *svc = node_of(f->s, "svc.example.com.");
	const struct snap_addl *a;

	a = (const struct snap_addl *)(const void *)snap_ptr(f->s, ns->additional);
	assert_int_not_equal(ns->additional, 0);
	assert_int_equal(a->count, 2);
	assert_name(f->s, snap_node_at(f->s, z, a->node[0]), "ns1.example.com.");
	assert_name(f->s, snap_node_at(f->s, z, a->node[1]), "ns2.example.com.");

	/* MX 10 Mail., MX 20 mx.other.net., MX 30 mail.: one entry */
	a = (const struct snap_addl *)(const void *)snap_ptr(f->s, mx->additional);
	assert_int_equal(mx->count, 3);
	assert_int_equal(a->count, 1);
	assert_name(f->s, snap_node_at(f->s, z, a->node[0]), "mail.example.com.");

	ns = snap_node_rrset(f->s, sub, RRTYPE_NS);
	a = (const struct snap_addl *)(const void *)snap_ptr(f->s, ns->additional);
	assert_int_equal(a->count, 1);
	assert_name(f->s, snap_node_at(f->s, z, a->node[0]),
		    "ns.sub.example.com.");
	assert_true(snap_node_at(f->s, z, a->node[0])->flags &
		    SNAP_NODE_OCCLUDED);

	/* HTTPS 1 . : the target is the owner itself */
	a = (const struct snap_addl *)(const void *)snap_ptr(
		f->s, snap_node_rrset(f->s, svc, RRTYPE_HTTPS)->additional);
	assert_int_equal(a->count, 1);
	assert_ptr_equal(snap_node_at(f->s, z, a->node[0]), svc);

	/* no in-zone target, no list; other types never have one */
	assert_int_equal(snap_node_rrset(f->s, node_of(f->s,
		"child.example.com."), RRTYPE_NS)->additional, 0);
	assert_int_equal(snap_node_rrset(f->s, node_of(f->s,
		"www.example.com."), RRTYPE_A)->additional, 0);
}

static void test_wire_bytes(void **state)
{
	static const uint8_t want[] = {
		0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x64,
		0x00, 0x04, 192, 0, 2, 10,
		0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x64,
		0x00, 0x04, 192, 0, 2, 11,
	};
	static const uint8_t txt[] = {
		0xc0, 0x0c, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c,
		0x00, 0x06, 5, 'h', 'e', 'l', 'l', 'o',
	};
	struct fixture *f = *state;
	const struct snap_node *www = node_of(f->s, "www.example.com.");
	const struct snap_rrset *a = snap_node_rrset(f->s, www, RRTYPE_A);
	const struct snap_rrset *t = snap_node_rrset(f->s, www, RRTYPE_TXT);

	assert_int_equal(a->wire_len, sizeof(want));
	assert_memory_equal(snap_ptr(f->s, a->wire), want, sizeof(want));
	assert_int_equal(t->wire_len, sizeof(txt));
	assert_memory_equal(snap_ptr(f->s, t->wire), txt, sizeof(txt));
	assert_int_equal(a->rrsig, 0);
	assert_int_equal(a->policy, 0);
	assert_int_equal(a->flags, 0);
}

/* Node arrays are in canonical order, parents first, hash finds all. */
static void test_node_order(void **state)
{
	struct fixture *f = *state;

	for (uint32_t zi = 0; zi < snap_zone_count(f->s); zi++) {
		const struct snap_zone *z = snap_zone_at(f->s, zi);

		for (uint32_t i = 0; i < z->node_count; i++) {
			const struct snap_node *n = snap_node_at(f->s, z, i);
			const uint8_t *name = nname(f->s, n);
			size_t len = (size_t)dname_wire_len(name, DNAME_MAXLEN);

			if (i) {
				const struct snap_node *p = snap_node_at(f->s, z, i - 1);

				assert_true(dname_canonical_cmp(nname(f->s, p),
								name) < 0);
				assert_true(n->parent < i);
			}
			assert_ptr_equal(snap_find_node(f->s, z, name, len), n);
		}
	}
	assert_int_equal(snap_zone_at(f->s, 0)->node_count, 16);
}

static void test_header(void **state)
{
	struct fixture *f = *state;
	const struct snap_header *h = snap_header(f->s);

	assert_memory_equal(h->magic, SNAP_MAGIC, 8);
	assert_int_equal(h->version_major, SNAP_VERSION_MAJOR);
	assert_int_equal(h->header_size, sizeof(*h));
	assert_int_equal(h->content_size, f->len);
	assert_int_equal(h->endian, SNAP_ENDIAN_MARK);
	assert_int_equal(h->serial, 42);
	assert_int_equal(h->created, 1700000000);
	assert_int_equal(h->features, 0);
	assert_int_equal(f->len % 8, 0);
	assert_ptr_equal(snap_data(f->s), f->blob);
	assert_int_equal(snap_size(f->s), f->len);
}

static char *dump_text(const struct snap *s)
{
	char *text = NULL, *copy;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	assert_int_equal(snap_dump(s, m), 0);
	fclose(m);
	/* A copy: gcc -O3 takes the stream's buffer for the address of the
	 * local it was reported through (-Wdangling-pointer). */
	copy = strdup(text);
	free(text);
	assert_non_null(copy);
	return copy;
}

static char *dump_blob(const uint8_t *blob, size_t len)
{
	struct snap *s;
	struct diag d;
	char *text;

	diag_init(&d, stderr);
	assert_int_equal(snap_open_mem(blob, len, &d, &s), 0);
	text = dump_text(s);
	snap_close(s);
	return text;
}

/* Same input, same bytes, whatever the order of the zones. Records in
 * another order give the same content (the layout of wire data and names
 * follows the input, for speed, and so does the padding that keeps each
 * name and its wire on one cache line: the size may differ). */
static void test_deterministic(void **state)
{
	struct fixture *f = *state;
	struct zone *zones[2] = { make_child(), make_parent() };
	struct zone *rev = new_zone("example.com.");
	size_t len, count;
	uint8_t *blob = compile_zones(zones, 2, &len);
	const struct zone_rr *rr = zone_rrs(zones[1], &count);
	char *want = dump_text(f->s), *got;

	assert_int_equal(len, f->len);
	assert_memory_equal(blob, f->blob, len);
	free(blob);
	for (size_t i = count; i-- > 0;)
		assert_int_equal(zone_add_rr(rev, zone_rr_owner(zones[1], &rr[i]),
					     rr[i].type, rr[i].rclass, rr[i].ttl,
					     zone_rr_rdata(zones[1], &rr[i]),
					     rr[i].rdlen, NULL, 0), 0);
	zone_free(zones[1]);
	zones[1] = rev;
	blob = compile_zones(zones, 2, &len);
	/* the node arrays match entry for entry, names aside */
	for (uint32_t zi = 0; zi < 2; zi++) {
		const struct snap_zone *za = snap_zone_at(f->s, zi);
		const struct snap_zone *zb = (const struct snap_zone *)(const void *)
			(blob + ((const struct snap_header *)(const void *)blob)->zone_table) + zi;

		assert_int_equal(za->node_count, zb->node_count);
		for (uint32_t i = 0; i < za->node_count; i++) {
			const struct snap_node *a = snap_node_at(f->s, za, i);
			const struct snap_node *b = (const struct snap_node *)
				(const void *)(blob + zb->nodes) + i;

			assert_memory_equal(blob + b->name, nname(f->s, a),
					    dname_wire_len(nname(f->s, a), 255));
			assert_int_equal(a->flags, b->flags);
			assert_int_equal(a->parent, b->parent);
			assert_int_equal(a->deleg, b->deleg);
			assert_int_equal(a->wildcard, b->wildcard);
			assert_int_equal(a->rrset_count, b->rrset_count);
			/* the arrays sit in data units laid out in input
			 * order: compare what they hold */
			for (uint32_t k = 0; k < a->rrset_count; k++) {
				const struct snap_rrset *x = snap_node_rrsets(f->s, a) + k;
				const struct snap_rrset *y = (const struct snap_rrset *)
					(const void *)(blob + b->rrsets) + k;

				assert_int_equal(x->type, y->type);
				assert_int_equal(x->count, y->count);
				assert_int_equal(x->ttl, y->ttl);
				assert_int_equal(x->wire_len, y->wire_len);
				assert_memory_equal(snap_ptr(f->s, x->wire),
						    blob + y->wire, x->wire_len);
			}
		}
	}
	got = dump_blob(blob, len);
	assert_string_equal(got, want);
	free(got);
	free(want);
	free(blob);
	zone_free(zones[0]);
	zone_free(zones[1]);
}

/* The zone's SOA link in a compiled blob of one zone. */
#define zone_soa(blob) (((struct snap_zone *)(void *)((blob) + \
	((const struct snap_header *)(const void *)(blob))->zone_table))->soa_rrset)

/* Each leaf's data unit (snap_format.h, v2.0): its RRset array, right
 * after it its name, right after that its RRsets' wire, on no more cache
 * lines than its size needs (offsets from the blob, whose data area
 * starts on a line). What a hit in a big zone waits for depends on it. */
static void check_units(const struct snap *s, const struct snap_zone *z)
{
	uint32_t leaves = 0;

	for (uint32_t i = 0; i < z->node_count; i++) {
		const struct snap_node *n = snap_node_at(s, z, i);
		const struct snap_rrset *set = snap_node_rrsets(s, n);
		uint32_t len = (uint32_t)dname_wire_len(nname(s, n), 255);
		uint32_t at = n->name + len, size;

		if (!n->rrset_count || n->name != n->rrsets +
		    n->rrset_count * sizeof(*set))
			continue;       /* ENT, or a name shared with a child */
		for (uint32_t k = 0; k < n->rrset_count; k++) {
			assert_int_equal(set[k].wire, at);
			at += set[k].wire_len;
		}
		size = at - n->rrsets;
		assert_int_equal(n->rrsets % 8, 0);
		assert_int_equal((at - 1) / 64 - n->rrsets / 64 + 1,
				 (size + 63) / 64);
		leaves++;
	}
	/* every name but the apex (and in test_many_names the g<j>) is a
	 * leaf */
	assert_true(leaves >= z->node_count - 38);
}

/* Units of every size from under a line to three lines (TXT strings of
 * 0 to 150 bytes, one or two RRsets): each laid out as check_units says,
 * and each answer's bytes still where its RRset says. */
static void test_data_units(void **state)
{
	struct zone *z = new_zone("units.test.");
	char name[64], txt[160];
	struct snap_lookup r;
	struct snap *s;
	struct diag d;
	uint8_t *blob;
	size_t len;

	(void)state;
	add_soa(z, "units.test.", 3600, 1, 60);
	memset(txt, 'x', sizeof(txt));
	for (int i = 0; i < 600; i++) {
		snprintf(name, sizeof(name), "u%d.units.test.", i);
		txt[i % 151] = 0;
		add_txt(z, name, 60, txt);
		txt[i % 151] = 'x';
		if (i % 3 == 0)
			add_a(z, name, 60, "192.0.2.7");
	}
	blob = compile_zones(&z, 1, &len);
	diag_init(&d, stderr);
	assert_int_equal(snap_open_mem(blob, len, &d, &s), 0);
	check_units(s, snap_zone_at(s, 0));
	for (int i = 0; i < 600; i++) {
		const struct snap_rrset *t;
		const uint8_t *w;

		snprintf(name, sizeof(name), "u%d.units.test.", i);
		assert_int_equal(lookup(s, name, &r), 0);
		assert_non_null(r.node);
		assert_int_equal(r.node->rrset_count, i % 3 == 0 ? 2 : 1);
		t = snap_node_rrset(s, r.node, RRTYPE_TXT);
		assert_non_null(t);
		w = snap_ptr(s, t->wire);
		/* header, then the TXT's one string: its length, its bytes */
		assert_int_equal(w[12], i % 151);
		assert_int_equal(t->wire_len, 12 + 1 + i % 151);
	}
	snap_close(s);
	free(blob);
	zone_free(z);
}

/* Every leaf pointed at the apex's RRset array (22 RRsets, each well
 * formed): each node passes on its own, but checking them all would cost
 * nodes x RRsets, more than the content could hold apart. */
static void test_shared_sets(void **state)
{
	struct zone *z = new_zone("shared.test.");
	const struct snap_zone *sz;
	const uint8_t one = 1;
	struct snap_node *node;
	char name[64];
	struct snap *s;
	struct diag d;
	uint8_t *blob;
	size_t len;

	(void)state;
	add_soa(z, "shared.test.", 3600, 1, 60);
	add_name(z, "shared.test.", RRTYPE_NS, 3600, "ns.example.");
	for (uint16_t t = 0; t < 20; t++)
		add(z, "shared.test.", (uint16_t)(65280 + t), 60, &one, 1);
	for (int i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "l%d.shared.test.", i);
		add_a(z, name, 60, "192.0.2.9");
	}
	blob = compile_zones(&z, 1, &len);
	diag_init(&d, stderr);
	assert_int_equal(snap_open_mem(blob, len, &d, &s), 0);
	sz = snap_zone_at(s, 0);
	node = (struct snap_node *)(void *)(blob + sz->nodes);
	snap_close(s);
	assert_int_equal(node[0].rrset_count, 22);
	assert_true((uint64_t)3000 * 22 * sizeof(struct snap_rrset) > len);
	for (uint32_t i = 1; i <= 3000; i++) {
		node[i].rrsets = node[0].rrsets;
		node[i].rrset_count = node[0].rrset_count;
	}
	rehash(blob, len);
	diag_init(&d, NULL);
	assert_int_equal(snap_open_mem(blob, len, &d, &s), P53_EFORMAT);
	assert_non_null(strstr(d.first, "more RRsets than the content holds"));
	free(blob);
	zone_free(z);
}

/* A bigger zone (over the size where the hash runs on its own thread):
 * every name found through the hash, absent ones not, damage caught. */
static void test_many_names(void **state)
{
	struct zone *z = new_zone("big.test.");
	const int count = 40000;
	struct snap_lookup r;
	uint32_t nodes, soa, rrsets5;
	struct snap *s;
	struct diag d;
	uint8_t *blob;
	size_t len;
	char name[64];

	(void)state;
	add_soa(z, "big.test.", 3600, 1, 60);
	add_name(z, "big.test.", RRTYPE_NS, 3600, "ns.big.test.");
	for (int i = 0; i < count; i++) {
		snprintf(name, sizeof(name), "h%d.g%d.big.test.", i, i % 37);
		add_a(z, name, 60, "192.0.2.1");
	}
	blob = compile_zones(&z, 1, &len);
	assert_true(len > (4u << 20));
	diag_init(&d, stderr);
	assert_int_equal(snap_open_mem(blob, len, &d, &s), 0);
	assert_int_equal(snap_zone_at(s, 0)->node_count, 1 + 37 + count);
	for (int i = 0; i < count; i++) {
		snprintf(name, sizeof(name), "H%d.G%d.big.test.", i, i % 37);
		assert_int_equal(lookup(s, name, &r), 0);
		assert_non_null(r.node);
		snprintf(name, sizeof(name), "h%d.g%d.big.test.", i, i % 37 + 1);
		assert_int_equal(lookup(s, name, &r), 0);
		assert_null(r.node);
		assert_int_equal(r.encloser_strip, i % 37 + 1 < 37 ? 1 : 2);
	}
	check_units(s, snap_zone_at(s, 0));
	nodes = snap_zone_at(s, 0)->nodes;
	soa = snap_zone_at(s, 0)->soa_rrset;
	snap_close(s);

	blob[len / 2] ^= 0x40;
	diag_init(&d, NULL);
	assert_int_equal(snap_open_mem(blob, len, &d, &s), P53_EHASH);
	blob[len / 2] ^= 0x40;
	/* bounds damage behind a valid hash: node 5's RRsets point away */
	rrsets5 = ((struct snap_node *)(void *)(blob + nodes))[5].rrsets;
	((struct snap_node *)(void *)(blob + nodes))[5].rrsets = 8;
	rehash(blob, len);
	diag_init(&d, NULL);
	assert_int_equal(snap_open_mem(blob, len, &d, &s), P53_EFORMAT);
	assert_non_null(strstr(d.first, "node 5"));
	((struct snap_node *)(void *)(blob + nodes))[5].rrsets = rrsets5;
	/* the SOA link on the apex's next RRset (NS), then on a leaf's A */
	zone_soa(blob) = soa + sizeof(struct snap_rrset);
	rehash(blob, len);
	diag_init(&d, NULL);
	assert_int_equal(snap_open_mem(blob, len, &d, &s), P53_EFORMAT);
	assert_non_null(strstr(d.first, "SOA link"));
	zone_soa(blob) = ((struct snap_node *)(void *)(blob + nodes))[5].rrsets;
	rehash(blob, len);
	diag_init(&d, NULL);
	assert_int_equal(snap_open_mem(blob, len, &d, &s), P53_EFORMAT);
	assert_non_null(strstr(d.first, "SOA link"));
	free(blob);
	zone_free(z);
}

/* Whether two lookups agree in every field. */
static void assert_same_lookup(const struct snap_lookup *a, const struct snap_lookup *b)
{
	assert_ptr_equal(a->zone, b->zone);
	assert_ptr_equal(a->node, b->node);
	assert_ptr_equal(a->encloser, b->encloser);
	assert_int_equal(a->encloser_strip, b->encloser_strip);
	assert_ptr_equal(a->deleg, b->deleg);
	assert_ptr_equal(a->wildcard, b->wildcard);
}

/* snap_hash_name, the word-wise hash RRL and the lookup use, gives what
 * the format's snap_name_hash gives, at every length (its tail is read
 * by overlapping words, in three ways by length). */
static void test_hash_name(void **state)
{
	uint8_t name[DNAME_MAXLEN];

	(void)state;
	for (unsigned i = 0; i < sizeof(name); i++)
		name[i] = (uint8_t)(i * 131 + 7);
	for (size_t len = 1; len <= sizeof(name); len++)
		for (size_t off = 0; off + len <= sizeof(name); off += 61)
			assert_int_equal(snap_hash_name(name + off, len),
					 snap_name_hash(name + off, len));
}

/* A snapshot of one zone takes snap_lookup's own path (probes first, the
 * apex compared only when nothing below it matched, names that cannot end
 * with the apex turned away by length and last word): it must agree with
 * the general one (snap_find_zone, then snap_lookup_in) on names in the
 * zone, at its apex, below its cut and wildcard, and outside it, among
 * them names of the apex's length and last eight bytes. Twice: an apex of
 * at least eight bytes, and a shorter one (no last word). */
static void test_one_zone_lookup(void **state)
{
	static const char *const apexes[] = { "ample.com.", "x." };
	static const char *const tails[] = {
		"", "www.", "WWW.", "a.b.c.", "c.", "b.c.", "zz.b.c.", "q.www.",
		"sub.", "x.y.sub.", "deep.x.y.sub.", "nothere.", "a.nothere.",
		"*.", "w.*.",
	};
	static const char *const outside[] = {
		".", "com.", "org.", "xmple.com.", "a.xmple.com.", "a.b.xmple.com.",
		"sample.com.", "a.sample.com.", "ample.org.", "a.b.c.d.e.",
		"y.", "a.y.", "a.b.y.", "xx.", "a.xx.", "a.b.c.xx.",
	};

	(void)state;
	for (size_t k = 0; k < sizeof(apexes) / sizeof(apexes[0]); k++) {
		const char *apex = apexes[k];
		struct zone *z = new_zone(apex);
		struct snap *s;
		struct diag d;
		uint8_t *blob;
		size_t len;
		char name[128];

		add_soa(z, apex, 3600, 1, 60);
		snprintf(name, sizeof(name), "ns.%s", apex);
		add_name(z, apex, RRTYPE_NS, 3600, name);
		add_a(z, name, 60, "192.0.2.1");
		snprintf(name, sizeof(name), "www.%s", apex);
		add_a(z, name, 60, "192.0.2.2");
		snprintf(name, sizeof(name), "a.b.c.%s", apex);
		add_a(z, name, 60, "192.0.2.3");
		snprintf(name, sizeof(name), "*.%s", apex);
		add_a(z, name, 60, "192.0.2.4");
		snprintf(name, sizeof(name), "sub.%s", apex);
		{
			char ns[128];

			snprintf(ns, sizeof(ns), "ns.sub.%s", apex);
			add_name(z, name, RRTYPE_NS, 3600, ns);
			add_a(z, ns, 60, "192.0.2.5");
		}
		blob = compile_zones(&z, 1, &len);
		diag_init(&d, stderr);
		assert_int_equal(snap_open_mem(blob, len, &d, &s), 0);
		assert_int_equal(snap_zone_count(s), 1);
		for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
			struct snap_lookup r1, r2;
			uint8_t w[DNAME_MAXLEN];
			struct snap_qname q;
			const struct snap_zone *zz;

			snprintf(name, sizeof(name), "%s%s", tails[i], apex);
			snap_qname_init(&q, w, wn(name, w));
			assert_int_equal(snap_lookup(s, &q, &r1), 0);
			assert_non_null(zz = snap_find_zone(s, &q));
			assert_int_equal(snap_lookup_in(s, zz, &q, &r2), 0);
			assert_same_lookup(&r1, &r2);
		}
		for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
			uint8_t w[DNAME_MAXLEN];
			struct snap_lookup r;
			struct snap_qname q;

			snap_qname_init(&q, w, wn(outside[i], w));
			assert_null(snap_find_zone(s, &q));
			assert_int_equal(snap_lookup(s, &q, &r), P53_ENOTFOUND);
		}
		snap_close(s);
		free(blob);
		zone_free(z);
	}
}

/* The real, signed root zone: apex ".", ~1,500 delegations with glue
 * under other delegations, DS and RRSIG at cuts. */
static void test_root_zone(void **state)
{
	const char *src = getenv("SOURCE_ROOT");
	const struct snap_rrset *ns, *rrsig;
	const struct snap_addl *a;
	const struct snap_zone *z;
	struct zone *zone = NULL;
	struct snap_lookup r;
	char path[1024];
	struct snap *s;
	struct diag d;
	uint8_t *blob;
	size_t len;

	(void)state;
	snprintf(path, sizeof(path), "%s/../shared/zones/root.zone",
		 src ? src : ".");
	diag_init(&d, NULL);
	if (zone_parse_file(path, NULL, &d, &zone) == P53_EIO)
		skip();
	assert_non_null(zone);
	blob = compile_zones(&zone, 1, &len);
	diag_init(&d, stderr);
	assert_int_equal(snap_open_mem(blob, len, &d, &s), 0);
	z = snap_zone_at(s, 0);
	assert_int_equal(snap_ptr(s, z->apex_name)[0], 0);

	/* below com.: a referral; the cut's NS lists the 13 glue nodes,
	 * all occluded by the net. cut */
	assert_int_equal(lookup(s, "www.Example.COM.", &r), 0);
	assert_null(r.node);
	assert_name(s, r.deleg, "com.");
	assert_ptr_equal(r.encloser, r.deleg);
	assert_int_equal(r.deleg->flags, SNAP_NODE_DELEG);
	ns = snap_node_rrset(s, r.deleg, RRTYPE_NS);
	assert_int_equal(ns->count, 13);
	assert_int_equal(ns->ttl, 172800);
	a = (const struct snap_addl *)(const void *)snap_ptr(s, ns->additional);
	assert_int_equal(a->count, 13);
	for (uint32_t i = 0; i < a->count; i++) {
		const struct snap_node *g = snap_node_at(s, z, a->node[i]);

		assert_int_equal(g->flags, SNAP_NODE_OCCLUDED);
		assert_name(s, snap_node_at(s, z, g->deleg), "net.");
		assert_non_null(snap_node_rrset(s, g, RRTYPE_A));
	}
	/* DS, NSEC and their RRSIGs at the cut, sorted by type */
	assert_non_null(snap_node_rrset(s, r.deleg, RRTYPE_DS));
	rrsig = snap_node_rrset(s, r.deleg, RRTYPE_RRSIG);
	assert_non_null(rrsig);
	assert_int_equal(rrsig->count, 2);
	/* the apex */
	assert_int_equal(lookup(s, ".", &r), 0);
	assert_int_equal(r.node->flags, SNAP_NODE_APEX);
	assert_non_null(snap_node_rrset(s, r.node, RRTYPE_DNSKEY));
	assert_int_equal(lookup(s, "nonexistent-tld.", &r), 0);
	assert_null(r.node);
	assert_null(r.deleg);
	assert_int_equal(r.encloser_strip, 1);
	assert_int_equal(z->neg_ttl, 86400);
	snap_close(s);
	free(blob);
	zone_free(zone);
}

/* snap_qname_init hashes the name while it lowers it: the hash must be
 * snap_name_hash of the lowered name (what the compiler put in the slots)
 * for every length, so that the word loop's tail is right for each of
 * len % 8, short names included. Labels of random lengths and bytes, upper
 * case among them; the input is left as it was. */
static void test_qname_hash(void **state)
{
	static struct snap_qname q, q2;
	uint8_t w[DNAME_MAXLEN], low[DNAME_MAXLEN], keep[DNAME_MAXLEN];
	unsigned seed = 5353;

	(void)state;
	for (size_t len = 1; len <= DNAME_MAXLEN; len++) {
		for (int round = 0; round < 8; round++) {
			size_t pos = 0;

			while (pos + 1 < len) {
				size_t room = len - 1 - pos - 1, l;

				seed = seed * 1103515245u + 12345u;
				/* half the rounds with short labels: up to
				 * 127 of them */
				l = 1 + (seed >> 16) % (round % 2 ? 3 : 63);
				if (l > room)
					l = room;
				if (!l)
					break;
				w[pos++] = (uint8_t)l;
				for (size_t k = 0; k < l; k++) {
					seed = seed * 1103515245u + 12345u;
					w[pos++] = (uint8_t)("abcXYZ-09\x7f\xc8"
							     [(seed >> 16) % 11]);
				}
			}
			if (pos + 1 != len)
				continue;       /* no label fits: try again */
			w[pos] = 0;
			memcpy(keep, w, len);
			snap_qname_init(&q, w, len);
			assert_memory_equal(w, keep, len);
			assert_int_equal(q.len, len);
			assert_int_equal(dname_copy_lower(low, w), (int)len);
			assert_memory_equal(q.name, low, len);
			assert_int_equal(q.hash, snap_name_hash(low, len));
			/* given the labels a caller walked: the same (the
			 * offsets after the last are not read: random) */
			for (size_t k = 0; k < sizeof(q2.off); k++)
				q2.off[k] = (uint8_t)(seed >> k % 24);
			snap_qname_init_labels(&q2, w, len, q.off, q.labels);
			assert_int_equal(q2.len, q.len);
			assert_int_equal(q2.labels, q.labels);
			assert_int_equal(q2.hash, q.hash);
			assert_memory_equal(q2.name, q.name, len);
			assert_memory_equal(q2.off, q.off, q.labels + 1u);
		}
	}
}

/* ---- lookups in bursts ------------------------------------------------- */

/* bq's result is snap_lookup's for its name. */
static void check_burst_result(const struct snap *s, const struct snap_bq *bq)
{
	struct snap_lookup r;
	int ret = snap_lookup(s, bq->q, &r);

	assert_int_equal(bq->ret, ret);
	if (ret)
		return;
	assert_ptr_equal(bq->lk.zone, r.zone);
	assert_ptr_equal(bq->lk.node, r.node);
	assert_ptr_equal(bq->lk.encloser, r.encloser);
	assert_int_equal(bq->lk.encloser_strip, r.encloser_strip);
	assert_ptr_equal(bq->lk.deleg, r.deleg);
	assert_ptr_equal(bq->lk.wildcard, r.wildcard);
}

struct handed {
	const struct snap *s;
	const struct snap_bq *bq;
	size_t n;
	unsigned seen[SNAP_BURST_MAX];
};

/* snap_burst_done_fn: lookup k must be finished when it is handed over,
 * and handed over once. */
static void on_done(void *arg, size_t k)
{
	struct handed *h = arg;

	assert_true(k < h->n);
	assert_int_equal(h->seen[k]++, 0);
	check_burst_result(h->s, &h->bq[k]);
}

/* snap_lookup_burst must give exactly snap_lookup's results: every name of
 * names[] (text), in bursts of every size from 1 to SNAP_BURST_MAX, names
 * taken in a scrambled order so that each burst mixes kinds. Every other
 * burst goes through snap_lookup_burst_each, whose lookups must each be
 * handed over once, finished. */
static void check_bursts(const struct snap *s, const char *const *names,
			 size_t n, const uint16_t *types, size_t ntypes)
{
	static struct snap_qname q[SNAP_BURST_MAX];
	struct snap_bq bq[SNAP_BURST_MAX];
	uint8_t w[DNAME_MAXLEN];
	unsigned seed = 53;
	size_t next = 0;

	for (size_t size = 1; size <= SNAP_BURST_MAX; size++) {
		for (size_t rounds = 0; rounds < 4; rounds++) {
			struct handed h = { s, bq, size, { 0 } };

			for (size_t k = 0; k < size; k++) {
				seed = seed * 1103515245u + 12345u;
				next = (next + 1 + (seed >> 16) % 7) % n;
				snap_qname_init(&q[k], w, wn(names[next], w));
				bq[k].q = &q[k];
				bq[k].qtype = types[(seed >> 8) % ntypes];
				memset(&bq[k].lk, 0x5a, sizeof(bq[k].lk));
				bq[k].ret = 12345;
			}
			if (rounds & 1) {
				snap_lookup_burst_each(s, bq, size, on_done, &h);
				for (size_t k = 0; k < size; k++)
					assert_int_equal(h.seen[k], 1);
			} else {
				snap_lookup_burst(s, bq, size);
			}
			for (size_t k = 0; k < size; k++)
				check_burst_result(s, &bq[k]);
		}
	}
}

static const uint16_t burst_types[] = {
	RRTYPE_A, RRTYPE_AAAA, RRTYPE_DS, RRTYPE_CNAME, RRTYPE_NS, RRTYPE_MX,
	RRTYPE_ANY, RRTYPE_TXT,
};

/* Two nested zones with every kind of name: hits, case, apexes, ENTs,
 * wildcards, cuts and below them, CNAMEs (whose targets are warmed),
 * DNAME, names outside every zone, deep nonexistent names. */
static void test_lookup_burst(void **state)
{
	static const char *const names[] = {
		"www.example.com.", "WWW.Example.COM.", "example.com.",
		"alias.example.com.", "ALIAS.example.com.", "c.example.com.",
		"b.c.example.com.", "a.b.c.example.com.", "x.a.b.c.example.com.",
		"nope.example.com.", "deep.er.nope.example.com.",
		"sub.example.com.", "ns.sub.example.com.", "x.y.sub.example.com.",
		"q.x.y.sub.example.com.", "child.example.com.",
		"www.child.example.com.", "no.child.example.com.",
		"old.example.com.", "x.old.example.com.", "svc.example.com.",
		"mail.example.com.", "ns1.example.com.", "com.", ".",
		"example.org.", "www.example.net.", "a.b.c.d.e.f.g.example.com.",
		"*.example.com.", "x.*.example.com.",
	};
	struct fixture *f = *state;

	check_bursts(f->s, names, sizeof(names) / sizeof(names[0]),
		     burst_types, sizeof(burst_types) / sizeof(burst_types[0]));
}

/* A zone big enough that the lookups really miss the caches, with chains
 * of CNAMEs into it, and names a few labels below existing ones. */
static void test_lookup_burst_big(void **state)
{
	struct zone *z = new_zone("big.test.");
	const int count = 20000;
	static char text[3 * 20000][64];
	const char *names[3 * 20000];
	struct snap *s;
	struct diag d;
	uint8_t *blob;
	size_t len;

	(void)state;
	add_soa(z, "big.test.", 3600, 1, 60);
	add_name(z, "big.test.", RRTYPE_NS, 3600, "ns.big.test.");
	add_a(z, "*.w.big.test.", 60, "192.0.2.2");
	add_name(z, "cut.big.test.", RRTYPE_NS, 3600, "ns.cut.big.test.");
	add_a(z, "ns.cut.big.test.", 60, "192.0.2.3");
	for (int i = 0; i < count; i++) {
		char owner[64], target[64];

		snprintf(owner, sizeof(owner), "h%d.g%d.big.test.", i, i % 37);
		add_a(z, owner, 60, "192.0.2.1");
		snprintf(owner, sizeof(owner), "c%d.big.test.", i);
		snprintf(target, sizeof(target), "h%d.g%d.big.test.",
			 (i * 7) % count, (i * 7) % count % 37);
		add_name(z, owner, RRTYPE_CNAME, 60, i % 5 ? target :
			 "out.example.net.");
		snprintf(text[3 * i], 64, "%s%d.g%d.big.test.",
			 i % 3 ? "h" : "H", i, i % 37);
		snprintf(text[3 * i + 1], 64, "x.%s%d.%s.big.test.",
			 i % 2 ? "c" : "z", i, i % 4 ? "w" : "cut");
		snprintf(text[3 * i + 2], 64, "c%d.big.test.", i);
	}
	for (int i = 0; i < 3 * count; i++)
		names[i] = text[i];
	blob = compile_zones(&z, 1, &len);
	diag_init(&d, stderr);
	assert_int_equal(snap_open_mem(blob, len, &d, &s), 0);
	assert_true(snap_burst_useful(s) == (len >= (6u << 20)));
	check_bursts(s, names, 3 * (size_t)count, burst_types,
		     sizeof(burst_types) / sizeof(burst_types[0]));
	snap_close(s);
	free(blob);
	zone_free(z);
}

/* ---- compile errors ---------------------------------------------------- */

static void test_compile_errors(void **state)
{
	struct zone *zones[2] = { make_child(), make_child() };
	struct zone *nosoa = new_zone("x.test.");
	struct diag d;
	uint8_t *blob;
	size_t len;

	(void)state;
	diag_init(&d, NULL);
	assert_int_equal(snap_compile(zones, 2, NULL, &d, &blob, &len),
			 P53_EZONE);
	assert_null(blob);
	assert_non_null(strstr(d.first, "child.example.com. given twice"));
	zone_free(zones[1]);

	add_a(zones[0], "www.example.org.", 60, "192.0.2.1");
	diag_init(&d, NULL);
	assert_int_equal(snap_compile(zones, 1, NULL, &d, &blob, &len),
			 P53_EZONE);
	assert_non_null(strstr(d.first, "www.example.org. is outside zone "
			       "child.example.com."));
	assert_non_null(strstr(d.first, "test:1:"));

	add_a(nosoa, "x.test.", 60, "192.0.2.1");
	diag_init(&d, NULL);
	assert_int_equal(snap_compile(&nosoa, 1, NULL, &d, &blob, &len),
			 P53_EZONE);
	assert_non_null(strstr(d.first, "no SOA"));
	zone_free(zones[0]);
	zone_free(nosoa);

	/* no zones at all is a valid, empty snapshot that refuses all */
	diag_init(&d, stderr);
	assert_int_equal(snap_compile(NULL, 0, NULL, &d, &blob, &len), 0);
	{
		struct snap *s;
		struct snap_lookup r;

		assert_int_equal(snap_open_mem(blob, len, &d, &s), 0);
		assert_int_equal(snap_zone_count(s), 0);
		assert_int_equal(lookup(s, "example.com.", &r), P53_ENOTFOUND);
		snap_close(s);
	}
	free(blob);
}

/* ---- damaged snapshots --------------------------------------------------- */

/* Open a private copy of exactly len bytes, so reading past the end
 * trips the sanitizer. */
static int open_copy(const uint8_t *buf, size_t len, struct diag *d,
		     struct snap **s)
{
	uint8_t *copy = malloc(len ? len : 1);
	int ret;

	memcpy(copy, buf, len);
	ret = snap_open_mem(copy, len, d, s);
	if (ret == 0)
		snap_close(*s);
	free(copy);
	return ret;
}

static void test_truncated(void **state)
{
	struct fixture *f = *state;
	size_t hdr = sizeof(struct snap_header);
	struct diag d;
	struct snap *s;
	int ret;

	for (size_t len = 0; len < f->len; len++) {
		/* all short lengths, then every 7th cut point */
		if (len > hdr + 64 && len % 7)
			continue;
		diag_init(&d, NULL);
		ret = open_copy(f->blob, len, &d, &s);
		if (ret != P53_ETRUNC && ret != P53_EFORMAT)
			fail_msg("length %zu: %d", len, ret);
		assert_int_equal(d.errors, 1);
	}
	diag_init(&d, NULL);
	assert_int_equal(open_copy(f->blob, 1000, &d, &s), P53_ETRUNC);
	{
		char want[128];

		snprintf(want, sizeof(want), "truncated: file has 1000 bytes, "
			 "header says %zu", f->len);
		assert_string_equal(d.first, want);
	}
	diag_init(&d, NULL);
	assert_int_equal(open_copy(f->blob, 100, &d, &s), P53_ETRUNC);
	assert_int_equal(open_copy(f->blob, 0, &d, &s), P53_ETRUNC);
}

static void test_flipped_bytes(void **state)
{
	struct fixture *f = *state;
	uint8_t *copy = malloc(f->len);
	struct diag d;
	struct snap *s;

	for (size_t pos = 0; pos < f->len; pos++) {
		for (unsigned bit = 0; bit < 8; bit += 3) {
			int ret;

			memcpy(copy, f->blob, f->len);
			copy[pos] ^= (uint8_t)(1u << bit);
			diag_init(&d, NULL);
			ret = snap_open_mem(copy, f->len, &d, &s);
			if (ret >= 0)
				fail_msg("flip at %zu bit %u accepted", pos, bit);
			assert_true(ret == P53_EHASH || ret == P53_EFORMAT ||
				    ret == P53_ETRUNC || ret == P53_EVERSION);
			assert_int_equal(d.errors, 1);
		}
	}
	free(copy);
}

static void poke_lookups(const struct snap *s)
{
	static const char *names[] = {
		"www.example.com.", "a.b.c.example.com.", "x.b.c.example.com.",
		"nothere.example.com.", "ns.sub.example.com.",
		"host.sub.example.com.", "www.child.example.com.",
		"example.com.", "child.example.com.", "org.",
	};
	struct snap_lookup r;
	FILE *null = fopen("/dev/null", "w");

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (lookup(s, names[i], &r) < 0)
			continue;
		for (const struct snap_node *n = r.encloser;
		     n->parent != SNAP_NONE;
		     n = snap_node_at(s, r.zone, n->parent))
			snap_node_rrset(s, n, RRTYPE_A);
		if (r.node)
			snap_node_rrset(s, r.node, RRTYPE_NS);
	}
	snap_dump(s, null);
	fclose(null);
}

/* A blob built to pass the hash: damage anywhere after the header must be
 * refused by the bounds checks or be harmless to use. */
static void test_hostile(void **state)
{
	struct fixture *f = *state;
	uint8_t *copy = malloc(f->len);
	static const uint8_t vals[] = { 0x00, 0xff, 0x80, 0x01, 0x7f, 0x08 };
	size_t refused = 0, tried = 0;
	struct diag d;
	struct snap *s;

	for (size_t pos = 0; pos < f->len; pos++) {
		if (pos >= offsetof(struct snap_header, sha256) &&
		    pos < offsetof(struct snap_header, sha256) + 32)
			continue;
		for (size_t k = 0; k < sizeof(vals); k++) {
			memcpy(copy, f->blob, f->len);
			if (copy[pos] == vals[k])
				continue;
			copy[pos] = vals[k];
			rehash(copy, f->len);
			diag_init(&d, NULL);
			tried++;
			if (snap_open_mem(copy, f->len, &d, &s) < 0) {
				assert_int_equal(d.errors, 1);
				refused++;
				continue;
			}
			poke_lookups(s);
			snap_close(s);
		}
	}
	assert_true(refused > 0 && refused < tried);
	free(copy);
}

static void test_header_fields(void **state)
{
	struct fixture *f = *state;
	uint8_t *copy = malloc(f->len + 200);
	struct snap_header *h = (struct snap_header *)copy;
	struct snap_sig *sig = (struct snap_sig *)(copy + f->len);
	struct diag d;
	struct snap *s;

	memcpy(copy, f->blob, f->len);
	h->version_major = SNAP_VERSION_MAJOR + 1;
	diag_init(&d, NULL);
	assert_int_equal(snap_open_mem(copy, f->len, &d, &s), P53_EVERSION);
	{
		char want[32];

		snprintf(want, sizeof(want), "version %u.%u",
			 SNAP_VERSION_MAJOR + 1, SNAP_VERSION_MINOR);
		assert_non_null(strstr(d.first, want));
	}
	h->version_major = SNAP_VERSION_MAJOR;

	/* a newer minor version is fine */
	h->version_minor = 7;
	rehash(copy, f->len);
	assert_int_equal(snap_open_mem(copy, f->len, &d, &s), 0);
	snap_close(s);
	memcpy(copy, f->blob, f->len);

	copy[0] = 'X';
	diag_init(&d, NULL);
	assert_int_equal(snap_open_mem(copy, f->len, &d, &s), P53_EFORMAT);
	assert_non_null(strstr(d.first, "magic"));
	assert_int_equal(snap_open_mem(copy, 3, &d, &s), P53_EFORMAT);
	copy[0] = 'P';

	h->endian = __builtin_bswap32(SNAP_ENDIAN_MARK);
	diag_init(&d, NULL);
	assert_int_equal(snap_open_mem(copy, f->len, &d, &s), P53_EFORMAT);
	assert_non_null(strstr(d.first, "byte order"));
	h->endian = SNAP_ENDIAN_MARK;

	/* trailers: garbage refused, a well-formed signature accepted */
	memset(copy + f->len, 0x5a, 200);
	diag_init(&d, NULL);
	assert_int_equal(snap_open_mem(copy, f->len + sizeof(*sig), &d, &s),
			 P53_EFORMAT);
	assert_int_equal(snap_open_mem(copy, f->len + 5, &d, &s), P53_EFORMAT);
	memcpy(sig->magic, SNAP_SIG_MAGIC, 8);
	sig->alg = SNAP_SIG_ED25519;
	sig->size = sizeof(*sig);
	assert_int_equal(snap_open_mem(copy, f->len + sizeof(*sig), &d, &s), 0);
	assert_int_equal(snap_size(s), f->len + sizeof(*sig));
	snap_close(s);
	diag_init(&d, NULL);
	assert_int_equal(snap_open_mem(copy, f->len + 20, &d, &s), P53_ETRUNC);
	assert_int_equal(snap_open_mem(copy, f->len + sizeof(*sig) + 8, &d, &s),
			 P53_EFORMAT);
	sig->size = 7;
	assert_int_equal(snap_open_mem(copy, f->len + sizeof(*sig), &d, &s),
			 P53_EFORMAT);

	/* a hash mismatch names itself */
	copy[f->len - 1] ^= 1;
	diag_init(&d, NULL);
	assert_int_equal(snap_open_mem(copy, f->len, &d, &s), P53_EHASH);
	assert_non_null(strstr(d.first, "hash"));
	free(copy);
}

/* ---- files ----------------------------------------------------------------- */

static void test_file_round_trip(void **state)
{
	struct fixture *f = *state;
	char dir[] = "/tmp/test_snap.XXXXXX", path[64], bad[64];
	struct zone *zones[2] = { make_parent(), make_child() };
	struct snap_compile_opts opts = { .serial = 42 };
	struct snap_lookup r;
	struct diag d;
	struct snap *s;
	struct stat st;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/zones.snap", dir);
	snprintf(bad, sizeof(bad), "%s/cut.snap", dir);
	diag_init(&d, stderr);
	assert_int_equal(snap_compile_file(zones, 2, &opts, &d, path), 0);
	/* replacing an existing file works the same way */
	assert_int_equal(snap_compile_file(zones, 2, &opts, &d, path), 0);
	assert_int_equal(snap_open(path, &d, &s), 0);
	assert_int_equal(snap_size(s), f->len);
	assert_memory_equal(snap_data(s), f->blob, f->len);
	assert_int_equal(lookup(s, "ns.sub.example.com.", &r), 0);
	assert_non_null(r.node);
	snap_close(s);

	fd = open(bad, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, f->blob, 1000), 1000);
	close(fd);
	diag_init(&d, NULL);
	assert_int_equal(snap_open(bad, &d, &s), P53_ETRUNC);
	assert_non_null(strstr(d.first, "cut.snap: truncated: file has 1000 "
			       "bytes, header says"));
	assert_int_equal(truncate(bad, 0), 0);
	assert_int_equal(snap_open(bad, &d, &s), P53_ETRUNC);
	unlink(bad);
	diag_init(&d, NULL);
	assert_int_equal(snap_open(bad, &d, &s), P53_EIO);
	assert_int_equal(snap_open(dir, &d, &s), P53_EIO);

	/* no temporary files are left behind */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	snprintf(path, sizeof(path), "%s/zones.snap", dir);
	diag_init(&d, NULL);
	assert_int_equal(snap_compile_file(zones, 2, &opts, &d, path), P53_EIO);
	zone_free(zones[0]);
	zone_free(zones[1]);
}

/* ---- dump -------------------------------------------------------------------- */

static void test_dump(void **state)
{
	struct fixture *f = *state;
	char *text = dump_text(f->s);
	const char *www = strstr(text, "www.example.com.\t100\tIN\tA\t192.0.2.10\n"
				 "www.example.com.\t100\tIN\tA\t192.0.2.11\n"
				 "www.example.com.\t60\tIN\tTXT\t\"hello\"\n");

	assert_non_null(www);
	/* canonical order: the apex first, wildcard before letters */
	assert_true(strstr(text, "example.com.\t3600\tIN\tSOA\t") <
		    strstr(text, "*.example.com."));
	assert_true(strstr(text, "*.example.com.") <
		    strstr(text, "a.b.c.example.com."));
	/* ENTs print nothing */
	assert_null(strstr(text, "\nc.example.com."));
	assert_null(strstr(text, "\nb.c.example.com."));
	free(text);
}

/* Dump -> parse -> compile -> dump gives the same text; compiling that
 * canonical-order input again gives the same bytes. */
static void test_dump_parses_back(void **state)
{
	struct fixture *f = *state;
	char *text = dump_text(f->s), *again;
	char *second = strstr(text, "; zone child.example.com.");
	struct zone *zones[2];
	struct diag d;
	size_t len, len2;
	uint8_t *blob, *blob2;

	assert_non_null(second);
	diag_init(&d, stderr);
	assert_int_equal(zone_parse_string(second, strlen(second), "dump",
					   NULL, &d, &zones[1]), 0);
	*second = 0;
	assert_int_equal(zone_parse_string(text, strlen(text), "dump", NULL,
					   &d, &zones[0]), 0);
	*second = ';';
	/* the size may differ: units are placed in input order */
	blob = compile_zones(zones, 2, &len);
	again = dump_blob(blob, len);
	assert_string_equal(again, text);
	zone_free(zones[0]);
	zone_free(zones[1]);

	second = strstr(again, "; zone child.example.com.");
	assert_int_equal(zone_parse_string(second, strlen(second), "dump",
					   NULL, &d, &zones[1]), 0);
	*second = 0;
	assert_int_equal(zone_parse_string(again, strlen(again), "dump", NULL,
					   &d, &zones[0]), 0);
	blob2 = compile_zones(zones, 2, &len2);
	assert_int_equal(len2, len);
	assert_memory_equal(blob2, blob, len);
	free(blob2);
	free(blob);
	free(again);
	free(text);
	zone_free(zones[0]);
	zone_free(zones[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_hit),
		cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_apex),
		cmocka_unit_test(test_ent),
		cmocka_unit_test(test_wildcard),
		cmocka_unit_test(test_delegation),
		cmocka_unit_test(test_cname_dname_flags),
		cmocka_unit_test(test_outside),
		cmocka_unit_test(test_child_zone),
		cmocka_unit_test(test_find_zone_node),
		cmocka_unit_test(test_additional),
		cmocka_unit_test(test_wire_bytes),
		cmocka_unit_test(test_node_order),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_data_units),
		cmocka_unit_test(test_shared_sets),
		cmocka_unit_test(test_many_names),
		cmocka_unit_test(test_hash_name),
		cmocka_unit_test(test_one_zone_lookup),
		cmocka_unit_test(test_root_zone),
		cmocka_unit_test(test_qname_hash),
		cmocka_unit_test(test_lookup_burst),
		cmocka_unit_test(test_lookup_burst_big),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_flipped_bytes),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_file_round_trip),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_dump_parses_back),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
