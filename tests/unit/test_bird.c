/*
 * test_bird.c — bgp/: the BIRD control-socket client against a fake BIRD
 * (a child process on a Unix socket), the anycast state machine and its
 * state file, the fail-safe interface (in a private network namespace).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "anycast.h"
#include "bird.h"
#include "error.h"
#include "failsafe.h"

struct fake {
	char dir[64];
	char path[128];      /* the socket */
	char log[128];       /* commands the fake received, one per line */
	char state[128];     /* the anycast state file */
	pid_t pid;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void put(int fd, const char *s)
{
	size_t n = strlen(s);

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			_exit(0);
		s += w;
		n -= (size_t)w;
	}
}

/* What the fake answers: modelled on captures from BIRD 2.0.12. */
static void respond(int c, const char *cmd)
{
	char pat[128], out[512];
	bool en = !strncmp(cmd, "enable \"", 8), dis = !strncmp(cmd, "disable \"", 9);

	if (en || dis) {
		snprintf(pat, sizeof(pat), "%.100s", cmd + (en ? 8 : 9));
		pat[strcspn(pat, "*\"")] = '\0';
		if (strstr(pat, "nomatch")) {
			put(c, "8003 No protocols match\n");
			return;
		}
		snprintf(out, sizeof(out), "%04d-%s4: %s\n %s6: %s\n0000 \n", en ? 11 : 9,
			 pat, en ? "enabled" : "disabled", pat, en ? "enabled" : "disabled");
		put(c, out);
	} else if (!strcmp(cmd, "show protocols")) {
		put(c, "2002-Name       Proto      Table      State  Since         Info\n"
		       "1002-p53_svc4   Static     master4    up     2026-11-23 12:12:44  \n"
		       " device1    Device     ---        up     2026-11-23 12:12:24  \n"
		       "+spontaneous log line in the middle\n"
		       " upstream4  BGP        ---        up     2026-11-23 12:12:28  Established   \n"
		       " upstream6  BGP        ---        start  12:12:29.123  Active        Socket: Connection refused\n"
		       "0000 \n");
	} else if (!strcmp(cmd, "show status")) {
		put(c, "+async first\n1000-BIRD 2.0.12\n1011-Router ID is 198.18.77.1\n"
		       " Hostname is vm\n0013 Daemon is up and running\n");
	} else if (!strcmp(cmd, "split")) {
		const char *s = "0013-a\n b\n0013 done\n";

		for (; *s; s++) {
			put(c, (char[]){ *s, 0 });
			usleep(2000);
		}
	} else if (!strcmp(cmd, "hang")) {
		sleep(30);
	} else if (!strcmp(cmd, "bye")) {
		_exit(0);
	} else if (!strcmp(cmd, "garbage")) {
		put(c, "hello there\n");
	} else {
		put(c, "9001 syntax error, unexpected CF_SYM_UNDEFINED\n");
	}
}

static void serve(int c, const char *greeting, const char *log)
{
	char buf[2048];
	size_t len = 0;

	put(c, greeting);
	for (;;) {
		ssize_t n = read(c, buf + len, sizeof(buf) - 1 - len);
		char *nl;

		if (n <= 0)
			return;
		len += (size_t)n;
		while ((nl = memchr(buf, '\n', len))) {
			size_t used = (size_t)(nl - buf) + 1;
			int lf = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

			*nl = '\0';
			if (lf >= 0) {
				put(lf, buf);
				put(lf, "\n");
				close(lf);
			}
			respond(c, buf);
			memmove(buf, buf + used, len - used);
			len -= used;
		}
	}
}

static int listen_on(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(s >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s, 8), 0);
	return s;
}

/* Start a fake BIRD greeting with greeting; it serves connections one
 * after the other. The socket is listening before this returns. */
static void fake_start(struct fake *f, const char *greeting)
{
	int s = listen_on(f->path);

	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			int c = accept(s, NULL, NULL);

			if (c < 0)
				_exit(1);
			serve(c, greeting, f->log);
			close(c);
		}
	}
	close(s);
}

static void fake_stop(struct fake *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	f->pid = 0;
	unlink(f->path);
}

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/p53-bird-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/bird.ctl", f->dir);
	snprintf(f->log, sizeof(f->log), "%s/log", f->dir);
	snprintf(f->state, sizeof(f->state), "%s/anycast.conf", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;
	char cmd[256];

	fake_stop(f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static char *slurp(const char *path)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* ---- the client ------------------------------------------------------ */

static void test_banner_variants(void **state)
{
	static const char *const greet[][2] = {
		{ "0001 BIRD 2.0.12 ready.\n", "2.0.12" },
		{ "0001 BIRD 3.0.1 ready.\n", "3.0.1" },
		{ "+early log line\n0001 BIRD 2.15.1 ready.\n", "2.15.1" },
		{ "0001 BIRD v2.16-42-gabcdef ready.\n", "v2.16-42-gabcdef" },
	};
	struct fake *f = *state;

	for (size_t i = 0; i < sizeof(greet) / sizeof(greet[0]); i++) {
		struct bgp_bird *b;

		fake_start(f, greet[i][0]);
		assert_int_equal(bgp_bird_open(&b, f->path, 500, 0), 0);
		assert_false(bgp_bird_connected(b));
		assert_int_equal(bgp_bird_connect(b), 0);
		assert_true(bgp_bird_connected(b));
		assert_string_equal(bgp_bird_version(b), greet[i][1]);
		assert_int_equal(bgp_bird_connects(b), 1);
		bgp_bird_free(b);
		fake_stop(f);
	}
}

static void test_not_bird(void **state)
{
	struct fake *f = *state;
	struct bgp_bird *b;

	fake_start(f, "220 mail.example ESMTP\n");
	assert_int_equal(bgp_bird_open(&b, f->path, 500, 0), 0);
	assert_int_equal(bgp_bird_connect(b), P53_EPROTO);
	assert_false(bgp_bird_connected(b));
	fake_stop(f);
	fake_start(f, "0016 Access restricted\n");
	assert_int_equal(bgp_bird_connect(b), P53_EPROTO);
	assert_non_null(strstr(bgp_bird_error(b), "does not greet as BIRD"));
	bgp_bird_free(b);
}

static void test_multiline_and_errors(void **state)
{
	struct fake *f = *state;
	struct bgp_bird *b;
	struct bgp_reply r;

	fake_start(f, "0001 BIRD 2.0.12 ready.\n");
	assert_int_equal(bgp_bird_open(&b, f->path, 1000, 0), 0);

	assert_int_equal(bgp_bird_cmd(b, "disable \"p53_svc*\"", &r), 0);
	assert_int_equal(r.nlines, 3);
	assert_int_equal(r.lines[0].code, 9);
	assert_string_equal(r.lines[0].text, "p53_svc4: disabled");
	assert_int_equal(r.lines[1].code, 9);   /* continuation keeps the code */
	assert_string_equal(r.lines[1].text, "p53_svc6: disabled");
	assert_int_equal(r.lines[2].code, 0);
	assert_string_equal(r.lines[2].text, "");
	bgp_reply_free(&r);

	/* Spontaneous lines before and inside replies are skipped. */
	assert_int_equal(bgp_bird_cmd(b, "show status", &r), 13);
	assert_int_equal(r.nlines, 4);
	assert_string_equal(r.lines[0].text, "BIRD 2.0.12");
	assert_int_equal(r.lines[2].code, 1011);
	assert_string_equal(r.lines[2].text, "Hostname is vm");
	assert_string_equal(r.lines[3].text, "Daemon is up and running");
	bgp_reply_free(&r);

	assert_int_equal(bgp_bird_cmd(b, "disable \"nomatch*\"", &r), 8003);
	assert_int_equal(r.nlines, 1);
	assert_string_equal(r.lines[0].text, "No protocols match");
	bgp_reply_free(&r);
	assert_int_equal(bgp_bird_cmd(b, "enable bogus", NULL), 9001);

	/* A reply arriving a byte at a time. */
	assert_int_equal(bgp_bird_cmd(b, "split", &r), 13);
	assert_int_equal(r.nlines, 3);
	assert_string_equal(r.lines[1].text, "b");
	assert_string_equal(r.lines[2].text, "done");
	bgp_reply_free(&r);

	/* The connection stays usable across all of that. */
	assert_int_equal(bgp_bird_connects(b), 1);

	/* A line that is not the protocol: error, connection dropped. */
	assert_int_equal(bgp_bird_cmd(b, "garbage", &r), P53_EPROTO);
	bgp_reply_free(&r);
	assert_false(bgp_bird_connected(b));
	assert_int_equal(bgp_bird_cmd(b, "show status", NULL), 13);
	assert_int_equal(bgp_bird_connects(b), 2);

	/* Commands BIRD would choke on are refused here. */
	char big[BGP_BIRD_CMD_MAX + 2];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(bgp_bird_cmd(b, big, NULL), P53_EINVAL);
	assert_int_equal(bgp_bird_cmd(b, "show\nstatus", NULL), P53_EINVAL);
	assert_int_equal(bgp_bird_cmd(b, "", NULL), P53_EINVAL);
	bgp_bird_free(b);
}

static void test_show_protocols(void **state)
{
	struct fake *f = *state;
	struct bgp_bird *b;
	struct bgp_proto p[3];

	fake_start(f, "0001 BIRD 2.0.12 ready.\n");
	assert_int_equal(bgp_bird_open(&b, f->path, 1000, 0), 0);
	/* Four rows listed, three kept. */
	assert_int_equal(bgp_bird_show_protocols(b, p, 3), 4);
	assert_string_equal(p[0].name, "p53_svc4");
	assert_string_equal(p[0].proto, "Static");
	assert_string_equal(p[0].table, "master4");
	assert_string_equal(p[0].since, "2026-11-23 12:12:44");
	assert_string_equal(p[0].info, "");
	assert_string_equal(p[2].name, "upstream4");
	assert_string_equal(p[2].proto, "BGP");
	assert_string_equal(p[2].state, "up");
	assert_string_equal(p[2].since, "2026-11-23 12:12:28");
	assert_string_equal(p[2].info, "Established");
	bgp_bird_free(b);
}

static void test_proto_parse(void **state)
{
	struct bgp_proto p;

	(void)state;
	assert_int_equal(bgp_proto_parse("upstream6  BGP        ---        start  "
					 "12:12:29.123  Active        Socket: Connection refused", &p), 0);
	assert_string_equal(p.name, "upstream6");
	assert_string_equal(p.state, "start");
	assert_string_equal(p.since, "12:12:29.123");
	assert_string_equal(p.info, "Active        Socket: Connection refused");
	assert_int_equal(bgp_proto_parse("a_very_long_protocol_name BGP --- up 12:00", &p), 0);
	assert_string_equal(p.name, "a_very_long_protocol_name");
	assert_string_equal(p.since, "12:00");
	assert_string_equal(p.info, "");
	assert_int_equal(bgp_proto_parse("only three fields", &p), P53_ESYNTAX);
}

static void test_hung_bird(void **state)
{
	struct fake *f = *state;
	struct bgp_bird *b;
	uint64_t t0;
	int s, rc;

	/* Listening but never accepting: the kernel completes the connect,
	 * nobody greets (a SIGSTOPped BIRD). */
	s = listen_on(f->path);
	assert_int_equal(bgp_bird_open(&b, f->path, 150, 0), 0);
	t0 = mono_ms();
	rc = bgp_bird_cmd(b, "show status", NULL);
	assert_int_equal(rc, P53_ETIMEOUT);
	assert_in_range(mono_ms() - t0, 140, 1000);
	assert_false(bgp_bird_connected(b));
	assert_non_null(strstr(bgp_bird_error(b), "did not answer"));
	close(s);
	unlink(f->path);
	bgp_bird_free(b);

	/* Greets, then never answers one command. */
	fake_start(f, "0001 BIRD 2.0.12 ready.\n");
	assert_int_equal(bgp_bird_open(&b, f->path, 150, 0), 0);
	t0 = mono_ms();
	assert_int_equal(bgp_bird_cmd(b, "hang", NULL), P53_ETIMEOUT);
	assert_in_range(mono_ms() - t0, 140, 1000);
	assert_false(bgp_bird_connected(b));
	bgp_bird_free(b);
}

static void test_down_and_retry_interval(void **state)
{
	struct fake *f = *state;
	struct bgp_bird *b;
	uint64_t t0;

	assert_int_equal(bgp_bird_open(&b, f->path, 200, 300), 0);
	t0 = mono_ms();
	assert_int_equal(bgp_bird_cmd(b, "show status", NULL), P53_EIO);
	assert_non_null(strstr(bgp_bird_error(b), "No such file"));
	/* Within the retry interval: no attempt, even with BIRD back. */
	fake_start(f, "0001 BIRD 2.0.12 ready.\n");
	assert_int_equal(bgp_bird_cmd(b, "show status", NULL), P53_ESTATE);
	assert_non_null(strstr(bgp_bird_error(b), "No such file"));
	while (mono_ms() - t0 < 320)
		usleep(10000);
	assert_int_equal(bgp_bird_cmd(b, "show status", NULL), 13);
	bgp_bird_free(b);
}

static int hook_calls;

static int count_hook(struct bgp_bird *b, void *arg)
{
	(void)arg;
	hook_calls++;
	/* Commands from the hook work and do not re-enter it. */
	return bgp_bird_cmd(b, "show status", NULL) == 13 ? 0 : P53_EIO;
}

static void test_restart_reconnects(void **state)
{
	struct fake *f = *state;
	struct bgp_bird *b;

	fake_start(f, "0001 BIRD 2.0.12 ready.\n");
	assert_int_equal(bgp_bird_open(&b, f->path, 500, 0), 0);
	bgp_bird_set_hook(b, count_hook, NULL);
	assert_int_equal(bgp_bird_cmd(b, "show status", NULL), 13);
	assert_int_equal(hook_calls, 0);   /* not on the first connect */
	assert_int_equal(bgp_bird_poll(b), 1);

	/* Restart between two commands: the next command reconnects. */
	fake_stop(f);
	fake_start(f, "0001 BIRD 2.0.13 ready.\n");
	assert_int_equal(bgp_bird_cmd(b, "show status", NULL), 13);
	assert_int_equal(hook_calls, 1);
	assert_string_equal(bgp_bird_version(b), "2.0.13");
	assert_int_equal(bgp_bird_connects(b), 2);

	/* Restart noticed by poll while idle. */
	fake_stop(f);
	fake_start(f, "0001 BIRD 2.0.14 ready.\n");
	usleep(20000);
	assert_int_equal(bgp_bird_poll(b), 0);
	assert_false(bgp_bird_connected(b));
	assert_int_equal(bgp_bird_connect(b), 0);
	assert_int_equal(hook_calls, 2);

	/* BIRD dies in the middle of a command on a fresh connection: no
	 * second try (it could repeat a command BIRD already acted on). */
	assert_int_equal(bgp_bird_cmd(b, "bye", NULL), P53_EIO);
	bgp_bird_free(b);
}

/* ---- anycast --------------------------------------------------------- */

static struct bgp_anycast *anycast(struct fake *f, unsigned drain_ms,
				   const char *gshut)
{
	struct bgp_anycast_conf c = {
		.bird_socket = f->path, .state_file = f->state, .timeout_ms = 500,
		.retry_ms = 1, .drain_wait_ms = drain_ms, .gshut_pattern = gshut,
	};
	struct bgp_anycast *a;
	char err[256];

	assert_int_equal(bgp_anycast_open(&a, &c, err, sizeof(err)), 0);
	return a;
}

static void expect_state(struct fake *f, int svc_disabled, int gshut_disabled)
{
	char want[256];

	snprintf(want, sizeof(want), "define P53_SVC_DISABLED = %d;\n"
		 "define P53_GSHUT_DISABLED = %d;\n", svc_disabled, gshut_disabled);
	assert_non_null(strstr(slurp(f->state), want));
}

static void truncate_log(struct fake *f)
{
	unlink(f->log);
}

static void test_state_file_atomic(void **state)
{
	struct fake *f = *state;
	struct stat s1, s2;
	char err[256], cmd[256];

	assert_int_equal(bgp_state_write(f->state, true, false, err, sizeof(err)), 0);
	expect_state(f, 0, 1);
	assert_int_equal(stat(f->state, &s1), 0);
	assert_int_equal(bgp_state_write(f->state, false, false, err, sizeof(err)), 0);
	expect_state(f, 1, 1);
	assert_int_equal(stat(f->state, &s2), 0);
	/* Replaced by rename, never rewritten in place: a reader (BIRD) sees
	 * the old file or the new one, nothing half-written. */
	assert_int_not_equal(s1.st_ino, s2.st_ino);
	assert_int_equal(s2.st_mode & 0777, 0644);
	/* No temp file left behind. */
	snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", f->dir);
	assert_int_equal(system(cmd), 0);

	assert_int_equal(bgp_state_write("/nonexistent-dir/x.conf", true, true, err,
					 sizeof(err)), P53_EIO);
	assert_non_null(strstr(err, "/nonexistent-dir/x.conf"));
}

static void test_anycast_cycle(void **state)
{
	struct fake *f = *state;
	struct bgp_anycast_status st;
	struct bgp_anycast *a;

	fake_start(f, "0001 BIRD 2.0.12 ready.\n");
	a = anycast(f, 0, NULL);
	/* Open asserts WITHDRAWN, in the file and in BIRD. */
	expect_state(f, 1, 1);
	assert_string_equal(slurp(f->log), "disable \"p53_svc*\"\ndisable \"p53_gshut*\"\n");
	bgp_anycast_status(a, 1000, &st);
	assert_int_equal(st.phase, BGP_WITHDRAWN);
	assert_true(st.applied);
	assert_true(st.bird_connected);
	assert_string_equal(st.bird_version, "2.0.12");

	truncate_log(f);
	assert_int_equal(bgp_anycast_set_healthy(a, true, 1100), 0);
	expect_state(f, 0, 1);
	assert_string_equal(slurp(f->log), "enable \"p53_svc*\"\n");
	bgp_anycast_status(a, 1100, &st);
	assert_int_equal(st.phase, BGP_ANNOUNCED);
	assert_int_equal(st.changes, 1);

	/* Same verdict again: nothing sent. */
	truncate_log(f);
	assert_int_equal(bgp_anycast_set_healthy(a, true, 1200), 0);
	assert_int_equal(bgp_anycast_tick(a, 1300), 0);
	assert_string_equal(slurp(f->log), "");

	assert_int_equal(bgp_anycast_set_healthy(a, false, 1400), 0);
	expect_state(f, 1, 1);
	assert_string_equal(slurp(f->log), "disable \"p53_svc*\"\n");
	bgp_anycast_close(a);
}

static void test_anycast_drain(void **state)
{
	struct fake *f = *state;
	struct bgp_anycast_status st;
	struct bgp_anycast *a;

	fake_start(f, "0001 BIRD 2.0.12 ready.\n");
	a = anycast(f, 500, NULL);
	assert_int_equal(bgp_anycast_set_healthy(a, true, 1000), 0);
	truncate_log(f);

	/* Drain: the tagged copy comes up, the plain one stays. */
	assert_int_equal(bgp_anycast_drain(a, true, 2000), 0);
	expect_state(f, 0, 0);
	assert_string_equal(slurp(f->log), "enable \"p53_gshut*\"\n");
	bgp_anycast_status(a, 2100, &st);
	assert_int_equal(st.phase, BGP_DRAINING);
	assert_int_equal(st.drain_left_ms, 400);
	assert_int_equal(bgp_anycast_tick(a, 2499), 0);
	bgp_anycast_status(a, 2499, &st);
	assert_int_equal(st.phase, BGP_DRAINING);

	/* BIRD restarted mid-drain: re-asserted tagged copy first, so the
	 * untagged route is never the only one on offer. */
	fake_stop(f);
	truncate_log(f);
	fake_start(f, "0001 BIRD 2.0.12 ready.\n");
	usleep(5000);
	assert_int_equal(bgp_anycast_tick(a, 2499), 0);
	assert_string_equal(slurp(f->log), "enable \"p53_gshut*\"\nenable \"p53_svc*\"\n");

	/* Wait over: plain copy first (no change at the router), then the
	 * tagged one (the withdraw). */
	truncate_log(f);
	assert_int_equal(bgp_anycast_tick(a, 2500), 0);
	expect_state(f, 1, 1);
	assert_string_equal(slurp(f->log), "disable \"p53_svc*\"\ndisable \"p53_gshut*\"\n");
	bgp_anycast_status(a, 2500, &st);
	assert_int_equal(st.phase, BGP_WITHDRAWN);
	assert_true(st.drain);

	/* Health flapping while drained changes nothing. */
	truncate_log(f);
	assert_int_equal(bgp_anycast_set_healthy(a, false, 2600), 0);
	assert_int_equal(bgp_anycast_set_healthy(a, true, 2700), 0);
	assert_string_equal(slurp(f->log), "");

	assert_int_equal(bgp_anycast_drain(a, false, 3000), 0);
	expect_state(f, 0, 1);
	assert_string_equal(slurp(f->log), "enable \"p53_svc*\"\n");

	/* Undrain in the middle of a drain: the tagged copy goes, the plain
	 * one never went. */
	assert_int_equal(bgp_anycast_drain(a, true, 4000), 0);
	truncate_log(f);
	assert_int_equal(bgp_anycast_drain(a, false, 4100), 0);
	assert_string_equal(slurp(f->log), "disable \"p53_gshut*\"\n");
	expect_state(f, 0, 1);

	/* Health lost in a drain: out at once. */
	assert_int_equal(bgp_anycast_drain(a, true, 5000), 0);
	truncate_log(f);
	assert_int_equal(bgp_anycast_set_healthy(a, false, 5100), 0);
	assert_string_equal(slurp(f->log), "disable \"p53_svc*\"\ndisable \"p53_gshut*\"\n");
	bgp_anycast_close(a);
}

static void test_anycast_bird_errors(void **state)
{
	struct fake *f = *state;
	struct bgp_anycast_status st;
	struct bgp_anycast *a;

	/* The drain protocols are missing from BIRD's configuration. */
	fake_start(f, "0001 BIRD 2.0.12 ready.\n");
	a = anycast(f, 1000, "nomatch*");
	assert_int_equal(bgp_anycast_set_healthy(a, true, 1000), P53_ENOTFOUND);
	bgp_anycast_status(a, 1000, &st);
	assert_false(st.applied);
	assert_non_null(strstr(st.last_error, "8003 No protocols match"));
	assert_true(st.bird_errors >= 1);
	bgp_anycast_close(a);
}

static void test_anycast_bird_restart(void **state)
{
	struct fake *f = *state;
	struct bgp_anycast_status st;
	struct bgp_anycast *a;

	/* BIRD down at start: open still succeeds, the file holds the state. */
	a = anycast(f, 0, NULL);
	expect_state(f, 1, 1);
	bgp_anycast_status(a, 1000, &st);
	assert_false(st.applied);
	assert_false(st.bird_connected);
	assert_int_not_equal(bgp_anycast_set_healthy(a, true, 1000), 0);
	expect_state(f, 0, 1);

	fake_start(f, "0001 BIRD 2.0.12 ready.\n");
	usleep(5000);
	assert_int_equal(bgp_anycast_tick(a, 1100), 0);
	assert_string_equal(slurp(f->log), "enable \"p53_svc*\"\ndisable \"p53_gshut*\"\n");

	/* BIRD restarts while idle: tick notices, reconnects, asserts all. */
	fake_stop(f);
	truncate_log(f);
	fake_start(f, "0001 BIRD 2.0.12 ready.\n");
	usleep(5000);
	assert_int_equal(bgp_anycast_tick(a, 1200), 0);
	assert_string_equal(slurp(f->log), "enable \"p53_svc*\"\ndisable \"p53_gshut*\"\n");
	bgp_anycast_status(a, 1200, &st);
	assert_true(st.applied);
	assert_int_equal(st.connects, 2);

	/* Restart unnoticed until the next change: the change reconnects and
	 * the hook asserts the whole state before it. */
	fake_stop(f);
	truncate_log(f);
	fake_start(f, "0001 BIRD 2.0.12 ready.\n");
	assert_int_equal(bgp_anycast_set_healthy(a, false, 1300), 0);
	assert_non_null(strstr(slurp(f->log), "disable \"p53_svc*\"\ndisable \"p53_gshut*\"\n"));
	bgp_anycast_status(a, 1300, &st);
	assert_true(st.applied);
	assert_int_equal(st.phase, BGP_WITHDRAWN);
	expect_state(f, 1, 1);
	bgp_anycast_close(a);
}

/* ---- fail-safe --------------------------------------------------------- */

/* Runs in a child in its own network namespace; exit code = result. */
static int failsafe_child(void)
{
	struct bgp_failsafe *fs, *fs2;
	struct ifreq ifr;
	char err[256];
	int s;

	if (unshare(CLONE_NEWNET) < 0)
		return 77;
	if (bgp_failsafe_open(&fs, "p53t0", err, sizeof(err)) < 0)
		return errno == EPERM || access("/dev/net/tun", F_OK) ? 77 : 10;
	if (if_nametoindex("p53t0") == 0)
		return 11;
	s = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "p53t0");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 || !(ifr.ifr_flags & IFF_UP))
		return 12;
	if (fcntl(bgp_failsafe_fd(fs), F_GETFD) != FD_CLOEXEC)
		return 13;
	if (bgp_failsafe_open(&fs2, "p53t0", err, sizeof(err)) != P53_EEXIST)
		return 14;
	if (bgp_failsafe_check(fs, err, sizeof(err)) != 0)
		return 15;
	/* Downed by someone: brought up again. */
	ifr.ifr_flags &= (short)~IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0 || bgp_failsafe_check(fs, err, sizeof(err)) != 1)
		return 16;
	/* Closing the descriptor removes the interface: what the kernel does
	 * when the process dies. */
	bgp_failsafe_close(fs);
	if (if_nametoindex("p53t0") != 0)
		return 17;
	if (bgp_failsafe_open(&fs, "bad/name", err, sizeof(err)) != P53_EINVAL)
		return 18;
	close(s);
	return 0;
}

static void test_failsafe(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(failsafe_child());
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_banner_variants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_bird, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiline_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_show_protocols, setup, teardown),
		cmocka_unit_test(test_proto_parse),
		cmocka_unit_test_setup_teardown(test_hung_bird, setup, teardown),
		cmocka_unit_test_setup_teardown(test_down_and_retry_interval, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_reconnects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_file_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_anycast_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_anycast_drain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_anycast_bird_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_anycast_bird_restart, setup, teardown),
		cmocka_unit_test(test_failsafe),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
