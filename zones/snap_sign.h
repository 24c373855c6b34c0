/*
 * snap_sign.h — controller signatures over snapshots (Ed25519, OpenSSL).
 *
 * A snapshot is signed by appending (or replacing) its struct snap_sig
 * trailer (snap_format.h): the signature covers header.sha256, which covers
 * the whole content, so verifying it after snap_open_mem() has checked the
 * hash proves the controller made every byte. key_id is the SHA-256 of
 * the raw 32-byte public key, so a node finds the key without trying all.
 *
 * Keys are PEM files as `openssl genpkey -algorithm ed25519` writes them
 * (private) and `openssl pkey -pubout` (public).
 */
#ifndef POP53_SNAP_SIGN_H
#define POP53_SNAP_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* A set of trusted controller public keys. Opaque. */
struct snap_keyring;

/* Generate an Ed25519 key pair: the private key to priv_path (mode 0600,
 * refused if it exists), the public key to pub_path. 0 or P53_EIO /
 * P53_EEXIST with the reason in d. */
int snap_key_generate(const char *priv_path, const char *pub_path,
		      struct diag *d);

/* Sign the snapshot in blob (len bytes, with or without a trailer) with
 * the private key in priv_path. Writes a new buffer (malloc'd, caller
 * frees) of the content plus a fresh trailer to *out / *out_len. The
 * content's hash must verify (P53_EHASH otherwise): signing a corrupt
 * snapshot would only move the failure to every node. */
int snap_sign(const uint8_t *blob, size_t len, const char *priv_path,
	      struct diag *d, uint8_t **out, size_t *out_len);

/* Load public keys (PEM files) into a new keyring (*out, free with
 * snap_keyring_free). Errors name the file: P53_EIO, P53_EFORMAT (not an
 * Ed25519 public key), P53_EEXIST (the same key twice). */
int snap_keyring_load(const char *const *paths, size_t n, struct diag *d,
		      struct snap_keyring **out);
void snap_keyring_free(struct snap_keyring *kr);
size_t snap_keyring_count(const struct snap_keyring *kr);

/* Check the trailer of a snapshot whose structure and hash have already
 * verified (snap_open_mem). P53_ESIG with the reason in d: no trailer,
 * unknown key id, or a signature that does not verify. */
int snap_sig_verify(const uint8_t *blob, size_t len,
		    const struct snap_keyring *kr, struct diag *d);

/* ---- additions: helpers for the tools and the control plane ------------ */

/* The domain string in front of header.sha256 in the signed message, NUL
 * included (docs/snapshot-format.md): a signature made for a snapshot can
 * never be replayed as a signature over anything else the key signs. */
#define SNAP_SIG_DOMAIN     "pop53 snapshot v1"

/* The key id (SHA-256 of the raw public key) of the Ed25519 key in the PEM
 * file at path, private or public. 0, P53_EIO or P53_EFORMAT (reason in d). */
int snap_key_id(const char *path, uint8_t id[32], struct diag *d);

/* The key id in the trailer of blob (structure already verified): 0, or
 * P53_ESIG when blob carries no signature. */
int snap_sig_key_id(const uint8_t *blob, size_t len, uint8_t id[32]);

/* The first n bytes of id as 2n lower-case hex digits into out (2n + 1
 * bytes): how keys are named in messages. */
void snap_key_id_hex(const uint8_t *id, size_t n, char *out);

/* Read the whole file at path into a new buffer (malloc'd, 8-byte aligned,
 * caller frees): 0, P53_EIO, P53_ERANGE (larger than any snapshot) or
 * P53_ENOMEM, with the reason in d. */
int snap_file_read(const char *path, struct diag *d, uint8_t **out,
		   size_t *out_len);

/* Write buf to path so that readers see the old file or the whole new one,
 * even across a crash (temporary file, fsync, rename, fsync of the
 * directory). 0, or P53_EIO / P53_ENOMEM with the reason in d; nothing is
 * left behind on failure. */
int snap_file_write(const char *path, const uint8_t *buf, size_t len,
		    struct diag *d);

/* All of buf (len bytes) to fd, retrying short writes and EINTR, then
 * fsync: the write half of snap_file_write, for callers that name and
 * place the file themselves (the node's store). 0, or -1 with errno. */
int snap_fd_write(int fd, const uint8_t *buf, size_t len);

/* snap_file_read(in_path) + snap_sign + snap_file_write(out_path); out_path
 * may be in_path. Errors as those three; out_path is untouched on error. */
int snap_sign_file(const char *in_path, const char *priv_path,
		   const char *out_path, struct diag *d);

#endif
