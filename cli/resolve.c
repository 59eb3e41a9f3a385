/*
 * resolve.c - the resolver the subcommands share, built from dmarcd.conf
 * (Nameservers, DNSTimeout, DNSRetries) and the --nameserver flag.
 */
#include "config.h"

#include "cli.h"
#include "dns/resolver.h"

struct dns_resolver *
cli_resolver_new(const struct cli_ctx *ctx, const char *cmd,
    const char *override)
{
	struct dns_config cfg;
	struct dns_resolver *res;
	enum dns_status st;
	char *const *ns;
	size_t i, n;

	dns_config_init(&cfg);
	cfg.timeout_ms = (unsigned)conf_int(ctx->conf, "DNSTimeout");
	cfg.retries = (unsigned)conf_int(ctx->conf, "DNSRetries");
	n = conf_list(ctx->conf, "Nameservers", &ns);
	if (override != NULL) {
		if (dns_config_set_nameservers(&cfg, override) != DNS_OK) {
			cli_error(cmd, "--nameserver %s: expected IP or "
			    "IP:PORT ([IPv6]:PORT), comma-separated", override);
			return NULL;
		}
	} else if (n > 0) {
		for (i = 0; i < n; i++)
			if (dns_config_add_nameserver(&cfg, ns[i]) != DNS_OK) {
				cli_error(cmd, "%s: Nameservers: bad address "
				    "\"%s\"", conf_path(ctx->conf) ?
				    conf_path(ctx->conf) : "built-in defaults",
				    ns[i]);
				return NULL;
			}
	} else if (dns_config_load_resolv_conf(&cfg, NULL) != DNS_OK) {
		cli_error(cmd, "/etc/resolv.conf: cannot read it; set "
		    "Nameservers in dmarcd.conf or use --nameserver");
		return NULL;
	}
	if ((res = dns_resolver_new(&cfg, &st)) == NULL)
		cli_error(cmd, "cannot start the resolver: %s",
		    dns_strerror(st));
	return res;
}
