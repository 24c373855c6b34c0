/*
 * zonec.c — pop53-zonec commands: check, compile, dump, lookup, bench-load.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "dname.h"
#include "error.h"
#include "rdata.h"
#include "snap.h"
#include "zone.h"
#include "zonec.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Parse and check every file; on success *zones holds one zone per file.
 * Returns 0, 1 (zone errors) or 2 (usage). */
static int load_zones(const struct zonec_opts *o, char *const *files, size_t n,
		      struct diag *d, struct zone ***zones)
{
	uint8_t origin[DNAME_MAXLEN];
	struct zone_parse_opts po = { 0 };
	struct zone **z = calloc(n, sizeof(*z));
	int status = 0;

	if (!z)
		return 2;
	if (o->origin) {
		if (n != 1) {
			fprintf(stderr, "pop53-zonec: --origin applies to exactly one zone file\n");
			free(z);
			return 2;
		}
		if (dname_from_text(o->origin, strlen(o->origin), (const uint8_t *)"", origin) < 0) {
			fprintf(stderr, "pop53-zonec: --origin '%s' is not a domain name\n", o->origin);
			free(z);
			return 2;
		}
		po.origin = origin;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned warnings = d->warnings;
		size_t count;
		if (zone_parse_file(files[i], &po, d, &z[i]) < 0 ||
		    zone_check(z[i], NULL, d) < 0) {
			status = 1;
			continue;
		}
		if (!o->quiet) {
			char name[DNAME_TEXT_MAX];
			zone_rrs(z[i], &count);
			dname_to_text(zone_origin(z[i]), name, sizeof(name));
			fprintf(stderr, "%s: zone %s, %zu records, %u warnings\n",
				files[i], name, count, d->warnings - warnings);
		}
	}
	if (status == 0 && o->werror && d->warnings) {
		fprintf(stderr, "pop53-zonec: %u warnings treated as errors (-Werror)\n",
			d->warnings);
		status = 1;
	}
	*zones = z;
	return status;
}

static void free_zones(struct zone **z, size_t n)
{
	for (size_t i = 0; z && i < n; i++)
		zone_free(z[i]);
	free(z);
}

int zonec_check(const struct zonec_opts *o, char *const *files, size_t n)
{
	struct diag d;
	struct zone **z = NULL;
	int status;

	diag_init(&d, stderr);
	d.hide_warnings = o->quiet;
	status = load_zones(o, files, n, &d, &z);
	free_zones(z, n);
	if (status == 1)
		fprintf(stderr, "pop53-zonec: %u errors, nothing accepted\n", d.errors);
	return status;
}

int zonec_compile(const struct zonec_opts *o, char *const *files, size_t n)
{
	struct snap_compile_opts co = { .serial = o->serial };
	struct zone **z = NULL;
	struct diag d;
	double t0 = now_ms();
	size_t records = 0, count;
	int status, ret;

	diag_init(&d, stderr);
	d.hide_warnings = o->quiet;
	status = load_zones(o, files, n, &d, &z);
	if (status) {
		if (status == 1)
			fprintf(stderr, "pop53-zonec: %u errors, no snapshot written\n", d.errors);
		free_zones(z, n);
		return status;
	}
	double t1 = now_ms();
	ret = snap_compile_file(z, n, &co, &d, o->output);
	for (size_t i = 0; i < n; i++)
		records += (zone_rrs(z[i], &count), count);
	free_zones(z, n);
	if (ret < 0) {
		fprintf(stderr, "pop53-zonec: cannot write %s: %s\n", o->output,
			d.errors ? d.first : p53_strerror(ret));
		return ret == P53_EZONE ? 1 : 2;
	}
	if (!o->quiet) {
		FILE *f = fopen(o->output, "rb");
		long size = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : 0;
		if (f)
			fclose(f);
		fprintf(stderr, "%s: %zu zones, %zu records, %ld bytes (%.1f bytes/record); "
			"parse+check %.0f ms, compile+write %.0f ms\n", o->output, n,
			records, size, records ? (double)size / (double)records : 0.0,
			t1 - t0, now_ms() - t1);
	}
	return 0;
}

static struct snap *open_snap(const char *path)
{
	struct diag d;
	struct snap *s;

	diag_init(&d, stderr);
	if (snap_open(path, &d, &s) < 0)
		return NULL;
	return s;
}

int zonec_dump(const struct zonec_opts *o, const char *path)
{
	struct snap *s = open_snap(path);
	int ret;

	(void)o;
	if (!s)
		return 1;
	ret = snap_dump(s, stdout);
	snap_close(s);
	return ret < 0 ? 1 : 0;
}

/* Print the pre-encoded RRs of r as master-file lines owned by owner. */
static void print_rrset(const struct snap *s, const struct snap_rrset *r,
			const uint8_t *owner, const char *section)
{
	static char text[4 * RDATA_MAXLEN + 64];
	const uint8_t *w = snap_ptr(s, r->wire), *end = w + r->wire_len;
	char name[DNAME_TEXT_MAX], tb[16];

	dname_to_text(owner, name, sizeof(name));
	while (w + 12 <= end) {
		uint16_t type = (uint16_t)(w[2] << 8 | w[3]);
		uint32_t ttl = (uint32_t)w[6] << 24 | (uint32_t)w[7] << 16 |
			       (uint32_t)w[8] << 8 | w[9];
		uint16_t rdlen = (uint16_t)(w[10] << 8 | w[11]);
		if (rdata_to_text(type, w + 12, rdlen, text, sizeof(text)) < 0)
			strcpy(text, "(unprintable)");
		printf("%-10s %s\t%u\tIN\t%s\t%s\n", section, name, ttl,
		       rrtype_to_text(type, tb, sizeof(tb)), text);
		w += 12 + rdlen;
	}
}

static void print_soa(const struct snap *s, const struct snap_zone *z)
{
	print_rrset(s, (const struct snap_rrset *)(const void *)snap_ptr(s, z->soa_rrset),
		    snap_ptr(s, z->apex_name), "authority");
}

static void print_referral(const struct snap *s, const struct snap_lookup *l)
{
	const struct snap_rrset *ns = snap_node_rrset(s, l->deleg, RRTYPE_NS);

	printf("status: REFERRAL (not authoritative below the zone cut)\n");
	if (!ns)
		return;
	print_rrset(s, ns, snap_ptr(s, l->deleg->name), "authority");
	if (!ns->additional)
		return;
	const struct snap_addl *a = (const void *)snap_ptr(s, ns->additional);
	for (uint32_t i = 0; i < a->count; i++) {
		const struct snap_node *g = snap_node_at(s, l->zone, a->node[i]);
		for (uint16_t t = 0; t < 2; t++) {
			const struct snap_rrset *r = snap_node_rrset(s, g, t ? RRTYPE_AAAA : RRTYPE_A);
			if (r)
				print_rrset(s, r, snap_ptr(s, g->name), "additional");
		}
	}
}

static void print_lookup(const struct snap *s, const struct snap_lookup *l,
			 const uint8_t *qname, uint16_t type)
{
	const struct snap_node *n = l->node ? l->node : l->wildcard;
	const struct snap_rrset *r;

	if (l->deleg && !(l->node == l->deleg && type == RRTYPE_DS)) {
		print_referral(s, l);
		return;
	}
	if (!n) {
		printf("status: NXDOMAIN\n");
		print_soa(s, l->zone);
		return;
	}
	if ((r = snap_node_rrset(s, n, type))) {
		printf("status: NOERROR%s\n", l->node ? "" : " (wildcard)");
		print_rrset(s, r, qname, "answer");
	} else if ((r = snap_node_rrset(s, n, RRTYPE_CNAME))) {
		printf("status: NOERROR (alias: resolve the CNAME target)\n");
		print_rrset(s, r, qname, "answer");
	} else {
		printf("status: NODATA\n");
		print_soa(s, l->zone);
	}
}

int zonec_lookup(const struct zonec_opts *o, const char *path, const char *name,
		 const char *type)
{
	uint8_t wire[DNAME_MAXLEN];
	struct snap_qname q;
	struct snap_lookup l;
	struct snap *s;
	int t, len;

	(void)o;
	if ((len = dname_from_text(name, strlen(name), (const uint8_t *)"", wire)) < 0) {
		fprintf(stderr, "pop53-zonec: '%s' is not a domain name\n", name);
		return 2;
	}
	if ((t = rrtype_from_text(type, strlen(type))) < 0) {
		fprintf(stderr, "pop53-zonec: '%s' is not a record type\n", type);
		return 2;
	}
	if (!(s = open_snap(path)))
		return 1;
	snap_qname_init(&q, wire, (size_t)len);
	if (snap_lookup(s, &q, &l) < 0)
		printf("status: REFUSED (no zone in the snapshot contains %s)\n", name);
	else
		print_lookup(s, &l, wire, (uint16_t)t);
	snap_close(s);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int zonec_bench_load(const struct zonec_opts *o, const char *path, int rounds)
{
	double t[101];
	struct diag d;

	(void)o;
	if (rounds < 1 || rounds > 101)
		rounds = 5;
	diag_init(&d, stderr);
	for (int i = 0; i < rounds; i++) {
		struct snap *s;
		double t0 = now_ms();
		if (snap_open(path, &d, &s) < 0)
			return 1;
		t[i] = now_ms() - t0;
		snap_close(s);
	}
	qsort(t, (size_t)rounds, sizeof(t[0]), cmp_double);
	printf("load_ms %.2f min_ms %.2f max_ms %.2f rounds %d\n", t[rounds / 2], t[0],
	       t[rounds - 1], rounds);
	return 0;
}
