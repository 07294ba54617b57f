/*
 * Luukku professional console (served at /console). Plain modern JavaScript: no build step,
 * no dependencies. Talks JSON over `/ws/console` (docs/protocol.md §6); the data-testid hooks
 * follow the UI contract shared with the browser tests.
 *
 * Layout of this file:
 *   1. helpers: DOM builder, ids, formatting, session storage
 *   2. app state `S` and the per-conversation state object (`newChat`)
 *   3. login: demo professional list, or a pasted JWT when the dev endpoints answer 404
 *   4. connection: WebSocket with backoff, hello/resume, frame dispatch, request correlation
 *   5. left column: status (availability, capacity, chats held) and team queues
 *   6. chats: tabs and panes, events ordered and de-duplicated by seq, history paging
 *   7. composing: per-pane drafts, send/note with acks and resend, typing, read receipts
 *   8. transfer, close, reopen, dismiss
 *
 * Patient safety: every chat gets a letter ("A", "B"…) and a colour that no other open chat
 * has; both are shown on its tab, pinned in its pane header and on its composer. Each pane owns
 * its textarea, and every handler of a pane closes over that pane's conversation id, so text
 * is always sent to the conversation it was written in, whatever tab is selected meanwhile.
 */
'use strict';
(() => {
  const STORE_KEY = 'luukku.console.v1';
  const PALETTE = 8;
  const PAGE = 50;
  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- 1. helpers
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'testid') el.dataset.testid = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'value') el.value = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const kid of kids.flat()) if (kid != null && kid !== false) el.append(kid);
    return el;
  }
  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const x = [...b].map((n) => n.toString(16).padStart(2, '0')).join('');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }
  const fmtTime = (at) => {
    const d = at ? new Date(at) : new Date();
    return isNaN(d) ? '' : d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  };
  function fmtWait(s) {
    s = Math.max(0, Math.floor(s));
    const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = String(s % 60).padStart(2, '0');
    return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
  }
  const colon = (label) => (/[?:]$/.test(label) ? label : `${label}:`);
  const fmtAnswer = (v) => Array.isArray(v) ? v.join(', ') : v === true ? 'yes' : v === false ? 'no' : String(v);
  function loadStore() {
    try { return JSON.parse(sessionStorage.getItem(STORE_KEY)) || {}; } catch { return {}; }
  }
  function saveStore() {
    if (!S.token) return;
    const last_seq = {}, labels = {}, drafts = {}, pending = {};
    for (const c of S.chats.values()) {
      labels[c.id] = { letter: c.letter, colour: c.colour, anon: c.anonNo, unread: c.unread };
      if (c.status !== 'open') continue;
      last_seq[c.id] = c.maxSeq;
      if (c.el.composer && c.el.composer.value) drafts[c.id] = c.el.composer.value;
      const p = [...c.pending.values()].filter((x) => x.state === 'sending');
      if (p.length) pending[c.id] = p.map(({ id, kind, body, at }) => ({ id, kind, body, at }));
    }
    const data = { professional: S.meId, token: S.token, last_seq, labels, drafts, pending,
      availability: S.chosenAvailability, sound: $('sound').checked, anon_counter: S.anonCounter, active: S.activeId };
    try { sessionStorage.setItem(STORE_KEY, JSON.stringify(data)); } catch { /* storage full or off */ }
  }
  function announce(text) {
    const live = $('live');
    live.textContent = '';
    setTimeout(() => { live.textContent = text; }, 30);
  }

  // ---------------------------------------------------------------- 2. state
  const S = {
    token: null, meId: null, me: null, stored: {},
    ws: null, online: false, retry: 0, retryTimer: null, retryAt: 0,
    req: 0, reqs: new Map(),
    services: [], teams: [], pros: null,
    capacity: null, availability: 'available', chosenAvailability: null,
    queues: new Map(), chats: new Map(), activeId: null, anonCounter: 0, uid: 0, audio: null,
  };

  /** One conversation: its messages by seq, pending sends, draft (in its textarea), unread. */
  function newChat(id) {
    const saved = (S.stored.labels || {})[id] || {};
    const c = {
      id, uid: ++S.uid, info: {}, status: 'open', reason: null,
      letter: saved.letter && !letterUsed(saved.letter) ? saved.letter : freeLetter(),
      colour: 0, anonNo: saved.anon || 0,
      events: new Map(), minSeq: Infinity, maxSeq: 0,
      seenSeq: (S.stored.last_seq || {})[id] || 0,
      pending: new Map(), unread: saved.unread || 0, alert: false, readSent: 0, clientRead: 0,
      historyDone: false, loading: false, loaded: false,
      typingOut: false, typingTimer: null, typingInTimer: null, draftTimer: null, el: {},
    };
    c.colour = Number.isInteger(saved.colour) && !colourUsed(saved.colour) ? saved.colour : freeColour(c.letter);
    return c;
  }
  const letterName = (i) => String.fromCharCode(65 + (i % 26)) + (i >= 26 ? String(Math.floor(i / 26) + 1) : '');
  const letterOrder = (l) => (l.charCodeAt(0) - 65) + 26 * (Number(l.slice(1) || 1) - 1);
  const letterUsed = (l) => [...S.chats.values()].some((c) => c.letter === l);
  const colourUsed = (n) => [...S.chats.values()].some((c) => c.colour === n);
  function freeLetter() {
    for (let i = 0; ; i++) if (!letterUsed(letterName(i))) return letterName(i);
  }
  function freeColour(letter) {
    for (let i = 0; i < PALETTE; i++) if (!colourUsed(i)) return i;
    return (letter.charCodeAt(0) - 65) % PALETTE;
  }
  function clientName(c) {
    const cl = c.info.client || {};
    if (cl.name) return cl.name;
    if (!c.anonNo) c.anonNo = ++S.anonCounter;
    return `Anonymous ${c.anonNo}`;
  }
  const chatTitle = (c) => `${c.letter} · ${clientName(c)}`;
  const service = (id) => S.services.find((s) => s.id === id);
  const serviceName = (id) => (service(id) || {}).name || id || '';
  function topicName(sid, tid) {
    const t = ((service(sid) || {}).topics || []).find((x) => x.id === tid);
    return t ? t.name : tid;
  }
  function questions(sid) {
    const q = (service(sid) || {}).questionnaire;
    return Array.isArray(q) ? q : (q && q.questions) || [];
  }
  const questionLabel = (sid, qid) => (questions(sid).find((x) => x.id === qid) || {}).label || qid;
  function questionIndex(sid, qid) {
    const i = questions(sid).findIndex((x) => x.id === qid);
    return i < 0 ? 999 : i;
  }
  const serviceTopic = (sid, tid) => [serviceName(sid), tid ? topicName(sid, tid) : ''].filter(Boolean).join(' · ');
  const proName = (id) => ((S.pros || []).find((p) => p.id === id) || {}).name || id;

  // ---------------------------------------------------------------- 3. login
  async function boot() {
    S.stored = loadStore();
    S.anonCounter = S.stored.anon_counter || 0;
    $('sound').checked = !!S.stored.sound;
    wireStatic();
    await loadServices();
    if (S.stored.token) {
      S.token = S.stored.token;
      S.meId = S.stored.professional || null;
      S.chosenAvailability = S.stored.availability || null;
      loadPros().then(() => S.chats.forEach(renderHeader));
      enterApp();
      connect();
    } else {
      const msg = sessionStorage.getItem(`${STORE_KEY}.msg`);
      sessionStorage.removeItem(`${STORE_KEY}.msg`);
      showLogin(msg);
    }
  }
  async function loadServices() {
    try {
      const r = await fetch('/api/v1/services');
      if (!r.ok) return;
      S.services = (await r.json()).services || [];
      S.teams = [...new Set(S.services.flatMap((s) => s.teams || []))];
    } catch { /* names fall back to ids */ }
  }
  async function loadPros() {
    try {
      const r = await fetch('/api/v1/dev/professionals');
      S.pros = r.ok ? (await r.json()).professionals || [] : null;
    } catch { S.pros = null; }
    if (S.pros) S.pros.forEach((p) => p.teams.forEach((t) => { if (!S.teams.includes(t)) S.teams.push(t); }));
    return S.pros;
  }
  async function showLogin(message) {
    $('app-view').hidden = true;
    $('login-view').hidden = false;
    $('login-error').textContent = message || '';
    const pros = await loadPros();
    if (pros) {
      const list = $('login-list');
      list.replaceChildren(...pros.map((p) => h('li', null, h('button', {
        type: 'button', class: 'login-btn', testid: `login-${p.id}`, onclick: () => devLogin(p.id),
      }, h('span', { class: 'login-name', text: p.name }), h('span', { class: 'login-teams', text: p.teams.join(', ') })))));
      $('login').hidden = false;
    } else {
      $('token-form').hidden = false;
    }
  }
  async function devLogin(id) {
    try {
      const r = await fetch('/api/v1/dev/token', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ professional: id }),
      });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      login((await r.json()).token, id);
    } catch (e) {
      $('login-error').textContent = `Login failed: ${e.message}`;
    }
  }
  function login(token, professional) {
    S.token = token;
    S.meId = professional;
    S.stored = {};
    saveStore();
    enterApp();
    connect();
  }
  function enterApp() {
    $('login-view').hidden = true;
    $('app-view').hidden = false;
    updateEmpty();
  }
  function logout(message) {
    S.token = null;
    const ws = S.ws;
    S.ws = null;
    if (ws) ws.close(1000);
    sessionStorage.removeItem(STORE_KEY);
    if (message) sessionStorage.setItem(`${STORE_KEY}.msg`, message);
    location.reload();
  }

  // ---------------------------------------------------------------- 4. connection
  const wsUrl = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/console`;
  function connect() {
    clearTimeout(S.retryTimer);
    if (S.ws) return;
    let ws;
    try { ws = new WebSocket(wsUrl(), 'luukku.v1.json'); } catch { return scheduleReconnect(); }
    S.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', token: S.token, resume: resumeList() }));
    ws.onmessage = (ev) => {
      if (ws !== S.ws) return;
      let f;
      try { f = JSON.parse(ev.data); } catch { return; }
      dispatch(f);
    };
    ws.onclose = (ev) => {
      if (ws !== S.ws) return;
      S.ws = null;
      S.online = false;
      S.reqs.clear();
      S.chats.forEach((c) => { c.loading = false; c.typingOut = false; });
      if (ev.code === 4401 || ev.code === 4403) return logout('Your login is no longer valid. Please log in again.');
      showOffline(true);
      scheduleReconnect();
    };
  }
  function scheduleReconnect() {
    if (!S.token) return;
    const delay = Math.min(15000, 500 * 2 ** S.retry) * (0.75 + Math.random() * 0.5);
    S.retry = Math.min(S.retry + 1, 6);
    S.retryAt = Date.now() + delay;
    S.retryTimer = setTimeout(connect, delay);
  }
  function showOffline(on) {
    $('offline').hidden = !on;
    document.body.classList.toggle('is-offline', on);
  }
  function resumeList() {
    const known = new Map(Object.entries(S.stored.last_seq || {}));
    for (const c of S.chats.values()) if (c.status === 'open') known.set(c.id, Math.max(c.maxSeq, known.get(c.id) || 0));
    return [...known].filter(([, seq]) => seq > 0).map(([conversation, after_seq]) => ({ conversation, after_seq }));
  }

  /** Sends a frame with a fresh `req`; `ctx` is remembered to explain a later error. */
  function send(frame, ctx) {
    if (!S.online || !S.ws) return false;
    frame.req = String(++S.req);
    if (ctx) S.reqs.set(frame.req, ctx);
    S.ws.send(JSON.stringify(frame));
    return true;
  }
  const handlers = {
    welcome: onWelcome, status: onStatus, queue_snapshot: onQueue, assigned: onAssigned,
    released: onReleased, ack: onAck, message: onEvent, note: onEvent, system: onEvent,
    history: onHistory, typing: onTyping, read: onRead, error: onError,
  };
  function dispatch(f) {
    const ctx = f.req ? S.reqs.get(f.req) : undefined;
    if (f.req) S.reqs.delete(f.req);
    const fn = handlers[f.type];
    if (fn) fn(f, ctx);
  }
  function onWelcome(f) {
    S.online = true;
    S.retry = 0;
    showOffline(false);
    S.me = f.professional;
    S.meId = f.professional.id;
    S.capacity = f.capacity;
    $('me').textContent = S.me.name;
    const listed = new Set();
    for (const s of f.conversations || []) {
      listed.add(s.conversation);
      const c = ensureChat(s.conversation, s);
      setChatStatus(c, s.status === 'complete' ? 'closed' : 'open');
      if (!c.loaded) loadHistory(c, s.last_seq + 1);
    }
    for (const c of S.chats.values()) if (c.status === 'open' && !listed.has(c.id)) release(c, 'requeued');
    restorePending();
    for (const c of S.chats.values()) for (const p of c.pending.values()) if (p.state === 'sending') transmit(c, p);
    S.stored.last_seq = {};
    S.stored.pending = {};
    send({ type: 'subscribe_queue', teams: S.me.teams });
    send({ type: 'status', ...(S.chosenAvailability ? { availability: S.chosenAvailability } : {}) }, { kind: 'status' });
    renderQueues();
    if (!S.activeId || !S.chats.has(S.activeId)) {
      const want = S.stored.active && S.chats.has(S.stored.active) ? S.stored.active : [...S.chats.keys()][0];
      if (want) select(want);
    }
    renderStatus();
    saveStore();
  }
  function onError(f, ctx) {
    ctx = ctx || {};
    const c = S.chats.get(f.conversation || ctx.conversation);
    if (ctx.kind === 'history' && c) {
      c.loading = false;
      if (f.code !== 'internal') c.historyDone = true;
      return renderOlder(c);
    }
    if ((ctx.kind === 'message' || ctx.kind === 'note') && c) {
      const p = c.pending.get(ctx.cmid);
      if (p && (f.code === 'internal' || f.code === 'rate_limited')) {
        return setTimeout(() => p.state === 'sending' && transmit(c, p), 2000);
      }
      if (p) failPending(c, p, errorText(f, ctx));
    }
    if (ctx.kind === 'status') renderStatus();
    showError(errorText(f, ctx), c, f.code);
  }
  function errorText(f, ctx) {
    const what = { accept: 'Could not accept the chat', reopen: 'Could not reopen the chat', transfer: 'Could not transfer the chat',
      close: 'Could not close the chat', message: 'Message not sent', note: 'Note not sent', status: 'Could not change your status' }[ctx.kind] || 'Error';
    const why = {
      capacity_full: `you already hold your maximum number of chats (${S.capacity}). Close or transfer a chat, or raise “Max parallel chats”.`,
      not_found: ctx.kind === 'accept' ? 'that chat is no longer waiting – a colleague may have taken it, or the queue is empty.'
        : ctx.kind === 'reopen' ? 'the chat was not found in your teams.' : 'not found.',
      forbidden: 'you are not allowed to do that for this chat.',
      conversation_closed: 'the chat is already closed.',
      rate_limited: 'too many actions at once – wait a moment and try again.',
      too_large: 'the text is too long.',
      internal: 'the server had a problem – try again.',
    }[f.code] || f.message || f.code;
    return `${what}: ${why}`;
  }
  function showError(text, c, code) {
    const box = $('errors');
    const prefix = c ? `Chat ${chatTitle(c)} – ` : '';
    const item = h('div', { class: 'error', testid: 'error', 'data-code': code || '' },
      h('span', { text: prefix + text }),
      h('button', { type: 'button', class: 'x', 'aria-label': 'Dismiss error', text: '×', onclick: () => item.remove() }));
    box.prepend(item);
    while (box.children.length > 4) box.lastChild.remove();
    setTimeout(() => item.remove(), 20000);
    if (c && c.el.notice) setNotice(c, text, 'error');
  }

  // ---------------------------------------------------------------- 5. status and queues
  function wireStatic() {
    $('availability').addEventListener('change', (e) => {
      S.chosenAvailability = e.target.value;
      send({ type: 'status', availability: e.target.value }, { kind: 'status' });
      saveStore();
    });
    $('capacity').addEventListener('change', (e) => {
      const n = Math.round(Number(e.target.value));
      if (!(n >= 1)) return renderStatus();
      send({ type: 'status', capacity: n }, { kind: 'status' });
    });
    $('sound').addEventListener('change', (e) => { if (e.target.checked) audioCtx(); saveStore(); });
    $('logout').addEventListener('click', () => logout());
    $('reconnect-now').addEventListener('click', () => { S.retry = 0; connect(); });
    $('token-form').addEventListener('submit', (e) => { e.preventDefault(); if ($('token-input').value.trim()) login($('token-input').value.trim(), null); });
    $('tabs').addEventListener('keydown', onTabKey);
    document.addEventListener('visibilitychange', () => {
      const c = S.chats.get(S.activeId);
      if (c && !document.hidden) { clearUnread(c); markRead(c); }
    });
    window.addEventListener('pagehide', saveStore);
    setInterval(tick, 1000);
  }
  function onStatus(f) {
    Object.assign(S, f.availability && { availability: f.availability }, f.capacity && { capacity: f.capacity });
    renderStatus();
  }
  function renderStatus() {
    $('availability').value = S.availability;
    if (document.activeElement !== $('capacity')) $('capacity').value = S.capacity || '';
    const held = [...S.chats.values()].filter((c) => c.status === 'open').length;
    $('status-active').textContent = String(held);
    $('status-of').textContent = S.capacity ? `of ${S.capacity}` : '';
  }
  function onQueue(f) {
    S.queues.set(f.team, { entries: f.entries || [], at: Date.now() });
    renderQueue(f.team);
  }
  function renderQueues() {
    [...$('queues').children].forEach((el) => S.me.teams.includes(el.dataset.team) || el.remove());
    S.me.teams.forEach(renderQueue);
  }
  function queueSection(team) {
    let sec = $('queues').querySelector(`[data-testid="queue-${CSS.escape(team)}"]`);
    if (sec) return sec;
    const hid = `q-h-${team.replace(/[^\w-]/g, '_')}`;
    sec = h('section', { class: 'queue', testid: `queue-${team}`, 'data-team': team, 'aria-labelledby': hid },
      h('div', { class: 'queue-head' },
        h('h3', { id: hid }, h('span', { text: team }), ' ', h('span', { class: 'q-count' })),
        h('button', { type: 'button', class: 'btn small', testid: `accept-next-${team}`, text: 'Accept next',
          'aria-label': `Accept next chat from ${team}`, onclick: () => accept({ team }) })),
      h('ul', { class: 'q-list' }), h('p', { class: 'q-empty', text: 'No one waiting.' }));
    $('queues').append(sec);
    return sec;
  }
  function renderQueue(team) {
    const sec = queueSection(team);
    const q = S.queues.get(team) || { entries: [], at: Date.now() };
    const focused = document.activeElement && sec.contains(document.activeElement)
      ? document.activeElement.closest('[data-conversation]') : null;
    const list = sec.querySelector('.q-list');
    list.replaceChildren(...q.entries.map((e, i) => queueEntry(team, e, i)));
    sec.querySelector('.q-count').textContent = `(${q.entries.length} waiting)`;
    sec.querySelector('.q-empty').hidden = q.entries.length > 0;
    if (focused) {
      const again = list.querySelector(`[data-conversation="${CSS.escape(focused.dataset.conversation)}"] button`);
      (again || sec.querySelector('[data-testid^="accept-next-"]')).focus();
    }
    tick();
  }
  function queueEntry(team, e, i) {
    const did = `qe-${team}-${i}`.replace(/[^\w-]/g, '_');
    const prio = e.priority >= 2 ? 'Returned (professional disconnected)' : e.priority === 1 ? 'Transferred' : '';
    return h('li', { class: 'q-entry', testid: 'queue-entry', 'data-conversation': e.conversation },
      h('div', { id: did, class: 'q-info' },
        h('span', { class: 'q-wait' }, 'Waiting ', h('span', { class: 'q-time', 'data-wait': e.waiting_s, text: fmtWait(e.waiting_s) })),
        h('span', { class: `q-ident ${e.identified ? 'identified' : 'anonymous'}`, text: e.identified ? 'Identified' : 'Anonymous' }),
        prio && h('span', { class: 'q-prio', text: prio }),
        h('span', { class: 'q-svc', text: serviceTopic(e.service, e.topic) })),
      h('button', { type: 'button', class: 'btn small', testid: 'accept', text: 'Accept', 'aria-describedby': did,
        onclick: () => accept({ conversation: e.conversation }) }));
  }
  function accept(target) {
    if (!send({ type: 'accept', ...target }, { kind: 'accept', ...target })) {
      showError('Could not accept the chat: you are offline.');
    }
  }

  /** Once a second: waiting times count up locally from the last snapshot. */
  function tick() {
    for (const [team, q] of S.queues) {
      const sec = $('queues').querySelector(`[data-testid="queue-${CSS.escape(team)}"]`);
      if (!sec) continue;
      const extra = (Date.now() - q.at) / 1000;
      sec.querySelectorAll('.q-time').forEach((el) => { el.textContent = fmtWait(Number(el.dataset.wait) + extra); });
    }
    if (!S.online && S.token && !$('offline').hidden) {
      const left = Math.ceil((S.retryAt - Date.now()) / 1000);
      $('offline-wait').textContent = left > 0 ? ` in ${left} s` : '';
    }
  }

  // ---------------------------------------------------------------- 6. chats
  function ensureChat(id, info) {
    let c = S.chats.get(id);
    const fresh = !c;
    if (fresh) { c = newChat(id); S.chats.set(id, c); }
    const keep = c.info;
    c.info = { ...keep, ...Object.fromEntries(Object.entries(info || {}).filter(([, v]) => v != null)) };
    if (fresh) buildChat(c);
    renderHeader(c);
    renderTab(c);
    updateEmpty();
    return c;
  }
  function buildChat(c) {
    const paneId = `pane-${c.uid}`, tabId = `tab-${c.uid}`;
    const el = c.el;
    el.unread = h('span', { class: 'unread', testid: 'unread', hidden: true });
    el.tabState = h('span', { class: 'tab-state' });
    el.tabName = h('span', { class: 'tab-name' });
    el.tab = h('button', { type: 'button', role: 'tab', id: tabId, class: `tab c${c.colour}`, testid: 'chat-tab',
      'data-conversation': c.id, 'data-color': c.colour, 'aria-controls': paneId, 'aria-selected': 'false', tabindex: -1,
      onclick: () => select(c.id) },
    h('span', { class: 'badge', 'aria-hidden': 'true', text: c.letter }), h('span', { class: 'sr-only', text: `Chat ${c.letter}: ` }),
    el.tabName, el.tabState, el.unread);

    el.label = h('span', { class: 'chat-label', testid: 'chat-label', title: `Chat ${c.letter}`, text: c.letter });
    el.name = h('h2', { class: 'client-name', testid: 'client-name' });
    el.identity = h('span', { class: 'identity', testid: 'identity' });
    el.svc = h('span', { class: 'service-topic', testid: 'service-topic' });
    el.quest = h('dl', { class: 'questionnaire', testid: 'questionnaire', 'aria-label': 'Questionnaire answers' });
    el.statusTag = h('span', { class: 'status-tag' });
    el.transferBtn = h('button', { type: 'button', class: 'btn', testid: 'transfer', text: 'Transfer…', 'aria-expanded': 'false',
      onclick: () => toggleForm(c, 'transfer') });
    el.closeBtn = h('button', { type: 'button', class: 'btn', testid: 'close', text: 'Close chat…', 'aria-expanded': 'false',
      onclick: () => toggleForm(c, 'close') });
    el.reopenBtn = h('button', { type: 'button', class: 'btn', testid: 'reopen', text: 'Reopen', hidden: true, onclick: () => reopen(c) });
    el.dismissBtn = h('button', { type: 'button', class: 'btn ghost', testid: 'dismiss', text: 'Dismiss', hidden: true, onclick: () => dismiss(c) });
    el.notice = h('div', { class: 'notice', role: 'status', hidden: true });
    el.transferForm = transferForm(c);
    el.closeForm = closeForm(c);
    el.older = h('button', { type: 'button', class: 'older link-btn', text: 'Load older messages', onclick: () => loadOlder(c) });
    el.messages = h('div', { class: 'messages', testid: 'messages', role: 'log', 'aria-live': 'off', 'aria-label': `Messages with ${c.letter}` });
    el.scroll = h('div', { class: 'scroll', onscroll: () => {
      c.stickBottom = isAtBottom(c);
      if (el.scroll.scrollTop < 40) loadOlder(c);
    } }, el.older, el.messages);
    el.typing = h('p', { class: 'typing', testid: 'typing', hidden: true });
    el.pane = h('section', { class: `pane c${c.colour}`, role: 'tabpanel', id: paneId, testid: 'chat-pane',
      'data-conversation': c.id, 'data-color': c.colour, 'aria-labelledby': tabId, hidden: true },
    h('header', { class: 'pane-head' },
      h('div', { class: 'who' }, el.label,
        h('div', null, el.name,
          h('p', { class: 'facts' }, h('span', { class: 'sr-only', text: 'Identity: ' }), el.identity, ' · ', el.svc, ' ', el.statusTag))),
      h('div', { class: 'actions' }, el.transferBtn, el.closeBtn, el.reopenBtn, el.dismissBtn),
      el.quest),
    el.notice, el.transferForm, el.closeForm, el.scroll, el.typing, composer(c));
    // Tabs stay in letter order (A, B, C…), also after a reload.
    const after = [...$('tabs').children].find((t) => letterOrder(t.dataset.letter) > letterOrder(c.letter));
    el.tab.dataset.letter = c.letter;
    $('tabs').insertBefore(el.tab, after || null);
    $('panes').append(el.pane);
  }
  function renderHeader(c) {
    const i = c.info, cl = i.client || {};
    c.el.name.textContent = clientName(c);
    c.el.identity.textContent = cl.identified ? 'identified' : 'anonymous';
    c.el.identity.className = `identity ${cl.identified ? 'identified' : 'anonymous'}`;
    c.el.svc.textContent = [serviceTopic(i.service, i.topic), i.team ? `team ${i.team}` : ''].filter(Boolean).join(' · ');
    const order = (k) => questionIndex(i.service, k);
    const answers = Object.entries(i.questionnaire || {}).sort((a, b) => order(a[0]) - order(b[0]));
    c.el.quest.replaceChildren(...(answers.length
      ? answers.map(([k, v]) => h('div', null, h('dt', { text: colon(questionLabel(i.service, k)) }), h('dd', { text: fmtAnswer(v) })))
      : [h('div', null, h('dt', { text: 'Questionnaire:' }), h('dd', { text: 'no answers' }))]));
    c.el.composerLabel.replaceChildren('Message to ', h('span', { class: 'mini-badge', text: c.letter }), ` ${clientName(c)}`);
    c.el.composer.placeholder = `Write to ${chatTitle(c)}…`;
    c.el.messages.setAttribute('aria-label', `Messages with ${chatTitle(c)}`);
    fillTransferOptions(c);
  }
  function renderTab(c) {
    const el = c.el;
    el.tabName.textContent = clientName(c);
    el.unread.textContent = String(c.unread);
    el.unread.hidden = c.unread === 0;
    el.unread.setAttribute('aria-label', `${c.unread} unread`);
    el.tabState.textContent = c.status === 'closed' ? ' (closed)' : c.status === 'released' ? ' (transferred)' : c.alert && !c.unread ? ' (new)' : '';
    el.tab.classList.toggle('alert', c.alert || c.unread > 0);
    el.tab.dataset.status = c.status;
    el.pane.dataset.status = c.status;
    updateTitle();
  }
  function updateEmpty() {
    $('empty').hidden = S.chats.size > 0;
  }
  function updateTitle() {
    const n = [...S.chats.values()].reduce((a, c) => a + c.unread, 0);
    document.title = `${n ? `(${n}) ` : ''}Luukku – professional console`;
  }
  function select(id) {
    S.activeId = id;
    for (const c of S.chats.values()) {
      const on = c.id === id;
      c.el.tab.setAttribute('aria-selected', String(on));
      c.el.tab.tabIndex = on ? 0 : -1;
      c.el.pane.hidden = !on;
    }
    const c = S.chats.get(id);
    if (c) {
      clearUnread(c);
      if (c.stickBottom !== false) scrollBottom(c);
      markRead(c);
    }
    saveStore();
  }
  function onTabKey(e) {
    const tabs = [...$('tabs').querySelectorAll('[role="tab"]')];
    const i = tabs.indexOf(document.activeElement);
    if (i < 0) return;
    const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    const t = tabs[(next + tabs.length) % tabs.length];
    t.focus();
    select(t.dataset.conversation);
  }
  function clearUnread(c) {
    c.unread = 0;
    c.alert = false;
    renderTab(c);
  }
  function onAssigned(f, ctx) {
    const known = S.chats.has(f.conversation);
    const c = ensureChat(f.conversation, f);
    setChatStatus(c, f.status === 'complete' ? 'closed' : 'open');
    c.historyDone = false;
    loadHistory(c, f.last_seq + 1);
    const mine = ctx && (ctx.kind === 'accept' || ctx.kind === 'reopen');
    if (mine || !S.activeId || !S.chats.has(S.activeId)) select(c.id);
    else {
      c.alert = true;
      renderTab(c);
      beep();
    }
    announce(`${known ? 'Chat reopened' : 'New chat assigned'}: ${chatTitle(c)}, ${serviceTopic(c.info.service, c.info.topic)}.`);
    renderStatus();
    saveStore();
  }
  function onReleased(f) {
    const c = S.chats.get(f.conversation);
    if (!c) return;
    if (f.reason === 'closed') setChatStatus(c, 'closed');
    else release(c, f.reason || 'transferred');
    announce(`Chat ${chatTitle(c)} ${c.status === 'closed' ? 'closed' : 'is no longer yours'}.`);
    saveStore();
  }
  function release(c, reason) {
    c.reason = reason;
    setChatStatus(c, 'released');
  }
  function setChatStatus(c, status) {
    c.status = status;
    const open = status === 'open', el = c.el;
    el.composer.disabled = !open;
    el.send.disabled = el.sendNote.disabled = !open;
    el.transferBtn.hidden = el.closeBtn.hidden = !open;
    el.reopenBtn.hidden = status !== 'closed';
    el.dismissBtn.hidden = open;
    el.statusTag.textContent = open ? '' : status === 'closed' ? '– closed' : '– no longer yours';
    if (!open) {
      el.transferForm.hidden = el.closeForm.hidden = true;
      stopTyping(c);
      for (const p of c.pending.values()) if (p.state === 'sending') failPending(c, p, 'the chat is no longer yours');
    }
    if (status === 'closed') setNotice(c, 'This chat is closed and read-only. Reopen it to continue, or dismiss it.');
    else if (status === 'released') setNotice(c, releaseText(c));
    else setNotice(c, '');
    renderTab(c);
    renderStatus();
  }
  function releaseText(c) {
    if (c.reason === 'requeued') return 'This chat was returned to the team queue because you were disconnected. It is no longer yours.';
    const t = [...c.events.values()].reverse().find((e) => e.type === 'system' && e.event === 'transferred');
    const where = t ? ` to ${t.detail.to_professional ? `${proName(t.detail.to_professional)} (${t.detail.team})` : `team ${t.detail.team}`}` : '';
    return `This chat was transferred${where}. It is no longer yours; dismiss it when done.`;
  }
  function setNotice(c, text, kind) {
    c.el.notice.textContent = text;
    c.el.notice.hidden = !text;
    c.el.notice.className = `notice ${kind || ''}`;
  }
  function loadHistory(c, before, limit = PAGE, gap = false) {
    if (!gap && c.loading) return;
    const frame = { type: 'history', conversation: c.id, limit };
    if (before) frame.before_seq = before;
    if (send(frame, { kind: 'history', conversation: c.id, gap }) && !gap) c.loading = true;
  }
  function loadOlder(c) {
    if (c.historyDone || c.loading || !Number.isFinite(c.minSeq) || c.minSeq <= 1) return;
    loadHistory(c, c.minSeq);
  }
  function onHistory(f, ctx) {
    const c = S.chats.get(f.conversation);
    if (!c) return;
    const events = f.events || [];
    const wasMin = c.minSeq;
    const sc = c.el.scroll, fromBottom = sc.scrollHeight - sc.scrollTop;
    const older = events.length && events[events.length - 1].seq < wasMin && c.loaded;
    events.forEach((e) => addEvent(c, e, false));
    if (ctx && ctx.gap) return;
    c.loading = false;
    if (events.length === 0 || c.minSeq <= 1) c.historyDone = true;
    if (older) sc.scrollTop = sc.scrollHeight - fromBottom;
    else if (!c.loaded || c.stickBottom !== false) scrollBottom(c);
    c.loaded = true;
    renderOlder(c);
    if (c.status === 'released') setNotice(c, releaseText(c));
    markRead(c);
    saveStore();
  }
  function renderOlder(c) {
    c.el.older.hidden = c.historyDone || !Number.isFinite(c.minSeq) || c.minSeq <= 1;
  }
  function onEvent(f) {
    const c = S.chats.get(f.conversation);
    if (c) addEvent(c, f, true);
  }

  /** Adds one stored event, de-duplicated by seq; `live` events may raise unread and alerts. */
  function addEvent(c, ev, live) {
    if (!ev || !Number.isInteger(ev.seq) || c.events.has(ev.seq)) return;
    if (ev.client_msg_id && c.pending.has(ev.client_msg_id)) return confirmPending(c, ev.client_msg_id, ev.seq, ev.at);
    if (live && c.maxSeq > 0 && ev.seq > c.maxSeq + 1) loadHistory(c, ev.seq, Math.min(200, ev.seq - c.maxSeq - 1), true);
    const stick = isAtBottom(c);
    c.events.set(ev.seq, ev);
    insertSorted(c, renderEvent(c, ev), ev.seq);
    c.minSeq = Math.min(c.minSeq, ev.seq);
    c.maxSeq = Math.max(c.maxSeq, ev.seq);
    if (stick) scrollBottom(c);
    if (ev.type === 'system' && ev.event === 'identified') onIdentified(c, ev, live);
    if (live) onLiveEvent(c, ev);
  }
  /** The client identified inside the chat: the header and the tab now show who they are. */
  function onIdentified(c, ev, live) {
    const d = ev.detail || {};
    c.info.client = { ...(c.info.client || {}), identified: true, ...(d.name ? { name: d.name } : {}) };
    renderHeader(c);
    renderTab(c);
    if (live) announce(`${chatTitle(c)}: the client identified.`);
  }
  function onLiveEvent(c, ev) {
    if (ev.type === 'system' && ev.event === 'closed' && c.status === 'open') setChatStatus(c, 'closed');
    if (ev.type !== 'message' || ev.from.role !== 'client') return saveStore();
    showClientTyping(c, false);
    if (ev.seq <= c.seenSeq) return;
    c.seenSeq = ev.seq;
    if (c.id === S.activeId && !document.hidden) {
      announce(`${chatTitle(c)}: ${ev.body}`);
      markRead(c);
    } else {
      c.unread++;
      renderTab(c);
      beep();
    }
    saveStore();
  }
  function systemText(ev) {
    const d = ev.detail || {};
    const who = d.name || (d.professional && proName(d.professional)) || 'a professional';
    switch (ev.event) {
      case 'assigned': return `Assigned to ${who}${d.team ? ` (${d.team})` : ''}`;
      case 'transferred': return `Transferred to ${d.to_professional ? `${proName(d.to_professional)} in ` : ''}team ${d.team || '?'}${d.from_professional ? ` by ${proName(d.from_professional)}` : ''}${d.note ? ` – note: ${d.note}` : ''}`;
      case 'closed': return `Closed${d.summary ? ` – summary: ${d.summary}` : ''}`;
      case 'reopened': return `Reopened by ${who}`;
      case 'identified': return `The client identified${d.name ? ` as ${d.name}` : ''}`;
      case 'queued': return d.reason === 'professional_disconnected'
        ? `Returned to the queue${d.team ? ` of ${d.team}` : ''} (professional disconnected)` : `Queued${d.team ? ` for ${d.team}` : ''}`;
      default: return String(ev.event);
    }
  }
  function renderEvent(c, ev) {
    const time = h('time', { datetime: ev.at || '', text: fmtTime(ev.at) });
    if (ev.type === 'system') {
      return h('div', { class: 'sys', testid: 'message', 'data-seq': ev.seq, 'data-kind': 'system', 'data-role': 'system' },
        h('span', { text: systemText(ev) }), ' · ', time);
    }
    const from = ev.from || {};
    const mine = from.role === 'professional' && from.id === S.meId;
    const who = from.role === 'client' ? `${c.letter} · ${clientName(c)}` : mine ? 'You' : from.name || 'Professional';
    const state = mine ? (c.clientRead >= ev.seq && ev.type === 'message' ? 'read' : 'sent') : null;
    return messageEl(ev.type, from.role, mine, who, time, ev.body, ev.seq, state);
  }
  function messageEl(kind, role, mine, who, time, body, seq, state) {
    const stateEl = h('span', { class: 'state', text: stateText(state) });
    return h('div', { class: `msg ${role}${mine ? ' mine' : ''}${kind === 'note' ? ' note' : ''}`, testid: 'message',
      'data-seq': seq, 'data-kind': kind, 'data-role': role, 'data-state': state },
    kind === 'note' && h('div', { class: 'note-label' }, h('span', { class: 'note-tag', text: 'Note' }), ' Internal note – not visible to the client'),
    h('div', { class: 'meta' }, h('span', { class: 'who', text: who }), ' ', time, ' ', stateEl),
    h('div', { class: 'body', text: body }));
  }
  const stateText = (s) => ({ sending: 'Sending…', sent: 'Sent', read: 'Read', failed: 'Not sent' }[s] || '');

  /** Keeps the log ordered by seq; pending (unacked) messages stay at the end. */
  function insertSorted(c, el, seq) {
    const box = c.el.messages;
    let after = box.lastElementChild;
    while (after && !(Number(after.dataset.seq || Infinity) < seq)) after = after.previousElementSibling;
    if (after) after.after(el); else box.prepend(el);
  }
  const isAtBottom = (c) => c.el.scroll.scrollHeight - c.el.scroll.scrollTop - c.el.scroll.clientHeight < 60;
  function scrollBottom(c) {
    c.el.scroll.scrollTop = c.el.scroll.scrollHeight;
  }

  // ---------------------------------------------------------------- 7. composing
  function composer(c) {
    const taId = `composer-${c.uid}`;
    const ta = h('textarea', { id: taId, class: 'composer-text', testid: 'composer', rows: 3, maxlength: 10000 });
    const saved = (S.stored.drafts || {})[c.id];
    if (saved) ta.value = saved;
    c.el.composer = ta;
    c.el.composerLabel = h('label', { for: taId, class: 'to' });
    c.el.send = h('button', { type: 'submit', class: 'btn primary', testid: 'send', text: 'Send' });
    c.el.sendNote = h('button', { type: 'button', class: 'btn note-btn', testid: 'send-note', text: 'Send as internal note',
      onclick: () => submit(c, 'note') });
    ta.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(c, 'message'); }
    });
    ta.addEventListener('input', () => { typingInput(c); saveDraftSoon(c); });
    ta.addEventListener('blur', () => stopTyping(c));
    return h('form', { class: 'composer', onsubmit: (e) => { e.preventDefault(); submit(c, 'message'); } },
      c.el.composerLabel, ta,
      h('div', { class: 'composer-bar' },
        h('span', { class: 'hint', text: 'Enter sends · Shift+Enter new line' }), c.el.sendNote, c.el.send));
  }

  /** Sends the text of THIS pane's composer to THIS pane's conversation (`c` is bound per pane). */
  function submit(c, kind) {
    const ta = c.el.composer;
    const body = ta.value.trim();
    if (!body || c.status !== 'open') return;
    const p = { id: uuid(), kind, body, state: 'sending', at: new Date().toISOString() };
    addPending(c, p);
    ta.value = '';
    stopTyping(c);
    transmit(c, p);
    saveStore();
  }
  function addPending(c, p) {
    c.pending.set(p.id, p);
    p.el = messageEl(p.kind, 'professional', true, 'You', h('time', { text: fmtTime(p.at) }), p.body, null, 'sending');
    c.el.messages.append(p.el);
    scrollBottom(c);
  }
  function transmit(c, p) {
    send({ type: p.kind === 'note' ? 'note' : 'send', conversation: c.id, client_msg_id: p.id, body: p.body },
      { kind: p.kind, conversation: c.id, cmid: p.id });
  }

  /** Unacked sends kept over a page reload go out again with their own client_msg_id. */
  function restorePending() {
    for (const [id, list] of Object.entries(S.stored.pending || {})) {
      const c = S.chats.get(id);
      if (c && c.status === 'open') list.forEach((p) => c.pending.has(p.id) || addPending(c, { ...p, state: 'sending' }));
    }
  }
  function onAck(f) {
    const c = S.chats.get(f.conversation);
    if (c && f.client_msg_id && c.pending.has(f.client_msg_id) && f.seq) confirmPending(c, f.client_msg_id, f.seq, f.at);
  }
  function confirmPending(c, cmid, seq, at) {
    const p = c.pending.get(cmid);
    c.pending.delete(cmid);
    const state = p.kind === 'message' && c.clientRead >= seq ? 'read' : 'sent';
    p.el.dataset.seq = seq;
    p.el.dataset.state = state;
    p.el.querySelector('.state').textContent = stateText(state);
    if (at) p.el.querySelector('time').textContent = fmtTime(at);
    if (c.events.has(seq)) { p.el.remove(); return; }
    c.events.set(seq, { type: p.kind, conversation: c.id, seq, at, from: { role: 'professional', id: S.meId }, body: p.body, client_msg_id: cmid });
    p.el.remove();
    insertSorted(c, p.el, seq);
    c.minSeq = Math.min(c.minSeq, seq);
    c.maxSeq = Math.max(c.maxSeq, seq);
    saveStore();
  }
  function failPending(c, p, why) {
    p.state = 'failed';
    c.pending.delete(p.id);
    p.el.dataset.state = 'failed';
    p.el.querySelector('.state').textContent = `Not sent – ${why}`;
  }
  function saveDraftSoon(c) {
    clearTimeout(c.draftTimer);
    c.draftTimer = setTimeout(saveStore, 400);
  }
  function typingInput(c) {
    if (c.status !== 'open') return;
    if (!c.el.composer.value) return stopTyping(c);
    if (!c.typingOut && send({ type: 'typing', conversation: c.id, active: true })) c.typingOut = true;
    clearTimeout(c.typingTimer);
    c.typingTimer = setTimeout(() => stopTyping(c), 3000);
  }
  function stopTyping(c) {
    clearTimeout(c.typingTimer);
    if (c.typingOut) send({ type: 'typing', conversation: c.id, active: false });
    c.typingOut = false;
  }
  function onTyping(f) {
    const c = S.chats.get(f.conversation);
    if (c && f.role === 'client') showClientTyping(c, !!f.active);
  }
  function showClientTyping(c, on) {
    clearTimeout(c.typingInTimer);
    c.el.typing.textContent = on ? `${chatTitle(c)} is typing…` : '';
    c.el.typing.hidden = !on;
    c.el.tab.classList.toggle('is-typing', on);
    if (on) c.typingInTimer = setTimeout(() => showClientTyping(c, false), 10000);
  }

  /** The client's read receipt: own messages up to `seq` become "Read". */
  function onRead(f) {
    const c = S.chats.get(f.conversation);
    if (!c || f.role !== 'client' || !(f.seq > c.clientRead)) return;
    c.clientRead = f.seq;
    c.el.messages.querySelectorAll('.msg.mine[data-kind="message"][data-state="sent"]').forEach((el) => {
      if (Number(el.dataset.seq) <= f.seq) { el.dataset.state = 'read'; el.querySelector('.state').textContent = stateText('read'); }
    });
  }

  /** Our own read receipt for the visible chat. */
  function markRead(c) {
    if (c.id !== S.activeId || document.hidden || c.status !== 'open' || c.maxSeq <= c.readSent) return;
    if (send({ type: 'read', conversation: c.id, seq: c.maxSeq })) c.readSent = c.maxSeq;
    c.seenSeq = Math.max(c.seenSeq, c.maxSeq);
  }
  function audioCtx() {
    try { S.audio = S.audio || new (window.AudioContext || window.webkitAudioContext)(); } catch { S.audio = null; }
    return S.audio;
  }
  function beep() {
    if (!$('sound').checked) return;
    const ctx = audioCtx();
    if (!ctx) return;
    const t = ctx.currentTime, o = ctx.createOscillator(), g = ctx.createGain();
    o.frequency.value = 880;
    g.gain.setValueAtTime(0.0001, t);
    g.gain.exponentialRampToValueAtTime(0.2, t + 0.01);
    g.gain.exponentialRampToValueAtTime(0.0001, t + 0.18);
    o.connect(g).connect(ctx.destination);
    o.start(t);
    o.stop(t + 0.2);
  }

  // ---------------------------------------------------------------- 8. transfer, close, reopen, dismiss
  function transferForm(c) {
    const id = (n) => `${n}-${c.uid}`;
    const f = h('form', { class: 'sub-form', hidden: true, 'aria-label': 'Transfer chat', onsubmit: (e) => { e.preventDefault(); doTransfer(c); } },
      h('h3', { class: 'form-title' }),
      h('div', { class: 'field-row' }, h('label', { for: id('tt'), text: 'To team' }),
        h('select', { id: id('tt'), testid: 'transfer-team', onchange: () => syncTransfer(c, 'team') })),
      h('div', { class: 'field-row', 'data-pro': '' }, h('label', { for: id('tp'), text: 'To professional (optional)' })),
      h('div', { class: 'field-row' }, h('label', { for: id('tn'), text: 'Note for the colleague (optional, not visible to the client)' }),
        h('textarea', { id: id('tn'), testid: 'transfer-note', rows: 2 })),
      h('div', { class: 'form-bar' },
        h('button', { type: 'submit', class: 'btn primary', testid: 'transfer-confirm', text: 'Transfer' }),
        h('button', { type: 'button', class: 'btn ghost', text: 'Cancel', onclick: () => toggleForm(c, 'transfer', false) })));
    return f;
  }
  function fillTransferOptions(c) {
    const f = c.el.transferForm;
    f.querySelector('.form-title').textContent = `Transfer ${chatTitle(c)}`;
    const team = f.querySelector('[data-testid="transfer-team"]');
    const prev = team.value;
    const teams = S.teams.length ? S.teams : (S.me ? S.me.teams : []);
    team.replaceChildren(...teams.map((t) => h('option', { value: t, text: t })));
    team.value = prev || teams.find((t) => t !== c.info.team) || teams[0] || '';
    const row = f.querySelector('[data-pro]');
    const old = row.querySelector('[data-testid="transfer-professional"]');
    const keep = old ? old.value : '';
    const pid = `tp-${c.uid}`;
    const input = S.pros
      ? h('select', { id: pid, testid: 'transfer-professional', onchange: () => syncTransfer(c, 'pro') },
        h('option', { value: '', text: 'Anyone in the team' }),
        S.pros.filter((p) => p.id !== S.meId).map((p) => h('option', { value: p.id, text: `${p.name} (${p.teams.join(', ')})` })))
      : h('input', { id: pid, testid: 'transfer-professional', type: 'text', autocomplete: 'off', placeholder: 'professional id' });
    if (old) old.replaceWith(input); else row.append(input);
    input.value = keep;
  }

  /** Keeps team and professional consistent: a chosen colleague must be in the chosen team. */
  function syncTransfer(c, changed) {
    const f = c.el.transferForm;
    const team = f.querySelector('[data-testid="transfer-team"]');
    const pro = f.querySelector('[data-testid="transfer-professional"]');
    const p = (S.pros || []).find((x) => x.id === pro.value);
    if (!p) return;
    if (changed === 'pro' && !p.teams.includes(team.value)) team.value = p.teams[0];
    if (changed === 'team' && !p.teams.includes(team.value)) pro.value = '';
  }
  function doTransfer(c) {
    const f = c.el.transferForm;
    const team = f.querySelector('[data-testid="transfer-team"]').value;
    const pro = f.querySelector('[data-testid="transfer-professional"]').value.trim();
    const note = f.querySelector('[data-testid="transfer-note"]').value.trim();
    const frame = { type: 'transfer', conversation: c.id };
    if (team) frame.to_team = team;
    if (pro) frame.to_professional = pro;
    if (note) frame.note = note;
    if (!send(frame, { kind: 'transfer', conversation: c.id })) return showError('Could not transfer the chat: you are offline.', c);
    toggleForm(c, 'transfer', false);
    f.reset();
    setNotice(c, `Transferring to ${pro ? proName(pro) : `team ${team}`}…`);
  }
  function closeForm(c) {
    const sid = `cs-${c.uid}`;
    return h('form', { class: 'sub-form', hidden: true, 'aria-label': 'Close chat', onsubmit: (e) => { e.preventDefault(); doClose(c); } },
      h('div', { class: 'field-row' }, h('label', { for: sid, text: 'Summary (internal, not visible to the client)' }),
        h('textarea', { id: sid, testid: 'close-summary', rows: 3 })),
      h('div', { class: 'form-bar' },
        h('button', { type: 'submit', class: 'btn danger', testid: 'close-confirm', text: 'Close chat' }),
        h('button', { type: 'button', class: 'btn ghost', text: 'Cancel', onclick: () => toggleForm(c, 'close', false) })));
  }
  function doClose(c) {
    const summary = c.el.closeForm.querySelector('[data-testid="close-summary"]').value.trim();
    const frame = { type: 'close', conversation: c.id };
    if (summary) frame.summary = summary;
    if (!send(frame, { kind: 'close', conversation: c.id })) return showError('Could not close the chat: you are offline.', c);
    toggleForm(c, 'close', false);
    c.el.closeForm.reset();
  }
  function toggleForm(c, which, show) {
    const form = which === 'transfer' ? c.el.transferForm : c.el.closeForm;
    const btn = which === 'transfer' ? c.el.transferBtn : c.el.closeBtn;
    const on = show === undefined ? form.hidden : show;
    (which === 'transfer' ? c.el.closeForm : c.el.transferForm).hidden = true;
    c.el.transferBtn.setAttribute('aria-expanded', 'false');
    c.el.closeBtn.setAttribute('aria-expanded', 'false');
    form.hidden = !on;
    btn.setAttribute('aria-expanded', String(on));
    if (on) form.querySelector('select, textarea').focus();
    else btn.focus();
  }
  function reopen(c) {
    if (!send({ type: 'reopen', conversation: c.id }, { kind: 'reopen', conversation: c.id })) {
      showError('Could not reopen the chat: you are offline.', c);
    }
  }
  function dismiss(c) {
    if (c.status === 'open') return;
    const ids = [...S.chats.keys()];
    const i = ids.indexOf(c.id);
    c.el.tab.remove();
    c.el.pane.remove();
    S.chats.delete(c.id);
    if (S.activeId === c.id) {
      S.activeId = null;
      const next = ids[i + 1] || ids[i - 1];
      if (next && S.chats.has(next)) { select(next); S.chats.get(next).el.tab.focus(); }
    }
    updateEmpty();
    updateTitle();
    saveStore();
  }

  boot();
})();
