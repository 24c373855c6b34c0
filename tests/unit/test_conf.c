/*
 * test_conf.c — pop53d's configuration: flags, the YAML file, flags over
 * the file, the checks of the whole picture, and the messages.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "error.h"

static char dir[64];

static void put(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

static const char *at(const char *name)
{
	static char buf[16][160];
	static int i;

	i = (i + 1) % 16;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/test_conf.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	put("a.zone", "x\n");
	put("b.zone", "x\n");
	put("k1.pem", "k\n");
	put("k2.pem", "k\n");
	put("cert.pem", "c\n");
	put("key.pem", "c\n");
	put("ca.pem", "c\n");
	put("s.snap", "s\n");
	mkdir(at("state"), 0700);
	mkdir(at("sub"), 0700);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* Run ctl_conf_from_args on a NULL-terminated list of arguments. */
static int run(struct diag *d, struct ctl_conf **c, ...)
{
	char *argv[64] = { (char *)"pop53d" };
	int argc = 1;
	va_list ap;

	va_start(ap, c);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	diag_init(d, NULL);
	return ctl_conf_from_args(argc, argv, d, c);
}

/* The run must fail; the first error must be want (exactly). */
static void refused(struct diag *d, int ret, struct ctl_conf *c, const char *want)
{
	assert_true(ret < 0);
	assert_null(c);
	assert_true(d->errors >= 1);
	if (strcmp(d->first, want))
		fail_msg("got  '%s'\nwant '%s'", d->first, want);
}

static uint16_t port_of(const struct srv_listen *l)
{
	const struct sockaddr_in *in = (const void *)&l->addr;
	return ntohs(in->sin_port);
}

static void test_flags(void **state)
{
	struct ctl_conf *c;
	struct ctl_daemon_opts *o;
	struct diag d;

	(void)state;
	assert_int_equal(run(&d, &c, "--listen", "127.0.0.1@5353", "--listen", "::1", "--zone",
			     at("a.zone"), "--udp-threads", "3", "--tcp-idle-ms", "1500",
			     "--tcp-max-conns", "7", "--nsid", "pop1", "--identity", "n1",
			     "--version-string", "v", NULL), 0);
	o = ctl_conf_opts(c);
	assert_int_equal(o->io, CTL_IO_KERNEL);
	assert_int_equal(o->srv.nlisten, 2);
	assert_int_equal(port_of(&o->srv.listen[0]), 5353);
	assert_int_equal(o->srv.listen[1].addr.ss_family, AF_INET6);
	assert_int_equal(port_of(&o->srv.listen[1]), 53);
	assert_int_equal(o->nzones, 1);
	assert_string_equal(o->zones[0], at("a.zone"));
	assert_null(o->snapshot);
	assert_int_equal(o->srv.udp_threads, 3);
	assert_int_equal(o->srv.tcp_idle_ms, 1500);
	assert_int_equal(o->srv.tcp_max_conns, 7);
	assert_int_equal(o->srv.engine.nsid_len, 4);
	assert_memory_equal(o->srv.engine.nsid, "pop1", 4);
	assert_string_equal(o->srv.engine.identity, "n1");
	assert_string_equal(o->srv.engine.version, "v");
	assert_int_equal(o->srv.engine.udp_payload, 1232);   /* engine_conf_init ran */
	assert_null(o->config_path);
	assert_null(o->state_dir);
	assert_null(o->push_listen);
	assert_null(o->metrics_listen);
	assert_true(o->push_max_bytes == CTL_CONF_PUSH_MAX_BYTES);
	assert_int_equal(o->push_timeout_ms, CTL_CONF_PUSH_TIMEOUT_MS);
	assert_int_equal(o->srv.engine.ecs, 0);              /* ECS off by default */
	assert_int_equal(o->srv.engine.ecs_v4_cap, ENGINE_ECS_V4_CAP);
	assert_int_equal(o->srv.engine.ecs_v6_cap, ENGINE_ECS_V6_CAP);
	ctl_conf_free(c);
}

/* ECS keys reach the engine's configuration; out of range is refused. */
static void test_ecs(void **state)
{
	struct ctl_conf *c;
	struct ctl_daemon_opts *o;
	struct diag d;
	int ret;

	(void)state;
	assert_int_equal(run(&d, &c, "--listen", "127.0.0.1", "--zone", at("a.zone"), "--ecs", "1",
			     "--ecs-ipv4-prefix-length", "20", "--ecs-ipv6-prefix-length", "48",
			     NULL), 0);
	o = ctl_conf_opts(c);
	assert_int_equal(o->srv.engine.ecs, 1);
	assert_int_equal(o->srv.engine.ecs_v4_cap, 20);
	assert_int_equal(o->srv.engine.ecs_v6_cap, 48);
	ctl_conf_free(c);
	ret = run(&d, &c, "--listen", "127.0.0.1", "--zone", at("a.zone"),
		  "--ecs-ipv4-prefix-length", "33", NULL);
	assert_true(ret < 0);
	assert_null(c);
	assert_non_null(strstr(d.first, "ecs-ipv4-prefix-length"));
	ret = run(&d, &c, "--listen", "127.0.0.1", "--zone", at("a.zone"), "--ecs", "2", NULL);
	assert_true(ret < 0);
	assert_null(c);
}

/* Alias resolvers: flags and file; a flag list replaces the file's. */
static void test_alias_resolvers(void **state)
{
	struct ctl_conf *c = NULL;
	struct ctl_daemon_opts *o;
	struct diag d;
	int ret;

	(void)state;
	assert_int_equal(run(&d, &c, "--listen", "127.0.0.1", "--zone", at("a.zone"),
			     "--alias-resolver", "127.0.0.53", "--alias-resolver", "::1@5353",
			     "--alias-min-refresh-s", "2", NULL), 0);
	o = ctl_conf_opts(c);
	assert_int_equal(o->nalias_resolvers, 2);
	assert_int_equal(port_of(&o->alias_resolvers[0]), 53);
	assert_int_equal(o->alias_resolvers[1].addr.ss_family, AF_INET6);
	assert_int_equal(o->alias_min_refresh_s, 2);
	ctl_conf_free(c);
	put("t.yaml", "server: { listen: [ 127.0.0.1 ] }\nzones: [ a.zone ]\npolicy:\n"
	    "  alias_resolvers: [ 10.0.0.53, 10.0.1.53@5300 ]\n  alias_min_refresh_s: 30\n");
	diag_init(&d, NULL);
	assert_int_equal(ctl_conf_load(at("t.yaml"), &d, &c), 0);
	o = ctl_conf_opts(c);
	assert_int_equal(o->nalias_resolvers, 2);
	assert_int_equal(port_of(&o->alias_resolvers[1]), 5300);
	assert_int_equal(o->alias_min_refresh_s, 30);
	ctl_conf_free(c);
	ret = run(&d, &c, "--listen", "127.0.0.1", "--zone", at("a.zone"), "--alias-resolver",
		  "resolver.example", NULL);
	assert_true(ret < 0);
	assert_null(c);
	assert_non_null(strstr(d.first, "alias-resolver"));
	ret = run(&d, &c, "--listen", "127.0.0.1", "--zone", at("a.zone"), "--alias-resolver",
		  "1.1.1.1", "--alias-resolver", "1.1.1.2", "--alias-resolver", "1.1.1.3",
		  "--alias-resolver", "1.1.1.4", "--alias-resolver", "1.1.1.5", NULL);
	assert_true(ret < 0);
	assert_null(c);
}

static void test_control_flags(void **state)
{
	struct ctl_conf *c;
	struct ctl_daemon_opts *o;
	struct diag d;

	(void)state;
	assert_int_equal(run(&d, &c, "--listen", "127.0.0.1@5353", "--state-dir", at("state"),
			     "--trusted-key", at("k1.pem"), "--trusted-key", at("k2.pem"),
			     "--push-listen", "127.0.0.1@8443", "--tls-cert", at("cert.pem"),
			     "--tls-key", at("key.pem"), "--tls-client-ca", at("ca.pem"),
			     "--push-max-bytes", "512M", "--push-timeout-ms", "5000",
			     "--metrics-listen", "[::1]@9153", "--control-socket",
			     "/run/p.sock", "--max-snapshot-age", "3600", NULL), P53_ESYNTAX);
	/* "[::1]" is not an address: brackets are not part of ADDR@PORT */
	assert_non_null(strstr(d.first, "--metrics-listen wants ADDR@PORT"));
	assert_int_equal(run(&d, &c, "--listen", "127.0.0.1@5353", "--state-dir", at("state"),
			     "--trusted-key", at("k1.pem"), "--trusted-key", at("k2.pem"),
			     "--push-listen", "127.0.0.1@8443", "--tls-cert", at("cert.pem"),
			     "--tls-key", at("key.pem"), "--tls-client-ca", at("ca.pem"),
			     "--push-max-bytes", "512M", "--push-timeout-ms", "5000",
			     "--metrics-listen", "::1@9153", "--control-socket", "/run/p.sock",
			     "--max-snapshot-age", "3600", NULL), 0);
	o = ctl_conf_opts(c);
	/* No zones and no snapshot: the state directory's stored one is served. */
	assert_int_equal(o->nzones, 0);
	assert_null(o->snapshot);
	assert_string_equal(o->state_dir, at("state"));
	assert_int_equal(o->nkeys, 2);
	assert_string_equal(o->trusted_keys[1], at("k2.pem"));
	assert_string_equal(o->push_listen, "127.0.0.1@8443");
	assert_string_equal(o->tls_cert, at("cert.pem"));
	assert_string_equal(o->tls_key, at("key.pem"));
	assert_string_equal(o->tls_client_ca, at("ca.pem"));
	assert_true(o->push_max_bytes == 512ull << 20);
	assert_int_equal(o->push_timeout_ms, 5000);
	assert_string_equal(o->metrics_listen, "::1@9153");
	assert_string_equal(o->control_socket, "/run/p.sock");
	assert_int_equal(o->max_snapshot_age_s, 3600);
	ctl_conf_free(c);
}

static void test_size(void **state)
{
	uint64_t v = 42;

	(void)state;
	assert_int_equal(ctl_conf_parse_size("1G", &v), 0);
	assert_true(v == 1ull << 30);
	assert_int_equal(ctl_conf_parse_size("512m", &v), 0);
	assert_true(v == 512ull << 20);
	assert_int_equal(ctl_conf_parse_size("3k", &v), 0);
	assert_true(v == 3072);
	assert_int_equal(ctl_conf_parse_size("65536", &v), 0);
	assert_true(v == 65536);
	assert_int_equal(ctl_conf_parse_size("0", &v), 0);
	assert_true(v == 0);
	assert_int_equal(ctl_conf_parse_size("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	v = 42;
	assert_int_equal(ctl_conf_parse_size("18446744073709551616", &v), P53_ERANGE);
	assert_int_equal(ctl_conf_parse_size("17179869184G", &v), P53_ERANGE);
	assert_int_equal(ctl_conf_parse_size("1T", &v), P53_ESYNTAX);
	assert_int_equal(ctl_conf_parse_size("1KB", &v), P53_ESYNTAX);
	assert_int_equal(ctl_conf_parse_size("K", &v), P53_ESYNTAX);
	assert_int_equal(ctl_conf_parse_size("", &v), P53_ESYNTAX);
	assert_int_equal(ctl_conf_parse_size("-1", &v), P53_ESYNTAX);
	assert_int_equal(ctl_conf_parse_size("01K", &v), P53_ESYNTAX);
	assert_int_equal(ctl_conf_parse_size("1 G", &v), P53_ESYNTAX);
	assert_true(v == 42);
}

static void test_flag_errors(void **state)
{
	struct ctl_conf *c = NULL;
	struct diag d;
	int ret;

	(void)state;
	ret = run(&d, &c, "--zone", at("a.zone"), NULL);
	refused(&d, ret, c, "pop53d: need at least one --listen ADDR[@PORT] (server.listen in the "
		"configuration file)");
	ret = run(&d, &c, "--listen", "127.0.0.1", NULL);
	refused(&d, ret, c, "pop53d: need either --zone or --snapshot (zones or snapshot in the "
		"configuration file), or a state directory holding a stored snapshot "
		"(--state-dir, state_dir)");
	ret = run(&d, &c, "--listen", "127.0.0.1@0", "--zone", at("a.zone"), NULL);
	refused(&d, ret, c, "pop53d: --listen wants ADDR[@PORT] (an IPv4 or IPv6 address, port "
		"1..65535; at most 16), got '127.0.0.1@0'");
	ret = run(&d, &c, "--listen", "127.0.0.1", "--zone", at("a.zone"), "--udp-threads", "0",
		  NULL);
	refused(&d, ret, c, "pop53d: --udp-threads wants an integer 1..256, got '0'");
	ret = run(&d, &c, "--listen", "127.0.0.1", "--zone", at("a.zone"), "--push-max-bytes",
		  "100", NULL);
	refused(&d, ret, c, "pop53d: --push-max-bytes wants a byte count 1K..64G (K, M, G: "
		"1024-based), got '100'");
	ret = run(&d, &c, "--frob", NULL);
	refused(&d, ret, c, "pop53d: unknown option '--frob'");
	ret = run(&d, &c, "--listen", NULL);
	refused(&d, ret, c, "pop53d: option '--listen' needs a value");
	ret = run(&d, &c, "--listen", "127.0.0.1", "stray", NULL);
	refused(&d, ret, c, "pop53d: unexpected argument 'stray' (every value follows its --option)");
	ret = run(&d, &c, "--listen", "127.0.0.1", "--zone", at("a.zone"), "--exception", "tap:",
		  NULL);
	refused(&d, ret, c, "pop53d: --exception wants tap or tap:IFNAME, got 'tap:'");
	assert_int_equal(run(&d, &c, "--listen", "x", "--help", NULL), CTL_CONF_HELP);
	assert_null(c);
}

/* The message must name the missing file exactly. */
static void test_missing_files(void **state)
{
	struct ctl_conf *c = NULL;
	struct diag d;
	char want[256];
	int ret;

	(void)state;
	ret = run(&d, &c, "--listen", "127.0.0.1", "--zone", at("nope.zone"), NULL);
	snprintf(want, sizeof(want), "pop53d: --zone: cannot read %s: No such file or directory",
		 at("nope.zone"));
	refused(&d, ret, c, want);
	ret = run(&d, &c, "--listen", "127.0.0.1", "--state-dir", at("nodir"), NULL);
	snprintf(want, sizeof(want), "pop53d: --state-dir: directory %s does not exist (pop53d "
		 "does not create it)", at("nodir"));
	refused(&d, ret, c, want);
	ret = run(&d, &c, "--listen", "127.0.0.1", "--state-dir", at("a.zone"), NULL);
	snprintf(want, sizeof(want), "pop53d: --state-dir: %s is not a directory", at("a.zone"));
	refused(&d, ret, c, want);
	ret = run(&d, &c, "--listen", "127.0.0.1", "--snapshot", at("state"), NULL);
	snprintf(want, sizeof(want), "pop53d: --snapshot: %s is not a regular file", at("state"));
	refused(&d, ret, c, want);
}

static void test_push_needs(void **state)
{
	struct ctl_conf *c = NULL;
	struct diag d;
	int ret;

	(void)state;
	ret = run(&d, &c, "--listen", "127.0.0.1", "--zone", at("a.zone"), "--push-listen",
		  "127.0.0.1@8443", "--tls-key", at("key.pem"), NULL);
	refused(&d, ret, c, "pop53d: --push-listen: the push API needs push.tls.cert (--tls-cert)");
	assert_int_equal(d.errors, 3);   /* cert, client_ca, trusted key */
	ret = run(&d, &c, "--listen", "127.0.0.1", "--zone", at("a.zone"), "--push-listen",
		  "127.0.0.1", NULL);
	refused(&d, ret, c, "pop53d: --push-listen wants ADDR@PORT (an IPv4 or IPv6 address and a "
		"port 1..65535), got '127.0.0.1'");
}

static const char *full_yaml =
	"# every section\n"
	"server:\n"
	"  io: kernel\n"
	"  listen: [ \"127.0.0.1@5300\", \"::1@5300\" ]\n"
	"  udp_threads: 2\n"
	"  tcp_idle_ms: 2000\n"
	"  tcp_max_conns: 99\n"
	"  nsid: pop-ams-1\n"
	"  version_string: pop53\n"
	"  identity: ams-1\n"
	"zones:\n"
	"  - a.zone\n"
	"  - b.zone\n"
	"dpdk:\n"
	"  eal: [ \"-l\", \"0,1\", \"--no-huge\" ]\n"
	"  exception: tap\n"
	"  exception_ifname: p53x0\n"
	"  exception_addr: [ 192.0.2.1/24, \"2001:db8::1/64\" ]\n"
	"state_dir: state\n"
	"control:\n"
	"  socket: /run/pop53/control.sock\n"
	"push:\n"
	"  listen: 0.0.0.0@8443\n"
	"  tls:\n"
	"    cert: cert.pem\n"
	"    key: key.pem\n"
	"    client_ca: ca.pem\n"
	"  trusted_keys: [ k1.pem, k2.pem ]\n"
	"  max_bytes: 2G\n"
	"  timeout_ms: 60000\n"
	"metrics:\n"
	"  listen: 127.0.0.1@9153\n"
	"health:\n"
	"  max_snapshot_age: 86400\n";

static void test_file_full(void **state)
{
	struct ctl_conf *c;
	struct ctl_daemon_opts *o;
	struct diag d;

	(void)state;
	put("full.yaml", full_yaml);
	diag_init(&d, NULL);
	assert_int_equal(ctl_conf_load(at("full.yaml"), &d, &c), 0);
	o = ctl_conf_opts(c);
	assert_string_equal(o->config_path, at("full.yaml"));
	assert_int_equal(o->srv.nlisten, 2);
	assert_int_equal(port_of(&o->srv.listen[1]), 5300);
	assert_int_equal(o->srv.udp_threads, 2);
	assert_int_equal(o->srv.tcp_idle_ms, 2000);
	assert_int_equal(o->srv.tcp_max_conns, 99);
	assert_int_equal(o->srv.engine.nsid_len, 9);
	assert_string_equal(o->srv.engine.version, "pop53");
	assert_string_equal(o->srv.engine.identity, "ams-1");
	/* Relative paths are the file's directory's. */
	assert_int_equal(o->nzones, 2);
	assert_string_equal(o->zones[0], at("a.zone"));
	assert_string_equal(o->zones[1], at("b.zone"));
	assert_string_equal(o->eal, "-l 0,1 --no-huge");
	assert_int_equal(o->exception, CTL_EXC_TAP);
	assert_string_equal(o->exc_ifname, "p53x0");
	assert_int_equal(o->nexc_addr, 2);
	assert_int_equal(o->exc_addr[1].family, AF_INET6);
	assert_int_equal(o->exc_addr[1].len, 64);
	assert_string_equal(o->state_dir, at("state"));
	assert_string_equal(o->control_socket, "/run/pop53/control.sock");
	assert_string_equal(o->push_listen, "0.0.0.0@8443");
	assert_string_equal(o->tls_cert, at("cert.pem"));
	assert_string_equal(o->tls_client_ca, at("ca.pem"));
	assert_int_equal(o->nkeys, 2);
	assert_string_equal(o->trusted_keys[0], at("k1.pem"));
	assert_true(o->push_max_bytes == 2ull << 30);
	assert_int_equal(o->push_timeout_ms, 60000);
	assert_string_equal(o->metrics_listen, "127.0.0.1@9153");
	assert_int_equal(o->max_snapshot_age_s, 86400);
	ctl_conf_free(c);
}

static void test_flags_override(void **state)
{
	struct ctl_conf *c;
	struct ctl_daemon_opts *o;
	struct diag d;

	(void)state;
	put("full.yaml", full_yaml);
	/* Flags come before --config on purpose: the file is still read first. */
	assert_int_equal(run(&d, &c, "--listen", "127.0.0.2@53", "--identity", "flag",
			     "--snapshot", at("s.snap"), "--trusted-key", at("k2.pem"),
			     "--udp-threads", "1", "--config", at("full.yaml"), NULL), 0);
	o = ctl_conf_opts(c);
	assert_int_equal(o->srv.nlisten, 1);             /* the list is replaced */
	assert_int_equal(port_of(&o->srv.listen[0]), 53);
	assert_string_equal(o->srv.engine.identity, "flag");
	assert_string_equal(o->srv.engine.version, "pop53");   /* the file's */
	assert_int_equal(o->nzones, 0);                  /* --snapshot replaces zones */
	assert_string_equal(o->snapshot, at("s.snap"));
	assert_int_equal(o->nkeys, 1);
	assert_string_equal(o->trusted_keys[0], at("k2.pem"));
	assert_int_equal(o->srv.udp_threads, 1);
	assert_int_equal(o->push_timeout_ms, 60000);
	ctl_conf_free(c);
	/* A flag can stand in for a file value that would not load here. */
	put("bad-state.yaml", "server: { listen: [ 127.0.0.1 ] }\nstate_dir: /nonexistent/p53\n");
	diag_init(&d, NULL);
	assert_true(ctl_conf_load(at("bad-state.yaml"), &d, &c) < 0);
	assert_int_equal(run(&d, &c, "--config", at("bad-state.yaml"), "--state-dir", at("state"),
			     NULL), 0);
	assert_string_equal(ctl_conf_opts(c)->state_dir, at("state"));
	ctl_conf_free(c);
}

/* Load yaml (written to dir/t.yaml); it must fail with first error
 * "DIR/t.yaml:" + want. */
static void file_refused(const char *yaml, const char *want)
{
	struct ctl_conf *c = NULL;
	char full[512];
	struct diag d;
	int ret;

	put("t.yaml", yaml);
	diag_init(&d, NULL);
	ret = ctl_conf_load(at("t.yaml"), &d, &c);
	snprintf(full, sizeof(full), "%s%s", at("t.yaml"), want);
	refused(&d, ret, c, full);
}

static void test_file_errors(void **state)
{
	(void)state;
	file_refused("server:\n  listen: [ 127.0.0.1 ]\n  udp_threads: many\nzones: [ a.zone ]\n",
		     ":3:16: 'udp_threads' must be an integer 1..256, got \"many\"");
	file_refused("server:\n  listen: [ 127.0.0.1 ]\n  lisen: x\nzones: [ a.zone ]\n",
		     ":3:3: unknown key 'lisen' in 'server' (known: io, listen, udp_threads, "
		     "tcp_idle_ms, tcp_max_conns, nsid, version_string, identity, ecs, "
		     "ecs_ipv4_prefix_length, ecs_ipv6_prefix_length)");
	file_refused("server:\n  listen: [ 127.0.0.1 ]\nzones: [ a.zone ]\nrrl:\n  slip: 11\n",
		     ":5:9: 'slip' must be an integer 0..10, got \"11\"");
	file_refused("server:\n  listen: [ 127.0.0.1 ]\nzones: [ a.zone ]\nrrl:\n"
		     "  exempt_clients: [ 10.0.0.0/33 ]\n",
		     ":5:21: item 1 of 'exempt_clients' must be ADDR/LEN (at most 32), got \"10.0.0.0/33\"");
	file_refused("server:\n  listen: [ 127.0.0.1 ]\nzones: [ a.zone ]\nbgp:\n  bird: x\n",
		     ":5:3: unknown key 'bird' in 'bgp' (known: bird_socket, state_file, "
		     "failsafe_interface, drain_wait_ms)");
	file_refused("server: [ 127.0.0.1 ]\nzones: [ a.zone ]\n",
		     ":1:9: 'server' must be a mapping (key: value lines), got a list");
	file_refused("server:\n  listen: 127.0.0.1\nzones: [ a.zone ]\n",
		     ":2:11: 'listen' must be a list ([ a, b ] or '- a' lines), got \"127.0.0.1\"");
	file_refused("server:\n  listen: [ 127.0.0.1, 300.0.0.1 ]\nzones: [ a.zone ]\n",
		     ":2:24: item 2 of 'listen' must be ADDR[@PORT] (an IPv4 or IPv6 address, port "
		     "1..65535; at most 16), got \"300.0.0.1\"");
	file_refused("server:\n  listen: [ 127.0.0.1 ]\n  io: fast\nzones: [ a.zone ]\n",
		     ":3:7: 'io' must be kernel or dpdk, got \"fast\"");
	file_refused("server:\n  listen: [ 127.0.0.1 ]\nzones: [ a.zone ]\nsnapshot: s.snap\n",
		     ":4:11: 'zones' and 'snapshot' exclude each other: give one of them");
	file_refused("server:\n  listen: [ 127.0.0.1 ]\nzones: [ a.zone ]\nzones: [ b.zone ]\n",
		     ":4:1: duplicate key 'zones' (first at line 3:1)");
	file_refused("server:\n  listen: [ 127.0.0.1 ]\nzones: [ a.zone ]\nstate_dir:\n",
		     ":4:11: 'state_dir' must be a directory name, got nothing (null)");
	file_refused("server:\n  listen: [ 127.0.0.1 ]\nzones: [ a.zone ]\npush:\n  tls:\n"
		     "    cert: cert.pem\n    keys: key.pem\n",
		     ":7:5: unknown key 'keys' in 'tls' (known: cert, key, client_ca)");
	file_refused("server:\n  listen: [ 127.0.0.1 ]\nzones: [ a.zone ]\npush:\n"
		     "  max_bytes: 1T\n",
		     ":5:14: 'max_bytes' must be a byte count 1K..64G (K, M, G: 1024-based), got \"1T\"");
	file_refused("server:\n  listen: [ 127.0.0.1 ]\nzones: [ a.zone ]\ndpdk:\n"
		     "  eal: [ \"-l 0\" ]\n",
		     ":5:10: item 1 of 'eal' must be EAL arguments (a string, or a list of "
		     "arguments without blanks), got \"-l 0\"");
	file_refused("server:\n  listen: [ 127.0.0.1 ]\n  nsid: "
		     "\"0123456789012345678901234567890123456789012345678901234567890123456789"
		     "0123456789012345678901234567890123456789012345678901234567890\"\n"
		     "zones: [ a.zone ]\n",
		     ":3:9: 'nsid' must be a text of 1..128 bytes, got "
		     "\"0123456789012345678901234567890123456789...\"");
	file_refused("server:\n  listen: [ 127.0.0.1 ]\nzones: [ a.zone ]\nhealth:\n"
		     "  max_snapshot_age: -5\n",
		     ":5:21: 'max_snapshot_age' must be an integer 0..315360000, got \"-5\"");
}

/* Errors found after the flags, with the file position of the value. */
static void test_file_checks(void **state)
{
	struct ctl_conf *c = NULL;
	char want[400];
	struct diag d;
	int ret;

	(void)state;
	put("t.yaml", "server:\n  listen: [ 127.0.0.1 ]\nzones: [ a.zone, missing.zone ]\n");
	diag_init(&d, NULL);
	ret = ctl_conf_load(at("t.yaml"), &d, &c);
	snprintf(want, sizeof(want), "%s:3:18: item 2 of 'zones': cannot read %s: No such file or "
		 "directory", at("t.yaml"), at("missing.zone"));
	refused(&d, ret, c, want);

	put("t.yaml", "server:\n  listen: [ 127.0.0.1 ]\nstate_dir: state\npush:\n"
		      "  listen: 127.0.0.1@8443\n  tls: { cert: cert.pem, key: key.pem, "
		      "client_ca: ca.pem }\n");
	diag_init(&d, NULL);
	ret = ctl_conf_load(at("t.yaml"), &d, &c);
	snprintf(want, sizeof(want), "%s:5:11: 'listen': the push API needs at least one trusted "
		 "controller key: push.trusted_keys (--trusted-key)", at("t.yaml"));
	refused(&d, ret, c, want);

	/* The flag supplies what the file lacks. */
	assert_int_equal(run(&d, &c, "--config", at("t.yaml"), "--trusted-key", at("k1.pem"),
			     NULL), 0);
	assert_int_equal(ctl_conf_opts(c)->nkeys, 1);
	ctl_conf_free(c);

	put("t.yaml", "server:\n  listen: [ 127.0.0.1 ]\nzones: [ a.zone ]\ndpdk:\n"
		      "  exception_ifname: p53x0\n");
	diag_init(&d, NULL);
	ret = ctl_conf_load(at("t.yaml"), &d, &c);
	snprintf(want, sizeof(want), "%s:5:21: 'exception_ifname': needs dpdk.exception: tap",
		 at("t.yaml"));
	refused(&d, ret, c, want);
}

static void test_file_misc(void **state)
{
	struct ctl_conf *c = NULL;
	struct diag d;
	char want[256];
	int ret;

	(void)state;
	/* Empty file: nothing is set, so the listen check speaks. */
	put("t.yaml", "# nothing\n");
	diag_init(&d, NULL);
	ret = ctl_conf_load(at("t.yaml"), &d, &c);
	refused(&d, ret, c, "pop53d: need at least one --listen ADDR[@PORT] (server.listen in the "
		"configuration file)");
	/* Not there at all. */
	diag_init(&d, NULL);
	assert_int_equal(ctl_conf_load(at("none.yaml"), &d, &c), P53_EIO);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", at("none.yaml"));
	assert_string_equal(d.first, want);
	/* A top level that is not a mapping. */
	put("t.yaml", "- a\n- b\n");
	diag_init(&d, NULL);
	ret = ctl_conf_load(at("t.yaml"), &d, &c);
	snprintf(want, sizeof(want), "%s:1:1: the document must be a mapping (key: value lines), "
		 "got a list", at("t.yaml"));
	refused(&d, ret, c, want);
	/* Every error is reported, not only the first. */
	put("t.yaml", "server:\n  listen: [ x ]\n  udp_threads: 0\n  tcp_idle_ms: y\nfoo: 1\n");
	diag_init(&d, NULL);
	assert_true(ctl_conf_load(at("t.yaml"), &d, &c) < 0);
	assert_int_equal(d.errors, 4);
	/* Paths in a file in another directory are that directory's. */
	put("sub/s.yaml", "server: { listen: [ 127.0.0.1 ] }\nzones: [ ../a.zone ]\n");
	diag_init(&d, NULL);
	assert_int_equal(ctl_conf_load(at("sub/s.yaml"), &d, &c), 0);
	snprintf(want, sizeof(want), "%s/sub/../a.zone", dir);
	assert_string_equal(ctl_conf_opts(c)->zones[0], want);
	ctl_conf_free(c);
}

static void test_reload(void **state)
{
	struct ctl_conf *c, *c2;
	struct diag d;

	(void)state;
	put("r.yaml", "server:\n  listen: [ 127.0.0.1@5300 ]\n  identity: one\n  nsid: n1\n"
		      "zones: [ a.zone ]\n");
	assert_int_equal(run(&d, &c, "--config", at("r.yaml"), "--nsid", "flag", NULL), 0);
	assert_string_equal(ctl_conf_opts(c)->srv.engine.identity, "one");
	put("r.yaml", "server:\n  listen: [ 127.0.0.1@5300 ]\n  identity: two\n  nsid: n2\n"
		      "zones: [ a.zone, b.zone ]\n");
	diag_init(&d, NULL);
	assert_int_equal(ctl_conf_reload(c, &d, &c2), 0);
	assert_string_equal(ctl_conf_opts(c2)->srv.engine.identity, "two");
	assert_int_equal(ctl_conf_opts(c2)->nzones, 2);
	assert_memory_equal(ctl_conf_opts(c2)->srv.engine.nsid, "flag", 4);   /* flag kept */
	/* The running one is untouched. */
	assert_string_equal(ctl_conf_opts(c)->srv.engine.identity, "one");
	assert_int_equal(ctl_conf_opts(c)->nzones, 1);
	/* Found again from its options alone, as the daemon does. */
	assert_ptr_equal(ctl_conf_of(ctl_conf_opts(c)), c);
	assert_ptr_equal(ctl_conf_of(ctl_conf_opts(c2)), c2);
	struct ctl_daemon_opts other = { 0 };
	assert_null(ctl_conf_of(&other));
	struct ctl_daemon_opts *gone = ctl_conf_opts(c2);
	ctl_conf_free(c2);
	assert_null(ctl_conf_of(gone));
	assert_ptr_equal(ctl_conf_of(ctl_conf_opts(c)), c);
	/* A broken file on reload: refused, running unchanged. */
	put("r.yaml", "server:\n  listen: [ 127.0.0.1@5300 ]\n  identity: [ x ]\nzones: [ a.zone ]\n");
	diag_init(&d, NULL);
	c2 = (struct ctl_conf *)1;
	assert_true(ctl_conf_reload(c, &d, &c2) < 0);
	assert_null(c2);
	assert_non_null(strstr(d.first, "r.yaml:3:13: 'identity' must be a text of 1..255 bytes, "
			       "got a list"));
	assert_string_equal(ctl_conf_opts(c)->srv.engine.identity, "one");
	ctl_conf_free(c);
}

/* The bundled example must load (its zone is beside it). */
static void test_example(void **state)
{
	const char *root = getenv("SOURCE_ROOT");
	char path[512];
	struct ctl_conf *c;
	struct diag d;

	(void)state;
	snprintf(path, sizeof(path), "%s/zones/examples/pop53d.yaml", root ? root : ".");
	diag_init(&d, stderr);
	assert_int_equal(ctl_conf_load(path, &d, &c), 0);
	assert_true(ctl_conf_opts(c)->nzones >= 1);
	assert_true(ctl_conf_opts(c)->srv.nlisten >= 1);
	ctl_conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_ecs),
		cmocka_unit_test(test_alias_resolvers),
		cmocka_unit_test(test_control_flags),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_flag_errors),
		cmocka_unit_test(test_missing_files),
		cmocka_unit_test(test_push_needs),
		cmocka_unit_test(test_file_full),
		cmocka_unit_test(test_flags_override),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_file_checks),
		cmocka_unit_test(test_file_misc),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_example),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
