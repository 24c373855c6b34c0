/*
 * store.c — verify pushed snapshots and keep the last good one on disk.
 *
 * Crash safety rests on three facts: a file is fsync'd before any name
 * points at it, rename() replaces a name atomically, and current.snap is
 * only ever replaced, never removed, once it exists. So whenever the
 * process dies, current.snap is a whole file that was acknowledged or is
 * about to be. previous.snap is a hard link to the file current.snap named
 * before, made before the replacement, so it is whole too. Temporary names
 * all start with ".current.snap." and ctl_store_load removes them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "store.h"

#define CURRENT     "current.snap"
#define PREVIOUS    "previous.snap"
#define TMP_PREFIX  ".current.snap."
#define BAD_SUFFIX  ".bad"
#define HUGE_PAGE   (2u << 20)
/* 32-bit offsets reach 4 GiB of content, plus the trailer. */
#define MAX_SNAPSHOT ((uint64_t)UINT32_MAX + sizeof(struct snap_sig))

const char *ctl_refusal_name(enum ctl_refusal r)
{
	switch (r) {
	case CTL_OK:               return "ok";
	case CTL_REFUSE_CORRUPT:   return "corrupt";
	case CTL_REFUSE_SIGNATURE: return "bad-signature";
	case CTL_REFUSE_STALE:     return "stale";
	case CTL_REFUSE_TOO_LARGE: return "too-large";
	case CTL_REFUSE_STORE:     return "store-failed";
	}
	return "unknown";
}

void ctl_accepted_free(struct ctl_accepted *a)
{
	if (!a)
		return;
	snap_close(a->snap);
	free(a->blob);
	memset(a, 0, sizeof(*a));
}

/* A buffer for a snapshot of len bytes that free() releases. Big ones are
 * 2 MiB aligned and marked for huge pages, as snap_open does: lookups read
 * the blob at random and would otherwise miss the TLB on nearly every one. */
static uint8_t *blob_alloc(size_t len)
{
	size_t align = len >= HUGE_PAGE ? HUGE_PAGE : 64;
	void *p;

	if (posix_memalign(&p, align, len ? len : 1) != 0)
		return NULL;
	if (len >= HUGE_PAGE)
		(void)madvise(p, len & ~(size_t)(HUGE_PAGE - 1), MADV_HUGEPAGE);
	return p;
}

static int join(char *out, const char *dir, const char *name, struct diag *d)
{
	if ((size_t)snprintf(out, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX) {
		diag_error(d, dir, 0, 0, "path too long");
		return P53_EINVAL;
	}
	return 0;
}

/* ---- verification ------------------------------------------------------------ */

/* The checks in the order of the API contract; blob is ours already. */
static int check(const uint8_t *blob, size_t len,
		 const struct snap_keyring *kr, uint64_t served, bool force,
		 struct diag *d, enum ctl_refusal *why, struct snap **out)
{
	struct snap *s = NULL;
	uint64_t serial;
	int ret;

	if ((ret = snap_open_mem(blob, len, d, &s)) < 0) {
		*why = ret == P53_ENOMEM ? CTL_REFUSE_STORE : CTL_REFUSE_CORRUPT;
		return ret;
	}
	if (kr && (ret = snap_sig_verify(blob, len, kr, d)) < 0) {
		*why = CTL_REFUSE_SIGNATURE;
		goto fail;
	}
	serial = snap_header(s)->serial;
	if (serial <= served && !force) {
		diag_error(d, NULL, 0, 0, "snapshot serial %llu is not newer "
			   "than the served serial %llu (force to roll back)",
			   (unsigned long long)serial,
			   (unsigned long long)served);
		*why = CTL_REFUSE_STALE;
		ret = P53_ESTALE;
		goto fail;
	}
	*out = s;
	return 0;
fail:
	snap_close(s);
	return ret;
}

/* ---- persisting ---------------------------------------------------------------- */

/* The new file, whole and on disk, under a temporary name in tmp. */
static int write_temp(const char *dir, const uint8_t *blob, size_t len,
		      char *tmp, struct diag *d)
{
	int fd, err;

	if (join(tmp, dir, TMP_PREFIX "XXXXXX", d) < 0)
		return P53_EINVAL;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		diag_error(d, dir, 0, 0, "cannot create a file in the state "
			   "directory: %s", strerror(errno));
		tmp[0] = '\0';
		return P53_EIO;
	}
	if (fchmod(fd, 0644) < 0 || snap_fd_write(fd, blob, len) < 0) {
		err = errno;
		close(fd);
		diag_error(d, tmp, 0, 0, "cannot write: %s", strerror(err));
		return P53_EIO;
	}
	if (close(fd) < 0) {
		diag_error(d, tmp, 0, 0, "cannot write: %s", strerror(errno));
		return P53_EIO;
	}
	return 0;
}

/* After the commit point: previous.snap takes the old current. Failing
 * here costs only the fallback copy, so it is a warning. */
static void keep_previous(int dfd, const char *keep, const char *prev,
			  struct diag *d)
{
	if (rename(keep, prev) < 0) {
		diag_warn(d, prev, 0, 0, "cannot keep the previous snapshot: "
			  "%s", strerror(errno));
		unlink(keep);
		return;
	}
	if (fsync(dfd) < 0)
		diag_warn(d, prev, 0, 0, "cannot sync the state directory: "
			  "%s", strerror(errno));
}

static int persist(const char *dir, const uint8_t *blob, size_t len,
		   struct diag *d)
{
	char tmp[PATH_MAX] = "", keep[PATH_MAX] = "", cur[PATH_MAX],
	     prev[PATH_MAX];
	int dfd, ret = P53_EIO;
	bool had_current = true;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		diag_error(d, dir, 0, 0, "cannot open the state directory: %s",
			   strerror(errno));
		return P53_EIO;
	}
	if ((ret = join(cur, dir, CURRENT, d)) < 0 ||
	    (ret = join(prev, dir, PREVIOUS, d)) < 0 ||
	    (ret = write_temp(dir, blob, len, tmp, d)) < 0)
		goto fail;
	ret = P53_EIO;
	/* The old current gets a second name before it loses its first. */
	if ((size_t)snprintf(keep, sizeof(keep), "%s.old", tmp) >= sizeof(keep))
		goto fail;
	if (link(cur, keep) < 0) {
		keep[0] = '\0';
		if (errno != ENOENT) {
			diag_error(d, cur, 0, 0, "cannot link: %s",
				   strerror(errno));
			goto fail;
		}
		had_current = false;
	}
	if (rename(tmp, cur) < 0) {
		diag_error(d, cur, 0, 0, "cannot replace: %s", strerror(errno));
		goto fail;
	}
	tmp[0] = '\0';
	if (fsync(dfd) < 0) {
		/* Not durable: put the old one back rather than acknowledge. */
		diag_error(d, dir, 0, 0, "cannot sync the state directory: %s",
			   strerror(errno));
		if (had_current)
			(void)rename(keep, cur);
		else
			(void)unlink(cur);
		keep[0] = '\0';
		goto fail;
	}
	if (had_current)
		keep_previous(dfd, keep, prev, d);
	close(dfd);
	return 0;
fail:
	if (tmp[0])
		unlink(tmp);
	if (keep[0])
		unlink(keep);
	close(dfd);
	return ret;
}

int ctl_store_accept(const char *state_dir, const uint8_t *buf, size_t len,
		     const struct snap_keyring *kr, uint64_t served_serial,
		     bool force, struct diag *d, enum ctl_refusal *why,
		     struct ctl_accepted *out)
{
	struct snap *s = NULL;
	uint8_t *blob = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	*why = CTL_REFUSE_CORRUPT;
	if (len < sizeof(struct snap_header) || (uint64_t)len > MAX_SNAPSHOT) {
		bool big = (uint64_t)len > MAX_SNAPSHOT;

		diag_error(d, NULL, 0, 0, big ? "%zu bytes, more than any "
			   "snapshot" : "truncated: %zu bytes, the header "
			   "alone needs %zu", len, sizeof(struct snap_header));
		*why = big ? CTL_REFUSE_TOO_LARGE : CTL_REFUSE_CORRUPT;
		return big ? P53_ELIMIT : P53_ETRUNC;
	}
	if (!(blob = blob_alloc(len))) {
		diag_error(d, NULL, 0, 0, "cannot allocate %zu bytes", len);
		*why = CTL_REFUSE_STORE;
		return P53_ENOMEM;
	}
	memcpy(blob, buf, len);
	if ((ret = check(blob, len, kr, served_serial, force, d, why, &s)) < 0)
		goto fail;
	if (state_dir && (ret = persist(state_dir, blob, len, d)) < 0) {
		*why = CTL_REFUSE_STORE;
		goto fail;
	}
	*why = CTL_OK;
	out->snap = s;
	out->blob = blob;
	out->serial = snap_header(s)->serial;
	return 0;
fail:
	snap_close(s);
	free(blob);
	return ret;
}

int ctl_store_persist(const char *state_dir, const struct ctl_accepted *a, struct diag *d)
{
	return persist(state_dir, a->blob, snap_size(a->snap), d);
}

/* ---- start-up ---------------------------------------------------------------------- */

int ctl_store_init(const char *state_dir, struct diag *d)
{
	struct stat st;

	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
		diag_error(d, state_dir, 0, 0, "cannot create the state "
			   "directory: %s", strerror(errno));
		return P53_EIO;
	}
	errno = 0;
	if (stat(state_dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    access(state_dir, W_OK | X_OK) < 0) {
		diag_error(d, state_dir, 0, 0, "state directory: %s",
			   errno ? strerror(errno) : "not a directory");
		return P53_EIO;
	}
	return 0;
}

/* Remove what a crash in persist() left: temporary files and links. */
static int clean_temps(const char *dir, struct diag *d)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *dp = opendir(dir);

	if (!dp) {
		diag_error(d, dir, 0, 0, "cannot open the state directory: %s",
			   strerror(errno));
		return errno == ENOENT ? P53_ENOTFOUND : P53_EIO;
	}
	while ((e = readdir(dp))) {
		if (strncmp(e->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) != 0 ||
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
				     e->d_name) >= sizeof(path))
			continue;
		if (unlink(path) < 0)
			diag_warn(d, path, 0, 0, "cannot remove a leftover "
				  "temporary file: %s", strerror(errno));
	}
	closedir(dp);
	return 0;
}

static int read_blob(const char *path, struct diag *d, uint8_t **out,
		     size_t *len)
{
	struct stat st;
	size_t done = 0;
	uint8_t *buf = NULL;
	int fd, ret = P53_EIO;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
		diag_error(d, path, 0, 0, "cannot open: %s", strerror(errno));
		ret = errno == ENOENT ? P53_ENOTFOUND : P53_EIO;
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > MAX_SNAPSHOT) {
		diag_error(d, path, 0, 0, "not a regular file of snapshot size");
		goto fail;
	}
	ret = P53_ENOMEM;
	if (!(buf = blob_alloc((size_t)st.st_size)))
		goto fail;
	ret = P53_EIO;
	while (done < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + done, (size_t)st.st_size - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			diag_error(d, path, 0, 0, "cannot read: %s", r < 0 ?
				   strerror(errno) : "file shrank while read");
			goto fail;
		}
		done += (size_t)r;
	}
	close(fd);
	*out = buf;
	*len = done;
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

/* Read and verify one stored file into *out; d gets one error naming the
 * file and the reason. */
static int load_one(const char *path, const struct snap_keyring *kr,
		    struct diag *d, struct ctl_accepted *out)
{
	struct diag why;
	size_t len;
	int ret;

	memset(out, 0, sizeof(*out));
	diag_init(&why, NULL);
	if ((ret = read_blob(path, &why, &out->blob, &len)) < 0 ||
	    (ret = snap_open_mem(out->blob, len, &why, &out->snap)) < 0 ||
	    (kr && (ret = snap_sig_verify(out->blob, len, kr, &why)) < 0)) {
		/* read_blob names the file itself. */
		if (strncmp(why.first, path, strlen(path)) == 0)
			diag_error(d, NULL, 0, 0, "%s", why.first);
		else
			diag_error(d, path, 0, 0, "%s", why.first);
		ctl_accepted_free(out);
		return ret;
	}
	out->serial = snap_header(out->snap)->serial;
	return 0;
}

/* current.snap is damaged and previous.snap is good: serve previous, and
 * move current aside (kept for the operator) so that the next push does
 * not turn the damaged file into previous.snap. */
static void fall_back(const char *cur, const struct diag *why, int missing,
		      const struct ctl_accepted *prev, struct diag *d)
{
	char bad[PATH_MAX];

	if (missing) {
		diag_warn(d, cur, 0, 0, "missing; serving previous.snap "
			  "(serial %llu)", (unsigned long long)prev->serial);
		return;
	}
	if ((size_t)snprintf(bad, sizeof(bad), "%s" BAD_SUFFIX, cur) <
	    sizeof(bad) && rename(cur, bad) == 0)
		diag_warn(d, NULL, 0, 0, "%s; moved to %s, serving "
			  "previous.snap (serial %llu)", why->first, bad,
			  (unsigned long long)prev->serial);
	else
		diag_warn(d, NULL, 0, 0, "%s; serving previous.snap (serial "
			  "%llu)", why->first, (unsigned long long)prev->serial);
}

int ctl_store_load(const char *state_dir, const struct snap_keyring *kr,
		   struct diag *d, struct ctl_accepted *out)
{
	char cur[PATH_MAX], prev[PATH_MAX];
	struct diag dc, dp;
	int rc, rp, ret;

	memset(out, 0, sizeof(*out));
	if ((ret = clean_temps(state_dir, d)) < 0)
		return ret;
	if ((ret = join(cur, state_dir, CURRENT, d)) < 0 ||
	    (ret = join(prev, state_dir, PREVIOUS, d)) < 0)
		return ret;
	diag_init(&dc, NULL);
	diag_init(&dp, NULL);
	if ((rc = load_one(cur, kr, &dc, out)) == 0)
		return 0;
	if ((rp = load_one(prev, kr, &dp, out)) == 0) {
		fall_back(cur, &dc, rc == P53_ENOTFOUND, out, d);
		return 0;
	}
	if (rc == P53_ENOTFOUND && rp == P53_ENOTFOUND) {
		diag_error(d, state_dir, 0, 0, "no stored snapshot");
		return P53_ENOTFOUND;
	}
	diag_error(d, NULL, 0, 0, "no good stored snapshot: %s; %s", dc.first,
		   dp.first);
	return rc == P53_ENOTFOUND ? rp : rc;
}
