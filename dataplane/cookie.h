/*
 * cookie.h — DNS Cookies (RFC 7873) with interoperable server cookies
 * (RFC 9018): SipHash-2-4, server cookie generation and verification with a
 * current and a previous secret, and the holder through which the control
 * plane rotates secrets while the dataplane reads them.
 *
 * Pure C, no allocation, no system calls: the caller passes the time.
 *
 * Server cookie (RFC 9018 section 4), 16 bytes:
 *   Version (1) = 1 | Reserved (3) = 0 | Timestamp (4, Unix seconds,
 *   serial number arithmetic) | Hash (8) =
 *   SipHash-2-4(secret, Client Cookie | Version | Reserved | Timestamp |
 *   Client IP (4 or 16 bytes))
 *
 * Rotation without invalidating cookies mid-rotation (RFC 9018 section
 * 5): a new secret becomes `current`, the old one `previous`. Cookies
 * are issued with `current` only and verified with either, so every
 * cookie handed out before the rotation stays valid until it expires (one
 * hour); the previous secret can be dropped after that.
 */
#ifndef POP53_COOKIE_H
#define POP53_COOKIE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define COOKIE_SECRET_LEN   16
#define COOKIE_CLIENT_LEN   8
#define COOKIE_SERVER_LEN   16      /* RFC 9018 version 1 */
#define COOKIE_SERVER_MIN   8       /* RFC 7873 4.2: server cookie 8..32 */
#define COOKIE_SERVER_MAX   32
#define COOKIE_VERSION      1
#define COOKIE_MAX_AGE      3600    /* RFC 9018 4.3: valid for one hour ... */
#define COOKIE_MAX_FUTURE   300     /* ... and up to 5 minutes ahead */
#define COOKIE_RENEW_AGE    1800    /* re-issued when older than 30 minutes */

/* SipHash-2-4 of msg (len bytes) with a 16-byte key, as the paper defines
 * it (the 64-bit result; its little-endian bytes are the wire form). */
uint64_t cookie_siphash24(const uint8_t key[16], const void *msg, size_t len);

/* The server's secrets. `previous` verifies only; has_previous says
 * whether it is set. */
struct cookie_secrets {
	uint8_t current[COOKIE_SECRET_LEN];
	uint8_t previous[COOKIE_SECRET_LEN];
	uint8_t has_previous;
};

/*
 * Where the answering threads find the secrets: one pointer the control
 * plane swaps with one atomic store. NULL means cookies are off (the
 * COOKIE option is then ignored, as by a server that does not implement
 * it). Readers load it once per query; the control plane may free the
 * secrets it replaced only after every reader has passed a quiescent
 * state (dp_sync for the DPDK workers, the kernel server's grace period
 * for its threads).
 */
struct cookie_box {
	_Atomic(const struct cookie_secrets *) secrets;
};

/* The secrets readers use now (NULL: cookies off). */
static inline const struct cookie_secrets *cookie_box_get(const struct cookie_box *b)
{
	return b ? atomic_load_explicit(&((struct cookie_box *)b)->secrets,
					memory_order_acquire) : NULL;
}

/* Publish s (owned by the caller, NULL turns cookies off); returns the
 * secrets published before, to be freed after a grace period. */
const struct cookie_secrets *cookie_box_set(struct cookie_box *b,
					    const struct cookie_secrets *s);

/* Rotate: out = { current: fresh, previous: old->current } (old may be
 * NULL: no previous). */
void cookie_secrets_rotate(struct cookie_secrets *out,
			   const struct cookie_secrets *old,
			   const uint8_t fresh[COOKIE_SECRET_LEN]);

/* Parse a secret given as 32 hex digits. 0, or P53_ESYNTAX. */
int cookie_secret_parse(const char *hex, uint8_t out[COOKIE_SECRET_LEN]);

/*
 * Write the 16-byte server cookie for client cookie `client` from client
 * address addr (alen 4 or 16 bytes) at Unix time now, with secret.
 */
void cookie_make(const uint8_t secret[COOKIE_SECRET_LEN],
		 const uint8_t client[COOKIE_CLIENT_LEN], const uint8_t *addr,
		 size_t alen, uint32_t now, uint8_t out[COOKIE_SERVER_LEN]);

/* What a server cookie from a query is worth. */
enum cookie_verdict {
	COOKIE_BAD = 0,          /* not ours: wrong length/version/hash */
	COOKIE_EXPIRED,          /* ours, but older than an hour or more than
				  * 5 minutes in the future: invalid */
	COOKIE_VALID,            /* ours, fresh enough to echo */
	COOKIE_VALID_RENEW,      /* ours and valid, older than 30 minutes:
				  * re-issue */
};

/*
 * Check server cookie `server` (slen bytes, 8..32) that came with client
 * cookie `client` from addr (alen 4 or 16) at Unix time now, against both
 * secrets. The hash covers the Reserved bytes as received (RFC 9018
 * appendix A.3).
 */
enum cookie_verdict cookie_check(const struct cookie_secrets *s,
				 const uint8_t client[COOKIE_CLIENT_LEN],
				 const uint8_t *server, size_t slen,
				 const uint8_t *addr, size_t alen, uint32_t now);

#endif
