/*
 * bird.c — BIRD control socket client (see bird.h).
 */
#include "bird.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

/* The longest single line accepted; BIRD's own lines are far shorter. */
#define LINE_MAX_LEN 65536

struct bgp_bird {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	unsigned timeout_ms;
	unsigned retry_ms;
	int fd;
	bool in_hook;
	uint64_t next_try_ms;       /* no connect attempt before this */
	uint64_t connects;
	bgp_bird_hook hook;
	void *hook_arg;
	char version[32];
	char err[256];
	char *in;                   /* received, not yet consumed: in[pos..len) */
	size_t pos, len, cap;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int left_ms(uint64_t deadline)
{
	uint64_t now = mono_ms();

	return now >= deadline ? 0 : (int)(deadline - now);
}

static void drop_conn(struct bgp_bird *b)
{
	if (b->fd >= 0)
		close(b->fd);
	b->fd = -1;
	b->pos = b->len = 0;
}

int bgp_bird_open(struct bgp_bird **out, const char *path,
		  unsigned timeout_ms, unsigned retry_ms)
{
	struct bgp_bird *b;

	*out = NULL;
	if (!path || !*path || strlen(path) >= sizeof(b->path))
		return P53_EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return P53_ENOMEM;
	strcpy(b->path, path);
	b->timeout_ms = timeout_ms ? timeout_ms : 200;
	b->retry_ms = retry_ms;
	b->fd = -1;
	*out = b;
	return 0;
}

void bgp_bird_free(struct bgp_bird *b)
{
	if (!b)
		return;
	drop_conn(b);
	free(b->in);
	free(b);
}

void bgp_bird_set_hook(struct bgp_bird *b, bgp_bird_hook fn, void *arg)
{
	b->hook = fn;
	b->hook_arg = arg;
}

/* Wait until fd is ready for events or the deadline passes. */
static int wait_fd(struct bgp_bird *b, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = b->fd, .events = events };
	int n;

	do
		n = poll(&p, 1, left_ms(deadline));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		snprintf(b->err, sizeof(b->err), "poll: %s", strerror(errno));
		return P53_EIO;
	}
	if (n == 0) {
		snprintf(b->err, sizeof(b->err), "BIRD at %s did not answer within %u ms",
			 b->path, b->timeout_ms);
		return P53_ETIMEOUT;
	}
	return 0;
}

/* Read what is there into the input buffer (one read). */
static int read_some(struct bgp_bird *b)
{
	ssize_t n;

	if (b->pos > 0 && b->pos == b->len)
		b->pos = b->len = 0;
	if (b->cap - b->len < 4096) {
		if (b->pos > 0) {
			memmove(b->in, b->in + b->pos, b->len - b->pos);
			b->len -= b->pos;
			b->pos = 0;
		}
		if (b->cap - b->len < 4096) {
			size_t cap = b->cap ? b->cap * 2 : 8192;
			char *in = realloc(b->in, cap);

			if (!in)
				return P53_ENOMEM;
			b->in = in;
			b->cap = cap;
		}
	}
	do
		n = read(b->fd, b->in + b->len, b->cap - b->len);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		b->len += (size_t)n;
		return 0;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	snprintf(b->err, sizeof(b->err), "BIRD at %s closed the connection%s%s",
		 b->path, n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
	return P53_EIO;
}

/* Make in[pos..pos+*n) one complete line (the '\n' replaced by NUL). */
static int get_line(struct bgp_bird *b, uint64_t deadline, size_t *n)
{
	for (;;) {
		char *s = b->in ? b->in + b->pos : NULL;
		char *nl = s ? memchr(s, '\n', b->len - b->pos) : NULL;
		int rc;

		if (nl) {
			*nl = '\0';
			*n = (size_t)(nl - s);
			return 0;
		}
		if (b->len - b->pos > LINE_MAX_LEN) {
			snprintf(b->err, sizeof(b->err), "BIRD sent a line over %d bytes",
				 LINE_MAX_LEN);
			return P53_EPROTO;
		}
		rc = wait_fd(b, POLLIN, deadline);
		if (rc == 0)
			rc = read_some(b);
		if (rc < 0)
			return rc;
	}
}

/* Append one line to r; texts are kept as offsets until the reply ends
 * because buf moves when it grows. */
struct acc {
	size_t used, cap;       /* bytes of r->buf */
	size_t lcap;            /* slots of r->lines */
};

static int reply_add(struct bgp_reply *r, struct acc *a, int code,
		     const char *text)
{
	size_t tl = strlen(text) + 1;

	if (a->used + tl > BGP_BIRD_REPLY_MAX)
		return P53_ELIMIT;
	if (a->used + tl > a->cap) {
		size_t cap = a->cap ? a->cap : 1024;
		char *buf;

		while (cap < a->used + tl)
			cap *= 2;
		buf = realloc(r->buf, cap);
		if (!buf)
			return P53_ENOMEM;
		r->buf = buf;
		a->cap = cap;
	}
	if (r->nlines == a->lcap) {
		size_t lcap = a->lcap ? a->lcap * 2 : 16;
		struct bgp_line *l = realloc(r->lines, lcap * sizeof(*l));

		if (!l)
			return P53_ENOMEM;
		r->lines = l;
		a->lcap = lcap;
	}
	memcpy(r->buf + a->used, text, tl);
	r->lines[r->nlines].code = code;
	r->lines[r->nlines].text = (const char *)(uintptr_t)a->used;
	r->nlines++;
	a->used += tl;
	return 0;
}

static void reply_fix(struct bgp_reply *r)
{
	for (size_t i = 0; i < r->nlines; i++)
		r->lines[i].text = r->buf + (uintptr_t)r->lines[i].text;
}

/* Split one reply line. Returns 1 final, 0 more follow, 2 spontaneous
 * ("+"), P53_EPROTO otherwise. */
static int classify(const char *s, size_t n, int prev, int *code,
		    const char **text)
{
	if (n > 0 && s[0] == '+')
		return 2;
	if (n > 0 && s[0] == ' ') {
		if (prev < 0)
			return P53_EPROTO;
		*code = prev;
		*text = s + 1;
		return 0;
	}
	if (n < 4 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    !isdigit((unsigned char)s[2]) || !isdigit((unsigned char)s[3]))
		return P53_EPROTO;
	*code = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	if (n == 4) {
		*text = s + 4;
		return 1;
	}
	if (s[4] != '-' && s[4] != ' ')
		return P53_EPROTO;
	*text = s + 5;
	return s[4] == ' ';
}

/* Read one whole reply. Returns its final code or a negative error. */
static int read_reply(struct bgp_bird *b, uint64_t deadline, struct bgp_reply *r)
{
	struct acc a = { 0 };
	int prev = -1;

	for (;;) {
		const char *line, *text = "";
		size_t n;
		int code = 0, kind, rc;

		rc = get_line(b, deadline, &n);
		if (rc < 0)
			return rc;
		line = b->in + b->pos;
		kind = classify(line, n, prev, &code, &text);
		if (kind < 0) {
			snprintf(b->err, sizeof(b->err), "BIRD sent an unexpected line: \"%.60s\"",
				 line);
			return P53_EPROTO;
		}
		if (kind != 2 && r) {
			rc = reply_add(r, &a, code, text);
			if (rc < 0) {
				snprintf(b->err, sizeof(b->err), "BIRD reply too long or no memory");
				return rc;
			}
		}
		b->pos += n + 1;
		if (kind == 2)
			continue;
		prev = code;
		if (kind == 1) {
			if (r) {
				reply_fix(r);
				r->code = code;
			}
			return code;
		}
	}
}

static int open_socket(struct bgp_bird *b, uint64_t deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc, soerr = 0;
	socklen_t sl = sizeof(soerr);

	strcpy(sa.sun_path, b->path);
	b->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (b->fd < 0) {
		snprintf(b->err, sizeof(b->err), "socket: %s", strerror(errno));
		return P53_EIO;
	}
	if (connect(b->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 0;
	if (errno != EINPROGRESS) {
		snprintf(b->err, sizeof(b->err), "cannot connect to BIRD at %s: %s",
			 b->path, strerror(errno));
		return P53_EIO;
	}
	rc = wait_fd(b, POLLOUT, deadline);
	if (rc < 0)
		return rc;
	if (getsockopt(b->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
		snprintf(b->err, sizeof(b->err), "cannot connect to BIRD at %s: %s",
			 b->path, strerror(soerr ? soerr : errno));
		return P53_EIO;
	}
	return 0;
}

/* "BIRD 2.0.12 ready." -> "2.0.12" */
static int parse_greeting(struct bgp_bird *b, const struct bgp_reply *g)
{
	const char *t = g->nlines ? g->lines[g->nlines - 1].text : "";
	size_t n;

	if (g->code != 1 || strncmp(t, "BIRD ", 5) != 0) {
		snprintf(b->err, sizeof(b->err), "%s does not greet as BIRD: %04d %.60s",
			 b->path, g->code, t);
		return P53_EPROTO;
	}
	t += 5;
	n = strcspn(t, " ");
	snprintf(b->version, sizeof(b->version), "%.*s", (int)n, t);
	return 0;
}

static int greet(struct bgp_bird *b)
{
	uint64_t deadline = mono_ms() + b->timeout_ms;
	struct bgp_reply g = { 0 };
	int rc;

	rc = open_socket(b, deadline);
	if (rc == 0)
		rc = read_reply(b, deadline, &g);
	if (rc >= 0)
		rc = parse_greeting(b, &g);
	bgp_reply_free(&g);
	return rc;
}

int bgp_bird_connect(struct bgp_bird *b)
{
	uint64_t now = mono_ms();
	bool again = b->connects > 0;
	int rc;

	if (b->fd >= 0)
		return 0;
	if (now < b->next_try_ms) {
		/* b->err keeps the reason of the failed attempt. */
		return P53_ESTATE;
	}
	rc = greet(b);
	if (rc < 0) {
		drop_conn(b);
		b->next_try_ms = mono_ms() + b->retry_ms;
		return rc;
	}
	b->connects++;
	b->err[0] = '\0';
	if (!again || !b->hook || b->in_hook)
		return 0;
	b->in_hook = true;
	rc = b->hook(b, b->hook_arg);
	b->in_hook = false;
	return rc < 0 ? rc : 0;
}

static int send_all(struct bgp_bird *b, const char *s, size_t n, uint64_t deadline)
{
	while (n > 0) {
		ssize_t w = send(b->fd, s, n, MSG_NOSIGNAL);
		int rc;

		if (w > 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			rc = wait_fd(b, POLLOUT, deadline);
			if (rc < 0)
				return rc;
			continue;
		}
		snprintf(b->err, sizeof(b->err), "BIRD at %s: send: %s", b->path,
			 strerror(errno));
		return P53_EIO;
	}
	return 0;
}

static int exchange(struct bgp_bird *b, const char *cmd, struct bgp_reply *r)
{
	uint64_t deadline = mono_ms() + b->timeout_ms;
	char line[BGP_BIRD_CMD_MAX + 2];
	size_t n = strlen(cmd);
	int rc;

	memcpy(line, cmd, n);
	line[n++] = '\n';
	rc = send_all(b, line, n, deadline);
	if (rc < 0)
		return rc;
	return read_reply(b, deadline, r);
}

int bgp_bird_cmd(struct bgp_bird *b, const char *cmd, struct bgp_reply *r)
{
	size_t n = cmd ? strlen(cmd) : 0;

	if (r)
		memset(r, 0, sizeof(*r));
	if (n == 0 || n > BGP_BIRD_CMD_MAX || strpbrk(cmd, "\r\n"))
		return P53_EINVAL;
	bgp_bird_poll(b);
	for (int attempt = 0; attempt < 2; attempt++) {
		bool fresh = b->fd < 0;
		int rc = bgp_bird_connect(b);

		if (rc < 0)
			return rc;
		rc = exchange(b, cmd, r);
		if (rc >= 0)
			return rc;
		drop_conn(b);
		/* A connection that died while idle shows up only now (a BIRD
		 * restart between two commands): one retry on a new one. */
		if (rc != P53_EIO || fresh)
			return rc;
		bgp_reply_free(r);
	}
	return P53_EIO;
}

void bgp_reply_free(struct bgp_reply *r)
{
	if (!r)
		return;
	free(r->lines);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

/* Drop complete spontaneous lines at the front of the input. */
static void skip_spontaneous(struct bgp_bird *b)
{
	while (b->pos < b->len && b->in[b->pos] == '+') {
		char *nl = memchr(b->in + b->pos, '\n', b->len - b->pos);

		if (!nl)
			break;
		b->pos = (size_t)(nl - b->in) + 1;
	}
}

int bgp_bird_poll(struct bgp_bird *b)
{
	while (b->fd >= 0) {
		struct pollfd p = { .fd = b->fd, .events = POLLIN };
		size_t before = b->len;

		if (poll(&p, 1, 0) <= 0)
			return 1;
		if (read_some(b) < 0) {
			drop_conn(b);
			return 0;
		}
		skip_spontaneous(b);
		if (b->len == before && !(p.revents & (POLLHUP | POLLERR)))
			return 1;
	}
	return 0;
}

int bgp_bird_fd(const struct bgp_bird *b)
{
	return b->fd;
}

bool bgp_bird_connected(const struct bgp_bird *b)
{
	return b->fd >= 0;
}

const char *bgp_bird_version(const struct bgp_bird *b)
{
	return b->version;
}

const char *bgp_bird_error(const struct bgp_bird *b)
{
	return b->err;
}

uint64_t bgp_bird_connects(const struct bgp_bird *b)
{
	return b->connects;
}

/* Copy the next whitespace-delimited field of *s into dst. */
static bool field(const char **s, char *dst, size_t cap)
{
	const char *p = *s;
	size_t n;

	while (*p == ' ' || *p == '\t')
		p++;
	n = strcspn(p, " \t");
	if (n == 0)
		return false;
	snprintf(dst, cap, "%.*s", (int)n, p);
	*s = p + n;
	return true;
}

static void trimmed(char *dst, size_t cap, const char *s, size_t n)
{
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	snprintf(dst, cap, "%.*s", (int)n, s);
}

int bgp_proto_parse(const char *row, struct bgp_proto *p)
{
	const char *s = row, *gap;

	memset(p, 0, sizeof(*p));
	if (!field(&s, p->name, sizeof(p->name)) || !field(&s, p->proto, sizeof(p->proto)) ||
	    !field(&s, p->table, sizeof(p->table)) || !field(&s, p->state, sizeof(p->state)))
		return P53_ESYNTAX;
	while (*s == ' ')
		s++;
	/* BIRD pads "since" and puts two spaces before info; since itself
	 * may hold one space (date and time). */
	gap = strstr(s, "  ");
	if (!gap) {
		trimmed(p->since, sizeof(p->since), s, strlen(s));
		return 0;
	}
	trimmed(p->since, sizeof(p->since), s, (size_t)(gap - s));
	trimmed(p->info, sizeof(p->info), gap, strlen(gap));
	return 0;
}

int bgp_bird_show_protocols(struct bgp_bird *b, struct bgp_proto *out, size_t max)
{
	struct bgp_reply r;
	int rc = bgp_bird_cmd(b, "show protocols", &r);
	size_t rows = 0;

	if (rc >= 8000) {
		snprintf(b->err, sizeof(b->err), "show protocols: %04d %s", rc,
			 r.nlines ? r.lines[r.nlines - 1].text : "");
		rc = P53_EPROTO;
	}
	for (size_t i = 0; rc >= 0 && i < r.nlines; i++) {
		if (r.lines[i].code != 1002)
			continue;
		if (rows < max && bgp_proto_parse(r.lines[i].text, &out[rows]) < 0)
			continue;
		rows++;
	}
	bgp_reply_free(&r);
	return rc < 0 ? rc : (int)rows;
}
