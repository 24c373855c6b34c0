#include <stdarg.h>
#include <string.h>

#include "diag.h"
#include "error.h"

void diag_init(struct diag *d, FILE *out)
{
	memset(d, 0, sizeof(*d));
	d->out = out;
}

static void diag_vemit(struct diag *d, int is_error, const char *file,
		       unsigned line, unsigned col, const char *fmt, va_list ap)
{
	char msg[448], where[64 + 256] = "";
	size_t n = 0;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (file)
		n = (size_t)snprintf(where, sizeof(where), "%s:", file);
	if (line && n < sizeof(where))
		n += (size_t)snprintf(where + n, sizeof(where) - n, "%u:", line);
	if (line && col && n < sizeof(where))
		snprintf(where + n, sizeof(where) - n, "%u:", col);

	if (is_error && d->errors == 0)
		snprintf(d->first, sizeof(d->first), "%s%s%s", where,
			 where[0] ? " " : "", msg);
	if (is_error)
		d->errors++;
	else
		d->warnings++;
	if (d->out && (is_error || !d->hide_warnings))
		fprintf(d->out, "%s%s%s: %s\n", where, where[0] ? " " : "",
			is_error ? "error" : "warning", msg);
}

void diag_error(struct diag *d, const char *file, unsigned line, unsigned col,
		const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return;
	va_start(ap, fmt);
	diag_vemit(d, 1, file, line, col, fmt, ap);
	va_end(ap);
}

void diag_warn(struct diag *d, const char *file, unsigned line, unsigned col,
	       const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return;
	va_start(ap, fmt);
	diag_vemit(d, d->werror, file, line, col, fmt, ap);
	va_end(ap);
}

int diag_format_error(struct diag *d, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (d) {
		va_start(ap, fmt);
		diag_vemit(d, 1, what, 0, 0, fmt, ap);
		va_end(ap);
	}
	return P53_EFORMAT;
}
