/*
 * The node's snapshot store: what a push must pass (signature, serial,
 * every truncation and flipped byte refused with the right reason), what
 * it leaves on disk (current/previous, nothing on any failure), start-up
 * (fallback to previous.snap, leftovers removed) and crash safety: a
 * writer SIGKILLed at random moments never leaves a state that does not
 * load, nor loses an acknowledged snapshot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "error.h"
#include "snap.h"
#include "snap_sign.h"
#include "store.h"
#include "zone.h"

static const char zone_text[] =
	"$ORIGIN t.\n$TTL 60\n@ SOA ns h 1 7200 900 1209600 300\n"
	"@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\nmail MX 10 www\n"
	"@ CAA 0 issue \"ca.example\"\n";

static char top[64], key1[128], pub1[128], key2[128], pub2[128];
static uint8_t *tmpl;           /* unsigned content, serial 1 */
static size_t tmpl_len;
static struct snap_keyring *kr1;
static int dirs;

/* ---- helpers ---------------------------------------------------------------- */

/* The template with another serial, its hash fixed, signed with key (NULL:
 * unsigned). Returns NULL on failure (usable in a forked child). */
static uint8_t *make(uint64_t serial, const char *key, size_t *len)
{
	uint8_t *b = malloc(tmpl_len), *s = NULL;
	struct snap_header *h = (struct snap_header *)(void *)b;

	if (!b)
		return NULL;
	memcpy(b, tmpl, tmpl_len);
	h->serial = serial;
	memset(h->sha256, 0, 32);
	EVP_Digest(b, tmpl_len, h->sha256, NULL, EVP_sha256(), NULL);
	if (!key) {
		*len = tmpl_len;
		return b;
	}
	if (snap_sign(b, tmpl_len, key, NULL, &s, len) < 0)
		s = NULL;
	free(b);
	return s;
}

static uint8_t *must_make(uint64_t serial, const char *key, size_t *len)
{
	uint8_t *b = make(serial, key, len);

	assert_non_null(b);
	return b;
}

static void new_dir(char *out)
{
	snprintf(out, 128, "%s/d%d", top, dirs++);
	assert_int_equal(mkdir(out, 0700), 0);
}

/* The contents of a state directory, to prove that nothing changed. */
struct state {
	char names[512];
	uint8_t *cur, *prev;
	size_t clen, plen;
};

static uint8_t *slurp(const char *dir, const char *name, size_t *len)
{
	char path[256];
	uint8_t *b;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	*len = 0;
	return snap_file_read(path, NULL, &b, len) == 0 ? b : NULL;
}

static void names(const char *dir, char *out, size_t size)
{
	struct dirent *e;
	DIR *dp = opendir(dir);
	size_t n = 0;

	out[0] = '\0';
	assert_non_null(dp);
	while ((e = readdir(dp)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n += (size_t)snprintf(out + n, size - n, "%s ",
					      e->d_name);
	closedir(dp);
}

static void state_get(const char *dir, struct state *st)
{
	names(dir, st->names, sizeof(st->names));
	st->cur = slurp(dir, "current.snap", &st->clen);
	st->prev = slurp(dir, "previous.snap", &st->plen);
}

static void state_same(const char *dir, struct state *st)
{
	struct state now;

	state_get(dir, &now);
	/* readdir order is stable for an unchanged directory */
	assert_string_equal(now.names, st->names);
	assert_int_equal(now.clen, st->clen);
	assert_int_equal(now.plen, st->plen);
	if (st->clen)
		assert_memory_equal(now.cur, st->cur, st->clen);
	if (st->plen)
		assert_memory_equal(now.prev, st->prev, st->plen);
	free(now.cur);
	free(now.prev);
}

static void state_free(struct state *st)
{
	free(st->cur);
	free(st->prev);
}

static void file_is(const char *dir, const char *name, const uint8_t *b,
		    size_t len)
{
	size_t n;
	uint8_t *f = slurp(dir, name, &n);

	assert_non_null(f);
	assert_int_equal(n, len);
	assert_memory_equal(f, b, len);
	free(f);
}

static int accept_ok(const char *dir, const uint8_t *b, size_t len,
		     uint64_t served, const struct snap_keyring *kr)
{
	struct ctl_accepted a;
	enum ctl_refusal why;
	struct diag d;
	int ret;

	diag_init(&d, stderr);
	ret = ctl_store_accept(dir, b, len, kr, served, false, &d, &why, &a);
	assert_int_equal(ret, 0);
	assert_int_equal(why, CTL_OK);
	assert_int_equal(d.errors, 0);
	assert_int_equal(a.serial, snap_header(a.snap)->serial);
	assert_int_equal((uintptr_t)a.blob % 8, 0);
	assert_memory_equal(a.blob, b, len);
	ret = (int)a.serial;
	ctl_accepted_free(&a);
	assert_null(a.snap);
	return ret;
}

/* A refusal: the code (0: any), the reason, a message containing msg (if
 * any), an empty result. */
static void refused(const char *dir, const uint8_t *b, size_t len,
		    const struct snap_keyring *kr, uint64_t served, bool force,
		    int err, enum ctl_refusal want, const char *msg)
{
	struct ctl_accepted a;
	enum ctl_refusal why;
	struct diag d;

	diag_init(&d, NULL);
	int ret = ctl_store_accept(dir, b, len, kr, served, force, &d, &why, &a);

	if (err)
		assert_int_equal(ret, err);
	else
		assert_true(ret < 0);
	assert_int_equal(why, want);
	assert_null(a.snap);
	assert_null(a.blob);
	assert_true(d.errors > 0);
	if (msg && !strstr(d.first, msg))
		fail_msg("message '%s' lacks '%s'", d.first, msg);
}

static int setup(void **state)
{
	struct snap_compile_opts o = { .serial = 1 };
	const char *p = NULL;
	struct zone *z;
	struct diag d;

	(void)state;
	snprintf(top, sizeof(top), "/tmp/p53-store.XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(key1, sizeof(key1), "%s/c1.key", top);
	snprintf(pub1, sizeof(pub1), "%s/c1.pub", top);
	snprintf(key2, sizeof(key2), "%s/c2.key", top);
	snprintf(pub2, sizeof(pub2), "%s/c2.pub", top);
	diag_init(&d, stderr);
	assert_int_equal(snap_key_generate(key1, pub1, &d), 0);
	assert_int_equal(snap_key_generate(key2, pub2, &d), 0);
	p = pub1;
	assert_int_equal(snap_keyring_load(&p, 1, &d, &kr1), 0);
	assert_int_equal(zone_parse_string(zone_text, strlen(zone_text),
					   "t.zone", NULL, &d, &z), 0);
	assert_int_equal(zone_check(z, NULL, &d), 0);
	assert_int_equal(snap_compile(&z, 1, &o, &d, &tmpl, &tmpl_len), 0);
	zone_free(z);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	free(tmpl);
	snap_keyring_free(kr1);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- tests -------------------------------------------------------------------- */

static void test_refusal_names(void **state)
{
	(void)state;
	assert_string_equal(ctl_refusal_name(CTL_OK), "ok");
	assert_string_equal(ctl_refusal_name(CTL_REFUSE_CORRUPT), "corrupt");
	assert_string_equal(ctl_refusal_name(CTL_REFUSE_SIGNATURE),
			    "bad-signature");
	assert_string_equal(ctl_refusal_name(CTL_REFUSE_STALE), "stale");
	assert_string_equal(ctl_refusal_name(CTL_REFUSE_TOO_LARGE), "too-large");
	assert_string_equal(ctl_refusal_name(CTL_REFUSE_STORE), "store-failed");
}

static void test_persist(void **state)
{
	char dir[128], list[512];
	size_t l1, l2, l3;
	uint8_t *s1 = must_make(10, key1, &l1), *s2 = must_make(11, key1, &l2),
		*s3 = must_make(20, key1, &l3);

	(void)state;
	new_dir(dir);
	assert_int_equal(accept_ok(dir, s1, l1, 0, kr1), 10);
	file_is(dir, "current.snap", s1, l1);
	names(dir, list, sizeof(list));
	assert_string_equal(list, "current.snap ");
	assert_int_equal(accept_ok(dir, s2, l2, 10, kr1), 11);
	file_is(dir, "current.snap", s2, l2);
	file_is(dir, "previous.snap", s1, l1);
	assert_int_equal(accept_ok(dir, s3, l3, 11, kr1), 20);
	file_is(dir, "current.snap", s3, l3);
	file_is(dir, "previous.snap", s2, l2);
	names(dir, list, sizeof(list));
	assert_true(!strcmp(list, "current.snap previous.snap ") ||
		    !strcmp(list, "previous.snap current.snap "));
	/* Not persisted without a directory; kr NULL takes unsigned. */
	free(s1);
	s1 = must_make(30, NULL, &l1);
	assert_int_equal(accept_ok(NULL, s1, l1, 20, NULL), 30);
	file_is(dir, "current.snap", s3, l3);
	free(s1);
	free(s2);
	free(s3);
}

/* Accepted without a directory, then persisted: the same files as an
 * accept into the directory, the current one rotated to previous. */
static void test_persist_after_accept(void **state)
{
	char dir[128];
	size_t l1, l2;
	uint8_t *s1 = must_make(40, key1, &l1), *s2 = must_make(41, key1, &l2);
	struct ctl_accepted a;
	enum ctl_refusal why;
	struct diag d;

	(void)state;
	new_dir(dir);
	diag_init(&d, NULL);
	assert_int_equal(ctl_store_accept(NULL, s1, l1, kr1, 0, false, &d, &why, &a), 0);
	assert_int_equal(ctl_store_persist(dir, &a, &d), 0);
	ctl_accepted_free(&a);
	file_is(dir, "current.snap", s1, l1);
	assert_int_equal(ctl_store_accept(NULL, s2, l2, kr1, 40, false, &d, &why, &a), 0);
	assert_int_equal(ctl_store_persist(dir, &a, &d), 0);
	file_is(dir, "current.snap", s2, l2);
	file_is(dir, "previous.snap", s1, l1);
	/* a directory that cannot take it: an error, the files unchanged */
	assert_int_equal(ctl_store_persist("/nonexistent/p53-store", &a, &d), P53_EIO);
	assert_true(d.errors > 0);
	ctl_accepted_free(&a);
	free(s1);
	free(s2);
}

static void test_verification(void **state)
{
	char dir[128], want[128];
	size_t l = 0, lu = 0, lk = 0, lb = 0;
	uint8_t *s = must_make(5, key1, &l), *u = must_make(6, NULL, &lu),
		*k2 = must_make(7, key2, &lk), *bad = must_make(8, key1, &lb);
	struct state st;

	(void)state;
	new_dir(dir);
	assert_int_equal(accept_ok(dir, s, l, 0, kr1), 5);
	state_get(dir, &st);
	refused(dir, u, lu, kr1, 5, false, P53_ESIG, CTL_REFUSE_SIGNATURE,
		"snapshot is not signed");
	refused(dir, k2, lk, kr1, 5, false, P53_ESIG, CTL_REFUSE_SIGNATURE,
		"signed by unknown key");
	bad[lb - 1] ^= 0x40;
	refused(dir, bad, lb, kr1, 5, false, P53_ESIG, CTL_REFUSE_SIGNATURE,
		"signature does not verify");
	/* Rollback and replay: refused with both serials named. */
	free(bad);
	bad = must_make(4, key1, &lb);
	refused(dir, bad, lb, kr1, 5, false, P53_ESTALE, CTL_REFUSE_STALE,
		"snapshot serial 4 is not newer than the served serial 5");
	refused(dir, s, l, kr1, 5, false, P53_ESTALE, CTL_REFUSE_STALE,
		"serial 5 is not newer than the served serial 5");
	/* Signature before serial: an old unsigned file says "not signed". */
	refused(dir, u, lu, kr1, 9, false, P53_ESIG, CTL_REFUSE_SIGNATURE, NULL);
	refused(dir, u, lu, kr1, 9, true, P53_ESIG, CTL_REFUSE_SIGNATURE, NULL);
	state_same(dir, &st);
	state_free(&st);
	/* force takes an older one. */
	{
		struct ctl_accepted a;
		enum ctl_refusal why;

		assert_int_equal(ctl_store_accept(dir, bad, lb, kr1, 5, true,
						  NULL, &why, &a), 0);
		assert_int_equal(a.serial, 4);
		ctl_accepted_free(&a);
	}
	file_is(dir, "current.snap", bad, lb);
	file_is(dir, "previous.snap", s, l);
	/* Too large is decided from the length alone. */
	snprintf(want, sizeof(want), "more than any snapshot");
	refused(dir, s, (size_t)UINT32_MAX + 1000, kr1, 0, false, P53_ELIMIT,
		CTL_REFUSE_TOO_LARGE, want);
	free(s);
	free(u);
	free(k2);
	free(bad);
}

static void test_truncation(void **state)
{
	char dir[128];
	size_t l, content = tmpl_len;
	uint8_t *s = must_make(3, key1, &l);
	struct state st;

	(void)state;
	new_dir(dir);
	assert_int_equal(accept_ok(dir, s, l, 0, kr1), 3);
	state_get(dir, &st);
	for (size_t n = 0; n < l; n++) {
		/* Cut exactly at the end of the content is a whole unsigned
		 * snapshot; every other cut is damage. */
		if (n == content)
			refused(dir, s, n, kr1, 0, false, P53_ESIG,
				CTL_REFUSE_SIGNATURE, "not signed");
		else
			refused(dir, s, n, kr1, 0, false, P53_ETRUNC,
				CTL_REFUSE_CORRUPT, "truncated");
	}
	state_same(dir, &st);
	state_free(&st);
	free(s);
}

static void test_flipped_bytes(void **state)
{
	char dir[128];
	size_t l, content = tmpl_len;
	uint8_t *s = must_make(3, key1, &l);
	struct state st;
	size_t magic = offsetof(struct snap_sig, alg),
	       size_at = offsetof(struct snap_sig, size);

	(void)state;
	new_dir(dir);
	assert_int_equal(accept_ok(dir, s, l, 0, kr1), 3);
	state_get(dir, &st);
	for (size_t i = 0; i < l; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			size_t t = i - content;
			bool corrupt = i < content || t < magic ||
				       (t >= size_at && t < size_at + 4);

			s[i] ^= (uint8_t)(1u << bit);
			/* content: whatever check sees it first */
			refused(dir, s, l, kr1, 0, false, i < content ? 0 :
				corrupt ? P53_EFORMAT : P53_ESIG,
				corrupt ? CTL_REFUSE_CORRUPT :
				CTL_REFUSE_SIGNATURE, NULL);
			s[i] ^= (uint8_t)(1u << bit);
		}
	}
	state_same(dir, &st);
	state_free(&st);
	free(s);
}

static void test_persist_failure(void **state)
{
	char dir[128], path[256], list[512];
	size_t l1, l2;
	uint8_t *s1 = must_make(1, key1, &l1), *s2 = must_make(2, key1, &l2);
	struct state st;
	int fd;

	(void)state;
	/* The state directory went away. */
	new_dir(dir);
	assert_int_equal(rmdir(dir), 0);
	refused(dir, s1, l1, kr1, 0, false, P53_EIO, CTL_REFUSE_STORE,
		"cannot open the state directory");
	assert_int_equal(access(dir, F_OK), -1);
	/* It is a file. */
	assert_true((fd = open(dir, O_CREAT | O_WRONLY, 0644)) >= 0);
	close(fd);
	refused(dir, s1, l1, kr1, 0, false, P53_EIO, CTL_REFUSE_STORE, NULL);
	assert_int_equal(unlink(dir), 0);
	/* current.snap cannot be replaced (a directory): nothing changes,
	 * no temporary file stays. */
	new_dir(dir);
	assert_int_equal(accept_ok(dir, s1, l1, 0, kr1), 1);
	snprintf(path, sizeof(path), "%s/current.snap", dir);
	assert_int_equal(rename(path, strcat(strcpy(list, dir), "/keep")), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	state_get(dir, &st);
	refused(dir, s2, l2, kr1, 1, false, P53_EIO, CTL_REFUSE_STORE,
		"current.snap");
	state_same(dir, &st);
	state_free(&st);
	/* Not writable (only meaningful when not root). */
	if (geteuid() != 0) {
		new_dir(dir);
		assert_int_equal(chmod(dir, 0500), 0);
		refused(dir, s1, l1, kr1, 0, false, P53_EIO, CTL_REFUSE_STORE,
			"cannot create a file in the state directory");
		names(dir, list, sizeof(list));
		assert_string_equal(list, "");
	}
	free(s1);
	free(s2);
}

static void load_ok(const char *dir, const struct snap_keyring *kr,
		    uint64_t serial, unsigned warnings)
{
	struct ctl_accepted a;
	struct diag d;

	diag_init(&d, NULL);
	assert_int_equal(ctl_store_load(dir, kr, &d, &a), 0);
	assert_int_equal(a.serial, serial);
	assert_int_equal(d.errors, 0);
	assert_int_equal(d.warnings, warnings);
	assert_int_equal((uintptr_t)a.blob % 8, 0);
	ctl_accepted_free(&a);
}

static void test_load(void **state)
{
	char dir[128], path[256], list[512];
	size_t l1, l2, l3, l4;
	uint8_t *s1 = must_make(1, key1, &l1), *s2 = must_make(2, key1, &l2),
		*s3 = must_make(3, key2, &l3), *s4 = must_make(4, key1, &l4);
	struct ctl_accepted a;
	struct diag d;
	FILE *f;

	(void)state;
	new_dir(dir);
	diag_init(&d, NULL);
	assert_int_equal(ctl_store_load(dir, kr1, &d, &a), P53_ENOTFOUND);
	assert_non_null(strstr(d.first, "no stored snapshot"));
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(ctl_store_load(path, kr1, &d, &a), P53_ENOTFOUND);

	accept_ok(dir, s1, l1, 0, kr1);
	accept_ok(dir, s2, l2, 1, kr1);
	/* Leftovers of a crash in the middle of a push go. */
	snprintf(path, sizeof(path), "%s/.current.snap.Ab12Cd", dir);
	f = fopen(path, "w");
	fputs("half", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/.current.snap.Ab12Cd.old", dir);
	assert_int_equal(link(strcat(strcpy(list, dir), "/previous.snap"),
			      path), 0);
	load_ok(dir, kr1, 2, 0);
	names(dir, list, sizeof(list));
	assert_null(strstr(list, ".current.snap."));

	/* A damaged current: previous is served, current moved aside. */
	snprintf(path, sizeof(path), "%s/current.snap", dir);
	f = fopen(path, "r+");
	fseek(f, 200, SEEK_SET);
	fputc('X', f);
	fclose(f);
	diag_init(&d, NULL);
	assert_int_equal(ctl_store_load(dir, kr1, &d, &a), 0);
	assert_int_equal(a.serial, 1);
	ctl_accepted_free(&a);
	assert_int_equal(d.warnings, 1);
	assert_int_equal(d.errors, 0);
	assert_int_equal(access(path, F_OK), -1);
	strcat(path, ".bad");
	assert_int_equal(access(path, F_OK), 0);
	/* The next push keeps the good previous.snap. */
	accept_ok(dir, s4, l4, 1, kr1);
	file_is(dir, "current.snap", s4, l4);
	file_is(dir, "previous.snap", s1, l1);
	load_ok(dir, kr1, 4, 0);

	/* Signed by a key no longer trusted: previous instead. */
	accept_ok(dir, s3, l3, 0, NULL);
	diag_init(&d, NULL);
	assert_int_equal(ctl_store_load(dir, kr1, &d, &a), 0);
	assert_int_equal(a.serial, 4);
	ctl_accepted_free(&a);
	assert_int_equal(d.warnings, 1);
	/* Both damaged: an error naming both. */
	new_dir(dir);
	accept_ok(dir, s1, l1, 0, kr1);
	accept_ok(dir, s2, l2, 1, kr1);
	snprintf(path, sizeof(path), "%s/current.snap", dir);
	assert_int_equal(truncate(path, 100), 0);
	snprintf(path, sizeof(path), "%s/previous.snap", dir);
	assert_int_equal(truncate(path, (off_t)l1 - 1), 0);
	diag_init(&d, NULL);
	assert_int_equal(ctl_store_load(dir, kr1, &d, &a), P53_ETRUNC);
	assert_null(a.snap);
	assert_non_null(strstr(d.first, "current.snap"));
	assert_non_null(strstr(d.first, "previous.snap"));
	free(s1);
	free(s2);
	free(s3);
	free(s4);
}

/* ---- crash safety ------------------------------------------------------------------ */

#define KILLS       200
#define ACKED       (1ull << 63)

/* The child: start as pop53d would (load, then take pushes with rising
 * serials), telling the parent each serial before it starts (plain) and
 * after it is acknowledged (ACKED bit). */
static void writer(const char *dir, int wfd)
{
	struct ctl_accepted a;
	enum ctl_refusal why;
	uint64_t served = 0;

	if (ctl_store_load(dir, kr1, NULL, &a) == 0) {
		served = a.serial;
		ctl_accepted_free(&a);
	}
	for (int i = 0; i < 4000; i++) {
		uint64_t serial = served + 1, msg;
		size_t len;
		uint8_t *b = make(serial, key1, &len);

		if (!b || write(wfd, &serial, 8) != 8)
			_exit(3);
		if (ctl_store_accept(dir, b, len, kr1, served, false, NULL,
				     &why, &a) < 0)
			_exit(4);
		free(b);
		ctl_accepted_free(&a);
		msg = serial | ACKED;
		if (write(wfd, &msg, 8) != 8)
			_exit(5);
		served = serial;
	}
	_exit(0);
}

struct progress {
	uint64_t started, acked;
};

static void take_msg(struct progress *pr, uint64_t msg)
{
	if (msg & ACKED)
		pr->acked = msg & ~ACKED;
	else
		pr->started = msg;
}

/* Wait (at most 5 s) until the writer has sent n more messages: with a
 * slow or busy disk a fixed delay could kill it before it ever gets
 * anywhere. */
static void wait_msgs(int fd, int n, struct progress *pr)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	uint64_t msg;

	while (n-- > 0 && poll(&pf, 1, 5000) == 1 && read(fd, &msg, 8) == 8)
		take_msg(pr, msg);
}

static void test_crash_safety(void **state)
{
	unsigned seed = 5353;
	struct progress pr = { 0, 0 };
	uint64_t last = 0;
	char dir[128];
	int kills = 0, p[2];

	(void)state;
	new_dir(dir);
	for (int round = 0; round < KILLS; round++) {
		struct ctl_accepted a;
		struct diag d;
		uint64_t msg;
		/* Kill at once (start-up), or after 1 to 4 messages (inside
		 * an accept, or between two) plus 0 to 3 ms. */
		int status, msgs = rand_r(&seed) % 5;
		struct timespec ts = { 0, msgs ? rand_r(&seed) % 3000000 : 0 };
		pid_t pid;

		assert_int_equal(pipe2(p, O_CLOEXEC), 0);
		assert_true((pid = fork()) >= 0);
		if (pid == 0) {
			close(p[0]);
			writer(dir, p[1]);
		}
		close(p[1]);
		wait_msgs(p[0], msgs, &pr);
		nanosleep(&ts, NULL);
		kills += kill(pid, SIGKILL) == 0;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status))
			fail_msg("writer exited with %d", WEXITSTATUS(status));
		while (read(p[0], &msg, 8) == 8)
			take_msg(&pr, msg);
		close(p[0]);
		diag_init(&d, NULL);
		if (ctl_store_load(dir, kr1, &d, &a) == P53_ENOTFOUND &&
		    pr.acked == 0)
			continue;       /* killed before the first rename */
		if (!a.snap)
			fail_msg("round %d: load failed: %s", round, d.first);
		/* Never damaged, never behind what was acknowledged, never
		 * ahead of what was started, never going back. */
		if (d.warnings)
			fail_msg("round %d: fallback needed: %s", round, d.first);
		assert_true(a.serial >= pr.acked);
		assert_true(a.serial <= pr.started);
		assert_true(a.serial >= last);
		last = a.serial;
		ctl_accepted_free(&a);
	}
	assert_int_equal(kills, KILLS);
	/* The writer got somewhere, or the test proved nothing. */
	assert_true(pr.acked > 10);
	fprintf(stderr, "crash safety: %d kills, last serial %llu\n", kills,
		(unsigned long long)last);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusal_names),
		cmocka_unit_test(test_persist),
		cmocka_unit_test(test_persist_after_accept),
		cmocka_unit_test(test_verification),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_flipped_bytes),
		cmocka_unit_test(test_persist_failure),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_crash_safety),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
