// The matters an anonymous visitor sent from this browser (a contact form): what they need to
// come back to one — its id and resume token, the reference, the service and when it was sent —
// kept in localStorage under "luukku.widget.matters.v1" until they forget it here. Never a
// message or an answer of the form: what was written stays on the server, which the resume
// token opens (docs/ui.md, "On this device").

export const DEVICE_KEY = 'luukku.widget.matters.v1';
const MAX_KEPT = 20; // the newest; an older one is dropped rather than the list growing forever

const isText = (v) => typeof v === 'string' && v.length > 0;

/** The kept matters, newest first (a corrupt or unavailable storage counts as none). */
export function deviceMatters() {
  try {
    const list = JSON.parse(localStorage.getItem(DEVICE_KEY));
    if (!Array.isArray(list)) return [];
    return list.filter((m) => m && isText(m.conversation) && isText(m.resume_token))
      .sort((a, b) => String(b.sent_at || '').localeCompare(String(a.sent_at || '')));
  } catch (e) { return []; }
}

function write(list) {
  try {
    if (list.length) localStorage.setItem(DEVICE_KEY, JSON.stringify(list));
    else localStorage.removeItem(DEVICE_KEY);
    return true;
  } catch (e) { return false; } // private mode or full: the matter is not kept here
}

/** Keeps one matter (again: the same conversation is kept once); returns whether it was. */
export function keepMatter({ conversation, resume_token, reference, service, sent_at }) {
  if (!isText(conversation) || !isText(resume_token)) return false;
  const kept = { conversation, resume_token, reference: reference || '', service: service || '', sent_at: sent_at || new Date().toISOString() };
  const list = [kept, ...deviceMatters().filter((m) => m.conversation !== conversation)].slice(0, MAX_KEPT);
  return write(list);
}

/** Forgets one matter on this device (the organisation still has it). */
export function forgetMatter(conversation) {
  write(deviceMatters().filter((m) => m.conversation !== conversation));
}
