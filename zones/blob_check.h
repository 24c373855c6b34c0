/*
 * blob_check.h — bounds checks shared by the validators of the snapshot's
 * position-independent sections (policy.c, policy_sig_read.c): offsets
 * and counts come from the file and are trusted only after these.
 */
#ifndef POP53_BLOB_CHECK_H
#define POP53_BLOB_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* n items of size bytes at off lie inside a blob of blob_size bytes,
 * 8-byte aligned and after its header (header bytes). */
static inline bool blob_table_ok(uint64_t blob_size, size_t header, uint32_t off, uint32_t n,
				 size_t size)
{
	return n == 0 || (off % 8 == 0 && off >= header &&
			  (uint64_t)off + (uint64_t)n * size <= blob_size);
}

/* len bytes at off lie inside the area of area_len bytes at area. */
static inline bool blob_in(uint32_t area, uint32_t area_len, uint32_t off, uint64_t len)
{
	return off >= area && (uint64_t)off + len <= (uint64_t)area + area_len;
}

#endif
