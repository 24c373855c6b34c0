/*
 * bird.h — a client for BIRD's Unix control socket (the protocol birdc
 * speaks), without birdc.
 *
 * One persistent connection, one command at a time. BIRD greets with
 * "0001 BIRD <version> ready." (2.x and 3.x). A reply is a run of lines
 * "DDDD-text" (more follow), " text" (continues the previous code) and ends
 * with "DDDD text" (code, space); "+text" lines are spontaneous log output
 * and are skipped wherever they appear. Codes 0xxx report success, 1xxx
 * and 2xxx are table rows and headings, 8xxx run-time errors (8003 "No
 * protocols match"), 9xxx parse errors (9001 syntax error).
 *
 * Every exchange is bounded: connecting plus the greeting, and each command
 * plus its reply, take at most the timeout given to bgp_bird_open (a BIRD
 * that is stopped still accepts connections into the kernel backlog but
 * never greets). Calls block for at most that long, so an event loop can
 * call them directly with a timeout of a few ms to a few hundred ms.
 *
 * A lost connection (BIRD restarted: EOF, EPIPE, ECONNRESET) is noticed on
 * the next use or by bgp_bird_poll; the next command reconnects first and
 * runs the reconnect hook (the caller re-asserts its state there) before
 * the command itself. Reconnect attempts after a failure are spaced by the
 * retry interval so a dead BIRD does not cost a timeout on every call.
 */
#ifndef POP53_BGP_BIRD_H
#define POP53_BGP_BIRD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* BIRD drops the connection on a command line of about 1 KiB instead of
 * answering 9000 (measured on 2.0.12); longer commands are refused here. */
#define BGP_BIRD_CMD_MAX 1000
/* Longest reply kept; a longer one fails with P53_ELIMIT. */
#define BGP_BIRD_REPLY_MAX (1u << 20)

struct bgp_bird;

/* One reply line; text has no code, no separator and no newline. A
 * continuation line carries the code of the line it continues. */
struct bgp_line {
	int code;
	const char *text;
};

/* A whole reply. code is the final line's code (0..9999). */
struct bgp_reply {
	int code;
	size_t nlines;
	struct bgp_line *lines;  /* every line, the final one included */
	char *buf;               /* storage of the texts */
};

/* A row of `show protocols`. since is BIRD's text (its timeformat). */
struct bgp_proto {
	char name[64];
	char proto[16];          /* "BGP", "Static", "Device", ... */
	char table[32];
	char state[16];          /* "up", "down", "start", "stop", ... */
	char since[40];
	char info[128];          /* BGP: "Established", "Active", "Connect", ... */
};

/* Called after each successful reconnect (not after the first connect),
 * before the command that caused it. Commands sent from the hook do not
 * re-enter it. A negative return fails that command with the same code. */
typedef int (*bgp_bird_hook)(struct bgp_bird *b, void *arg);

/* Make a client for the socket at path; nothing is connected yet.
 * timeout_ms bounds each exchange (0 = 200 ms); retry_ms is the minimum
 * time between reconnect attempts after a failed one (0 = none).
 * Returns 0 and *out, P53_EINVAL (path empty or too long for a sockaddr_un)
 * or P53_ENOMEM. Free with bgp_bird_free. */
int bgp_bird_open(struct bgp_bird **out, const char *path,
		  unsigned timeout_ms, unsigned retry_ms);

/* Close the connection and free b. NULL is fine. */
void bgp_bird_free(struct bgp_bird *b);

/* Set the reconnect hook (NULL: none). */
void bgp_bird_set_hook(struct bgp_bird *b, bgp_bird_hook fn, void *arg);

/* Connect and read the greeting unless connected. Returns 0, P53_EIO
 * (cannot connect: BIRD not running, socket missing), P53_ETIMEOUT (no
 * greeting in time), P53_EPROTO (the peer is not BIRD), or P53_ESTATE
 * (inside the retry interval after a failed attempt: nothing tried);
 * bgp_bird_error tells the reason of the last failed attempt. */
int bgp_bird_connect(struct bgp_bird *b);

/* Send cmd (one line, no newline, at most BGP_BIRD_CMD_MAX bytes) and read
 * its reply into *r (NULL: discard the lines). Connects first if needed;
 * retries once on a fresh connection if the old one turns out dead.
 * Returns the final reply code (>= 0; the caller judges 8xxx/9xxx) or
 * P53_EINVAL (bad cmd), P53_EIO, P53_ETIMEOUT, P53_EPROTO, P53_ESTATE
 * (see bgp_bird_connect), P53_ELIMIT, P53_ENOMEM. After a timeout or a protocol error the connection is
 * closed (its reply stream is out of step). Free *r with bgp_reply_free
 * whatever the result. */
int bgp_bird_cmd(struct bgp_bird *b, const char *cmd, struct bgp_reply *r);

/* Free the lines of r and zero it. NULL is fine. */
void bgp_reply_free(struct bgp_reply *r);

/* Without blocking: read and drop spontaneous lines, and notice whether
 * BIRD closed the connection. Call it when bgp_bird_fd is readable or on a
 * timer. Returns 1 connected, 0 not connected (a close was noticed now or
 * before). */
int bgp_bird_poll(struct bgp_bird *b);

/* The connection's fd, -1 when not connected. It changes on reconnect. */
int bgp_bird_fd(const struct bgp_bird *b);

/* Whether a connection is open. */
bool bgp_bird_connected(const struct bgp_bird *b);

/* The version from the last greeting ("2.0.12"), "" before the first. */
const char *bgp_bird_version(const struct bgp_bird *b);

/* The last failure, human-readable ("" if none); static to b. */
const char *bgp_bird_error(const struct bgp_bird *b);

/* Successful connects so far (the first one included). */
uint64_t bgp_bird_connects(const struct bgp_bird *b);

/* Run `show protocols` and fill up to max rows of out. Returns the number
 * of rows BIRD listed (may exceed max; only max are filled), or a negative
 * code as bgp_bird_cmd, or P53_EPROTO when BIRD answered with an error. */
int bgp_bird_show_protocols(struct bgp_bird *b, struct bgp_proto *out,
			    size_t max);

/* Parse one `show protocols` row ("name proto table state since  info")
 * into *p. Returns 0 or P53_ESYNTAX (fewer than four fields). */
int bgp_proto_parse(const char *row, struct bgp_proto *p);

#endif
