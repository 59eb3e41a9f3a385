/*
 * app.js - the dmarcd dashboard: glue between the JSON API of
 * `dmarcctl serve` (doc/dmarcctl.8, "serve") and index.html.
 *
 * Login: the API token is kept in sessionStorage (this tab only) and sent
 * as "Authorization: Bearer"; any 401 drops it and returns to the login
 * form with the server's message.  For the chosen domain and period it
 * shows the summary metrics, the readiness hint, the policy applied, the
 * daily pass rate (chart.js, plus the same figures as a table), the
 * sources (sorted by the server), the failures, the alerts and the
 * reports.  Every piece of data reaches the page as a Text node (el()
 * below): nothing from the server is ever parsed as HTML.
 *
 * Plain ES2020, no framework, no build step.  body[data-state] is
 * "loading", "ready" or "error" and body[data-generation] counts loads,
 * so that a user (or the browser test) can tell when figures are current.
 */
'use strict';

const TOKEN_KEY = 'dmarcd.token';
const PER_PAGE = 50;		/* sources */
const PER_PAGE_DETAIL = 20;	/* failures, reports: long rows */
const DAY_MS = 86400000;

const state = {
	domain: '', from: '', to: '',
	sort: 'messages', order: 'desc',	/* sources table */
	page: { sources: 1, failures: 1, reports: 1 },
	generation: 0,			/* drops answers to superseded loads */
	chart: null,
};

const $ = (id) => document.getElementById(id);

/* A 401 from the API: the token is unknown, revoked or missing. */
class AuthError extends Error {}

/*
 * el(tag, attrs, ...children): a new element.  String children become
 * Text nodes (Element.append), so markup in the data stays text.
 */
function el(tag, attrs, ...children) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false)
			continue;
		if (k === 'class')
			e.className = v;
		else
			e.setAttribute(k, v === true ? '' : String(v));
	}
	for (const c of children.flat()) {
		if (c !== undefined && c !== null)
			e.append(c instanceof Node ? c : String(c));
	}
	return e;
}

/* Number formatting: counts with separators, rates ([0,1]) as percent. */
const intFmt = new Intl.NumberFormat('en-US');
function fmtInt(n) {
	return Number.isFinite(n) ? intFmt.format(n) : '-';
}
function fmtRate(x) {
	return Number.isFinite(x) ? (x * 100).toFixed(1) + '%' : '-';
}
/* "2026-11-25T00:00:00Z" -> "2026-11-25 00:00 UTC". */
function fmtTime(s) {
	if (typeof s !== 'string' || s === '')
		return '-';
	return s.replace('T', ' ').replace(/(:\d\d)?Z$/, ' UTC');
}
function orDash(s) {
	return s === undefined || s === null || s === '' ? '-' : s;
}
function isoDay(d) {
	return d.toISOString().slice(0, 10);
}

/*
 * api(path, params): GET an API path with the token; the parsed JSON.
 * Throws AuthError on 401, Error naming the path and the server's
 * message on any other failure.
 */
async function api(path, params) {
	const url = new URL(path, location.origin);
	for (const [k, v] of Object.entries(params || {})) {
		if (v !== '' && v !== null && v !== undefined)
			url.searchParams.set(k, String(v));
	}
	const token = sessionStorage.getItem(TOKEN_KEY) || '';
	const res = await fetch(url, {
		headers: { Authorization: 'Bearer ' + token,
		    Accept: 'application/json' },
		cache: 'no-store',
	});
	let body = null;
	try {
		body = await res.json();
	} catch (e) {
		body = null;	/* not JSON: report the status alone */
	}
	const why = body && typeof body.error === 'string' ? body.error : '';
	if (res.status === 401)
		throw new AuthError(why || 'unauthorized');
	if (!res.ok)
		throw new Error(`${url.pathname}: HTTP ${res.status}` +
		    (why ? `: ${why}` : ''));
	return body;
}

function setStatus(text, kind) {
	const s = $('status');
	s.textContent = text;
	s.className = kind || '';
	document.body.dataset.state = kind === 'error' ? 'error' :
	    kind === 'loading' ? 'loading' : 'ready';
}

/* Back to the login form, the token forgotten; message shown if any. */
function logout(message) {
	sessionStorage.removeItem(TOKEN_KEY);
	state.generation++;
	$('app').hidden = true;
	$('logout').hidden = true;
	$('login').hidden = false;
	const err = $('login-error');
	err.textContent = message || '';
	err.hidden = !message;
	document.body.dataset.state = message ? 'error' : 'login';
	$('token').focus();
}

function fail(e) {
	if (e instanceof AuthError)
		logout(`The server refused the token (401): ${e.message}`);
	else
		setStatus(`Error: ${e.message}`, 'error');
}

/* The token is checked by asking for the domain list. */
async function start() {
	try {
		const d = await api('/api/v1/domains');
		showApp(Array.isArray(d.domains) ? d.domains : []);
	} catch (e) {
		/* The dashboard is not shown yet: every error goes to the
		 * login form.  fetch() throws TypeError when the server is
		 * unreachable or the token cannot be a header value. */
		if (e instanceof AuthError)
			fail(e);
		else if (e instanceof TypeError)
			logout(`Cannot reach the server or send this token: ${e.message}`);
		else
			logout(`Cannot load the domain list: ${e.message}`);
	}
}

function showApp(domains) {
	$('login').hidden = true;
	$('login-error').hidden = true;
	$('app').hidden = false;
	$('logout').hidden = false;
	const sel = $('domain');
	sel.replaceChildren(...domains.map((d) => el('option', { value: d }, d)));
	/* A bookmarked #domain=...&from=...&to=... wins over the defaults. */
	const h = new URLSearchParams(location.hash.slice(1));
	if (domains.includes(h.get('domain')))
		sel.value = h.get('domain');
	if (/^\d{4}-\d{2}-\d{2}$/.test(h.get('from') || '') &&
	    /^\d{4}-\d{2}-\d{2}$/.test(h.get('to') || '')) {
		$('from').value = h.get('from');
		$('to').value = h.get('to');
		setPreset(0);
	} else {
		setPreset(30);
	}
	sel.focus();
	if (domains.length === 0) {
		setStatus('No domain in this token\'s scope has reports yet.');
		return;
	}
	load();
}

/* Last N days ending today (UTC), as the API's default period; the
 * preset's button shows as pressed (0: none, dates typed by hand). */
function setPreset(days) {
	if (days > 0) {
		const today = new Date();
		$('to').value = isoDay(today);
		$('from').value = isoDay(new Date(today.getTime() - (days - 1) * DAY_MS));
	}
	for (const b of document.querySelectorAll('.preset'))
		b.setAttribute('aria-pressed', String(Number(b.dataset.days) === days));
}

/* Everything for the chosen domain and period, from page 1. */
function load() {
	state.domain = $('domain').value;
	state.from = $('from').value;
	state.to = $('to').value;
	if (!state.domain)
		return;
	if (state.from && state.to && state.from > state.to) {
		setStatus(`The period is empty: "From" (${state.from}) is after "To" (${state.to}).`, 'error');
		return;
	}
	state.page = { sources: 1, failures: 1, reports: 1 };
	history.replaceState(null, '', '#' + new URLSearchParams({
	    domain: state.domain, from: state.from, to: state.to }));
	run([loadSummary, loadSources, loadFailures, loadAlerts, loadReports]);
}

/*
 * run(loaders): call each loader(generation) in parallel; the status says
 * when all are done.  A later run() makes earlier answers stale.
 */
async function run(loaders) {
	const gen = ++state.generation;
	document.body.dataset.generation = String(gen);
	setStatus(`Loading ${state.domain}...`, 'loading');
	try {
		await Promise.all(loaders.map((f) => f(gen)));
		if (gen === state.generation)
			setStatus(`${state.domain}, ${state.from} to ${state.to} (UTC days).`);
	} catch (e) {
		if (gen === state.generation)
			fail(e);
	}
}

const period = () => ({ from: state.from, to: state.to });
const domainPath = (what) => '/api/exchange/dmarc-reports/' +
    encodeURIComponent(state.domain) + '/' + what;

/* Rows for a tbody; a single "nothing" row when there are none. */
function fillBody(table, rows, empty) {
	const tbody = table.tBodies[0];
	const ncol = table.tHead.rows[0].cells.length;
	tbody.replaceChildren(...(rows.length ? rows :
	    [el('tr', { class: 'empty' }, el('td', { colspan: ncol }, empty))]));
}

/* Pager: "Page X of Y" with previous/next buttons calling go(page). */
function pager(nav, answer, go) {
	const pages = Math.max(1, Math.ceil(answer.total / answer.per_page));
	if (pages <= 1) {
		nav.replaceChildren();
		return;
	}
	const prev = el('button', { type: 'button', disabled: answer.page <= 1 }, 'Previous');
	const next = el('button', { type: 'button', disabled: answer.page >= pages }, 'Next');
	prev.addEventListener('click', () => go(answer.page - 1));
	next.addEventListener('click', () => go(answer.page + 1));
	nav.replaceChildren(prev,
	    el('span', {}, ` Page ${answer.page} of ${pages} (${fmtInt(answer.total)} in all) `),
	    next);
}

/* ---- summary: metrics, readiness, policy applied, daily series ---- */

/* The verdict as a sentence; the server's message says why. */
const VERDICTS = {
	ready_for_reject: 'Yes: ready for p=reject.',
	ready_for_quarantine: 'Not yet: move to p=quarantine first.',
	enforcing: 'p=reject is already published.',
	monitoring: 'Not yet: keep monitoring.',
	not_ready: 'Not yet.',
};

async function loadSummary(gen) {
	const s = await api(domainPath('summary'), period());
	if (gen !== state.generation)
		return;
	$('m-reports').textContent = fmtInt(s.reports);
	$('m-sources').textContent = fmtInt(s.sources);
	$('m-messages').textContent = fmtInt(s.messages);
	$('m-pass-rate').textContent = fmtRate(s.pass_rate);
	$('m-fail-rate').textContent = fmtRate(s.fail_rate);
	$('m-spf').textContent = fmtRate(s.spf_aligned_rate);
	$('m-dkim').textContent = fmtRate(s.dkim_aligned_rate);
	showReadiness(s.readiness || {});
	showPolicy(s.policy_applied || {}, s.messages);
	showDaily(Array.isArray(s.daily) ? s.daily : []);
}

function showReadiness(r) {
	const v = $('readiness-verdict');
	v.textContent = VERDICTS[r.verdict] || orDash(r.verdict);
	v.dataset.verdict = r.verdict || '';
	$('readiness-message').textContent = r.message || '';
	const blocking = Array.isArray(r.blocking_sources) ? r.blocking_sources : [];
	const box = $('readiness-blocking');
	if (blocking.length === 0) {
		box.replaceChildren();
		return;
	}
	box.replaceChildren(el('table', {},
	    el('caption', {}, 'Sources still failing DMARC'),
	    el('thead', {}, el('tr', {},
		el('th', { scope: 'col' }, 'Source IP'),
		el('th', { scope: 'col' }, 'Reverse DNS'),
		el('th', { scope: 'col', class: 'num' }, 'Messages'),
		el('th', { scope: 'col', class: 'num' }, 'Fail'))),
	    el('tbody', {}, blocking.map((b) => el('tr', {},
		el('td', {}, orDash(b.source_ip)), el('td', {}, orDash(b.ptr)),
		el('td', { class: 'num' }, fmtInt(b.messages)),
		el('td', { class: 'num' }, fmtInt(b.fail)))))));
}

function showPolicy(p, messages) {
	const rows = ['none', 'quarantine', 'reject'].map((d) => {
		const n = Number.isFinite(p[d]) ? p[d] : 0;
		const share = messages > 0 ? ` (${fmtRate(n / messages)})` : '';
		return el('tr', {}, el('th', { scope: 'row' }, d),
		    el('td', { class: 'num' }, fmtInt(n) + share));
	});
	fillBody($('policy-table'), rows, '');
}

function showDaily(daily) {
	fillBody($('daily-table'), daily.map((d) => el('tr', {},
	    el('th', { scope: 'row' }, d.date),
	    el('td', { class: 'num' }, fmtInt(d.messages)),
	    el('td', { class: 'num' }, fmtInt(d.pass)),
	    el('td', { class: 'num' }, fmtInt(d.fail)),
	    el('td', { class: 'num' }, d.messages > 0 ? fmtRate(d.pass_rate) : '-'))),
	    'No reports in this period.');
	/* chart.js draws on a canvas: labels are never parsed as HTML. */
	if (typeof window.Chart !== 'function') {
		$('chart').hidden = true;
		$('chart-missing').hidden = false;
		return;
	}
	const data = daily.map((d) => d.messages > 0 ?
	    Math.round(d.pass_rate * 1000) / 10 : null);
	if (state.chart)
		state.chart.destroy();
	state.chart = new window.Chart($('chart'), {
		type: 'line',
		data: {
			labels: daily.map((d) => d.date),
			datasets: [{ label: 'Pass rate (%)', data,
			    borderColor: '#1d4f91', backgroundColor: '#1d4f91',
			    pointStyle: 'rectRot', pointRadius: 4, spanGaps: false }],
		},
		options: {
			animation: false, responsive: true, maintainAspectRatio: false,
			scales: { y: { min: 0, max: 100,
			    title: { display: true, text: 'pass rate (%)' } } },
			plugins: { legend: { display: false } },
		},
	});
}

/* ---- sources: server-side sorting and paging ---- */

async function loadSources(gen) {
	const a = await api(domainPath('sources'), { ...period(),
	    sort: state.sort, order: state.order,
	    page: state.page.sources, per_page: PER_PAGE });
	if (gen !== state.generation)
		return;
	const list = Array.isArray(a.sources) ? a.sources : [];
	fillBody($('sources-table'), list.map((s) => el('tr', {},
	    el('th', { scope: 'row' }, orDash(s.source_ip)),
	    el('td', {}, orDash(s.ptr),
		s.ptr_org ? el('div', { class: 'sub' }, s.ptr_org) : null),
	    el('td', { class: 'num' }, fmtInt(s.messages)),
	    el('td', { class: 'num' }, fmtInt(s.pass)),
	    el('td', { class: 'num' }, fmtInt(s.fail)),
	    el('td', { class: 'num' }, fmtRate(s.pass_rate)),
	    authCell(s.spf, s.spf_domains), authCell(s.dkim, s.dkim_domains),
	    el('td', {}, (s.orgs || []).map((o) => o || '(no org_name)').join(', ')),
	    dayCell(s.first_seen), dayCell(s.last_seen))),
	    'No sending source in this period.');
	pager($('sources-pager'), a, (p) => {
		state.page.sources = p;
		run([loadSources]);
	});
}

/* A timestamp's day, the full time in the tooltip. */
function dayCell(ts) {
	return el('td', { class: 'day', title: fmtTime(ts) },
	    typeof ts === 'string' ? ts.slice(0, 10) : '-');
}

/* "pass/fail" counts, then the domains that authenticated. */
function authCell(counts, domains) {
	const c = counts || {};
	return el('td', {}, `${fmtInt(c.pass)} / ${fmtInt(c.fail)}`,
	    domains && domains.length ?
		el('div', { class: 'sub' }, domains.join(', ')) : null);
}

/* Column headings with data-sort become buttons; aria-sort tells the order. */
function setupSorting() {
	for (const th of document.querySelectorAll('#sources-table th[data-sort]')) {
		const b = el('button', { type: 'button', class: 'sort' },
		    th.textContent, el('span', { class: 'arrow', 'aria-hidden': 'true' }));
		th.replaceChildren(b);
		b.addEventListener('click', () => {
			const key = th.dataset.sort;
			if (state.sort === key) {
				state.order = state.order === 'desc' ? 'asc' : 'desc';
			} else {
				state.sort = key;
				/* IPs read best A-Z; counts and rates biggest first. */
				state.order = key === 'source_ip' ? 'asc' : 'desc';
			}
			state.page.sources = 1;
			showSortOrder();
			run([loadSources]);
		});
	}
	showSortOrder();
}

function showSortOrder() {
	for (const th of document.querySelectorAll('#sources-table th[data-sort]')) {
		const on = th.dataset.sort === state.sort;
		if (on)
			th.setAttribute('aria-sort', state.order === 'asc' ? 'ascending' : 'descending');
		else
			th.removeAttribute('aria-sort');
		th.querySelector('.arrow').textContent = on ?
		    (state.order === 'asc' ? ' \u25b2' : ' \u25bc') : '';
	}
}

/* ---- failures: failing aggregate records and failure reports ---- */

async function loadFailures(gen) {
	const a = await api(domainPath('failures'), { ...period(),
	    page: state.page.failures, per_page: PER_PAGE_DETAIL });
	if (gen !== state.generation)
		return;
	const recs = Array.isArray(a.records) ? a.records : [];
	fillBody($('failures-table'), recs.map((r) => el('tr', {},
	    el('th', { scope: 'row' }, orDash(r.source_ip)),
	    el('td', {}, orDash(r.ptr)),
	    el('td', { class: 'num' }, fmtInt(r.messages)),
	    el('td', {}, orDash(r.disposition)),
	    el('td', {}, `From: ${orDash(r.header_from)}`,
		el('div', { class: 'sub' }, `Envelope: ${orDash(r.envelope_from)}`)),
	    el('td', {}, `DMARC SPF: ${orDash(r.eval_spf)}`,
		(r.spf || []).map((x) => el('div', { class: 'sub' },
		    `${orDash(x.domain)}: ${orDash(x.result)}` +
		    (x.scope ? ` (${x.scope})` : '')))),
	    el('td', {}, `DMARC DKIM: ${orDash(r.eval_dkim)}`,
		(r.dkim || []).map((x) => el('div', { class: 'sub' },
		    `${orDash(x.domain)}` + (x.selector ? ` s=${x.selector}` : '') +
		    `: ${orDash(x.result)}`))),
	    el('td', {}, (r.reasons || []).map((x) =>
		typeof x === 'string' ? x : [x.type, x.comment].filter(Boolean).join(': '))
		.join('; ') || '-'),
	    el('td', {}, orDash(r.org_name),
		el('div', { class: 'sub' }, `${orDash(r.report_id)}, ${fmtTime(r.begin)}`)))),
	    'No DMARC failure in this period.');
	pager($('failures-pager'), a, (p) => {
		state.page.failures = p;
		run([loadFailures]);
	});
	const fr = Array.isArray(a.failure_reports) ? a.failure_reports : [];
	fillBody($('forensic-table'), fr.map((f) => el('tr', {},
	    el('td', {}, fmtTime(f.arrival)),
	    el('td', {}, orDash(f.source_ip)),
	    el('td', {}, orDash(f.reporter)),
	    el('td', {}, orDash(f.auth_failure),
		f.identity_alignment ? el('div', { class: 'sub' },
		    `alignment: ${f.identity_alignment}`) : null),
	    el('td', {}, `From: ${orDash(f.header_from)}`,
		el('div', { class: 'sub' }, `Envelope: ${orDash(f.original_mail_from)}`)),
	    el('td', {}, orDash(f.dkim_domain) +
		(f.dkim_selector ? ` s=${f.dkim_selector}` : ''),
		f.spf_dns ? el('div', { class: 'sub' }, `SPF: ${f.spf_dns}`) : null),
	    el('td', {}, orDash(f.subject)),
	    el('td', {}, orDash(f.delivery_result)))),
	    'No failure report in this period.');
}

/* ---- alerts and reports ---- */

const ALERT_KINDS = {
	new_source: 'New sending source',
	pass_rate_drop: 'Pass-rate drop',
	dkim_failing: 'Source started failing DKIM',
};

async function loadAlerts(gen) {
	const a = await api(domainPath('alerts'), { per_page: PER_PAGE });
	if (gen !== state.generation)
		return;
	const list = Array.isArray(a.alerts) ? a.alerts : [];
	const items = list.map((x) => el('li', {},
	    el('strong', {}, ALERT_KINDS[x.kind] || orDash(x.kind)), ': ',
	    orDash(x.subject), ` (${fmtTime(x.created)})`,
	    x.detail && typeof x.detail === 'object' ?
		el('div', { class: 'sub' }, Object.entries(x.detail).map(([k, v]) =>
		    `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('; ')) :
		null));
	$('alerts-list').replaceChildren(...(items.length ? items :
	    [el('li', { class: 'empty' }, 'No alert for this domain.')]));
}

async function loadReports(gen) {
	const a = await api('/api/exchange/dmarc-reports', { ...period(),
	    domain: state.domain, page: state.page.reports,
	    per_page: PER_PAGE_DETAIL });
	if (gen !== state.generation)
		return;
	const list = Array.isArray(a.reports) ? a.reports : [];
	fillBody($('reports-table'), list.map((r) => {
		const p = r.policy || {};
		return el('tr', {},
		    el('th', { scope: 'row' }, orDash(r.org_name)),
		    el('td', {}, orDash(r.report_id)),
		    el('td', {}, fmtTime(r.begin)),
		    el('td', {}, `p=${orDash(p.p)}` + (p.sp ? ` sp=${p.sp}` : '') +
			(Number.isFinite(p.pct) && p.pct >= 0 ? ` pct=${p.pct}` : '')),
		    el('td', { class: 'num' }, fmtInt(r.messages)),
		    el('td', { class: 'num' }, fmtInt(r.pass)),
		    el('td', { class: 'num' }, fmtInt(r.fail)));
	}), 'No report in this period.');
	pager($('reports-pager'), a, (p) => {
		state.page.reports = p;
		run([loadReports]);
	});
}

/* ---- wiring ---- */

document.addEventListener('DOMContentLoaded', () => {
	$('login-form').addEventListener('submit', (ev) => {
		ev.preventDefault();
		const t = $('token').value.trim();
		$('token').value = '';
		if (t === '')
			return;
		sessionStorage.setItem(TOKEN_KEY, t);
		start();
	});
	$('logout').addEventListener('click', () => logout(''));
	$('controls').addEventListener('submit', (ev) => {
		ev.preventDefault();
		load();
	});
	$('domain').addEventListener('change', load);
	for (const id of ['from', 'to'])
		$(id).addEventListener('input', () => setPreset(0));
	for (const b of document.querySelectorAll('.preset')) {
		b.addEventListener('click', () => {
			setPreset(Number(b.dataset.days));
			load();
		});
	}
	setupSorting();
	if (sessionStorage.getItem(TOKEN_KEY))
		start();
	else
		logout('');
});
