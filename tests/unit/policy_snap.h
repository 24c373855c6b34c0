/*
 * policy_snap.h — test helper: a snapshot compiled in process from one
 * zone's text and an optional policy file's text, opened in memory (for
 * the control-plane tests that attach policy state to snapshots).
 */
#ifndef POP53_TEST_POLICY_SNAP_H
#define POP53_TEST_POLICY_SNAP_H

#include <stdint.h>

#include "snap.h"

struct tsnap {
	uint8_t *blob;
	struct snap *s;
};

/* Compile zone_text (+ policy_text, NULL: none) and open it into *out;
 * any failure fails the running cmocka test. */
void tsnap_build(struct tsnap *out, const char *zone_text, const char *policy_text);

/* Close and free what tsnap_build made. */
void tsnap_free(struct tsnap *b);

#endif
