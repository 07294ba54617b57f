// Alerts for what a professional must not miss while looking elsewhere: a new chat assigned to
// them, a new message in a chat they are not looking at, someone joining a team queue. Per kind
// a sound and/or a desktop notification, chosen in the sidebar and remembered on this device.
// Desktop notifications are asked for on the professional's own click (browsers require it),
// shown only while the console is not in front, and never carry what the patient wrote.

import { h } from '../shared/dom.js';
import { t } from './i18n.js';
import { $ } from './state.js';

const PREFS_KEY = 'luukku.console.alerts';
export const KINDS = ['assigned', 'message', 'queue'];
const TONES = { assigned: [660, 880], message: [880], queue: [520, 520] }; // told apart by ear

const prefs = loadPrefs();
let audio = null;

function loadPrefs() {
  const defaults = { sound: { assigned: true, message: true, queue: true }, desktop: { assigned: false, message: false, queue: false } };
  try {
    const p = JSON.parse(localStorage.getItem(PREFS_KEY));
    if (p && p.sound && p.desktop) return { sound: { ...defaults.sound, ...p.sound }, desktop: { ...defaults.desktop, ...p.desktop } };
  } catch { /* storage off or corrupt: defaults */ }
  return defaults;
}
function savePrefs() {
  try { localStorage.setItem(PREFS_KEY, JSON.stringify(prefs)); } catch { /* storage off */ }
}

const permission = () => (typeof Notification === 'undefined' ? 'unsupported' : Notification.permission);

/** Builds the settings table in the sidebar. */
export function renderAlertSettings() {
  const box = $('alerts');
  const row = (kind) => h('tr', null,
    h('th', { scope: 'row', id: `alert-${kind}`, text: t(`alert_${kind}`) }),
    ...['sound', 'desktop'].map((how) => h('td', null, h('input', {
      type: 'checkbox', testid: `${how === 'sound' ? 'sound' : 'notify'}-${kind}`, 'aria-labelledby': `alert-${how} alert-${kind}`,
      checked: prefs[how][kind], onchange: (e) => choose(how, kind, e.target),
    }))));
  box.replaceChildren(
    h('table', { class: 'alerts-table' },
      h('thead', null, h('tr', null, h('td'), h('th', { scope: 'col', id: 'alert-sound', text: t('alertSound') }),
        h('th', { scope: 'col', id: 'alert-desktop', text: t('alertDesktop') }))),
      h('tbody', null, KINDS.map(row))),
    h('p', { id: 'notify-state', class: 'notify-state', testid: 'notify-state', role: 'status' }));
  renderPermission();
}
function renderPermission() {
  const p = permission();
  $('notify-state').textContent = p === 'denied' ? t('notifyDenied') : p === 'unsupported' ? t('notifyUnsupported') : '';
}

async function choose(how, kind, box) {
  prefs[how][kind] = box.checked;
  if (how === 'sound' && box.checked) unlockAudio();
  if (how === 'desktop' && box.checked && permission() !== 'granted') {
    let p = permission();
    if (p === 'default') p = await Notification.requestPermission();
    if (p !== 'granted') { prefs.desktop[kind] = box.checked = false; }
  }
  savePrefs();
  renderPermission();
}

/** Browsers only let a page make sound after a user gesture: the first click or key unlocks it. */
export function unlockAudio() {
  try { audio = audio || new (window.AudioContext || window.webkitAudioContext)(); } catch { audio = null; }
  if (audio && audio.state === 'suspended') audio.resume().catch(() => {});
}

function tone(kind) {
  if (!audio) unlockAudio();
  if (!audio) return;
  let at = audio.currentTime;
  for (const f of TONES[kind]) {
    const o = audio.createOscillator(), g = audio.createGain();
    o.frequency.value = f;
    g.gain.setValueAtTime(0.0001, at);
    g.gain.exponentialRampToValueAtTime(0.2, at + 0.01);
    g.gain.exponentialRampToValueAtTime(0.0001, at + 0.16);
    o.connect(g).connect(audio.destination);
    o.start(at);
    o.stop(at + 0.18);
    at += 0.22;
  }
}

/** Raises an alert of `kind` (sound and/or desktop, as chosen); `title` names the chat only. */
export function alertOf(kind, title, onClick) {
  if (prefs.sound[kind]) tone(kind);
  const away = document.hidden || !document.hasFocus();
  if (!prefs.desktop[kind] || permission() !== 'granted' || !away) return;
  try {
    const n = new Notification(title, { tag: `luukku-${kind}`, body: t(`alert_${kind}`) });
    n.onclick = () => { window.focus(); if (onClick) onClick(); n.close(); };
  } catch { /* some browsers only notify from a service worker: the sound and the title still tell */ }
}
