// Debian's Chromium driven by playwright-core (the npm package without a browser download). The flags
// keep a root, offline Chromium quiet: no sandbox (root), no GPU, and none of its background calls
// to Google's hosts (this machine has no network; each attempt would be a refused connection).
import fs from 'node:fs';
import path from 'node:path';
import { log } from './util.mjs';

export const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';

const CHROMIUM_ARGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--disable-dev-shm-usage',
];

/** Only the origins the harness started may be reached: anything else is aborted and counted. */
function isLocal(url) {
	return /^(https?|wss?):\/\/(127\.0\.0\.1|localhost)(:\d+)?\//.test(url) || /^(data|blob|about):/.test(url);
}

/**
 * Start Chromium headless with a fresh profile under `dir`. Returns { browser, context, page, shot, close,
 * blocked } where `shot(name)` saves a numbered PNG in `dir/screenshots` and returns its path.
 */
export async function startBrowser({ dir, baseUrl, viewport = { width: 1280, height: 800 }, registry, picturesDir = null }) {
	let chromium;
	try {
		let selectors;
		({ chromium, selectors } = await import('playwright-core'));
		// n8n's editor marks its elements with data-test-id (Playwright's default is data-testid).
		selectors.setTestIdAttribute('data-test-id');
	} catch (e) {
		throw new Error(`playwright-core is not installed (a devDependency of the package: run npm ci): ${e.message}`);
	}
	if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (the e2e installer does it as root)`);
	const profile = path.join(dir, 'chromium-profile');
	const shotsDir = path.join(dir, 'screenshots');
	fs.rmSync(profile, { recursive: true, force: true }); // a fresh profile every time: no cookies, no cache
	fs.mkdirSync(profile, { recursive: true });
	fs.mkdirSync(shotsDir, { recursive: true });
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		args: CHROMIUM_ARGS,
		viewport,
		deviceScaleFactor: 1,
		baseURL: baseUrl,
		locale: 'en-US',
		timezoneId: 'UTC',
		colorScheme: 'light',
	});
	const blocked = [];
	await context.route('**/*', (route) => {
		const url = route.request().url();
		if (isLocal(url)) return route.continue();
		blocked.push(url);
		return route.abort('blockedbyclient');
	});
	const page = context.pages()[0] ?? (await context.newPage());
	page.setDefaultTimeout(30_000);
	// Leaving a workflow with unsaved changes asks "leave this page?" (beforeunload): the checks say yes.
	page.on('dialog', (d) => (d.type() === 'beforeunload' ? d.accept() : d.dismiss()).catch(() => {}));
	const consoleErrors = [];
	page.on('console', (m) => {
		if (m.type() === 'error') consoleErrors.push(m.text());
	});
	let n = 0;
	const shots = [];
	const pictures = [];
	/** Screenshot of the page (or one element); `picture` names the copy kept for the README when picturesDir is set. */
	const shot = async (name, { locator, fullPage = false, picture } = {}) => {
		const file = path.join(shotsDir, `${String(++n).padStart(2, '0')}-${name}.png`);
		if (locator) await locator.screenshot({ path: file });
		else await page.screenshot({ path: file, fullPage });
		shots.push(file);
		if (picture && picturesDir) {
			fs.mkdirSync(picturesDir, { recursive: true });
			const dest = path.join(picturesDir, picture);
			fs.copyFileSync(file, dest);
			pictures.push(dest);
		}
		return file;
	};
	/** The owner signs in through n8n's sign-in page, as a person would. */
	const signIn = async ({ email, password }) => {
		await page.goto('/signin');
		await page.getByTestId('emailOrLdapLoginId').locator('input').fill(email);
		await page.getByTestId('password').locator('input').fill(password);
		await page.getByTestId('form-submit-button').click();
		await page.waitForURL((u) => !/\/signin/.test(u.pathname), { timeout: 30_000 });
	};
	let closed = false;
	const close = async () => {
		if (closed) return;
		closed = true;
		await context.close().catch((e) => log(`[browser] close: ${e.message}`));
	};
	// Belt and braces: the harness's cleanup closes the browser even when a check threw mid-way.
	const unregister = registry?.onCleanup('chromium', close);
	return {
		context,
		page,
		shot,
		version: `Chromium ${context.browser()?.version() ?? '?'}`,
		signIn,
		shots,
		shotsDir,
		pictures,
		blocked,
		consoleErrors,
		close: async () => {
			unregister?.();
			await close();
		},
	};
}
