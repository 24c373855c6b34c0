/*
 * error.h — the one project-wide error enum.
 *
 * Every pop53 function that can fail returns 0 (or a non-negative count)
 * on success and one of these negative codes on failure.
 */
#ifndef POP53_ERROR_H
#define POP53_ERROR_H

enum p53_err {
	P53_OK        =   0,
	P53_ENOMEM    =  -1,  /* allocation failed */
	P53_EINVAL    =  -2,  /* bad argument from the caller */
	P53_EIO       =  -3,  /* read/write/open failed; errno has more */
	P53_ESYNTAX   =  -4,  /* text input does not follow its grammar */
	P53_ERANGE    =  -5,  /* a number or length out of its range */
	P53_ENOTFOUND =  -6,  /* no such name, zone, type or key */
	P53_EFORMAT   =  -7,  /* binary input (snapshot, packet) malformed */
	P53_EVERSION  =  -8,  /* unsupported format version */
	P53_EHASH     =  -9,  /* content hash mismatch */
	P53_ETRUNC    = -10,  /* input shorter than it claims */
	P53_ESPACE    = -11,  /* output buffer too small */
	P53_EZONE     = -12,  /* zone content violates the DNS rules */
	P53_EEXIST    = -13,  /* already present */
	P53_ESIG      = -14,  /* signature missing or does not verify */
	P53_ESTALE    = -15,  /* serial not newer than the one served */
	P53_ELIMIT    = -16,  /* a configured limit was reached */
	P53_ETIMEOUT  = -17,  /* an operation did not finish in time */
	P53_ESTATE    = -18,  /* call not valid in the current state */
	P53_EPROTO    = -19,  /* peer spoke the protocol wrongly */
	P53_ENOTSUP   = -20,  /* feature not supported */
};

/* Human-readable text for a p53_err code; never NULL, static storage. */
const char *p53_strerror(int err);

#endif
