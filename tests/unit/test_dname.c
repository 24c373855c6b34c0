/*
 * test_dname.c — presentation parsing/printing, comparison and ordering
 * of wire-format domain names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dname.h"
#include "error.h"

/* Wire names as C string literals: the literal's NUL is the root label. */
#define W(lit) ((const uint8_t *)(lit))

static const uint8_t *origin = W("\007example");

static int parse(const char *s, const uint8_t *org, uint8_t *out)
{
	return dname_from_text(s, strlen(s), org, out);
}

static void test_absolute(void **state)
{
	uint8_t out[DNAME_MAXLEN];

	(void)state;
	assert_int_equal(parse("www.example.", NULL, out), 13);
	assert_memory_equal(out, "\003www\007example", 13);
	assert_int_equal(parse(".", NULL, out), 1);
	assert_int_equal(out[0], 0);
	/* Case is kept. */
	assert_int_equal(parse("WwW.Example.", NULL, out), 13);
	assert_memory_equal(out, "\003WwW\007Example", 13);
}

static void test_escapes(void **state)
{
	uint8_t out[DNAME_MAXLEN];

	(void)state;
	/* "\." is a literal dot: two labels, the first being "a.b". */
	assert_int_equal(parse("a\\.b.example.", NULL, out), 13);
	assert_memory_equal(out, "\003a.b\007example", 13);
	assert_int_equal(dname_labels(out), 2);
	assert_int_equal(out[0], 3);

	assert_int_equal(parse("\\065\\000\\255x.", NULL, out), 6);
	assert_memory_equal(out, "\004A\000\377x", 6);
	assert_int_equal(parse("a\\\\b\\ c.", NULL, out), 7);
	assert_memory_equal(out, "\005a\\b c", 7);

	assert_int_equal(parse("\\256.", NULL, out), P53_ESYNTAX);
	assert_int_equal(parse("\\06.", NULL, out), P53_ESYNTAX);
	assert_int_equal(parse("\\1a2.", NULL, out), P53_ESYNTAX);
	assert_int_equal(parse("abc\\", NULL, out), P53_ESYNTAX);
	assert_int_equal(parse("abc\\", origin, out), P53_ESYNTAX);
	/* An escaped final dot does not make the name absolute. */
	assert_int_equal(parse("a\\.", NULL, out), P53_ESYNTAX);
	assert_int_equal(parse("a\\.", origin, out), 12);
	assert_memory_equal(out, "\002a.\007example", 12);
}

static void test_origin(void **state)
{
	uint8_t out[DNAME_MAXLEN];

	(void)state;
	assert_int_equal(parse("@", origin, out), 9);
	assert_memory_equal(out, origin, 9);
	assert_int_equal(parse("@", NULL, out), P53_ESYNTAX);
	assert_int_equal(parse("www", origin, out), 13);
	assert_memory_equal(out, "\003www\007example", 13);
	assert_int_equal(parse("a.b", origin, out), 13);
	assert_memory_equal(out, "\001a\001b\007example", 13);
	assert_int_equal(parse("www", NULL, out), P53_ESYNTAX);
	/* "@" only means the origin on its own. */
	assert_int_equal(parse("@.", NULL, out), 3);
	assert_memory_equal(out, "\001@", 3);
	/* A broken origin is the caller's bug. */
	assert_true(parse("www", W("\100x"), out) < 0);
}

static void test_empty_labels(void **state)
{
	uint8_t out[DNAME_MAXLEN];

	(void)state;
	assert_int_equal(parse("a..b.", NULL, out), P53_ESYNTAX);
	assert_int_equal(parse(".a.", NULL, out), P53_ESYNTAX);
	assert_int_equal(parse("..", NULL, out), P53_ESYNTAX);
	assert_int_equal(parse("a..", origin, out), P53_ESYNTAX);
	assert_int_equal(parse("", origin, out), P53_ESYNTAX);
	assert_int_equal(dname_from_text(NULL, 0, origin, out), P53_ESYNTAX);
}

static void test_label_limits(void **state)
{
	char text[600];
	uint8_t out[DNAME_MAXLEN];

	(void)state;
	memset(text, 'a', 63);
	strcpy(text + 63, ".");
	assert_int_equal(parse(text, NULL, out), 65);
	assert_int_equal(out[0], 63);

	memset(text, 'a', 64);
	strcpy(text + 64, ".");
	assert_int_equal(parse(text, NULL, out), P53_ERANGE);
	/* 63 bytes written with escapes still count as 63. */
	strcpy(text, "");
	for (int i = 0; i < 63; i++)
		strcat(text, "\\255");
	strcat(text, ".");
	assert_int_equal(parse(text, NULL, out), 65);
	assert_int_equal(out[1], 255);
}

/* 3 labels of 63 plus one of `last` bytes: wire length 193 + last + 2. */
static void long_name(char *text, int last)
{
	char *p = text;

	for (int i = 0; i < 3; i++) {
		memset(p, 'x', 63);
		p[63] = '.';
		p += 64;
	}
	memset(p, 'y', (size_t)last);
	strcpy(p + last, ".");
}

static void test_name_limits(void **state)
{
	char text[600];
	uint8_t out[DNAME_MAXLEN];
	char back[DNAME_TEXT_MAX + 1];

	(void)state;
	long_name(text, 61);
	assert_int_equal(parse(text, NULL, out), 255);
	assert_int_equal(dname_wire_len(out, 255), 255);
	assert_int_equal(dname_to_text(out, back, sizeof(back)), (int)strlen(text));
	assert_string_equal(back, text);

	long_name(text, 62);
	assert_int_equal(parse(text, NULL, out), P53_ERANGE);

	/* Relative: the origin's 9 bytes count too. 54 bytes in the last
	 * label make 247 + 9 = 256, 53 make exactly 255. */
	long_name(text, 54);
	text[strlen(text) - 1] = '\0';
	assert_int_equal(parse(text, origin, out), P53_ERANGE);
	long_name(text, 53);
	text[strlen(text) - 1] = '\0';
	assert_int_equal(parse(text, origin, out), 255);
	assert_memory_equal(out + 246, origin, 9);
}

static void test_wire_len(void **state)
{
	(void)state;
	assert_int_equal(dname_wire_len(W(""), 1), 1);
	assert_int_equal(dname_wire_len(W("\003www\007example"), 255), 13);
	assert_int_equal(dname_wire_len(W("\003www\007example"), 12), P53_EFORMAT);
	assert_int_equal(dname_wire_len(W("\300\014"), 255), P53_EFORMAT);
	assert_int_equal(dname_wire_len(W("\100xx"), 255), P53_EFORMAT);
	assert_int_equal(dname_wire_len(NULL, 255), P53_EFORMAT);
	assert_int_equal(dname_wire_len(W("\003www"), 0), P53_EFORMAT);
}

static void test_to_text(void **state)
{
	/* Every escape class, in one label. */
	static const uint8_t weird[] = {
		14, 0x00, ' ', '.', '\\', '"', '(', ')', ';', '@', '$', 0x7f,
		0xff, 'A', '-', 0 };
	const char *want = "\\000\\ \\.\\\\\\\"\\(\\)\\;\\@\\$\\127\\255A-.";
	char text[DNAME_TEXT_MAX + 1];
	uint8_t back[DNAME_MAXLEN];

	(void)state;
	assert_int_equal(dname_to_text(weird, text, sizeof(text)), (int)strlen(want));
	assert_string_equal(text, want);
	assert_int_equal(parse(text, NULL, back), (int)sizeof(weird));
	assert_memory_equal(back, weird, sizeof(weird));

	assert_int_equal(dname_to_text(W(""), text, sizeof(text)), 1);
	assert_string_equal(text, ".");
	assert_int_equal(dname_to_text(W("\003www\007example"), text, sizeof(text)), 12);
	assert_string_equal(text, "www.example.");

	/* Exactly enough room, then one byte short. */
	assert_int_equal(dname_to_text(W("\003www\007example"), text, 13), 12);
	assert_int_equal(dname_to_text(W("\003www\007example"), text, 12), P53_ESPACE);
	assert_int_equal(text[11], '\0');
	assert_int_equal(dname_to_text(W(""), text, 1), P53_ESPACE);
	assert_int_equal(dname_to_text(W("\100x"), text, sizeof(text)), P53_EFORMAT);
}

/* Every byte value in every position survives text and back. */
static void test_roundtrip_all_bytes(void **state)
{
	uint8_t name[DNAME_MAXLEN], back[DNAME_MAXLEN];
	char text[DNAME_TEXT_MAX + 1];

	(void)state;
	for (int b = 0; b < 256; b++) {
		name[0] = 3;
		name[1] = (uint8_t)b;
		name[2] = 'x';
		name[3] = (uint8_t)b;
		name[4] = 1;
		name[5] = (uint8_t)(255 - b);
		name[6] = 0;
		assert_true(dname_to_text(name, text, sizeof(text)) > 0);
		assert_int_equal(parse(text, NULL, back), 7);
		assert_memory_equal(back, name, 7);
	}
}

static void test_canonical_order(void **state)
{
	/* RFC 4034 6.1, in order. */
	static const char *const list[] = {
		"example.", "a.example.", "yljkjljk.a.example.", "Z.a.example.",
		"zABC.a.EXAMPLE.", "z.example.", "\\001.z.example.",
		"*.z.example.", "\\200.z.example.",
	};
	enum { N = sizeof(list) / sizeof(list[0]) };
	uint8_t names[N][DNAME_MAXLEN];

	(void)state;
	for (int i = 0; i < N; i++)
		assert_true(parse(list[i], NULL, names[i]) > 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(dname_canonical_cmp(names[i], names[i]), 0);
		for (int j = i + 1; j < N; j++) {
			assert_true(dname_canonical_cmp(names[i], names[j]) < 0);
			assert_true(dname_canonical_cmp(names[j], names[i]) > 0);
		}
	}
	/* Case does not matter; the root sorts first; a label that is a
	 * prefix of another sorts first. */
	assert_int_equal(dname_canonical_cmp(W("\001Z\007EXAMPLE"),
					     W("\001z\007example")), 0);
	assert_true(dname_canonical_cmp(W(""), W("\001a")) < 0);
	assert_true(dname_canonical_cmp(W("\002ab"), W("\003abc")) < 0);
	assert_true(dname_canonical_cmp(W("\001b\001a"), W("\001a\001b")) < 0);
}

static void test_subdomain_equal(void **state)
{
	(void)state;
	assert_true(dname_is_subdomain(W("\003www\007example"), W("\007example")));
	assert_true(dname_is_subdomain(W("\003WWW\007ExAmPlE"), W("\007example")));
	assert_true(dname_is_subdomain(W("\007example"), W("\007example")));
	assert_true(dname_is_subdomain(W("\007example"), W("")));
	assert_false(dname_is_subdomain(W("\007example"), W("\003www\007example")));
	assert_false(dname_is_subdomain(W("\010xexample"), W("\007example")));
	assert_false(dname_is_subdomain(W("\003www\007example\003com"),
					W("\007example")));

	assert_true(dname_equal(W("\003WWW\007Example"), W("\003www\007eXample")));
	assert_true(dname_equal(W(""), W("")));
	assert_false(dname_equal(W("\003www\007example"), W("\003www\006exampl")));
	assert_false(dname_equal(W("\003www"), W("\003wwx")));
	assert_false(dname_equal(W("\001a\001b"), W("\003a\001b")));
	/* 0x41 vs 0x61 fold, 0xc1 vs 0xe1 do not. */
	assert_false(dname_equal(W("\001\301"), W("\001\341")));
}

static void test_labels_suffix(void **state)
{
	const uint8_t *n = W("\001a\001b\001c");

	(void)state;
	assert_int_equal(dname_labels(W("")), 0);
	assert_int_equal(dname_labels(n), 3);
	assert_int_equal(dname_labels(W("\100")), P53_EFORMAT);
	assert_ptr_equal(dname_suffix(n, 3), n);
	assert_ptr_equal(dname_suffix(n, 2), n + 2);
	assert_ptr_equal(dname_suffix(n, 1), n + 4);
	assert_ptr_equal(dname_suffix(n, 0), n + 6);
	assert_int_equal(*dname_suffix(n, 0), 0);
	/* Out-of-contract counts clamp instead of walking off. */
	assert_ptr_equal(dname_suffix(n, 9), n);
	assert_ptr_equal(dname_suffix(n, -1), n + 6);
}

static void test_lower_wildcard(void **state)
{
	uint8_t buf[DNAME_MAXLEN], dst[DNAME_MAXLEN];

	(void)state;
	memcpy(buf, "\003WwW\007EXAMPLE\001\301", 15);
	dname_lower(buf);
	assert_memory_equal(buf, "\003www\007example\001\301", 15);
	assert_int_equal(dname_copy_lower(dst, W("\001A\001B")), 5);
	assert_memory_equal(dst, "\001a\001b", 5);

	assert_true(dname_is_wildcard(W("\001*\007example")));
	assert_false(dname_is_wildcard(W("\002**\007example")));
	assert_false(dname_is_wildcard(W("\001a\001*")));
	assert_false(dname_is_wildcard(W("")));
}

/* Names in messages: pointers followed (only backwards), *pos past the
 * name as it sits in the message, every malformation refused. */
static void test_unpack(void **state)
{
	/* 12 bytes of header, "www.example.com." at 12, "mail" + ptr to
	 * "example.com." at 29, a bare pointer to 29 at 36 */
	static const uint8_t m[] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		4, 'm', 'a', 'i', 'l', 0xc0, 16,
		0xc0, 29,
		0xc0, 38,           /* points at itself */
		0xc0, 50,           /* forward */
		5, 'a', 'b',        /* runs off the end */
	};
	uint8_t out[DNAME_MAXLEN];
	char text[DNAME_TEXT_MAX];
	size_t pos = 12;

	(void)state;
	assert_int_equal(dname_unpack(m, sizeof(m), &pos, out), 17);
	assert_int_equal(pos, 29);
	pos = 29;
	assert_int_equal(dname_unpack(m, sizeof(m), &pos, out), 18);
	assert_int_equal(pos, 36);
	dname_to_text(out, text, sizeof(text));
	assert_string_equal(text, "mail.example.com.");
	pos = 36;
	assert_int_equal(dname_unpack(m, sizeof(m), &pos, out), 18);
	assert_int_equal(pos, 38);
	pos = 38;
	assert_int_equal(dname_unpack(m, sizeof(m), &pos, out), P53_EFORMAT);
	pos = 40;
	assert_int_equal(dname_unpack(m, sizeof(m), &pos, out), P53_EFORMAT);
	pos = 42;
	assert_int_equal(dname_unpack(m, sizeof(m), &pos, out), P53_EFORMAT);
	pos = sizeof(m);
	assert_int_equal(dname_unpack(m, sizeof(m), &pos, out), P53_EFORMAT);
}

/* A chain of pointers each one back, 128 labels of "a": more than 255
 * bytes expanded is refused. */
static void test_unpack_long(void **state)
{
	uint8_t m[12 + 2 + 4 * 130], out[DNAME_MAXLEN];
	size_t n = 12, pos;

	(void)state;
	memset(m, 0, sizeof(m));
	m[n++] = 0;                           /* the root at 12 */
	for (int i = 0; i < 130; i++) {
		size_t prev = n == 13 ? 12 : n - 4;

		m[n++] = 1;
		m[n++] = 'a';
		m[n++] = (uint8_t)(0xc0 | prev >> 8);
		m[n++] = (uint8_t)prev;
	}
	pos = n - 4;
	assert_int_equal(dname_unpack(m, n, &pos, out), P53_EFORMAT);
	pos = 13 + 4 * 10;                    /* 11 labels: fine */
	assert_int_equal(dname_unpack(m, n, &pos, out), 23);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unpack),
		cmocka_unit_test(test_unpack_long),
		cmocka_unit_test(test_absolute),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_empty_labels),
		cmocka_unit_test(test_label_limits),
		cmocka_unit_test(test_name_limits),
		cmocka_unit_test(test_wire_len),
		cmocka_unit_test(test_to_text),
		cmocka_unit_test(test_roundtrip_all_bytes),
		cmocka_unit_test(test_canonical_order),
		cmocka_unit_test(test_subdomain_equal),
		cmocka_unit_test(test_labels_suffix),
		cmocka_unit_test(test_lower_wildcard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
