// The console's state: `S` (the professional, teams, queues, chats), one object per chat
// (`newChat`) with its own letter and colour, the session store (`luukku.console.v1`: what a
// reload needs) and the small formatting helpers the views share. The bottom layer: it imports
// only the texts, so every other module can use it without a cycle.

import { locale, t } from './i18n.js';

export const STORE_KEY = 'luukku.console.v1';
export const PALETTE = 8;
export const PAGE = 50;
export const $ = (id) => document.getElementById(id);

export const fmtTime = (at) => {
  const d = at ? new Date(at) : new Date();
  return isNaN(d) ? '' : d.toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' });
};
export function fmtWait(s) {
  s = Math.max(0, Math.floor(s));
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}
export const colon = (label) => (/[?:]$/.test(label) ? label : `${label}:`);
export const fmtAnswer = (v) => Array.isArray(v) ? v.join(', ') : v === true ? t('yes') : v === false ? t('no') : String(v);
export function loadStore() {
  try { return JSON.parse(sessionStorage.getItem(STORE_KEY)) || {}; } catch { return {}; }
}
export function saveStore() {
  if (!S.token) return;
  const last_seq = {}, labels = {}, drafts = {}, pending = {}, modes = {}, sms_on = [];
  for (const c of S.chats.values()) {
    labels[c.id] = { letter: c.letter, colour: c.colour, anon: c.anonNo, unread: c.unread };
    if (c.status !== 'open') continue;
    last_seq[c.id] = c.maxSeq;
    if (c.el.composer && c.el.composer.value) drafts[c.id] = c.el.composer.value;
    if (c.mode === 'note') modes[c.id] = 'note';
    if (c.smsChosen) sms_on.push(c.id);
    const p = [...c.pending.values()].filter((x) => x.state === 'sending');
    if (p.length) pending[c.id] = p.map(({ id, kind, body, at, sms }) => ({ id, kind, body, at, ...(sms ? { sms } : {}) }));
  }
  const data = { professional: S.meId, token: S.token, last_seq, labels, drafts, pending, modes, sms_on,
    letters: S.letters, next_letter: S.nextLetter, closed_open: S.closedOpen,
    availability: S.chosenAvailability, anon_counter: S.anonCounter, active: S.activeId, supervising: S.supervising, view: S.view };
  try { sessionStorage.setItem(STORE_KEY, JSON.stringify(data)); } catch { /* storage full or off */ }
}
export function announce(text) {
  const live = $('live');
  live.textContent = '';
  setTimeout(() => { live.textContent = text; }, 30);
}

export const S = {
  token: null, meId: null, me: null, stored: {},
  services: [], teams: [], pros: null,
  capacity: null, availability: 'available', chosenAvailability: null,
  queues: new Map(), chats: new Map(), activeId: null, anonCounter: 0, uid: 0, audio: null,
  letters: {},      // conversation → its letter, for the whole shift (never given to another chat)
  nextLetter: 0,    // index of the next letter to give: A … Z, AA, AB …
  closedOpen: false, // the "Closed (n)" group of tabs is expanded
  retractWindow: 0,  // seconds a professional may take back their own message (welcome)
  overviews: new Map(), // team → its latest `team_overview` with `at` (supervisors only)
  supervising: false,   // the supervision view is shown instead of the chats
  view: 'chats',        // the view shown: chats | inbox | supervision (views.js)
  inbox: new Map(),     // team → its latest `inbox` with `at` (inbox.js)
  smsMaxSegments: null, // the longest SMS a professional may send (welcome); null: no SMS chat
  leaving: false,       // logging out: the page goes without asking again
};

/**
 * One conversation: its messages by seq, pending sends (`pending`, the chat's outbox from the
 * connection), draft (in its textarea), unread.
 */
export function newChat(id, pending) {
  const saved = (S.stored.labels || {})[id] || {};
  const c = {
    id, uid: ++S.uid, info: {}, status: 'open', reason: null,
    letter: letterFor(id, saved.letter),
    colour: 0, anonNo: saved.anon || 0,
    events: new Map(), minSeq: Infinity, maxSeq: 0,
    seenSeq: (S.stored.last_seq || {})[id] || 0,
    pending, unread: saved.unread || 0, alert: false, readSent: 0, clientRead: 0,
    historyDone: false, loading: false, loaded: false, retracted: new Set(),
    sms: new Map(), smsChosen: (S.stored.sms_on || []).includes(id), // seq → its SMS (smschat.js); "Send as SMS" chosen
    typingOut: false, typingTimer: null, typingInTimer: null, draftTimer: null, el: {},
  };
  c.colour = Number.isInteger(saved.colour) && !colourUsed(saved.colour) ? saved.colour : freeColour(c.letter);
  return c;
}
/** A, B … Z, AA, AB … AZ, BA …: as spreadsheet columns. */
export function letterName(i) {
  return (i >= 26 ? letterName(Math.floor(i / 26) - 1) : '') + String.fromCharCode(65 + (i % 26));
}
export const letterOrder = (l) => [...l].reduce((n, ch) => n * 26 + ch.charCodeAt(0) - 64, 0) - 1;
export const colourUsed = (n) => [...S.chats.values()].some((c) => c.colour === n);

/**
 * The chat's letter: the one it had before in this shift, else the next never-given one, so a
 * letter never names two patients in a shift (a nurse's "B" is always the same person).
 */
function letterFor(id, saved) {
  const known = S.letters[id] || saved;
  if (known) {
    S.letters[id] = known;
    S.nextLetter = Math.max(S.nextLetter, letterOrder(known) + 1);
    return known;
  }
  const given = new Set(Object.values(S.letters));
  let l;
  do l = letterName(S.nextLetter++); while (given.has(l));
  S.letters[id] = l;
  return l;
}
export function freeColour(letter) {
  for (let i = 0; i < PALETTE; i++) if (!colourUsed(i)) return i;
  return (letter.charCodeAt(0) - 65) % PALETTE;
}
export function clientName(c) {
  const cl = c.info.client || {};
  if (cl.name) return cl.name;
  if (cl.alias) return t('anonymousN', { n: cl.alias }); // the same name for every professional
  if (!c.anonNo) c.anonNo = ++S.anonCounter;
  return t('anonymousN', { n: c.anonNo });
}
export const chatTitle = (c) => `${c.letter} · ${clientName(c)}`;
export const service = (id) => S.services.find((s) => s.id === id);
export const serviceName = (id) => (service(id) || {}).name || id || '';
export function topicName(sid, tid) {
  const t = ((service(sid) || {}).topics || []).find((x) => x.id === tid);
  return t ? t.name : tid;
}
/** The service's questions, or a contact form's fields (a form's answers are its questionnaire). */
export function questions(sid) {
  const svc = service(sid) || {};
  const q = svc.questionnaire;
  const list = Array.isArray(q) ? q : (q && q.questions) || [];
  return list.length || !svc.form ? list : svc.form.fields || [];
}
export const questionLabel = (sid, qid) => (questions(sid).find((x) => x.id === qid) || {}).label || qid;
export function questionIndex(sid, qid) {
  const i = questions(sid).findIndex((x) => x.id === qid);
  return i < 0 ? 999 : i;
}
export const serviceTopic = (sid, tid) => [serviceName(sid), tid ? topicName(sid, tid) : ''].filter(Boolean).join(' · ');
export const proName = (id) => ([...(S.colleagues || []), ...(S.pros || [])].find((p) => p.id === id) || {}).name || id;
/** A team's name (from the `colleagues` reply), else its id. */
/** Whether a conversation is an asynchronous matter (message, form, SMS): no live-chat place. */
export const isMatter = (sid) => ['message', 'form', 'sms'].includes((service(sid) || {}).channel);
export const teamName = (id) => (S.teamNames && S.teamNames[id]) || id;
