/*
 * dnssec.h — DNSSEC zone signing (RFC 4033-4035, RFC 5155, RFC 9276) with
 * OpenSSL 3: keys, DNSKEY/DS records, NSEC or NSEC3 chains and RRSIGs.
 *
 * Algorithms: 13 (ECDSA P-256 with SHA-256, the default) and 15 (Ed25519).
 * A key file is one text file (docs/dnssec-signing.md): "name: value" lines that
 * describe the key (zone, role, algorithm, key tag, its DNSKEY and DS),
 * then the private key in PKCS#8 PEM. It is secret (mode 0600).
 *
 * This is not the controller's snapshot signature (snap_sign.h): that one
 * authenticates a snapshot to the fleet; this one makes the zone's data
 * verifiable by any validating resolver.
 */
#ifndef POP53_DNSSEC_H
#define POP53_DNSSEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "zone.h"

enum {
	DNSSEC_ALG_ECDSAP256SHA256 = 13,
	DNSSEC_ALG_ED25519 = 15,
};

/* What a key signs: a KSK the DNSKEY RRset (and CDS/CDNSKEY), a ZSK
 * everything else, a CSK both. KSK and CSK carry the SEP flag (257). */
enum dnssec_role { DNSSEC_CSK, DNSSEC_KSK, DNSSEC_ZSK };

#define DNSSEC_SIG_LEN      64   /* both algorithms: r||s or the EdDSA bytes */
#define DNSSEC_PUBKEY_MAX   64
#define DNSSEC_DNSKEY_MAX   (4 + DNSSEC_PUBKEY_MAX)
#define DNSSEC_DS_LEN       (4 + 32)   /* SHA-256 digest (digest type 2) */

/* A signing key: private key, role and the zone it belongs to. Opaque. */
struct dnssec_key;

/* New key pair of algorithm alg (13 or 15) for zone (wire name) with the
 * given role. P53_ENOTSUP for another algorithm (reason in d). Caller
 * frees *out with dnssec_key_free. */
int dnssec_key_generate(uint8_t alg, enum dnssec_role role, const uint8_t *zone,
			struct diag *d, struct dnssec_key **out);

/* Write k as a key file into directory dir (NULL = "."), named
 * K<zone>+<alg>+<tag>.pem, mode 0600, never over an existing file (then
 * P53_EEXIST). The path is copied to path (cap bytes). 0, P53_EEXIST,
 * P53_EIO or P53_ESPACE with the reason in d; nothing is left on error. */
int dnssec_key_write(const struct dnssec_key *k, const char *dir, struct diag *d,
		     char *path, size_t cap);

/* Load a key file (dnssec_key_write's format). Errors name the file and
 * say what is wrong: P53_EIO (unreadable), P53_ESYNTAX (missing or bad
 * header line), P53_ENOTSUP (algorithm or key type), P53_EFORMAT (the
 * header disagrees with the private key). */
int dnssec_key_load(const char *path, struct diag *d, struct dnssec_key **out);

/* Free k. NULL is fine. */
void dnssec_key_free(struct dnssec_key *k);

/* Facts of a key; pointers live as long as k. */
uint8_t dnssec_key_alg(const struct dnssec_key *k);
enum dnssec_role dnssec_key_role(const struct dnssec_key *k);
uint16_t dnssec_key_tag(const struct dnssec_key *k);
const uint8_t *dnssec_key_zone(const struct dnssec_key *k);
/* The DNSKEY RDATA of k; *len gets its length. */
const uint8_t *dnssec_key_dnskey(const struct dnssec_key *k, size_t *len);
/* File the key was loaded from ("(generated)" otherwise). */
const char *dnssec_key_path(const struct dnssec_key *k);

/* Sign msg (len bytes) with k into sig: 64 bytes in DNSSEC wire form
 * (ECDSA as r||s, RFC 6605; Ed25519 as RFC 8080). Safe to call from
 * several threads on one key. 0 or P53_ESIG. */
int dnssec_key_sign(const struct dnssec_key *k, const uint8_t *msg, size_t len,
		    uint8_t sig[DNSSEC_SIG_LEN]);

/* The same for many messages: OpenSSL's contexts made once, not per
 * signature. One signer per thread; it borrows k, which must outlive it.
 * new: 0 or P53_ENOMEM; sign: 0 or P53_ESIG; free takes NULL. */
struct dnssec_signer;
int dnssec_signer_new(const struct dnssec_key *k, struct dnssec_signer **out);
int dnssec_signer_sign(struct dnssec_signer *s, const uint8_t *msg, size_t len,
		       uint8_t sig[DNSSEC_SIG_LEN]);
void dnssec_signer_free(struct dnssec_signer *s);

/* Key tag of any DNSKEY RDATA (RFC 4034 Appendix B). */
uint16_t dnssec_keytag(const uint8_t *dnskey, size_t len);

/* DS RDATA with a SHA-256 digest (RFC 4509) for the DNSKEY RDATA dnskey
 * at owner (wire): key tag, algorithm, 2, digest. Returns DNSSEC_DS_LEN,
 * or P53_EINVAL for RDATA shorter than a DNSKEY. */
int dnssec_ds(const uint8_t *owner, const uint8_t *dnskey, size_t len,
	      uint8_t out[DNSSEC_DS_LEN]);

/* ---- building blocks, public for the tests and for other signers ------ */

/* Lower-case in place the domain names inside rd that RFC 4034 6.2 lists
 * for the canonical form of `type` (NS, CNAME, SOA, MX, SRV, RRSIG, ...;
 * not NSEC, per RFC 6840 5.1). Malformed RDATA is left as it is. */
void dnssec_canonical_rdata(uint16_t type, uint8_t *rd, size_t rdlen);

/* RFC 4034 4.1.2 type bitmap of the n types (any order, duplicates ok)
 * into out (at most 32 windows x 34 bytes). Returns its length. */
size_t dnssec_type_bitmap(const uint16_t *types, size_t n, uint8_t *out);

#define DNSSEC_BITMAP_MAX   (256 * 34)
#define DNSSEC_NSEC3_HASH_LEN 20

/* RFC 5155 5 hash (SHA-1) of the wire name (lower-cased here) with salt
 * and extra iterations. 0 or P53_ENOMEM. */
int dnssec_nsec3_hash(const uint8_t *name, const uint8_t *salt, size_t saltlen,
		      uint16_t iterations, uint8_t out[DNSSEC_NSEC3_HASH_LEN]);

/* The NSEC3 owner name of a hash in zone apex (wire): the hash in
 * base32hex as the first label, then the apex lower-cased, into out
 * (DNAME_MAXLEN bytes). 0, or P53_ERANGE when the apex is too long. */
int dnssec_nsec3_owner(const uint8_t hash[DNSSEC_NSEC3_HASH_LEN], const uint8_t *apex,
		       uint8_t *out);

/* Base32hex (RFC 4648 7), lower case, no padding, of n bytes into out
 * (at least (n * 8 + 4) / 5 + 1 bytes, NUL-terminated). Returns the
 * text length. */
size_t dnssec_base32hex(const uint8_t *in, size_t n, char *out);

/* ---- signing a zone ---------------------------------------------------- */

/* CDS/CDNSKEY at the apex (RFC 7344; the delete form of RFC 8078 4). */
enum dnssec_cds {
	DNSSEC_CDS_NONE,      /* the input's CDS/CDNSKEY, if any, are kept and signed */
	DNSSEC_CDS_KEYS,      /* made for cds_keys, or the signing KSKs/CSKs */
	DNSSEC_CDS_DELETE,    /* "0 0 0 00" / "0 3 0 AA==": ask the parent to drop DS */
};

struct dnssec_sign_opts {
	int nsec3;            /* NSEC3 (RFC 9276: SHA-1, 0 iterations, no salt) */
	int opt_out;          /* NSEC3 opt-out: insecure delegations skipped */
	int64_t inception;    /* seconds since 1970; 0 = now - 1 hour */
	uint32_t validity;    /* seconds; 0 = 14 days */
	uint32_t jitter;      /* +- seconds on the expiration, spread by owner
			       * hash; 0 = 1 day (at most validity / 4) */
	unsigned threads;     /* signing threads; 0 = 2 */
	int64_t now;          /* the clock (tests); 0 = time() */
	/* Rollovers (docs/dnssec-signing.md, "Key rollovers"). */
	struct dnssec_key *const *publish;  /* DNSKEY published, signing nothing
					     * (pre-published or retired) */
	size_t npublish;
	enum dnssec_cds cds;  /* with DNSSEC_CDS_KEYS or _DELETE the input's
			       * CDS/CDNSKEY are dropped and made anew */
	struct dnssec_key *const *cds_keys; /* the KSKs/CSKs the CDS/CDNSKEY
					     * name (each among the keys or
					     * publish); none = the signing ones */
	size_t ncds_keys;
	/* RRsets that stay unsigned though the chain lists their type (the
	 * placeholders of traffic-policy records, whose real answers
	 * policy_sig_build signs): true for those. owner is lower-cased.
	 * NULL = sign everything. */
	bool (*unsigned_set)(void *arg, const uint8_t *owner, uint16_t type);
	void *unsigned_arg;
};

struct dnssec_sign_stats {
	size_t rrsets;        /* RRsets signed (NSEC/NSEC3 included) */
	size_t signatures;    /* RRSIGs made */
	size_t chain;         /* NSEC or NSEC3 records made */
	size_t dropped;       /* RRSIG/NSEC/NSEC3/NSEC3PARAM of the input dropped */
	uint32_t earliest_expiry;  /* the soonest RRSIG expiration */
};

/* Sign zone in (parsed and checked, zone_check) with keys (all for its
 * apex): a new zone *out with the input's data, the DNSKEY RRset (the
 * keys plus any DNSKEY already in the input), the NSEC or NSEC3 chain
 * (and NSEC3PARAM), and RRSIGs over every authoritative RRset: ZSKs/CSKs
 * sign the data, KSKs/CSKs the DNSKEY, CDS and CDNSKEY RRsets; delegation
 * NS and glue are not signed, names below a zone cut or DNAME are left
 * out of the chain (RFC 4035 2.2, 2.3). RRSIG, NSEC, NSEC3 and NSEC3PARAM
 * in the input are dropped and made anew. Records of an RRset all get the
 * RRset's smallest TTL. o->publish keys join the DNSKEY RRset without
 * signing; o->cds adds CDS (SHA-256) and CDNSKEY with the DNSKEY's TTL.
 * stats may be NULL. Errors (reason in d): P53_EZONE (no SOA), P53_EINVAL
 * (no key for the data or for the DNSKEY RRset of an algorithm, a key for
 * another zone, a key both signing and publish-only, a CDS key that is a
 * ZSK or not in the DNSKEY RRset, CDS with no KSK), P53_ESIG, P53_ENOMEM. */
int dnssec_sign_zone(const struct zone *in, struct dnssec_key *const *keys,
		     size_t nkeys, const struct dnssec_sign_opts *o,
		     struct diag *d, struct zone **out,
		     struct dnssec_sign_stats *stats);

/* ---- one RRset at a time ----------------------------------------------- */

/* When dnssec_sign_zone's signatures over owner (wire) begin and end for
 * options o: its inception, and its expiration spread by the owner's hash
 * over the jitter span, so signatures made later for the same owner with
 * the same options expire together with the zone's. */
void dnssec_sign_window(const struct dnssec_sign_opts *o, const uint8_t *owner,
			uint32_t *inception, uint32_t *expiration);

#define DNSSEC_RRSET_MAX    64       /* RRs in one dnssec_sign_rrset call */
#define DNSSEC_RRSIG_MAX    (18 + 255 + DNSSEC_SIG_LEN)   /* RRSIG RDATA */

struct dnssec_rr {
	const uint8_t *rdata;   /* wire RDATA, any case */
	uint16_t rdlen;
};

/* One RRset to sign: RRs in any order, duplicates allowed (dropped). */
struct dnssec_rrset {
	const uint8_t *owner;   /* wire, any case; a wildcard counts as its parent */
	uint16_t type, rclass;
	uint32_t ttl;
	const struct dnssec_rr *rrs;
	size_t n;               /* 1 .. DNSSEC_RRSET_MAX */
};

/* The RRSIG RDATA of key k (with its signer sg) over set, valid from
 * inception to expiration, into out (cap bytes, at least
 * DNSSEC_RRSIG_MAX); the signer name is k's zone. Returns the RDATA's
 * length, or P53_EINVAL (no RR or too many), P53_ESPACE, P53_ENOMEM,
 * P53_ESIG. */
int dnssec_sign_rrset(struct dnssec_signer *sg, const struct dnssec_key *k,
		      const struct dnssec_rrset *set, uint32_t inception,
		      uint32_t expiration, uint8_t *out, size_t cap);

#endif
