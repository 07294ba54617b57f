/*!
 * Luukku chat widget — plain JavaScript, one file, no build step, no dependencies.
 *
 *   <script src="https://HOST/widget.js" data-service="health-chat"></script>
 *
 *   data-service  preselected service id
 *   data-lang     fi | sv | en (else the page's <html lang>, else en)
 *   data-server   base URL of the Luukku server (default: the origin of this script's src)
 *
 * The widget lives in an open shadow root on <div id="luukku-widget-host"> so the page's CSS
 * cannot reach it and its own CSS cannot leak. It speaks JSON over /ws/client
 * (docs/protocol.md): hello/resume → start → queued/queue → send/ack/message, typing, read →
 * closed → feedback. What a reload needs ({conversation, resume_token, last_seq, service, ...})
 * is kept in sessionStorage under "luukku.widget.v1". Test hooks follow the data-testid
 * contract shared with the browser tests.
 */
(function () {
  'use strict';
  const script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  if (!script || window.LuukkuWidget) return;

  // ---------------------------------------------------------------- configuration, strings
  const KEY = 'luukku.widget.v1';
  const ROOT = (script.dataset.server
    ? new URL(script.dataset.server, location.href).href
    : new URL(script.src, location.href).origin).replace(/\/+$/, '');
  const WS_URL = ROOT.replace(/^http/, 'ws') + '/ws/client';
  const MAX_BODY = 10000;
  const LANGS = ['en', 'fi', 'sv'];
  const LI = Math.max(0, LANGS.indexOf((script.dataset.lang || document.documentElement.lang || 'en').slice(0, 2).toLowerCase()));
  const LOCALE = ['en-GB', 'fi-FI', 'sv-FI'][LI];

  // key: [English, Finnish, Swedish]
  const STR = {
    launcher: ['Chat with us', 'Chattaa kanssamme', 'Chatta med oss'],
    newCount: ['{n} new messages', '{n} uutta viestiä', '{n} nya meddelanden'],
    panelLabel: ['Chat with health and social services', 'Sosiaali- ja terveyspalvelujen chat', 'Chatt med social- och hälsovården'],
    title: ['Chat', 'Chat', 'Chatt'],
    closePanel: ['Close the chat window', 'Sulje chat-ikkuna', 'Stäng chattfönstret'],
    intro: ['Tell us briefly what your matter is about. A professional will answer you here in the chat.', 'Kerro lyhyesti, mitä asiasi koskee. Ammattilainen vastaa sinulle täällä chatissa.', 'Berätta kort vad ärendet gäller. En yrkesperson svarar dig här i chatten.'],
    emergency: ['In an emergency, call 112.', 'Hätätilanteessa soita 112.', 'I nödsituationer, ring 112.'],
    service: ['Service', 'Palvelu', 'Tjänst'],
    topic: ['Topic', 'Aihe', 'Ämne'],
    choose: ['Choose…', 'Valitse…', 'Välj…'],
    required: ['(required)', '(pakollinen)', '(obligatorisk)'],
    yes: ['Yes', 'Kyllä', 'Ja'],
    no: ['No', 'Ei', 'Nej'],
    start: ['Start chat', 'Aloita chat', 'Starta chatten'],
    starting: ['Starting the chat…', 'Chat käynnistyy…', 'Chatten startar…'],
    errRequired: ['Please answer this question.', 'Vastaa tähän kysymykseen.', 'Svara på den här frågan.'],
    errTopic: ['Please choose a topic.', 'Valitse aihe.', 'Välj ett ämne.'],
    errSummary: ['Some answers are missing. Please check the marked fields.', 'Joitakin vastauksia puuttuu. Tarkista merkityt kentät.', 'Några svar saknas. Kontrollera de markerade fälten.'],
    loading: ['Loading…', 'Ladataan…', 'Laddar…'],
    loadFailed: ['The chat could not be loaded. Check your connection and try again.', 'Chattia ei voitu ladata. Tarkista yhteys ja yritä uudelleen.', 'Chatten kunde inte laddas. Kontrollera anslutningen och försök igen.'],
    retry: ['Try again', 'Yritä uudelleen', 'Försök igen'],
    closedTitle: ['This service is closed right now', 'Palvelu on nyt suljettu', 'Tjänsten är stängd just nu'],
    closedGuide: ['If your matter is urgent, call the medical helpline 116 117. In an emergency, call 112.', 'Jos asiasi on kiireellinen, soita päivystysapuun 116 117. Hätätilanteessa soita 112.', 'Om ärendet är brådskande, ring jourhjälpen 116 117. I nödsituationer, ring 112.'],
    queueTitle: ['You are in the queue', 'Olet jonossa', 'Du står i kö'],
    queuePos: ['Your place in the queue:', 'Paikkasi jonossa:', 'Din plats i kön:'],
    queueWait: ['Estimated wait:', 'Arvioitu odotusaika:', 'Beräknad väntetid:'],
    queueKeep: ['Please keep this page open. You can write as soon as a professional joins.', 'Pidä tämä sivu auki. Voit kirjoittaa heti, kun ammattilainen liittyy keskusteluun.', 'Håll sidan öppen. Du kan skriva så fort en yrkesperson ansluter.'],
    waitUnder: ['under a minute', 'alle minuutti', 'under en minut'],
    waitMin: ['about {n} min', 'noin {n} min', 'cirka {n} min'],
    waitUnknown: ['not known yet', 'ei vielä tiedossa', 'inte känd ännu'],
    conversation: ['Conversation', 'Keskustelu', 'Samtal'],
    messages: ['Messages', 'Viestit', 'Meddelanden'],
    you: ['You', 'Sinä', 'Du'],
    professional: ['Professional', 'Ammattilainen', 'Yrkesperson'],
    sending: ['Sending…', 'Lähetetään…', 'Skickas…'],
    sent: ['Sent', 'Lähetetty', 'Skickat'],
    read: ['Read', 'Luettu', 'Läst'],
    failed: ['Not delivered', 'Ei toimitettu', 'Inte levererat'],
    composer: ['Your message', 'Viestisi', 'Ditt meddelande'],
    composerPh: ['Write a message', 'Kirjoita viesti', 'Skriv ett meddelande'],
    composerEnded: ['The chat has ended', 'Keskustelu on päättynyt', 'Chatten har avslutats'],
    composerHint: ['Enter sends, Shift+Enter starts a new line.', 'Enter lähettää, Shift+Enter aloittaa uuden rivin.', 'Enter skickar, Shift+Enter ger en ny rad.'],
    send: ['Send', 'Lähetä', 'Skicka'],
    typing: ['{name} is typing…', '{name} kirjoittaa…', '{name} skriver…'],
    sysQueued: ['You are in the queue. A professional will join soon.', 'Olet jonossa. Ammattilainen liittyy pian.', 'Du står i kö. En yrkesperson ansluter snart.'],
    sysRequeued: ['The professional had to leave. You are back in the queue; the next available professional will continue.', 'Ammattilaisen piti poistua. Olet taas jonossa, ja seuraava vapaa ammattilainen jatkaa.', 'Yrkespersonen var tvungen att gå. Du står i kö igen; nästa lediga yrkesperson fortsätter.'],
    sysAssigned: ['{name} joined the chat.', '{name} liittyi keskusteluun.', '{name} anslöt till chatten.'],
    sysTransferred: ['Your chat was transferred. Please wait, a professional will continue soon.', 'Keskustelusi siirrettiin. Odota hetki, ammattilainen jatkaa pian.', 'Chatten flyttades. Vänta, en yrkesperson fortsätter snart.'],
    sysClosed: ['The chat was closed.', 'Keskustelu suljettiin.', 'Chatten avslutades.'],
    sysReopened: ['{name} reopened the chat.', '{name} avasi keskustelun uudelleen.', '{name} öppnade chatten igen.'],
    reconnecting: ['Connection lost. Reconnecting…', 'Yhteys katkesi. Yhdistetään uudelleen…', 'Anslutningen bröts. Återansluter…'],
    closedHeading: ['The chat has ended', 'Keskustelu on päättynyt', 'Chatten har avslutats'],
    closedDefault: ['Thank you for contacting us.', 'Kiitos yhteydenotostasi.', 'Tack för att du kontaktade oss.'],
    rateLegend: ['How satisfied were you with the service? 1 = not at all, 5 = very satisfied', 'Kuinka tyytyväinen olit palveluun? 1 = en lainkaan, 5 = erittäin tyytyväinen', 'Hur nöjd var du med tjänsten? 1 = inte alls, 5 = mycket nöjd'],
    rateComment: ['Comment (optional)', 'Kommentti (vapaaehtoinen)', 'Kommentar (frivillig)'],
    rateSubmit: ['Send feedback', 'Lähetä palaute', 'Skicka respons'],
    rateMissing: ['Please choose a rating from 1 to 5.', 'Valitse arvosana 1–5.', 'Välj ett betyg från 1 till 5.'],
    rateThanks: ['Thank you for your feedback!', 'Kiitos palautteestasi!', 'Tack för din respons!'],
    newChat: ['Start a new chat', 'Aloita uusi chat', 'Starta en ny chatt'],
    identify: ['Identify', 'Tunnistaudu', 'Identifiera dig'],
    identifyName: ['Your name (demo identification)', 'Nimesi (demotunnistus)', 'Ditt namn (demoidentifiering)'],
    identifyGo: ['Identify me', 'Tunnistaudu', 'Identifiera mig'],
    identifyMissing: ['Please write your name.', 'Kirjoita nimesi.', 'Skriv ditt namn.'],
    identifyFailed: ['Identification failed. Please try again.', 'Tunnistautuminen epäonnistui. Yritä uudelleen.', 'Identifieringen misslyckades. Försök igen.'],
    identified: ['Identified: {name}', 'Tunnistettu: {name}', 'Identifierad: {name}'],
    cancel: ['Cancel', 'Peruuta', 'Avbryt'],
    errRate: ['You are sending messages very quickly. Please wait a moment; your message will be sent automatically.', 'Lähetät viestejä hyvin nopeasti. Odota hetki, viestisi lähetetään automaattisesti.', 'Du skickar meddelanden mycket snabbt. Vänta en stund, ditt meddelande skickas automatiskt.'],
    errClosedConv: ['This chat has ended, so new messages cannot be sent.', 'Keskustelu on päättynyt, joten uusia viestejä ei voi lähettää.', 'Chatten har avslutats, så nya meddelanden kan inte skickas.'],
    errTooLarge: ['The message is too long. Please shorten it.', 'Viesti on liian pitkä. Lyhennä sitä.', 'Meddelandet är för långt. Korta ner det.'],
    errLost: ['Your earlier chat could not be continued. You can start a new chat.', 'Aiempaa keskusteluasi ei voitu jatkaa. Voit aloittaa uuden chatin.', 'Din tidigare chatt kunde inte fortsätta. Du kan starta en ny chatt.'],
    errGeneric: ['Something went wrong. Please try again in a moment.', 'Jokin meni vikaan. Yritä hetken kuluttua uudelleen.', 'Något gick fel. Försök igen om en stund.'],
  };
  function t(key, vars) {
    const row = STR[key] || [key];
    const s = row[LI] || row[0];
    return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] != null ? String(vars[k]) : '')) : s;
  }

  // ---------------------------------------------------------------- persisted state
  function fresh(keep) {
    return Object.assign({
      conversation: null, resume_token: null, last_seq: 0, service: null, topic: null,
      status: null, assigned: false, queue: null, pending: [], read_seq: 0, read_sent: 0,
      closing: null, rated: false, pendingStart: null, pendingFeedback: null,
      token: null, identity: null, open: false,
    }, keep || {});
  }
  function load() {
    try {
      const s = JSON.parse(sessionStorage.getItem(KEY));
      if (s && typeof s === 'object') return fresh(s);
    } catch (e) { /* unavailable or corrupt storage: start afresh */ }
    return fresh();
  }
  function save() {
    try { sessionStorage.setItem(KEY, JSON.stringify(store)); } catch (e) { /* private mode */ }
  }
  let store = load();
  if (!Array.isArray(store.pending)) store.pending = [];

  function uuid() {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b); // also outside secure contexts, unlike crypto.randomUUID
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const x = Array.from(b, (v) => (v + 256).toString(16).slice(1)).join('');
    return x.slice(0, 8) + '-' + x.slice(8, 12) + '-' + x.slice(12, 16) + '-' + x.slice(16, 20) + '-' + x.slice(20);
  }

  // ---------------------------------------------------------------- DOM helpers, styles
  function h(tag, attrs) {
    const el = document.createElement(tag);
    for (const k in attrs || {}) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    const kids = Array.prototype.slice.call(arguments, 2).flat();
    kids.forEach((c) => { if (c != null && c !== false) el.append(c); });
    return el;
  }

  const CSS = `
:host { all: initial; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.root { font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1b1b1b; }
.vh { position: absolute !important; width: 1px; height: 1px; margin: -1px; padding: 0; border: 0; overflow: hidden; clip: rect(0 0 0 0); clip-path: inset(50%); white-space: nowrap; }
button, input, select, textarea { font: inherit; color: inherit; margin: 0; }
h2, h3, p { margin: 0; }
:focus { outline: 3px solid #0b0c0c; outline-offset: 2px; }
:focus:not(:focus-visible) { outline: none; }
[tabindex="-1"]:focus { outline: none; }
.launcher { position: fixed; right: 16px; bottom: 16px; z-index: 2147483000; display: inline-flex; align-items: center; gap: 8px;
  min-height: 52px; padding: 10px 18px; border: 2px solid #fff; border-radius: 999px; background: #0a4f8f; color: #fff;
  font-size: 17px; font-weight: 600; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.35); }
.launcher:hover { background: #083d70; }
.launcher svg { width: 24px; height: 24px; fill: currentColor; flex: none; }
.badge { min-width: 24px; padding: 0 7px; border-radius: 999px; background: #b3261e; color: #fff; font-size: 14px; line-height: 24px; text-align: center; }
.panel { position: fixed; right: 16px; bottom: 84px; z-index: 2147483001; display: flex; flex-direction: column;
  width: 390px; max-width: calc(100vw - 32px); height: 640px; max-height: calc(100vh - 104px); overflow: hidden;
  background: #fff; color: #1b1b1b; border: 1px solid #767676; border-radius: 12px; box-shadow: 0 10px 40px rgba(0,0,0,.3);
  animation: lk-in .18s ease-out; }
@keyframes lk-in { from { opacity: 0; transform: translateY(12px); } to { opacity: 1; transform: none; } }
.head { display: flex; align-items: center; gap: 8px; padding: 8px 8px 8px 16px; background: #0a4f8f; color: #fff; }
.head :focus { outline-color: #fff; }
.head .titles { flex: 1; min-width: 0; }
.head h2 { font-size: 18px; }
.identity { font-size: 14px; }
.icon-btn { min-width: 44px; min-height: 44px; padding: 0; border: 2px solid transparent; border-radius: 8px; background: transparent; color: #fff; font-size: 28px; line-height: 1; cursor: pointer; }
.icon-btn:hover, .head-btn:hover { border-color: #fff; }
.head-btn { min-height: 40px; padding: 4px 12px; border: 2px solid #fff; border-radius: 8px; background: #0a4f8f; color: #fff; font-size: 15px; font-weight: 600; cursor: pointer; }
.conn, .notice { padding: 6px 16px; font-size: 15px; }
.conn { background: #fff4ce; color: #3d2f00; border-bottom: 1px solid #a68a00; }
.notice { background: #eef4fb; color: #1b1b1b; border-bottom: 1px solid #6e8fb3; }
.conn:empty, .notice:empty { padding: 0; border: 0; }
.idform { padding: 10px 16px; border-bottom: 1px solid #c4c4c4; background: #f7f7f7; }
.row { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 8px; }
.scroll { flex: 1; min-height: 0; overflow-y: auto; padding: 12px 16px; overscroll-behavior: contain; }
.intro { margin-bottom: 6px; }
.emerg { margin-bottom: 14px; font-weight: 600; }
.field { margin: 0 0 14px; }
label, legend { display: block; margin-bottom: 4px; font-weight: 600; }
.req { font-weight: 400; color: #4a4a4a; }
select, textarea, input[type=text] { display: block; width: 100%; min-height: 44px; padding: 8px 10px; border: 2px solid #5a5a5a; border-radius: 6px; background: #fff; color: #1b1b1b; }
textarea { resize: vertical; }
::placeholder { color: #5f5f5f; opacity: 1; }
[aria-invalid="true"] { border-color: #b00020; }
.err { margin-top: 4px; color: #b00020; font-size: 15px; font-weight: 600; }
.btn { display: inline-flex; align-items: center; justify-content: center; min-height: 44px; padding: 8px 18px;
  border: 2px solid #0a4f8f; border-radius: 8px; background: #0a4f8f; color: #fff; font-weight: 600; cursor: pointer; }
.btn:hover { background: #083d70; }
.btn:disabled { border-color: #767676; background: #767676; cursor: not-allowed; }
.btn-secondary { background: #fff; color: #0a4f8f; }
.btn-secondary:hover { background: #eef4fb; }
.btn-block { width: 100%; }
.muted { color: #4a4a4a; font-size: 15px; }
.svc-closed { margin-bottom: 14px; padding: 10px 12px; border-left: 5px solid #b3261e; background: #fdf1f0; overflow-wrap: anywhere; }
.svc-closed h3, .queue h3, .closed h3 { margin-bottom: 4px; font-size: 17px; }
.svc-closed p + p { margin-top: 6px; }
.queue { margin-bottom: 4px; padding: 10px 12px; border: 1px solid #6e8fb3; border-radius: 8px; background: #eef4fb; }
.queue strong { font-size: 20px; }
.queue-note { margin: 6px 0 12px; }
.log { display: flex; flex-direction: column; gap: 8px; }
.msg { max-width: 85%; padding: 8px 12px; border-radius: 12px; }
.msg-client { align-self: flex-end; background: #0a4f8f; color: #fff; border-bottom-right-radius: 4px; }
.msg-professional { align-self: flex-start; background: #eceff3; color: #1b1b1b; border-bottom-left-radius: 4px; }
.msg-system { align-self: center; max-width: 100%; padding: 2px 8px; color: #4a4a4a; font-size: 14px; text-align: center; }
.meta, .state { font-size: 13px; }
.msg-client .meta, .msg-client .state { color: #e3eefa; }
.msg-professional .meta { color: #4a4a4a; }
.who { font-weight: 700; }
.body { white-space: pre-wrap; overflow-wrap: anywhere; }
.state { text-align: right; }
.msg[data-state="failed"] { border: 2px solid #b00020; background: #fdf1f0; color: #1b1b1b; }
.msg[data-state="failed"] .meta, .msg[data-state="failed"] .state { color: #b00020; }
.typing { margin-top: 8px; color: #4a4a4a; font-size: 15px; font-style: italic; animation: lk-pulse 1.4s ease-in-out infinite; }
@keyframes lk-pulse { 50% { opacity: .55; } }
.closed { margin-top: 14px; padding-top: 12px; border-top: 1px solid #c4c4c4; }
.closed > p { margin-bottom: 10px; }
fieldset { margin: 0 0 12px; padding: 0; border: 0; }
.stars { display: flex; flex-wrap: wrap; gap: 6px; }
.stars label { display: inline-flex; align-items: center; gap: 6px; min-width: 56px; min-height: 44px; margin: 0; padding: 6px 10px; border: 2px solid #5a5a5a; border-radius: 8px; cursor: pointer; }
.stars input { width: 20px; height: 20px; margin: 0; accent-color: #0a4f8f; }
.thanks { color: #0c5d2c; font-weight: 600; }
.thanks:not(:empty) { margin-bottom: 10px; }
.composer { display: flex; align-items: flex-end; gap: 8px; padding: 10px 12px; border-top: 1px solid #c4c4c4; background: #f7f7f7; }
.composer textarea { flex: 1; min-height: 48px; max-height: 140px; resize: none; }
.composer textarea:disabled { background: #ececec; color: #4a4a4a; }
@media (max-width: 480px), (max-height: 560px) {
  .panel { top: 0; left: 0; right: 0; bottom: 0; width: 100%; max-width: none; height: 100%; max-height: none; border: 0; border-radius: 0; }
  .root.is-open .launcher { display: none; }
}
@media (prefers-reduced-motion: reduce) { *, *::before, *::after { animation: none !important; transition: none !important; } }
@media (forced-colors: active) { .launcher, .btn, .msg, .badge { border: 2px solid CanvasText; } }
`;

  // ---------------------------------------------------------------- the widget's DOM
  const host = h('div', { id: 'luukku-widget-host' });
  host.style.setProperty('all', 'initial', 'important');
  host.style.setProperty('display', 'block', 'important');
  const shadow = host.attachShadow({ mode: 'open' });

  const badge = h('span', { class: 'badge', hidden: true });
  const icon = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  icon.setAttribute('viewBox', '0 0 24 24');
  icon.setAttribute('aria-hidden', 'true');
  icon.innerHTML = '<path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"/>';
  const launcher = h('button', { type: 'button', class: 'launcher', 'data-testid': 'launcher', 'aria-expanded': 'false', 'aria-controls': 'lk-panel', onclick: () => setOpen(!store.open, true) },
    icon, h('span', { text: t('launcher') }), badge);

  const titleEl = h('h2', { id: 'lk-title', tabindex: '-1', text: t('title') });
  const identityEl = h('p', { class: 'identity', hidden: true });
  const identifyBtn = h('button', { type: 'button', class: 'head-btn', 'data-testid': 'identify', hidden: true, text: t('identify'), onclick: openIdentify });
  const closeBtn = h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('closePanel'), onclick: () => setOpen(false, true) },
    h('span', { 'aria-hidden': 'true', text: '×' }));
  const connEl = h('div', { class: 'conn', 'data-testid': 'connection', role: 'status', 'aria-live': 'polite' });
  const noticeEl = h('div', { class: 'notice', 'data-testid': 'notice', role: 'status', 'aria-live': 'polite' });

  const idName = h('input', { id: 'lk-idname', type: 'text', autocomplete: 'name', maxlength: '100', 'aria-describedby': 'lk-idname-err' });
  const idErr = h('p', { class: 'err', id: 'lk-idname-err', hidden: true });
  const idSubmit = h('button', { type: 'submit', class: 'btn', text: t('identifyGo') });
  const idForm = h('form', { class: 'idform', hidden: true, novalidate: true, onsubmit: submitIdentify },
    h('label', { for: 'lk-idname', text: t('identifyName') }), idName, idErr,
    h('div', { class: 'row' }, idSubmit, h('button', { type: 'button', class: 'btn btn-secondary', text: t('cancel'), onclick: () => closeIdentify(true) })));

  // Start view: the service select stays; the part below is rebuilt per service.
  const serviceSel = h('select', { id: 'lk-service', 'data-testid': 'service', onchange: () => { renderFields(); } });
  const fieldsEl = h('div');
  const startStatus = h('div');
  const startForm = h('form', { novalidate: true, onsubmit: submitStart },
    h('p', { class: 'intro', text: t('intro') }), h('p', { class: 'emerg', text: t('emergency') }),
    h('div', { class: 'field' }, h('label', { for: 'lk-service', text: t('service') }), serviceSel), fieldsEl);
  const startView = h('div', {}, startStatus, startForm);

  // Chat view.
  const qTitle = h('h3', { tabindex: '-1' });
  const qPos = h('strong', { 'data-testid': 'queue-position' });
  const qWait = h('span', { 'data-testid': 'queue-wait' });
  const qDetails = h('div', {}, h('p', {}, t('queuePos') + ' ', qPos), h('p', {}, t('queueWait') + ' ', qWait));
  const queueEl = h('div', { class: 'queue', 'data-testid': 'queue-status', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' }, qTitle, qDetails);
  const queueNote = h('p', { class: 'muted queue-note', text: t('queueKeep') });
  const logEl = h('div', { class: 'log', 'data-testid': 'messages', role: 'log', 'aria-live': 'polite', 'aria-label': t('messages') });
  const typingEl = h('p', { class: 'typing', 'data-testid': 'typing', hidden: true });

  const closedHead = h('h3', { id: 'lk-closed-h', tabindex: '-1', text: t('closedHeading') });
  const closingMsg = h('p', { 'data-testid': 'closing-message' });
  const radios = [1, 2, 3, 4, 5].map((n) => h('input', { type: 'radio', name: 'lk-rating', value: n, 'data-testid': 'rating-' + n, id: 'lk-rate-' + n }));
  const rateErr = h('p', { class: 'err', id: 'lk-rate-err', hidden: true });
  const rateComment = h('textarea', { id: 'lk-rate-comment', 'data-testid': 'rating-comment', rows: '3', maxlength: '2000' });
  const rateSubmit = h('button', { type: 'submit', class: 'btn', 'data-testid': 'rating-submit', text: t('rateSubmit') });
  const rateForm = h('form', { novalidate: true, onsubmit: submitRating },
    h('fieldset', { 'aria-describedby': 'lk-rate-err' }, h('legend', { text: t('rateLegend') }),
      h('div', { class: 'stars' }, radios.map((r, i) => h('label', { for: r.id }, r, String(i + 1)))), rateErr),
    h('div', { class: 'field' }, h('label', { for: 'lk-rate-comment', text: t('rateComment') }), rateComment), rateSubmit);
  const thanksEl = h('p', { class: 'thanks', 'data-testid': 'rating-thanks', role: 'status', tabindex: '-1' });
  const newChatBtn = h('button', { type: 'button', class: 'btn btn-secondary', hidden: true, text: t('newChat'), onclick: () => resetToStart(false) });
  const closedEl = h('section', { class: 'closed', 'data-testid': 'closed', 'aria-labelledby': 'lk-closed-h', hidden: true },
    closedHead, closingMsg, rateForm, thanksEl, newChatBtn);
  const chatView = h('div', { hidden: true }, queueEl, queueNote, logEl, typingEl, closedEl);
  const scroll = h('div', { class: 'scroll' }, startView, chatView);

  const composer = h('textarea', { id: 'lk-composer', 'data-testid': 'composer', rows: '2', maxlength: MAX_BODY, placeholder: t('composerPh'), 'aria-describedby': 'lk-hint' });
  const sendBtn = h('button', { type: 'submit', class: 'btn', 'data-testid': 'send', text: t('send') });
  const footer = h('form', { class: 'composer', hidden: true, onsubmit: (e) => { e.preventDefault(); sendMessage(); composer.focus(); } },
    h('label', { for: 'lk-composer', class: 'vh', text: t('composer') }), composer, sendBtn,
    h('p', { id: 'lk-hint', class: 'vh', text: t('composerHint') }));

  const panel = h('section', { id: 'lk-panel', class: 'panel', 'data-testid': 'panel', role: 'dialog', 'aria-label': t('panelLabel'), hidden: true, lang: LANGS[LI] },
    h('div', { class: 'head' }, h('div', { class: 'titles' }, titleEl, identityEl), identifyBtn, closeBtn),
    connEl, noticeEl, idForm, scroll, footer);
  const root = h('div', { class: 'root', lang: LANGS[LI] }, panel, launcher);
  shadow.append(h('style', { text: CSS }), root);

  // ---------------------------------------------------------------- runtime state
  let ws = null;               // the current WebSocket
  let welcomed = false;        // hello answered on the current socket
  let everWelcomed = false;
  let replayAll = true;        // the first hello of a page load redraws the whole history
  let attempt = 0;             // reconnect attempts since the last welcome
  let retryTimer = 0;
  let reconnectNow = false;
  let identifying = false;     // reconnecting on purpose with a new token: no alarm
  let reqNo = 0;
  const reqs = new Map();      // req → {kind, id}
  const seen = new Set();      // seqs drawn
  const own = new Map();       // client_msg_id → {el, seq}
  let early = [];              // conversation frames that overtook the `queued` reply
  let services = null;         // list from /api/v1/services
  let servicesState = 'idle';  // idle | loading | ok | failed
  let demo = false;
  let demoChecked = false;
  let proName = null;
  let lastProSeq = 0;
  let unread = 0;
  let closedReady = store.status === 'complete';
  let closeTimer = 0;
  let typingOn = false;
  let typingTimer = 0;
  let typingHide = 0;
  let noticeTimer = 0;
  let resendTimer = 0;
  let fields = [];             // [{q, ctl, err}] of the current questionnaire

  // ---------------------------------------------------------------- connection
  function raw(frame) {
    if (!ws || ws.readyState !== 1) return false;
    try { ws.send(JSON.stringify(frame)); return true; } catch (e) { return false; }
  }
  function send(frame, kind, id) {
    if (!welcomed) return false;
    if (kind) {
      frame.req = String(++reqNo);
      reqs.set(frame.req, { kind: kind, id: id });
    }
    return raw(frame);
  }
  function active() { return !!(store.conversation || store.pendingStart); }

  function connect() {
    clearTimeout(retryTimer);
    if (ws) return;
    let sock;
    try { sock = new WebSocket(WS_URL, 'luukku.v1.json'); } catch (e) { scheduleReconnect(0); return; }
    ws = sock;
    welcomed = false;
    sock.onopen = () => {
      const hello = { type: 'hello', resume: [] };
      if (store.token) hello.token = store.token;
      if (store.conversation) {
        hello.resume.push({ conversation: store.conversation, resume_token: store.resume_token, after_seq: replayAll ? 0 : store.last_seq });
      }
      raw(hello);
    };
    sock.onmessage = (e) => {
      let f;
      try { f = JSON.parse(e.data); } catch (err) { return; }
      try { onFrame(f); } catch (err) { /* an unexpected frame must never break the widget */ }
    };
    sock.onerror = () => {};
    sock.onclose = (e) => {
      if (ws !== sock) return;
      ws = null;
      welcomed = false;
      if (e.code === 4401) { store.token = null; store.identity = null; save(); } // identification expired
      scheduleReconnect(e.code);
    };
  }
  function scheduleReconnect(code) {
    clearTimeout(retryTimer);
    if (!active()) { renderConn(); return; }
    let delay = reconnectNow ? 0 : Math.min(30000, 500 * Math.pow(2, attempt)) * (0.75 + Math.random() / 2);
    if (code === 4429) delay = Math.max(delay, 10000);
    reconnectNow = false;
    attempt++;
    retryTimer = setTimeout(connect, delay);
    renderConn();
  }

  // ---------------------------------------------------------------- inbound frames
  function onFrame(f) {
    if (!f || typeof f !== 'object' || typeof f.type !== 'string') return;
    if (f.type === 'welcome') return onWelcome(f);
    if (f.type === 'queued') return onQueued(f);
    if (f.type === 'error') return onError(f);
    if (typeof f.conversation !== 'string') return;
    if (!store.conversation) {
      if (store.pendingStart && early.length < 500) early.push(f);
      return;
    }
    if (f.conversation !== store.conversation) return;
    switch (f.type) {
      case 'message': case 'system': return onEvent(f);
      case 'ack': return onAck(f);
      case 'queue':
        if (typeof f.position === 'number') store.queue = { position: f.position, wait: f.estimated_wait_s };
        save(); render(); return;
      case 'typing': if (f.role === 'professional') showTyping(f.active === true); return;
      case 'read': if (f.role === 'professional') markRead(f.seq); return;
      case 'closed':
        store.closing = typeof f.message === 'string' ? f.message : '';
        store.status = 'complete';
        save(); render(); return;
      default: return;
    }
  }

  function onWelcome(f) {
    welcomed = true;
    everWelcomed = true;
    identifying = false;
    attempt = 0;
    const id = f.identity || {};
    store.identity = id.kind === 'identified' ? (id.name || '✓') : null;
    const sum = (Array.isArray(f.conversations) ? f.conversations : []).filter((c) => c && c.conversation === store.conversation)[0];
    if (sum && typeof sum.status === 'string') {
      if (replayAll) store.status = sum.status;
      if (sum.status === 'complete') closedReady = true;
    }
    replayAll = false;
    save();
    if (store.pendingStart) sendStart();
    resendPending();
    if (store.pendingFeedback && !store.rated) sendFeedback();
    maybeSendRead();
    render();
  }

  function onQueued(f) {
    if (!store.pendingStart && f.conversation !== store.conversation) return;
    const isNew = store.conversation !== f.conversation;
    store.conversation = f.conversation;
    store.resume_token = f.resume_token;
    store.team = f.team;
    store.pendingStart = null;
    if (isNew || store.status === 'starting' || !store.status) store.status = 'queued';
    if (typeof f.position === 'number') store.queue = { position: f.position, wait: f.estimated_wait_s };
    save();
    const buffered = early;
    early = [];
    buffered.forEach((g) => { if (g.conversation === store.conversation) onFrame(g); });
    render();
  }

  function onEvent(f) {
    if (typeof f.seq !== 'number') return;
    if (f.seq > store.last_seq) store.last_seq = f.seq;
    if (!seen.has(f.seq)) {
      seen.add(f.seq);
      if (f.type === 'message') onMessage(f); else onSystem(f);
    }
    save();
    render();
  }

  function onMessage(f) {
    const from = f.from || {};
    const role = from.role === 'client' || from.role === 'professional' ? from.role : 'system';
    const body = typeof f.body === 'string' ? f.body : '';
    if (role === 'client') {
      const mine = f.client_msg_id && own.get(f.client_msg_id);
      if (mine) return confirmOwn(f.client_msg_id, f.seq, f.at);
      const el = row('client', t('you'), body, f.at, f.seq, f.seq <= store.read_seq ? 'read' : 'sent');
      if (f.client_msg_id) own.set(f.client_msg_id, { el: el, seq: f.seq });
      return;
    }
    if (role === 'professional') {
      if (from.name) proName = from.name;
      lastProSeq = Math.max(lastProSeq, f.seq);
      showTyping(false);
      if (f.seq > store.read_sent && !isVisible()) unread++;
    }
    row(role, from.name || t('professional'), body, f.at, f.seq);
    renderBadge();
    maybeSendRead();
  }

  function onSystem(f) {
    const d = f.detail && typeof f.detail === 'object' ? f.detail : {};
    let text;
    switch (f.event) {
      case 'queued':
        store.status = 'queued';
        text = d.reason === 'professional_disconnected' ? t('sysRequeued') : t('sysQueued');
        break;
      case 'assigned':
      case 'reopened':
        if (d.name) proName = d.name;
        if (f.event === 'reopened') { store.closing = null; store.rated = false; closedReady = false; resetRating(); }
        store.status = 'in_progress';
        store.assigned = true;
        store.queue = null;
        text = t(f.event === 'assigned' ? 'sysAssigned' : 'sysReopened', { name: d.name || t('professional') });
        break;
      case 'transferred':
        store.status = 'queued';
        store.queue = null;
        text = t('sysTransferred');
        break;
      case 'closed':
        store.status = 'complete';
        showTyping(false);
        // The organisation's message follows in a `closed` frame: wait briefly for it.
        clearTimeout(closeTimer);
        if (!closedReady) closeTimer = setTimeout(() => { closedReady = true; render(); }, 1500);
        text = t('sysClosed');
        break;
      default:
        return; // an event this widget does not know: nothing to show
    }
    row('system', null, text, f.at, f.seq);
  }

  function onAck(f) {
    const r = f.req && reqs.get(f.req);
    if (f.req) reqs.delete(f.req);
    if (f.client_msg_id && own.has(f.client_msg_id) && typeof f.seq === 'number') {
      confirmOwn(f.client_msg_id, f.seq, f.at);
    } else if (r && r.kind === 'feedback') {
      store.rated = true;
      store.pendingFeedback = null;
      save();
      render();
    }
  }

  function onError(f) {
    const r = (f.req && reqs.get(f.req)) || {};
    if (f.req) reqs.delete(f.req);
    const code = f.code;
    if (code === 'service_closed' && store.pendingStart) {
      const svc = findService(store.pendingStart.service);
      if (svc) { svc.open_now = false; if (f.message) svc.closed_message = f.message; }
      const had = panelHasFocus();
      abandonStart();
      const head = fieldsEl.querySelector('h3');
      if (had && head) head.focus();
      return;
    }
    if (code === 'forbidden' && f.conversation && f.conversation === store.conversation && !r.kind) {
      return resetToStart(true); // the resume token no longer opens this conversation
    }
    if (code === 'rate_limited' || code === 'internal') {
      notice(t(code === 'rate_limited' ? 'errRate' : 'errGeneric'));
      clearTimeout(resendTimer);
      resendTimer = setTimeout(() => {
        if (store.pendingStart) sendStart();
        resendPending();
      }, code === 'rate_limited' ? 3000 : 4000);
      return;
    }
    if (code === 'conversation_closed') {
      store.pending.slice().forEach((p) => failOwn(p.id));
      store.status = 'complete';
      closedReady = true;
      save(); render();
      return notice(t('errClosedConv'));
    }
    if (r.kind === 'send') failOwn(r.id);
    if (r.kind === 'start') abandonStart();
    notice(t(code === 'too_large' ? 'errTooLarge' : 'errGeneric'));
  }

  // ---------------------------------------------------------------- messages
  function fmtTime(at) {
    const d = at ? new Date(at) : new Date();
    if (isNaN(d.getTime())) return '';
    const hm = { hour: '2-digit', minute: '2-digit' };
    return d.toDateString() === new Date().toDateString()
      ? d.toLocaleTimeString(LOCALE, hm)
      : d.toLocaleString(LOCALE, Object.assign({ day: 'numeric', month: 'numeric' }, hm));
  }
  function fmtWait(s) {
    if (typeof s !== 'number' || s < 0) return t('waitUnknown');
    return s < 60 ? t('waitUnder') : t('waitMin', { n: Math.ceil(s / 60) });
  }

  /** Draws one row of the log (placed by seq; rows without a seq yet stay last). */
  function row(role, who, text, at, seq, state) {
    const el = h('div', { class: 'msg msg-' + role, 'data-testid': 'message', 'data-role': role });
    const time = h('time', { datetime: at || new Date().toISOString(), text: fmtTime(at) });
    if (role === 'system') el.append(h('p', {}, text + ' ', time));
    else el.append(h('p', { class: 'meta' }, h('span', { class: 'who', text: who }), ' · ', time), h('p', { class: 'body', text: text }));
    if (state) { el.append(h('p', { class: 'state' })); setState(el, state); }
    const near = scroll.scrollHeight - scroll.scrollTop - scroll.clientHeight < 80;
    place(el, seq);
    if (near || role === 'client') scrollDown();
    return el;
  }
  function place(el, seq) {
    if (typeof seq !== 'number') return logEl.append(el);
    el.setAttribute('data-seq', String(seq));
    let before = null;
    for (const c of logEl.children) {
      const s = c === el ? '' : c.getAttribute('data-seq');
      if (s === null || Number(s) > seq) { before = c; break; }
    }
    logEl.insertBefore(el, before);
  }
  function setState(el, s) {
    el.setAttribute('data-state', s);
    const p = el.querySelector('.state');
    if (p) p.textContent = t(s);
  }
  function scrollDown() { scroll.scrollTop = scroll.scrollHeight; }

  function sendMessage() {
    const body = composer.value;
    if (!body.trim() || composer.disabled || !store.conversation) return;
    if (body.length > MAX_BODY) return notice(t('errTooLarge'));
    const p = { id: uuid(), body: body, at: new Date().toISOString() };
    store.pending.push(p);
    save();
    composer.value = '';
    autosize();
    stopTyping();
    drawPending(p);
    transmit(p);
  }
  function drawPending(p) {
    own.set(p.id, { el: row('client', t('you'), p.body, p.at, undefined, 'sending'), seq: null });
  }
  function transmit(p) {
    send({ type: 'send', conversation: store.conversation, client_msg_id: p.id, body: p.body }, 'send', p.id);
  }
  function resendPending() { store.pending.forEach(transmit); } // same client_msg_id: idempotent
  function confirmOwn(id, seq, at) {
    const o = own.get(id);
    store.pending = store.pending.filter((p) => p.id !== id);
    save();
    if (!o || o.seq) return;
    o.seq = seq;
    seen.add(seq);
    if (at) { const tm = o.el.querySelector('time'); tm.setAttribute('datetime', at); tm.textContent = fmtTime(at); }
    setState(o.el, seq <= store.read_seq ? 'read' : 'sent');
    place(o.el, seq);
  }
  function failOwn(id) {
    const o = own.get(id);
    store.pending = store.pending.filter((p) => p.id !== id);
    save();
    if (o && !o.seq) setState(o.el, 'failed');
  }
  function markRead(seq) {
    if (typeof seq !== 'number' || seq <= store.read_seq) return;
    store.read_seq = seq;
    save();
    own.forEach((o) => { if (o.seq && o.seq <= seq) setState(o.el, 'read'); });
  }
  function maybeSendRead() {
    if (!isVisible()) return;
    unread = 0;
    renderBadge();
    if (welcomed && lastProSeq > store.read_sent) {
      send({ type: 'read', conversation: store.conversation, seq: lastProSeq });
      store.read_sent = lastProSeq;
      save();
    }
  }
  function isVisible() { return store.open && document.visibilityState !== 'hidden'; }

  function showTyping(on) {
    clearTimeout(typingHide);
    typingEl.textContent = t('typing', { name: proName || t('professional') });
    typingEl.hidden = !on;
    if (on) typingHide = setTimeout(() => { typingEl.hidden = true; }, 15000); // a lost "false"
  }
  function onComposerInput() {
    autosize();
    if (!composer.value.trim()) return stopTyping();
    if (!typingOn && send({ type: 'typing', conversation: store.conversation, active: true })) typingOn = true;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(stopTyping, 3000);
  }
  function stopTyping() {
    clearTimeout(typingTimer);
    if (typingOn) send({ type: 'typing', conversation: store.conversation, active: false });
    typingOn = false;
  }
  function autosize() {
    composer.style.height = 'auto';
    composer.style.height = Math.min(composer.scrollHeight + 4, 140) + 'px';
  }
  composer.addEventListener('input', onComposerInput);
  composer.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendMessage();
    }
  });

  // ---------------------------------------------------------------- start form
  function findService(id) { return (services || []).filter((s) => s && s.id === id)[0] || null; }

  async function loadServices() {
    if (servicesState === 'loading' || servicesState === 'ok') return;
    servicesState = 'loading';
    renderStart();
    try {
      const res = await fetch(ROOT + '/api/v1/services', { credentials: 'omit' });
      if (!res.ok) throw new Error('HTTP ' + res.status);
      const j = await res.json();
      services = (Array.isArray(j.services) ? j.services : []).filter((s) => s && typeof s.id === 'string');
      servicesState = 'ok';
    } catch (e) {
      servicesState = 'failed';
    }
    const hadTitleFocus = shadow.activeElement === titleEl;
    renderStart();
    if (hadTitleFocus && !startView.hidden && servicesState === 'ok') serviceSel.focus();
  }
  async function checkDemo() {
    if (demoChecked) return;
    demoChecked = true;
    try {
      const res = await fetch(ROOT + '/api/v1/dev/professionals', { credentials: 'omit' });
      demo = res.status === 200;
    } catch (e) { demo = false; }
    render();
  }

  function renderStart() {
    startStatus.textContent = '';
    startForm.hidden = servicesState !== 'ok';
    if (servicesState === 'loading' || servicesState === 'idle') startStatus.append(h('p', { role: 'status', text: t('loading') }));
    if (servicesState === 'failed') {
      startStatus.append(h('p', { role: 'alert', text: t('loadFailed') }),
        h('button', { type: 'button', class: 'btn', text: t('retry'), onclick: () => { servicesState = 'idle'; loadServices(); } }));
    }
    if (servicesState !== 'ok') return;
    serviceSel.textContent = '';
    services.forEach((s) => serviceSel.append(h('option', { value: s.id, text: s.name || s.id })));
    const pre = store.service || script.dataset.service;
    if (findService(pre)) serviceSel.value = pre;
    renderFields();
  }

  function renderFields() {
    const svc = findService(serviceSel.value);
    fieldsEl.textContent = '';
    fields = [];
    if (!svc) return;
    if (svc.open_now === false) {
      fieldsEl.append(h('div', { class: 'svc-closed', 'data-testid': 'service-closed', role: 'status' },
        h('h3', { tabindex: '-1', text: t('closedTitle') }),
        svc.closed_message ? h('p', { text: svc.closed_message }) : null,
        h('p', { text: t('closedGuide') })));
      return;
    }
    const topics = Array.isArray(svc.topics) ? svc.topics : [];
    if (topics.length) {
      const sel = h('select', { id: 'lk-topic', 'data-testid': 'topic', 'aria-required': 'true', 'aria-describedby': 'lk-topic-err' },
        h('option', { value: '', text: t('choose') }), topics.map((x) => h('option', { value: x.id, text: x.name || x.id })));
      const err = h('p', { class: 'err', id: 'lk-topic-err', hidden: true });
      fieldsEl.append(h('div', { class: 'field' }, h('label', { for: 'lk-topic' }, t('topic') + ' ', h('span', { class: 'req', text: t('required') })), sel, err));
      fields.push({ q: { id: '\u0000topic', kind: 'topic', required: true }, ctl: sel, err: err });
    }
    const qs = svc.questionnaire && Array.isArray(svc.questionnaire.questions) ? svc.questionnaire.questions : [];
    qs.forEach((q, i) => {
      if (!q || typeof q.id !== 'string') return;
      const id = 'lk-q-' + i;
      let ctl;
      if (q.kind === 'choice' || q.kind === 'yes_no') {
        const opts = q.kind === 'yes_no' ? [['yes', t('yes')], ['no', t('no')]] : (q.options || []).map((o) => [String(o), String(o)]);
        ctl = h('select', { id: id }, h('option', { value: '', text: t('choose') }), opts.map((o) => h('option', { value: o[0], text: o[1] })));
      } else {
        ctl = h('textarea', { id: id, rows: '2', maxlength: '2000' });
      }
      ctl.setAttribute('data-testid', 'q-' + q.id);
      ctl.setAttribute('aria-describedby', id + '-err');
      if (q.required) ctl.setAttribute('aria-required', 'true');
      const err = h('p', { class: 'err', id: id + '-err', hidden: true });
      fieldsEl.append(h('div', { class: 'field' },
        h('label', { for: id }, (q.label || q.id) + ' ', q.required ? h('span', { class: 'req', text: t('required') }) : null), ctl, err));
      fields.push({ q: q, ctl: ctl, err: err });
    });
    fieldsEl.append(h('p', { class: 'err', id: 'lk-start-err', role: 'alert' }),
      h('button', { type: 'submit', class: 'btn btn-block', 'data-testid': 'start', text: t('start') }));
  }

  function submitStart(e) {
    e.preventDefault();
    const svc = findService(serviceSel.value);
    if (!svc || svc.open_now === false) return;
    let topic = null;
    let firstBad = null;
    const answers = {};
    fields.forEach((f) => {
      const v = f.ctl.value.trim();
      const missing = f.q.required && !v;
      f.err.hidden = !missing;
      f.err.textContent = missing ? t(f.q.kind === 'topic' ? 'errTopic' : 'errRequired') : '';
      if (missing) f.ctl.setAttribute('aria-invalid', 'true'); else f.ctl.removeAttribute('aria-invalid');
      if (missing && !firstBad) firstBad = f.ctl;
      if (!v) return;
      if (f.q.kind === 'topic') topic = v;
      else answers[f.q.id] = f.q.kind === 'yes_no' ? v === 'yes' : v;
    });
    const summary = shadow.getElementById('lk-start-err');
    if (summary) summary.textContent = firstBad ? t('errSummary') : '';
    if (firstBad) return firstBad.focus();
    const start = { service: svc.id, client_ref: uuid() };
    if (topic) start.topic = topic;
    if (Object.keys(answers).length) start.questionnaire = answers;
    store = fresh({ token: store.token, identity: store.identity, open: store.open, service: svc.id, topic: topic, status: 'starting', pendingStart: start });
    save();
    resetChat();
    render();
    qTitle.focus();
    if (welcomed) sendStart(); else { attempt = 0; connect(); }
  }
  function sendStart() {
    const s = store.pendingStart;
    const f = { type: 'start', service: s.service, client_ref: s.client_ref };
    if (s.topic) f.topic = s.topic;
    if (s.questionnaire) f.questionnaire = s.questionnaire;
    send(f, 'start');
  }
  function abandonStart() {
    store.pendingStart = null;
    store.status = null;
    save();
    render();
    renderFields();
  }

  // ---------------------------------------------------------------- closing and rating
  function submitRating(e) {
    e.preventDefault();
    const chosen = radios.filter((r) => r.checked)[0];
    rateErr.hidden = !!chosen;
    rateErr.textContent = chosen ? '' : t('rateMissing');
    if (!chosen) return radios[0].focus();
    store.pendingFeedback = { rating: Number(chosen.value), comment: rateComment.value.trim() };
    save();
    sendFeedback(); // a repeat is harmless: the server keeps the first rating
    if (!ws) { attempt = 0; connect(); }
  }
  function sendFeedback() {
    const p = store.pendingFeedback;
    const f = { type: 'feedback', conversation: store.conversation, rating: p.rating };
    if (p.comment) f.comment = p.comment;
    send(f, 'feedback');
  }
  function resetRating() {
    radios.forEach((r) => { r.checked = false; });
    rateComment.value = '';
    rateErr.hidden = true;
  }
  /** Back to the start form: after a rated chat, or when a conversation cannot be resumed. */
  function resetToStart(lost) {
    store = fresh({ token: store.token, identity: store.identity, open: store.open, service: store.service });
    save();
    resetChat();
    render();
    if (servicesState === 'ok') { renderFields(); if (!lost) serviceSel.focus(); } else loadServices();
    if (lost) notice(t('errLost'));
  }
  function resetChat() {
    logEl.textContent = '';
    seen.clear();
    own.clear();
    early = [];
    proName = null;
    lastProSeq = 0;
    unread = 0;
    closedReady = false;
    clearTimeout(closeTimer);
    showTyping(false);
    resetRating();
    renderBadge();
  }

  // ---------------------------------------------------------------- identification (demo)
  function openIdentify() {
    idForm.hidden = false;
    idErr.hidden = true;
    idName.focus();
  }
  function closeIdentify(refocus) {
    idForm.hidden = true;
    if (refocus && !identifyBtn.hidden) identifyBtn.focus();
  }
  async function submitIdentify(e) {
    e.preventDefault();
    const name = idName.value.trim();
    const fail = (msg) => { idErr.textContent = msg; idErr.hidden = false; idName.setAttribute('aria-invalid', 'true'); idName.focus(); };
    if (!name) return fail(t('identifyMissing'));
    idName.removeAttribute('aria-invalid');
    idSubmit.disabled = true;
    try {
      const sub = 'demo-' + uuid().replace(/-/g, '').slice(0, 16);
      const res = await fetch(ROOT + '/api/v1/dev/token', {
        method: 'POST', credentials: 'omit', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client: { sub: sub, name: name } }),
      });
      const j = res.ok ? await res.json() : null;
      if (!j || typeof j.token !== 'string') throw new Error('no token');
      store.token = j.token;
      save();
      closeIdentify(false);
      (!footer.hidden && !composer.disabled ? composer : titleEl).focus();
      // Reconnect with the token; the conversation continues through resume.
      reconnectNow = identifying = true;
      if (ws) ws.close(1000, 'identify'); else connect();
    } catch (err) {
      fail(t('identifyFailed'));
    } finally {
      idSubmit.disabled = false;
    }
  }

  // ---------------------------------------------------------------- rendering
  function notice(text) {
    clearTimeout(noticeTimer);
    noticeEl.textContent = text;
    noticeTimer = setTimeout(() => { noticeEl.textContent = ''; }, 10000);
  }
  function renderConn() {
    const down = active() && !welcomed && !identifying && (attempt > 0 || everWelcomed);
    connEl.textContent = down ? t('reconnecting') : '';
  }
  function renderBadge() {
    badge.hidden = unread === 0 || store.open;
    badge.textContent = '';
    badge.append(h('span', { 'aria-hidden': 'true', text: String(unread) }), h('span', { class: 'vh', text: t('newCount', { n: unread }) }));
  }
  function panelHasFocus() {
    const a = shadow.activeElement;
    return !!a && panel.contains(a);
  }

  function render() {
    const inChat = active();
    const st = store.status;
    const complete = st === 'complete';
    const showClosed = inChat && complete && (closedReady || store.closing !== null);
    const focusIn = panelHasFocus();
    const a = shadow.activeElement;
    const typingInField = a && /^(TEXTAREA|INPUT|SELECT)$/.test(a.tagName);
    const footerWasHidden = footer.hidden || composer.disabled;
    const closedWasHidden = closedEl.hidden;
    const rateWasShown = !rateForm.hidden;

    startView.hidden = inChat;
    chatView.hidden = !inChat;
    if (inChat) { scroll.setAttribute('tabindex', '0'); scroll.setAttribute('role', 'region'); scroll.setAttribute('aria-label', t('conversation')); }
    else { scroll.removeAttribute('tabindex'); scroll.removeAttribute('role'); scroll.removeAttribute('aria-label'); }

    const waiting = inChat && (st === 'starting' || st === 'queued');
    queueEl.hidden = !waiting;
    queueNote.hidden = !waiting || store.assigned;
    qTitle.textContent = st === 'starting' ? t('starting') : t('queueTitle');
    const q = store.queue;
    qDetails.hidden = !(waiting && q && typeof q.position === 'number');
    if (q) { qPos.textContent = String(q.position); qWait.textContent = fmtWait(q.wait); }

    footer.hidden = !inChat || !(store.assigned || complete);
    const locked = complete && showClosed;
    composer.disabled = sendBtn.disabled = locked || st === 'starting';
    composer.placeholder = locked ? t('composerEnded') : t('composerPh');
    if (locked) stopTyping();

    closedEl.hidden = !showClosed;
    closingMsg.textContent = store.closing || t('closedDefault');
    rateForm.hidden = store.rated;
    thanksEl.textContent = store.rated ? t('rateThanks') : '';
    newChatBtn.hidden = !store.rated;

    identifyBtn.hidden = !(demo && store.conversation && !complete && !store.identity);
    if (identifyBtn.hidden) idForm.hidden = true;
    identityEl.hidden = !store.identity;
    identityEl.textContent = store.identity ? t('identified', { name: store.identity }) : '';
    renderConn();

    if (focusIn && showClosed && rateWasShown && store.rated) thanksEl.focus();
    else if (focusIn && showClosed && closedWasHidden) { closedHead.focus(); closedEl.scrollIntoView({ block: 'nearest' }); }
    else if (focusIn && footerWasHidden && !footer.hidden && !composer.disabled && !typingInField) composer.focus();
    else if (focusIn && !panelHasFocus()) titleEl.focus(); // the focused control was hidden
  }

  function setOpen(open, moveFocus) {
    store.open = open;
    save();
    panel.hidden = !open;
    root.classList.toggle('is-open', open);
    launcher.setAttribute('aria-expanded', String(open));
    renderBadge();
    if (!open) {
      if (moveFocus) launcher.focus();
      return;
    }
    checkDemo();
    if (!active()) loadServices();
    maybeSendRead();
    scrollDown();
    if (!moveFocus) return;
    if (!active()) (servicesState === 'ok' ? serviceSel : titleEl).focus();
    else if (!closedEl.hidden && !store.rated) closedHead.focus();
    else if (!footer.hidden && !composer.disabled) composer.focus();
    else titleEl.focus();
  }

  root.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || !store.open) return;
    if (!idForm.hidden && idForm.contains(shadow.activeElement)) return closeIdentify(true);
    e.stopPropagation();
    setOpen(false, true);
  });

  // ---------------------------------------------------------------- start-up
  function init() {
    document.body.appendChild(host);
    store.pending.forEach(drawPending);
    render();
    if (active()) { connect(); checkDemo(); }
    if (store.open) setOpen(true, false);
    document.addEventListener('visibilitychange', maybeSendRead);
    window.addEventListener('online', () => {
      if (!ws && active()) { attempt = 0; connect(); }
    });
  }
  window.LuukkuWidget = { open: () => setOpen(true, true), close: () => setOpen(false, false) };
  if (document.body) init(); else document.addEventListener('DOMContentLoaded', init);
})();
