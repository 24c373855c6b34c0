#include <stdlib.h>

#include "error.h"
#include "slots.h"

int slots_rebuild(struct slots *s, uint32_t nslots, uint32_t n,
		  uint32_t (*hash)(const void *arg, uint32_t i), const void *arg)
{
	struct slots t = { calloc(nslots, sizeof(*t.slot)), nslots - 1 };

	if (!t.slot)
		return P53_ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		slots_put(&t, hash(arg, i), i);
	free(s->slot);
	*s = t;
	return 0;
}

void slots_free(struct slots *s)
{
	free(s->slot);
	s->slot = NULL;
	s->mask = 0;
}
