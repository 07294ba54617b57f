// Which of the console's three views fills the main area: the chats, the inbox of asynchronous
// matters (inbox.js) or the supervision view (supervision.js, supervisors only). Exactly one of
// the three `main` elements is shown (a hidden one is no landmark); the choice is kept over a
// reload. Above the connection, below the views that switch.

import { t } from './i18n.js';
import { leavingPane, renderQueuedWarnings } from './smschat.js';
import { $, S, saveStore } from './state.js';

const VIEWS = { chats: ['chat-area', 'view-chats', 'skip'], inbox: ['inbox', 'view-inbox', 'skipInbox'], supervision: ['supervision', 'view-supervision', 'skipSupervision'], access: ['access', 'view-access', 'skipAccess'] };

/** Shows `name` (chats | inbox | supervision | access) and hides the others. */
export function showView(name) {
  if (!VIEWS[name]) name = 'chats';
  if (S.view === 'chats' && name !== 'chats') leavingPane(S.chats.get(S.activeId));
  S.view = name;
  S.supervising = name === 'supervision';
  for (const [view, [main, button]] of Object.entries(VIEWS)) {
    $(main).hidden = view !== name;
    $(button).setAttribute('aria-pressed', String(view === name));
  }
  const skip = document.querySelector('.skip');
  skip.setAttribute('href', `#${VIEWS[name][0]}`);
  const text = t(VIEWS[name][2]);
  if (skip.textContent !== text) skip.textContent = text;
  renderQueuedWarnings();
  saveStore();
}
