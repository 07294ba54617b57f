// The chat widget for patients (docs/ui.md), mounted by the /widget.js loader. This module
// only wires the widget together and starts it up, and no module imports it: the panel is
// drawn by panel.js (the others reach it through render.js), the badge, page title, notice
// and connection line by indicators.js, the demo identification is identify.js's.

import { store, active } from './state.js';
import { host, shadow, launcher, closeBtn, idForm, leaveBox, root } from './view.js';
import { client } from './frames.js';
import { setRenderer } from './render.js';
import { drawPending, maybeSendRead, wireComposer } from './messages.js';
import { checkDemo, wireStart } from './start.js';
import { cancelLeave, wireLeave } from './waiting.js';
import { closeIdentify, wireIdentify } from './identify.js';
import { drawPanel, setOpen } from './panel.js';

setRenderer(drawPanel);

function onPanelKey(e) {
  if (e.key !== 'Escape' || !store.open) return;
  if (!idForm.hidden && idForm.contains(shadow.activeElement)) return closeIdentify(true);
  if (!leaveBox.hidden && leaveBox.contains(shadow.activeElement)) { e.stopPropagation(); return cancelLeave(true); }
  e.stopPropagation();
  setOpen(false, true);
}

function init() {
  launcher.addEventListener('click', () => setOpen(!store.open, true));
  closeBtn.addEventListener('click', () => setOpen(false, true));
  root.addEventListener('keydown', onPanelKey);
  wireIdentify();
  wireComposer();
  wireStart();
  wireLeave();
  document.body.appendChild(host);
  store.pending.forEach(drawPending);
  drawPanel();
  if (active()) { client.connect(); checkDemo(); }
  if (store.open) setOpen(true, false);
  document.addEventListener('visibilitychange', maybeSendRead);
  window.addEventListener('online', () => {
    if (!client.ws && active()) client.retryNow();
  });
}
/** Mounts the widget on the page (called once by the /widget.js loader). */
export function mount() {
  if (document.body) init(); else document.addEventListener('DOMContentLoaded', init);
  return { open: () => setOpen(true, true), close: () => setOpen(false, false) };
}
