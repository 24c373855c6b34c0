/*
 * policy_eval_ref.h — the reference evaluation for tests (policy_eval_ref.c).
 */
#ifndef POP53_POLICY_EVAL_REF_H
#define POP53_POLICY_EVAL_REF_H

#include "policy.h"

/* What policy_eval answered before the compact form, over the blob's own
 * tables: same contract as policy_eval. */
void policy_eval_reference(const struct policy *p, uint32_t ri, const struct policy_input *in,
			   struct policy_output *out);

#endif
