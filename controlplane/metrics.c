/*
 * metrics.c — Prometheus text exposition of pop53d's counters.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "dname.h"
#include "error.h"
#include "metrics.h"

const char *metrics_rcode_name(unsigned i)
{
	static const char *const names[METRICS_RCODES] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
		"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE", "DSOTYPENI",
		"RCODE12", "RCODE13", "RCODE14", "RCODE15", "BADVERS",
	};
	return i < METRICS_RCODES ? names[i] : "unknown";
}

/* Label values may hold anything a zone name can (escaped dname text has
 * backslashes); the format allows \\, \" and \n inside the quotes. */
static void put_escaped(FILE *f, const char *s, int quotes)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && quotes)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

void metrics_family(FILE *f, const char *name, enum metrics_type t, const char *help)
{
	fprintf(f, "# HELP %s ", name);
	put_escaped(f, help, 0);
	fprintf(f, "\n# TYPE %s %s\n", name, t == METRICS_COUNTER ? "counter" : "gauge");
}

static void put_labels(FILE *f, va_list ap)
{
	const char *k = va_arg(ap, const char *);

	if (!k)
		return;
	fputc('{', f);
	for (int first = 1; k; k = va_arg(ap, const char *), first = 0) {
		const char *v = va_arg(ap, const char *);
		fprintf(f, "%s%s=\"", first ? "" : ",", k);
		put_escaped(f, v ? v : "", 1);
		fputc('"', f);
	}
	fputc('}', f);
}

void metrics_u64(FILE *f, const char *name, uint64_t v, ...)
{
	va_list ap;

	fputs(name, f);
	va_start(ap, v);
	put_labels(f, ap);
	va_end(ap);
	fprintf(f, " %llu\n", (unsigned long long)v);
}

void metrics_f64(FILE *f, const char *name, double v, ...)
{
	va_list ap;

	fputs(name, f);
	va_start(ap, v);
	put_labels(f, ap);
	va_end(ap);
	if (isnan(v))
		fputs(" NaN\n", f);
	else if (isinf(v))
		fputs(v > 0 ? " +Inf\n" : " -Inf\n", f);
	else
		fprintf(f, " %.17g\n", v);
}

/* Common RCODEs always appear (a zero is information); rare ones only
 * once they happened, so the page stays short. */
static int rcode_shown(const struct metrics_input *in, unsigned r)
{
	if (r <= 5)
		return 1;
	for (size_t t = 0; t < in->ntr; t++)
		if (in->tr[t].rcode[r])
			return 1;
	return 0;
}

static void render_dns(const struct metrics_input *in, FILE *f)
{
	metrics_family(f, "pop53_queries_total", METRICS_COUNTER,
		       "DNS queries received, by transport.");
	for (size_t t = 0; t < in->ntr; t++)
		metrics_u64(f, "pop53_queries_total", in->tr[t].queries,
			    "transport", in->tr[t].name, NULL);
	metrics_family(f, "pop53_responses_total", METRICS_COUNTER,
		       "DNS responses sent, by transport and RCODE.");
	for (size_t t = 0; t < in->ntr; t++)
		for (unsigned r = 0; r < METRICS_RCODES; r++)
			if (rcode_shown(in, r))
				metrics_u64(f, "pop53_responses_total", in->tr[t].rcode[r],
					    "transport", in->tr[t].name,
					    "rcode", metrics_rcode_name(r), NULL);
	metrics_family(f, "pop53_drops_total", METRICS_COUNTER,
		       "Queries or frames dropped without an answer, by transport and reason.");
	for (size_t t = 0; t < in->ntr; t++)
		for (size_t d = 0; d < in->tr[t].ndrop; d++)
			metrics_u64(f, "pop53_drops_total", in->tr[t].drop[d].n,
				    "transport", in->tr[t].name,
				    "reason", in->tr[t].drop[d].name, NULL);
}

static void render_lcores(const struct metrics_input *in, FILE *f)
{
	char id[16];

	if (!in->nlcore)
		return;
	metrics_family(f, "pop53_lcore_received_packets_total", METRICS_COUNTER,
		       "Frames received by each DPDK worker lcore.");
	for (size_t i = 0; i < in->nlcore; i++) {
		snprintf(id, sizeof(id), "%u", in->lcore[i].lcore);
		metrics_u64(f, "pop53_lcore_received_packets_total", in->lcore[i].rx,
			    "lcore", id, NULL);
	}
	metrics_family(f, "pop53_lcore_sent_packets_total", METRICS_COUNTER,
		       "Responses sent by each DPDK worker lcore.");
	for (size_t i = 0; i < in->nlcore; i++) {
		snprintf(id, sizeof(id), "%u", in->lcore[i].lcore);
		metrics_u64(f, "pop53_lcore_sent_packets_total", in->lcore[i].tx,
			    "lcore", id, NULL);
	}
}

/* Zone names as dname text: the zone label of the per-zone families. */
static void zone_name(const struct snap *s, const struct snap_zone *z, char *buf)
{
	dname_to_text(snap_ptr(s, z->apex_name), buf, DNAME_TEXT_MAX);
}

static void render_zones(const struct metrics_input *in, FILE *f)
{
	const struct snap *s = in->snap;
	char name[DNAME_TEXT_MAX];
	uint32_t n = s ? snap_zone_count(s) : 0;
	uint64_t created = s ? snap_header(s)->created : 0;
	double age = in->now > created ? (double)(in->now - created) : 0.0;

	metrics_family(f, "pop53_snapshot_serial", METRICS_GAUGE,
		       "Serial of the snapshot being served (0: none).");
	metrics_u64(f, "pop53_snapshot_serial", s ? snap_header(s)->serial : 0, NULL);
	metrics_family(f, "pop53_snapshot_loaded_timestamp_seconds", METRICS_GAUGE,
		       "Unix time the served snapshot was published (0: none).");
	metrics_u64(f, "pop53_snapshot_loaded_timestamp_seconds", s ? in->loaded_at : 0, NULL);
	metrics_family(f, "pop53_zones", METRICS_GAUGE, "Zones in the served snapshot.");
	metrics_u64(f, "pop53_zones", n, NULL);
	metrics_family(f, "pop53_zone_serial", METRICS_GAUGE,
		       "SOA serial of each served zone.");
	for (uint32_t i = 0; i < n; i++) {
		zone_name(s, snap_zone_at(s, i), name);
		metrics_u64(f, "pop53_zone_serial", snap_zone_at(s, i)->soa_serial,
			    "zone", name, NULL);
	}
	metrics_family(f, "pop53_zone_names", METRICS_GAUGE,
		       "Names (nodes) in each served zone.");
	for (uint32_t i = 0; i < n; i++) {
		zone_name(s, snap_zone_at(s, i), name);
		metrics_u64(f, "pop53_zone_names", snap_zone_at(s, i)->node_count,
			    "zone", name, NULL);
	}
	metrics_family(f, "pop53_dnssec_signature_expiry_timestamp_seconds", METRICS_GAUGE,
		       "Unix time the earliest RRSIG of the served snapshot expires (0: unsigned).");
	metrics_u64(f, "pop53_dnssec_signature_expiry_timestamp_seconds",
		    s ? snap_header(s)->min_sig_expiry : 0, NULL);
	metrics_family(f, "pop53_snapshot_age_seconds", METRICS_GAUGE,
		       "Seconds since the snapshot serving each zone was compiled.");
	for (uint32_t i = 0; i < n; i++) {
		zone_name(s, snap_zone_at(s, i), name);
		metrics_f64(f, "pop53_snapshot_age_seconds", age, "zone", name, NULL);
	}
}

static void render_control(const struct metrics_input *in, FILE *f)
{
	metrics_family(f, "pop53_pushes_total", METRICS_COUNTER,
		       "Snapshot pushes and loads, by result.");
	for (size_t i = 0; i < in->npush; i++)
		metrics_u64(f, "pop53_pushes_total", in->push[i].n,
			    "result", in->push[i].name, NULL);
	metrics_family(f, "pop53_reloads_total", METRICS_COUNTER,
		       "Reloads of the configured zones or snapshot (SIGHUP), by result.");
	metrics_u64(f, "pop53_reloads_total", in->reloads_ok, "result", "ok", NULL);
	metrics_u64(f, "pop53_reloads_total", in->reloads_failed, "result", "failed", NULL);
	metrics_family(f, "pop53_snapshots_leaked_total", METRICS_COUNTER,
		       "Replaced snapshots never freed because a reader did not move on.");
	metrics_u64(f, "pop53_snapshots_leaked_total", in->leaked, NULL);
	metrics_family(f, "pop53_drained", METRICS_GAUGE,
		       "1 when an operator drained this node (pop53ctl drain).");
	metrics_u64(f, "pop53_drained", in->drained ? 1 : 0, NULL);
	if (in->health_known) {
		metrics_family(f, "pop53_healthy", METRICS_GAUGE,
			       "1 while the node passes its health checks (the service prefix is "
			       "announced).");
		metrics_u64(f, "pop53_healthy", in->healthy ? 1 : 0, NULL);
		metrics_family(f, "pop53_health_transitions_total", METRICS_COUNTER,
			       "Changes between healthy and unhealthy.");
		metrics_u64(f, "pop53_health_transitions_total", in->health_transitions, NULL);
		metrics_family(f, "pop53_health_canaries_total", METRICS_COUNTER,
			       "Canary queries the health check sent (in kernel mode they are also "
			       "in pop53_queries_total).");
		metrics_u64(f, "pop53_health_canaries_total", in->health_canaries, NULL);
		metrics_family(f, "pop53_health_check_failures_total", METRICS_COUNTER,
			       "Observations in which a health check failed, by check.");
		for (size_t i = 0; i < in->nhealth_fail; i++)
			metrics_u64(f, "pop53_health_check_failures_total", in->health_fail[i].n,
				    "check", in->health_fail[i].name, NULL);
	}
	if (in->rrl_known) {
		static const char *const kind[ENGINE_KIND_COUNT] = {
			"answer", "referral", "nodata", "nxdomain", "error",
		};
		static const struct { const char *name, *help; size_t off; } fam[] = {
			{ "pop53_rrl_limited_total", "Responses over their rate limit (also in "
			  "log-only mode), by kind.", offsetof(struct rrl_stats, limited) },
			{ "pop53_rrl_slipped_total", "Limited responses sent truncated (TC=1) or as "
			  "BADCOOKIE, by kind.", offsetof(struct rrl_stats, slipped) },
			{ "pop53_rrl_dropped_total", "Limited responses not sent, by kind.",
			  offsetof(struct rrl_stats, dropped) },
		};

		for (size_t i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
			const uint64_t *v = (const uint64_t *)(const void *)
					    ((const char *)&in->rrl + fam[i].off);

			metrics_family(f, fam[i].name, METRICS_COUNTER, fam[i].help);
			for (int k = 0; k < ENGINE_KIND_COUNT; k++)
				metrics_u64(f, fam[i].name, v[k], "kind", kind[k], NULL);
		}
		metrics_family(f, "pop53_rrl_exempt_total", METRICS_COUNTER,
			       "Responses not limited: exempt clients, or a valid server cookie.");
		metrics_u64(f, "pop53_rrl_exempt_total", in->rrl.exempt, "why", "exempt-clients",
			    NULL);
		metrics_u64(f, "pop53_rrl_exempt_total", in->rrl.cookie_exempt, "why", "cookie",
			    NULL);
	}
	if (in->anycast_known) {
		metrics_family(f, "pop53_anycast_announced", METRICS_GAUGE,
			       "1 while the service prefix is announced through BIRD (also while "
			       "draining).");
		metrics_u64(f, "pop53_anycast_announced", in->announced ? 1 : 0, NULL);
		metrics_family(f, "pop53_anycast_draining", METRICS_GAUGE,
			       "1 while announced with GRACEFUL_SHUTDOWN before a withdraw.");
		metrics_u64(f, "pop53_anycast_draining", in->draining ? 1 : 0, NULL);
		metrics_family(f, "pop53_anycast_changes_total", METRICS_COUNTER,
			       "Announce, drain and withdraw changes.");
		metrics_u64(f, "pop53_anycast_changes_total", in->anycast_changes, NULL);
		metrics_family(f, "pop53_bird_connected", METRICS_GAUGE,
			       "1 while pop53d holds a connection to BIRD's control socket.");
		metrics_u64(f, "pop53_bird_connected", in->bird_connected ? 1 : 0, NULL);
		metrics_family(f, "pop53_bgp_session_up", METRICS_GAUGE,
			       "1 when BIRD's BGP session is Established, by protocol name.");
		for (size_t i = 0; i < in->nbgp; i++)
			metrics_u64(f, "pop53_bgp_session_up", in->bgp_up[i].n, "protocol",
				    in->bgp_up[i].name, NULL);
	}
}

static void render_policy_answers(const struct metrics_input *in, FILE *f)
{
	static const struct { const char *name, *help; } fam[METRICS_POLICY_KINDS] = {
		{ "pop53_policy_answers_total",
		  "Responses answered from a traffic policy, by transport." },
		{ "pop53_policy_fail_open_total",
		  "Policy responses in which a policy had no healthy member and answered as if "
		  "all were healthy (fail open), by transport." },
		{ "pop53_policy_last_resort_total",
		  "Policy responses that carried a failover's last-resort endpoints, by "
		  "transport." },
		{ "pop53_policy_empty_total",
		  "Policy responses in which the policy chose nothing (NODATA), by transport." },
		{ "pop53_policy_unresolved_total",
		  "Policy responses that chose an out-of-zone alias whose addresses were not "
		  "resolved yet (SERVFAIL), by transport." },
	};

	for (size_t k = 0; k < METRICS_POLICY_KINDS; k++) {
		metrics_family(f, fam[k].name, METRICS_COUNTER, fam[k].help);
		for (size_t t = 0; t < in->ntr; t++)
			metrics_u64(f, fam[k].name, in->tr[t].policy[k], "transport",
				    in->tr[t].name, NULL);
	}
}

/* Out-of-zone alias targets: what answers carry and how resolution goes. */
static void render_alias_families(const struct metrics_input *in, FILE *f)
{
	static const struct { const char *name, *help; enum metrics_type t; } fam[] = {
		{ "pop53_alias_resolved", "1 once a resolver has answered for an out-of-zone alias "
		  "target and family (before that, answers choosing it are SERVFAIL).",
		  METRICS_GAUGE },
		{ "pop53_alias_addresses", "Addresses an out-of-zone alias target answers with "
		  "now, by family.", METRICS_GAUGE },
	};
	struct metrics_alias a;

	for (size_t k = 0; k < 2; k++) {
		metrics_family(f, fam[k].name, fam[k].t, fam[k].help);
		for (size_t i = 0; i < in->naliases; i++) {
			in->alias(in->alias_arg, i, &a);
			metrics_u64(f, fam[k].name, k ? a.n4 : a.have4, "target", a.target,
				    "family", "ipv4", NULL);
			metrics_u64(f, fam[k].name, k ? a.n6 : a.have6, "target", a.target,
				    "family", "ipv6", NULL);
		}
	}
}

static void render_aliases(const struct metrics_input *in, FILE *f)
{
	static const struct { const char *name, *help; enum metrics_type t; } fam[] = {
		{ "pop53_alias_stale", "1 while the last refresh of an out-of-zone alias target "
		  "failed (the last addresses are still served).", METRICS_GAUGE },
		{ "pop53_alias_queries_total", "Queries sent to resolvers for an out-of-zone alias "
		  "target.", METRICS_COUNTER },
		{ "pop53_alias_failures_total", "Resolver tries for an out-of-zone alias target "
		  "that failed (timeout, SERVFAIL, REFUSED, malformed).", METRICS_COUNTER },
		{ "pop53_alias_changes_total", "Times the addresses of an out-of-zone alias target "
		  "changed.", METRICS_COUNTER },
	};
	struct metrics_alias a;

	if (!in->naliases || !in->alias)
		return;
	render_alias_families(in, f);
	for (size_t k = 0; k < sizeof(fam) / sizeof(fam[0]); k++) {
		metrics_family(f, fam[k].name, fam[k].t, fam[k].help);
		for (size_t i = 0; i < in->naliases; i++) {
			uint64_t v;

			in->alias(in->alias_arg, i, &a);
			v = k == 0 ? a.stale : k == 1 ? a.queries : k == 2 ? a.failures : a.changes;
			metrics_u64(f, fam[k].name, v, "target", a.target, NULL);
		}
	}
}

enum check_field { CK_HEALTHY, CK_LOCAL, CK_TRANSITIONS, CK_PROBES, CK_FAILURES };

static uint64_t check_field(const struct metrics_check *c, enum check_field k)
{
	switch (k) {
	case CK_HEALTHY:     return c->healthy;
	case CK_LOCAL:       return c->local_healthy;
	case CK_TRANSITIONS: return c->transitions;
	case CK_PROBES:      return c->probes;
	case CK_FAILURES:    return c->failures;
	}
	return 0;
}

/* One series per check and family; the checks come from a callback, so
 * each family asks for them again rather than holding them all. */
static void render_checks(const struct metrics_input *in, FILE *f)
{
	static const struct { const char *name, *help; enum metrics_type t; } fam[] = {
		[CK_HEALTHY] = { "pop53_policy_check_healthy", "1 while a policy health check "
				 "counts as healthy in answers (after votes and quorum).",
				 METRICS_GAUGE },
		[CK_LOCAL] = { "pop53_policy_check_local_healthy", "This node's own verdict on a "
			       "policy health check (its probes, after fall/rise).",
			       METRICS_GAUGE },
		[CK_TRANSITIONS] = { "pop53_policy_check_transitions_total", "Changes of a "
				     "policy health check's word.", METRICS_COUNTER },
		[CK_PROBES] = { "pop53_policy_check_probes_total", "Probes a policy health check "
				"finished.", METRICS_COUNTER },
		[CK_FAILURES] = { "pop53_policy_check_failures_total", "Probes of a policy health "
				  "check that failed.", METRICS_COUNTER },
	};
	struct metrics_check c;

	if (!in->nchecks || !in->check)
		return;
	for (size_t k = 0; k < sizeof(fam) / sizeof(fam[0]); k++) {
		metrics_family(f, fam[k].name, fam[k].t, fam[k].help);
		for (size_t i = 0; i < in->nchecks; i++) {
			in->check(in->check_arg, i, &c);
			metrics_u64(f, fam[k].name, check_field(&c, (enum check_field)k), "check",
				    c.name, NULL);
		}
	}
	metrics_family(f, "pop53_policy_check_votes", METRICS_GAUGE,
		       "Live votes of other PoPs on a policy health check, by verdict.");
	for (size_t i = 0; i < in->nchecks; i++) {
		in->check(in->check_arg, i, &c);
		metrics_u64(f, "pop53_policy_check_votes", c.votes_healthy, "check", c.name,
			    "vote", "healthy", NULL);
		metrics_u64(f, "pop53_policy_check_votes", c.votes_live - c.votes_healthy,
			    "check", c.name, "vote", "unhealthy", NULL);
	}
}

int metrics_render(const struct metrics_input *in, FILE *f)
{
	render_dns(in, f);
	render_lcores(in, f);
	render_zones(in, f);
	render_control(in, f);
	render_policy_answers(in, f);
	render_checks(in, f);
	render_aliases(in, f);
	return fflush(f) == 0 && !ferror(f) ? 0 : P53_EIO;
}
