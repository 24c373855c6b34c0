/*
 * ctl_sock.c — the control socket: the daemon's listener and the client
 * side pop53ctl uses, with the small JSON reader both need.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "ctl_sock.h"
#include "rdata.h"
#include "error.h"

#define CONN_TIMEOUT_S 30      /* a client that neither asks nor reads */
#define JSON_DEPTH     32

/* ---- JSON reader ---------------------------------------------------------- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype t;
	int b;                   /* J_BOOL */
	char *key;               /* member name when inside an object */
	char *str;               /* J_STR: the text; J_NUM: the number as written */
	struct jv *kids, *next;  /* J_ARR / J_OBJ members, in order */
};

static void jv_free(struct jv *v)
{
	while (v) {
		struct jv *n = v->next;
		jv_free(v->kids);
		free(v->key);
		free(v->str);
		free(v);
		v = n;
	}
}

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

static int hex4(const char *p, unsigned *out)
{
	*out = 0;
	for (int i = 0; i < 4; i++) {
		int d = rdata_hex_value(p[i]);

		if (d < 0)
			return -1;
		*out = *out << 4 | (unsigned)d;
	}
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* *p at the opening quote; the unescaped text (never longer than the
 * escaped one) or NULL. */
static char *parse_string(const char **p)
{
	const char *s = *p + 1;
	char *out = malloc(strlen(s) + 1), *o = out;
	unsigned cp, lo;

	if (!out)
		return NULL;
	for (; *s != '"'; s++) {
		if ((unsigned char)*s < 0x20)
			goto fail;      /* raw control characters, end of input */
		if (*s != '\\') {
			*o++ = *s;
			continue;
		}
		switch (*++s) {
		case '"': case '\\': case '/': *o++ = *s; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (hex4(s + 1, &cp) < 0)
				goto fail;
			s += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && s[1] == '\\' && s[2] == 'u' &&
			    hex4(s + 3, &lo) == 0 && lo >= 0xdc00 && lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				s += 6;
			} else if (cp >= 0xd800 && cp < 0xe000) {
				cp = '?';       /* a lone surrogate */
			}
			o += put_utf8(o, cp);
			break;
		default:
			goto fail;
		}
	}
	*o = '\0';
	*p = s + 1;
	return out;
fail:
	free(out);
	return NULL;
}

static struct jv *parse_value(const char **p, int depth);

/* Members of an object or elements of an array, *p after the opener. */
static int parse_members(const char **p, struct jv *v, char close, int depth)
{
	struct jv **tail = &v->kids;

	skip_ws(p);
	if (**p == close) {
		(*p)++;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		struct jv *kid;
		skip_ws(p);
		if (close == '}') {
			if (**p != '"' || !(key = parse_string(p)))
				return -1;
			skip_ws(p);
			if (**p != ':') {
				free(key);
				return -1;
			}
			(*p)++;
		}
		if (!(kid = parse_value(p, depth + 1))) {
			free(key);
			return -1;
		}
		kid->key = key;
		*tail = kid;
		tail = &kid->next;
		skip_ws(p);
		if (**p == close) {
			(*p)++;
			return 0;
		}
		if (**p != ',')
			return -1;   /* never past the end of the text */
		(*p)++;
	}
}

static int parse_scalar(const char **p, struct jv *v)
{
	static const struct { const char *word; enum jtype t; int b; } words[] = {
		{ "true", J_BOOL, 1 }, { "false", J_BOOL, 0 }, { "null", J_NULL, 0 },
	};
	const char *s = *p;

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i].word);
		if (!strncmp(s, words[i].word, n)) {
			v->t = words[i].t;
			v->b = words[i].b;
			*p = s + n;
			return 0;
		}
	}
	if (*s != '-' && (*s < '0' || *s > '9'))
		return -1;
	while (*s == '-' || *s == '+' || *s == '.' || *s == 'e' || *s == 'E' ||
	       (*s >= '0' && *s <= '9'))
		s++;
	v->t = J_NUM;
	if (!(v->str = strndup(*p, (size_t)(s - *p))))
		return -1;
	*p = s;
	return 0;
}

static struct jv *parse_value(const char **p, int depth)
{
	struct jv *v = calloc(1, sizeof(*v));
	int ret;

	if (!v || depth > JSON_DEPTH) {
		free(v);
		return NULL;
	}
	skip_ws(p);
	switch (**p) {
	case '{':
	case '[':
		v->t = **p == '{' ? J_OBJ : J_ARR;
		(*p)++;
		ret = parse_members(p, v, v->t == J_OBJ ? '}' : ']', depth);
		break;
	case '"':
		v->t = J_STR;
		ret = (v->str = parse_string(p)) ? 0 : -1;
		break;
	default:
		ret = parse_scalar(p, v);
	}
	if (ret < 0) {
		jv_free(v);
		return NULL;
	}
	return v;
}

/* A whole text that is one JSON object, or NULL. */
static struct jv *parse_object(const char *text)
{
	const char *p = text;
	struct jv *v = parse_value(&p, 0);

	if (!v)
		return NULL;
	skip_ws(&p);
	if (v->t != J_OBJ || *p) {
		jv_free(v);
		return NULL;
	}
	return v;
}

static const struct jv *member(const struct jv *obj, const char *key)
{
	for (const struct jv *k = obj->kids; k; k = k->next)
		if (!strcmp(k->key, key))
			return k;
	return NULL;
}

/* ---- server ----------------------------------------------------------------- */

struct sock_conn {
	struct ctl_sock *s;
	struct sock_conn *prev, *next;
	struct bufferevent *bev;
	int answered;
};

struct ctl_sock {
	struct event_base *base;
	const struct ctl_ops *ops;
	struct evconnlistener *lev;
	char *path;
	struct sock_conn *conns;
};

static void conn_free(struct sock_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	bufferevent_free(c->bev);
	free(c);
}

static void answer_error(struct evbuffer *out, const char *error, const char *msg)
{
	evbuffer_add_printf(out, "{\"ok\": false, \"error\": ");
	ctl_json_str(out, error);
	evbuffer_add_printf(out, ", \"message\": ");
	ctl_json_str(out, msg);
	evbuffer_add_printf(out, "}");
}

static void answer_load(struct ctl_sock *s, const struct jv *req, struct evbuffer *out)
{
	const struct jv *file = member(req, "file"), *force = member(req, "force");
	struct ctl_push_result r;

	if (!file || file->t != J_STR || file->str[0] != '/') {
		answer_error(out, "bad-request", "load needs \"file\": an absolute path");
		return;
	}
	memset(&r, 0, sizeof(r));
	s->ops->load(s->ops->arg, file->str, force && force->t == J_BOOL && force->b, &r);
	if (r.why != CTL_OK) {
		evbuffer_add_printf(out, "{\"ok\": false, \"error\": ");
		ctl_json_str(out, ctl_refusal_name(r.why));
		evbuffer_add_printf(out, ", \"message\": ");
		ctl_json_str(out, r.message);
		evbuffer_add_printf(out, ", \"serial\": %llu}", (unsigned long long)r.serial);
		return;
	}
	evbuffer_add_printf(out, "{\"ok\": true, \"serial\": %llu, \"previous_serial\": %llu, "
			    "\"zones\": %u}", (unsigned long long)r.serial,
			    (unsigned long long)r.previous_serial, r.zones);
}

/* A JSON number member that is a whole number within 0..max, or -1. */
static long long member_uint(const struct jv *req, const char *key, unsigned long long max)
{
	const struct jv *v = member(req, key);
	unsigned long long n;
	char *end;

	if (!v || v->t != J_NUM || v->str[0] < '0' || v->str[0] > '9')
		return -1;
	errno = 0;
	n = strtoull(v->str, &end, 10);
	return *end || errno || n > max ? -1 : (long long)n;
}

static void answer_vote(struct ctl_sock *s, const struct jv *req, struct evbuffer *out)
{
	const struct jv *check = member(req, "check"), *healthy = member(req, "healthy");
	long long source = member_uint(req, "source", UINT32_MAX);
	long long ttl = member_uint(req, "ttl_ms", UINT32_MAX);
	char err[512];
	int ret;

	if (!check || check->t != J_STR || !healthy || healthy->t != J_BOOL || source < 0 ||
	    ttl < 0) {
		answer_error(out, "bad-request", "vote needs \"check\" (a string), \"source\" "
			     "(0..4294967295), \"healthy\" (true or false) and \"ttl_ms\" "
			     "(0..4294967295)");
		return;
	}
	if (!s->ops->vote) {
		answer_error(out, "not-supported", "this daemon takes no votes");
		return;
	}
	ret = s->ops->vote(s->ops->arg, check->str, (uint32_t)source, healthy->b,
			   (uint32_t)ttl, err, sizeof(err));
	if (ret < 0)
		answer_error(out, ret == P53_ENOTFOUND ? "not-found" : "refused", err);
	else
		evbuffer_add_printf(out, "{\"ok\": true}");
}

static void answer(struct ctl_sock *s, const char *line, struct evbuffer *out)
{
	struct jv *req = parse_object(line);
	const struct jv *cmd = req ? member(req, "cmd") : NULL;
	const char *c = cmd && cmd->t == J_STR ? cmd->str : "";
	char err[512];

	if (!req)
		answer_error(out, "bad-request", "the request is not one JSON object on one line");
	else if (!cmd || cmd->t != J_STR)
		answer_error(out, "bad-request", "the request has no \"cmd\" string");
	else if (!strcmp(c, "status") || !strcmp(c, "stats")) {
		evbuffer_add_printf(out, "{\"ok\": true, ");
		if (!strcmp(c, "status"))
			s->ops->status(s->ops->arg, out);
		else
			s->ops->stats(s->ops->arg, out);
		evbuffer_add_printf(out, "}");
	} else if (!strcmp(c, "load")) {
		answer_load(s, req, out);
	} else if (!strcmp(c, "drain") || !strcmp(c, "undrain")) {
		s->ops->drain(s->ops->arg, c[0] == 'd');
		evbuffer_add_printf(out, "{\"ok\": true, \"drained\": %s}",
				    c[0] == 'd' ? "true" : "false");
	} else if (!strcmp(c, "fault")) {
		const struct jv *what = member(req, "what");
		int ret = !what || what->t != J_STR ? P53_EINVAL :
			  !s->ops->fault ? P53_ENOTSUP :
			  s->ops->fault(s->ops->arg, what->str, err, sizeof(err));

		if (!what || what->t != J_STR)
			answer_error(out, "bad-request", "fault needs a \"what\" string");
		else if (ret < 0)
			answer_error(out, ret == P53_ENOTSUP ? "not-supported" : "refused", err);
		else
			evbuffer_add_printf(out, "{\"ok\": true}");
	} else if (!strcmp(c, "reload-config")) {
		int ret = s->ops->reload_config(s->ops->arg, err, sizeof(err));
		if (ret < 0)
			answer_error(out, ret == P53_ENOTSUP ? "not-supported" : "config", err);
		else
			evbuffer_add_printf(out, "{\"ok\": true}");
	} else if (!strcmp(c, "vote")) {
		answer_vote(s, req, out);
	} else {
		snprintf(err, sizeof(err), "unknown command '%.64s' (status, stats, load, drain, "
			 "undrain, reload-config, vote)", c);
		answer_error(out, "bad-request", err);
	}
	evbuffer_add(out, "\n", 1);
	jv_free(req);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct sock_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer *out = bufferevent_get_output(bev);
	size_t n;
	char *line;

	if (c->answered) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (!(line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF))) {
		if (evbuffer_get_length(in) > CTL_SOCK_LINE_MAX) {
			answer_error(out, "bad-request", "request line too long");
			evbuffer_add(out, "\n", 1);
			c->answered = 1;
		}
		return;
	}
	c->answered = 1;
	answer(c->s, line, out);
	free(line);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct sock_conn *c = arg;

	(void)bev;
	if (c->answered)
		conn_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_free(arg);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct ctl_sock *s = arg;
	struct timeval tv = { CONN_TIMEOUT_S, 0 };
	struct sock_conn *c = calloc(1, sizeof(*c));

	(void)lev;
	(void)sa;
	(void)salen;
	if (!c || !(c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE))) {
		free(c);
		close(fd);
		return;
	}
	c->s = s;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_set_timeouts(c->bev, &tv, &tv);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* A socket file where a live daemon answers is not ours to take. */
static int claim_path(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	struct stat st;
	int fd, live;

	if (lstat(sun->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : P53_EIO;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "control socket %s: exists and is not a socket",
			 sun->sun_path);
		return P53_EEXIST;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return P53_EIO;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	if (live) {
		snprintf(err, errlen, "control socket %s: another process answers on it "
			 "(a pop53d already running?)", sun->sun_path);
		return P53_EEXIST;
	}
	return unlink(sun->sun_path) == 0 || errno == ENOENT ? 0 : P53_EIO;
}

static int sock_path(const char *path, struct sockaddr_un *sun, char *err, size_t errlen)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (!path || !*path || strlen(path) >= sizeof(sun->sun_path)) {
		snprintf(err, errlen, "control socket path '%s': empty or longer than %zu bytes",
			 path ? path : "", sizeof(sun->sun_path) - 1);
		return P53_EINVAL;
	}
	memcpy(sun->sun_path, path, strlen(path));
	return 0;
}

int ctl_sock_start(struct event_base *base, const char *path, const struct ctl_ops *ops,
		   struct ctl_sock **out, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct ctl_sock *s;
	int fd = -1, ret;

	*out = NULL;
	if ((ret = sock_path(path, &sun, err, errlen)) < 0)
		return ret;
	if ((ret = claim_path(&sun, err, errlen)) < 0) {
		if (ret == P53_EIO)
			snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		return ret;
	}
	if (!(s = calloc(1, sizeof(*s))) || !(s->path = strdup(path))) {
		free(s);
		return P53_ENOMEM;
	}
	s->base = base;
	s->ops = ops;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (const struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(path, 0660) < 0 || listen(fd, 16) < 0 ||
	    !(s->lev = evconnlistener_new(base, on_accept, s, LEV_OPT_CLOSE_ON_FREE, -1, fd))) {
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		if (fd >= 0 && !s->lev)
			close(fd);
		ctl_sock_free(s);
		return P53_EIO;
	}
	*out = s;
	return 0;
}

void ctl_sock_free(struct ctl_sock *s)
{
	if (!s)
		return;
	while (s->conns)
		conn_free(s->conns);
	if (s->lev) {
		evconnlistener_free(s->lev);
		unlink(s->path);
	}
	free(s->path);
	free(s);
}

/* ---- client ------------------------------------------------------------------ */

int ctl_sock_request(const char *cmd, const char *file, bool force, char **out,
		     char *err, size_t errlen)
{
	static const char *const known[] = { "status", "stats", "load", "drain", "undrain",
					     "reload-config", "fault" };
	struct evbuffer *b;
	char abs[PATH_MAX];
	int found = 0;

	*out = NULL;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		found |= !strcmp(cmd, known[i]);
	if (!found) {
		snprintf(err, errlen, "unknown command '%s' (status, stats, load FILE [--force], "
			 "drain, undrain, reload-config)", cmd);
		return P53_EINVAL;
	}
	if (!strcmp(cmd, "load") && !file) {
		snprintf(err, errlen, "load needs a snapshot file");
		return P53_EINVAL;
	}
	if (!strcmp(cmd, "fault") && !file) {
		snprintf(err, errlen, "fault needs what to inject (stall:MS or stall:WORKER:MS)");
		return P53_EINVAL;
	}
	if (!strcmp(cmd, "load") && !realpath(file, abs)) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return P53_EIO;
	}
	if (!(b = evbuffer_new()))
		return P53_ENOMEM;
	evbuffer_add_printf(b, "{\"cmd\": ");
	ctl_json_str(b, cmd);
	if (!strcmp(cmd, "fault")) {
		evbuffer_add_printf(b, ", \"what\": ");
		ctl_json_str(b, file);
	}
	if (!strcmp(cmd, "load")) {
		evbuffer_add_printf(b, ", \"file\": ");
		ctl_json_str(b, abs);
		evbuffer_add_printf(b, ", \"force\": %s", force ? "true" : "false");
	}
	evbuffer_add(b, "}", 2);    /* with the NUL */
	*out = strdup((const char *)evbuffer_pullup(b, -1));
	evbuffer_free(b);
	return *out ? 0 : P53_ENOMEM;
}

int ctl_sock_vote_request(const char *check, uint32_t source, bool healthy,
			  uint32_t ttl_ms, char **out, char *err, size_t errlen)
{
	struct evbuffer *b;

	*out = NULL;
	if (!check || !*check) {
		snprintf(err, errlen, "vote needs a check name");
		return P53_EINVAL;
	}
	if (!(b = evbuffer_new()))
		return P53_ENOMEM;
	evbuffer_add_printf(b, "{\"cmd\": \"vote\", \"check\": ");
	ctl_json_str(b, check);
	evbuffer_add_printf(b, ", \"source\": %u, \"healthy\": %s, \"ttl_ms\": %u}", source,
			    healthy ? "true" : "false", ttl_ms);
	evbuffer_add(b, "", 1);
	*out = strdup((const char *)evbuffer_pullup(b, -1));
	evbuffer_free(b);
	return *out ? 0 : P53_ENOMEM;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t k = write(fd, buf, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		buf += k;
		len -= (size_t)k;
	}
	return 0;
}

static int read_line(int fd, unsigned timeout_ms, char **reply, char *err, size_t errlen)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (!buf)
		return P53_ENOMEM;
	for (;;) {
		int r = poll(&pfd, 1, (int)timeout_ms);
		ssize_t k;
		if (r == 0) {
			snprintf(err, errlen, "no answer within %u ms", timeout_ms);
			free(buf);
			return P53_ETIMEOUT;
		}
		if (len + 1 >= cap) {
			char *nb = cap < CTL_SOCK_LINE_MAX * 16 ? realloc(buf, cap * 2) : NULL;
			if (!nb) {
				snprintf(err, errlen, "answer too long");
				free(buf);
				return P53_ELIMIT;
			}
			buf = nb;
			cap *= 2;
		}
		k = r < 0 ? -1 : read(fd, buf + len, cap - len - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			snprintf(err, errlen, "the daemon closed the connection without an answer");
			free(buf);
			return P53_EIO;
		}
		len += (size_t)k;
		buf[len] = '\0';
		char *nl = strchr(buf, '\n');
		if (nl) {
			*nl = '\0';
			*reply = buf;
			return 0;
		}
	}
}

int ctl_sock_call(const char *path, const char *request, unsigned timeout_ms,
		  char **reply, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd, ret;

	*reply = NULL;
	if ((ret = sock_path(path, &sun, err, errlen)) < 0)
		return ret;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (const struct sockaddr *)&sun, sizeof(sun)) < 0) {
		snprintf(err, errlen, "cannot connect to %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return P53_EIO;
	}
	if (write_all(fd, request, strlen(request)) < 0 || write_all(fd, "\n", 1) < 0) {
		snprintf(err, errlen, "cannot send to %s: %s", path, strerror(errno));
		close(fd);
		return P53_EIO;
	}
	ret = read_line(fd, timeout_ms, reply, err, errlen);
	close(fd);
	return ret;
}

/* ---- human output --------------------------------------------------------------- */

static void print_scalar(const struct jv *v, FILE *out)
{
	time_t t;
	struct tm tm;
	char date[64];

	switch (v->t) {
	case J_NULL: fputs("-", out); break;
	case J_BOOL: fputs(v->b ? "yes" : "no", out); break;
	case J_STR: fputs(v->str, out); break;
	case J_NUM:
		fputs(v->str, out);
		size_t kl = v->key ? strlen(v->key) : 0;
		if (kl > 3 && !strcmp(v->key + kl - 3, "_at") && (t = (time_t)atoll(v->str)) > 0 &&
		    gmtime_r(&t, &tm) && strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", &tm))
			fprintf(out, " (%s)", date);
		break;
	default: break;
	}
}

static void print_members(const struct jv *first, int indent, FILE *out);

/* Array elements as "- " items; an object element's members follow its
 * first line at the item's indentation. */
static void print_items(const struct jv *first, int indent, FILE *out)
{
	for (const struct jv *e = first; e; e = e->next) {
		fprintf(out, "%*s- ", indent, "");
		if (e->t == J_OBJ && e->kids) {
			print_members(e->kids, -(indent + 2), out);
		} else if (e->t == J_ARR) {
			fputc('\n', out);
			print_items(e->kids, indent + 2, out);
		} else {
			print_scalar(e, out);
			fputc('\n', out);
		}
	}
}

/* indent < 0: the first member continues a line already started. */
static void print_members(const struct jv *first, int indent, FILE *out)
{
	int pad = indent < 0 ? -indent : indent, cont = indent < 0;

	for (const struct jv *m = first; m; m = m->next, cont = 0) {
		fprintf(out, "%*s%s:", cont ? 0 : pad, "", m->key);
		if (m->t == J_OBJ) {
			fputs(m->kids ? "\n" : " none\n", out);
			print_members(m->kids, pad + 2, out);
		} else if (m->t == J_ARR) {
			fputs(m->kids ? "\n" : " none\n", out);
			print_items(m->kids, pad + 2, out);
		} else {
			fputc(' ', out);
			print_scalar(m, out);
			fputc('\n', out);
		}
	}
}

int ctl_sock_reply_ok(const char *reply)
{
	struct jv *v = parse_object(reply);
	const struct jv *ok = v ? member(v, "ok") : NULL;
	int ret = ok && ok->t == J_BOOL ? ok->b : P53_EPROTO;

	jv_free(v);
	return ret;
}

int ctl_sock_print_human(const char *reply, FILE *out)
{
	struct jv *v = parse_object(reply);
	const struct jv *ok = v ? member(v, "ok") : NULL;
	const struct jv *error, *msg;
	int ret;

	if (!ok || ok->t != J_BOOL) {
		jv_free(v);
		return P53_EPROTO;
	}
	ret = ok->b;
	if (!ok->b) {
		error = member(v, "error");
		msg = member(v, "message");
		fprintf(out, "refused (%s): %s\n", error && error->t == J_STR ? error->str : "?",
			msg && msg->t == J_STR ? msg->str : "no reason given");
	} else {
		/* "ok" says nothing a person needs once the exit status tells */
		struct jv **pp = &v->kids;
		while (*pp && *pp != ok)
			pp = &(*pp)->next;
		*pp = ok->next;
		((struct jv *)ok)->next = NULL;
		jv_free((struct jv *)ok);
		if (!v->kids)
			fputs("done\n", out);
		print_members(v->kids, 0, out);
	}
	jv_free(v);
	return ret;
}
