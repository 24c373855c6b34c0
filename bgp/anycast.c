/*
 * anycast.c — announce/withdraw/drain state machine over BIRD (see anycast.h).
 */
#include "anycast.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

enum { UNKNOWN = -1, OFF = 0, ON = 1 };

struct bgp_anycast {
	struct bgp_bird *bird;
	char *state_file;
	char *svc;                  /* protocol name patterns */
	char *gshut;
	unsigned drain_wait_ms;
	bool healthy;
	bool drain;
	bool drain_active;          /* DRAINING allowed until drain_until */
	uint64_t drain_until;
	enum bgp_phase phase;
	bool file_ok;               /* the file holds file_svc/file_gshut */
	bool file_svc, file_gshut;
	int bird_svc, bird_gshut;   /* what BIRD confirmed: UNKNOWN/OFF/ON */
	uint64_t changes;
	uint64_t errors;
	char last_error[256];
};

const char *bgp_phase_name(enum bgp_phase p)
{
	switch (p) {
	case BGP_WITHDRAWN: return "withdrawn";
	case BGP_ANNOUNCED: return "announced";
	case BGP_DRAINING:  return "draining";
	}
	return "?";
}

static int fsync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, rc = -1;

	if (!copy)
		return -1;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(copy);
	return rc;
}

int bgp_state_write(const char *path, bool svc_on, bool gshut_on,
		    char *err, size_t errlen)
{
	char tmp[4096], text[256];
	int fd = -1, n, len;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		snprintf(err, errlen, "state file path too long: %s", path);
		return P53_EIO;
	}
	len = snprintf(text, sizeof(text),
		       "# Written by pop53d (bgp/anycast.c) on every change; do not edit.\n"
		       "define P53_SVC_DISABLED = %d;\n"
		       "define P53_GSHUT_DISABLED = %d;\n", !svc_on, !gshut_on);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	if (write(fd, text, (size_t)len) != len || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	/* The rename is durable only once the directory is synced. */
	if (fsync_dir(path) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot write BIRD state file %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return P53_EIO;
}

static void note_error(struct bgp_anycast *a, int rc, const char *what)
{
	/* Backing off after a failed connect: no new failure to count, and
	 * last_error keeps the reason. */
	if (rc == P53_ESTATE)
		return;
	a->errors++;
	snprintf(a->last_error, sizeof(a->last_error), "%.60s: %.180s", what,
		 *bgp_bird_error(a->bird) ? bgp_bird_error(a->bird) : p53_strerror(rc));
}

/* BIRD answers enable/disable with one line per matching protocol, codes
 * 0008-0011 (already disabled, disabled, already enabled, enabled), and
 * a final 0000; no match is a single 8003. */
static bool toggled(const struct bgp_reply *r)
{
	size_t ok = 0;

	if (r->code >= 8000)
		return false;
	for (size_t i = 0; i < r->nlines; i++)
		ok += r->lines[i].code >= 8 && r->lines[i].code <= 11;
	return ok > 0;
}

static int toggle(struct bgp_anycast *a, const char *pattern, bool on, int *known)
{
	char cmd[256];          /* patterns are at most 200 bytes */
	struct bgp_reply r;
	int rc;

	snprintf(cmd, sizeof(cmd), "%s \"%s\"", on ? "enable" : "disable", pattern);
	rc = bgp_bird_cmd(a->bird, cmd, &r);
	if (rc < 0) {
		note_error(a, rc, cmd);
		bgp_reply_free(&r);
		return rc;
	}
	if (!toggled(&r)) {
		a->errors++;
		snprintf(a->last_error, sizeof(a->last_error), "BIRD refused '%.60s': %04d %.150s",
			 cmd, rc, r.nlines ? r.lines[r.nlines - 1].text : "");
		bgp_reply_free(&r);
		return rc == 8003 ? P53_ENOTFOUND : rc >= 9000 ? P53_ESYNTAX : P53_EPROTO;
	}
	bgp_reply_free(&r);
	*known = on ? ON : OFF;
	return 0;
}

static bool want_svc(const struct bgp_anycast *a)
{
	return a->phase != BGP_WITHDRAWN;
}

static bool want_gshut(const struct bgp_anycast *a)
{
	return a->phase == BGP_DRAINING;
}

static bool applied(const struct bgp_anycast *a)
{
	return a->file_ok && a->file_svc == want_svc(a) && a->file_gshut == want_gshut(a) &&
	       a->bird_svc == (want_svc(a) ? ON : OFF) &&
	       a->bird_gshut == (want_gshut(a) ? ON : OFF);
}

static int write_file(struct bgp_anycast *a)
{
	bool svc = want_svc(a), gshut = want_gshut(a);
	int rc;

	if (a->file_ok && a->file_svc == svc && a->file_gshut == gshut)
		return 0;
	rc = bgp_state_write(a->state_file, svc, gshut, a->last_error, sizeof(a->last_error));
	a->file_ok = rc == 0;
	a->file_svc = svc;
	a->file_gshut = gshut;
	if (rc < 0)
		a->errors++;
	return rc;
}

/* The next switch to flip, or NULL when BIRD holds the phase. The tagged
 * copy comes up before the plain one goes, and goes last, so no step
 * between two announced states is a withdraw at the router. */
static const char *next_step(struct bgp_anycast *a, bool *on, int **known)
{
	bool svc = want_svc(a), gshut = want_gshut(a);

	*known = &a->bird_gshut;
	*on = gshut;
	if (gshut && a->bird_gshut != ON)
		return a->gshut;
	if (a->bird_svc != (svc ? ON : OFF)) {
		*known = &a->bird_svc;
		*on = svc;
		return a->svc;
	}
	if (!gshut && a->bird_gshut != OFF)
		return a->gshut;
	return NULL;
}

/* File first (a BIRD restart in between then reads the new state), then
 * the run-time switches one at a time. A reconnect inside a step marks
 * everything unknown (reassert), so the loop re-sends the rest. */
static int apply(struct bgp_anycast *a)
{
	int frc = write_file(a), rc = 0;

	for (int i = 0; i < 8 && rc == 0; i++) {
		const char *pattern;
		int *known;
		bool on;

		pattern = next_step(a, &on, &known);
		if (!pattern)
			break;
		rc = toggle(a, pattern, on, known);
	}
	if (rc == 0 && frc == 0)
		a->last_error[0] = '\0';
	return rc < 0 ? rc : frc;
}

/* After a reconnect BIRD may be a new process, or someone may have used
 * birdc meanwhile: forget what it confirmed, so apply asserts it all. */
static int reassert(struct bgp_bird *b, void *arg)
{
	struct bgp_anycast *a = arg;

	(void)b;
	a->bird_svc = a->bird_gshut = UNKNOWN;
	return 0;
}

static enum bgp_phase decide(struct bgp_anycast *a, uint64_t now)
{
	if (!a->healthy)
		return BGP_WITHDRAWN;
	if (!a->drain)
		return BGP_ANNOUNCED;
	return a->drain_active && now < a->drain_until ? BGP_DRAINING : BGP_WITHDRAWN;
}

static int update(struct bgp_anycast *a, uint64_t now)
{
	enum bgp_phase p = decide(a, now);

	if (p != a->phase) {
		a->phase = p;
		a->changes++;
	}
	/* A drain that reached WITHDRAWN (timer, or health lost) is over
	 * for good; regaining health must not start a second one. */
	if (p == BGP_WITHDRAWN)
		a->drain_active = false;
	return applied(a) ? 0 : apply(a);
}

static char *pattern_dup(const char *p, const char *dflt)
{
	p = p ? p : dflt;
	if (!*p || strpbrk(p, "\"\r\n") || strlen(p) > 200)
		return NULL;
	return strdup(p);
}

int bgp_anycast_open(struct bgp_anycast **out, const struct bgp_anycast_conf *conf,
		     char *err, size_t errlen)
{
	struct bgp_anycast *a;
	int rc;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return P53_ENOMEM;
	}
	rc = P53_EINVAL;
	if (!conf->state_file || !*conf->state_file) {
		snprintf(err, errlen, "no BIRD state file configured");
		goto fail;
	}
	a->svc = pattern_dup(conf->svc_pattern, "p53_svc*");
	a->gshut = pattern_dup(conf->gshut_pattern, "p53_gshut*");
	if (!a->svc || !a->gshut) {
		snprintf(err, errlen, "bad BIRD protocol pattern (empty, too long or with '\"')");
		goto fail;
	}
	a->state_file = strdup(conf->state_file);
	rc = a->state_file ? bgp_bird_open(&a->bird, conf->bird_socket ? conf->bird_socket : "",
					   conf->timeout_ms, conf->retry_ms ? conf->retry_ms : 1000)
			   : P53_ENOMEM;
	if (rc < 0) {
		snprintf(err, errlen, "bad BIRD control socket path '%s'",
			 conf->bird_socket ? conf->bird_socket : "");
		goto fail;
	}
	bgp_bird_set_hook(a->bird, reassert, a);
	a->drain_wait_ms = conf->drain_wait_ms;
	a->bird_svc = a->bird_gshut = UNKNOWN;
	a->phase = BGP_WITHDRAWN;
	rc = write_file(a);
	if (rc < 0) {
		snprintf(err, errlen, "%s", a->last_error);
		goto fail;
	}
	apply(a);   /* BIRD down is fine: the file holds the state */
	*out = a;
	return 0;
fail:
	bgp_anycast_close(a);
	return rc;
}

void bgp_anycast_close(struct bgp_anycast *a)
{
	if (!a)
		return;
	if (a->bird && a->state_file) {
		a->healthy = false;
		a->drain_active = false;
		a->phase = BGP_WITHDRAWN;
		write_file(a);
		if (bgp_bird_connected(a->bird))
			apply(a);
	}
	bgp_bird_free(a->bird);
	free(a->state_file);
	free(a->svc);
	free(a->gshut);
	free(a);
}

int bgp_anycast_set_healthy(struct bgp_anycast *a, bool healthy, uint64_t now_ms)
{
	a->healthy = healthy;
	return update(a, now_ms);
}

int bgp_anycast_drain(struct bgp_anycast *a, bool drain, uint64_t now_ms)
{
	if (drain && !a->drain) {
		/* Only an announced node has traffic to hand over. */
		a->drain_active = a->phase == BGP_ANNOUNCED && a->drain_wait_ms > 0;
		a->drain_until = now_ms + a->drain_wait_ms;
	}
	if (!drain)
		a->drain_active = false;
	a->drain = drain;
	return update(a, now_ms);
}

int bgp_anycast_tick(struct bgp_anycast *a, uint64_t now_ms)
{
	if (!bgp_bird_poll(a->bird))
		a->bird_svc = a->bird_gshut = UNKNOWN;
	return update(a, now_ms);
}

void bgp_anycast_status(const struct bgp_anycast *a, uint64_t now_ms,
			struct bgp_anycast_status *st)
{
	memset(st, 0, sizeof(*st));
	st->phase = a->phase;
	st->healthy = a->healthy;
	st->drain = a->drain;
	st->applied = applied(a);
	st->bird_connected = bgp_bird_connected(a->bird);
	if (a->phase == BGP_DRAINING && a->drain_until > now_ms)
		st->drain_left_ms = a->drain_until - now_ms;
	st->changes = a->changes;
	st->bird_errors = a->errors;
	st->connects = bgp_bird_connects(a->bird);
	snprintf(st->bird_version, sizeof(st->bird_version), "%s", bgp_bird_version(a->bird));
	snprintf(st->last_error, sizeof(st->last_error), "%s", a->last_error);
}

int bgp_anycast_protocols(struct bgp_anycast *a, struct bgp_proto *out, size_t max)
{
	int rc = bgp_bird_show_protocols(a->bird, out, max);

	/* This may have been the exchange that found BIRD restarted. */
	if (!applied(a))
		apply(a);
	return rc;
}

struct bgp_bird *bgp_anycast_bird(struct bgp_anycast *a)
{
	return a->bird;
}
