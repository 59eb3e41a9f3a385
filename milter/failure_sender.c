/*
 * failure_sender.c - queue and send DMARC failure reports (RFC 9991).
 *
 * The milter thread builds each report (report/failure.c, no I/O) and
 * puts it on a bounded queue; it never waits.  One detached thread takes
 * reports off the queue, verifies an external destination the way
 * RFC 9990 section 4 verifies rua= (RFC 9991 section 4: TXT
 * "v=DMARC1" at <policy domain>._report._dmarc.<destination host>),
 * applies the rate limits RFC 9991 section 3 requires (per destination
 * and global, fixed one-hour windows) and pipes the report to the
 * configured sendmail command: fork and execv, never a shell.
 * Left out: retries (a report that cannot be handed over is logged and
 * dropped) and draining the queue at shutdown.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/mem.h"
#include "dns/answer.h"
#include "failure_sender.h"
#include "report/failure.h"

#define MAX_ARGS	16
#define RATE_SLOTS	256		/* destinations remembered per hour */
#define SEND_TIMEOUT_MS	60000		/* sendmail gets this long */
#define DNS_WAIT_MS	5000

struct job {
	char	*to;			/* one address */
	char	*policy_domain;		/* for the external check */
	char	*org_domain;		/* internal if "to" is under it */
	char	*text;			/* the whole report */
	char	*sendmail;
	long	 per_dest, per_hour;
	char	 queue_id[32];
};

struct rate_slot {
	char	 dest[321];
	time_t	 window;
	long	 count;
};

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static struct job *queue[FAILURE_SENDER_QUEUE];
static size_t q_head, q_len;
static bool q_started, q_failed;
static struct dns_resolver *q_res;
static unsigned long q_unique;

/* Sender thread only. */
static struct rate_slot rates[RATE_SLOTS];
static time_t global_window;
static long global_count;

static void
job_free(struct job *j)
{
	if (j == NULL)
		return;
	mem_free(j->to);
	mem_free(j->policy_domain);
	mem_free(j->org_domain);
	mem_free(j->text);
	mem_free(j->sendmail);
	mem_free(j);
}

/* Is host d equal to or under domain base (case-blind)? */
static bool
domain_under(const char *d, const char *base)
{
	size_t nd = strlen(d), nb = strlen(base);

	if (nb == 0 || nd < nb || strcasecmp(d + nd - nb, base) != 0)
		return false;
	return nd == nb || d[nd - nb - 1] == '.';
}

/*
 * RFC 9990 section 4 with ruf for rua: an address outside the policy
 * domain's organization must be authorised by a TXT record starting with
 * "v=DMARC1" at <policy domain>._report._dmarc.<host>.
 */
static bool
dest_is_authorised(const struct job *j, const char **why)
{
	const char *host = strrchr(j->to, '@');
	struct dns_deadline dl;
	struct dns_answer ans;
	enum dns_status st;
	char name[600];
	bool ok = false;
	size_t i;

	if (host == NULL || *++host == '\0') {
		*why = "no domain";
		return false;
	}
	if (domain_under(host, j->org_domain) ||
	    domain_under(host, j->policy_domain))
		return true;
	if ((size_t)snprintf(name, sizeof(name), "%s._report._dmarc.%s",
	    j->policy_domain, host) >= sizeof(name)) {
		*why = "name too long";
		return false;
	}
	dns_deadline_in(&dl, DNS_WAIT_MS);
	st = dns_query_txt(q_res, name, &dl, &ans);
	for (i = 0; st == DNS_OK && i < ans.nrr && !ok; i++)
		ok = ans.rr[i].u.txt.data != NULL &&
		    strncasecmp(ans.rr[i].u.txt.data, "v=DMARC1", 8) == 0 &&
		    (ans.rr[i].u.txt.data[8] == '\0' ||
		    ans.rr[i].u.txt.data[8] == ';' ||
		    ans.rr[i].u.txt.data[8] == ' ');
	dns_answer_clear(&ans);
	if (!ok)
		*why = "external destination not authorised";
	return ok;
}

/* Take one from both budgets, or say which is spent. */
static bool
rate_take(const struct job *j, time_t now, const char **why)
{
	time_t win = now - now % 3600;
	struct rate_slot *s = NULL, *oldest = &rates[0];
	size_t i;

	if (global_window != win) {
		global_window = win;
		global_count = 0;
	}
	if (global_count >= j->per_hour) {
		*why = "FailureReportsPerHour reached";
		return false;
	}
	for (i = 0; i < RATE_SLOTS && s == NULL; i++) {
		if (rates[i].window == win &&
		    strcasecmp(rates[i].dest, j->to) == 0)
			s = &rates[i];
		else if (rates[i].window < oldest->window)
			oldest = &rates[i];
	}
	if (s == NULL) {
		/* A slot from an earlier hour, or (table full) the first:
		 * forgetting a destination this hour only loosens its cap. */
		s = oldest;
		snprintf(s->dest, sizeof(s->dest), "%s", j->to);
		s->window = win;
		s->count = 0;
	}
	if (s->count >= j->per_dest) {
		*why = "FailureReportsPerDestination reached";
		return false;
	}
	s->count++;
	global_count++;
	return true;
}

/* Split cmd on blanks into argv (in place); NULL-terminated. */
static size_t
split_args(char *cmd, char *argv[MAX_ARGS + 1])
{
	size_t n = 0;
	char *p;

	for (p = strtok(cmd, " \t"); p != NULL && n < MAX_ARGS;
	    p = strtok(NULL, " \t"))
		argv[n++] = p;
	argv[n] = NULL;
	return n;
}

/* Pipe text to the sendmail command; 0 on exit status 0. */
static int
run_sendmail(const struct job *j, const char **why)
{
	char *cmd = NULL, *argv[MAX_ARGS + 1];
	const char *p;
	size_t left;
	sigset_t none;
	int sv[2] = { -1, -1 }, status, waited;
	pid_t pid;
	ssize_t w;

	*why = "cannot run FailureReportSendmail";
	if ((cmd = mem_strdup(j->sendmail)) == NULL ||
	    split_args(cmd, argv) == 0 || argv[0][0] != '/')
		goto fail;
	/* A socket, so a sendmail that dies gives EPIPE, not SIGPIPE. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		goto fail;
	sigemptyset(&none);
	if ((pid = fork()) < 0)
		goto fail;
	if (pid == 0) {
		/* Only async-signal-safe calls until execv. */
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(sv[1], 0) < 0)
			_exit(127);
		close(sv[0]);
		close(sv[1]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(sv[1]);
	sv[1] = -1;
	shutdown(sv[0], SHUT_RD);
	for (p = j->text, left = strlen(p); left > 0; p += w, left -= (size_t)w)
		if ((w = send(sv[0], p, left, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR) {
				w = 0;
				continue;
			}
			break;
		}
	close(sv[0]);
	sv[0] = -1;
	for (waited = 0; (w = waitpid(pid, &status, WNOHANG)) == 0 &&
	    waited < SEND_TIMEOUT_MS; waited += 100)
		usleep(100 * 1000);
	if (w == 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		*why = "FailureReportSendmail timed out";
		goto fail;
	}
	if (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    left > 0) {
		*why = "FailureReportSendmail failed";
		goto fail;
	}
	mem_free(cmd);
	return 0;
fail:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	mem_free(cmd);
	return -1;
}

static void
job_run(struct job *j)
{
	const char *why = NULL;
	const char *q = j->queue_id[0] != '\0' ? j->queue_id : "NOQUEUE";

	if (!dest_is_authorised(j, &why) || !rate_take(j, time(NULL), &why) ||
	    run_sendmail(j, &why) != 0) {
		log_msg(LOG_NOTICE, "%s: failure report to %s for %s not sent: "
		    "%s", q, j->to, j->policy_domain, why);
		return;
	}
	log_msg(LOG_INFO, "%s: failure report sent to %s for %s", q, j->to,
	    j->policy_domain);
}

static void *
sender_thread(void *arg)
{
	struct job *j;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&q_lock);
		while (q_len == 0)
			pthread_cond_wait(&q_cond, &q_lock);
		j = queue[q_head];
		q_head = (q_head + 1) % FAILURE_SENDER_QUEUE;
		q_len--;
		pthread_mutex_unlock(&q_lock);
		job_run(j);
		job_free(j);
	}
	return NULL;
}

/* Queue j (taken over); false if full or the thread cannot start. */
static bool
enqueue(struct job *j, struct dns_resolver *res)
{
	pthread_t th;
	bool ok = false;

	pthread_mutex_lock(&q_lock);
	if (!q_started && !q_failed) {
		q_res = res;
		if (pthread_create(&th, NULL, sender_thread, NULL) == 0) {
			pthread_detach(th);
			q_started = true;
		} else
			q_failed = true;
	}
	if (q_started && q_len < FAILURE_SENDER_QUEUE) {
		queue[(q_head + q_len) % FAILURE_SENDER_QUEUE] = j;
		q_len++;
		ok = true;
		pthread_cond_signal(&q_cond);
	}
	pthread_mutex_unlock(&q_lock);
	return ok;
}

static const char *
delivery_result(const struct milter_action *a)
{
	/* RFC 6591 section 3.2 Delivery-Result values. */
	switch (a->kind) {
	case ACTION_ACCEPT:
		return "delivered";
	case ACTION_QUARANTINE:
		return "spam";
	case ACTION_REJECT:
		return "reject";
	case ACTION_TEMPFAIL:
		break;
	}
	return "other";
}

static unsigned long
next_unique(void)
{
	unsigned long u;

	pthread_mutex_lock(&q_lock);
	u = ++q_unique;
	pthread_mutex_unlock(&q_lock);
	return u ^ ((unsigned long)getpid() << 20);
}

/* One report for r to address to. */
static void
submit_one(const struct milter_settings *s, struct dns_resolver *res,
    const struct evaluate_result *r, const struct failure_facts *ff,
    const char *to, const char *q)
{
	struct failure_envelope env;
	struct strbuf text = STRBUF_INIT;
	enum failure_status st;
	struct job *j;

	memset(&env, 0, sizeof(env));
	env.from = s->report_from;
	env.to = to;
	env.authserv_id = s->authserv_id;
	env.now = time(NULL);
	env.unique = next_unique();
	if ((st = failure_build(r, ff, &env, &text)) != FAILURE_OK) {
		log_msg(LOG_WARNING, "%s: failure report for %s: %s", q,
		    r->header_from, failure_strerror(st));
		strbuf_release(&text);
		return;
	}
	if ((j = mem_calloc(1, sizeof(*j))) == NULL ||
	    (j->to = mem_strdup(to)) == NULL ||
	    (j->policy_domain = mem_strdup(r->policy_domain != NULL ?
	    r->policy_domain : r->header_from)) == NULL ||
	    (j->org_domain = mem_strdup(r->org_domain != NULL ?
	    r->org_domain : j->policy_domain)) == NULL ||
	    (j->sendmail = mem_strdup(s->fr_sendmail)) == NULL ||
	    (j->text = strbuf_steal(&text)) == NULL) {
		log_msg(LOG_WARNING, "%s: failure report: out of memory", q);
		goto fail;
	}
	snprintf(j->queue_id, sizeof(j->queue_id), "%s", q);
	j->per_dest = s->fr_per_dest;
	j->per_hour = s->fr_per_hour;
	if (!enqueue(j, res)) {
		log_msg(LOG_NOTICE, "%s: failure report to %s dropped: queue "
		    "full", q, to);
		goto fail;
	}
	return;
fail:
	job_free(j);
	strbuf_release(&text);
}

void
failure_sender_submit(const struct milter_settings *s,
    struct dns_resolver *res, const struct verdict *vd,
    const struct milter_action *a, const struct failure_origin *o)
{
	const char *q = o->queue_id != NULL ? o->queue_id : "NOQUEUE";
	struct failure_facts ff;
	char ip[ADDR_STRLEN], *addrs[FAILURE_MAX_RCPTS];
	size_t i, k, n;

	if (!s->fr_enabled || vd->skipped)
		return;
	memset(&ff, 0, sizeof(ff));
	ff.queue_id = o->queue_id;
	ff.mail_from = o->facts->mail_from;
	ff.arrival = o->received;
	if (o->facts->have_ip)
		ff.source_ip = addr_format(&o->facts->client_ip, ip,
		    sizeof(ip));
	ff.authres = vd->authres;
	ff.delivery_result = delivery_result(a);
	ff.headers = o->headers;
	ff.redact = (enum failure_redact)s->fr_redact;
	for (i = 0; i < vd->nauthors; i++) {
		const struct evaluate_result *r = vd->authors[i].eval;

		if (r == NULL || !failure_is_due(r))
			continue;
		/* No report about a report: that way lies a loop. */
		if (failure_is_report(o->headers)) {
			log_msg(LOG_INFO, "%s: no failure report about a "
			    "failure report", q);
			return;
		}
		n = failure_ruf_addresses(failure_ruf(r), addrs,
		    FAILURE_MAX_RCPTS);
		for (k = 0; k < n; k++) {
			submit_one(s, res, r, &ff, addrs[k], q);
			mem_free(addrs[k]);
		}
	}
}
