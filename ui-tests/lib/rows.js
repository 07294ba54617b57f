// The messages on screen as rows with their seqs, for tests that check each message shows
// exactly once and in seq order (after a reconnect, a restart, a failover).
import assert from 'node:assert/strict';

/** [{seq, role, kind, state, text}] of a console pane's rows, in DOM order. */
export async function consoleRows(nurse, conv) {
  return nurse.messages(conv).evaluateAll((rows) =>
    rows.map((r) => ({
      seq: r.hasAttribute('data-seq') ? Number(r.getAttribute('data-seq')) : null,
      role: r.getAttribute('data-role'),
      kind: r.getAttribute('data-kind'),
      state: r.getAttribute('data-state'),
      text: r.textContent.replace(/\s+/g, ' ').trim(),
    })),
  );
}

/** [{seq, role, state, text}] of the widget's rows, in DOM order. */
export async function widgetRows(pat) {
  return pat.messages.evaluateAll((rows) =>
    rows.map((r) => ({
      seq: r.hasAttribute('data-seq') ? Number(r.getAttribute('data-seq')) : null,
      role: r.getAttribute('data-role'),
      state: r.getAttribute('data-state'),
      text: r.textContent.replace(/\s+/g, ' ').trim(),
    })),
  );
}

/** The rows whose text contains `marker` (e.g. "M3 "). */
export const withText = (rows, marker) => rows.filter((r) => r.text.includes(marker));

/** Every row has a seq, seqs are strictly increasing in DOM order (so also unique). */
export function assertSeqOrdered(rows, where) {
  const seqs = rows.map((r) => r.seq);
  assert.ok(seqs.every((s) => Number.isInteger(s) && s > 0), `${where}: every row carries its seq: ${JSON.stringify(seqs)}`);
  for (let i = 1; i < seqs.length; i++) {
    assert.ok(seqs[i] > seqs[i - 1], `${where}: rows in strictly increasing seq order, no duplicate: ${JSON.stringify(seqs)}`);
  }
}

