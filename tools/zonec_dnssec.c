/*
 * zonec_dnssec.c — pop53-zonec's DNSSEC commands: dnssec-keygen,
 * dnssec-sign, and the signing step of compile --dnssec-key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "dname.h"
#include "dnssec.h"
#include "error.h"
#include "rdata.h"
#include "snap_sign.h"
#include "zone.h"
#include "zonec.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void time_text(uint32_t t, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* --inception: RRSIG's own forms, YYYYMMDDHHmmSS or seconds since 1970. */
static int parse_inception(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	char *end;

	if (strlen(s) == 14 && strspn(s, "0123456789") == 14 &&
	    sscanf(s, "%4d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) == 6) {
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		*out = (int64_t)timegm(&tm);
		return *out > 0 ? 0 : -1;
	}
	*out = strtoll(s, &end, 10);
	return *s && !*end && *out > 0 && *out < UINT32_MAX ? 0 : -1;
}

static int sign_opts(const struct zonec_opts *o, struct dnssec_sign_opts *so)
{
	*so = (struct dnssec_sign_opts){ .nsec3 = o->nsec3, .opt_out = o->opt_out,
					 .validity = o->validity_days * 86400u,
					 .threads = o->threads };
	if (o->opt_out && !o->nsec3) {
		fprintf(stderr, "pop53-zonec: --opt-out needs --nsec3\n");
		return 2;
	}
	if (o->validity_days > 365 * 10) {
		fprintf(stderr, "pop53-zonec: --validity %u days: at most 3650\n",
			o->validity_days);
		return 2;
	}
	if (o->inception && parse_inception(o->inception, &so->inception) < 0) {
		fprintf(stderr, "pop53-zonec: --inception wants YYYYMMDDHHmmSS or seconds "
			"since 1970, got '%s'\n", o->inception);
		return 2;
	}
	return 0;
}

/* ---- dnssec-keygen --------------------------------------------------------- */

static void print_key(const struct dnssec_key *k, const char *path)
{
	static const char *const roles[] = { "CSK", "KSK", "ZSK" };
	char zone[DNAME_TEXT_MAX], text[512], hex[2 * DNSSEC_DS_LEN + 1];
	uint8_t ds[DNSSEC_DS_LEN];
	size_t len;
	const uint8_t *rd = dnssec_key_dnskey(k, &len);

	dname_to_text(dnssec_key_zone(k), zone, sizeof(zone));
	if (rdata_to_text(RRTYPE_DNSKEY, rd, len, text, sizeof(text)) < 0)
		strcpy(text, "?");
	dnssec_ds(dnssec_key_zone(k), rd, len, ds);
	for (size_t i = 4; i < DNSSEC_DS_LEN; i++)
		snprintf(hex + 2 * (i - 4), 3, "%02X", ds[i]);
	printf("; %s: %s, algorithm %u, key tag %u (secret, mode 0600)\n", path,
	       roles[dnssec_key_role(k)], dnssec_key_alg(k), dnssec_key_tag(k));
	printf("%s\tIN\tDNSKEY\t%s\n", zone, text);
	printf("%s\tIN\tDS\t%u %u 2 %s\n", zone, dnssec_key_tag(k), dnssec_key_alg(k), hex);
}

int zonec_dnssec_keygen(const struct zonec_opts *o, const char *zone)
{
	uint8_t wire[DNAME_MAXLEN];
	char path[4096];
	struct dnssec_key *k = NULL;
	struct diag d;
	int ret = P53_EEXIST;

	diag_init(&d, stderr);
	if (dname_from_text(zone, strlen(zone), (const uint8_t *)"", wire) < 0) {
		fprintf(stderr, "pop53-zonec: '%s' is not a domain name\n", zone);
		return 2;
	}
	/* A new key whose tag a file in dir has already: make another one. */
	for (int tries = 0; ret == P53_EEXIST && tries < 8; tries++) {
		struct diag quiet;
		dnssec_key_free(k);
		if (dnssec_key_generate(o->alg ? (uint8_t)o->alg : DNSSEC_ALG_ECDSAP256SHA256,
					(enum dnssec_role)o->role, wire, &d, &k) < 0)
			return o->alg && o->alg != 13 && o->alg != 15 ? 2 : 1;
		diag_init(&quiet, NULL);
		ret = dnssec_key_write(k, o->dir, tries < 7 ? &quiet : &d, path, sizeof(path));
		if (ret < 0 && ret != P53_EEXIST)
			ret = dnssec_key_write(k, o->dir, &d, path, sizeof(path));
	}
	if (ret == 0)
		print_key(k, path);
	dnssec_key_free(k);
	return ret == 0 ? 0 : 1;
}

/* ---- dnssec-sign ---------------------------------------------------------------- */

static int load_keys(const char *const *paths, size_t n, struct diag *d,
		     struct dnssec_key **keys)
{
	for (size_t i = 0; i < n; i++)
		if (dnssec_key_load(paths[i], d, &keys[i]) < 0)
			return -1;
	return 0;
}

static void free_keys(struct dnssec_key **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dnssec_key_free(keys[i]);
}

static void print_stats(const struct zonec_opts *o, const char *what,
			const struct dnssec_sign_stats *st, double ms)
{
	char t[64];

	if (o->quiet)
		return;
	time_text(st->earliest_expiry, t, sizeof(t));
	if (st->dropped)
		fprintf(stderr, "%s: dropped the input's %zu RRSIG/NSEC/NSEC3/NSEC3PARAM "
			"records (made anew)\n", what, st->dropped);
	fprintf(stderr, "%s: %zu RRsets signed, %zu RRSIGs, %zu %s records in %.0f ms; "
		"earliest RRSIG expiration %s\n", what, st->rrsets, st->signatures,
		st->chain, o->nsec3 ? "NSEC3" : "NSEC", ms, t);
}

static int sign_one(const struct zonec_opts *o, struct zone *in, struct dnssec_key **keys,
		    size_t nkeys, struct diag *d, struct zone **out, const char *what)
{
	struct dnssec_sign_opts so;
	struct dnssec_sign_stats st = { 0 };
	double t0 = now_ms();
	int status = sign_opts(o, &so);

	if (status)
		return status;
	if (dnssec_sign_zone(in, keys, nkeys, &so, d, out, &st) < 0)
		return 1;
	print_stats(o, what, &st, now_ms() - t0);
	return 0;
}

/* The zone as text, then written whole (temporary file and rename). */
static int write_zone(const struct zone *z, const char *path, struct diag *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = path ? open_memstream(&text, &len) : stdout;
	int ret;

	if (!f)
		return P53_ENOMEM;
	ret = zone_print(z, f);
	if (!path)
		return ret < 0 || fflush(stdout) != 0 ? P53_EIO : 0;
	if (fclose(f) != 0 && ret == 0)
		ret = P53_ENOMEM;
	if (ret == 0)
		ret = snap_file_write(path, (const uint8_t *)text, len, d);
	free(text);
	return ret;
}

int zonec_dnssec_sign(const struct zonec_opts *o, const char *file)
{
	struct dnssec_key *keys[16] = { 0 };
	struct zone *in = NULL, *out = NULL;
	struct diag d;
	int status = 1;

	diag_init(&d, stderr);
	d.hide_warnings = o->quiet;
	if (load_keys(o->keys, o->nkeys, &d, keys) < 0 ||
	    zone_parse_file(file, NULL, &d, &in) < 0 || zone_check(in, NULL, &d) < 0)
		goto done;
	if ((status = sign_one(o, in, keys, o->nkeys, &d, &out, o->output ? o->output : file)))
		goto done;
	if (write_zone(out, o->output, &d) < 0) {
		status = 1;
		fprintf(stderr, "pop53-zonec: cannot write the signed zone%s%s\n",
			o->output ? " to " : "", o->output ? o->output : "");
	}
done:
	if (status && o->output)
		fprintf(stderr, "pop53-zonec: nothing written to %s\n", o->output);
	zone_free(in);
	zone_free(out);
	free_keys(keys, o->nkeys);
	return status;
}

/* ---- compile --dnssec-key -------------------------------------------------------- */

int zonec_dnssec_sign_zones(const struct zonec_opts *o, struct zone **z, size_t n,
			    struct diag *d)
{
	struct dnssec_key *keys[16] = { 0 }, *mine[16];
	int used[16] = { 0 };
	int status = 1;

	if (load_keys(o->dnssec_keys, o->ndnssec_keys, d, keys) < 0)
		goto done;
	for (size_t i = 0; i < n; i++) {
		struct zone *signed_zone;
		char name[DNAME_TEXT_MAX];
		size_t nmine = 0;
		for (size_t k = 0; k < o->ndnssec_keys; k++)
			if (dname_equal(dnssec_key_zone(keys[k]), zone_origin(z[i]))) {
				mine[nmine++] = keys[k];
				used[k] = 1;
			}
		if (!nmine)
			continue;
		dname_to_text(zone_origin(z[i]), name, sizeof(name));
		if (sign_one(o, z[i], mine, nmine, d, &signed_zone, name))
			goto done;
		zone_free(z[i]);
		z[i] = signed_zone;
	}
	for (size_t k = 0; k < o->ndnssec_keys; k++) {
		char name[DNAME_TEXT_MAX];
		if (used[k])
			continue;
		dname_to_text(dnssec_key_zone(keys[k]), name, sizeof(name));
		diag_error(d, o->dnssec_keys[k], 0, 0, "a key for zone %s, which is not "
			   "among the files compiled", name);
		goto done;
	}
	status = 0;
done:
	free_keys(keys, o->ndnssec_keys);
	return status;
}

/* ---- dump ---------------------------------------------------------------------------- */

int zonec_dnssec_expiry_note(const char *text, size_t len, FILE *f)
{
	static const char tag[] = "\tRRSIG\t";
	const char *p = text, *end = text + len;
	char best[16] = "", exp[16];
	size_t count = 0;

	while (p < end && (p = memmem(p, (size_t)(end - p), tag, sizeof(tag) - 1))) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p += sizeof(tag) - 1;
		/* TYPE ALG LABELS TTL EXPIRATION: YYYYMMDDHHmmSS sorts as text */
		if (sscanf(p, "%*s %*u %*u %*u %14[0-9]", exp) == 1 && strlen(exp) == 14) {
			if (!count++ || strcmp(exp, best) < 0)
				strcpy(best, exp);
		}
		p = nl ? nl : end;
	}
	if (!count)
		return 0;
	return fprintf(f, "; earliest RRSIG expiration %.4s-%.2s-%.2s %.2s:%.2s:%.2s UTC "
		       "(%s), of %zu RRSIGs\n", best, best + 4, best + 6, best + 8,
		       best + 10, best + 12, best, count) < 0 ? -1 : 0;
}
