// One fixture per test: a fresh server (fresh data directory), one headless Debian Chromium
// through playwright-core (never a downloaded browser), and helpers for the people in the
// test: patients on the demo page (each in its own browser context, so its own
// sessionStorage) and professionals in the console. On failure it saves a screenshot of
// every open page under ui-tests/test-results/ and prints the pages' errors and the
// server's log.
import { test } from 'node:test';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from './server.js';
import { smsSetup } from './sms.js';
import { oidcSetup } from './oidc.js';
import { Cluster } from './cluster.js';
import { Patient } from './widget.js';
import { Professional } from './console.js';
import { WAIT_MS } from './util.js';

export { until, squash, WAIT_MS } from './util.js';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const resultsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'test-results');

export class Harness {
  /**
   * `serverArgs`: extra command-line arguments for the server (e.g. a --config file);
   * `cluster`: the number of nodes of a cluster behind HAProxy instead of one server
   * (`h.server` is then a `Cluster`); `sms` (true, or `{maxSegments}`): the demo organisation
   * with SMS chat through the stand-in provider (`h.sms`, lib/sms.js); `oidc` (true, or
   * `{tokenTtl}`): professionals sign in through a real OpenID Connect provider (`h.oidc`,
   * lib/oidc.js).
   */
  static async start(name, { serverArgs = [], cluster = 0, sms = null, oidc = null } = {}) {
    const h = new Harness(name);
    if (oidc) {
      h.oidcSetup = await oidcSetup(oidc === true ? {} : oidc);
      h.oidc = h.oidcSetup.provider;
      try {
        h.server = await startServer({ args: [...h.oidcSetup.args, ...serverArgs], listen: h.oidcSetup.listen });
      } catch (e) {
        await h.oidcSetup.cleanup();
        throw e;
      }
    } else if (sms) {
      h.smsSetup = await smsSetup(sms === true ? {} : sms);
      h.sms = h.smsSetup.standin;
      try {
        h.server = await startServer({ args: [...h.smsSetup.args, ...serverArgs], listen: h.smsSetup.listen });
      } catch (e) {
        await h.smsSetup.cleanup();
        throw e;
      }
    } else {
      h.server = cluster > 0 ? await Cluster.start(cluster) : await startServer({ args: serverArgs });
    }
    try {
      h.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    } catch (e) {
      await h.server.stop();
      if (h.smsSetup) await h.smsSetup.cleanup();
      if (h.oidcSetup) await h.oidcSetup.cleanup();
      throw e;
    }
    return h;
  }

  constructor(name) {
    this.name = name;
    this.pages = []; // { label, page }
    this.pageErrors = []; // uncaught exceptions in the UI's own code
    this.consoleLines = [];
  }

  get url() {
    return this.server.url;
  }

  async newPage(label, { viewport = { width: 1280, height: 800 }, locale = 'en-GB' } = {}) {
    const context = await this.browser.newContext({ viewport, locale });
    context.setDefaultTimeout(WAIT_MS);
    const page = await context.newPage();
    page.on('pageerror', (err) => this.pageErrors.push(`[${label}] ${err.stack || err}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') {
        this.consoleLines.push(`[${label}] console.${msg.type()}: ${msg.text()}`);
      }
    });
    this.pages.push({ label, page });
    return page;
  }

  /** A patient on the demo page `/` (nothing opened yet). */
  async patient(label = 'patient', options = {}) {
    const page = await this.newPage(label, options);
    await page.goto(this.url + '/');
    return new Patient(page, label);
  }

  /**
   * A patient who starts a chat (`start` options as Patient.start) that `nurse` takes: resolves
   * once the chat is open on both sides, with the patient and the conversation id.
   */
  async patientInChat(nurse, label, start = {}, options = {}) {
    const patient = await this.patient(label, options);
    await patient.start(start);
    const conversation = await patient.conversation();
    await nurse.waitForChat(conversation);
    await patient.waitForChat();
    return { patient, conversation };
  }

  /** A professional logged into `/console` through the demo login list. */
  async professional(id = 'nurse-1', options = {}) {
    const page = await this.newPage(id, options);
    const pro = new Professional(page, id);
    await pro.login(this.url);
    return pro;
  }

  async metrics() {
    return this.server.fetchText('/metrics');
  }

  /** Fails when the UI threw an uncaught exception during the test. */
  assertNoPageErrors() {
    if (this.pageErrors.length > 0) {
      throw new Error(`uncaught exceptions in the page(s):\n${this.pageErrors.join('\n')}`);
    }
  }

  async dumpFailure(error) {
    const dir = path.join(resultsDir, this.name.replace(/[^a-zA-Z0-9-]+/g, '_').slice(0, 80));
    await mkdir(dir, { recursive: true });
    const shots = [];
    for (const { label, page } of this.pages) {
      if (page.isClosed()) continue;
      const file = path.join(dir, `${label.replace(/[^a-zA-Z0-9-]+/g, '_')}.png`);
      try {
        await page.screenshot({ path: file, fullPage: true, timeout: 5_000 });
        shots.push(file);
      } catch {
        // the page may be unusable: the failure itself is what matters
      }
    }
    const report = [
      `--- ${this.name} failed: ${error && error.message}`,
      shots.length ? `screenshots: ${shots.join(', ')}` : 'no screenshots',
      this.pageErrors.length ? `page errors:\n${this.pageErrors.join('\n')}` : 'no page errors',
      this.consoleLines.length ? `browser console:\n${this.consoleLines.slice(-30).join('\n')}` : '',
      `server log (tail):\n${this.server ? this.server.logTail(30) : ''}`,
      this.sms ? `SMS stand-in log (tail):\n${this.sms.log.slice(-20).join('\n')}` : '',
    ];
    console.error(report.filter(Boolean).join('\n'));
  }

  async close() {
    if (this.browser) await this.browser.close().catch(() => {});
    if (this.server) await this.server.stop();
    if (this.smsSetup) await this.smsSetup.cleanup();
    if (this.oidcSetup) await this.oidcSetup.cleanup();
  }
}

/**
 * `uiTest(name, async (h) => ...)`: a node:test test with its own server and browser. `todo`
 * (a string saying what is missing) runs it as a node:test todo: reported, never failing the run.
 */
export function uiTest(name, fn, { timeout = 90_000, serverArgs = [], cluster = 0, sms = null, oidc = null, todo } = {}) {
  test(name, { timeout, todo }, async (t) => {
    const h = await Harness.start(name, { serverArgs, cluster, sms, oidc });
    try {
      await fn(h, t);
      h.assertNoPageErrors();
    } catch (e) {
      await h.dumpFailure(e);
      throw e;
    } finally {
      await h.close();
    }
  });
}
