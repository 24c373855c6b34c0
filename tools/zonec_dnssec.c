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
#include "policy_sig.h"
#include "rdata.h"
#include "snap.h"
#include "snap_format.h"
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

/* The keys of one signing run: signing, publish-only, named by CDS. */
struct keyset {
	struct dnssec_key *sign[16], *publish[16], *cds[16];
	size_t nsign, npublish, ncds;
};

static int load_list(const char *const *paths, size_t n, struct diag *d,
		     struct dnssec_key **keys, size_t *nkeys)
{
	for (*nkeys = 0; *nkeys < n; ++*nkeys)
		if (dnssec_key_load(paths[*nkeys], d, &keys[*nkeys]) < 0)
			return -1;
	return 0;
}

static int load_keyset(const struct zonec_opts *o, const char *const *sign, size_t nsign,
		       struct diag *d, struct keyset *ks)
{
	if (load_list(sign, nsign, d, ks->sign, &ks->nsign) < 0 ||
	    load_list(o->publish_keys, o->npublish_keys, d, ks->publish, &ks->npublish) < 0 ||
	    load_list(o->cds_keys, o->ncds_keys, d, ks->cds, &ks->ncds) < 0)
		return -1;
	return 0;
}

static void free_keyset(struct keyset *ks)
{
	for (size_t i = 0; i < ks->nsign; i++)
		dnssec_key_free(ks->sign[i]);
	for (size_t i = 0; i < ks->npublish; i++)
		dnssec_key_free(ks->publish[i]);
	for (size_t i = 0; i < ks->ncds; i++)
		dnssec_key_free(ks->cds[i]);
	*ks = (struct keyset){ 0 };
}

static void print_stats(const struct zonec_opts *o, const char *what,
			const struct dnssec_sign_stats *st, double ms)
{
	char t[64];

	if (o->quiet)
		return;
	time_text(st->earliest_expiry, t, sizeof(t));
	if (st->dropped)
		fprintf(stderr, "%s: dropped the input's %zu RRSIG/NSEC/NSEC3/NSEC3PARAM%s "
			"records (made anew)\n", what, st->dropped,
			o->cds ? "/CDS/CDNSKEY" : "");
	fprintf(stderr, "%s: %zu RRsets signed, %zu RRSIGs, %zu %s records in %.0f ms; "
		"earliest RRSIG expiration %s\n", what, st->rrsets, st->signatures,
		st->chain, o->nsec3 ? "NSEC3" : "NSEC", ms, t);
}

/* --cds-key implies --cds; --cds-delete excludes both. */
static int cds_mode(const struct zonec_opts *o, enum dnssec_cds *mode)
{
	int want = o->cds | (o->ncds_keys ? 1 : 0);

	if (want == 3) {
		fprintf(stderr, "pop53-zonec: --cds-delete asks the parent to remove the DS; "
			"it excludes --cds and --cds-key\n");
		return 2;
	}
	*mode = want == 2 ? DNSSEC_CDS_DELETE : want ? DNSSEC_CDS_KEYS : DNSSEC_CDS_NONE;
	return 0;
}

static int sign_one(const struct zonec_opts *o, struct zone *in, const struct keyset *ks,
		    int64_t now, struct policy *p, struct diag *d, struct zone **out,
		    const char *what)
{
	struct dnssec_sign_opts so;
	struct dnssec_sign_stats st = { 0 };
	double t0 = now_ms();
	int status = sign_opts(o, &so);

	if (status || (status = cds_mode(o, &so.cds)))
		return status;
	so.now = now;
	if (p) {
		so.unsigned_set = policy_sig_placeholder;
		so.unsigned_arg = p;
	}
	so.publish = ks->publish;
	so.npublish = ks->npublish;
	so.cds_keys = ks->cds;
	so.ncds_keys = ks->ncds;
	if (dnssec_sign_zone(in, ks->sign, ks->nsign, &so, d, out, &st) < 0)
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
	struct keyset ks = { 0 };
	struct zone *in = NULL, *out = NULL;
	struct diag d;
	int status = 1;

	diag_init(&d, stderr);
	d.hide_warnings = o->quiet;
	if (load_keyset(o, o->keys, o->nkeys, &d, &ks) < 0 ||
	    zone_parse_file(file, NULL, &d, &in) < 0 || zone_check(in, NULL, &d) < 0)
		goto done;
	if ((status = sign_one(o, in, &ks, 0, NULL, &d, &out, o->output ? o->output : file)))
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
	free_keyset(&ks);
	return status;
}

/* ---- compile --dnssec-key -------------------------------------------------------- */

/* The keys of src for zone apex into dst (borrowed), marking them used. */
static size_t pick(struct dnssec_key *const *src, size_t n, const uint8_t *apex,
		   struct dnssec_key **dst, int *used)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (dname_equal(dnssec_key_zone(src[i]), apex)) {
			dst[k++] = src[i];
			used[i] = 1;
		}
	return k;
}

/* A key whose zone is not signed here would be silently ignored. */
static int check_used(struct dnssec_key *const *keys, const char *const *paths,
		      const int *used, size_t n, struct diag *d)
{
	char name[DNAME_TEXT_MAX];

	for (size_t k = 0; k < n; k++) {
		if (used[k])
			continue;
		dname_to_text(dnssec_key_zone(keys[k]), name, sizeof(name));
		diag_error(d, paths[k], 0, 0, "a key for zone %s, which is not among the "
			   "files compiled or has no --dnssec-key", name);
		return -1;
	}
	return 0;
}

struct zonec_keys {
	struct keyset ks;
	int64_t now;            /* one clock for the zones and the policy answers */
};

int zonec_dnssec_load(const struct zonec_opts *o, struct diag *d, struct zonec_keys **out)
{
	struct zonec_keys *k;

	*out = NULL;
	if (!o->ndnssec_keys) {
		fprintf(stderr, "pop53-zonec: --dnssec-publish-key, --cds, --cds-key and "
			"--cds-delete need --dnssec-key\n");
		return 2;
	}
	if (!(k = calloc(1, sizeof(*k))))
		return 1;
	k->now = (int64_t)time(NULL);
	if (load_keyset(o, o->dnssec_keys, o->ndnssec_keys, d, &k->ks) < 0) {
		zonec_dnssec_free(k);
		return 1;
	}
	*out = k;
	return 0;
}

bool zonec_dnssec_signs(const struct zonec_keys *k, const struct zone *z)
{
	const uint8_t *apex = zone_origin(z);

	for (size_t i = 0; k && apex && i < k->ks.nsign; i++)
		if (dname_equal(dnssec_key_zone(k->ks.sign[i]), apex))
			return true;
	return false;
}

void zonec_dnssec_free(struct zonec_keys *k)
{
	if (!k)
		return;
	free_keyset(&k->ks);
	free(k);
}

/* Sign the answers of the policy records of the zones just signed. */
static int sign_policy(const struct zonec_opts *o, struct zonec_keys *k,
		       struct policy_sig_zone *pz, size_t n, const struct snap_section_in *policy,
		       struct diag *d, struct snap_section_in *sig)
{
	struct dnssec_sign_opts so;
	struct policy_sig_stats st;
	uint8_t *blob;
	size_t len;
	double t0 = now_ms();
	int status = sign_opts(o, &so);

	if (status)
		return status;
	so.now = k->now;
	if (policy_sig_build(policy->data, policy->len, pz, n, &so, d, &blob, &len, &st) < 0)
		return 1;
	if (!blob)
		return 0;
	sig->kind = SNAP_SECT_POLICY_SIG;
	sig->data = blob;
	sig->len = len;
	if (!o->quiet)
		fprintf(stderr, "policy answers: %zu records in signed zones, %zu answer RRsets "
			"and %zu NODATA denials signed, %zu RRSIGs in %.0f ms\n", st.records,
			st.sets, st.empty, st.signatures, now_ms() - t0);
	return 0;
}

int zonec_dnssec_sign_zones(const struct zonec_opts *o, struct zonec_keys *k, struct zone **z,
			    size_t n, const struct snap_section_in *policy, struct diag *d,
			    struct snap_section_in *sig)
{
	struct keyset mine = { 0 };
	struct policy_sig_zone pz[n ? n : 1];
	struct dnssec_key *zkeys[n ? n : 1][16];
	int used[3][16] = { { 0 } };
	struct policy *p = NULL;
	int status = 1;

	memset(pz, 0, sizeof(pz));
	if (policy && policy_open(policy->data, policy->len, d, &p) < 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		struct zone *signed_zone;
		char name[DNAME_TEXT_MAX];
		const uint8_t *apex = zone_origin(z[i]);
		pz[i].zone = z[i];
		if (!(mine.nsign = pick(k->ks.sign, k->ks.nsign, apex, mine.sign, used[0])))
			continue;
		mine.npublish = pick(k->ks.publish, k->ks.npublish, apex, mine.publish, used[1]);
		mine.ncds = pick(k->ks.cds, k->ks.ncds, apex, mine.cds, used[2]);
		dname_to_text(apex, name, sizeof(name));
		if ((status = sign_one(o, z[i], &mine, k->now, p, d, &signed_zone, name)))
			goto done;
		status = 1;
		zone_free(z[i]);
		z[i] = signed_zone;
		pz[i].zone = signed_zone;
		memcpy(zkeys[i], mine.sign, mine.nsign * sizeof(mine.sign[0]));
		pz[i].keys = zkeys[i];
		pz[i].nkeys = mine.nsign;
	}
	if (check_used(k->ks.sign, o->dnssec_keys, used[0], k->ks.nsign, d) < 0 ||
	    check_used(k->ks.publish, o->publish_keys, used[1], k->ks.npublish, d) < 0 ||
	    check_used(k->ks.cds, o->cds_keys, used[2], k->ks.ncds, d) < 0)
		goto done;
	status = policy ? sign_policy(o, k, pz, n, policy, d, sig) : 0;
done:
	policy_close(p);
	return status;
}

/* ---- dump ---------------------------------------------------------------------------- */

int zonec_dnssec_expiry_note(uint32_t expiry, FILE *f)
{
	char t[64];
	time_t tt = (time_t)expiry;
	struct tm tm;

	if (!expiry)
		return 0;
	gmtime_r(&tt, &tm);
	strftime(t, sizeof(t), "%Y-%m-%d %H:%M:%S UTC (%Y%m%d%H%M%S)", &tm);
	return fprintf(f, "; earliest RRSIG expiration %s\n", t) < 0 ? -1 : 0;
}
