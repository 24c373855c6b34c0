/* pop53d — the pop53 daemon. main() only reads its configuration (flags
 * and the --config file: controlplane/conf.c) and runs the daemon. */
#include <stdio.h>

#include "conf.h"
#include "daemon.h"
#include "error.h"

int main(int argc, char **argv)
{
	struct ctl_conf *conf;
	struct diag d;
	int ret;

	diag_init(&d, stderr);
	ret = ctl_conf_from_args(argc, argv, &d, &conf);
	if (ret == CTL_CONF_HELP) {
		ctl_conf_usage(stdout);
		return 0;
	}
	if (ret < 0) {
		fprintf(stderr, "pop53d: %u error%s in the configuration; see pop53d --help "
			"and docs/config.md\n", d.errors, d.errors == 1 ? "" : "s");
		return 2;
	}
	ret = ctl_daemon_run(ctl_conf_opts(conf));
	ctl_conf_free(conf);
	return ret;
}
