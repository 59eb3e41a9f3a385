/*
 * drive.js - the browser half of tests/web/test_dashboard.sh.
 *
 *   node drive.js SCENARIO.json
 *
 * Starts Chromium headless and speaks the DevTools protocol to it over
 * a pipe (--remote-debugging-pipe: NUL-terminated JSON messages, Chromium
 * reads fd 3 and writes fd 4), so it needs nothing but Node's standard
 * library: no WebSocket client, no npm package.  It logs in to the
 * dashboard with a wrong then the right token, picks the domain and the
 * period, reads what the page shows and compares it with the figures the
 * shell computed from the database with sqlite3, sorts the sources
 * table, checks that markup in the data stayed text, saves a screenshot,
 * and checks that a 401 in the middle of a session returns to the login.
 *
 * Output: one line per check, "ok - NAME" or "not ok - NAME" plus "#"
 * lines; test_dashboard.sh numbers them as TAP.  Waits are bounded by a
 * hang guard (WAIT_MS), never asserted on.
 */
'use strict';

const fs = require('fs');
const { spawn } = require('child_process');

const sc = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const WAIT_MS = 60000;
let failed = 0;

function check(ok, name, detail) {
	console.log(`${ok ? 'ok' : 'not ok'} - ${name}`);
	if (!ok) {
		failed++;
		if (detail !== undefined)
			console.log(String(detail).split('\n').map((l) => `#   ${l}`).join('\n'));
	}
	return ok;
}
function same(got, want, name) {
	const g = JSON.stringify(got), w = JSON.stringify(want);
	return check(g === w, name, `got:  ${g}\nwant: ${w}`);
}

/* ---- the DevTools protocol over a pipe ---- */

/*
 * --no-sandbox only as root: Chromium's sandbox refuses to run as root
 * (it would need a setuid helper or user namespaces that CI containers
 * lack).  The page loads only our loopback server and the profile is
 * fresh and private, so the missing sandbox exposes nothing else.
 */
const args = ['--headless=new', '--remote-debugging-pipe', '--disable-gpu',
	'--no-first-run', '--no-default-browser-check', '--disable-extensions',
	'--disable-background-networking', '--disable-sync', '--mute-audio',
	'--disable-dev-shm-usage', `--user-data-dir=${sc.profile}`,
	'--window-size=1280,900', 'about:blank'];
if (process.getuid && process.getuid() === 0)
	args.unshift('--no-sandbox');
const log = fs.openSync(sc.chromium_log, 'w');
const browser = spawn(sc.chromium, args,
    { stdio: ['ignore', log, log, 'pipe', 'pipe'] });
const toBrowser = browser.stdio[3], fromBrowser = browser.stdio[4];

let nextId = 0, inbuf = Buffer.alloc(0);
const pending = new Map(), exceptions = [];
fromBrowser.on('data', (chunk) => {
	inbuf = Buffer.concat([inbuf, chunk]);
	let nul;
	while ((nul = inbuf.indexOf(0)) >= 0) {
		const msg = JSON.parse(inbuf.subarray(0, nul).toString('utf8'));
		inbuf = inbuf.subarray(nul + 1);
		if (msg.id !== undefined && pending.has(msg.id)) {
			const p = pending.get(msg.id);
			pending.delete(msg.id);
			if (msg.error)
				p.reject(new Error(`${p.method}: ${msg.error.message}`));
			else
				p.resolve(msg.result);
		} else if (msg.method === 'Runtime.exceptionThrown') {
			const d = msg.params.exceptionDetails;
			exceptions.push((d.exception && d.exception.description) || d.text);
		}
	}
});
browser.on('exit', (code, sig) => {
	for (const p of pending.values())
		p.reject(new Error(`chromium exited (${code}, ${sig}); see ${sc.chromium_log}`));
	pending.clear();
});

function send(method, params, sessionId) {
	return new Promise((resolve, reject) => {
		const msg = { id: ++nextId, method, params: params || {} };
		if (sessionId)
			msg.sessionId = sessionId;
		pending.set(msg.id, { resolve, reject, method });
		toBrowser.write(JSON.stringify(msg) + '\0');
	});
}

let session = '';
const page = (method, params) => send(method, params, session);

/* The value of a JS expression in the page (promises awaited). */
async function evaluate(expr) {
	const r = await page('Runtime.evaluate',
	    { expression: expr, returnByValue: true, awaitPromise: true });
	if (r.exceptionDetails)
		throw new Error(`in page: ${expr}: ${(r.exceptionDetails.exception &&
		    r.exceptionDetails.exception.description) || r.exceptionDetails.text}`);
	return r.result.value;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* Poll until expr is truthy; the limit only guards against a hang. */
async function waitFor(expr, what) {
	const giveUp = Date.now() + WAIT_MS;
	for (;;) {
		const v = await evaluate(expr);
		if (v)
			return v;
		if (Date.now() > giveUp)
			throw new Error(`gave up waiting for ${what}`);
		await sleep(100);
	}
}

/* A real mouse click in the middle of the element. */
async function click(selector) {
	const box = await evaluate(`(() => {
		const e = document.querySelector(${JSON.stringify(selector)});
		if (!e) return null;
		e.scrollIntoView({ block: 'center' });
		const r = e.getBoundingClientRect();
		return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
	})()`);
	if (!box)
		throw new Error(`no element ${selector} to click`);
	for (const type of ['mousePressed', 'mouseReleased'])
		await page('Input.dispatchMouseEvent',
		    { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
}

/* Typed text, as keyboard input into the element. */
async function type(selector, text) {
	await click(selector);
	await page('Input.insertText', { text });
}

/* Wait until a load started after generation `before` has finished. */
async function settled(before) {
	await waitFor(`Number(document.body.dataset.generation || 0) > ${before} &&
	    document.body.dataset.state !== 'loading'`, 'the dashboard to load');
	const st = await evaluate('document.body.dataset.state');
	if (st !== 'ready')
		check(false, 'dashboard loaded without error',
		    await evaluate('document.getElementById("status").textContent'));
}
const generation = () => evaluate('Number(document.body.dataset.generation || 0)');

const num = (s) => Number(String(s).replace(/,/g, ''));
const pct = (s) => Number(String(s).replace(/%$/, ''));
const visible = (id) => evaluate(`!document.getElementById(${JSON.stringify(id)}).hidden`);

/* Rows of the sources table: [ip, messages, pass, fail]. */
const sourceRows = () => evaluate(`[...document.querySelectorAll(
    '#sources-table tbody tr:not(.empty)')].map((tr) => [tr.cells[0].textContent,
    tr.cells[2].textContent, tr.cells[3].textContent, tr.cells[4].textContent])`)
	.then((rows) => rows.map(([ip, m, p, f]) => [ip, num(m), num(p), num(f)]));

async function sortBy(key) {
	const before = await generation();
	await click(`#sources-table th[data-sort="${key}"] button`);
	await settled(before);
	return evaluate(`document.querySelector('#sources-table th[data-sort="${key}"]')
	    .getAttribute('aria-sort')`);
}

/* ---- the scenario ---- */

async function scenario() {
	const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
	({ sessionId: session } = await send('Target.attachToTarget',
	    { targetId, flatten: true }));
	await page('Runtime.enable');
	await page('Page.enable');
	await page('Emulation.setDeviceMetricsOverride',
	    { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false });
	await page('Page.navigate', { url: sc.url });
	await waitFor(`document.readyState === 'complete' &&
	    document.body.dataset.state === 'login'`, 'the login form');
	check(await visible('login') && !await visible('app'),
	    'without a token the dashboard shows the login form');

	/* A wrong token: the login error, nothing kept. */
	await type('#token', sc.bad_token);
	await click('#login-submit');
	await waitFor('!document.getElementById("login-error").hidden', 'the login error');
	const err = await evaluate('document.getElementById("login-error").textContent');
	check(/401/.test(err) && !await visible('app'),
	    'a wrong token shows the login error (401)', err);
	check(await evaluate('sessionStorage.getItem("dmarcd.token")') === null,
	    'the refused token is not kept');

	/* The right token: the domain picker lists the token's domains. */
	let before = await generation();
	await type('#token', sc.token);
	await click('#login-submit');
	await waitFor('!document.getElementById("app").hidden', 'the dashboard after login');
	check(!await visible('login'), 'the right token opens the dashboard');
	const domains = await evaluate(`[...document.getElementById('domain').options]
	    .map((o) => o.value)`);
	same([...domains].sort(), sc.expect.domains, 'the domain picker lists the domains with data');
	if (domains.length)
		await settled(before);	/* the default period's load */

	/* The domain and the period covering the imported reports. */
	before = await generation();
	await evaluate(`(() => {
		/* As the form controls fire them: "input" for the dates,
		 * "change" for the domain (which loads). */
		const set = (id, v, ev) => { const e = document.getElementById(id);
		    e.value = v; e.dispatchEvent(new Event(ev, { bubbles: true })); };
		set('from', ${JSON.stringify(sc.from)}, 'input');
		set('to', ${JSON.stringify(sc.to)}, 'input');
		set('domain', ${JSON.stringify(sc.domain)}, 'change');
	})()`);
	await settled(before);
	check(await evaluate('document.getElementById("domain").value') === sc.domain,
	    `domain ${sc.domain} chosen`);

	const m = await evaluate(`Object.fromEntries(['m-reports', 'm-sources',
	    'm-messages', 'm-pass-rate', 'm-fail-rate'].map((id) =>
	    [id, document.getElementById(id).textContent]))`);
	const e = sc.expect;
	same(num(m['m-reports']), e.reports, 'total reports');
	same(num(m['m-sources']), e.sources, 'sending sources');
	same(num(m['m-messages']), e.messages, 'message volume');
	const wantPass = 100 * e.pass / e.messages;
	check(Math.abs(pct(m['m-pass-rate']) - wantPass) <= 0.05,
	    `pass rate ${m['m-pass-rate']} (${e.pass} of ${e.messages} messages)`,
	    `want ${wantPass.toFixed(3)}%`);
	check(Math.abs(pct(m['m-fail-rate']) - (100 - wantPass)) <= 0.05,
	    `fail rate ${m['m-fail-rate']}`, `want ${(100 - wantPass).toFixed(3)}%`);

	/* Sources, by messages descending (the default order). */
	let rows = await sourceRows();
	same(rows.length, Math.min(e.sources, 50), 'sources table: one row per source IP (first page)');
	same(rows.map((r) => r[1]), e.messages_desc.slice(0, rows.length),
	    'sources table: messages, biggest first');
	const wrong = rows.filter(([ip, ...v]) =>
	    JSON.stringify(v) !== JSON.stringify(e.per_ip[ip]));
	same(wrong, [], 'sources table: messages, pass and fail of each IP');

	const ptrs = await evaluate(`Object.fromEntries([...document.querySelectorAll(
	    '#sources-table tbody tr:not(.empty)')].map((tr) =>
	    [tr.cells[0].textContent, tr.cells[1].firstChild.textContent]))`);
	for (const [ip, ptr] of Object.entries(e.ptr))
		same(ptrs[ip], ptr, `sources table: reverse DNS of ${ip} from the cache`);

	/* Failures, failure reports, alerts, reports: as many rows as the
	 * database has (first page). */
	const count = (sel) => evaluate(`document.querySelectorAll(
	    '${sel} tbody tr:not(.empty)').length`);
	same(await count('#failures-table'), Math.min(e.failing_records, 20),
	    `failures: the failing records (${e.failing_records} in all)`);
	if (e.failing_records > 20)
		check((await evaluate('document.getElementById("failures-pager").textContent'))
		    .includes(`${e.failing_records.toLocaleString('en-US')} in all`),
		    'failures: the pager counts every failing record');
	same(await count('#forensic-table'), Math.min(e.failure_reports, 20),
	    `failure reports in the period (${e.failure_reports})`);
	same(await evaluate(`document.querySelectorAll('#alerts-list li:not(.empty)').length`),
	    Math.min(e.alerts, 50), `alerts (${e.alerts})`);
	same(await count('#reports-table'), Math.min(e.reports, 20),
	    'reports: one row per report (first page)');
	check(/\S/.test(await evaluate('document.getElementById("readiness-verdict").textContent')),
	    'the p=reject readiness verdict is shown');

	/* Sorting by column: Messages again (ascending), then Fail. */
	let order = await sortBy('messages');
	rows = await sourceRows();
	check(order === 'ascending', 'Messages heading sorts ascending on second click', order);
	same(rows.map((r) => r[1]), e.messages_asc.slice(0, rows.length),
	    'sources table: messages, smallest first');
	order = await sortBy('fail');
	rows = await sourceRows();
	check(order === 'descending', 'Fail heading sorts descending', order);
	same(rows.map((r) => r[3]), e.fail_desc.slice(0, rows.length),
	    'sources table: fail, biggest first');

	/* Daily series: the same messages in all. */
	const daily = await evaluate(`[...document.querySelectorAll('#daily-table tbody tr:not(.empty)')]
	    .map((tr) => tr.cells[1].textContent)`);
	same(daily.map(num).reduce((a, b) => a + b, 0), e.messages,
	    'the daily series adds up to the message volume');
	check(await evaluate(`typeof Chart === 'function' &&
	    !!Chart.getChart(document.getElementById('chart'))`),
	    'the pass-rate chart is drawn (chart.js loaded from /static/vendor/)');

	/* Markup in the data stays text. */
	if (e.markup_org) {
		const shown = await evaluate(`document.getElementById('app').textContent`);
		check(shown.includes(e.markup_org), 'an org name with markup is shown as text');
		check(await evaluate(`window.__dmarcd_xss === undefined &&
		    document.querySelectorAll('#app script, #app img').length === 0`),
		    'no markup from the data was run or inserted');
	}
	same(exceptions, [], 'no JavaScript exception in the page');

	/* The screenshot, the whole page. */
	const lm = await page('Page.getLayoutMetrics');
	const size = lm.cssContentSize || lm.contentSize;
	const shot = await page('Page.captureScreenshot', { format: 'png',
	    captureBeyondViewport: true, clip: { x: 0, y: 0, scale: 1,
	    width: Math.ceil(size.width), height: Math.min(Math.ceil(size.height), 16000) } });
	const png = Buffer.from(shot.data, 'base64');
	fs.writeFileSync(sc.screenshot, png);
	check(png.length > 1000 && png.subarray(1, 4).toString() === 'PNG',
	    `screenshot saved: ${sc.screenshot} (${png.length} bytes)`);

	/* A token that stops working mid-session: back to the login. */
	before = await generation();
	await evaluate(`sessionStorage.setItem('dmarcd.token', ${JSON.stringify(sc.bad_token)})`);
	await click('#show');
	await waitFor('!document.getElementById("login").hidden', 'the login after a 401');
	const err2 = await evaluate('document.getElementById("login-error").textContent');
	check(/401/.test(err2) && !await visible('app'),
	    'a 401 during a session returns to the login with a message', err2);
}

const done = (code) => {
	browser.kill('SIGTERM');
	process.exitCode = code;
	setTimeout(() => process.exit(code), 2000).unref();
};
scenario().then(() => done(failed ? 1 : 0), (err) => {
	check(false, `browser scenario: ${err.message}`);
	done(1);
});
