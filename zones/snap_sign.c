/*
 * snap_sign.c — Ed25519 controller signatures over snapshots (OpenSSL 3).
 *
 * The signed message is SNAP_SIG_DOMAIN with its NUL, then the 32 bytes of
 * header.sha256. The hash covers the whole content (serial included), so
 * one 64-byte signature authenticates every byte, and the domain string
 * keeps a controller key from ever signing something that could pass as a
 * snapshot signature by accident.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "error.h"
#include "snap.h"
#include "snap_sign.h"

#define KEY_FILE_MAX  (64u << 10)   /* PEM key files are a few hundred bytes */
#define MSG_LEN       (sizeof(SNAP_SIG_DOMAIN) + 32)

struct key {
	uint8_t id[32];
	EVP_PKEY *pk;
	const char *path;       /* for the duplicate message; only at load */
};

struct snap_keyring {
	size_t n;
	struct key k[];
};

/* ---- key files ------------------------------------------------------------ */

/* Never prompt on a terminal for an encrypted key: the daemon and the
 * push tool run unattended. */
static int no_password(char *buf, int size, int rw, void *u)
{
	(void)buf; (void)size; (void)rw; (void)u;
	return -1;
}

static int read_small(const char *path, struct diag *d, char **out,
		      size_t *len)
{
	uint8_t *buf;
	int ret;

	if ((ret = snap_file_read(path, d, &buf, len)) < 0)
		return ret;
	if (*len > KEY_FILE_MAX) {
		free(buf);
		diag_error(d, path, 0, 0, "%zu bytes, too large for a key file",
			   *len);
		return P53_EFORMAT;
	}
	*out = (char *)buf;
	return 0;
}

/* The key in the PEM file at path: a public key when want_private is 0,
 * else a private key. Ed25519 only. A file holding the other half of a
 * pair gets its own message: it is the mistake people make. */
static int load_pem(const char *path, int want_private, struct diag *d,
		    EVP_PKEY **out)
{
	EVP_PKEY *pk = NULL, *other = NULL;
	BIO *b = NULL;
	char *text = NULL;
	size_t len;
	int ret;

	*out = NULL;
	if ((ret = read_small(path, d, &text, &len)) < 0)
		return ret;
	ret = P53_ENOMEM;
	if (!(b = BIO_new_mem_buf(text, (int)len)))
		goto fail;
	pk = want_private ? PEM_read_bio_PrivateKey(b, NULL, no_password, NULL)
			  : PEM_read_bio_PUBKEY(b, NULL, no_password, NULL);
	ret = P53_EFORMAT;
	if (!pk) {
		/* Say which mistake it is: the other half of a pair, or junk. */
		BIO_reset(b);
		other = want_private ? PEM_read_bio_PUBKEY(b, NULL, no_password, NULL)
				     : PEM_read_bio_PrivateKey(b, NULL, no_password, NULL);
		if (other && !want_private)
			diag_error(d, path, 0, 0, "is a private key: give the "
				   "public key (openssl pkey -pubout)");
		else if (other)
			diag_error(d, path, 0, 0, "is a public key: signing "
				   "needs the private key");
		else
			diag_error(d, path, 0, 0, "not a PEM %s key (or an "
				   "encrypted one, which is not supported)",
				   want_private ? "private" : "public");
		goto fail;
	}
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_ED25519) {
		diag_error(d, path, 0, 0, "is a %s key, not Ed25519",
			   EVP_PKEY_get0_type_name(pk) ?
			   EVP_PKEY_get0_type_name(pk) : "non-Ed25519");
		goto fail;
	}
	*out = pk;
	pk = NULL;
	ret = 0;
fail:
	ERR_clear_error();
	EVP_PKEY_free(pk);
	EVP_PKEY_free(other);
	BIO_free(b);
	free(text);
	return ret;
}

static int pkey_id(EVP_PKEY *pk, uint8_t id[32])
{
	uint8_t raw[32];
	size_t len = sizeof(raw);
	unsigned int mdlen;

	if (EVP_PKEY_get_raw_public_key(pk, raw, &len) != 1 || len != 32 ||
	    !EVP_Digest(raw, len, id, &mdlen, EVP_sha256(), NULL))
		return P53_EFORMAT;
	return 0;
}

int snap_key_id(const char *path, uint8_t id[32], struct diag *d)
{
	struct diag quiet;
	EVP_PKEY *pk = NULL;
	int ret;

	/* Either kind will do: try the public form quietly first. */
	diag_init(&quiet, NULL);
	if (load_pem(path, 0, &quiet, &pk) < 0 &&
	    (ret = load_pem(path, 1, d, &pk)) < 0)
		return ret;
	if ((ret = pkey_id(pk, id)) < 0)
		diag_error(d, path, 0, 0, "cannot derive the public key");
	EVP_PKEY_free(pk);
	return ret;
}

void snap_key_id_hex(const uint8_t *id, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- key generation -------------------------------------------------------- */

static int write_pem(const char *path, EVP_PKEY *pk, int private,
		     struct diag *d)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		      private ? 0600 : 0644);
	FILE *f;
	int ok;

	if (fd < 0) {
		diag_error(d, path, 0, 0, "cannot create: %s", strerror(errno));
		return errno == EEXIST ? P53_EEXIST : P53_EIO;
	}
	if (!(f = fdopen(fd, "w"))) {
		close(fd);
		ok = 0;
	} else {
		ok = private ? PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL,
						    NULL)
			     : PEM_write_PUBKEY(f, pk);
		ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
		ok = (fclose(f) == 0) && ok;
	}
	ERR_clear_error();
	if (!ok) {
		diag_error(d, path, 0, 0, "cannot write the %s key",
			   private ? "private" : "public");
		unlink(path);
		return P53_EIO;
	}
	return 0;
}

int snap_key_generate(const char *priv_path, const char *pub_path,
		      struct diag *d)
{
	EVP_PKEY *pk = NULL;
	int ret = P53_EEXIST;

	/* Check both first, so that a refusal creates nothing. */
	if (access(pub_path, F_OK) == 0 || access(priv_path, F_OK) == 0) {
		diag_error(d, access(priv_path, F_OK) == 0 ? priv_path : pub_path,
			   0, 0, "exists already; keys are never overwritten");
		goto fail;
	}
	ret = P53_EIO;
	if (!(pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"))) {
		diag_error(d, NULL, 0, 0, "cannot generate an Ed25519 key");
		goto fail;
	}
	if ((ret = write_pem(priv_path, pk, 1, d)) < 0)
		goto fail;
	if ((ret = write_pem(pub_path, pk, 0, d)) < 0) {
		unlink(priv_path);
		goto fail;
	}
fail:
	ERR_clear_error();
	EVP_PKEY_free(pk);
	return ret;
}

/* ---- signing ------------------------------------------------------------------ */

static void build_msg(const uint8_t *blob, uint8_t msg[MSG_LEN])
{
	memcpy(msg, SNAP_SIG_DOMAIN, sizeof(SNAP_SIG_DOMAIN));
	memcpy(msg + sizeof(SNAP_SIG_DOMAIN),
	       blob + offsetof(struct snap_header, sha256), 32);
}

/* Content length of a blob whose structure was verified. */
static uint64_t content_of(const uint8_t *blob)
{
	uint64_t c;

	memcpy(&c, blob + offsetof(struct snap_header, content_size), sizeof(c));
	return c;
}

static int sign_msg(EVP_PKEY *pk, const uint8_t *msg, uint8_t sig[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t len = 64;
	int ok;

	ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) == 1 &&
	     EVP_DigestSign(ctx, sig, &len, msg, MSG_LEN) == 1 && len == 64;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok ? 0 : P53_ENOMEM;
}

int snap_sign(const uint8_t *blob, size_t len, const char *priv_path,
	      struct diag *d, uint8_t **out, size_t *out_len)
{
	struct snap_sig sig = { .magic = SNAP_SIG_MAGIC,
				.alg = SNAP_SIG_ED25519,
				.size = sizeof(struct snap_sig) };
	uint8_t msg[MSG_LEN], *buf = NULL;
	struct snap *s = NULL;
	EVP_PKEY *pk = NULL;
	uint64_t content;
	int ret;

	*out = NULL;
	*out_len = 0;
	if ((ret = load_pem(priv_path, 1, d, &pk)) < 0)
		goto fail;
	ret = P53_ENOMEM;
	if (!(buf = malloc(len + sizeof(sig))))
		goto fail;
	memcpy(buf, blob, len);
	/* The whole verification, not just the hash: a node would refuse
	 * anything less, and better here than on every node. */
	if ((ret = snap_open_mem(buf, len, d, &s)) < 0)
		goto fail;
	content = content_of(buf);
	build_msg(buf, msg);
	if ((ret = pkey_id(pk, sig.key_id)) < 0 ||
	    (ret = sign_msg(pk, msg, sig.sig)) < 0) {
		diag_error(d, priv_path, 0, 0, "cannot sign with this key");
		goto fail;
	}
	memcpy(buf + content, &sig, sizeof(sig));
	*out = buf;
	*out_len = (size_t)content + sizeof(sig);
	buf = NULL;
fail:
	snap_close(s);
	free(buf);
	EVP_PKEY_free(pk);
	return ret;
}

/* ---- keyrings and verification ----------------------------------------------- */

int snap_keyring_load(const char *const *paths, size_t n, struct diag *d,
		      struct snap_keyring **out)
{
	struct snap_keyring *kr = calloc(1, sizeof(*kr) + n * sizeof(kr->k[0]));
	int ret = P53_ENOMEM;

	*out = NULL;
	if (!kr)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct key *k = &kr->k[kr->n];

		if ((ret = load_pem(paths[i], 0, d, &k->pk)) < 0)
			goto fail;
		kr->n++;
		k->path = paths[i];
		if ((ret = pkey_id(k->pk, k->id)) < 0) {
			diag_error(d, paths[i], 0, 0, "cannot read the public "
				   "key's bytes");
			goto fail;
		}
		for (size_t j = 0; j + 1 < kr->n; j++) {
			if (memcmp(kr->k[j].id, k->id, 32) == 0) {
				diag_error(d, paths[i], 0, 0, "the same key as "
					   "%s", kr->k[j].path);
				ret = P53_EEXIST;
				goto fail;
			}
		}
	}
	for (size_t i = 0; i < kr->n; i++)
		kr->k[i].path = NULL;   /* the caller's strings may go */
	*out = kr;
	return 0;
fail:
	snap_keyring_free(kr);
	return ret;
}

void snap_keyring_free(struct snap_keyring *kr)
{
	if (!kr)
		return;
	for (size_t i = 0; i < kr->n; i++)
		EVP_PKEY_free(kr->k[i].pk);
	free(kr);
}

size_t snap_keyring_count(const struct snap_keyring *kr)
{
	return kr ? kr->n : 0;
}

/* The trailer of blob, copied out (blob may sit at any alignment), or
 * P53_ESIG when there is none. */
static int get_trailer(const uint8_t *blob, size_t len, struct snap_sig *sig)
{
	uint64_t content;

	if (len < sizeof(struct snap_header))
		return P53_EFORMAT;
	content = content_of(blob);
	if (content > len || len - content < sizeof(*sig))
		return P53_ESIG;
	memcpy(sig, blob + content, sizeof(*sig));
	return memcmp(sig->magic, SNAP_SIG_MAGIC, 8) == 0 ? 0 : P53_ESIG;
}

int snap_sig_key_id(const uint8_t *blob, size_t len, uint8_t id[32])
{
	struct snap_sig sig;
	int ret = get_trailer(blob, len, &sig);

	if (ret == 0)
		memcpy(id, sig.key_id, 32);
	return ret;
}

static int verify_with(EVP_PKEY *pk, const uint8_t *msg, const uint8_t *sig)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
	     EVP_DigestVerify(ctx, sig, 64, msg, MSG_LEN) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

int snap_sig_verify(const uint8_t *blob, size_t len,
		    const struct snap_keyring *kr, struct diag *d)
{
	char hex[17];
	uint8_t msg[MSG_LEN];
	struct snap_sig sig;
	const struct key *k = NULL;
	int ret = get_trailer(blob, len, &sig);

	if (ret == P53_EFORMAT) {
		diag_error(d, NULL, 0, 0, "truncated: no snapshot header");
		return ret;
	}
	if (ret < 0) {
		diag_error(d, NULL, 0, 0, "snapshot is not signed");
		return P53_ESIG;
	}
	snap_key_id_hex(sig.key_id, 8, hex);
	if (sig.alg != SNAP_SIG_ED25519) {
		diag_error(d, NULL, 0, 0, "signature algorithm %u is not "
			   "supported (key %s)", sig.alg, hex);
		return P53_ESIG;
	}
	for (size_t i = 0; kr && i < kr->n && !k; i++)
		k = memcmp(kr->k[i].id, sig.key_id, 32) == 0 ? &kr->k[i] : NULL;
	if (!k) {
		diag_error(d, NULL, 0, 0, "signed by unknown key %s", hex);
		return P53_ESIG;
	}
	build_msg(blob, msg);
	if (!verify_with(k->pk, msg, sig.sig)) {
		diag_error(d, NULL, 0, 0, "signature does not verify (key %s)",
			   hex);
		return P53_ESIG;
	}
	return 0;
}

/* ---- files ----------------------------------------------------------------------- */

int snap_file_read(const char *path, struct diag *d, uint8_t **out,
		   size_t *out_len)
{
	const uint64_t max = (uint64_t)UINT32_MAX + sizeof(struct snap_sig);
	uint8_t *buf = NULL;
	struct stat st;
	size_t done = 0;
	int fd, ret = P53_EIO;

	*out = NULL;
	*out_len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		diag_error(d, path, 0, 0, "cannot open: %s", strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		ret = S_ISREG(st.st_mode) ? P53_ERANGE : P53_EIO;
		diag_error(d, path, 0, 0, S_ISREG(st.st_mode) ? "%lld bytes, "
			   "more than any snapshot" : "not a regular file",
			   (long long)st.st_size);
		goto fail;
	}
	ret = P53_ENOMEM;
	/* malloc is 16-byte aligned: snapshots are read in place from it. */
	if (!(buf = malloc(st.st_size ? (size_t)st.st_size : 1)))
		goto fail;
	while (done < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + done, (size_t)st.st_size - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ret = P53_EIO;
			diag_error(d, path, 0, 0, "cannot read: %s", r < 0 ?
				   strerror(errno) : "file shrank while read");
			goto fail;
		}
		done += (size_t)r;
	}
	close(fd);
	*out = buf;
	*out_len = done;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

static int sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == path ? strdup("/") : slash ?
		    strndup(path, (size_t)(slash - path)) : strdup(".");
	int fd, ret = -1;

	if (dir && (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		ret = fsync(fd);
		close(fd);
	}
	free(dir);
	return ret;
}

int snap_fd_write(int fd, const uint8_t *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t w = write(fd, buf + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return fsync(fd);
}

int snap_file_write(const char *path, const uint8_t *buf, size_t len,
		    struct diag *d)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + sizeof(".tmpXXXXXX"));
	const char *what = "create a temporary file for";
	int fd = -1, made = 0;

	if (!tmp)
		return P53_ENOMEM;
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmpXXXXXX", sizeof(".tmpXXXXXX"));
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		goto fail;
	made = 1;
	what = "write";
	if (fchmod(fd, 0644) < 0 || snap_fd_write(fd, buf, len) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	what = "rename over";
	if (rename(tmp, path) < 0)
		goto fail;
	made = 0;
	/* The new file is whole and in place; only its durability across a
	 * power loss is in doubt, still worth an error. */
	what = "sync the directory of";
	if (sync_parent(path) < 0)
		goto fail;
	free(tmp);
	return 0;
fail:
	diag_error(d, path, 0, 0, "cannot %s: %s", what, strerror(errno));
	if (fd >= 0)
		close(fd);
	if (made)
		unlink(tmp);
	free(tmp);
	return P53_EIO;
}

int snap_sign_file(const char *in_path, const char *priv_path,
		   const char *out_path, struct diag *d)
{
	uint8_t *in = NULL, *out = NULL;
	size_t in_len, out_len;
	int ret;

	if ((ret = snap_file_read(in_path, d, &in, &in_len)) < 0)
		return ret;
	ret = snap_sign(in, in_len, priv_path, d, &out, &out_len);
	free(in);
	if (ret < 0)
		return ret;
	ret = snap_file_write(out_path, out, out_len, d);
	free(out);
	return ret;
}
