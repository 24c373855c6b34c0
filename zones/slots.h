/*
 * slots.h — the open-addressing index the compiler's build-time tables
 * use: a power-of-two array of slots, each holding an item's number + 1
 * (0 = empty), probed linearly from the item's hash. The items, their
 * hashes and their equality stay with the caller; this only places and
 * rebuilds. Not for the query path (the snapshot has its own tables).
 */
#ifndef POP53_SLOTS_H
#define POP53_SLOTS_H

#include <stdint.h>

struct slots {
	uint32_t *slot;   /* item + 1, 0 = empty; mask + 1 of them */
	uint32_t mask;
};

/* The slot a probe for hash h starts at, and the one after pos. */
static inline uint32_t slots_first(const struct slots *s, uint32_t h)
{
	return h & s->mask;
}

static inline uint32_t slots_next(const struct slots *s, uint32_t pos)
{
	return (pos + 1) & s->mask;
}

/* Item i (0-based) of hash h into the first empty slot from h's. The
 * caller keeps the load under one (slots_rebuild before it fills). */
static inline void slots_put(struct slots *s, uint32_t h, uint32_t i)
{
	uint32_t pos = slots_first(s, h);

	while (s->slot[pos])
		pos = slots_next(s, pos);
	s->slot[pos] = i + 1;
}

/* Replace s's array by one of nslots (a power of two above n) holding
 * items 0..n-1, item i at hash(arg, i); the old array is freed. Returns
 * 0 or P53_ENOMEM (s unchanged). */
int slots_rebuild(struct slots *s, uint32_t nslots, uint32_t n,
		  uint32_t (*hash)(const void *arg, uint32_t i), const void *arg);

/* Free the array; s is empty afterwards. */
void slots_free(struct slots *s);

#endif
