// The widget's DOM, built once: the launcher, and the panel with its start view (service,
// topic, questionnaire), chat view (queue status, message log, closing and rating) and
// composer, all inside an open shadow root. The data-testid hooks are the contract in docs/ui.md.
// Only elements here, no behaviour: each module that owns a control wires its listeners (its
// wire…() function, called by main.js), so this module imports nothing above the state.

import { h } from '../shared/dom.js';
import { paperclip } from '../shared/files.js';
import { cfg } from './config.js';
import { t } from './strings.js';
import { CSS } from './styles.js';
import { MAX_BODY } from './state.js';

export const host = h('div', { id: 'luukku-widget-host' });
host.style.setProperty('all', 'initial', 'important');
host.style.setProperty('display', 'block', 'important');
export const shadow = host.attachShadow({ mode: 'open' });

export const badge = h('span', { class: 'badge', hidden: true });
export const icon = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
icon.setAttribute('viewBox', '0 0 24 24');
icon.setAttribute('aria-hidden', 'true');
icon.innerHTML = '<path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm5 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"/>';
export const launcher = h('button', { type: 'button', class: 'launcher', 'data-testid': 'launcher', 'aria-expanded': 'false', 'aria-controls': 'lk-panel' },
  icon, h('span', { text: t('launcher') }), badge);

export const titleEl = h('h2', { id: 'lk-title', tabindex: '-1', text: t('title') });
export const identityEl = h('p', { class: 'identity', hidden: true });
export const identifyBtn = h('button', { type: 'button', class: 'head-btn', 'data-testid': 'identify', hidden: true, text: t('identify') });
export const endChatBtn = h('button', { type: 'button', class: 'head-btn', 'data-testid': 'end-chat', hidden: true, text: t('endChat') });
// A row of its own under the title: "Identifiera dig" and "Avsluta chatten" do not fit beside
// the title on a phone.
export const mineBtn = h('button', { type: 'button', class: 'head-btn', 'data-testid': 'my-conversations', hidden: true, text: t('myConvs') });
export const headActions = h('div', { class: 'head-actions', hidden: true }, mineBtn, identifyBtn, endChatBtn);
export const closeBtn = h('button', { type: 'button', class: 'icon-btn', 'aria-label': t('closePanel') },
  h('span', { 'aria-hidden': 'true', text: '×' }));
export const connEl = h('div', { class: 'conn', 'data-testid': 'connection', role: 'status', 'aria-live': 'polite' });
export const noticeEl = h('div', { class: 'notice', 'data-testid': 'notice', role: 'status', 'aria-live': 'polite' });
/** Emergency guidance after alarming answers (a service's red flag): shown at once, kept. */
export const urgentEl = h('p', { class: 'urgent', 'data-testid': 'urgent', role: 'alert', hidden: true });

export const idName = h('input', { id: 'lk-idname', type: 'text', autocomplete: 'name', maxlength: '100', 'aria-describedby': 'lk-idname-err' });
export const idErr = h('p', { class: 'err', id: 'lk-idname-err', hidden: true });
export const idSubmit = h('button', { type: 'submit', class: 'btn', text: t('identifyGo') });
export const idCancel = h('button', { type: 'button', class: 'btn btn-secondary', text: t('cancel') });
export const idForm = h('form', { class: 'idform', hidden: true, novalidate: true },
  h('label', { for: 'lk-idname', text: t('identifyName') }), idName, idErr,
  h('div', { class: 'row' }, idSubmit, idCancel));

// Leaving the queue or the chat asks first, in place (the panel's other controls stay usable).
export const leaveQ = h('p', { id: 'lk-leave-q', class: 'leave-q', tabindex: '-1' });
export const leaveYes = h('button', { type: 'button', class: 'btn btn-danger', 'data-testid': 'leave-confirm' });
export const leaveNo = h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'leave-cancel' });
export const leaveBox = h('div', { class: 'leavebox', role: 'group', 'aria-labelledby': 'lk-leave-q', 'data-testid': 'leave-dialog', hidden: true },
  leaveQ, h('div', { class: 'row' }, leaveYes, leaveNo));

// Start view: the service select stays; the part below is rebuilt per service.
export const serviceSel = h('select', { id: 'lk-service', 'data-testid': 'service' });
export const fieldsEl = h('div');
export const startStatus = h('div');
export const startForm = h('form', { novalidate: true },
  h('p', { class: 'intro', text: t('intro') }), h('p', { class: 'emerg', text: t('emergency') }),
  h('div', { class: 'field' }, h('label', { for: 'lk-service', text: t('service') }), serviceSel), fieldsEl);
export const startView = h('div', {}, startStatus, startForm);

// The queue: place and estimate (a live status), the wait so far, what the patient can do.
export const qTitle = h('h3', { tabindex: '-1' });
export const qPos = h('strong', { 'data-testid': 'queue-position' });
export const qWait = h('span', { 'data-testid': 'queue-wait' });
export const qWaitRow = h('p', {}, t('queueWait') + ' ', qWait);
export const qUnstaffed = h('p', { class: 'unstaffed', 'data-testid': 'queue-unstaffed', hidden: true, text: t('queueUnstaffed') });
export const qDetails = h('div', {}, h('p', {}, t('queuePos') + ' ', qPos), qWaitRow, qUnstaffed);
export const queueStatus = h('div', { 'data-testid': 'queue-status', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' }, qTitle, qDetails);
export const qWaited = h('p', { class: 'muted', 'data-testid': 'queue-waited', hidden: true });
export const queueNote = h('p', { id: 'lk-queue-note', class: 'muted queue-note', text: t('queueKeep') });
export const leaveBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'data-testid': 'leave', text: t('leaveQueue') });
export const queueEl = h('div', { class: 'queue', hidden: true }, queueStatus, qWaited, queueNote, leaveBtn);

// A non-urgent message sent: no place in a queue, the reply deadline instead.
export const asyncTitle = h('h3', { tabindex: '-1', 'data-testid': 'async-title' });
export const replyByEl = h('p', { 'data-testid': 'reply-by' });
export const asyncEl = h('div', { class: 'queue', 'data-testid': 'async-status', hidden: true },
  h('div', { role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' }, asyncTitle, replyByEl),
  h('p', { class: 'muted', text: t('msgNote') }));

// My conversations (identified clients): the list, drawn by mine.js.
export const mineHead = h('h3', { id: 'lk-mine-h', tabindex: '-1', text: t('myConvs') });
export const mineStatus = h('div', { role: 'status', 'aria-live': 'polite' });
export const mineList = h('ul', { class: 'convs', 'data-testid': 'conversation-list', 'aria-labelledby': 'lk-mine-h' });
export const mineBack = h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'data-testid': 'mine-back', text: t('back') });
// The matters sent from this browser without identifying (device.js), under a heading of their own.
export const deviceList = h('ul', { class: 'convs', 'data-testid': 'device-list', 'aria-labelledby': 'lk-device-h' });
export const deviceSection = h('section', { class: 'device', 'data-testid': 'device-matters', 'aria-labelledby': 'lk-device-h', hidden: true },
  h('h4', { id: 'lk-device-h', text: t('deviceHead') }), h('p', { class: 'muted', text: t('deviceNote') }), deviceList);
export const mineView = h('section', { class: 'mine', 'data-testid': 'my-conversations-view', 'aria-labelledby': 'lk-mine-h', hidden: true },
  mineHead, mineStatus, mineList, deviceSection, mineBack);

// Chat view.
export const logEl = h('div', { class: 'log', 'data-testid': 'messages', role: 'log', 'aria-live': 'polite', 'aria-label': t('messages') });
export const typingEl = h('p', { class: 'typing', 'data-testid': 'typing', hidden: true });

export const closedHead = h('h3', { id: 'lk-closed-h', tabindex: '-1', text: t('closedHeading') });
export const closingMsg = h('p', { 'data-testid': 'closing-message' });
export const radios = [1, 2, 3, 4, 5].map((n) => h('input', { type: 'radio', name: 'lk-rating', value: n, 'data-testid': 'rating-' + n, id: 'lk-rate-' + n }));
export const rateErr = h('p', { class: 'err', id: 'lk-rate-err', hidden: true });
export const rateComment = h('textarea', { id: 'lk-rate-comment', 'data-testid': 'rating-comment', rows: '3', maxlength: '2000' });
export const rateSubmit = h('button', { type: 'submit', class: 'btn', 'data-testid': 'rating-submit', text: t('rateSubmit') });
export const rateForm = h('form', { novalidate: true },
  h('fieldset', { 'aria-describedby': 'lk-rate-err' }, h('legend', { text: t('rateLegend') }),
    h('div', { class: 'stars' }, radios.map((r, i) => h('label', { for: r.id }, r, String(i + 1)))), rateErr),
  h('div', { class: 'field' }, h('label', { for: 'lk-rate-comment', text: t('rateComment') }), rateComment), rateSubmit);
export const thanksEl = h('p', { class: 'thanks', 'data-testid': 'rating-thanks', role: 'status', tabindex: '-1' });
export const newChatBtn = h('button', { type: 'button', class: 'btn btn-secondary', hidden: true, text: t('newChat') });
export const closedEl = h('section', { class: 'closed', 'data-testid': 'closed', 'aria-labelledby': 'lk-closed-h', hidden: true },
  closedHead, closingMsg, rateForm, thanksEl, newChatBtn);
export const leftHead = h('h3', { id: 'lk-left-h', tabindex: '-1' });
export const startAgainBtn = h('button', { type: 'button', class: 'btn', 'data-testid': 'start-again', text: t('newChat') });
export const leftEl = h('section', { class: 'closed', 'data-testid': 'left', 'aria-labelledby': 'lk-left-h', hidden: true },
  leftHead, h('p', { text: t('leftAgain') }), startAgainBtn);
export const chatView = h('div', { hidden: true }, logEl, typingEl, closedEl, leftEl);
export const scroll = h('div', { class: 'scroll' }, startView, chatView, mineView);

export const composer = h('textarea', { id: 'lk-composer', 'data-testid': 'composer', rows: '2', maxlength: MAX_BODY, placeholder: t('composerPh'), 'aria-describedby': 'lk-hint' });
export const sendBtn = h('button', { type: 'submit', class: 'btn', 'data-testid': 'send', text: t('send') });
// Documents: "Attach document" opens the file picker (the input itself stays out of sight and
// out of the tab order); what happens to the document is said next to it, in a live region.
export const fileInput = h('input', { type: 'file', 'data-testid': 'attach-input', hidden: true, tabindex: '-1' });
export const attachBtn = h('button', { type: 'button', class: 'btn btn-secondary btn-small attach', 'data-testid': 'attach', 'aria-describedby': 'lk-attach-hint', hidden: true },
  paperclip(), h('span', { text: t('attach') }));
export const attachStatus = h('p', { class: 'attach-status', 'data-testid': 'attach-status', role: 'status', 'aria-live': 'polite' });
export const attachRow = h('div', { class: 'attach-row' }, attachBtn, fileInput, attachStatus,
  h('p', { id: 'lk-attach-hint', class: 'vh', text: t('attachHint') }));
export const footer = h('form', { class: 'composer', hidden: true },
  h('label', { for: 'lk-composer', class: 'vh', text: t('composer') }), composer, sendBtn,
  h('p', { id: 'lk-hint', class: 'vh', text: t('composerHint') }), attachRow);

export const panel = h('section', { id: 'lk-panel', class: 'panel', 'data-testid': 'panel', role: 'dialog', 'aria-label': t('panelLabel'), hidden: true, lang: cfg.lang },
  h('div', { class: 'head' }, h('div', { class: 'titles' }, titleEl, identityEl), closeBtn, headActions),
  connEl, noticeEl, urgentEl, idForm, leaveBox, queueEl, asyncEl, scroll, footer);
export const root = h('div', { class: 'root', lang: cfg.lang }, panel, launcher);
shadow.append(h('style', { text: CSS }), root);
