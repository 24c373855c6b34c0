/*
 * test_metrics.c — the Prometheus text exposition: every line follows the
 * 0.0.4 grammar, families are declared once before their samples, names
 * follow the conventions, label values are escaped, and the numbers are
 * the ones given.
 */
#include <math.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "error.h"
#include "metrics.h"
#include "snap.h"
#include "zone.h"

#define MAX_FAMILIES 64

struct family {
	char name[96];
	char type[16];
	int help, samples;
};

/* Check text against the exposition grammar; returns the number of
 * families, fails the test on the first bad line. */
static int validate(const char *text)
{
	static struct family fam[MAX_FAMILIES];
	regex_t sample, help, type;
	char *copy = strdup(text), *save = NULL;
	int nfam = 0;

	assert_non_null(copy);
	assert_int_equal(regcomp(&sample, "^(pop53_[a-zA-Z0-9_]*)"
				 "(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\",?)*\\})?"
				 " ([-+0-9.eE]+|NaN|[+-]Inf)$", REG_EXTENDED), 0);
	assert_int_equal(regcomp(&help, "^# HELP (pop53_[a-zA-Z0-9_]*) [^\n]+$", REG_EXTENDED), 0);
	assert_int_equal(regcomp(&type, "^# TYPE (pop53_[a-zA-Z0-9_]*) (counter|gauge)$",
				 REG_EXTENDED), 0);
	assert_true(text[strlen(text) - 1] == '\n');
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		regmatch_t m[3];
		char name[96];
		if (regexec(&help, line, 2, m, 0) == 0 || regexec(&type, line, 3, m, 0) == 0) {
			int is_help = line[2] == 'H';
			snprintf(name, sizeof(name), "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
				 line + m[1].rm_so);
			if (is_help) {
				for (int i = 0; i < nfam; i++)
					if (!strcmp(fam[i].name, name))
						fail_msg("family %s declared twice", name);
				assert_true(nfam < MAX_FAMILIES);
				memset(&fam[nfam], 0, sizeof(fam[nfam]));
				snprintf(fam[nfam].name, sizeof(fam[nfam].name), "%s", name);
				fam[nfam++].help = 1;
			} else {
				if (!nfam || strcmp(fam[nfam - 1].name, name))
					fail_msg("TYPE of %s not right after its HELP", name);
				snprintf(fam[nfam - 1].type, sizeof(fam[nfam - 1].type), "%.*s",
					 (int)(m[2].rm_eo - m[2].rm_so), line + m[2].rm_so);
				size_t l = strlen(name);
				int total = l > 6 && !strcmp(name + l - 6, "_total");
				if (!strcmp(fam[nfam - 1].type, "counter") != !!total)
					fail_msg("%s: counters and only counters end in _total", name);
			}
			continue;
		}
		if (regexec(&sample, line, 2, m, 0) != 0)
			fail_msg("not a valid exposition line: '%s'", line);
		snprintf(name, sizeof(name), "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
			 line + m[1].rm_so);
		if (!nfam || strcmp(fam[nfam - 1].name, name) || !fam[nfam - 1].type[0])
			fail_msg("sample of %s outside its family's block", name);
		fam[nfam - 1].samples++;
	}
	regfree(&sample);
	regfree(&help);
	regfree(&type);
	free(copy);
	return nfam;
}

/* The value of the sample line that starts with prefix (name and labels). */
static double value_of(const char *text, const char *prefix)
{
	const char *p = text;
	size_t n = strlen(prefix);

	while ((p = strstr(p, prefix))) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	fail_msg("no sample %s", prefix);
	return NAN;
}

static char *render(const struct metrics_input *in)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(metrics_render(in, f), 0);
	fclose(f);
	return text;
}

static void test_escaping(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	metrics_family(f, "pop53_x_total", METRICS_COUNTER, "back\\slash and\nnewline");
	metrics_u64(f, "pop53_x_total", 5, "zone", "a\"b\\c\nd.", "k", "v", NULL);
	metrics_u64(f, "pop53_x_total", 18446744073709551615ull, NULL);
	metrics_family(f, "pop53_y_seconds", METRICS_GAUGE, "y");
	metrics_f64(f, "pop53_y_seconds", 1.5, NULL);
	metrics_f64(f, "pop53_y_seconds", INFINITY, "k", "inf", NULL);
	metrics_f64(f, "pop53_y_seconds", NAN, "k", "nan", NULL);
	fclose(f);
	assert_string_equal(text,
		"# HELP pop53_x_total back\\\\slash and\\nnewline\n"
		"# TYPE pop53_x_total counter\n"
		"pop53_x_total{zone=\"a\\\"b\\\\c\\nd.\",k=\"v\"} 5\n"
		"pop53_x_total 18446744073709551615\n"
		"# HELP pop53_y_seconds y\n"
		"# TYPE pop53_y_seconds gauge\n"
		"pop53_y_seconds 1.5\n"
		"pop53_y_seconds{k=\"inf\"} +Inf\n"
		"pop53_y_seconds{k=\"nan\"} NaN\n");
	assert_int_equal(validate(text), 2);
	free(text);
}

static void test_rcode_names(void **state)
{
	(void)state;
	assert_string_equal(metrics_rcode_name(0), "NOERROR");
	assert_string_equal(metrics_rcode_name(3), "NXDOMAIN");
	assert_string_equal(metrics_rcode_name(5), "REFUSED");
	assert_string_equal(metrics_rcode_name(16), "BADVERS");
	assert_string_equal(metrics_rcode_name(99), "unknown");
}

static void fill(struct metrics_input *in)
{
	memset(in, 0, sizeof(*in));
	in->tr[0] = (struct metrics_transport){ .name = "udp", .queries = 1000 };
	in->tr[0].rcode[0] = 900;
	in->tr[0].rcode[3] = 95;
	in->tr[0].drop[in->tr[0].ndrop++] = (struct metrics_count){ "engine", 5 };
	in->tr[1] = (struct metrics_transport){ .name = "tcp", .queries = 7 };
	in->tr[1].rcode[0] = 6;
	in->tr[1].rcode[16] = 1;
	in->ntr = 2;
	in->lcore[0] = (struct metrics_lcore){ 1, 500, 499 };
	in->lcore[1] = (struct metrics_lcore){ 3, 20, 20 };
	in->nlcore = 2;
	in->push[in->npush++] = (struct metrics_count){ "ok", 4 };
	in->push[in->npush++] = (struct metrics_count){ "bad-signature", 2 };
	in->reloads_ok = 3;
	in->reloads_failed = 1;
	in->drained = true;
	in->now = 1000000;
}

static void test_render_counters(void **state)
{
	struct metrics_input in;
	char *text;

	(void)state;
	fill(&in);
	text = render(&in);
	assert_true(validate(text) >= 12);
	assert_true(value_of(text, "pop53_queries_total{transport=\"udp\"}") == 1000);
	assert_true(value_of(text, "pop53_queries_total{transport=\"tcp\"}") == 7);
	assert_true(value_of(text, "pop53_responses_total{transport=\"udp\",rcode=\"NOERROR\"}") == 900);
	assert_true(value_of(text, "pop53_responses_total{transport=\"udp\",rcode=\"NXDOMAIN\"}") == 95);
	assert_true(value_of(text, "pop53_responses_total{transport=\"udp\",rcode=\"REFUSED\"}") == 0);
	/* a rare RCODE appears for every transport once one saw it */
	assert_true(value_of(text, "pop53_responses_total{transport=\"tcp\",rcode=\"BADVERS\"}") == 1);
	assert_true(value_of(text, "pop53_responses_total{transport=\"udp\",rcode=\"BADVERS\"}") == 0);
	assert_null(strstr(text, "rcode=\"NOTZONE\""));
	assert_true(value_of(text, "pop53_drops_total{transport=\"udp\",reason=\"engine\"}") == 5);
	assert_true(value_of(text, "pop53_lcore_received_packets_total{lcore=\"3\"}") == 20);
	assert_true(value_of(text, "pop53_lcore_sent_packets_total{lcore=\"1\"}") == 499);
	assert_true(value_of(text, "pop53_pushes_total{result=\"bad-signature\"}") == 2);
	assert_true(value_of(text, "pop53_reloads_total{result=\"failed\"}") == 1);
	assert_true(value_of(text, "pop53_drained") == 1);
	assert_true(value_of(text, "pop53_snapshot_serial") == 0);
	assert_true(value_of(text, "pop53_zones") == 0);
	free(text);
	/* no DPDK: no per-lcore families at all */
	in.nlcore = 0;
	text = render(&in);
	validate(text);
	assert_null(strstr(text, "lcore"));
	free(text);
}

static void test_render_zones(void **state)
{
	static const char zone_text[] =
		"$ORIGIN ex\\\"ample.\n$TTL 300\n"
		"@ SOA ns.ex\\\"ample. host.ex\\\"ample. 2024010101 3600 600 86400 300\n"
		"@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\n";
	struct metrics_input in;
	struct zone *z = NULL;
	struct snap *s = NULL;
	struct snap_compile_opts co = { .serial = 77 };
	uint8_t *blob = NULL;
	size_t len;
	char *text;

	(void)state;
	assert_int_equal(zone_parse_string(zone_text, strlen(zone_text), "t.zone", NULL, NULL, &z), 0);
	assert_int_equal(zone_check(z, NULL, NULL), 0);
	assert_int_equal(snap_compile(&z, 1, &co, NULL, &blob, &len), 0);
	assert_int_equal(snap_open_mem(blob, len, NULL, &s), 0);
	fill(&in);
	in.snap = s;
	in.loaded_at = 999990;
	in.now = snap_header(s)->created + 42;
	text = render(&in);
	validate(text);
	assert_true(value_of(text, "pop53_snapshot_serial") == 77);
	assert_true(value_of(text, "pop53_zones") == 1);
	assert_true(value_of(text, "pop53_snapshot_loaded_timestamp_seconds") == 999990);
	/* the zone name's backslash and quote arrive escaped in the label */
	assert_true(value_of(text, "pop53_zone_serial{zone=\"ex\\\\\\\"ample.\"}") == 2024010101);
	assert_true(value_of(text, "pop53_zone_names{zone=\"ex\\\\\\\"ample.\"}") == 3);
	assert_true(value_of(text, "pop53_snapshot_age_seconds{zone=\"ex\\\\\\\"ample.\"}") == 42);
	free(text);
	snap_close(s);
	free(blob);
	zone_free(z);
}

static void test_write_error(void **state)
{
	struct metrics_input in;
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	if (!f)
		skip();
	fill(&in);
	assert_int_equal(metrics_render(&in, f), P53_EIO);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_rcode_names),
		cmocka_unit_test(test_render_counters),
		cmocka_unit_test(test_render_zones),
		cmocka_unit_test(test_write_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
