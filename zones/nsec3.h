/*
 * nsec3.h — NSEC3 owner hashes (RFC 5155 5) for the query path.
 *
 * SHA-1 here is a small implementation of FIPS 180-4 of our own: OpenSSL's
 * one-shot digests fetch the algorithm and allocate a context on every
 * call, which the query path may not do (no allocation, no locks). RFC
 * 9276 asks for no extra iterations, so a hash is one or two blocks; on
 * x86 CPUs with the SHA extensions a block is hashed with them.
 */
#ifndef POP53_NSEC3_H
#define POP53_NSEC3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NSEC3_HASH_LEN 20       /* SHA-1, the only algorithm (1) defined */

/* SHA-1 of the len bytes at data into out. */
void nsec3_sha1(const void *data, size_t len, uint8_t out[NSEC3_HASH_LEN]);

/* RFC 5155 5: the hash of the lower-cased wire name (len bytes) with the
 * salt and `iterations` extra rounds, into out. */
void nsec3_hash(const uint8_t *name, size_t len, const uint8_t *salt,
		size_t salt_len, unsigned iterations,
		uint8_t out[NSEC3_HASH_LEN]);

/* SHA-1 runs on the CPU's SHA extensions (x86 SHA-NI) when it has them,
 * unless turned off here: tests compare both ways. Returns whether they
 * are in use after the call (false on a CPU without them, whatever on). */
bool nsec3_use_sha_ni(bool on);

/* Decode the 32 base32hex characters of an NSEC3 owner's first label
 * (either case) into out. Returns 0, or -1 when it is not one. */
int nsec3_label_decode(const uint8_t *label, uint8_t out[NSEC3_HASH_LEN]);

#endif
