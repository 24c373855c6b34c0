/*
 * store.h — the snapshot lifecycle on a node: verify a pushed snapshot,
 * keep it in the state directory crash-safely, and find the last good one
 * at start.
 *
 * The state directory holds current.snap (what is served) and
 * previous.snap (what was served before it). A new snapshot is written to
 * a temporary file, fsync'd, renamed over current.snap and the directory
 * fsync'd: a crash at any point leaves either the old or the new file
 * whole, never a mix.
 */
#ifndef POP53_STORE_H
#define POP53_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "snap.h"
#include "snap_sign.h"

/* Why a push was refused: the API maps each to an HTTP status. */
enum ctl_refusal {
	CTL_OK = 0,
	CTL_REFUSE_CORRUPT,     /* format, hash, truncation: 400 */
	CTL_REFUSE_SIGNATURE,   /* unsigned, unknown key, bad signature: 403 */
	CTL_REFUSE_STALE,       /* serial not newer than served: 409 */
	CTL_REFUSE_TOO_LARGE,   /* over the configured limit: 413 */
	CTL_REFUSE_STORE,       /* could not persist (disk): 500 */
};

/* Short machine-readable name of a refusal ("corrupt", "bad-signature",
 * "stale", "too-large", "store-failed"; "ok"). */
const char *ctl_refusal_name(enum ctl_refusal r);

struct ctl_accepted {
	struct snap *snap;      /* opened over blob, owned by the caller */
	uint8_t *blob;          /* 8-byte aligned copy, free() after snap_close */
	uint64_t serial;        /* header.serial */
};

/* Take a pushed snapshot (buf/len, the caller keeps buf): verify its
 * format and hash, its signature against kr (kr NULL: signatures not
 * required — only for tests and --zone setups), that its serial is newer
 * than served_serial unless force, then persist it in state_dir (NULL:
 * not persisted). On success fills *out and returns 0; on failure returns
 * a negative p53_err, sets *why, explains in d and changes nothing on
 * disk or in memory. */
int ctl_store_accept(const char *state_dir, const uint8_t *buf, size_t len,
		     const struct snap_keyring *kr, uint64_t served_serial,
		     bool force, struct diag *d, enum ctl_refusal *why,
		     struct ctl_accepted *out);

/* Persist in state_dir a snapshot that ctl_store_accept(NULL, ...) took,
 * once the caller has also checked what only it can (pop53d: that the
 * policy's health checks can run): the blob is not verified again. 0, or
 * P53_EIO with the reason in d (nothing on disk changed). */
int ctl_store_persist(const char *state_dir, const struct ctl_accepted *a, struct diag *d);

/* At start: open the last good snapshot in state_dir (current.snap, else
 * previous.snap when current is damaged; the signature is checked when kr
 * is not NULL) into *out. Removes temporary files a crash left behind.
 * A damaged current.snap is renamed current.snap.bad (kept for the
 * operator; the next push must not make it previous.snap) and the
 * fallback is reported with diag_warn in d. P53_ENOTFOUND when the
 * directory has no snapshot (or does not exist); when both files are
 * damaged, the error of current.snap with both reasons in d. */
int ctl_store_load(const char *state_dir, const struct snap_keyring *kr,
		   struct diag *d, struct ctl_accepted *out);

/* Release what an accept or load returned. */
void ctl_accepted_free(struct ctl_accepted *a);

/* Create state_dir (mode 0700) unless it exists, and check that it is a
 * writable directory: a daemon learns at start, not at the first push,
 * that it cannot persist. 0 or P53_EIO with the reason in d. (Addition.) */
int ctl_store_init(const char *state_dir, struct diag *d);

#endif
