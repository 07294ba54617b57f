// Reply deadlines ("we reply by …"): a service's promise asked from the server before sending
// (GET /api/v1/services/{id}/promise), and a deadline written out in the widget's language in
// the organisation's time zone (a Finnish office closes at 16:00 Helsinki time, wherever the
// patient's computer thinks it is).

import { cfg } from './config.js';
import { t } from './strings.js';

const ORG_TZ = 'Europe/Helsinki'; // until the promise endpoint has told the organisation's own
let orgTz = ORG_TZ;
const cache = new Map(); // service id → Promise of {due_at, working_days, time_zone} | null

/** The deadline of a contact made now, or null when the service promises none or it failed. */
export function promiseOf(serviceId) {
  if (!cache.has(serviceId)) {
    const p = fetch(cfg.root + '/api/v1/services/' + encodeURIComponent(serviceId) + '/promise', { credentials: 'omit' })
      .then((res) => (res.ok ? res.json() : null))
      .then((j) => {
        if (!j || typeof j.due_at !== 'string') return null;
        if (typeof j.time_zone === 'string') orgTz = j.time_zone;
        return j;
      })
      .catch(() => null);
    cache.set(serviceId, p);
    // A deadline asked now is stale tomorrow: ask again after a while.
    setTimeout(() => cache.delete(serviceId), 10 * 60 * 1000);
  }
  return cache.get(serviceId);
}

/** "Monday 7 December at 16:00" (in the widget's language), or '' for a bad date. */
export function fmtDue(at) {
  const d = new Date(at);
  if (!at || isNaN(d.getTime())) return '';
  const opts = { weekday: 'long', day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit' };
  try { return d.toLocaleString(cfg.locale, Object.assign({ timeZone: orgTz }, opts)); } catch (e) {
    return d.toLocaleString(cfg.locale, opts); // a browser without that time zone
  }
}

/** "We reply by …" for a deadline; falls back to "within N working days". */
export function replyByText(dueAt, workingDays) {
  const when = fmtDue(dueAt);
  if (when) return t('replyBy', { when: when });
  return typeof workingDays === 'number' ? t('replyIn', { n: workingDays }) : '';
}
