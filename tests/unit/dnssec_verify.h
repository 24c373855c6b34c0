/*
 * dnssec_verify.h — test helper: RRSIG signatures checked by OpenSSL, with
 * nothing of pop53's own signing code in the way.
 */
#ifndef POP53_TEST_DNSSEC_VERIFY_H
#define POP53_TEST_DNSSEC_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* The public key of DNSKEY RDATA (len bytes; algorithm 13 or 15); the
 * caller frees it with EVP_PKEY_free. Fails the running test otherwise. */
EVP_PKEY *tdnssec_pkey(const uint8_t *dnskey, size_t len);

/* Whether the 64-byte DNSSEC signature sig (algorithm alg) over msg (len
 * bytes, RFC 4034 3.1.8.1's signed data) verifies with pk. */
int tdnssec_verify(EVP_PKEY *pk, int alg, const uint8_t *msg, size_t len, const uint8_t *sig);

#endif
