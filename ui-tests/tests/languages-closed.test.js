// The widget's language and its robustness on other sites' pages, and a service that is closed.
//
// (1) Language: Finnish on <html lang="fi">, Swedish with data-lang="sv" on the script tag
//     (overriding the page's lang), English otherwise: launcher, start form and the panel's
//     accessible names. The host pages are served by Playwright on the server's origin (the
//     server checks the WebSocket Origin). One host page is deliberately hostile (global
//     !important CSS): the widget, in its open shadow root, must look and work the same.
// (2) Closed: a configuration file (the demo organisation, with health-chat's opening hours on
//     a weekday that is not today) makes health-chat closed now. The widget shows
//     `service-closed` with the service's closed_message and guidance, offers no way to start,
//     and at 360×740 the panel fits the screen even with a long message.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { uiTest, until, squash } from '../lib/harness.js';
import { repoRoot } from '../lib/server.js';
import { Patient, STORAGE_KEY } from '../lib/widget.js';

// ------------------------------------------------------------------------------ host pages

/** A minimal host page embedding the widget from the server's own origin. */
function hostPage({ lang = null, dataLang = null, css = '', body = '' } = {}) {
  const langAttr = lang === null ? '' : ` lang="${lang}"`;
  const dataLangAttr = dataLang === null ? '' : ` data-lang="${dataLang}"`;
  return `<!doctype html>
<html${langAttr}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Host page</title>
<style>${css}</style>
</head>
<body>
<h1>Terveysasemat / Hälsostationer / Health stations</h1>
<p>Some content of the region's own page.</p>
${body}
<script src="/widget.js" data-service="health-chat"${dataLangAttr}></script>
</body>
</html>`;
}

/** A patient on a host page of our own, fulfilled by Playwright at `${h.url}/${name}`. */
async function patientOn(h, label, name, html, options) {
  const page = await h.newPage(label, options);
  // Chromium treats a document fulfilled by Playwright as coming from the public internet and
  // blocks its WebSocket to the loopback server (Local Network Access) unless this is granted;
  // a real host site would be on the public internet too, with the server not on loopback.
  await page.context().grantPermissions(['local-network-access'], { origin: h.url });
  await page.route(`${h.url}/${name}`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }),
  );
  await page.goto(`${h.url}/${name}`);
  return new Patient(page, label);
}

// ------------------------------------------------------------------------------ languages

// The texts the widget must show, per language (from the widget's strings table).
const EXPECTED = {
  en: {
    lang: 'en',
    launcher: 'Chat with us',
    panelLabel: 'Chat with health and social services',
    closeLabel: 'Close the chat window',
    title: 'Chat',
    intro: 'Tell us briefly what your matter is about. A professional will answer you here in the chat.',
    emergency: 'In an emergency, call 112.',
    serviceLabel: 'Service',
    topicLabel: 'Topic (required)',
    choose: 'Choose…',
    yesNo: ['Yes', 'No'],
    start: 'Start chat',
  },
  fi: {
    lang: 'fi',
    launcher: 'Chattaa kanssamme',
    panelLabel: 'Sosiaali- ja terveyspalvelujen chat',
    closeLabel: 'Sulje chat-ikkuna',
    title: 'Chat',
    intro: 'Kerro lyhyesti, mitä asiasi koskee. Ammattilainen vastaa sinulle täällä chatissa.',
    emergency: 'Hätätilanteessa soita 112.',
    serviceLabel: 'Palvelu',
    topicLabel: 'Aihe (pakollinen)',
    choose: 'Valitse…',
    yesNo: ['Kyllä', 'Ei'],
    start: 'Aloita chat',
  },
  sv: {
    lang: 'sv',
    launcher: 'Chatta med oss',
    panelLabel: 'Chatt med social- och hälsovården',
    closeLabel: 'Stäng chattfönstret',
    title: 'Chatt',
    intro: 'Berätta kort vad ärendet gäller. En yrkesperson svarar dig här i chatten.',
    emergency: 'I nödsituationer, ring 112.',
    serviceLabel: 'Tjänst',
    topicLabel: 'Ämne (obligatorisk)',
    choose: 'Välj…',
    yesNo: ['Ja', 'Nej'],
    start: 'Starta chatten',
  },
};

/** What the widget shows: the launcher, then (panel opened) the start form and the panel. */
async function widgetTexts(p) {
  const launcher = p.id('launcher');
  await launcher.waitFor({ state: 'visible' });
  const launcherText = squash(await launcher.innerText());
  await p.open();
  await p.id('start').waitFor({ state: 'visible' });
  const panel = p.panel;
  const labelOf = (loc) => loc.evaluate((el) => (el.labels && el.labels[0] ? el.labels[0].textContent : null));
  const closeButtons = await panel
    .getByRole('button')
    .evaluateAll((els) => els.filter((e) => e.offsetParent !== null).map((e) => e.getAttribute('aria-label')).filter(Boolean));
  return {
    lang: await panel.getAttribute('lang'),
    launcher: launcherText,
    panelLabel: await panel.getAttribute('aria-label'),
    closeLabel: closeButtons[0] || null,
    title: squash(await panel.locator('h2').first().innerText()),
    intro: squash(await panel.locator('p.intro').innerText()),
    emergency: squash(await panel.locator('p.emerg').innerText()),
    serviceLabel: squash(await labelOf(p.id('service'))),
    topicLabel: squash(await labelOf(p.id('topic'))),
    choose: squash(await p.id('topic').locator('option').first().textContent()),
    yesNo: (await p.id('q-fever').locator('option').allTextContents()).slice(1).map(squash),
    start: squash(await p.id('start').innerText()),
  };
}

uiTest('the widget speaks Finnish on lang="fi", Swedish with data-lang="sv", English otherwise', async (h) => {
  const cases = [
    { label: 'no-lang', page: 'test-host-none.html', html: hostPage(), want: 'en' },
    { label: 'lang-de', page: 'test-host-de.html', html: hostPage({ lang: 'de' }), want: 'en' },
    { label: 'lang-en', page: 'test-host-en.html', html: hostPage({ lang: 'en' }), want: 'en' },
    { label: 'lang-fi', page: 'test-host-fi.html', html: hostPage({ lang: 'fi' }), want: 'fi' },
    { label: 'lang-fi-FI', page: 'test-host-fi-FI.html', html: hostPage({ lang: 'fi-FI' }), want: 'fi' },
    { label: 'fi-data-sv', page: 'test-host-sv.html', html: hostPage({ lang: 'fi', dataLang: 'sv' }), want: 'sv' },
    { label: 'sv-data-sv', page: 'test-host-sv2.html', html: hostPage({ lang: 'sv-FI', dataLang: 'sv' }), want: 'sv' },
    { label: 'fi-data-en', page: 'test-host-fi-en.html', html: hostPage({ lang: 'fi', dataLang: 'en' }), want: 'en' },
  ];
  const wrong = [];
  for (const c of cases) {
    const p = await patientOn(h, c.label, c.page, c.html);
    const got = await widgetTexts(p);
    try {
      assert.deepEqual(got, EXPECTED[c.want]);
    } catch (e) {
      wrong.push(`${c.label} (want ${c.want}):\n${e.message}`);
    }
    // The close button really is named so for assistive technology.
    await p.panel.getByRole('button', { name: EXPECTED[c.want].closeLabel, exact: true }).click();
    await p.panel.waitFor({ state: 'hidden' });
    assert.equal(await p.id('launcher').getAttribute('aria-expanded'), 'false', `${c.label}: launcher aria-expanded after closing`);
    await p.page.close();
  }
  assert.deepEqual(wrong, [], 'language of the widget');
});

// ------------------------------------------------------------------------------ hostile page

const HOSTILE_CSS = `
  html { font-size: 40px !important; }
  * { font-size: 40px !important; color: red !important; display: block; font-family: "Comic Sans MS", cursive !important;
      line-height: 3 !important; letter-spacing: 6px !important; text-transform: uppercase !important;
      box-sizing: content-box !important; background: yellow !important; border: 5px dashed green !important; }
  *::before, *::after { content: "!!" !important; }
  button { display: none !important; }
  select, textarea, input { display: none !important; width: 10px !important; }
  div, section, form, p, span, h2, h3 { position: static !important; width: 50px !important; max-width: 50px !important;
      overflow: hidden !important; padding: 40px !important; margin: 30px !important; opacity: .5 !important; }
  [hidden] { display: block !important; }
  [role="dialog"], [aria-expanded], [data-testid] { display: none !important; visibility: hidden !important; }
  body > div, body > div:last-of-type, #luukku-widget-host { display: none !important; visibility: hidden !important;
      width: 0 !important; height: 0 !important; overflow: hidden !important; position: absolute !important; left: -9999px !important; }
  :focus { outline: none !important; }
  .launcher, .panel, .btn, .root { display: none !important; }
  svg, path { fill: red !important; width: 300px !important; height: 300px !important; }
`;

// Computed styles compared between a plain host page and the hostile one.
const STYLE_PROPS = [
  'display', 'position', 'visibility', 'opacity', 'font-size', 'font-family', 'font-weight', 'line-height',
  'letter-spacing', 'text-transform', 'color', 'background-color', 'border-top-width', 'border-top-style',
  'box-sizing', 'padding-top', 'padding-left', 'margin-top', 'width', 'height', 'overflow-x', 'z-index',
];

/** The computed styles of the widget's main parts (panel open, start form shown). */
async function widgetStyles(p) {
  await p.panel.evaluate((el) => Promise.all(el.getAnimations({ subtree: true }).map((a) => a.finished)));
  const parts = {
    launcher: p.id('launcher'),
    launcherIcon: p.id('launcher').locator('svg'),
    panel: p.panel,
    title: p.panel.locator('h2').first(),
    intro: p.panel.locator('p.intro'),
    service: p.id('service'),
    topic: p.id('topic'),
    duration: p.id('q-duration'),
    description: p.id('q-description'),
    start: p.id('start'),
  };
  const out = {};
  for (const [name, loc] of Object.entries(parts)) {
    out[name] = await loc.evaluate((el, props) => {
      const cs = getComputedStyle(el);
      const r = el.getBoundingClientRect();
      const style = Object.fromEntries(props.map((k) => [k, cs.getPropertyValue(k)]));
      style.before = getComputedStyle(el, '::before').getPropertyValue('content');
      style.box = [r.x, r.y, r.width, r.height].map(Math.round).join(',');
      return style;
    }, STYLE_PROPS);
  }
  return out;
}

uiTest('on a hostile host page (global !important CSS) the widget looks and works the same', async (h) => {
  // The reference: a plain page (same language, same viewport).
  const plain = await patientOn(h, 'plain', 'test-host-plain.html', hostPage({ lang: 'en' }));
  await plain.open();
  await plain.id('start').waitFor({ state: 'visible' });
  const reference = await widgetStyles(plain);
  await plain.page.close();

  const hostileHtml = hostPage({
    lang: 'en',
    css: HOSTILE_CSS,
    body: '<div class="launcher panel"><button class="btn" data-testid="x-not-widget">Page button</button></div>',
  });
  const p = await patientOn(h, 'hostile', 'test-host-hostile.html', hostileHtml);
  const launcher = p.id('launcher');
  await launcher.waitFor({ state: 'visible' });
  assert.equal(squash(await launcher.innerText()), 'Chat with us');
  const box = await launcher.boundingBox();
  assert.ok(box && box.width > 40 && box.height >= 44, `the launcher has a usable size: ${JSON.stringify(box)}`);
  assert.ok(box.x + box.width <= 1280 && box.y + box.height <= 800, `the launcher is inside the viewport: ${JSON.stringify(box)}`);
  // A real click at the launcher's position (Playwright checks that the launcher receives it).
  await launcher.click();
  await p.panel.waitFor({ state: 'visible' });
  assert.equal(await launcher.getAttribute('aria-expanded'), 'true');
  await p.id('start').waitFor({ state: 'visible' });

  const hostile = await widgetStyles(p);
  const diffs = [];
  for (const [part, style] of Object.entries(reference)) {
    for (const [k, v] of Object.entries(style)) {
      if (hostile[part][k] !== v) diffs.push(`${part} ${k}: plain page "${v}", hostile page "${hostile[part][k]}"`);
    }
  }
  assert.deepEqual(diffs, [], 'the hostile page changes no computed style of the widget');
  assert.equal(reference.launcher['font-size'], '17px', 'sanity: the launcher font on the plain page');
  assert.notEqual(hostile.start.color, 'rgb(255, 0, 0)', 'the page colour does not reach the widget');

  // The panel is usable: fill the form and start; the patient ends up queued.
  await p.start({ topic: 'symptoms', duration: '1-3 days', description: 'Started on a hostile page' });
  await p.id('queue-status').waitFor({ state: 'visible' });
  await until(() => p.queuePosition(), (v) => v === '1', 'hostile: queue-position 1');
  // And it closes with its own close button (named by aria-label) and reopens.
  await p.panel.getByRole('button', { name: EXPECTED.en.closeLabel, exact: true }).click();
  await p.panel.waitFor({ state: 'hidden' });
  await launcher.click();
  await p.id('queue-status').waitFor({ state: 'visible' });
});

// ------------------------------------------------------------------------------ closed service

// A realistic long closed_message, as organisations write them: a long URL and a long e-mail
// address (which has no line-break opportunity at all: it must still not widen the panel).
const LONG_URL =
  'https://www.demo-wellbeing-services-county.fi/health-and-social-services/health-stations/call-back-request-form?service=health-chat';
const LONG_EMAIL = 'terveysasemat.takaisinsoitto@pohjanmaanhyvinvointialue.fi';
const CLOSED_MESSAGE =
  'The health station chat is closed right now. It is open on weekdays 8–16, except public holidays. ' +
  `Call the health station on 09 123 4567 on weekdays 8–16, or leave a call-back request at ${LONG_URL} ` +
  `or by e-mail to ${LONG_EMAIL}, and a nurse will call you on the next working day. ` +
  'Outside office hours call the medical helpline 116 117.';

const TIME_ZONE = 'Europe/Helsinki'; // the demo organisation's
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const SHORT_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/**
 * The demo organisation as a config file (demo = true keeps the demo professionals and dev
 * endpoints), with health-chat open only on the weekday three days from today (local time of
 * the organisation), so it is closed now and for the whole test run.
 */
async function closedConfig() {
  const demo = await readFile(path.join(repoRoot, 'server', 'src', 'demo_organisation.toml'), 'utf8');
  const weekday = new Intl.DateTimeFormat('en-US', { timeZone: TIME_ZONE, weekday: 'short' }).format(new Date());
  const today = SHORT_DAYS.indexOf(weekday);
  assert.ok(today >= 0, `weekday ${weekday}`);
  const openDay = DAYS[(today + 3) % 7];
  assert.match(demo, new RegExp(`^time_zone = "${TIME_ZONE}"$`, 'm'), 'the demo organisation time zone');
  const blocks = demo.replace(/^\[\[([\w.]+)\]\]/gm, '[[organisation.$1]]').split(/\n(?=\[\[)/);
  let edited = 0;
  const out = blocks.map((b) => {
    if (!/^\[\[organisation\.services\]\]/.test(b) || !/^id = "health-chat"$/m.test(b)) return b;
    edited++;
    assert.match(b, /^closed_message = .*$/m, 'health-chat has a closed_message line');
    return (
      b.replace(/^closed_message = .*$/m, `closed_message = ${JSON.stringify(CLOSED_MESSAGE)}`).trimEnd() +
      `\nopening_hours = [{ days = ["${openDay}"], open = "08:00", close = "16:00" }]\n\n`
    );
  });
  assert.equal(edited, 1, 'exactly one health-chat service in the demo organisation');
  return `demo = true\n\n[organisation]\n${out.join('\n')}`;
}

const tmpDir = await mkdtemp(path.join(os.tmpdir(), 'luukku-closed-config-'));
after(() => rm(tmpDir, { recursive: true, force: true }));
const configFile = path.join(tmpDir, 'closed.toml');
await writeFile(configFile, await closedConfig());

const CLOSED_TEXTS = {
  en: {
    title: 'This service is closed right now',
    guide: 'If your matter is urgent, call the medical helpline 116 117. In an emergency, call 112.',
  },
  fi: {
    title: 'Palvelu on nyt suljettu',
    guide: 'Jos asiasi on kiireellinen, soita päivystysapuun 116 117. Hätätilanteessa soita 112.',
  },
};

/** Horizontal overflow of the open panel: the panel's box, the page's, and inside the panel. */
async function panelOverflow(p) {
  return p.panel.evaluate((panel) => {
    const vw = document.documentElement.clientWidth;
    const pr = panel.getBoundingClientRect();
    const out = [];
    if (pr.left < 0 || pr.right > vw + 0.5) out.push(`panel ${Math.round(pr.left)}..${Math.round(pr.right)} outside 0..${vw}`);
    if (document.documentElement.scrollWidth > vw) out.push(`page scrollWidth ${document.documentElement.scrollWidth} > ${vw}`);
    const closedBox = panel.querySelector('[data-testid="service-closed"]');
    if (closedBox && closedBox.scrollWidth > closedBox.clientWidth + 1) {
      out.push(`service-closed content is ${closedBox.scrollWidth} px wide in a ${closedBox.clientWidth} px box`);
    }
    for (const el of [panel, ...panel.querySelectorAll('*')]) {
      if (el.offsetParent === null && el !== panel) continue; // hidden
      if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== 'visible' && el.clientWidth > 0) {
        out.push(`${el.tagName.toLowerCase()}.${el.className || ''}[${el.getAttribute('data-testid') || ''}] scrolls sideways: scrollWidth ${el.scrollWidth} > clientWidth ${el.clientWidth}`);
      }
      const r = el.getBoundingClientRect();
      if (r.width > 0 && (r.right > pr.right + 0.5 || r.left < pr.left - 0.5)) {
        out.push(`${el.tagName.toLowerCase()}.${el.className || ''}[${el.getAttribute('data-testid') || ''}] ${Math.round(r.left)}..${Math.round(r.right)} sticks out of the panel ${Math.round(pr.left)}..${Math.round(pr.right)}`);
      }
    }
    return out;
  });
}

uiTest(
  'a closed service: service-closed with its closed_message and guidance, no way to start, fits a 360 px phone',
  async (h) => {
    // The server's view: health-chat is closed now, the others open.
    const res = await fetch(h.url + '/api/v1/services');
    const { services } = await res.json();
    const byId = Object.fromEntries(services.map((s) => [s.id, s]));
    assert.equal(byId['health-chat'].open_now, false, 'health-chat is closed now (config file opening_hours)');
    assert.equal(byId['health-chat'].closed_message, CLOSED_MESSAGE);
    assert.equal(byId['social-chat'].open_now, true, 'social-chat is open around the clock');
    assert.equal((await fetch(h.url + '/api/v1/dev/professionals')).status, 200, 'demo = true keeps the dev endpoints');

    // A patient on the demo page, on a phone.
    const page = await h.newPage('patient-phone', { viewport: { width: 360, height: 740 } });
    const sentFrames = [];
    page.on('websocket', (ws) => ws.on('framesent', (f) => sentFrames.push(String(f.payload))));
    await page.goto(h.url + '/');
    const p = new Patient(page, 'patient-phone');
    await p.open();
    const closed = p.id('service-closed');
    await closed.waitFor({ state: 'visible' });
    assert.equal(await p.id('service').inputValue(), 'health-chat', 'the preselected service');
    const text = squash(await closed.innerText());
    assert.ok(text.includes(squash(CLOSED_MESSAGE)), `service-closed shows the closed_message; it shows: ${text}`);
    assert.ok(text.includes(CLOSED_TEXTS.en.title), `service-closed says the service is closed; it shows: ${text}`);
    assert.ok(text.includes(CLOSED_TEXTS.en.guide), `service-closed gives guidance; it shows: ${text}`);

    // No way to start: no start button, no topic or questionnaire fields.
    for (const id of ['start', 'topic', 'q-duration', 'q-fever', 'q-description']) {
      assert.equal(await p.id(id).count(), 0, `no ${id} while the service is closed`);
    }
    // Submitting the form anyway (as assistive technology may) does not start either.
    await p.id('service').evaluate((el) => el.form.requestSubmit());

    // On a phone the panel fills the screen and nothing scrolls sideways, long message or not
    // (asserted last, so that the checks below run even when this one fails).
    const overflow = await panelOverflow(p);

    // Another, open service of the same organisation can be started; back to health-chat: closed.
    await p.id('service').selectOption('social-chat');
    await p.id('start').waitFor({ state: 'visible' });
    assert.equal(await closed.count(), 0, 'no service-closed for an open service');
    await p.id('service').selectOption('health-chat');
    await closed.waitFor({ state: 'visible' });
    assert.equal(await p.id('start').count(), 0, 'no start button once health-chat is chosen again');

    const stored = await page.evaluate((key) => JSON.parse(sessionStorage.getItem(key) || 'null'), STORAGE_KEY);
    assert.ok(!stored || (!stored.conversation && !stored.pendingStart), `nothing started: ${JSON.stringify(stored)}`);
    const starts = sentFrames.filter((f) => /"type"\s*:\s*"start"/.test(f));
    assert.deepEqual(starts, [], 'no start frame was sent for the closed service');

    // In Finnish the title and the guidance are Finnish (the closed_message is the organisation's own).
    const fi = await patientOn(h, 'patient-fi', 'test-host-fi-closed.html', hostPage({ lang: 'fi' }), {
      viewport: { width: 360, height: 740 },
    });
    await fi.open();
    const fiClosed = fi.id('service-closed');
    await fiClosed.waitFor({ state: 'visible' });
    const fiText = squash(await fiClosed.innerText());
    assert.ok(fiText.includes(CLOSED_TEXTS.fi.title), `Finnish title; it shows: ${fiText}`);
    assert.ok(fiText.includes(CLOSED_TEXTS.fi.guide), `Finnish guidance; it shows: ${fiText}`);
    assert.ok(fiText.includes(squash(CLOSED_MESSAGE)), 'the closed_message as configured');
    assert.equal(await fi.id('start').count(), 0, 'no start button in Finnish either');

    assert.deepEqual(overflow, [], 'the open panel fits the 360 px wide screen without horizontal overflow');
  },
  { serverArgs: ['--config', configFile] },
);
