/*
 * policy_snap.c — see policy_snap.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"
#include "policy.h"
#include "policy_snap.h"
#include "snap_format.h"
#include "zone.h"

void tsnap_build(struct tsnap *out, const char *zone_text, const char *policy_text)
{
	struct snap_section_in sec;
	struct snap_compile_opts co = { .serial = 1 };
	struct zone *z = NULL;
	uint8_t *pblob = NULL;
	size_t plen, len;
	struct diag d;

	diag_init(&d, stderr);
	d.hide_warnings = 1;
	assert_int_equal(zone_parse_string(zone_text, strlen(zone_text), "test", NULL, &d, &z), 0);
	if (policy_text) {
		assert_int_equal(policy_compile_text("p.yaml", policy_text, strlen(policy_text), &d,
						     &pblob, &plen), 0);
		assert_int_equal(snap_policy_prepare(&z, 1, pblob, plen, &d), 0);
		sec = (struct snap_section_in){ SNAP_SECT_POLICY, pblob, plen };
		co.sections = &sec;
		co.nsections = 1;
	}
	assert_int_equal(zone_check(z, NULL, &d), 0);
	assert_int_equal(snap_compile(&z, 1, &co, &d, &out->blob, &len), 0);
	assert_int_equal(snap_open_mem(out->blob, len, &d, &out->s), 0);
	free(pblob);
	zone_free(z);
}

void tsnap_free(struct tsnap *b)
{
	snap_close(b->s);
	free(b->blob);
}
