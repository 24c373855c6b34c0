/*
 * push.h — pop53-push: sign a snapshot and PUT it to a fleet of nodes
 * (HTTPS with mutual TLS, the push API of controlplane/ctl_http.h),
 * concurrently, with timeouts and retries; report who serves what.
 */
#ifndef POP53_PUSH_H
#define POP53_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"

struct push_opts {
	const char *key;            /* controller private key (--key) */
	const char *cert;           /* client certificate (--cert) */
	const char *client_key;     /* its private key (--client-key) */
	const char *ca;             /* CA of the nodes' certificates (--ca) */
	bool force;                 /* ?force=1: accept an older serial */
	bool no_sign;               /* push the file as it is (pre-signed) */
	unsigned timeout_ms;        /* one attempt, connect to answer */
	unsigned retries;           /* extra attempts on connection errors/503 */
	unsigned parallel;          /* transfers at once */
};

/* One node and what became of the push to it. */
struct push_node {
	const char *spec;           /* as given on the command line */
	char url[600];
	bool ok;                    /* the node serves the pushed serial */
	long http;                  /* last HTTP status, 0: none */
	char result[48];            /* "ok", "already-served", the node's
				     * refusal name, "connect-failed",
				     * "timeout", "tls-failed", "http-NNN" */
	char message[512];          /* the node's or libcurl's reason */
	int64_t serial;             /* serial the node serves, -1: unknown */
	int64_t previous;           /* serial it served before, -1: unknown */
	unsigned attempts;
	double ms;                  /* first attempt to final answer */
};

/* Fill n->url from spec ("host:port", "[v6]:port" or "https://host:port").
 * 0, or -1 with the reason in err. */
int push_node_init(struct push_node *n, const char *spec, bool force,
		   char *err, size_t errlen);

/* Read the snapshot at path, verify it, and sign it with o->key unless
 * o->no_sign or it already carries that key's signature. *blob (malloc'd,
 * caller frees) is what to push. 0 or a negative p53_err, reason in d. */
int push_prepare(const struct push_opts *o, const char *path, struct diag *d,
		 uint8_t **blob, size_t *len, uint64_t *serial);

/* PUT blob to every node, o->parallel at a time, retrying with backoff
 * on connection errors, timeouts and 503 (never on other answers).
 * Fills each node's result. Returns how many did not take it, or a
 * negative p53_err when libcurl could not start. */
int push_run(const struct push_opts *o, const uint8_t *blob, size_t len,
	     uint64_t serial, struct push_node *nodes, size_t n);

/* The results as a table (node | result | serial served | time, then the
 * reasons of failures) or as one JSON document. */
void push_print_table(FILE *f, const struct push_node *nodes, size_t n,
		      uint64_t serial);
void push_print_json(FILE *f, const struct push_node *nodes, size_t n,
		     uint64_t serial);

/* Take the members this tool uses ("serial", "previous_serial", "error",
 * "message") from a node's JSON answer into n. 0, or -1 when body is not
 * a JSON object. */
int push_parse_answer(const char *body, size_t len, struct push_node *n);

#endif
