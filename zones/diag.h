/*
 * diag.h — compiler-style diagnostics ("file:line:col: error: ...").
 *
 * A struct diag collects errors and warnings from the zone parser, the
 * checker, the snapshot compiler and reader. It prints them to `out` (if
 * not NULL) and keeps the first error's text for API callers that do not
 * print (the control plane reports it in a push refusal).
 */
#ifndef POP53_DIAG_H
#define POP53_DIAG_H

#include <stdio.h>

struct diag {
	FILE *out;            /* where to print; NULL = keep quiet */
	unsigned errors;      /* errors reported so far */
	unsigned warnings;    /* warnings reported so far */
	int werror;           /* non-zero: warnings count as errors */
	int hide_warnings;    /* non-zero: count warnings, do not print */
	char first[512];      /* first error, formatted without a newline */
};

/* Initialise d to print to out (may be NULL). */
void diag_init(struct diag *d, FILE *out);

/* Report an error at file:line:col; line or col 0 leaves it out; file may
 * be NULL. d may be NULL (then nothing is recorded). */
void diag_error(struct diag *d, const char *file, unsigned line, unsigned col,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Report a warning (a lint finding); same conventions as diag_error. */
void diag_warn(struct diag *d, const char *file, unsigned line, unsigned col,
	       const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Report that a binary section (what: "policy blob", "geo table"...) is
 * damaged, as diag_error with file = what, and return P53_EFORMAT: the
 * one way the section validators refuse. d may be NULL. */
int diag_format_error(struct diag *d, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
