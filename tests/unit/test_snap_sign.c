/*
 * Snapshot signatures: key generation, signing, the exact signed message,
 * keyrings (and the mistakes people make with key files), and refusal of
 * unsigned, foreign-key, forged and tampered snapshots with the precise
 * message each gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "error.h"
#include "snap.h"
#include "snap_sign.h"
#include "zone.h"

static const char zone_text[] =
	"$ORIGIN t.\n$TTL 60\n@ SOA ns h 1 7200 900 1209600 300\n"
	"@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\nmail MX 10 www\n";

static char dir[64];
static char key1[128], pub1[128], key2[128], pub2[128];

static uint8_t *compile(uint64_t serial, size_t *len)
{
	struct snap_compile_opts o = { .serial = serial };
	struct zone *z;
	struct diag d;
	uint8_t *b;

	diag_init(&d, stderr);
	d.hide_warnings = 1;
	assert_int_equal(zone_parse_string(zone_text, strlen(zone_text),
					   "t.zone", NULL, &d, &z), 0);
	assert_int_equal(zone_check(z, NULL, &d), 0);
	assert_int_equal(snap_compile(&z, 1, &o, &d, &b, len), 0);
	zone_free(z);
	return b;
}

static uint8_t *sign(const uint8_t *b, size_t len, const char *key,
		     size_t *out_len)
{
	struct diag d;
	uint8_t *out;

	diag_init(&d, stderr);
	assert_int_equal(snap_sign(b, len, key, &d, &out, out_len), 0);
	return out;
}

static struct snap_keyring *ring(const char *p)
{
	struct snap_keyring *kr;
	struct diag d;

	diag_init(&d, stderr);
	assert_int_equal(snap_keyring_load(&p, 1, &d, &kr), 0);
	assert_int_equal(snap_keyring_count(kr), 1);
	return kr;
}

/* verify must fail with P53_ESIG and a message starting with want. */
static void expect_refused(const uint8_t *b, size_t len,
			   const struct snap_keyring *kr, const char *want)
{
	struct diag d;

	diag_init(&d, NULL);
	assert_int_equal(snap_sig_verify(b, len, kr, &d), P53_ESIG);
	if (strncmp(d.first, want, strlen(want)) != 0)
		fail_msg("message '%s', expected '%s...'", d.first, want);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state)
{
	struct diag d;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/p53-sign.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(key1, sizeof(key1), "%s/c1.key", dir);
	snprintf(pub1, sizeof(pub1), "%s/c1.pub", dir);
	snprintf(key2, sizeof(key2), "%s/c2.key", dir);
	snprintf(pub2, sizeof(pub2), "%s/c2.pub", dir);
	diag_init(&d, stderr);
	assert_int_equal(snap_key_generate(key1, pub1, &d), 0);
	assert_int_equal(snap_key_generate(key2, pub2, &d), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_keygen(void **state)
{
	char k[160], p[160], before[512], after[512];
	struct stat st;
	struct diag d;
	FILE *f;
	size_t n;

	(void)state;
	assert_int_equal(stat(key1, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Never overwritten, and a refusal creates nothing. */
	f = fopen(key1, "r");
	n = fread(before, 1, sizeof(before), f);
	fclose(f);
	diag_init(&d, NULL);
	snprintf(p, sizeof(p), "%s/new.pub", dir);
	assert_int_equal(snap_key_generate(key1, p, &d), P53_EEXIST);
	assert_non_null(strstr(d.first, "exists already"));
	assert_int_equal(access(p, F_OK), -1);
	f = fopen(key1, "r");
	assert_int_equal(fread(after, 1, sizeof(after), f), n);
	fclose(f);
	assert_memory_equal(before, after, n);
	snprintf(k, sizeof(k), "%s/new.key", dir);
	assert_int_equal(snap_key_generate(k, pub1, &d), P53_EEXIST);
	assert_int_equal(access(k, F_OK), -1);
	snprintf(k, sizeof(k), "%s/no/such/dir.key", dir);
	assert_int_equal(snap_key_generate(k, p, &d), P53_EIO);
	assert_int_equal(access(p, F_OK), -1);
}

static void test_sign_verify(void **state)
{
	struct snap_keyring *kr = ring(pub1);
	size_t len, slen, rlen;
	uint8_t *b = compile(7, &len), *s = sign(b, len, key1, &slen);
	uint8_t *r, id[32], kid[32];
	struct snap *snap;
	struct diag d;

	(void)state;
	diag_init(&d, stderr);
	assert_int_equal(slen, len + sizeof(struct snap_sig));
	assert_memory_equal(s, b, len);             /* content untouched */
	assert_int_equal(snap_open_mem(s, slen, &d, &snap), 0);
	snap_close(snap);
	assert_int_equal(snap_sig_verify(s, slen, kr, &d), 0);
	/* The trailer names the key. */
	assert_int_equal(snap_sig_key_id(s, slen, id), 0);
	assert_int_equal(snap_key_id(pub1, kid, &d), 0);
	assert_memory_equal(id, kid, 32);
	assert_int_equal(snap_key_id(key1, kid, &d), 0);
	assert_memory_equal(id, kid, 32);
	assert_int_equal(snap_sig_key_id(b, len, id), P53_ESIG);
	/* Re-signing replaces the trailer; Ed25519 is deterministic. */
	r = sign(s, slen, key1, &rlen);
	assert_int_equal(rlen, slen);
	assert_memory_equal(r, s, slen);
	free(r);
	r = sign(s, slen, key2, &rlen);
	assert_int_equal(rlen, slen);
	expect_refused(r, rlen, kr, "signed by unknown key");
	free(r);
	free(s);
	free(b);
	snap_keyring_free(kr);
}

/* The documented scheme, checked with OpenSSL directly: the signature is
 * over "pop53 snapshot v1\0" followed by header.sha256, by the key whose
 * raw public bytes hash to key_id. */
static void test_signed_message(void **state)
{
	size_t len, slen, rawlen = 32;
	uint8_t *b = compile(8, &len), *s = sign(b, len, key1, &slen);
	uint8_t msg[18 + 32], raw[32], id[32];
	struct snap_sig sig;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY *pk;
	FILE *f = fopen(pub1, "r");

	(void)state;
	pk = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	assert_non_null(pk);
	memcpy(&sig, s + len, sizeof(sig));
	assert_memory_equal(sig.magic, "POP53SIG", 8);
	assert_int_equal(sig.alg, SNAP_SIG_ED25519);
	assert_int_equal(sig.size, 112);
	memcpy(msg, "pop53 snapshot v1", 18);
	memcpy(msg + 18, s + offsetof(struct snap_header, sha256), 32);
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk), 1);
	assert_int_equal(EVP_DigestVerify(ctx, sig.sig, 64, msg, sizeof(msg)), 1);
	assert_int_equal(EVP_PKEY_get_raw_public_key(pk, raw, &rawlen), 1);
	EVP_Digest(raw, 32, id, NULL, EVP_sha256(), NULL);
	assert_memory_equal(id, sig.key_id, 32);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	free(s);
	free(b);
}

static void test_refusals(void **state)
{
	struct snap_keyring *kr = ring(pub1), *kr2 = ring(pub2);
	size_t len, slen;
	uint8_t *b = compile(9, &len), *s = sign(b, len, key1, &slen);
	uint8_t id[32];
	char want[80], hex[17];
	struct snap_sig *sig = (struct snap_sig *)(void *)(s + len);

	(void)state;
	expect_refused(b, len, kr, "snapshot is not signed");
	expect_refused(s, slen, NULL, "signed by unknown key");
	snap_key_id(pub1, id, NULL);
	snap_key_id_hex(id, 8, hex);
	snprintf(want, sizeof(want), "signed by unknown key %s", hex);
	expect_refused(s, slen, kr2, want);
	/* Every bit of the signature matters. */
	snprintf(want, sizeof(want), "signature does not verify (key %s)", hex);
	for (size_t i = 0; i < 64; i++) {
		sig->sig[i] ^= 0x10;
		expect_refused(s, slen, kr, want);
		sig->sig[i] ^= 0x10;
	}
	sig->alg = 2;
	expect_refused(s, slen, kr, "signature algorithm 2 is not supported");
	sig->alg = SNAP_SIG_ED25519;
	assert_int_equal(snap_sig_verify(s, slen, kr, NULL), 0);
	free(s);
	free(b);
	snap_keyring_free(kr);
	snap_keyring_free(kr2);
}

/* Someone who changes the content and fixes up the hash passes
 * snap_open_mem, and the signature still fails. */
static void test_forged_content(void **state)
{
	struct snap_keyring *kr = ring(pub1);
	size_t len, slen;
	uint8_t *b = compile(10, &len), *s = sign(b, len, key1, &slen);
	struct snap_header *h = (struct snap_header *)(void *)s;
	struct snap *snap;
	struct diag d;

	(void)state;
	diag_init(&d, NULL);
	h->serial = 11;                 /* replay as a newer snapshot */
	assert_int_equal(snap_open_mem(s, slen, &d, &snap), P53_EHASH);
	memset(h->sha256, 0, 32);
	EVP_Digest(s, len, h->sha256, NULL, EVP_sha256(), NULL);
	assert_int_equal(snap_open_mem(s, slen, &d, &snap), 0);
	snap_close(snap);
	expect_refused(s, slen, kr, "signature does not verify");
	free(s);
	free(b);
	snap_keyring_free(kr);
}

static void test_sign_refuses_corrupt(void **state)
{
	size_t len, olen = 1;
	uint8_t *b = compile(12, &len), *out = (uint8_t *)1;
	struct diag d;

	(void)state;
	diag_init(&d, NULL);
	b[len - 3] ^= 1;
	assert_int_equal(snap_sign(b, len, key1, &d, &out, &olen), P53_EHASH);
	assert_null(out);
	assert_int_equal(olen, 0);
	b[len - 3] ^= 1;
	assert_int_equal(snap_sign(b, len - 8, key1, &d, &out, &olen),
			 P53_ETRUNC);
	/* A public key cannot sign. */
	diag_init(&d, NULL);
	assert_int_equal(snap_sign(b, len, pub1, &d, &out, &olen), P53_EFORMAT);
	assert_non_null(strstr(d.first, "is a public key"));
	free(b);
}

static void test_keyring_errors(void **state)
{
	char junk[160], rsa[160], missing[160];
	const char *paths[3];
	struct snap_keyring *kr = (struct snap_keyring *)1;
	EVP_PKEY *pk;
	struct diag d;
	FILE *f;

	(void)state;
	snprintf(junk, sizeof(junk), "%s/junk.pub", dir);
	snprintf(rsa, sizeof(rsa), "%s/rsa.pub", dir);
	snprintf(missing, sizeof(missing), "%s/missing.pub", dir);
	write_text(junk, "-----BEGIN PUBLIC KEY-----\nnot base64 !!\n"
		   "-----END PUBLIC KEY-----\n");
	pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	assert_non_null(pk);
	f = fopen(rsa, "w");
	PEM_write_PUBKEY(f, pk);
	fclose(f);
	EVP_PKEY_free(pk);

	struct { const char *p; int err; const char *msg; } cases[] = {
		{ missing, P53_EIO, "cannot open" },
		{ key1, P53_EFORMAT, "is a private key" },
		{ junk, P53_EFORMAT, "not a PEM public key" },
		{ rsa, P53_EFORMAT, "is a RSA key, not Ed25519" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		diag_init(&d, NULL);
		paths[0] = pub1;
		paths[1] = cases[i].p;
		assert_int_equal(snap_keyring_load(paths, 2, &d, &kr),
				 cases[i].err);
		assert_null(kr);
		assert_non_null(strstr(d.first, cases[i].p));
		if (!strstr(d.first, cases[i].msg))
			fail_msg("'%s' lacks '%s'", d.first, cases[i].msg);
	}
	paths[0] = pub1;
	paths[1] = pub2;
	paths[2] = pub1;
	diag_init(&d, NULL);
	assert_int_equal(snap_keyring_load(paths, 3, &d, &kr), P53_EEXIST);
	assert_non_null(strstr(d.first, "the same key as"));
	assert_int_equal(snap_keyring_load(paths, 2, &d, &kr), 0);
	assert_int_equal(snap_keyring_count(kr), 2);
	snap_keyring_free(kr);
	assert_int_equal(snap_keyring_load(paths, 0, &d, &kr), 0);
	assert_int_equal(snap_keyring_count(kr), 0);
	snap_keyring_free(kr);
}

static void test_files(void **state)
{
	struct snap_keyring *kr = ring(pub1);
	char in[160], out[160];
	size_t len, rlen;
	uint8_t *b = compile(13, &len), *r;
	struct diag d;

	(void)state;
	diag_init(&d, stderr);
	snprintf(in, sizeof(in), "%s/in.snap", dir);
	snprintf(out, sizeof(out), "%s/out.snap", dir);
	assert_int_equal(snap_file_write(in, b, len, &d), 0);
	assert_int_equal(snap_sign_file(in, key1, out, &d), 0);
	assert_int_equal(snap_file_read(out, &d, &r, &rlen), 0);
	assert_int_equal(rlen, len + sizeof(struct snap_sig));
	assert_int_equal(snap_sig_verify(r, rlen, kr, &d), 0);
	free(r);
	/* In place. */
	assert_int_equal(snap_sign_file(in, key1, in, &d), 0);
	assert_int_equal(snap_file_read(in, &d, &r, &rlen), 0);
	assert_int_equal(snap_sig_verify(r, rlen, kr, &d), 0);
	free(r);
	/* A failure leaves the output alone. */
	diag_init(&d, NULL);
	assert_int_equal(snap_sign_file(in, pub1, out, &d), P53_EFORMAT);
	assert_int_equal(snap_file_read(out, &d, &r, &rlen), 0);
	assert_int_equal(snap_sig_verify(r, rlen, kr, &d), 0);
	free(r);
	snprintf(out, sizeof(out), "%s/none/out.snap", dir);
	diag_init(&d, NULL);
	assert_int_equal(snap_file_write(out, b, len, &d), P53_EIO);
	assert_non_null(strstr(d.first, "none/out.snap"));
	free(b);
	snap_keyring_free(kr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keygen),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_signed_message),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_forged_content),
		cmocka_unit_test(test_sign_refuses_corrupt),
		cmocka_unit_test(test_keyring_errors),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
