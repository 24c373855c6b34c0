/*
 * test_yconf.c — the YAML reader: tree and positions, strictness
 * (duplicates, aliases, tags, documents), and the typed getters' messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "diag.h"
#include "error.h"
#include "yconf.h"

static struct yconf_doc *load_ok(const char *text)
{
	struct yconf_doc *doc = NULL;
	struct diag d;

	diag_init(&d, NULL);
	assert_int_equal(yconf_load_text("t.yaml", text, strlen(text), &d, &doc), 0);
	assert_int_equal(d.errors, 0);
	return doc;
}

/* Load text that must fail with ret; the first error must be msg. */
static void load_bad(const char *text, int ret, const char *msg)
{
	struct yconf_doc *doc = NULL;
	struct diag d;

	diag_init(&d, NULL);
	assert_int_equal(yconf_load_text("t.yaml", text, strlen(text), &d, &doc), ret);
	assert_null(doc);
	assert_true(d.errors >= 1);
	if (strcmp(d.first, msg))
		fail_msg("got '%s'\nwant '%s'", d.first, msg);
}

static void test_tree(void **state)
{
	struct yconf_doc *doc = load_ok("server:\n  listen: [ \"192.0.2.1@53\", \"::1@5353\" ]\n"
					"  udp_threads: 4\nzones:\n  - a.zone\n  - b.zone\n");
	const struct yconf_node *root = yconf_root(doc), *srv, *l, *z;
	char buf[64];

	(void)state;
	assert_int_equal(yconf_kind(root), YCONF_MAP);
	assert_int_equal(yconf_count(root), 2);
	assert_string_equal(yconf_text(yconf_key_at(root, 0)), "server");
	assert_string_equal(yconf_text(yconf_key_at(root, 1)), "zones");
	assert_int_equal(yconf_line(yconf_key_at(root, 1)), 4);
	srv = yconf_get(root, "server");
	assert_ptr_equal(srv, yconf_at(root, 0));
	assert_int_equal(yconf_kind(srv), YCONF_MAP);
	assert_int_equal(yconf_line(srv), 2);
	assert_int_equal(yconf_col(srv), 3);
	l = yconf_get(srv, "listen");
	assert_int_equal(yconf_kind(l), YCONF_SEQ);
	assert_int_equal(yconf_count(l), 2);
	assert_string_equal(yconf_text(yconf_at(l, 0)), "192.0.2.1@53");
	assert_string_equal(yconf_text(yconf_at(l, 1)), "::1@5353");
	assert_int_equal(yconf_col(yconf_at(l, 1)), 29);
	assert_string_equal(yconf_name(yconf_at(l, 1), buf, sizeof(buf)), "item 2 of 'listen'");
	assert_string_equal(yconf_name(l, buf, sizeof(buf)), "'listen'");
	assert_string_equal(yconf_name(root, buf, sizeof(buf)), "the document");
	assert_null(yconf_at(l, 2));
	assert_null(yconf_get(srv, "nope"));
	assert_null(yconf_get(l, "listen"));   /* not a mapping */
	assert_null(yconf_text(l));
	z = yconf_get(root, "zones");
	assert_int_equal(yconf_count(z), 2);
	assert_string_equal(yconf_text(yconf_at(z, 1)), "b.zone");
	assert_int_equal(yconf_line(yconf_at(z, 1)), 6);
	assert_string_equal(yconf_file(z), "t.yaml");
	yconf_free(doc);
}

static void test_null_and_quoted(void **state)
{
	struct yconf_doc *doc = load_ok("a:\nb: ~\nc: \"null\"\nd: ''\ne: NULL\nnull: 1\n");
	const struct yconf_node *r = yconf_root(doc);
	const char *s = NULL;
	struct diag d;

	(void)state;
	assert_int_equal(yconf_kind(yconf_get(r, "a")), YCONF_NULL);
	assert_int_equal(yconf_kind(yconf_get(r, "b")), YCONF_NULL);
	assert_int_equal(yconf_kind(yconf_get(r, "e")), YCONF_NULL);
	assert_string_equal(yconf_text(yconf_get(r, "b")), "");
	/* Quoted: a string, even when it spells null or nothing. */
	assert_int_equal(yconf_kind(yconf_get(r, "c")), YCONF_SCALAR);
	assert_string_equal(yconf_text(yconf_get(r, "c")), "null");
	assert_int_equal(yconf_kind(yconf_get(r, "d")), YCONF_SCALAR);
	/* A key spelled null is the word null. */
	assert_non_null(yconf_get(r, "null"));
	diag_init(&d, NULL);
	assert_int_equal(yconf_str(yconf_get(r, "a"), &d, &s), P53_ESYNTAX);
	assert_null(s);
	assert_string_equal(d.first, "t.yaml:1:3: 'a' must be a string, got nothing (null)");
	assert_int_equal(yconf_str(yconf_get(r, "d"), &d, &s), 0);
	assert_string_equal(s, "");
	yconf_free(doc);
}

static void test_empty(void **state)
{
	struct yconf_doc *doc = load_ok("# only a comment\n");

	(void)state;
	assert_int_equal(yconf_kind(yconf_root(doc)), YCONF_NULL);
	assert_int_equal(yconf_count(yconf_root(doc)), 0);
	yconf_free(doc);
	doc = load_ok("");
	assert_int_equal(yconf_kind(yconf_root(doc)), YCONF_NULL);
	yconf_free(doc);
}

static void test_strict(void **state)
{
	(void)state;
	load_bad("a: 1\nb: 2\na: 3\n", P53_ESYNTAX,
		 "t.yaml:3:1: duplicate key 'a' (first at line 1:1)");
	load_bad("s:\n  x: 1\n  y: 2\n  x: 1\n", P53_ESYNTAX,
		 "t.yaml:4:3: duplicate key 'x' (first at line 2:3)");
	load_bad("a: &x 1\nb: *x\n", P53_ESYNTAX,
		 "t.yaml:1:4: YAML anchors (&name) are not supported: write the value out");
	load_bad("a: !!str 1\n", P53_ESYNTAX,
		 "t.yaml:1:4: YAML tags (!tag) are not supported: quote a value to make it a string");
	load_bad("a: 1\n---\nb: 2\n", P53_ESYNTAX,
		 "t.yaml:2:1: only one YAML document per file (found a second '---')");
	load_bad("? [a, b]\n: 1\n", P53_ESYNTAX,
		 "t.yaml:1:3: a mapping key must be a word or string, not a list or mapping");
	load_bad("a: \"x\\0y\"\n", P53_ESYNTAX, "t.yaml:1:4: a value contains a NUL character");
	load_bad("a: 1\n b: 2\n", P53_ESYNTAX,
		 "t.yaml:2:3: YAML syntax: mapping values are not allowed in this context");
	load_bad("a: [1, 2\nb: 3\n", P53_ESYNTAX,
		 "t.yaml:2:2: YAML syntax: did not find expected ',' or ']' "
		 "(while parsing a flow sequence at 1:4)");
	load_bad("a: \"\xff\"\n", P53_ESYNTAX, "t.yaml: YAML: invalid leading UTF-8 octet at byte 4");
}

static void test_alias_alone(void **state)
{
	(void)state;
	load_bad("a: *x\n", P53_ESYNTAX,
		 "t.yaml:1:4: YAML aliases (*name) are not supported: write the value out");
}

static void test_depth(void **state)
{
	char text[400];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 70; i++)
		text[n++] = '[';
	for (int i = 0; i < 70; i++)
		text[n++] = ']';
	text[n] = '\0';
	load_bad(text, P53_ELIMIT, "t.yaml:1:65: nested deeper than 64 levels");
	text[60] = '\0';   /* 60 deep and unclosed: a syntax error, not a crash */
	struct yconf_doc *doc = NULL;
	struct diag d;
	diag_init(&d, NULL);
	assert_int_equal(yconf_load_text("t.yaml", text, strlen(text), &d, &doc), P53_ESYNTAX);
	memset(text, '[', 30);
	memset(text + 30, ']', 30);
	text[60] = '\0';
	doc = load_ok(text);
	assert_int_equal(yconf_kind(yconf_root(doc)), YCONF_SEQ);
	yconf_free(doc);
}

static void test_big_map(void **state)
{
	size_t cap = 30000 * 24, n = 0;
	char *text = malloc(cap);
	struct yconf_doc *doc;
	const struct yconf_node *r;

	(void)state;
	for (int i = 29999; i >= 0; i--)
		n += (size_t)snprintf(text + n, cap - n, "k%d: %d\n", i, i);
	doc = load_ok(text);
	r = yconf_root(doc);
	assert_int_equal(yconf_count(r), 30000);
	assert_string_equal(yconf_text(yconf_get(r, "k0")), "0");
	assert_string_equal(yconf_text(yconf_get(r, "k12345")), "12345");
	assert_string_equal(yconf_text(yconf_get(r, "k29999")), "29999");
	assert_null(yconf_get(r, "k30000"));
	yconf_free(doc);
	snprintf(text + n, cap - n, "k777: again\n");
	load_bad(text, P53_ESYNTAX, "t.yaml:30001:1: duplicate key 'k777' (first at line 29223:1)");
	free(text);
}

static void test_uint(void **state)
{
	struct yconf_doc *doc = load_ok("server:\n  udp_threads: many\n  a: 256\n  b: 257\n  c: 007\n"
					"  d: 99999999999999999999999\n  e: -1\n  f: [1]\n  g: \"12\"\n"
					"  h: 0\n  i: 18446744073709551615\n");
	const struct yconf_node *s = yconf_get(yconf_root(doc), "server");
	uint64_t v = 7;
	struct diag d;

	(void)state;
	diag_init(&d, NULL);
	assert_int_equal(yconf_uint(yconf_get(s, "udp_threads"), 1, 256, &d, &v), P53_ESYNTAX);
	assert_string_equal(d.first,
			    "t.yaml:2:16: 'udp_threads' must be an integer 1..256, got \"many\"");
	assert_int_equal(v, 7);
	assert_int_equal(yconf_uint(yconf_get(s, "a"), 1, 256, &d, &v), 0);
	assert_int_equal(v, 256);
	diag_init(&d, NULL);
	assert_int_equal(yconf_uint(yconf_get(s, "b"), 1, 256, &d, &v), P53_ERANGE);
	assert_string_equal(d.first, "t.yaml:4:6: 'b' must be an integer 1..256, got \"257\"");
	assert_int_equal(yconf_uint(yconf_get(s, "c"), 0, 256, &d, &v), P53_ESYNTAX);
	assert_int_equal(yconf_uint(yconf_get(s, "d"), 0, UINT64_MAX, &d, &v), P53_ERANGE);
	assert_int_equal(yconf_uint(yconf_get(s, "e"), 0, 256, &d, &v), P53_ESYNTAX);
	diag_init(&d, NULL);
	assert_int_equal(yconf_uint(yconf_get(s, "f"), 0, 256, &d, &v), P53_ESYNTAX);
	assert_string_equal(d.first, "t.yaml:8:6: 'f' must be an integer 0..256, got a list");
	assert_int_equal(yconf_uint(yconf_get(s, "g"), 0, 256, &d, &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(yconf_uint(yconf_get(s, "h"), 0, 256, &d, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(yconf_uint(yconf_get(s, "h"), 1, 256, &d, &v), P53_ERANGE);
	assert_int_equal(yconf_uint(yconf_get(s, "i"), 0, UINT64_MAX, &d, &v), 0);
	assert_true(v == UINT64_MAX);
	yconf_free(doc);
}

static void test_enum_bool_expect(void **state)
{
	static const char *const io[] = { "kernel", "dpdk", NULL };
	static const char *const three[] = { "none", "tap", "xdp", NULL };
	struct yconf_doc *doc = load_ok("io: dpdk\nbad: fast\nx: none\nb1: Yes\nb2: off\nb3: 2\n"
					"m: [a]\n");
	const struct yconf_node *r = yconf_root(doc);
	unsigned w = 9;
	bool b = false;
	struct diag d;

	(void)state;
	diag_init(&d, NULL);
	assert_int_equal(yconf_enum(yconf_get(r, "io"), io, &d, &w), 0);
	assert_int_equal(w, 1);
	assert_int_equal(yconf_enum(yconf_get(r, "bad"), io, &d, &w), P53_ESYNTAX);
	assert_string_equal(d.first, "t.yaml:2:6: 'bad' must be kernel or dpdk, got \"fast\"");
	diag_init(&d, NULL);
	assert_int_equal(yconf_enum(yconf_get(r, "bad"), three, &d, &w), P53_ESYNTAX);
	assert_string_equal(d.first, "t.yaml:2:6: 'bad' must be none, tap or xdp, got \"fast\"");
	assert_int_equal(yconf_enum(yconf_get(r, "x"), three, &d, &w), 0);
	assert_int_equal(w, 0);
	assert_int_equal(yconf_bool(yconf_get(r, "b1"), &d, &b), 0);
	assert_true(b);
	assert_int_equal(yconf_bool(yconf_get(r, "b2"), &d, &b), 0);
	assert_false(b);
	assert_int_equal(yconf_bool(yconf_get(r, "b3"), &d, &b), P53_ESYNTAX);
	diag_init(&d, NULL);
	assert_int_equal(yconf_expect(yconf_get(r, "m"), YCONF_MAP, &d), P53_ESYNTAX);
	assert_string_equal(d.first, "t.yaml:7:4: 'm' must be a mapping (key: value lines), got a list");
	assert_int_equal(yconf_expect(yconf_get(r, "m"), YCONF_SEQ, &d), 0);
	yconf_free(doc);
}

static void test_check_keys(void **state)
{
	static const char *const top[] = { "server", "zones", NULL };
	static const char *const srv[] = { "listen", "io", NULL };
	struct yconf_doc *doc = load_ok("server:\n  listen: []\n  lisen: x\n  io: kernel\n"
					"zones: []\nextra: 1\n");
	const struct yconf_node *r = yconf_root(doc);
	struct diag d;

	(void)state;
	diag_init(&d, NULL);
	assert_int_equal(yconf_check_keys(r, top, &d), P53_ESYNTAX);
	assert_int_equal(d.errors, 1);
	assert_string_equal(d.first, "t.yaml:6:1: unknown key 'extra' (known: server, zones)");
	diag_init(&d, NULL);
	assert_int_equal(yconf_check_keys(yconf_get(r, "server"), srv, &d), P53_ESYNTAX);
	assert_string_equal(d.first,
			    "t.yaml:3:3: unknown key 'lisen' in 'server' (known: listen, io)");
	diag_init(&d, NULL);
	static const char *const all[] = { "listen", "lisen", "io", NULL };
	assert_int_equal(yconf_check_keys(yconf_get(r, "server"), all, &d), 0);
	assert_int_equal(d.errors, 0);
	yconf_free(doc);
}

static void test_show_cut(void **state)
{
	struct yconf_doc *doc = load_ok("a: |\n  line one\n  line two\nb: "
					"0123456789012345678901234567890123456789xyz\n");
	const struct yconf_node *r = yconf_root(doc);
	char buf[64];

	(void)state;
	assert_string_equal(yconf_show(yconf_get(r, "a"), buf, sizeof(buf)), "\"line one?line two?\"");
	assert_string_equal(yconf_show(yconf_get(r, "b"), buf, sizeof(buf)),
			    "\"0123456789012345678901234567890123456789...\"");
	yconf_free(doc);
}

static void test_file(void **state)
{
	char dir[] = "/tmp/test_yconf.XXXXXX", path[64];
	struct yconf_doc *doc = NULL;
	struct diag d;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/c.yaml", dir);
	diag_init(&d, NULL);
	assert_int_equal(yconf_load_file(path, &d, &doc), P53_EIO);
	assert_non_null(strstr(d.first, "c.yaml: cannot read: No such file or directory"));
	diag_init(&d, NULL);
	assert_int_equal(yconf_load_file(dir, &d, &doc), P53_EIO);
	assert_non_null(strstr(d.first, "cannot read: Is a directory"));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("x:\n  - 1\n  - oops: [\n", f);
	fclose(f);
	diag_init(&d, NULL);
	assert_int_equal(yconf_load_file(path, &d, &doc), P53_ESYNTAX);
	assert_int_equal(strncmp(d.first, path, strlen(path)), 0);
	f = fopen(path, "w");
	fputs("x:\n  - 1\n  - 2\n", f);
	fclose(f);
	assert_int_equal(yconf_load_file(path, &d, &doc), 0);
	assert_string_equal(yconf_file(yconf_root(doc)), path);
	assert_int_equal(yconf_count(yconf_get(yconf_root(doc), "x")), 2);
	yconf_free(doc);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree),
		cmocka_unit_test(test_null_and_quoted),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_alias_alone),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_big_map),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_enum_bool_expect),
		cmocka_unit_test(test_check_keys),
		cmocka_unit_test(test_show_cut),
		cmocka_unit_test(test_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
