#include "error.h"

const char *p53_strerror(int err)
{
	switch (err) {
	case P53_OK:        return "success";
	case P53_ENOMEM:    return "out of memory";
	case P53_EINVAL:    return "invalid argument";
	case P53_EIO:       return "input/output error";
	case P53_ESYNTAX:   return "syntax error";
	case P53_ERANGE:    return "value out of range";
	case P53_ENOTFOUND: return "not found";
	case P53_EFORMAT:   return "malformed data";
	case P53_EVERSION:  return "unsupported format version";
	case P53_EHASH:     return "content hash mismatch";
	case P53_ETRUNC:    return "truncated input";
	case P53_ESPACE:    return "buffer too small";
	case P53_EZONE:     return "zone validation failed";
	case P53_EEXIST:    return "already exists";
	case P53_ESIG:      return "bad or missing signature";
	case P53_ESTALE:    return "serial not newer than the one served";
	case P53_ELIMIT:    return "limit reached";
	case P53_ETIMEOUT:  return "timed out";
	case P53_ESTATE:    return "invalid in current state";
	case P53_EPROTO:    return "protocol error";
	case P53_ENOTSUP:   return "not supported";
	}
	return "unknown error";
}
