/*
 * daemon.c — load, serve, stop; the control plane's event loop.
 *
 * The main thread runs one libevent loop: signals (SIGTERM/SIGINT stop,
 * SIGHUP reloads), the control socket, the push API, the metrics page and
 * the timer that frees replaced snapshots. The DNS threads (kernel UDP and
 * TCP) and the lcores never wait for it: they read the served snapshot
 * through one atomic pointer, and a swap is one store.
 *
 * Every snapshot change — SIGHUP, a push, pop53ctl load — ends in
 * publish(): store the pointer, let the readers move on (RCU), free the
 * old one once none can hold it.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <sys/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "ctl_http.h"
#include "ctl_sock.h"
#include "conf.h"
#include "daemon.h"
#include "node.h"
#include "anycast.h"
#include "cookie.h"
#include "rrl.h"
#include "failsafe.h"
#include "diag.h"
#include "dname.h"
#include "error.h"
#include "metrics.h"
#include "phealth.h"
#include "alias.h"
#include "snap.h"
#include "snap_sign.h"
#include "store.h"
#include "zone.h"

#ifdef POP53_DPDK
#include <netinet/in.h>

#include "dpdk.h"

#define EAL_MAX_ARGS 64
#endif

#ifndef POP53_VERSION
#define POP53_VERSION "unknown"
#endif

/* Grace period allowed to the lcores (they report once per burst:
 * microseconds); past it a worker is hung and its snapshot is leaked. */
#define DP_GRACE_MS     2000
/* Kernel threads hold the snapshot for one batch. A publish waits this
 * long for them, then hands the old snapshot to the retire timer, so the
 * loop is never held for long. */
#define SYNC_NOW_MS     20
#define RETIRE_EVERY_MS 100
#define RETIRE_MAX_MS   5000

/* A snapshot and the buffer behind it (compiled zones or a pushed blob;
 * NULL for a mapped file, which snap_close unmaps), and the policy
 * health words it read that its successor no longer uses (they moved
 * when the number of checks changed): freed with it, after RCU. */
struct loaded {
	struct snap *s;
	uint8_t *blob;
	uint8_t *words;
	struct snap_alias *alias_slots;  /* out-of-zone alias addresses it read
					  * and its successor does not */
};

/* A replaced snapshot some kernel thread may still read. */
struct retired {
	struct loaded l;
	uint64_t since_ms;
	struct retired *next;
};

static const char *const push_results[] = {
	"ok", "corrupt", "bad-signature", "stale", "too-large", "store-failed",
	"timeout", "busy", "bad-request",
};
#define NPUSH (sizeof(push_results) / sizeof(push_results[0]))

#define CTL_MAX_RELOADS 256     /* kept configurations; later ones leak */

struct daemon {
	struct ctl_daemon_opts *o;
	/* Configurations replaced by reload-config, freed at exit (their
	 * strings may still be in use: the engine's NSID, zone paths). */
	struct ctl_conf *old_confs[CTL_MAX_RELOADS];
	unsigned nold_confs;
	const struct ctl_conf *first_conf;  /* the caller's, never freed here */
	struct loaded cur;
	srv_snap_ptr current;        /* read by the kernel server threads */
	struct srv *srv;             /* NULL until started */
	int dpdk;                    /* lcores answer from dp_current() too */
	uint64_t loaded_at;          /* unix seconds of the last publish */
	bool drained;
	struct snap_keyring *kr;     /* NULL: signatures not required */
	struct event_base *base;
	struct event *sig[3];
	struct event *retire_ev;
	struct retired *retired;
	struct ctl_http *push, *metrics;
	struct ctl_sock *sock;
	struct ctl_node *node;       /* health: NULL until serving */
	struct ctl_phealth *ph;      /* policy health checks of the served snapshot */
	struct ctl_alias *al;        /* its out-of-zone alias targets, resolved */
	struct bgp_anycast *any;     /* announcing through BIRD, or NULL */
	struct bgp_failsafe *fs;     /* the interface BIRD's routes need */
	struct event *bgp_ev;        /* anycast tick */
	struct event *stop_ev;       /* the end of the drain before stopping */
	unsigned bgp_ticks;
	bool stopping;               /* SIGTERM: draining, then stop */
	/* DNS cookie secrets: two slots, the answering threads read the one
	 * the box points to; a rotation fills the other and swaps. */
	struct cookie_secrets secrets[2];
	unsigned secret_slot;
	struct cookie_box cookies;
	uint8_t secret[COOKIE_SECRET_LEN];   /* the configured current one */
	struct event *rrl_ev;        /* the periodic RRL report */
	struct event *sig_ev;        /* the DNSSEC signature expiry watch */
	uint64_t sig_warned_at;      /* unix seconds of the last expiry warning */
	/* Loop watchdog: the anycast tick beats; a thread takes the fail-safe
	 * interface down when the beat stops (a hung event loop cannot
	 * withdraw by itself). */
	_Atomic uint64_t loop_beat;
	atomic_bool wd_stop;
	pthread_t wd_thread;
	bool wd_started;
	char wd_ifname[32];
	struct ctl_ops ops;
	int stop_sig;
	unsigned reloads, failed, leaked;
	uint64_t pushes[NPUSH];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- loading ------------------------------------------------------------- */

/* Compile zone files, exactly as pop53-zonec would. */
static int load_zones(const struct ctl_daemon_opts *o, struct diag *d,
		      uint8_t **blob, struct snap **out)
{
	struct zone *z[CTL_MAX_ZONES] = { 0 };
	size_t len;
	int ret = 0;

	for (size_t i = 0; i < o->nzones && ret == 0; i++) {
		if ((ret = zone_parse_file(o->zones[i], NULL, d, &z[i])) == 0)
			ret = zone_check(z[i], NULL, d);
	}
	if (ret == 0)
		ret = snap_compile(z, o->nzones, NULL, d, blob, &len);
	if (ret == 0 && (ret = snap_open_mem(*blob, len, d, out)) < 0) {
		free(*blob);
		*blob = NULL;
	}
	for (size_t i = 0; i < o->nzones; i++)
		zone_free(z[i]);
	return ret;
}

/* Load what o names (--zone files or --snapshot) into *l. */
static int load(const struct ctl_daemon_opts *o, struct diag *d, struct loaded *l)
{
	*l = (struct loaded){ 0 };
	return o->snapshot ? snap_open(o->snapshot, d, &l->s) : load_zones(o, d, &l->blob, &l->s);
}

/* The last good snapshot of the state directory into *l. */
static int load_stored(struct daemon *dm, struct diag *d, struct loaded *l)
{
	struct ctl_accepted acc;
	int ret = ctl_store_load(dm->o->state_dir, dm->kr, d, &acc);

	*l = (struct loaded){ 0 };
	if (ret == 0)
		*l = (struct loaded){ acc.snap, acc.blob, NULL };
	return ret;
}

static void unload(struct loaded *l)
{
	snap_close(l->s);
	free(l->blob);
	hcheck_words_free(l->words);
	ctl_alias_slots_free(l->alias_slots);
	l->s = NULL;
	l->blob = NULL;
	l->words = NULL;
	l->alias_slots = NULL;
}

static uint64_t serial_of(const struct snap *s)
{
	return s ? snap_header(s)->serial : 0;
}

static void print_serving(const struct snap *s, const char *what)
{
	for (uint32_t i = 0; s && i < snap_zone_count(s); i++) {
		const struct snap_zone *z = snap_zone_at(s, i);
		char name[DNAME_TEXT_MAX];
		dname_to_text(snap_ptr(s, z->apex_name), name, sizeof(name));
		fprintf(stderr, "pop53d: %s%s serial %u (%u names)\n", what, name,
			z->soa_serial, z->node_count);
	}
}

/* ---- publishing (RCU) ----------------------------------------------------- */

/* Free every retired snapshot once the kernel threads have all left the
 * read-side sections they were in; one that outlives RETIRE_MAX_MS has a
 * hung reader and is leaked, never freed early. */
static void on_retire(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *dm = arg;
	int synced = srv_synchronize(dm->srv, 1) == 0;
	uint64_t now = now_ms();
	struct timeval tv = { 0, RETIRE_EVERY_MS * 1000 };

	(void)fd;
	(void)what;
	for (struct retired **pp = &dm->retired, *r; (r = *pp);) {
		if (!synced && now - r->since_ms < RETIRE_MAX_MS) {
			pp = &r->next;
			continue;
		}
		if (synced) {
			unload(&r->l);
		} else {
			dm->leaked++;
			fprintf(stderr, "pop53d: a kernel server thread did not pass a quiescent "
				"state in %u ms (hung?): a replaced snapshot is leaked, not freed\n",
				RETIRE_MAX_MS);
		}
		*pp = r->next;
		free(r);
	}
	if (dm->retired)
		evtimer_add(dm->retire_ev, &tv);
}

static void retire(struct daemon *dm, struct loaded old)
{
	struct timeval tv = { 0, RETIRE_EVERY_MS * 1000 };
	struct retired *r;

	if (!old.s)
		return;
	if (!dm->srv || srv_synchronize(dm->srv, SYNC_NOW_MS) == 0) {
		unload(&old);
		return;
	}
	if (!(r = malloc(sizeof(*r)))) {
		dm->leaked++;
		return;
	}
	*r = (struct retired){ .l = old, .since_ms = now_ms(), .next = dm->retired };
	dm->retired = r;
	if (!evtimer_pending(dm->retire_ev, NULL))
		evtimer_add(dm->retire_ev, &tv);
}

/* Run next's policy checks and attach their words to it, before it is
 * published. Words that moved are still read through the snapshot served
 * now: they go with it. On failure nothing changed. */
static int attach(struct daemon *dm, struct loaded *next, char *err, size_t errlen)
{
	uint8_t *old = NULL;
	struct snap_alias *old_slots = NULL;
	int ret;

	if ((ret = ctl_alias_check(dm->al, next->s, err, errlen)) < 0)
		return ret;
	ret = ctl_phealth_attach(dm->ph, next->s, &old, err, errlen);
	if (old && dm->cur.s && !dm->cur.words)
		dm->cur.words = old;
	else
		hcheck_words_free(old);    /* no snapshot reads them */
	if (ret < 0 || (ret = ctl_alias_attach(dm->al, next->s, &old_slots, err, errlen)) < 0)
		return ret;
	/* the served snapshot reads the previous slots until it retires */
	if (old_slots && dm->cur.s && dm->cur.s != next->s && !dm->cur.alias_slots)
		dm->cur.alias_slots = old_slots;
	else
		ctl_alias_slots_free(old_slots);
	return 0;
}

static void check_sig_expiry(struct daemon *dm, bool force);

/* Serve next from now on (it becomes dm's); label names the cause in the
 * log ("reload 3", "push"). Its policy checks are attached already. */
static void publish(struct daemon *dm, struct loaded next, const char *label)
{
	struct loaded old = dm->cur;
	char what[96];
	int grace_ok = 1;

	atomic_store_explicit(&dm->current, next.s, memory_order_seq_cst);
	dm->cur = next;
	dm->loaded_at = (uint64_t)time(NULL);
#ifdef POP53_DPDK
	if (dm->dpdk) {
		const struct snap *prev;
		if (dp_publish(next.s, &prev, DP_GRACE_MS) < 0) {
			fprintf(stderr, "pop53d: %s: a DPDK worker did not pass a quiescent state in "
				"%u ms (hung?)\n", label, DP_GRACE_MS);
			grace_ok = 0;
		}
	}
#endif
	if (grace_ok) {
		retire(dm, old);
	} else if (old.s) {
		dm->leaked++;
		fprintf(stderr, "pop53d: %s: the previous snapshot is leaked, not freed\n", label);
	}
	snprintf(what, sizeof(what), "%s: serving ", label);
	print_serving(next.s, what);
	if (dm->sig_ev)
		check_sig_expiry(dm, true);
}

/* SIGHUP: load the configured zones or snapshot again (or, with none, the
 * state directory's) and publish; a failed load changes nothing served. */
static void reload(struct daemon *dm)
{
	const struct ctl_daemon_opts *o = dm->o;
	struct loaded next = { 0 };
	struct diag d;
	char label[64], err[512];
	int ret;

	dm->reloads++;
	diag_init(&d, stderr);
	d.hide_warnings = 1;
	ret = o->nzones || o->snapshot ? load(o, &d, &next) : load_stored(dm, &d, &next);
	if (ret < 0) {
		dm->failed++;
		fprintf(stderr, "pop53d: reload %u failed (%u error%s, first: %s); nothing changed\n",
			dm->reloads, d.errors, d.errors == 1 ? "" : "s",
			d.errors ? d.first : p53_strerror(ret));
		snprintf(label, sizeof(label), "reload %u failed: still serving ", dm->reloads);
		print_serving(dm->cur.s, label);
		return;
	}
	/* As at start: a push kept in the state directory is not rolled back
	 * by an older configured snapshot. */
	if (o->state_dir && (o->nzones || o->snapshot) &&
	    serial_of(next.s) < serial_of(dm->cur.s)) {
		fprintf(stderr, "pop53d: reload %u: serial %llu is older than the served %llu "
			"(pushed or loaded): still serving it\n", dm->reloads,
			(unsigned long long)serial_of(next.s),
			(unsigned long long)serial_of(dm->cur.s));
		unload(&next);
		return;
	}
	if (attach(dm, &next, err, sizeof(err)) < 0) {
		dm->failed++;
		fprintf(stderr, "pop53d: reload %u failed (%s); nothing changed\n", dm->reloads,
			err);
		unload(&next);
		return;
	}
	snprintf(label, sizeof(label), "reload %u", dm->reloads);
	publish(dm, next, label);
}

/* ---- the control doors' operations ------------------------------------------ */

static void count_push(struct daemon *dm, const char *result)
{
	for (size_t i = 0; i < NPUSH; i++)
		if (!strcmp(push_results[i], result))
			dm->pushes[i]++;
}

static uint64_t op_served_serial(void *arg)
{
	return serial_of(((struct daemon *)arg)->cur.s);
}

/* Verify buf, refuse it when its policy checks cannot run, then persist
 * it: refused before it reaches the state directory, whose snapshot is
 * served again at start. */
static int accept_checked(struct daemon *dm, const uint8_t *buf, size_t len, bool force,
			  struct diag *d, enum ctl_refusal *why, struct ctl_accepted *acc)
{
	uint64_t served = serial_of(dm->cur.s);
	char err[512];
	int ret = ctl_store_accept(NULL, buf, len, dm->kr, served, force, d, why, acc);

	if (ret < 0)
		return ret;
	if ((ret = ctl_phealth_check(acc->snap, NULL, err, sizeof(err))) < 0 ||
	    (ret = ctl_alias_check(dm->al, acc->snap, err, sizeof(err))) < 0) {
		diag_error(d, NULL, 0, 0, "%s", err);
		*why = ret == P53_ENOMEM ? CTL_REFUSE_STORE : CTL_REFUSE_CORRUPT;
		ctl_accepted_free(acc);
		return ret;
	}
	if (dm->o->state_dir && (ret = ctl_store_persist(dm->o->state_dir, acc, d)) < 0) {
		*why = CTL_REFUSE_STORE;
		ctl_accepted_free(acc);
		return ret;
	}
	return 0;
}

static void push_refused(struct daemon *dm, struct ctl_push_result *r, size_t len)
{
	count_push(dm, ctl_refusal_name(r->why));
	fprintf(stderr, "pop53d: snapshot of %zu bytes refused (%s): %s; still serving serial "
		"%llu\n", len, ctl_refusal_name(r->why), r->message, (unsigned long long)r->serial);
}

/* Verify, persist, publish: the one path of pushed and loaded snapshots. */
static void op_push(void *arg, const uint8_t *buf, size_t len, bool force,
		    struct ctl_push_result *r)
{
	struct daemon *dm = arg;
	uint64_t served = serial_of(dm->cur.s);
	enum ctl_refusal why = CTL_OK;
	struct ctl_accepted acc;
	struct loaded next;
	struct diag d;
	int ret;

	memset(r, 0, sizeof(*r));
	r->serial = served;
	diag_init(&d, NULL);
	if ((ret = accept_checked(dm, buf, len, force, &d, &why, &acc)) < 0) {
		r->why = why == CTL_OK ? CTL_REFUSE_STORE : why;
		snprintf(r->message, sizeof(r->message), "%s", d.errors ? d.first : p53_strerror(ret));
		push_refused(dm, r, len);
		return;
	}
	next = (struct loaded){ acc.snap, acc.blob, NULL };
	if (attach(dm, &next, r->message, sizeof(r->message)) < 0) {
		r->why = CTL_REFUSE_STORE;     /* checked already: out of memory */
		push_refused(dm, r, len);
		unload(&next);
		return;
	}
	r->previous_serial = served;
	r->serial = acc.serial;
	r->zones = snap_zone_count(acc.snap);
	count_push(dm, "ok");
	fprintf(stderr, "pop53d: snapshot serial %llu accepted%s (%zu bytes; was serial %llu)\n",
		(unsigned long long)acc.serial, force ? " with force" : "", len,
		(unsigned long long)served);
	publish(dm, next, "push");
}

static void op_load(void *arg, const char *path, bool force, struct ctl_push_result *r)
{
	struct daemon *dm = arg;
	uint8_t *buf;
	size_t len;
	struct diag d;

	diag_init(&d, NULL);
	if (snap_file_read(path, &d, &buf, &len) < 0) {
		memset(r, 0, sizeof(*r));
		r->why = CTL_REFUSE_CORRUPT;
		r->serial = serial_of(dm->cur.s);
		snprintf(r->message, sizeof(r->message), "%s", d.first);
		count_push(dm, "corrupt");
		return;
	}
	op_push(arg, buf, len, force, r);
	free(buf);
}

static void op_refused(void *arg, const char *result)
{
	count_push(arg, result);
}

static void op_drain(void *arg, bool on)
{
	struct daemon *dm = arg;

	if (dm->drained != on)
		fprintf(stderr, "pop53d: %s by the operator\n", on ? "drained" : "undrained");
	dm->drained = on;
	if (dm->any)
		(void)bgp_anycast_drain(dm->any, on, now_ms());
}

/* ---- rate limiting and cookies ----------------------------------------------- */

/* The RRL settings of the options, checked; off (0) without a rate. */
static int rrl_of(const struct ctl_daemon_opts *o, struct rrl_conf *rc, char *err,
		  size_t errlen)
{
	const unsigned *rate[] = { &o->rrl_nodata, &o->rrl_nxdomains, &o->rrl_referrals,
				   &o->rrl_errors };
	uint32_t *to[] = { &rc->nodata_per_second, &rc->nxdomains_per_second,
			   &rc->referrals_per_second, &rc->errors_per_second };

	rrl_conf_init(rc);
	rc->responses_per_second = o->rrl_responses;
	for (size_t i = 0; i < sizeof(to) / sizeof(to[0]); i++)
		*to[i] = *rate[i] == CTL_RRL_INHERIT ? RRL_INHERIT : *rate[i];
	rc->window = o->rrl_window;
	rc->slip = o->rrl_slip;
	rc->ipv4_prefix_length = (uint8_t)o->rrl_v4len;
	rc->ipv6_prefix_length = (uint8_t)o->rrl_v6len;
	rc->log_only = (uint8_t)o->rrl_log_only;
	rc->table_size = o->rrl_table_size;
	for (size_t i = 0; i < o->nrrl_exempt && i < RRL_MAX_EXEMPT; i++) {
		if (rrl_prefix_parse(o->rrl_exempt[i], &rc->exempt[rc->nexempt]) < 0) {
			snprintf(err, errlen, "rrl.exempt_clients: bad prefix %s", o->rrl_exempt[i]);
			return P53_EINVAL;
		}
		rc->nexempt++;
	}
	return rrl_conf_check(rc, err, errlen);
}

static int rrl_setup(struct daemon *dm)
{
	struct ctl_daemon_opts *o = dm->o;
	char err[256];

	if (!o->rrl_responses)
		return 0;
	if (rrl_of(o, &o->srv.rrl, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: rrl: %s\n", err);
		return -1;
	}
	o->srv.rrl_on = 1;
	fprintf(stderr, "pop53d: response rate limiting: %u responses/s per /%u or /%u, window %u s, "
		"slip %u%s\n", o->rrl_responses, o->rrl_v4len, o->rrl_v6len, o->rrl_window,
		o->rrl_slip, o->rrl_log_only ? " (log only)" : "");
	return 0;
}

#define RRL_REPORT_S  10
#define RRL_REPORT_N  10

/* Aggregate RRL log: the prefixes limited most in the last period, one
 * line each, never a line per packet. */
static void on_rrl_report(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *dm = arg;
	struct rrl_report r[RRL_REPORT_N];
	unsigned n;
	char p[64];

	(void)fd;
	(void)what;
#ifdef POP53_DPDK
	if (dm->dpdk)
		n = dp_rrl_report(r, RRL_REPORT_N);
	else
#endif
		n = srv_rrl_report(dm->srv, r, RRL_REPORT_N);
	for (unsigned i = 0; i < n; i++)
		fprintf(stderr, "pop53d: rrl: limited %s: %llu responses in %u s%s\n",
			rrl_prefix_format(&r[i].prefix, p, sizeof(p)),
			(unsigned long long)r[i].limited, RRL_REPORT_S,
			dm->o->rrl_log_only ? " (log only)" : "");
}

/* ---- DNSSEC signature expiry ----------------------------------------------- */

#define SIG_CHECK_S     60          /* how often the served snapshot is looked at */
#define SIG_REPEAT_S    3600        /* a warning repeats this often, not more */

/* Warn when the earliest RRSIG of the served snapshot expires within the
 * configured time (or has expired). A warning only: every PoP serves the
 * same snapshot, so withdrawing for it would take the whole anycast
 * service down at once; resolvers fail only the names whose signatures
 * expired, and the controller's re-signed push fixes every PoP. */
static void check_sig_expiry(struct daemon *dm, bool force)
{
	uint32_t exp = dm->cur.s ? snap_header(dm->cur.s)->min_sig_expiry : 0;
	uint64_t now = (uint64_t)time(NULL);
	unsigned warn = dm->o->dnssec_expiry_warning_s ? dm->o->dnssec_expiry_warning_s :
			CTL_DNSSEC_EXPIRY_WARNING_S;
	int64_t left = (int64_t)exp - (int64_t)now;

	if (!exp || left > (int64_t)warn)
		return;
	if (!force && dm->sig_warned_at && now - dm->sig_warned_at < SIG_REPEAT_S)
		return;
	dm->sig_warned_at = now;
	if (left <= 0)
		fprintf(stderr, "pop53d: WARNING: DNSSEC signatures of serial %llu EXPIRED %lld s "
			"ago: validating resolvers fail those answers; push a re-signed snapshot "
			"(the prefix stays announced)\n", (unsigned long long)serial_of(dm->cur.s),
			(long long)-left);
	else
		fprintf(stderr, "pop53d: WARNING: the earliest DNSSEC signature of serial %llu "
			"expires in %lld s (%.1f days): push a re-signed snapshot\n",
			(unsigned long long)serial_of(dm->cur.s), (long long)left, left / 86400.0);
}

static void on_sig_check(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	check_sig_expiry(arg, false);
}

static int sig_watch_start(struct daemon *dm)
{
	struct timeval tv = { SIG_CHECK_S, 0 };

	dm->sig_ev = event_new(dm->base, -1, EV_PERSIST, on_sig_check, dm);
	if (!dm->sig_ev || event_add(dm->sig_ev, &tv) < 0)
		return -1;
	check_sig_expiry(dm, true);
	return 0;
}

static int rrl_report_start(struct daemon *dm)
{
	struct timeval tv = { RRL_REPORT_S, 0 };

	if (!dm->o->srv.rrl_on)
		return 0;
	dm->rrl_ev = event_new(dm->base, -1, EV_PERSIST, on_rrl_report, dm);
	return dm->rrl_ev && event_add(dm->rrl_ev, &tv) == 0 ? 0 : -1;
}

/* The secret of the options: given, from a file, or NULL for random. */
static int secret_of(const struct ctl_daemon_opts *o, uint8_t out[COOKIE_SECRET_LEN],
		     char *err, size_t errlen)
{
	char text[256] = "";
	FILE *f;

	if (o->cookie_secret_file) {
		if (!(f = fopen(o->cookie_secret_file, "r")) || !fgets(text, sizeof(text), f)) {
			snprintf(err, errlen, "cannot read %s", o->cookie_secret_file);
			if (f)
				fclose(f);
			return P53_EIO;
		}
		fclose(f);
		text[strcspn(text, " \t\r\n")] = '\0';
	} else if (o->cookie_secret) {
		snprintf(text, sizeof(text), "%s", o->cookie_secret);
	} else {
		return 1;
	}
	if (cookie_secret_parse(text, out) < 0) {
		snprintf(err, errlen, "the cookie secret must be %d hexadecimal digits",
			 2 * COOKIE_SECRET_LEN);
		return P53_EINVAL;
	}
	return 0;
}

/* Server cookies are always on (RFC 7873 servers answer clients' cookies);
 * the engine of every door reads the secrets through dm->cookies. */
static int cookies_setup(struct daemon *dm)
{
	char err[256];
	int ret = secret_of(dm->o, dm->secret, err, sizeof(err));

	if (ret < 0) {
		fprintf(stderr, "pop53d: cookies: %s\n", err);
		return -1;
	}
	if (ret == 1) {
		if (getrandom(dm->secret, sizeof(dm->secret), 0) != (ssize_t)sizeof(dm->secret)) {
			fprintf(stderr, "pop53d: cookies: no random secret: %s\n", strerror(errno));
			return -1;
		}
		fprintf(stderr, "pop53d: cookies: random secret (set cookies.secret, the same on "
			"every PoP, so that a client's cookie is valid anywhere in the anycast)\n");
	}
	memset(dm->secrets, 0, sizeof(dm->secrets));
	memcpy(dm->secrets[0].current, dm->secret, sizeof(dm->secret));
	cookie_box_set(&dm->cookies, &dm->secrets[0]);
	dm->o->srv.engine.cookies = &dm->cookies;
	return 0;
}

/* reload-config gave another secret: it becomes current, the old one
 * previous (cookies made with it stay valid), once every reader has
 * passed a quiescent state the old slot is free for the next rotation. */
static void cookies_rotate(struct daemon *dm, const uint8_t fresh[COOKIE_SECRET_LEN])
{
	unsigned next = dm->secret_slot ^ 1;

	cookie_secrets_rotate(&dm->secrets[next], &dm->secrets[dm->secret_slot], fresh);
	cookie_box_set(&dm->cookies, &dm->secrets[next]);
	dm->secret_slot = next;
	memcpy(dm->secret, fresh, COOKIE_SECRET_LEN);
#ifdef POP53_DPDK
	if (dm->dpdk)
		(void)dp_sync(1000);
#endif
	if (dm->srv)
		(void)srv_synchronize(dm->srv, 1000);
	fprintf(stderr, "pop53d: cookies: secret rotated (the previous one is still accepted)\n");
}

/* pop53ctl fault: "stall:MS" or "stall:WORKER:MS". */
static int op_fault(void *arg, const char *what, char *err, size_t errlen)
{
	struct daemon *dm = arg;
	unsigned a = 0, b = 0;
	int n = 0, ret;

	if (!dm->o->fault_injection) {
		snprintf(err, errlen, "fault injection is off (start pop53d with "
			 "--fault-injection 1)");
		return P53_ENOTSUP;
	}
	if (sscanf(what, "stall:%u:%u%n", &a, &b, &n) == 2 && !what[n]) {
#ifdef POP53_DPDK
		if (dm->dpdk) {
			if ((ret = dp_stall(a, b)) < 0)
				snprintf(err, errlen, "no DPDK worker %u (or 0 ms)", a);
			goto done;
		}
#endif
		snprintf(err, errlen, "stall:WORKER:MS needs --io dpdk");
		return P53_EINVAL;
	}
	n = 0;
	if (sscanf(what, "hang:%u%n", &a, &n) == 1 && !what[n] && a && a <= 60000) {
		/* The event loop itself stops (as a deadlock would). */
		struct timespec ts = { a / 1000, (long)(a % 1000) * 1000000L };

		fprintf(stderr, "pop53d: fault injected: %s\n", what);
		while (nanosleep(&ts, &ts) != 0)
			;
		return 0;
	}
	n = 0;
	if (sscanf(what, "stall:%u%n", &a, &n) != 1 || what[n] || !a) {
		snprintf(err, errlen, "unknown fault '%.64s' (stall:MS, stall:WORKER:MS, hang:MS)",
			 what);
		return P53_EINVAL;
	}
	ret = 0;
#ifdef POP53_DPDK
	if (dm->dpdk) {
		for (unsigned w = 0; w < dp_workers() && ret == 0; w++)
			ret = dp_stall(w, a);
		goto done;
	}
#endif
	ret = srv_stall(dm->srv, a);
	if (ret < 0)
		snprintf(err, errlen, "no UDP threads to stall");
#ifdef POP53_DPDK
done:
#endif
	if (ret == 0)
		fprintf(stderr, "pop53d: fault injected: %s\n", what);
	return ret;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return alen == blen && (!alen || !memcmp(a, b, alen));
}

/* Settings that sockets, threads, ports or the engine took at start: a
 * reload that changes one is refused whole (restart to apply). Names the
 * first such setting in err. */
static bool needs_restart(const struct ctl_daemon_opts *a, const struct ctl_daemon_opts *b,
			  char *err, size_t errlen)
{
	const struct srv_conf *x = &a->srv, *y = &b->srv;
	const char *what = NULL;

	if (a->io != b->io)
		what = "server.io";
	else if (x->nlisten != y->nlisten)
		what = "server.listen";
	for (size_t i = 0; !what && i < x->nlisten; i++) {
		if (x->listen[i].len != y->listen[i].len ||
		    memcmp(&x->listen[i].addr, &y->listen[i].addr, x->listen[i].len))
			what = "server.listen";
	}
	if (what)
		;
	else if (x->udp_threads != y->udp_threads)
		what = "server.udp_threads";
	else if (x->tcp_max_conns != y->tcp_max_conns || x->tcp_idle_ms != y->tcp_idle_ms)
		what = "server.tcp_max_conns / tcp_idle_ms";
	else if (!same_bytes(x->engine.nsid, x->engine.nsid_len, y->engine.nsid,
			     y->engine.nsid_len) ||
		 !same_str(x->engine.version, y->engine.version) ||
		 !same_str(x->engine.identity, y->engine.identity) ||
		 x->engine.udp_payload != y->engine.udp_payload)
		what = "server.nsid / version_string / identity";
	else if (x->engine.ecs != y->engine.ecs || x->engine.ecs_v4_cap != y->engine.ecs_v4_cap ||
		 x->engine.ecs_v6_cap != y->engine.ecs_v6_cap)
		what = "server.ecs / ecs_ipv4_prefix_length / ecs_ipv6_prefix_length";
	else if (!same_str(a->eal, b->eal) || a->exception != b->exception ||
		 !same_str(a->exc_ifname, b->exc_ifname) || a->nexc_addr != b->nexc_addr ||
		 memcmp(a->exc_addr, b->exc_addr, sizeof(a->exc_addr)))
		what = "dpdk";
	else if (!same_str(a->state_dir, b->state_dir))
		what = "state_dir";
	else if (!same_str(a->push_listen, b->push_listen) || !same_str(a->tls_cert, b->tls_cert) ||
		 !same_str(a->tls_key, b->tls_key) || !same_str(a->tls_client_ca, b->tls_client_ca))
		what = "push.listen / push.tls";
	else if (!same_str(a->metrics_listen, b->metrics_listen))
		what = "metrics.listen";
	else if (!same_str(a->control_socket, b->control_socket))
		what = "control.socket";
	if (what)
		snprintf(err, errlen, "%s changed: restart pop53d to apply it (nothing was changed)",
			 what);
	return what != NULL;
}

/*
 * pop53ctl reload-config: read the file again with the running command
 * line over it. What can change while serving does (trusted keys, push
 * limits, the maximum snapshot age, the zone files or snapshot a SIGHUP
 * reloads); a change to anything bound at start is refused whole. The
 * previous configuration is kept until exit: the engine and the threads
 * still point into its strings.
 */
static int op_reload_config(void *arg, char *err, size_t errlen)
{
	struct daemon *dm = arg;
	const struct ctl_conf *running = ctl_conf_of(dm->o);
	struct snap_keyring *kr = NULL;
	struct ctl_daemon_opts *no;
	struct ctl_conf *next;
	struct diag d;

	if (!dm->o->config_path || !running) {
		snprintf(err, errlen, "pop53d runs without a configuration file (--config)");
		return P53_EINVAL;
	}
	diag_init(&d, NULL);
	if (ctl_conf_reload(running, &d, &next) < 0) {
		snprintf(err, errlen, "%s (%u error%s; nothing was changed)",
			 d.errors ? d.first : "the configuration does not load",
			 d.errors, d.errors == 1 ? "" : "s");
		return P53_ESYNTAX;
	}
	no = ctl_conf_opts(next);
	if (needs_restart(dm->o, no, err, errlen))
		goto fail;
	if (no->nkeys && snap_keyring_load(no->trusted_keys, no->nkeys, &d, &kr) < 0) {
		snprintf(err, errlen, "%s", d.first);
		goto fail;
	}
	if (dm->o->rrl_responses != no->rrl_responses ||
	    dm->o->rrl_window != no->rrl_window || dm->o->rrl_slip != no->rrl_slip) {
		snprintf(err, errlen, "rrl changed: restart pop53d to apply it (nothing was changed)");
		goto fail;
	}
	{
		uint8_t fresh[COOKIE_SECRET_LEN];
		int sret = secret_of(no, fresh, err, errlen);

		if (sret < 0)
			goto fail;
		if (sret == 0 && memcmp(fresh, dm->secret, sizeof(fresh)))
			cookies_rotate(dm, fresh);
	}
	if (dm->push && !no->nkeys) {
		snprintf(err, errlen, "push.trusted_keys: the push API needs at least one");
		goto fail;
	}
	snap_keyring_free(dm->kr);
	dm->kr = kr;
	if (dm->push)
		ctl_http_set_limits(dm->push, no->push_max_bytes, no->push_timeout_ms);
	if (running != dm->first_conf && dm->nold_confs < CTL_MAX_RELOADS)
		dm->old_confs[dm->nold_confs++] = (struct ctl_conf *)running;
	no->srv.engine.cookies = &dm->cookies;
	no->srv.rrl_on = dm->o->srv.rrl_on;
	no->srv.rrl = dm->o->srv.rrl;
	dm->o = no;
	ctl_node_set_max_age(dm->node, no->max_snapshot_age_s);
	fprintf(stderr, "pop53d: configuration reloaded from %s (%zu trusted key%s, maximum "
		"snapshot age %u s)\n", no->config_path, no->nkeys, no->nkeys == 1 ? "" : "s",
		no->max_snapshot_age_s);
	return 0;
fail:
	ctl_conf_free(next);
	return P53_EINVAL;
}

/* The health decision once the node is watched; before that, whether a
 * fresh enough snapshot is loaded. */
static bool healthy(const struct daemon *dm)
{
	uint64_t now = (uint64_t)time(NULL), created;

	if (dm->node)
		return health_up(ctl_node_health(dm->node));
	if (!dm->cur.s)
		return false;
	created = snap_header(dm->cur.s)->created;
	return !dm->o->max_snapshot_age_s || now < created ||
	       now - created <= dm->o->max_snapshot_age_s;
}

#define MAX_PROTOS 32

/* "anycast": the phase wanted and whether BIRD holds it, and BIRD's BGP
 * sessions as it lists them. */
static void status_anycast(struct daemon *dm, struct evbuffer *out)
{
	struct bgp_proto p[MAX_PROTOS];
	struct bgp_anycast_status st;
	int n;

	bgp_anycast_status(dm->any, now_ms(), &st);
	evbuffer_add_printf(out, ", \"anycast\": {\"phase\": \"%s\", \"applied\": %s, "
			    "\"bird_connected\": %s, \"last_error\": ", bgp_phase_name(st.phase),
			    st.applied ? "true" : "false", st.bird_connected ? "true" : "false");
	ctl_json_str(out, st.last_error);
	evbuffer_add_printf(out, ", \"sessions\": [");
	n = bgp_anycast_protocols(dm->any, p, MAX_PROTOS);
	for (int i = 0, k = 0; i < n; i++) {
		if (strcmp(p[i].proto, "BGP"))
			continue;
		evbuffer_add_printf(out, "%s{\"name\": ", k++ ? ", " : "");
		ctl_json_str(out, p[i].name);
		evbuffer_add_printf(out, ", \"state\": ");
		ctl_json_str(out, p[i].state);
		evbuffer_add_printf(out, ", \"info\": ");
		ctl_json_str(out, p[i].info);
		evbuffer_add_printf(out, "}");
	}
	evbuffer_add_printf(out, "]}");
}

#define STATUS_MAX_CHECKS 1024    /* listed in status; metrics have them all */

/* "policy_checks": each policy health check's state, in word order. */
static void status_checks(struct daemon *dm, struct evbuffer *out)
{
	size_t n = ctl_phealth_count(dm->ph);
	struct hcheck_stats st;

	evbuffer_add_printf(out, ", \"policy_checks_total\": %zu, \"policy_checks\": [", n);
	for (size_t i = 0; i < n && i < STATUS_MAX_CHECKS; i++) {
		if (ctl_phealth_stats(dm->ph, i, &st) < 0)
			break;
		evbuffer_add_printf(out, "%s{\"name\": ", i ? ", " : "");
		ctl_json_str(out, st.name);
		evbuffer_add_printf(out, ", \"kind\": \"%s\", \"healthy\": %s, \"local_healthy\": "
				    "%s, \"votes_live\": %u, \"votes_healthy\": %u, \"probes\": "
				    "%llu, \"failures\": %llu, \"transitions\": %llu, "
				    "\"last_latency_us\": %u, \"last_error\": ",
				    hcheck_kind_name(st.kind), st.healthy ? "true" : "false",
				    st.local_healthy ? "true" : "false", st.votes_live,
				    st.votes_healthy, (unsigned long long)st.probes,
				    (unsigned long long)st.failures,
				    (unsigned long long)st.transitions, st.last_latency_us);
		ctl_json_str(out, st.last_error);
		evbuffer_add(out, "}", 1);
	}
	evbuffer_add(out, "]", 1);
}

/* "alias_targets": out-of-zone alias targets and what they answer. */
static void status_aliases(struct daemon *dm, struct evbuffer *out)
{
	size_t n = ctl_alias_count(dm->al);
	struct ctl_alias_stats st;

	evbuffer_add_printf(out, ", \"alias_targets\": [");
	for (size_t i = 0; i < n && i < STATUS_MAX_CHECKS; i++) {
		if (ctl_alias_stats(dm->al, i, &st) < 0)
			break;
		evbuffer_add_printf(out, "%s{\"target\": ", i ? ", " : "");
		ctl_json_str(out, st.target);
		evbuffer_add_printf(out, ", \"ipv4\": %d, \"ipv6\": %d, \"stale\": %s, "
				    "\"queries\": %llu, \"failures\": %llu}",
				    st.have4 ? st.n4 : -1, st.have6 ? st.n6 : -1,
				    st.stale ? "true" : "false", (unsigned long long)st.queries,
				    (unsigned long long)st.failures);
	}
	evbuffer_add(out, "]", 1);
}

static int op_vote(void *arg, const char *check, uint32_t source, bool healthy,
		   uint32_t ttl_ms, char *err, size_t errlen)
{
	struct daemon *dm = arg;

	return ctl_phealth_vote(dm->ph, check, source, healthy, ttl_ms, err, errlen);
}

static void op_status(void *arg, struct evbuffer *out)
{
	struct daemon *dm = arg;
	const struct snap *s = dm->cur.s;
	char name[DNAME_TEXT_MAX];

	evbuffer_add_printf(out, "\"serial\": %llu, \"zones\": [",
			    (unsigned long long)serial_of(s));
	for (uint32_t i = 0; s && i < snap_zone_count(s); i++) {
		const struct snap_zone *z = snap_zone_at(s, i);
		dname_to_text(snap_ptr(s, z->apex_name), name, sizeof(name));
		evbuffer_add_printf(out, "%s{\"name\": ", i ? ", " : "");
		ctl_json_str(out, name);
		evbuffer_add_printf(out, ", \"serial\": %u, \"names\": %u}", z->soa_serial,
				    z->node_count);
	}
	evbuffer_add_printf(out, "], \"loaded_at\": %llu, \"healthy\": %s, \"drained\": %s, "
			    "\"version\": ", (unsigned long long)(s ? dm->loaded_at : 0),
			    healthy(dm) ? "true" : "false", dm->drained ? "true" : "false");
	ctl_json_str(out, POP53_VERSION);
	if (dm->node) {
		evbuffer_add_printf(out, ", \"health_reason\": ");
		ctl_json_str(out, ctl_node_reason(dm->node));
	}
	if (dm->any)
		status_anycast(dm, out);
	status_checks(dm, out);
	status_aliases(dm, out);
	evbuffer_add_printf(out, ", \"dnssec_signature_expiry\": %u",
			    s ? snap_header(s)->min_sig_expiry : 0);
}

static void gather_srv(struct metrics_transport *t, const char *name,
		       const struct srv_stats *st, int udp)
{
	t->name = name;
	t->queries = st->queries;
	memcpy(t->rcode, st->rcode, sizeof(t->rcode));
	memcpy(t->policy, st->policy, sizeof(t->policy));
	t->drop[t->ndrop++] = (struct metrics_count){ "engine", st->drop_engine };
	if (udp) {
		t->drop[t->ndrop++] = (struct metrics_count){ "oversize", st->drop_oversize };
		t->drop[t->ndrop++] = (struct metrics_count){ "send", st->drop_send };
		t->drop[t->ndrop++] = (struct metrics_count){ "rrl", st->drop_rrl };
	}
}

#ifdef POP53_DPDK
static void gather_dpdk(struct metrics_input *in)
{
	struct metrics_transport *t = &in->tr[in->ntr++];
	struct dp_stats st;

	dp_stats(&st);
	t->name = "dpdk";
	t->queries = st.answers + st.drop_engine;
	memcpy(t->rcode, st.rcode, sizeof(t->rcode));
	memcpy(t->policy, st.policy, sizeof(t->policy));
	for (int v = 1; v < PKT_VERDICT_COUNT; v++)
		t->drop[t->ndrop++] = (struct metrics_count){
			pkt_verdict_name((enum pkt_verdict)v), st.drop[v] };
	t->drop[t->ndrop++] = (struct metrics_count){ "multi-segment", st.drop_multiseg };
	t->drop[t->ndrop++] = (struct metrics_count){ "engine", st.drop_engine };
	t->drop[t->ndrop++] = (struct metrics_count){ "tx-failed", st.tx_fail };
	t->drop[t->ndrop++] = (struct metrics_count){ "exception-full", st.exc_drop };
	for (unsigned w = 0; w < dp_workers() && in->nlcore < METRICS_MAX_LCORES; w++) {
		struct dp_stats ws;
		dp_worker_stats(w, &ws);
		in->lcore[in->nlcore++] = (struct metrics_lcore){ dp_worker_lcore(w), ws.rx,
								  ws.tx };
	}
}
#endif

static void gather_check(const void *arg, size_t i, struct metrics_check *out)
{
	struct hcheck_stats st;

	memset(out, 0, sizeof(*out));
	out->name = "";
	if (ctl_phealth_stats(arg, i, &st) < 0)
		return;
	*out = (struct metrics_check){
		.name = st.name, .healthy = st.healthy, .local_healthy = st.local_healthy,
		.votes_live = st.votes_live, .votes_healthy = st.votes_healthy,
		.probes = st.probes, .failures = st.failures, .transitions = st.transitions,
	};
}

static void gather_alias(const void *arg, size_t i, struct metrics_alias *out)
{
	struct ctl_alias_stats st;

	memset(out, 0, sizeof(*out));
	out->target = "";
	if (ctl_alias_stats(arg, i, &st) < 0)
		return;
	*out = (struct metrics_alias){
		.target = st.target, .n4 = st.n4, .n6 = st.n6, .have4 = st.have4,
		.have6 = st.have6, .stale = st.stale, .queries = st.queries,
		.failures = st.failures, .changes = st.changes,
	};
}

/* Every number the metrics page and the stats answer show. */
static void gather(struct daemon *dm, struct metrics_input *in)
{
	memset(in, 0, sizeof(*in));
	if (dm->srv) {
		struct srv_stats udp, tcp;
		srv_stats_split(dm->srv, &udp, &tcp);
		if (!dm->dpdk)
			gather_srv(&in->tr[in->ntr++], "udp", &udp, 1);
		gather_srv(&in->tr[in->ntr++], "tcp", &tcp, 0);
	}
#ifdef POP53_DPDK
	if (dm->dpdk)
		gather_dpdk(in);
#endif
	in->snap = dm->cur.s;
	in->nchecks = ctl_phealth_count(dm->ph);
	in->check = gather_check;
	in->check_arg = dm->ph;
	in->naliases = ctl_alias_count(dm->al);
	in->alias = gather_alias;
	in->alias_arg = dm->al;
	in->now = (uint64_t)time(NULL);
	in->loaded_at = dm->loaded_at;
	for (size_t i = 0; i < NPUSH; i++)
		in->push[in->npush++] = (struct metrics_count){ push_results[i], dm->pushes[i] };
	in->reloads_ok = dm->reloads - dm->failed;
	in->reloads_failed = dm->failed;
	in->leaked = dm->leaked;
	in->drained = dm->drained;
	if (dm->o->srv.rrl_on) {
		in->rrl_known = true;
#ifdef POP53_DPDK
		if (dm->dpdk) {
			struct dp_stats ds;

			dp_stats(&ds);
			in->rrl = ds.rrl;
		} else
#endif
			srv_rrl_stats(dm->srv, &in->rrl);
	}
	if (dm->node) {
		const struct health *h = ctl_node_health(dm->node);

		in->health_known = true;
		in->healthy = health_up(h);
		in->health_transitions = h->transitions;
		in->health_canaries = ctl_node_canaries(dm->node);
		for (int c = 0; c < HEALTH_CHECK_COUNT && in->nhealth_fail < METRICS_MAX_RESULTS; c++)
			in->health_fail[in->nhealth_fail++] = (struct metrics_count){
				health_check_name((enum health_check)c), h->failures[c] };
	}
}

/* The anycast part of the metrics; the session names are copied into
 * names (they must outlive the rendering). */
static void gather_anycast(struct daemon *dm, struct metrics_input *in,
			   char (*names)[64], size_t max)
{
	struct bgp_proto p[MAX_PROTOS];
	struct bgp_anycast_status st;
	int n;

	if (!dm->any)
		return;
	bgp_anycast_status(dm->any, now_ms(), &st);
	in->anycast_known = true;
	in->announced = st.phase != BGP_WITHDRAWN && st.applied;
	in->draining = st.phase == BGP_DRAINING && st.applied;
	in->bird_connected = st.bird_connected;
	in->anycast_changes = st.changes;
	n = bgp_anycast_protocols(dm->any, p, MAX_PROTOS);
	for (int i = 0; i < n && in->nbgp < max && in->nbgp < METRICS_MAX_RESULTS; i++) {
		if (strcmp(p[i].proto, "BGP"))
			continue;
		memcpy(names[in->nbgp], p[i].name, sizeof(p[i].name));
		names[in->nbgp][63] = '\0';
		in->bgp_up[in->nbgp] = (struct metrics_count){
			names[in->nbgp], !strcmp(p[i].info, "Established") };
		in->nbgp++;
	}
}

static void op_metrics(void *arg, struct evbuffer *out)
{
	char names[METRICS_MAX_RESULTS][64];
	struct metrics_input in;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	gather(arg, &in);
	gather_anycast(arg, &in, names, METRICS_MAX_RESULTS);
	if (f && metrics_render(&in, f) == 0 && fclose(f) == 0)
		evbuffer_add(out, text, len);
	else if (f)
		fclose(f);
	free(text);
}

/* {"name": n, ...} of the non-zero counts (all of them when all) */
static void json_counts(struct evbuffer *out, const char *key,
			const struct metrics_count *c, size_t n, int all)
{
	int first = 1;

	evbuffer_add_printf(out, ", \"%s\": {", key);
	for (size_t i = 0; i < n; i++) {
		if (!all && !c[i].n)
			continue;
		evbuffer_add_printf(out, "%s", first ? "" : ", ");
		ctl_json_str(out, c[i].name);
		evbuffer_add_printf(out, ": %llu", (unsigned long long)c[i].n);
		first = 0;
	}
	evbuffer_add(out, "}", 1);
}

static void stats_transport(struct evbuffer *out, const struct metrics_transport *t)
{
	static const char *const policy_kinds[METRICS_POLICY_KINDS] = {
		"answered", "fail-open", "last-resort", "empty", "unresolved",
	};
	struct metrics_count rc[METRICS_RCODES];

	evbuffer_add_printf(out, ", \"%s\": {\"queries\": %llu", t->name,
			    (unsigned long long)t->queries);
	for (unsigned r = 0; r < METRICS_RCODES; r++)
		rc[r] = (struct metrics_count){ metrics_rcode_name(r), t->rcode[r] };
	json_counts(out, "responses", rc, METRICS_RCODES, 0);
	json_counts(out, "drops", t->drop, t->ndrop, 1);
	for (unsigned k = 0; k < METRICS_POLICY_KINDS; k++)
		rc[k] = (struct metrics_count){ policy_kinds[k], t->policy[k] };
	json_counts(out, "policy", rc, METRICS_POLICY_KINDS, 1);
	evbuffer_add(out, "}", 1);
}

static void op_stats(void *arg, struct evbuffer *out)
{
	struct metrics_input in;

	gather(arg, &in);
	evbuffer_add_printf(out, "\"serial\": %llu", (unsigned long long)serial_of(in.snap));
	for (size_t t = 0; t < in.ntr; t++)
		stats_transport(out, &in.tr[t]);
	if (in.nlcore) {
		evbuffer_add_printf(out, ", \"lcores\": [");
		for (size_t i = 0; i < in.nlcore; i++)
			evbuffer_add_printf(out, "%s{\"lcore\": %u, \"rx\": %llu, \"tx\": %llu}",
					    i ? ", " : "", in.lcore[i].lcore,
					    (unsigned long long)in.lcore[i].rx,
					    (unsigned long long)in.lcore[i].tx);
		evbuffer_add(out, "]", 1);
	}
	json_counts(out, "pushes", in.push, in.npush, 1);
	evbuffer_add_printf(out, ", \"reloads\": {\"ok\": %llu, \"failed\": %llu}, "
			    "\"snapshots_leaked\": %llu, \"drained\": %s",
			    (unsigned long long)in.reloads_ok, (unsigned long long)in.reloads_failed,
			    (unsigned long long)in.leaked, in.drained ? "true" : "false");
}

/* ---- start-up ------------------------------------------------------------------ */

/* Choose between the configured zones/snapshot and the state directory's
 * last good snapshot: the stored one wins when its serial is newer (a
 * push arrived after the configuration was written) or when the
 * configured ones fail to load. */
static int choose(struct daemon *dm, struct loaded *given, int gret, struct loaded *stored,
		  int sret)
{
	const struct ctl_daemon_opts *o = dm->o;
	const char *what = o->snapshot ? "--snapshot" : "--zone files";

	if (gret == 0 && (sret < 0 || serial_of(stored->s) <= serial_of(given->s))) {
		if (sret == 0)
			fprintf(stderr, "pop53d: serving the %s (serial %llu); the state directory's "
				"serial %llu is not newer\n", what,
				(unsigned long long)serial_of(given->s),
				(unsigned long long)serial_of(stored->s));
		unload(stored);
		dm->cur = *given;
		return 0;
	}
	if (sret == 0) {
		if (gret == 0)
			fprintf(stderr, "pop53d: serving the state directory's snapshot (serial %llu, "
				"newer than the %s' serial %llu)\n",
				(unsigned long long)serial_of(stored->s), what,
				(unsigned long long)serial_of(given->s));
		else if (o->nzones || o->snapshot)
			fprintf(stderr, "pop53d: the %s failed to load: serving the state "
				"directory's snapshot (serial %llu)\n", what,
				(unsigned long long)serial_of(stored->s));
		else
			fprintf(stderr, "pop53d: serving the state directory's snapshot (serial "
				"%llu)\n", (unsigned long long)serial_of(stored->s));
		unload(given);
		dm->cur = *stored;
		return 0;
	}
	if (!(o->nzones || o->snapshot) && o->state_dir) {
		/* A fresh node waits for its first push, answering SERVFAIL. */
		fprintf(stderr, "pop53d: nothing to serve yet in %s: answering SERVFAIL until a "
			"snapshot is pushed or loaded\n", o->state_dir);
		return 0;
	}
	return -1;
}

/* A loaded snapshot whose policy checks cannot run is not served. */
static int policy_ok(struct loaded *l, const char *what)
{
	char err[512];
	int ret = ctl_phealth_check(l->s, NULL, err, sizeof(err));

	if (ret < 0) {
		fprintf(stderr, "pop53d: %s: %s\n", what, err);
		unload(l);
	}
	return ret;
}

static int initial(struct daemon *dm)
{
	const struct ctl_daemon_opts *o = dm->o;
	struct loaded given = { 0 }, stored = { 0 };
	struct diag d, ds;
	int gret = P53_ENOTFOUND, sret = P53_ENOTFOUND;

	diag_init(&d, stderr);
	d.hide_warnings = 1;
	if (o->nzones || o->snapshot)
		gret = load(o, &d, &given);
	if (gret == 0)
		gret = policy_ok(&given, o->snapshot ? o->snapshot : "--zone files");
	diag_init(&ds, NULL);
	if (o->state_dir && (sret = load_stored(dm, &ds, &stored)) < 0 && sret != P53_ENOTFOUND)
		fprintf(stderr, "pop53d: state directory %s: %s\n", o->state_dir, ds.first);
	else if (sret == 0 && ds.warnings)
		fprintf(stderr, "pop53d: state directory %s: current.snap was damaged: serving "
			"previous.snap\n", o->state_dir);
	if (sret == 0)
		sret = policy_ok(&stored, "state directory");
	if (choose(dm, &given, gret, &stored, sret) < 0) {
		fprintf(stderr, "pop53d: nothing to serve: %s\n", d.errors ? d.first :
			p53_strerror(gret));
		return -1;
	}
	if (dm->cur.s)
		dm->loaded_at = (uint64_t)time(NULL);
	print_serving(dm->cur.s, "serving ");
	atomic_store(&dm->current, dm->cur.s);
	return 0;
}

static int check_opts(const struct ctl_daemon_opts *o)
{
#ifndef POP53_DPDK
	if (o->io == CTL_IO_DPDK) {
		fprintf(stderr, "pop53d: --io dpdk: this pop53d was built without DPDK "
			"(libdpdk-dev and libbpf-dev missing, or -Ddpdk=disabled)\n");
		return -1;
	}
#endif
	if (o->io != CTL_IO_DPDK && (o->exception != CTL_EXC_NONE || o->nexc_addr)) {
		fprintf(stderr, "pop53d: --exception and --exception-addr need --io dpdk (with "
			"kernel sockets the kernel sees every frame itself)\n");
		return -1;
	}
	if (o->nexc_addr && o->exception == CTL_EXC_NONE) {
		fprintf(stderr, "pop53d: --exception-addr needs --exception tap\n");
		return -1;
	}
	if (o->push_listen && !o->nkeys) {
		fprintf(stderr, "pop53d: the push API needs at least one trusted controller key "
			"(a node must not accept snapshots anyone could sign)\n");
		return -1;
	}
	return 0;
}

/* Keys and the state directory: a node learns at start that it cannot
 * verify or persist, not at its first push. */
static int prepare(struct daemon *dm)
{
	const struct ctl_daemon_opts *o = dm->o;
	struct diag d;

	diag_init(&d, stderr);
	if (o->nkeys && snap_keyring_load(o->trusted_keys, o->nkeys, &d, &dm->kr) < 0)
		return -1;
	if (o->state_dir && ctl_store_init(o->state_dir, &d) < 0)
		return -1;
	if (o->push_listen && !o->state_dir)
		fprintf(stderr, "pop53d: warning: no state directory: pushed snapshots are served "
			"but not kept across a restart\n");
	return rrl_setup(dm) < 0 || cookies_setup(dm) < 0 ? -1 : 0;
}

#define STOP_SETTLE_MS 500       /* after the withdraw: the router's FIB */

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *dm = arg;

	(void)fd;
	(void)what;
	event_base_loopbreak(dm->base);
}

/* Start the drain that precedes a stop; false when there is nothing to
 * drain (not announced). */
static bool stop_drain(struct daemon *dm)
{
	struct bgp_anycast_status st;
	uint64_t wait = (uint64_t)dm->o->bgp_drain_wait_ms + STOP_SETTLE_MS;
	struct timeval tv = { (time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000 };

	bgp_anycast_status(dm->any, now_ms(), &st);
	if (st.phase != BGP_ANNOUNCED)
		return false;
	dm->stopping = true;
	(void)bgp_anycast_drain(dm->any, true, now_ms());
	dm->stop_ev = evtimer_new(dm->base, on_stop, dm);
	if (!dm->stop_ev || evtimer_add(dm->stop_ev, &tv) < 0)
		return false;
	fprintf(stderr, "pop53d: signal %d: draining for %u ms before stopping (again to stop "
		"now)\n", dm->stop_sig, dm->o->bgp_drain_wait_ms);
	return true;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *dm = arg;

	(void)what;
	if (sig == SIGHUP) {
		reload(dm);
		return;
	}
	dm->stop_sig = (int)sig;
	/* A planned stop of an announced node drains first (RFC 8326), keeps
	 * answering while the router moves the traffic away, and stops once
	 * withdrawn; a second signal stops at once. */
	if (!dm->stopping && dm->any && dm->o->bgp_drain_wait_ms && stop_drain(dm))
		return;
	event_base_loopbreak(dm->base);
}

static void signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

/* The loop and its events; the signals stay blocked until loop() so the
 * server threads, started in between, inherit the blocked mask. */
static int events_setup(struct daemon *dm)
{
	static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	sigset_t set;

	signal_set(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);     /* a controller that hangs up mid-answer */
	if (!(dm->base = event_base_new()) ||
	    !(dm->retire_ev = evtimer_new(dm->base, on_retire, dm))) {
		fprintf(stderr, "pop53d: cannot create the event loop\n");
		return -1;
	}
	for (int i = 0; i < 3; i++)
		if (!(dm->sig[i] = evsignal_new(dm->base, sigs[i], on_signal, dm)) ||
		    evsignal_add(dm->sig[i], NULL) < 0) {
			fprintf(stderr, "pop53d: cannot watch signal %d\n", sigs[i]);
			return -1;
		}
	dm->ops = (struct ctl_ops){
		.arg = dm, .push = op_push, .load = op_load, .refused = op_refused,
		.status = op_status, .stats = op_stats, .metrics = op_metrics,
		.drain = op_drain, .reload_config = op_reload_config, .fault = op_fault,
		.served_serial = op_served_serial, .vote = op_vote,
	};
	return 0;
}

/* The resolver of out-of-zone alias targets, as configured. */
static int alias_start(struct daemon *dm)
{
	const struct ctl_daemon_opts *o = dm->o;
	struct ctl_alias_opts ao = { 0 };

	for (size_t i = 0; i < o->nalias_resolvers && i < CTL_ALIAS_MAX_RESOLVERS; i++) {
		ao.resolvers[i].addr = o->alias_resolvers[i].addr;
		ao.resolvers[i].len = o->alias_resolvers[i].len;
		ao.nresolvers++;
	}
	ao.min_refresh_ms = o->alias_min_refresh_s * 1000u;
	return ctl_alias_new(dm->base, &ao, &dm->al);
}

/* The served snapshot's policy checks start with the loop. */
static int policy_health_start(struct daemon *dm)
{
	char err[512] = "out of memory";

	if (ctl_phealth_new(dm->base, NULL, &dm->ph) < 0 || alias_start(dm) < 0 ||
	    (dm->cur.s && attach(dm, &dm->cur, err, sizeof(err)) < 0)) {
		fprintf(stderr, "pop53d: policy checks: %s\n", err);
		return -1;
	}
	return 0;
}

/* The control socket, the push API and the metrics page, as configured. */
/* ---- node health ----------------------------------------------------------- */

static const struct snap *nd_snapshot(void *arg)
{
	return ((struct daemon *)arg)->cur.s;
}

static void nd_changed(void *arg, bool up, const char *reason)
{
	struct daemon *dm = arg;

	fprintf(stderr, "pop53d: health: %s (%s)%s\n", up ? "up" : "down", reason,
		!dm->any ? "" : up ? (dm->drained ? "; drained: not announcing" : "; announcing")
		: "; withdrawing");
	if (dm->any)
		(void)bgp_anycast_set_healthy(dm->any, up, now_ms());
}

/* ---- anycast ------------------------------------------------------------------ */

static void on_bgp_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *dm = arg;
	char err[256];

	(void)fd;
	(void)what;
	atomic_fetch_add_explicit(&dm->loop_beat, 1, memory_order_relaxed);
	(void)bgp_anycast_tick(dm->any, now_ms());
	/* Someone deleting or downing the fail-safe interface would withdraw
	 * the routes behind our back: put it back (once a second). */
	if (dm->fs && ++dm->bgp_ticks % 10 == 0 &&
	    bgp_failsafe_check(dm->fs, err, sizeof(err)) < 0)
		fprintf(stderr, "pop53d: fail-safe interface: %s\n", err);
}

#define WD_HANG_MS  2000        /* the loop beats every 100 ms */
#define WD_POLL_MS  200

/* A hung event loop keeps the fail-safe descriptor open and stops the
 * health checks: this thread notices the missing beats and takes the
 * interface down, so BIRD withdraws within WD_HANG_MS plus its netlink
 * delay. A frozen process (all threads) is a supervisor's watchdog's. */
static void *watchdog(void *arg)
{
	struct daemon *dm = arg;
	uint64_t last = atomic_load(&dm->loop_beat), since = now_ms();
	bool fired = false;

	while (!atomic_load(&dm->wd_stop)) {
		struct timespec ts = { 0, WD_POLL_MS * 1000000L };
		uint64_t beat = atomic_load(&dm->loop_beat), t = now_ms();

		nanosleep(&ts, NULL);
		if (beat != last) {
			last = beat;
			since = t;
			if (fired)
				fprintf(stderr, "pop53d: watchdog: the event loop runs again\n");
			fired = false;
			continue;
		}
		if (!fired && t - since >= WD_HANG_MS) {
			fired = true;
			fprintf(stderr, "pop53d: watchdog: the event loop is stuck for %llu ms: "
				"taking %s down (BIRD withdraws)\n", (unsigned long long)(t - since),
				dm->wd_ifname);
			if (bgp_failsafe_down(dm->wd_ifname) < 0)
				fprintf(stderr, "pop53d: watchdog: cannot take %s down\n",
					dm->wd_ifname);
		}
	}
	return NULL;
}

/* Withdrawn first (the state file says so before BIRD is asked), then the
 * interface the routes point at; announcing waits for health. */
static int anycast_start(struct daemon *dm)
{
	const struct ctl_daemon_opts *o = dm->o;
	struct bgp_anycast_conf c = {
		.bird_socket = o->bgp_socket, .state_file = o->bgp_state_file,
		.drain_wait_ms = o->bgp_drain_wait_ms,
	};
	struct timeval tv = { 0, 100000 };
	char err[512];

	if (!o->bgp_socket)
		return 0;
	if (bgp_anycast_open(&dm->any, &c, err, sizeof(err)) < 0 ||
	    bgp_failsafe_open(&dm->fs, o->bgp_failsafe_ifname, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: anycast: %s\n", err);
		return -1;
	}
	dm->bgp_ev = event_new(dm->base, -1, EV_PERSIST, on_bgp_tick, dm);
	if (!dm->bgp_ev || event_add(dm->bgp_ev, &tv) < 0) {
		fprintf(stderr, "pop53d: anycast: cannot start its timer\n");
		return -1;
	}
	fprintf(stderr, "pop53d: anycast through BIRD at %s (state file %s, fail-safe interface "
		"%s): withdrawn until healthy\n", o->bgp_socket, o->bgp_state_file,
		bgp_failsafe_ifname(dm->fs));
	snprintf(dm->wd_ifname, sizeof(dm->wd_ifname), "%s", bgp_failsafe_ifname(dm->fs));
	atomic_store(&dm->wd_stop, false);
	if (pthread_create(&dm->wd_thread, NULL, watchdog, dm) != 0) {
		fprintf(stderr, "pop53d: anycast: cannot start the loop watchdog\n");
		return -1;
	}
	dm->wd_started = true;
	return 0;
}

/* Withdraw and let go of the interface: before the ports stop, so that
 * the router moves traffic away while this node still answers. */
static void anycast_stop(struct daemon *dm)
{
	if (dm->wd_started) {
		atomic_store(&dm->wd_stop, true);
		pthread_join(dm->wd_thread, NULL);
		dm->wd_started = false;
	}
	if (dm->bgp_ev)
		event_free(dm->bgp_ev);
	dm->bgp_ev = NULL;
	bgp_anycast_close(dm->any);
	dm->any = NULL;
	bgp_failsafe_close(dm->fs);
	dm->fs = NULL;
}

/* The canary's target: the first service address; a wildcard one is
 * reached over loopback. */
static void canary_target(const struct ctl_daemon_opts *o, struct ctl_node_conf *c)
{
	const struct srv_listen *l = &o->srv.listen[0];

	c->service = l->addr;
	c->service_len = l->len;
	if (l->addr.ss_family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&c->service;

		if (a->sin_addr.s_addr == htonl(INADDR_ANY))
			a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (l->addr.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&c->service;

		if (IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr))
			a->sin6_addr = in6addr_loopback;
	}
}

static int node_start(struct daemon *dm)
{
	const struct ctl_daemon_opts *o = dm->o;
	struct ctl_node_conf c = {
		.interval_ms = o->health_interval_ms,
		.health = {
			.fall = o->health_fall ? o->health_fall : 2,
			.rise = o->health_rise ? o->health_rise : 3,
			.hold_down_ms = o->health_hold_down_ms,
		},
		.max_snapshot_age_s = o->max_snapshot_age_s,
		.dpdk = dm->dpdk,
	};
	struct ctl_node_ops ops = {
		.arg = dm, .snapshot = nd_snapshot,
		.changed = nd_changed,
	};
	char err[256];

	if (!o->srv.nlisten)
		return 0;
	canary_target(o, &c);
	if (ctl_node_start(dm->base, &c, &ops, &dm->node, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: %s\n", err);
		return -1;
	}
	return 0;
}

static int control_start(struct daemon *dm)
{
	const struct ctl_daemon_opts *o = dm->o;
	struct ctl_push_conf pc = {
		.listen = o->push_listen, .cert = o->tls_cert, .key = o->tls_key,
		.client_ca = o->tls_client_ca, .max_bytes = o->push_max_bytes,
		.timeout_ms = o->push_timeout_ms,
	};
	char err[512] = "";

	if (o->control_socket &&
	    ctl_sock_start(dm->base, o->control_socket, &dm->ops, &dm->sock, err, sizeof(err)) < 0)
		goto fail;
	if (o->push_listen &&
	    ctl_http_push_start(dm->base, &pc, &dm->ops, &dm->push, err, sizeof(err)) < 0)
		goto fail;
	if (o->metrics_listen &&
	    ctl_http_metrics_start(dm->base, o->metrics_listen, &dm->ops, &dm->metrics, err,
				   sizeof(err)) < 0)
		goto fail;
	if (o->control_socket)
		fprintf(stderr, "pop53d: control socket %s\n", o->control_socket);
	if (o->push_listen)
		fprintf(stderr, "pop53d: push API on https %s (client certificates from %s, %zu "
			"trusted key%s)\n", o->push_listen, o->tls_client_ca, o->nkeys,
			o->nkeys == 1 ? "" : "s");
	if (o->metrics_listen)
		fprintf(stderr, "pop53d: metrics on http %s/metrics\n", o->metrics_listen);
	if (anycast_start(dm) < 0 || node_start(dm) < 0 || rrl_report_start(dm) < 0 ||
	    sig_watch_start(dm) < 0)
		return -1;
	return 0;
fail:
	fprintf(stderr, "pop53d: %s\n", err);
	return -1;
}

/* Run the loop until SIGTERM/SIGINT; returns the signal. */
static int loop(struct daemon *dm)
{
	sigset_t set;

	signal_set(&set);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	event_base_dispatch(dm->base);
	fprintf(stderr, "pop53d: %u reload%s (%u failed, %u snapshots leaked)\n", dm->reloads,
		dm->reloads == 1 ? "" : "s", dm->failed, dm->leaked);
	return dm->stop_sig;
}

/* Everything the loop owns, once no server thread reads a snapshot. */
static void teardown(struct daemon *dm)
{
	ctl_http_free(dm->push);
	ctl_http_free(dm->metrics);
	ctl_sock_free(dm->sock);
	for (int i = 0; i < 3; i++)
		if (dm->sig[i])
			event_free(dm->sig[i]);
	ctl_node_free(dm->node);
	dm->node = NULL;
	anycast_stop(dm);
	if (dm->stop_ev)
		event_free(dm->stop_ev);
	dm->stop_ev = NULL;
	if (dm->rrl_ev)
		event_free(dm->rrl_ev);
	dm->rrl_ev = NULL;
	if (dm->sig_ev)
		event_free(dm->sig_ev);
	dm->sig_ev = NULL;
	if (dm->retire_ev)
		event_free(dm->retire_ev);
	ctl_phealth_free(dm->ph);     /* no thread reads the words any more */
	dm->ph = NULL;
	ctl_alias_free(dm->al);       /* nor the alias slots */
	dm->al = NULL;
	if (dm->base)
		event_base_free(dm->base);
	while (dm->retired) {
		struct retired *r = dm->retired;
		dm->retired = r->next;
		unload(&r->l);
		free(r);
	}
	unload(&dm->cur);
	snap_keyring_free(dm->kr);
	/* The first configuration is the caller's; those that replaced it
	 * are ours. */
	for (unsigned i = 0; i < dm->nold_confs; i++)
		ctl_conf_free(dm->old_confs[i]);
	if (ctl_conf_of(dm->o) != dm->first_conf)
		ctl_conf_free((struct ctl_conf *)ctl_conf_of(dm->o));
}

/* ---- options and DPDK ----------------------------------------------------------- */

int ctl_parse_prefix(const char *text, struct ctl_prefix *p)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	unsigned long len;
	char *end;

	memset(p, 0, sizeof(*p));
	if (!slash || (size_t)(slash - text) >= sizeof(host) || slash == text)
		return -1;
	memcpy(host, text, (size_t)(slash - text));
	host[slash - text] = '\0';
	len = strtoul(slash + 1, &end, 10);
	if (!slash[1] || *end)
		return -1;
	if (inet_pton(AF_INET, host, p->addr) == 1 && len <= 32)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, host, p->addr) == 1 && len <= 128)
		p->family = AF_INET6;
	else
		return -1;
	p->len = (uint8_t)len;
	return 0;
}

#ifdef POP53_DPDK
/* Split --eal 'ARGS' on blanks (no quoting) behind argv[0]. */
static int eal_args(const char *text, char *buf, size_t buflen, char **argv)
{
	int argc = 0;

	argv[argc++] = "pop53d";
	if (!text)
		return argc;
	if (strlen(text) >= buflen)
		return -1;
	strcpy(buf, text);
	for (char *save = NULL, *t = strtok_r(buf, " \t\n", &save); t;
	     t = strtok_r(NULL, " \t\n", &save)) {
		if (argc == EAL_MAX_ARGS - 1)
			return -1;
		argv[argc++] = t;
	}
	argv[argc] = NULL;
	return argc;
}

/* The listen addresses become the service addresses of the DPDK path. */
static int services(const struct srv_conf *c, struct pkt_services *svc, char *err,
		    size_t errlen)
{
	memset(svc, 0, sizeof(*svc));
	for (size_t i = 0; i < c->nlisten; i++) {
		const struct sockaddr_storage *a = &c->listen[i].addr;
		uint16_t port;

		if (a->ss_family == AF_INET) {
			const struct sockaddr_in *in = (const void *)a;
			if (svc->n4 == PKT_MAX_SERVICES)
				goto many;
			memcpy(svc->v4[svc->n4++], &in->sin_addr, 4);
			port = ntohs(in->sin_port);
		} else {
			const struct sockaddr_in6 *in6 = (const void *)a;
			if (svc->n6 == PKT_MAX_SERVICES)
				goto many;
			memcpy(svc->v6[svc->n6++], &in6->sin6_addr, 16);
			port = ntohs(in6->sin6_port);
		}
		if (svc->port && svc->port != port) {
			snprintf(err, errlen, "--io dpdk: every --listen address needs the same port "
				 "(%u and %u given)", svc->port, port);
			return -1;
		}
		svc->port = port;
	}
	return 0;
many:
	snprintf(err, errlen, "--io dpdk: at most %d service addresses per family",
		 PKT_MAX_SERVICES);
	return -1;
}

static void print_dp_stats(void)
{
	struct dp_stats st;
	uint64_t dropped = 0;

	dp_stats(&st);
	for (int v = 1; v < PKT_VERDICT_COUNT; v++)
		dropped += st.drop[v];
	fprintf(stderr, "pop53d: dpdk: %llu received, %llu answered (%llu NOERROR, %llu NXDOMAIN, "
		"%llu SERVFAIL), %llu sent, %llu tx failures, %llu dropped (",
		(unsigned long long)st.rx, (unsigned long long)st.answers,
		(unsigned long long)st.rcode[0], (unsigned long long)st.rcode[3],
		(unsigned long long)st.rcode[2], (unsigned long long)st.tx,
		(unsigned long long)st.tx_fail, (unsigned long long)dropped);
	for (int v = 1; v < PKT_VERDICT_COUNT; v++)
		fprintf(stderr, "%s %s %llu", v > 1 ? "," : "", pkt_verdict_name((enum pkt_verdict)v),
			(unsigned long long)st.drop[v]);
	fprintf(stderr, ", multi-segment %llu, engine %llu)\n",
		(unsigned long long)st.drop_multiseg, (unsigned long long)st.drop_engine);
	if (st.exc_in || st.exc_drop || st.exc_out)
		fprintf(stderr, "pop53d: exception path: %llu frames to the kernel, %llu dropped "
			"(TAP full), %llu from the kernel, %llu of them sent on the port\n",
			(unsigned long long)st.exc_in, (unsigned long long)st.exc_drop,
			(unsigned long long)st.exc_out, (unsigned long long)st.exc_out_sent);
}

/* DPDK mode: UDP on the lcores, TCP on kernel sockets (same addresses). */
static int run_dpdk(struct daemon *dm)
{
	struct ctl_daemon_opts *o = dm->o;
	static char eal_buf[4096];
	char *argv[EAL_MAX_ARGS];
	struct dp_conf conf;
	struct srv_conf tcp;
	struct srv_stats st;
	char err[512] = "";
	int argc, status = 1;

	memset(&conf, 0, sizeof(conf));
	if (services(&o->srv, &conf.svc, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: %s\n", err);
		return 2;
	}
	conf.engine = o->srv.engine;
	conf.rrl_on = o->srv.rrl_on;
	conf.rrl = o->srv.rrl;
	conf.exception = o->exception == CTL_EXC_TAP ? DP_EXC_TAP : DP_EXC_NONE;
	conf.exc_ifname = o->exc_ifname;
	for (size_t i = 0; i < o->nexc_addr && i < DP_MAX_EXC_ADDRS; i++) {
		conf.exc_addr[i].family = o->exc_addr[i].family;
		conf.exc_addr[i].len = o->exc_addr[i].len;
		memcpy(conf.exc_addr[i].addr, o->exc_addr[i].addr, 16);
		conf.nexc_addr++;
	}
	if ((argc = eal_args(o->eal, eal_buf, sizeof(eal_buf), argv)) < 0) {
		fprintf(stderr, "pop53d: --eal: too long or more than %d arguments\n",
			EAL_MAX_ARGS - 2);
		return 2;
	}
	if (dp_init(argc, argv, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: %s\n", err);
		return 1;
	}
	/* Exception interfaces get their addresses here, before TCP binds. */
	if (dp_port_setup(&conf, err, sizeof(err)) < 0 ||
	    dp_start(dm->cur.s, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: %s\n", err);
		goto out;
	}
	dm->dpdk = 1;
	tcp = o->srv;
	tcp.no_udp = 1;
	if (srv_start(&tcp, &dm->current, &dm->srv, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: %s\n", err);
		goto out;
	}
	if (control_start(dm) < 0)
		goto out;
	fprintf(stderr, "pop53d: ready (dpdk: %u worker%s, UDP on the ports; TCP on %zu kernel "
		"listen addresses)\n", dp_workers(), dp_workers() == 1 ? "" : "s", tcp.nlisten);
	int sig = loop(dm);
	anycast_stop(dm);
	srv_stats(dm->srv, &st);
	fprintf(stderr, "pop53d: signal %d: stopping; tcp: %llu queries, %llu responses\n", sig,
		(unsigned long long)st.queries, (unsigned long long)st.responses);
	print_dp_stats();
	status = 0;
out:
	srv_stop(dm->srv);
	dm->srv = NULL;
	dp_stop();   /* workers, ports (XDP detached, TAPs removed), EAL */
	return status;
}
#endif

static int run_kernel(struct daemon *dm)
{
	struct srv_stats st;
	char err[256] = "";
	int status = 1;

	if (srv_start(&dm->o->srv, &dm->current, &dm->srv, err, sizeof(err)) < 0) {
		fprintf(stderr, "pop53d: %s\n", err);
		goto out;
	}
	if (control_start(dm) < 0)
		goto out;
	fprintf(stderr, "pop53d: ready (%zu listen addresses)\n", dm->o->srv.nlisten);
	int sig = loop(dm);
	anycast_stop(dm);
	srv_stats(dm->srv, &st);
	fprintf(stderr, "pop53d: signal %d: stopping; %llu queries, %llu responses, %llu dropped\n",
		sig, (unsigned long long)st.queries, (unsigned long long)st.responses,
		(unsigned long long)st.dropped);
	status = 0;
out:
	srv_stop(dm->srv);   /* every reader gone: the snapshots can go */
	dm->srv = NULL;
	return status;
}

int ctl_daemon_run(struct ctl_daemon_opts *o)
{
	static struct daemon dm;
	int status = 1;

	if (check_opts(o) < 0)
		return 2;
	memset(&dm, 0, sizeof(dm));
	dm.o = o;
	dm.first_conf = ctl_conf_of(o);
	if (prepare(&dm) < 0 || initial(&dm) < 0 || events_setup(&dm) < 0 ||
	    policy_health_start(&dm) < 0)
		goto fail;
#ifdef POP53_DPDK
	if (o->io == CTL_IO_DPDK) {
		status = run_dpdk(&dm);
		goto fail;
	}
#endif
	status = run_kernel(&dm);
fail:
	teardown(&dm);
	return status;
}
