/*
 * resolve.c - what the subcommands share to find policies: the resolver
 * built from dmarcd.conf (Nameservers, DNSTimeout, DNSRetries) or
 * --nameserver, and the --method / --psl-file choice of organizational
 * domain.
 */
#include "config.h"

#include <string.h>

#include "cli.h"
#include "common/confkeys.h"
#include "dns/lookup_adapter.h"
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

void
cli_discovery_init(struct cli_discovery *d, const struct cli_ctx *ctx)
{
	memset(d, 0, sizeof(*d));
	d->oc.method = conf_enum(ctx->conf, "PolicyDiscovery") ==
	    CONFKEYS_DISCOVERY_PSL ? ORGDOMAIN_PSL : ORGDOMAIN_TREEWALK;
	d->pslfile = conf_str(ctx->conf, "PublicSuffixList");
}

int
cli_discovery_option(struct cli_discovery *d, const char *cmd, int ch,
    const char *arg)
{
	switch (ch) {
	case CLI_OPT_METHOD:
		if (orgdomain_method_parse(arg, &d->oc.method) != 0) {
			cli_error(cmd, "--method %s: expected treewalk or psl",
			    arg);
			return -1;
		}
		return 0;
	case CLI_OPT_PSL_FILE:
		d->pslfile = arg;
		return 0;
	case CLI_OPT_NAMESERVER:
		d->nameserver = arg;
		return 0;
	}
	return 1;
}

int
cli_discovery_open(struct cli_discovery *d, const struct cli_ctx *ctx,
    const char *cmd, bool dns)
{
	enum orgdomain_status err;

	if (d->oc.method == ORGDOMAIN_PSL) {
		if ((d->psl = orgdomain_psl_new(d->pslfile, &err)) == NULL) {
			cli_error(cmd, "%s: %s", d->pslfile,
			    orgdomain_strerror(err));
			return EX_NOINPUT;
		}
		d->oc.psl = d->psl;
	}
	if (!dns)
		return EX_OK;
	if ((d->res = cli_resolver_new(ctx, cmd, d->nameserver)) == NULL)
		return EX_CONFIG;
	dns_lookup_ctx_init(&d->lctx, d->res, NULL);
	d->oc.lookup = dns_lookup;
	d->oc.lookup_ctx = &d->lctx;
	return EX_OK;
}

void
cli_discovery_close(struct cli_discovery *d)
{
	orgdomain_psl_free(d->psl);
	dns_resolver_free(d->res);
	d->psl = NULL;
	d->res = NULL;
}
