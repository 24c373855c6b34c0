/*
 * zonec.c — pop53-zonec commands: check, compile, dump, lookup, bench-load,
 * and the controller's keygen, sign and verify.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/socket.h>

#include "diag.h"
#include "engine.h"
#include "dname.h"
#include "error.h"
#include "geo.h"
#include "latency.h"
#include "rdata.h"
#include "policy.h"
#include "snap.h"
#include "snap_sign.h"
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

/* Compile, sign and only then write: no unsigned file is ever left at
 * the output path for something to pick up. */
static int compile_signed(const struct zonec_opts *o, struct zone **z,
			  size_t n, const struct snap_compile_opts *co,
			  struct diag *d)
{
	uint8_t *blob, *signed_blob;
	size_t len, signed_len;
	int ret;

	if ((ret = snap_compile(z, n, co, d, &blob, &len)) < 0)
		return ret;
	ret = snap_sign(blob, len, o->sign_key, d, &signed_blob, &signed_len);
	free(blob);
	if (ret < 0)
		return ret;
	ret = snap_file_write(o->output, signed_blob, signed_len, d);
	free(signed_blob);
	return ret;
}

/* Compile o->policy into sec (a SNAP_SECT_POLICY section the caller frees)
 * and give its records their placeholders in the zones. */
static int add_policy(const struct zonec_opts *o, struct zone **z, size_t n,
		      const bool *signing, struct diag *d, struct snap_section_in *sec)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	int err;

	if ((err = policy_compile_file(o->policy, d, &blob, &len)) < 0 ||
	    (err = snap_policy_prepare_signing(z, n, blob, len, signing, d)) < 0) {
		free(blob);
		return err;
	}
	sec->kind = SNAP_SECT_POLICY;
	sec->data = blob;
	sec->len = len;
	return 0;
}

/* Serialize b into sec (kind); what names the table in the statistics. */
static int table_section(const struct zonec_opts *o, struct geo_builder *b, uint32_t kind,
			 const char *what, struct diag *d, struct snap_section_in *sec)
{
	uint8_t *blob;
	size_t len;
	int err = geo_builder_serialize(b, &blob, &len);

	if (err < 0) {
		diag_error(d, NULL, 0, 0, "%s table: %s", what, p53_strerror(err));
		return err;
	}
	if (!o->quiet)
		fprintf(stderr, "%s table: %zu prefixes, %zu bytes\n", what,
			geo_builder_count(b), len);
	sec->kind = kind;
	sec->data = blob;
	sec->len = len;
	return 0;
}

/* Client address -> location: the database, the operator's map over it. */
static int add_geo(const struct zonec_opts *o, struct diag *d, struct snap_section_in *sec)
{
	struct geo_builder *b;
	long r = 0;

	if (geo_builder_new(&b) < 0)
		return P53_ENOMEM;
	if (o->geo_db)
		r = geo_import_mmdb(b, o->geo_db, d);
	if (r >= 0 && o->geo_map)
		r = geo_add_cidr_map_file(b, o->geo_map, GEO_MAP_LOCATION, d);
	if (r >= 0)
		r = table_section(o, b, SNAP_SECT_GEO, "geolocation", d, sec);
	geo_builder_free(b);
	return (int)r;
}

/* Client address -> coordinates. Without --coords-db the --geo-db file is
 * read for them (a City database has both); a database without any (a
 * Country one) then just gives no table, while an explicit --coords-db
 * without coordinates is worth a warning. 1 when there is no table. */
static int add_coords(const struct zonec_opts *o, struct diag *d, struct snap_section_in *sec)
{
	const char *db = o->coords_db ? o->coords_db : o->geo_db;
	struct geo_builder *b;
	long r = 0, from_db = 0;

	if (geo_builder_new(&b) < 0)
		return P53_ENOMEM;
	if (db && (r = from_db = geo_import_mmdb_coords(b, db, d)) == 0 && o->coords_db)
		diag_warn(d, db, 0, 0, "no network has location.latitude and .longitude: "
			  "geoproximity answers will not know where clients are");
	if (r >= 0 && o->coords_map)
		r = geo_add_cidr_map_file(b, o->coords_map, GEO_MAP_COORDS, d);
	if (r >= 0 && !from_db && !o->coords_map && !o->coords_db)
		r = 1;
	else if (r >= 0)
		r = table_section(o, b, SNAP_SECT_COORDS, "coordinates", d, sec);
	geo_builder_free(b);
	return (int)r;
}

/* Client address -> latency row, in the order of the compiled policy's
 * regions (pol, a SNAP_SECT_POLICY section). */
static int add_latency(const struct zonec_opts *o, const struct snap_section_in *pol,
		       struct diag *d, struct snap_section_in *sec)
{
	const char **names = NULL;
	struct policy *p = NULL;
	uint8_t *blob;
	size_t len;
	uint32_t n;
	int err;

	if ((err = policy_open(pol->data, pol->len, d, &p)) < 0)
		return err;
	n = policy_region_count(p);
	if (!(names = calloc(n ? n : 1, sizeof(*names)))) {
		err = P53_ENOMEM;
		goto fail;
	}
	for (uint32_t i = 0; i < n; i++)
		names[i] = policy_region_name(p, i);
	if ((err = latency_compile_file(o->latency, names, n, d, &blob, &len)) < 0)
		goto fail;
	if (!o->quiet)
		fprintf(stderr, "%s: latency table for %u regions, %zu bytes\n", o->latency, n,
			len);
	sec->kind = SNAP_SECT_LATENCY;
	sec->data = blob;
	sec->len = len;
fail:
	free(names);
	policy_close(p);
	return err;
}

/* Every section o asks for into sec[] (at most 4; *nsec of them filled,
 * the caller frees their data); signing[i]: this compile signs z[i].
 * Exit status: 0, or 1 after errors. */
static int add_sections(const struct zonec_opts *o, struct zone **z, size_t n,
			const bool *signing, struct diag *d, struct snap_section_in *sec,
			size_t *nsec)
{
	int r = 0;

	*nsec = 0;
	if (o->policy && (r = add_policy(o, z, n, signing, d, &sec[*nsec])) == 0)
		++*nsec;
	if (r == 0 && (o->geo_db || o->geo_map) && (r = add_geo(o, d, &sec[*nsec])) == 0)
		++*nsec;
	if (r == 0 && (o->geo_db || o->coords_db || o->coords_map)) {
		r = add_coords(o, d, &sec[*nsec]);
		if (r == 0)
			++*nsec;
		else if (r == 1)
			r = 0;
	}
	if (r == 0 && o->latency && (r = add_latency(o, &sec[0], d, &sec[*nsec])) == 0)
		++*nsec;
	if (r < 0 || (o->werror && d->warnings)) {
		if (r == 0)
			fprintf(stderr, "pop53-zonec: %u warnings treated as errors (-Werror)\n",
				d->warnings);
		else
			fprintf(stderr, "pop53-zonec: %u errors, no snapshot written\n",
				d->errors ? d->errors : 1);
		return 1;
	}
	return 0;
}

static void free_sections(struct snap_section_in *sec, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free((void *)sec[i].data);
}

int zonec_compile(const struct zonec_opts *o, char *const *files, size_t n)
{
	struct snap_compile_opts co = { .serial = o->serial };
	struct snap_section_in sec[5] = { { 0 } };
	struct zonec_keys *keys = NULL;
	struct zone **z = NULL;
	struct diag d;
	double t0 = now_ms();
	size_t records = 0, count, nsec = 0;
	int status, ret;

	if (o->latency && !o->policy) {
		fprintf(stderr, "pop53-zonec: --latency needs --policy (the latency file's "
			"columns are the policy's regions)\n");
		return 2;
	}
	diag_init(&d, stderr);
	d.hide_warnings = o->quiet;
	status = load_zones(o, files, n, &d, &z);
	if (status == 1)
		fprintf(stderr, "pop53-zonec: %u errors, no snapshot written\n", d.errors);
	if (status == 0 && (o->ndnssec_keys || o->npublish_keys || o->ncds_keys || o->cds))
		status = zonec_dnssec_load(o, &d, &keys);
	if (status == 0) {
		bool signing[n ? n : 1];
		for (size_t i = 0; i < n; i++)
			signing[i] = zonec_dnssec_signs(keys, z[i]);
		status = add_sections(o, z, n, signing, &d, sec, &nsec);
	}
	/* after the policy's placeholders: the NSEC chain must list them */
	if (status == 0 && keys) {
		status = zonec_dnssec_sign_zones(o, keys, z, n, o->policy ? &sec[0] : NULL, &d,
						 &sec[nsec]);
		if (status)
			fprintf(stderr, "pop53-zonec: DNSSEC signing failed, no snapshot written\n");
		else if (sec[nsec].kind)
			nsec++;
	}
	zonec_dnssec_free(keys);
	if (status) {
		free_sections(sec, nsec);
		free_zones(z, n);
		return status;
	}
	co.sections = sec;
	co.nsections = nsec;
	double t1 = now_ms();
	ret = o->sign_key ? compile_signed(o, z, n, &co, &d)
			  : snap_compile_file(z, n, &co, &d, o->output);
	free_sections(sec, nsec);
	for (size_t i = 0; i < n; i++)
		records += (zone_rrs(z[i], &count), count);
	free_zones(z, n);
	if (ret < 0) {
		fprintf(stderr, "pop53-zonec: %s %s: %s\n", o->sign_key ?
			"no signed snapshot written to" : "cannot write", o->output,
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
	if (ret == 0 && zonec_dnssec_expiry_note(snap_header(s)->min_sig_expiry, stdout) < 0)
		ret = P53_EIO;
	snap_close(s);
	return ret < 0 ? 1 : 0;
}

static const char *rcode_text(unsigned rcode)
{
	static const char *names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
				       "NOTIMP", "REFUSED", "YXDOMAIN" };
	return rcode < 7 ? names[rcode] : "RCODE?";
}

/* Print a response like dig's sections; RDATA names are uncompressed in
 * what the engine writes, so rdata_to_text reads them directly. */
static int print_message(const uint8_t *m, size_t len)
{
	static char text[4 * RDATA_MAXLEN + 64];
	static const char *sec[] = { "answer", "authority", "additional" };
	char name[DNAME_TEXT_MAX], tb[16];
	uint8_t wire[DNAME_MAXLEN];
	size_t pos = 12;

	if (len < 12 || dname_unpack(m, len, &pos, wire) < 0 || (pos += 4) > len)
		return -1;
	printf("status: %s, flags:%s%s%s\n", rcode_text(m[3] & 0xf),
	       m[2] & 0x80 ? " qr" : "", m[2] & 0x04 ? " aa" : "", m[2] & 0x02 ? " tc" : "");
	for (int s = 0; s < 3; s++) {
		unsigned count = (unsigned)m[6 + 2 * s] << 8 | m[7 + 2 * s];
		for (unsigned i = 0; i < count; i++) {
			if (dname_unpack(m, len, &pos, wire) < 0 || pos + 10 > len)
				return -1;
			uint16_t type = (uint16_t)(m[pos] << 8 | m[pos + 1]);
			uint32_t ttl = (uint32_t)m[pos + 4] << 24 | (uint32_t)m[pos + 5] << 16 |
				       (uint32_t)m[pos + 6] << 8 | m[pos + 7];
			uint16_t rdlen = (uint16_t)(m[pos + 8] << 8 | m[pos + 9]);
			if ((pos += 10) + rdlen > len)
				return -1;
			if (type != RRTYPE_OPT) {
				dname_to_text(wire, name, sizeof(name));
				if (rdata_to_text(type, m + pos, rdlen, text, sizeof(text)) < 0)
					strcpy(text, "(unprintable)");
				printf("%-10s %s\t%u\tIN\t%s\t%s\n", sec[s], name, ttl,
				       rrtype_to_text(type, tb, sizeof(tb)), text);
			}
			pos += rdlen;
		}
	}
	return 0;
}

/* A query as a resolver would send it, without EDNS. */
static size_t build_query(uint8_t *q, const uint8_t *wire, size_t len, uint16_t type)
{
	memset(q, 0, 12);
	q[0] = 0x53;
	q[5] = 1;                    /* QDCOUNT */
	memcpy(q + 12, wire, len);
	q[12 + len] = (uint8_t)(type >> 8);
	q[13 + len] = (uint8_t)type;
	q[14 + len] = 0;
	q[15 + len] = RRCLASS_IN;
	return 16 + len;
}

int zonec_lookup(const struct zonec_opts *o, const char *path, const char *name,
		 const char *type)
{
	static uint8_t out[ENGINE_MAX_RESPONSE];
	/* TCP: the whole answer, no truncation, as a lookup tool should show */
	struct engine_client client = { .family = AF_INET, .transport = ENGINE_TCP };
	uint8_t wire[DNAME_MAXLEN], q[DNAME_MAXLEN + 16];
	struct engine_conf conf;
	struct snap *s;
	int t, len;
	size_t n;

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
	engine_conf_init(&conf);
	n = engine_answer(&conf, s, q, build_query(q, wire, (size_t)len, (uint16_t)t),
			  &client, out, sizeof(out), NULL);
	snap_close(s);
	if (n == 0 || print_message(out, n) < 0) {
		fprintf(stderr, "pop53-zonec: the engine gave no usable response\n");
		return 1;
	}
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

/* ---- keys and signatures ------------------------------------------------- */

int zonec_keygen(const struct zonec_opts *o, const char *priv, const char *pub)
{
	uint8_t id[32];
	char hex[65];
	struct diag d;

	diag_init(&d, stderr);
	if (snap_key_generate(priv, pub, &d) < 0 || snap_key_id(pub, id, &d) < 0)
		return 1;
	snap_key_id_hex(id, 32, hex);
	if (!o->quiet)
		printf("private key %s (keep it on the controller, mode 0600)\n"
		       "public key  %s (trusted_keys on every node)\n"
		       "key id      %s\n", priv, pub, hex);
	return 0;
}

int zonec_sign(const struct zonec_opts *o, const char *path)
{
	const char *out = o->output ? o->output : path;
	uint8_t id[32];
	char hex[17];
	struct diag d;

	diag_init(&d, stderr);
	if (snap_sign_file(path, o->sign_key, out, &d) < 0)
		return 1;
	if (!o->quiet && snap_key_id(o->sign_key, id, &d) == 0) {
		snap_key_id_hex(id, 8, hex);
		fprintf(stderr, "%s: signed with key %s\n", out, hex);
	}
	return 0;
}

int zonec_verify(const struct zonec_opts *o, const char *path)
{
	struct snap_keyring *kr = NULL;
	struct snap *s = NULL;
	uint8_t id[32];
	char hex[17];
	struct diag d;
	int status = 1;

	diag_init(&d, stderr);
	if (snap_keyring_load(o->keys, o->nkeys, &d, &kr) < 0)
		return 2;
	if (snap_open(path, &d, &s) < 0)
		goto done;
	diag_init(&d, NULL);
	if (snap_sig_verify(snap_data(s), snap_size(s), kr, &d) < 0) {
		fprintf(stderr, "%s: error: %s\n", path, d.first);
		goto done;
	}
	snap_sig_key_id(snap_data(s), snap_size(s), id);
	snap_key_id_hex(id, 8, hex);
	printf("%s: serial %llu, signature good (key %s)\n", path,
	       (unsigned long long)snap_header(s)->serial, hex);
	status = 0;
done:
	snap_close(s);
	snap_keyring_free(kr);
	return status;
}
