// The chat widget for patients (docs/ui.md), mounted by the /widget.js loader. This module
// is the top of the widget's import graph: it wires the modules together and starts up.
// Each module imports only modules listed before it here, so there are no import cycles:
//
//   config, strings, styles, state   the script tag's attributes, texts, CSS, the stored state
//   device                           the matters sent from this browser (localStorage)
//   due                              reply deadlines: the promise endpoint, "we reply by …"
//   view                             the DOM, built once, without behaviour
//   connection                       the protocol client, sends, the outbox; draws nothing
//   render                           the redraw hook (render() → panel.drawPanel)
//   indicators                       unread badge and page title, notice, connection line
//   documents                        file cards in the log, downloading a document
//   messages                         the message log and the composer
//   attach                           sending a document (Attach document, the upload)
//   form                             a contact form: its fields, checks, submit_form, answer
//   identify, start, waiting         the demo identification; start form (a chat, a non-urgent
//                                    message, or form.js's form), closing and rating; the
//                                    queue (or a message's reply deadline) and leaving
//   mine                             My conversations: the list, opening one
//   panel                            the whole panel drawn from the state; open and close
//   inbound                          what each frame from the server does
//
// Where a lower module needs a higher one, it is handed in from here: render.js gets
// drawPanel, connection.js gets the frame handlers, and each module wires its own controls.

import { store, active } from './state.js';
import { host, shadow, launcher, closeBtn, idForm, leaveBox, root } from './view.js';
import { client, listen } from './connection.js';
import { setRenderer } from './render.js';
import { renderConn } from './indicators.js';
import { drawPending, maybeSendRead, wireComposer } from './messages.js';
import { wireAttach } from './attach.js';
import { closeIdentify, wireIdentify, wireStrongIdentification } from './identify.js';
import { checkDemo, wireStart } from './start.js';
import { cancelLeave, wireLeave } from './waiting.js';
import { wireMine } from './mine.js';
import { drawPanel, setOpen } from './panel.js';
import { onFrame } from './inbound.js';

setRenderer(drawPanel);
listen({ onFrame: onFrame, onState: renderConn });

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
  wireStrongIdentification();
  wireComposer();
  wireAttach();
  wireStart();
  wireLeave();
  wireMine();
  document.body.appendChild(host);
  store.pending.forEach(drawPending);
  drawPanel();
  // An identified patient stays connected (My conversations); a form being sent is resent.
  if (active() || store.token || store.pendingForm) { client.connect(); checkDemo(); }
  if (store.open) setOpen(true, false);
  document.addEventListener('visibilitychange', maybeSendRead);
  window.addEventListener('online', () => {
    if (!client.ws && (active() || store.token || store.pendingForm)) client.retryNow();
  });
}
/** Mounts the widget on the page (called once by the /widget.js loader). */
export function mount() {
  if (document.body) init(); else document.addEventListener('DOMContentLoaded', init);
  return { open: () => setOpen(true, true), close: () => setOpen(false, false) };
}
