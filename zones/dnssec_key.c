/*
 * dnssec_key.c — DNSSEC keys: generation, the key file, DNSKEY/DS RDATA,
 * key tags and signatures in DNSSEC wire form (OpenSSL 3).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "dname.h"
#include "dnssec.h"
#include "error.h"
#include "rdata.h"
#include "snap_sign.h"

#define KEY_FILE_MAX (64u << 10)

struct dnssec_key {
	EVP_PKEY *pk;
	uint8_t alg;
	enum dnssec_role role;
	uint16_t tag;
	uint8_t zone[DNAME_MAXLEN];
	uint8_t dnskey[DNSSEC_DNSKEY_MAX];
	size_t dnskey_len;
	char *path;
};

static const char *const role_names[] = { "CSK", "KSK", "ZSK" };

static const char *alg_name(uint8_t alg)
{
	return alg == DNSSEC_ALG_ED25519 ? "ED25519" : "ECDSAP256SHA256";
}

uint8_t dnssec_key_alg(const struct dnssec_key *k) { return k->alg; }
enum dnssec_role dnssec_key_role(const struct dnssec_key *k) { return k->role; }
uint16_t dnssec_key_tag(const struct dnssec_key *k) { return k->tag; }
const uint8_t *dnssec_key_zone(const struct dnssec_key *k) { return k->zone; }

const uint8_t *dnssec_key_dnskey(const struct dnssec_key *k, size_t *len)
{
	*len = k->dnskey_len;
	return k->dnskey;
}

const char *dnssec_key_path(const struct dnssec_key *k)
{
	return k->path ? k->path : "(generated)";
}

void dnssec_key_free(struct dnssec_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pk);
	free(k->path);
	free(k);
}

uint16_t dnssec_keytag(const uint8_t *rd, size_t len)
{
	uint32_t ac = 0;

	for (size_t i = 0; i < len; i++)
		ac += (i & 1) ? rd[i] : (uint32_t)rd[i] << 8;
	ac += ac >> 16 & 0xffff;
	return (uint16_t)(ac & 0xffff);
}

int dnssec_ds(const uint8_t *owner, const uint8_t *dnskey, size_t len,
	      uint8_t out[DNSSEC_DS_LEN])
{
	uint8_t name[DNAME_MAXLEN];
	size_t nlen = dname_copy_lower(name, owner);
	uint16_t tag = dnssec_keytag(dnskey, len);
	EVP_MD_CTX *ctx;
	int ok;

	if (len < 4)
		return P53_EINVAL;
	out[0] = (uint8_t)(tag >> 8);
	out[1] = (uint8_t)tag;
	out[2] = dnskey[3];
	out[3] = 2;
	ctx = EVP_MD_CTX_new();
	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(ctx, name, nlen) == 1 &&
	     EVP_DigestUpdate(ctx, dnskey, len) == 1 &&
	     EVP_DigestFinal_ex(ctx, out + 4, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? DNSSEC_DS_LEN : P53_ENOMEM;
}

/* ---- the public half ------------------------------------------------------ */

/* Algorithm of pk, or 0 when DNSSEC here has none for it. */
static uint8_t pkey_alg(EVP_PKEY *pk)
{
	char group[32];

	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_ED25519)
		return DNSSEC_ALG_ED25519;
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC &&
	    EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
					   sizeof(group), NULL) == 1 &&
	    (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0))
		return DNSSEC_ALG_ECDSAP256SHA256;
	return 0;
}

/* DNSKEY RDATA and key tag from the private key, flags and algorithm. */
static int fill_public(struct dnssec_key *k)
{
	uint8_t pub[65];
	size_t len = sizeof(pub);
	uint16_t flags = k->role == DNSSEC_ZSK ? 256 : 257;

	if (k->alg == DNSSEC_ALG_ED25519) {
		if (EVP_PKEY_get_raw_public_key(k->pk, pub + 1, &len) != 1 || len != 32)
			return P53_EFORMAT;
		len++;
	} else if (EVP_PKEY_get_octet_string_param(k->pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
						   pub, sizeof(pub), &len) != 1 ||
		   len != 65 || pub[0] != 4) {
		return P53_EFORMAT;
	}
	/* RFC 6605 4: the point without its uncompressed-form byte. */
	k->dnskey[0] = (uint8_t)(flags >> 8);
	k->dnskey[1] = (uint8_t)flags;
	k->dnskey[2] = 3;
	k->dnskey[3] = k->alg;
	memcpy(k->dnskey + 4, pub + 1, len - 1);
	k->dnskey_len = 4 + len - 1;
	k->tag = dnssec_keytag(k->dnskey, k->dnskey_len);
	return 0;
}

int dnssec_key_generate(uint8_t alg, enum dnssec_role role, const uint8_t *zone,
			struct diag *d, struct dnssec_key **out)
{
	struct dnssec_key *k = NULL;
	int ret = P53_ENOTSUP;

	*out = NULL;
	if (alg != DNSSEC_ALG_ECDSAP256SHA256 && alg != DNSSEC_ALG_ED25519) {
		diag_error(d, NULL, 0, 0, "DNSSEC algorithm %u is not supported: "
			   "13 (ECDSAP256SHA256) or 15 (ED25519)", alg);
		goto fail;
	}
	ret = P53_ENOMEM;
	if (!(k = calloc(1, sizeof(*k))))
		goto fail;
	k->alg = alg;
	k->role = role;
	dname_copy_lower(k->zone, zone);
	k->pk = alg == DNSSEC_ALG_ED25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
					  : EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (!k->pk || (ret = fill_public(k)) < 0) {
		diag_error(d, NULL, 0, 0, "cannot generate a %s key", alg_name(alg));
		ret = P53_ESIG;
		goto fail;
	}
	*out = k;
	k = NULL;
	ret = 0;
fail:
	ERR_clear_error();
	dnssec_key_free(k);
	return ret;
}

/* ---- signing ----------------------------------------------------------------- */

/* RFC 6605 4: r and s as two 32-byte big-endian numbers, not DER. */
static int der_to_raw(const uint8_t *der, size_t len, uint8_t sig[DNSSEC_SIG_LEN])
{
	const unsigned char *p = der;
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *ss;
	int ok;

	if (!s)
		return 0;
	ECDSA_SIG_get0(s, &r, &ss);
	ok = BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(ss, sig + 32, 32) == 32;
	ECDSA_SIG_free(s);
	return ok;
}

struct dnssec_signer {
	const struct dnssec_key *k;
	EVP_MD_CTX *md;         /* ECDSA: the SHA-256; Ed25519: DigestSign */
	EVP_PKEY_CTX *pctx;     /* ECDSA: signs digests, set up once */
	EVP_MD *sha256;
};

void dnssec_signer_free(struct dnssec_signer *s)
{
	if (!s)
		return;
	EVP_MD_CTX_free(s->md);
	EVP_PKEY_CTX_free(s->pctx);
	EVP_MD_free(s->sha256);
	free(s);
}

int dnssec_signer_new(const struct dnssec_key *k, struct dnssec_signer **out)
{
	struct dnssec_signer *s = calloc(1, sizeof(*s));
	int ok;

	*out = NULL;
	if (!s)
		return P53_ENOMEM;
	s->k = k;
	ok = (s->md = EVP_MD_CTX_new()) != NULL;
	if (ok && k->alg == DNSSEC_ALG_ECDSAP256SHA256)
		ok = (s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) &&
		     (s->pctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pk, NULL)) &&
		     EVP_PKEY_sign_init(s->pctx) == 1;
	ERR_clear_error();
	if (!ok) {
		dnssec_signer_free(s);
		return P53_ENOMEM;
	}
	*out = s;
	return 0;
}

static int sign_ecdsa(struct dnssec_signer *s, const uint8_t *msg, size_t len,
		      uint8_t sig[DNSSEC_SIG_LEN])
{
	uint8_t digest[32], der[80];
	size_t dlen = sizeof(der);
	unsigned int mdlen;

	return EVP_DigestInit_ex2(s->md, s->sha256, NULL) == 1 &&
	       EVP_DigestUpdate(s->md, msg, len) == 1 &&
	       EVP_DigestFinal_ex(s->md, digest, &mdlen) == 1 && mdlen == 32 &&
	       EVP_PKEY_sign(s->pctx, der, &dlen, digest, 32) == 1 &&
	       der_to_raw(der, dlen, sig);
}

int dnssec_signer_sign(struct dnssec_signer *s, const uint8_t *msg, size_t len,
		       uint8_t sig[DNSSEC_SIG_LEN])
{
	size_t slen = DNSSEC_SIG_LEN;
	int ok;

	if (s->k->alg == DNSSEC_ALG_ED25519)
		/* EdDSA hashes the message twice itself: no digest to keep. */
		ok = EVP_MD_CTX_reset(s->md) == 1 &&
		     EVP_DigestSignInit(s->md, NULL, NULL, NULL, s->k->pk) == 1 &&
		     EVP_DigestSign(s->md, sig, &slen, msg, len) == 1 &&
		     slen == DNSSEC_SIG_LEN;
	else
		ok = sign_ecdsa(s, msg, len, sig);
	if (!ok)
		ERR_clear_error();
	return ok ? 0 : P53_ESIG;
}

int dnssec_key_sign(const struct dnssec_key *k, const uint8_t *msg, size_t len,
		    uint8_t sig[DNSSEC_SIG_LEN])
{
	struct dnssec_signer *s;
	int ret = dnssec_signer_new(k, &s);

	if (ret == 0)
		ret = dnssec_signer_sign(s, msg, len, sig);
	dnssec_signer_free(s);
	return ret < 0 ? P53_ESIG : 0;
}

/* ---- the key file ----------------------------------------------------------- */

static void to_hex(const uint8_t *b, size_t n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* The description lines in front of the PEM (docs/dnssec-signing.md). */
static int header_text(const struct dnssec_key *k, char *out, size_t cap)
{
	char zone[DNAME_TEXT_MAX], rd[256], hex[2 * DNSSEC_DS_LEN + 1];
	uint8_t ds[DNSSEC_DS_LEN];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	if (dname_to_text(k->zone, zone, sizeof(zone)) < 0 ||
	    rdata_to_text(RRTYPE_DNSKEY, k->dnskey, k->dnskey_len, rd, sizeof(rd)) < 0 ||
	    dnssec_ds(k->zone, k->dnskey, k->dnskey_len, ds) < 0)
		return P53_ESPACE;
	to_hex(ds + 4, 32, hex);
	gmtime_r(&now, &tm);
	n = snprintf(out, cap,
		     "; pop53 DNSSEC key (pop53-zonec dnssec-keygen). SECRET: the private\n"
		     "; key follows these lines. docs/dnssec-signing.md describes the format.\n"
		     "zone: %s\nrole: %s\nalgorithm: %u %s\nkey-tag: %u\n"
		     "created: %04d-%02d-%02dT%02d:%02d:%02dZ\n"
		     "dnskey: %s IN DNSKEY %s\nds: %s IN DS %u %u 2 %s\n",
		     zone, role_names[k->role], k->alg, alg_name(k->alg), k->tag,
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, zone, rd, zone, k->tag, k->alg, hex);
	return n > 0 && (size_t)n < cap ? n : P53_ESPACE;
}

/* Header then PEM, into a malloc'd buffer. */
static int file_text(const struct dnssec_key *k, char **out, size_t *len)
{
	char head[2048], *pem, *buf;
	BIO *b = BIO_new(BIO_s_mem());
	long plen;
	int hlen = header_text(k, head, sizeof(head));

	*out = NULL;
	if (hlen < 0 || !b || PEM_write_bio_PrivateKey(b, k->pk, NULL, NULL, 0, NULL, NULL) != 1 ||
	    (plen = BIO_get_mem_data(b, &pem)) <= 0 ||
	    !(buf = malloc((size_t)hlen + (size_t)plen))) {
		BIO_free(b);
		ERR_clear_error();
		return hlen < 0 ? hlen : P53_ENOMEM;
	}
	memcpy(buf, head, (size_t)hlen);
	memcpy(buf + hlen, pem, (size_t)plen);
	*out = buf;
	*len = (size_t)hlen + (size_t)plen;
	BIO_free(b);
	return 0;
}

/* A file name from the zone's text without anything a path could take
 * for a directory. */
static int key_file_name(const struct dnssec_key *k, const char *dir, char *path, size_t cap)
{
	char zone[DNAME_TEXT_MAX];
	int n;

	if (dname_to_text(k->zone, zone, sizeof(zone)) < 0)
		return P53_ESPACE;
	for (char *c = zone; *c; c++)
		if (*c == '/' || *c == '\\' || (unsigned char)*c < 0x21)
			*c = '_';
	n = snprintf(path, cap, "%s/K%s+%03u+%05u.pem", dir ? dir : ".", zone, k->alg, k->tag);
	return n > 0 && (size_t)n < cap ? 0 : P53_ESPACE;
}

/* Temporary file, then link(): the key appears whole or not at all, and
 * an existing key is never replaced. */
static int write_new_file(const char *path, const char *text, size_t len, struct diag *d)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + sizeof(".tmpXXXXXX"));
	int fd = -1, ret = P53_EIO;

	if (!tmp)
		return P53_ENOMEM;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmpXXXXXX", sizeof(".tmpXXXXXX"));
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		diag_error(d, path, 0, 0, "cannot create: %s", strerror(errno));
		goto fail;
	}
	if (fchmod(fd, 0600) < 0 || snap_fd_write(fd, (const uint8_t *)text, len) < 0 ||
	    link(tmp, path) < 0) {
		if (errno == EEXIST)
			ret = P53_EEXIST;
		diag_error(d, path, 0, 0, "cannot write: %s", strerror(errno));
	} else {
		ret = 0;
	}
	unlink(tmp);
fail:
	if (fd >= 0)
		close(fd);
	free(tmp);
	return ret;
}

int dnssec_key_write(const struct dnssec_key *k, const char *dir, struct diag *d,
		     char *path, size_t cap)
{
	char *text = NULL;
	size_t len = 0;
	int ret;

	if ((ret = key_file_name(k, dir, path, cap)) < 0) {
		diag_error(d, dir, 0, 0, "key file name too long");
		return ret;
	}
	if ((ret = file_text(k, &text, &len)) < 0) {
		diag_error(d, path, 0, 0, "cannot encode the key: %s", p53_strerror(ret));
		return ret;
	}
	ret = write_new_file(path, text, len, d);
	OPENSSL_cleanse(text, len);
	free(text);
	return ret;
}

/* ---- loading -------------------------------------------------------------------- */

struct header {
	uint8_t zone[DNAME_MAXLEN];
	int has_zone, role, alg, tag;   /* -1 = not given */
};

static int parse_role(const char *v, size_t n)
{
	for (int r = 0; r < 3; r++)
		if (strlen(role_names[r]) == n && strncasecmp(v, role_names[r], n) == 0)
			return r;
	return -1;
}

/* One "name: value" line; line is 1-based for messages. */
static int header_line(struct header *h, const char *s, size_t n, const char *path,
		       unsigned line, struct diag *d)
{
	const char *colon = memchr(s, ':', n), *v;
	size_t kl, vl;

	if (!colon) {
		diag_error(d, path, line, 1, "expected 'name: value' before the PEM key");
		return P53_ESYNTAX;
	}
	kl = (size_t)(colon - s);
	for (v = colon + 1; v < s + n && (*v == ' ' || *v == '\t'); v++)
		;
	vl = (size_t)(s + n - v);
	while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r'))
		vl--;
	if (kl == 4 && !memcmp(s, "zone", 4)) {
		h->has_zone = dname_from_text(v, vl, NULL, h->zone) > 0;
		if (!h->has_zone) {
			diag_error(d, path, line, 7, "zone: '%.*s' is not an absolute domain name",
				   (int)vl, v);
			return P53_ESYNTAX;
		}
	} else if (kl == 4 && !memcmp(s, "role", 4)) {
		if ((h->role = parse_role(v, vl)) < 0) {
			diag_error(d, path, line, 7, "role: '%.*s' is not KSK, ZSK or CSK",
				   (int)vl, v);
			return P53_ESYNTAX;
		}
	} else if (kl == 9 && !memcmp(s, "algorithm", 9)) {
		h->alg = atoi(v);
	} else if (kl == 7 && !memcmp(s, "key-tag", 7)) {
		h->tag = atoi(v);
	}
	/* Other lines (created, dnskey, ds) are for people. */
	return 0;
}

/* The lines up to the PEM; *pem gets where it starts. */
static int parse_header(const char *text, size_t len, const char *path, struct diag *d,
			struct header *h, const char **pem)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;
	int ret;

	*h = (struct header){ .role = -1, .alg = -1, .tag = -1 };
	for (; p < end; p++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		line++;
		if (n >= 10 && !memcmp(p, "-----BEGIN", 10))
			break;
		if (n && *p != ';' && *p != '#' &&
		    (ret = header_line(h, p, n, path, line, d)) < 0)
			return ret;
		p += n;
	}
	*pem = p;
	if (p >= end) {
		diag_error(d, path, 0, 0, "no private key (-----BEGIN PRIVATE KEY-----): "
			   "not a pop53 DNSSEC key file");
		return P53_ESYNTAX;
	}
	if (!h->has_zone || h->role < 0) {
		diag_error(d, path, 0, 0, "missing the '%s:' line (docs/dnssec-signing.md)",
			   h->has_zone ? "role" : "zone");
		return P53_ESYNTAX;
	}
	return 0;
}

static int no_password(char *buf, int size, int rw, void *u)
{
	(void)buf; (void)size; (void)rw; (void)u;
	return -1;
}

static int read_pem(const char *pem, size_t len, const char *path, struct diag *d,
		    EVP_PKEY **pk)
{
	BIO *b = BIO_new_mem_buf(pem, (int)len);

	*pk = b ? PEM_read_bio_PrivateKey(b, NULL, no_password, NULL) : NULL;
	BIO_free(b);
	ERR_clear_error();
	if (!*pk) {
		diag_error(d, path, 0, 0, "the PEM block is not a private key (or is "
			   "encrypted, which is not supported)");
		return P53_EFORMAT;
	}
	return 0;
}

/* The header's claims against the key itself. */
static int check_header(const struct header *h, struct dnssec_key *k, const char *path,
			struct diag *d)
{
	if (!(k->alg = pkey_alg(k->pk))) {
		diag_error(d, path, 0, 0, "a %s key: DNSSEC signing supports ECDSA P-256 "
			   "(algorithm 13) and Ed25519 (15)",
			   EVP_PKEY_get0_type_name(k->pk) ? EVP_PKEY_get0_type_name(k->pk) : "?");
		return P53_ENOTSUP;
	}
	if (h->alg >= 0 && h->alg != k->alg) {
		diag_error(d, path, 0, 0, "algorithm: %d, but the private key is algorithm %u "
			   "(%s)", h->alg, k->alg, alg_name(k->alg));
		return h->alg == 13 || h->alg == 15 ? P53_EFORMAT : P53_ENOTSUP;
	}
	if (fill_public(k) < 0) {
		diag_error(d, path, 0, 0, "cannot derive the public key");
		return P53_EFORMAT;
	}
	if (h->tag >= 0 && h->tag != k->tag) {
		diag_error(d, path, 0, 0, "key-tag: %d, but the key's DNSKEY has key tag %u "
			   "(edited role or wrong key?)", h->tag, k->tag);
		return P53_EFORMAT;
	}
	return 0;
}

static int read_key_file(const char *path, struct diag *d, char **text, size_t *len)
{
	uint8_t *buf;
	int ret = snap_file_read(path, d, &buf, len);

	if (ret < 0)
		return ret;
	if (*len > KEY_FILE_MAX) {
		diag_error(d, path, 0, 0, "%zu bytes, too large for a key file", *len);
		free(buf);
		return P53_EFORMAT;
	}
	*text = (char *)buf;
	return 0;
}

int dnssec_key_load(const char *path, struct diag *d, struct dnssec_key **out)
{
	struct dnssec_key *k = NULL;
	struct header h;
	const char *pem;
	char *text = NULL;
	size_t len = 0;
	int ret;

	*out = NULL;
	if ((ret = read_key_file(path, d, &text, &len)) < 0 ||
	    (ret = parse_header(text, len, path, d, &h, &pem)) < 0)
		goto fail;
	ret = P53_ENOMEM;
	if (!(k = calloc(1, sizeof(*k))) || !(k->path = strdup(path)))
		goto fail;
	k->role = (enum dnssec_role)h.role;
	dname_copy_lower(k->zone, h.zone);
	if ((ret = read_pem(pem, len - (size_t)(pem - text), path, d, &k->pk)) < 0 ||
	    (ret = check_header(&h, k, path, d)) < 0)
		goto fail;
	*out = k;
	k = NULL;
fail:
	if (text)
		OPENSSL_cleanse(text, len);
	free(text);
	dnssec_key_free(k);
	return ret;
}
