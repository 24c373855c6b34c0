/*
 * dnssec_verify.c — see dnssec_verify.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "dnssec.h"
#include "dnssec_verify.h"

EVP_PKEY *tdnssec_pkey(const uint8_t *dnskey, size_t len)
{
	if (dnskey[3] == DNSSEC_ALG_ED25519)
		return EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, dnskey + 4, len - 4);
	uint8_t pub[65] = { 4 };
	memcpy(pub + 1, dnskey + 4, 64);
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM_BLD_push_utf8_string(b, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
	OSSL_PARAM_BLD_push_octet_string(b, OSSL_PKEY_PARAM_PUB_KEY, pub, 65);
	OSSL_PARAM *p = OSSL_PARAM_BLD_to_param(b);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	EVP_PKEY *pk = NULL;
	assert_int_equal(EVP_PKEY_fromdata_init(c), 1);
	assert_int_equal(EVP_PKEY_fromdata(c, &pk, EVP_PKEY_PUBLIC_KEY, p), 1);
	EVP_PKEY_CTX_free(c);
	OSSL_PARAM_free(p);
	OSSL_PARAM_BLD_free(b);
	return pk;
}

int tdnssec_verify(EVP_PKEY *pk, int alg, const uint8_t *msg, size_t len, const uint8_t *sig)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t der[80], *p = der;
	size_t dlen = 64;
	const uint8_t *s = sig;
	int ok;

	if (alg == DNSSEC_ALG_ECDSAP256SHA256) {
		ECDSA_SIG *es = ECDSA_SIG_new();
		ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
		dlen = (size_t)i2d_ECDSA_SIG(es, &p);
		ECDSA_SIG_free(es);
		s = der;
	}
	ok = EVP_DigestVerifyInit(ctx, NULL, alg == DNSSEC_ALG_ED25519 ? NULL : EVP_sha256(),
				  NULL, pk) == 1 &&
	     EVP_DigestVerify(ctx, s, dlen, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

