/*
 * test_ctl_sock.c — the control socket: requests as pop53ctl builds them,
 * a real daemon-side listener on an event loop answering a client thread
 * through fake daemon operations, refusal of a socket a live process
 * owns, and the human rendering of answers.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl_sock.h"
#include "error.h"

/* ---- fake daemon ------------------------------------------------------------ */

struct fake {
	bool drained;
	char loaded[256];
	bool force;
};

static void f_push(void *arg, const uint8_t *buf, size_t len, bool force,
		   struct ctl_push_result *r)
{
	(void)arg; (void)buf; (void)len; (void)force;
	memset(r, 0, sizeof(*r));
}

static void f_load(void *arg, const char *path, bool force, struct ctl_push_result *r)
{
	struct fake *f = arg;

	memset(r, 0, sizeof(*r));
	snprintf(f->loaded, sizeof(f->loaded), "%s", path);
	f->force = force;
	if (strstr(path, "stale")) {
		r->why = CTL_REFUSE_STALE;
		r->serial = 9;
		snprintf(r->message, sizeof(r->message), "serial 3 is not newer than 9");
		return;
	}
	r->serial = 10;
	r->previous_serial = 9;
	r->zones = 2;
}

static void f_refused(void *arg, const char *result) { (void)arg; (void)result; }

static void f_status(void *arg, struct evbuffer *out)
{
	(void)arg;
	evbuffer_add_printf(out, "\"serial\": 9, \"zones\": [{\"name\": \"a.\", \"serial\": 1}]");
}

static void f_stats(void *arg, struct evbuffer *out)
{
	(void)arg;
	evbuffer_add_printf(out, "\"udp\": {\"queries\": 5}");
}

static void f_metrics(void *arg, struct evbuffer *out) { (void)arg; (void)out; }

static void f_drain(void *arg, bool on) { ((struct fake *)arg)->drained = on; }

static int f_reload_config(void *arg, char *err, size_t errlen)
{
	(void)arg;
	snprintf(err, errlen, "not yet");
	return P53_ENOTSUP;
}

static uint64_t f_serial(void *arg) { (void)arg; return 9; }

/* ---- client thread -------------------------------------------------------------- */

struct client {
	const char *path;
	const char *request;
	char *reply;
	int ret;
	atomic_int done;
};

static void *client_main(void *arg)
{
	struct client *c = arg;
	char err[256];

	c->ret = ctl_sock_call(c->path, c->request, 5000, &c->reply, err, sizeof(err));
	atomic_store(&c->done, 1);
	return NULL;
}

/* One request answered by the loop; the answer line. */
static char *ask(struct event_base *base, const char *path, const char *request)
{
	struct client c = { .path = path, .request = request };
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, client_main, &c), 0);
	for (int i = 0; i < 5000 && !atomic_load(&c.done); i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	pthread_join(t, NULL);
	assert_int_equal(c.ret, 0);
	return c.reply;
}

static void tmp_path(char *buf, size_t len)
{
	snprintf(buf, len, "/tmp/p53-test-ctl-%d.sock", (int)getpid());
}

static void test_server(void **state)
{
	struct fake f = { 0 };
	struct ctl_ops ops = { .arg = &f, .push = f_push, .load = f_load, .refused = f_refused,
			       .status = f_status, .stats = f_stats, .metrics = f_metrics,
			       .drain = f_drain, .reload_config = f_reload_config,
			       .served_serial = f_serial };
	struct event_base *base = event_base_new();
	struct ctl_sock *s = NULL, *s2 = NULL;
	char path[108], err[256], *r;

	(void)state;
	tmp_path(path, sizeof(path));
	unlink(path);
	assert_int_equal(ctl_sock_start(base, path, &ops, &s, err, sizeof(err)), 0);
	assert_int_equal(access(path, F_OK), 0);
	/* a second daemon on the same socket is refused, naming why */
	assert_int_equal(ctl_sock_start(base, path, &ops, &s2, err, sizeof(err)), P53_EEXIST);
	assert_non_null(strstr(err, "another process"));

	r = ask(base, path, "{\"cmd\": \"status\"}");
	assert_string_equal(r, "{\"ok\": true, \"serial\": 9, \"zones\": [{\"name\": \"a.\", "
			    "\"serial\": 1}]}");
	free(r);
	r = ask(base, path, "{\"cmd\": \"drain\"}");
	assert_string_equal(r, "{\"ok\": true, \"drained\": true}");
	assert_true(f.drained);
	free(r);
	r = ask(base, path, "{\"cmd\":\"undrain\"}");
	assert_false(f.drained);
	free(r);
	r = ask(base, path, "{\"cmd\": \"load\", \"file\": \"/x/new\\\"q.snap\", \"force\": true}");
	assert_string_equal(r, "{\"ok\": true, \"serial\": 10, \"previous_serial\": 9, \"zones\": 2}");
	assert_string_equal(f.loaded, "/x/new\"q.snap");
	assert_true(f.force);
	free(r);
	r = ask(base, path, "{\"cmd\": \"load\", \"file\": \"/x/stale.snap\"}");
	assert_string_equal(r, "{\"ok\": false, \"error\": \"stale\", \"message\": \"serial 3 is not "
			    "newer than 9\", \"serial\": 9}");
	assert_false(f.force);
	free(r);
	r = ask(base, path, "{\"cmd\": \"load\", \"file\": \"relative.snap\"}");
	assert_int_equal(ctl_sock_reply_ok(r), 0);
	assert_non_null(strstr(r, "absolute"));
	free(r);
	r = ask(base, path, "{\"cmd\": \"reload-config\"}");
	assert_string_equal(r, "{\"ok\": false, \"error\": \"not-supported\", \"message\": \"not yet\"}");
	free(r);
	r = ask(base, path, "{\"cmd\": \"fly\"}");
	assert_int_equal(ctl_sock_reply_ok(r), 0);
	assert_non_null(strstr(r, "unknown command 'fly'"));
	free(r);
	r = ask(base, path, "status");
	assert_non_null(strstr(r, "\"error\": \"bad-request\""));
	free(r);

	ctl_sock_free(s);
	assert_int_equal(access(path, F_OK), -1);   /* the socket file goes with it */
	event_base_free(base);
}

/* A socket file nobody listens on (a daemon killed with -9) is taken over. */
static void test_stale_socket(void **state)
{
	struct ctl_ops ops = { 0 };
	struct event_base *base = event_base_new();
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl_sock *s = NULL;
	char path[108], err[256];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	(void)state;
	tmp_path(path, sizeof(path));
	unlink(path);
	memcpy(sun.sun_path, path, strlen(path));
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	assert_int_equal(ctl_sock_start(base, path, &ops, &s, err, sizeof(err)), 0);
	ctl_sock_free(s);
	/* a regular file is not a socket to replace */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(ctl_sock_start(base, path, &ops, &s, err, sizeof(err)), P53_EEXIST);
	assert_non_null(strstr(err, "not a socket"));
	unlink(path);
	event_base_free(base);
}

static void test_client_errors(void **state)
{
	char err[256], *reply = (char *)1;

	(void)state;
	assert_int_equal(ctl_sock_call("/nonexistent/p53.sock", "{}", 100, &reply, err,
				       sizeof(err)), P53_EIO);
	assert_null(reply);
	assert_non_null(strstr(err, "cannot connect to /nonexistent/p53.sock"));
}

static void test_request(void **state)
{
	char err[256], *r, cwd[4096], want[4200];

	(void)state;
	assert_int_equal(ctl_sock_request("status", NULL, false, &r, err, sizeof(err)), 0);
	assert_string_equal(r, "{\"cmd\": \"status\"}");
	free(r);
	assert_int_equal(ctl_sock_request("bogus", NULL, false, &r, err, sizeof(err)), P53_EINVAL);
	assert_non_null(strstr(err, "unknown command 'bogus'"));
	assert_int_equal(ctl_sock_request("load", NULL, false, &r, err, sizeof(err)), P53_EINVAL);
	assert_int_equal(ctl_sock_request("load", "/nonexistent/x.snap", false, &r, err,
					  sizeof(err)), P53_EIO);
	/* a relative file becomes absolute: the daemon has its own cwd */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(ctl_sock_request("load", ".", true, &r, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "{\"cmd\": \"load\", \"file\": \"%s\", \"force\": true}", cwd);
	assert_string_equal(r, want);
	free(r);
}

static char *human(const char *reply, int *ret)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	*ret = ctl_sock_print_human(reply, f);
	fclose(f);
	return text;
}

static void test_human(void **state)
{
	char *t;
	int ret;

	(void)state;
	t = human("{\"ok\": true, \"serial\": 7, \"zones\": [{\"name\": \"a.\", \"serial\": 3}, "
		  "{\"name\": \"b\\u00e9.\", \"serial\": 4}], \"loaded_at\": 86400, "
		  "\"healthy\": true, \"drained\": false, \"udp\": {\"queries\": 5, "
		  "\"drops\": {}}, \"lcores\": []}", &ret);
	assert_int_equal(ret, 1);
	assert_string_equal(t,
		"serial: 7\n"
		"zones:\n"
		"  - name: a.\n"
		"    serial: 3\n"
		"  - name: b\xc3\xa9.\n"
		"    serial: 4\n"
		"loaded_at: 86400 (1970-01-02 00:00:00 UTC)\n"
		"healthy: yes\n"
		"drained: no\n"
		"udp:\n"
		"  queries: 5\n"
		"  drops: none\n"
		"lcores: none\n");
	free(t);
	t = human("{\"ok\": false, \"error\": \"stale\", \"message\": \"not newer\", \"serial\": 9}",
		  &ret);
	assert_int_equal(ret, 0);
	assert_string_equal(t, "refused (stale): not newer\n");
	free(t);
	t = human("{\"ok\": true}", &ret);
	assert_string_equal(t, "done\n");
	free(t);
	t = human("{\"ok\": true", &ret);
	assert_int_equal(ret, P53_EPROTO);
	free(t);
	t = human("[1, 2]", &ret);
	assert_int_equal(ret, P53_EPROTO);
	free(t);
	assert_int_equal(ctl_sock_reply_ok("{\"ok\": true, \"a\": [[[{}]]], \"b\": -1.5e3, "
					   "\"c\": null}"), 1);
	assert_int_equal(ctl_sock_reply_ok("{\"ok\": \"yes\"}"), P53_EPROTO);
	assert_int_equal(ctl_sock_reply_ok("{\"ok\": true} x"), P53_EPROTO);
	assert_int_equal(ctl_sock_reply_ok("{\"ok\": true, \"s\": \"\\x\"}"), P53_EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_human),
		cmocka_unit_test(test_client_errors),
		cmocka_unit_test(test_server),
		cmocka_unit_test(test_stale_socket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
