/*
 * Fuzz target for the answer engine: the input is one DNS message, answered
 * from a snapshot compiled from fixed zones, over UDP and over TCP, and
 * from one of the first zone alone. The
 * two bytes of the message ID (which the engine only copies) choose the
 * server's EDNS payload size, the output buffer size, NSID and CHAOS
 * settings, so the corpus stays made of plain DNS messages. The last two
 * runs have EDNS Client Subnet on (an ECS option is checked and echoed),
 * the last one DNS cookies too (a COOKIE option in the input is then
 * parsed, checked and answered). Names outside those two zones fall into a
 * small NSEC-signed root zone (made-up signature bytes), so that queries
 * with DO=1 go through RRSIGs, NSEC proofs and signed referrals.
 *
 * Every response must be well-formed: within the buffer and the size limit,
 * the ID copied, QR set, and every section parsable with compression
 * pointers that point backwards. A violation aborts.
 *
 * Built with -DFUZZ_DRIVER_MAIN, main() runs every file of the directories
 * (or files) given as arguments through the same function: that is how the
 * corpus runs under `meson test`. A missing or empty corpus is a failure.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine.h"
#include "snap.h"
#include "zone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char zone_text[] =
	"$ORIGIN example.com.\n"
	"$TTL 3600\n"
	"@	SOA ns1 hostmaster 1 7200 900 1209600 300\n"
	"@	NS ns1\n"
	"@	NS ns2\n"
	"@	MX 10 mail\n"
	"@	MX 20 mail.example.net.\n"
	"@	TXT \"v=spf1 -all\"\n"
	"ns1	A 192.0.2.1\n"
	"ns1	AAAA 2001:db8::1\n"
	"ns2	A 192.0.2.2\n"
	"mail	A 192.0.2.25\n"
	"www	A 192.0.2.80\n"
	"www	AAAA 2001:db8::80\n"
	"c1	CNAME c2\n"
	"c2	CNAME www\n"
	"ext	CNAME www.other.org.\n"
	"loopa	CNAME loopb\n"
	"loopb	CNAME loopa\n"
	"tonet	CNAME www.example.net.\n"
	"todeleg	CNAME host.sub\n"
	"*.w	A 192.0.2.99\n"
	"*.w	MX 10 mail\n"
	"host.ent.w A 192.0.2.98\n"
	"*.wc	CNAME www\n"
	"*.wl	CNAME x.wl\n"
	"sub	NS ns.sub\n"
	"sub	NS ns.example.net.\n"
	"sub	DS 1 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	"ns.sub	A 192.0.2.53\n"
	"ns.sub	AAAA 2001:db8::53\n"
	"d	DNAME example.net.\n"
	"self	DNAME x.self.example.com.\n"
	"long	DNAME aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.example.net.\n"
	"_sip._tcp SRV 0 5 5060 www\n"
	"svc	HTTPS 1 . alpn=h2\n"
	"svc	A 192.0.2.44\n"
	"big	TXT \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"\n"
	"big	TXT \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"\n"
	"big	TXT \"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\"\n";

static const char zone_net[] =
	"$ORIGIN example.net.\n"
	"$TTL 600\n"
	"@	SOA ns1.example.com. hostmaster 1 7200 900 1209600 60\n"
	"@	NS ns1.example.com.\n"
	"www	A 198.51.100.1\n"
	"mail	A 198.51.100.25\n";

#define SIG(t, l) "RRSIG " t " 8 " l " 86400 20380101000000 20260101000000 1 . c2lnbmF0dXJl\n"
static const char zone_root[] =
	"$ORIGIN .\n"
	"$TTL 86400\n"
	"@	SOA a.root. nstld. 1 1800 900 604800 86400\n"
	"@	" SIG("SOA", "0")
	"@	NS a.root.\n"
	"@	" SIG("NS", "0")
	"@	DNSKEY 257 3 8 a2V5a2V5\n"
	"@	" SIG("DNSKEY", "0")
	"@	NSEC alias. NS SOA RRSIG NSEC DNSKEY\n"
	"@	" SIG("NSEC", "0")
	"alias	CNAME www.example.com.\n"
	"alias	" SIG("CNAME", "1")
	"alias	NSEC b.ent. CNAME RRSIG NSEC\n"
	"alias	" SIG("NSEC", "1")
	"b.ent	A 192.0.2.7\n"
	"b.ent	" SIG("A", "2")
	"b.ent	NSEC org. A RRSIG NSEC\n"
	"b.ent	" SIG("NSEC", "2")
	"org	NS ns.org.\n"
	"org	DS 1 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
	"org	" SIG("DS", "1")
	"org	NSEC a.root. NS DS RRSIG NSEC\n"
	"org	" SIG("NSEC", "1")
	"ns.org	A 192.0.2.8\n"
	"a.root	A 198.41.0.4\n"
	"a.root	" SIG("A", "2")
	"a.root	NSEC unsigned. A RRSIG NSEC\n"
	"a.root	" SIG("NSEC", "2")
	"unsigned NS ns.unsigned.\n"
	"ns.unsigned A 192.0.2.10\n"
	"unsigned NSEC *.wild. NS RRSIG NSEC\n"
	"unsigned " SIG("NSEC", "1")
	"*.wild	A 192.0.2.9\n"
	"*.wild	" SIG("A", "1")
	"*.wild	NSEC . A RRSIG NSEC\n"
	"*.wild	" SIG("NSEC", "2");

/* Each input is answered from snap3, the three zones, and from snap1,
 * example.com alone (a one-zone snapshot looks names up its own way:
 * snap_read.c, lookup_one); snap is the one being run. */
static struct snap *snap3, *snap1, *snap;

static struct zone *parse(const char *text)
{
	struct zone *z = NULL;
	struct diag d;

	diag_init(&d, stderr);
	d.hide_warnings = 1;
	if (zone_parse_string(text, strlen(text), "fuzz", NULL, &d, &z) < 0 ||
	    zone_check(z, NULL, &d) < 0)
		abort();
	return z;
}

/* The snapshot blobs live until exit, like the one a server holds. */
static void init(void)
{
	struct zone *z[3] = { parse(zone_text), parse(zone_net), parse(zone_root) };
	struct diag d;
	uint8_t *blob;
	size_t len;

	diag_init(&d, stderr);
	if (snap_compile(z, 3, NULL, &d, &blob, &len) < 0 ||
	    snap_open_mem(blob, len, &d, &snap3) < 0 ||
	    snap_compile(z, 1, NULL, &d, &blob, &len) < 0 ||
	    snap_open_mem(blob, len, &d, &snap1) < 0)
		abort();
	for (int i = 0; i < 3; i++)
		zone_free(z[i]);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

#define CHECK(c) do { if (!(c)) { \
	fprintf(stderr, "fuzz_engine: %s:%d: check failed: %s\n", \
		__FILE__, __LINE__, #c); abort(); } } while (0)

/* Skip a name, following pointers only backwards; false when malformed. */
static bool skip_name(const uint8_t *m, size_t len, size_t *pos)
{
	size_t p = *pos, total = 1;
	bool jumped = false;

	for (;;) {
		CHECK(p < len);
		if ((m[p] & 0xc0) == 0xc0) {
			size_t t;

			CHECK(p + 1 < len);
			t = (size_t)(m[p] & 0x3f) << 8 | m[p + 1];
			CHECK(t >= 12 && t < p);
			if (!jumped)
				*pos = p + 2;
			jumped = true;
			p = t;
			continue;
		}
		CHECK(m[p] <= 63);
		if (!m[p])
			break;
		total += 1u + m[p];
		CHECK(total <= 255);
		p += 1u + m[p];
	}
	if (!jumped)
		*pos = p + 1;
	return true;
}

/* The whole response parses, with nothing left over, and one OPT at most,
 * last-section only. */
static void check_response(const uint8_t *q, size_t qlen, const uint8_t *r,
			   size_t n)
{
	uint32_t rrs = (uint32_t)get16(r + 6) + get16(r + 8) + get16(r + 10);
	size_t pos = 12;
	int opts = 0;

	CHECK(n >= 12);
	CHECK(get16(r) == get16(q) && (r[2] & 0x80));
	CHECK((r[2] & 0x78) == (q[2] & 0x78));
	CHECK(get16(r + 4) <= 1);
	if (get16(r + 4)) {
		size_t qs;

		skip_name(r, n, &pos);
		CHECK(pos + 4 <= n);
		pos += 4;
		qs = pos - 12;
		/* the question is the query's, byte for byte */
		CHECK(qs <= qlen - 12 && memcmp(r + 12, q + 12, qs) == 0);
	}
	for (uint32_t i = 0; i < rrs; i++) {
		uint16_t type, rdlen;

		skip_name(r, n, &pos);
		CHECK(pos + 10 <= n);
		type = get16(r + pos);
		rdlen = get16(r + pos + 8);
		CHECK(pos + 10 + rdlen <= n);
		if (type == 41) {
			CHECK(i >= (uint32_t)get16(r + 6) + get16(r + 8));
			CHECK(r[pos - 1] == 0);
			opts++;
		}
		pos += 10u + rdlen;
	}
	CHECK(pos == n);
	CHECK(opts <= 1);
}

/* Answering in place, over a copy of the query, gives the same bytes. */
static void check_in_place(const struct engine_conf *conf, const uint8_t *data,
			   size_t size, const struct engine_client *c,
			   size_t cap, const uint8_t *want, size_t n)
{
	size_t len = size > cap ? size : cap;
	uint8_t *buf = malloc(len ? len : 1);

	if (!buf)
		abort();
	memcpy(buf, data, size);
	CHECK(engine_answer(conf, snap, buf, size, c, buf, cap, NULL) == n);
	CHECK(memcmp(buf, want, n) == 0);
	free(buf);
}

/* In a burst with interleaved lookups, between two other queries (one a
 * plain hit), the query gets the same bytes as alone; answered in place
 * too. */
static void check_burst(const struct engine_conf *conf, const uint8_t *data,
			size_t size, const struct engine_client *c,
			size_t cap, const uint8_t *want, size_t n)
{
	static const uint8_t hit[] = {
		0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e',
		3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
	};
	struct engine_conf bc = *conf;
	struct engine_job job[4];
	size_t len = size > cap ? size : cap;
	uint8_t *out = malloc(cap ? cap : 1), *inp = malloc(len ? len : 1);
	uint8_t hout[512];

	if (!out || !inp)
		abort();
	memcpy(inp, data, size);
	bc.interleave = ENGINE_INTERLEAVE_ALWAYS;
	job[0] = (struct engine_job){ .q = hit, .qlen = sizeof(hit),
				      .out = hout, .cap = sizeof(hout) };
	job[1] = (struct engine_job){ .q = data, .qlen = size, .client = c,
				      .out = out, .cap = cap };
	job[2] = job[0];
	job[3] = (struct engine_job){ .q = inp, .qlen = size, .client = c,
				      .out = inp, .cap = cap };
	engine_answer_burst(&bc, snap, job, 4);
	CHECK(job[1].len == n && memcmp(out, want, n) == 0);
	CHECK(job[3].len == n && memcmp(inp, want, n) == 0);
	CHECK(job[0].len > 0 && job[0].len == job[2].len);
	free(out);
	free(inp);
}

/* RRL's minimal response (engine_truncate) is well-formed and no longer
 * than the response, in both variants. */
static void check_truncate(const uint8_t *q, size_t qlen, const uint8_t *r,
			   size_t n, const struct engine_result *res)
{
	uint8_t *t = malloc(n);
	size_t m;

	if (!t)
		abort();
	for (int badcookie = 0; badcookie < 2; badcookie++) {
		memcpy(t, r, n);
		m = engine_truncate(t, n, res, badcookie);
		CHECK(m > 0 && m <= n);
		check_response(q, qlen, t, m);
		CHECK(get16(t + 6) == 0 && get16(t + 8) == 0);
	}
	free(t);
}

static void run(const struct engine_conf *conf, const uint8_t *data,
		size_t size, uint8_t transport, size_t cap)
{
	struct engine_client c = { .family = 2, .transport = transport };
	struct engine_result res;
	/* exactly cap bytes: ASan sees any write past the buffer */
	uint8_t *out = malloc(cap ? cap : 1);
	size_t n;

	if (!out)
		abort();
	n = engine_answer(conf, snap, data, size, &c, out, cap, &res);
	check_in_place(conf, data, size, &c, cap, out, n);
	check_burst(conf, data, size, &c, cap, out, n);
	CHECK(n <= cap);
	if (n) {
		uint32_t ours = conf->udp_payload < 512 ? 512 : conf->udp_payload;

		if (transport == ENGINE_UDP)
			CHECK(n <= (res.edns ? ours : 512));
		check_response(data, size, out, n);
		CHECK(!!(out[2] & 0x02) == res.truncated);
		CHECK((out[3] & 0x0f) == (res.rcode & 0x0f));
		CHECK(res.kind < ENGINE_KIND_COUNT);
		CHECK(!res.rrl_name || res.rrl_name_len);
		CHECK(res.ecs != ENGINE_ECS_ECHO || (conf->ecs && res.edns));
		check_truncate(data, size, out, n, &res);
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[8] = { 65535, 4096, 1232, 512, 300, 100, 12, 0 };
	static const struct cookie_secrets secrets = { .current = { 0xf0, 0x0d } };
	static struct cookie_box box;
	struct engine_conf conf;
	uint8_t a = size > 0 ? data[0] : 0, b = size > 1 ? data[1] : 0;

	if (!snap3) {
		init();
		cookie_box_set(&box, &secrets);
	}
	engine_conf_init(&conf);
	conf.udp_payload = (uint16_t)(a << 4 | b >> 4);    /* 0..4095 */
	if (b & 1) {
		conf.nsid = (const uint8_t *)"fuzz-nsid";
		conf.nsid_len = 9;
	}
	if (b & 2) {
		conf.version = "pop53 fuzz";
		conf.identity = "fuzz";
	}
	snap = snap1;
	run(&conf, data, size, ENGINE_UDP, caps[(b >> 2) & 3]);
	run(&conf, data, size, ENGINE_TCP, caps[(b >> 2) & 7]);
	snap = snap3;
	run(&conf, data, size, ENGINE_UDP, caps[(b >> 2) & 3]);
	run(&conf, data, size, ENGINE_TCP, caps[(b >> 2) & 7]);
	conf.ecs = 1;
	conf.ecs_scope_test = (uint8_t)(b >> 3);
	run(&conf, data, size, ENGINE_UDP, 65535);
	conf.cookies = &box;
	conf.now = 1700000000u + a;
	run(&conf, data, size, ENGINE_UDP, caps[(b >> 2) & 3]);
	return 0;
}

#ifdef FUZZ_DRIVER_MAIN
/* Feed one file through the target, from a buffer of exactly its size. */
static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;

	if (!f || fseek(f, 0, SEEK_END) < 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0) {
		fprintf(stderr, "fuzz_engine: cannot read %s: %s\n", path,
			strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	buf = malloc(len ? (size_t)len : 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		fprintf(stderr, "fuzz_engine: cannot read %s\n", path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)len);
	free(buf);
	return 0;
}

static long run_dir(const char *dir)
{
	char path[4096];
	struct dirent *e;
	long files = 0;
	DIR *d = opendir(dir);

	if (!d) {
		fprintf(stderr, "fuzz_engine: corpus directory %s: %s (the "
			"corpus is part of the test, it must be there)\n", dir,
			strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (run_file(path) < 0) {
			closedir(d);
			return -1;
		}
		files++;
	}
	closedir(d);
	return files;
}

int main(int argc, char **argv)
{
	long total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		long n;

		if (stat(argv[i], &st) == 0 && !S_ISDIR(st.st_mode))
			n = run_file(argv[i]) < 0 ? -1 : 1;
		else
			n = run_dir(argv[i]);
		if (n < 0)
			return 1;
		if (n == 0) {
			fprintf(stderr, "fuzz_engine: %s is empty\n", argv[i]);
			return 1;
		}
		total += n;
	}
	printf("fuzz_engine: %ld inputs, every response well-formed\n", total);
	return 0;
}
#endif
