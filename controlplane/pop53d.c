/* pop53d — the pop53 daemon. main() only parses arguments. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

static void usage(FILE *f)
{
	fputs("usage: pop53d [--io kernel|dpdk] --listen ADDR[@PORT]... (--zone FILE... | --snapshot FILE)\n"
	      "              [--udp-threads N] [--tcp-idle-ms N] [--tcp-max-conns N]\n"
	      "              [--nsid TEXT] [--version-string TEXT] [--identity TEXT] [--eal 'ARGS']\n"
	      "              [--exception tap[:IFNAME]] [--exception-addr ADDR/LEN]...\n"
	      "SIGHUP reloads the --zone files (or the --snapshot); a failed reload changes nothing.\n"
	      "--exception tap (DPDK mode, ports other than af_xdp): frames that are not DNS go to\n"
	      "the kernel through a TAP interface (IFNAME, default p53x<port>) with the port's MAC,\n"
	      "the service addresses and each --exception-addr (the link addresses).\n",
	      f);
}

static int number(const char *opt, const char *arg, unsigned long max, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (!*arg || *end || v > max) {
		fprintf(stderr, "pop53d: %s wants a number up to %lu, got '%s'\n", opt, max, arg);
		return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "io", required_argument, NULL, 'i' },
		{ "listen", required_argument, NULL, 'l' },
		{ "zone", required_argument, NULL, 'z' },
		{ "snapshot", required_argument, NULL, 's' },
		{ "udp-threads", required_argument, NULL, 'u' },
		{ "tcp-idle-ms", required_argument, NULL, 'I' },
		{ "tcp-max-conns", required_argument, NULL, 'M' },
		{ "nsid", required_argument, NULL, 'n' },
		{ "version-string", required_argument, NULL, 'V' },
		{ "identity", required_argument, NULL, 'd' },
		{ "eal", required_argument, NULL, 'e' },
		{ "exception", required_argument, NULL, 'x' },
		{ "exception-addr", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct ctl_daemon_opts o;
	int c;

	engine_conf_init(&o.srv.engine);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (!strcmp(optarg, "kernel"))
				o.io = CTL_IO_KERNEL;
			else if (!strcmp(optarg, "dpdk"))
				o.io = CTL_IO_DPDK;
			else {
				fprintf(stderr, "pop53d: --io wants kernel or dpdk, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'l':
			if (o.srv.nlisten == SRV_MAX_LISTEN ||
			    srv_parse_listen(optarg, &o.srv.listen[o.srv.nlisten]) < 0) {
				fprintf(stderr, "pop53d: --listen wants ADDR[@PORT] (at most %d), got '%s'\n",
					SRV_MAX_LISTEN, optarg);
				return 2;
			}
			o.srv.nlisten++;
			break;
		case 'z':
			if (o.nzones == CTL_MAX_ZONES) {
				fprintf(stderr, "pop53d: at most %d --zone files\n", CTL_MAX_ZONES);
				return 2;
			}
			o.zones[o.nzones++] = optarg;
			break;
		case 's': o.snapshot = optarg; break;
		case 'u':
			if (number("--udp-threads", optarg, 256, &o.srv.udp_threads) < 0)
				return 2;
			break;
		case 'I':
			if (number("--tcp-idle-ms", optarg, 3600000, &o.srv.tcp_idle_ms) < 0)
				return 2;
			break;
		case 'M':
			if (number("--tcp-max-conns", optarg, 1000000, &o.srv.tcp_max_conns) < 0)
				return 2;
			break;
		case 'n':
			o.srv.engine.nsid = (const uint8_t *)optarg;
			o.srv.engine.nsid_len = (uint16_t)strnlen(optarg, 128);
			break;
		case 'V': o.srv.engine.version = optarg; break;
		case 'd': o.srv.engine.identity = optarg; break;
		case 'e': o.eal = optarg; break;
		case 'x':
			if (strncmp(optarg, "tap", 3) != 0 || (optarg[3] && (optarg[3] != ':' || !optarg[4]))) {
				fprintf(stderr, "pop53d: --exception wants tap or tap:IFNAME, got '%s'\n",
					optarg);
				return 2;
			}
			o.exception = CTL_EXC_TAP;
			o.exc_ifname = optarg[3] ? optarg + 4 : NULL;
			break;
		case 'a':
			if (o.nexc_addr == CTL_MAX_EXC_ADDRS ||
			    ctl_parse_prefix(optarg, &o.exc_addr[o.nexc_addr]) < 0) {
				fprintf(stderr, "pop53d: --exception-addr wants ADDR/LEN (at most %d), "
					"got '%s'\n", CTL_MAX_EXC_ADDRS, optarg);
				return 2;
			}
			o.nexc_addr++;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !o.srv.nlisten || (!o.nzones) == (!o.snapshot)) {
		fprintf(stderr, "pop53d: need at least one --listen and either --zone or --snapshot\n");
		usage(stderr);
		return 2;
	}
	return ctl_daemon_run(&o);
}
