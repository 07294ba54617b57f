// The widget's state: what a reload needs, kept in sessionStorage under "luukku.widget.v1"
// (closing the tab forgets it), and the page's runtime state that is not persisted.

export const KEY = 'luukku.widget.v1';
export const MAX_BODY = 10000;

function fresh(keep) {
  return Object.assign({
    conversation: null, resume_token: null, last_seq: 0, service: null, topic: null,
    status: null, assigned: false, queue: null, pending: [], read_seq: 0, read_sent: 0,
    closing: null, rated: false, pendingStart: null, pendingFeedback: null, urgent: null,
    token: null, identity: null, open: false,
    // Asynchronous channels: the conversation's channel (chat | message | form), its reply
    // deadline while the organisation owes one, the matter typed in the start form (sent as
    // the first message once queued), a contact form being sent, and the last one received.
    channel: null, due_at: null, pendingMatter: null, pendingForm: null, formDone: null,
  }, keep || {});
}
function load() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY));
    if (s && typeof s === 'object') return fresh(s);
  } catch (e) { /* unavailable or corrupt storage: start afresh */ }
  return fresh();
}

/** The persisted state; replaced in place by `resetStore` so every module sees the same object. */
export const store = load();
if (!Array.isArray(store.pending)) store.pending = [];

export function save() {
  try { sessionStorage.setItem(KEY, JSON.stringify(store)); } catch (e) { /* private mode */ }
}

/** Starts a fresh state, keeping the fields in `keep`. */
export function resetStore(keep) {
  for (const k of Object.keys(store)) delete store[k];
  Object.assign(store, fresh(keep));
}

export const seen = new Set();  // seqs drawn
export const own = new Map();   // client_msg_id → {el, seq}

export const rt = {
  replayAll: true,        // the first hello of a page load redraws the whole history
  identifying: false,     // reconnecting on purpose with a new token: no alarm
  early: [],              // [frame, ctx] of conversation frames that overtook the `queued` reply
  services: null,         // list from /api/v1/services
  servicesState: 'idle',  // idle | loading | ok | failed
  demo: false,
  /** The organisation's strong identification is on (`/api/v1/auth`). */
  identification: false,
  demoChecked: false,
  proName: null,
  lastProSeq: 0,
  unread: 0,
  closedReady: store.status === 'complete',
  closeTimer: 0,
  typingOn: false,
  typingTimer: 0,
  typingHide: 0,
  noticeTimer: 0,
  resendTimer: 0,
  fields: [],             // [{q, ctl, err}] of the current questionnaire
  queueTick: 0,           // interval redrawing the wait so far
  askLeave: false,        // 'queue' | 'chat' while "leave the queue / end the chat?" is asked
  leaving: false,         // `leave` sent, its ack awaited
  left: null,             // 'queue' | 'chat' once the patient has left (the log stays in sight)
  retracted: new Set(),   // seqs of professionals' messages taken back
  title: null,            // the host page's own title while the widget counts unread in it
  view: 'main',           // 'main' | 'mine' (the list of My conversations)
  convs: null,            // the `conversations` reply: [{conversation, reference, service, …}]
  convsState: 'idle',     // idle | loading | ok | failed
  convsWanted: false,     // ask for the list once welcomed
  forgetAsk: null,        // the matter of this device whose "Forget?" is being asked
  mineNote: '',           // what the list's status line says instead (a matter forgotten)
  liveFrom: 0,            // events up to this seq are a replay (a reply deadline is not asked again)
  deadlineSeq: 0,         // the latest message after which the server was asked for the deadline
  uploading: null,        // the client_msg_id of the document on its way (one at a time)
  formFields: [],         // [{f, ctl, err}] of the contact form drawn, and the contact inputs
  notifyFields: [],       // [{kind, name, ctl, err}]: a message's "tell me when you reply" inputs
  idGate: false,          // the identification form was opened from the start form's gate
  gateFocus: false,       // identified from the gate: the focus goes on to the matter
};

/** Whether the conversation (or the chosen start) is on an asynchronous channel. */
export function isAsync() { return store.channel === 'message' || store.channel === 'form'; }

export function active() { return !!(store.conversation || store.pendingStart); }
