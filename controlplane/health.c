/*
 * health.c — the up/down decision with flap damping.
 */
#include <stdio.h>
#include <string.h>

#include "health.h"

static const char *const names[HEALTH_CHECK_COUNT] = {
	"workers", "ports", "snapshot", "snapshot_age", "canary", "extra",
};

const char *health_check_name(enum health_check c)
{
	return (unsigned)c < HEALTH_CHECK_COUNT ? names[c] : "unknown";
}

void health_init(struct health *h, const struct health_conf *conf)
{
	memset(h, 0, sizeof(*h));
	h->conf = *conf;
	if (!h->conf.fall)
		h->conf.fall = 1;
	if (!h->conf.rise)
		h->conf.rise = 1;
	for (int c = 0; c < HEALTH_CHECK_COUNT; c++)
		h->last_ok[c] = true;
}

bool health_up(const struct health *h)
{
	return h->up;
}

/* "ports: port 0 has no link; canary: SERVFAIL" */
static void failing(const struct health_obs *obs, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int c = 0; c < HEALTH_CHECK_COUNT && at < len; c++) {
		int n;

		if (obs->ok[c])
			continue;
		n = snprintf(buf + at, len - at, "%s%s%s%s", at ? "; " : "",
			     names[c], obs->why[c] ? ": " : "",
			     obs->why[c] ? obs->why[c] : "");
		if (n < 0)
			break;
		at += (size_t)n;
	}
}

static void set(struct health *h, struct health_event *ev, bool up,
		uint64_t now_ms)
{
	ev->changed = h->up != up;
	if (ev->changed) {
		h->transitions++;
		if (!up)
			h->down_since_ms = now_ms;
	}
	h->up = up;
}

void health_observe(struct health *h, const struct health_obs *obs,
		    uint64_t now_ms, struct health_event *ev)
{
	bool good = true;

	memset(ev, 0, sizeof(*ev));
	for (int c = 0; c < HEALTH_CHECK_COUNT; c++) {
		if (!obs->ok[c]) {
			good = false;
			h->failures[c]++;
		}
		h->last_ok[c] = obs->ok[c];
	}
	if (!h->started) {
		h->started = true;
		h->down_since_ms = now_ms;
	}
	if (good) {
		h->good_run++;
		h->bad_run = 0;
	} else {
		h->bad_run++;
		h->good_run = 0;
	}
	if (h->up && !good && h->bad_run >= h->conf.fall) {
		set(h, ev, false, now_ms);
		failing(obs, ev->reason, sizeof(ev->reason));
	} else if (!h->up && good && h->good_run >= h->conf.rise &&
		   now_ms - h->down_since_ms >= h->conf.hold_down_ms) {
		set(h, ev, true, now_ms);
		snprintf(ev->reason, sizeof(ev->reason), "%s",
			 h->transitions == 1 ? "healthy" : "recovered");
	} else if (!good) {
		failing(obs, ev->reason, sizeof(ev->reason));
	}
	ev->up = h->up;
}
