// Keyboard shortcuts of the console. They switch, focus and open things; none of them ever
// sends anything on its own (sending is always Enter in a composer or its button).
// Alt+letter is read from `event.code` so that it works whatever the keyboard layout (and on a
// Mac, where Option+letter types a character).

import { setMode } from './composer.js';
import { S } from './state.js';

export function onShortcut(e) {
  if (!e.altKey || e.ctrlKey || e.metaKey || e.defaultPrevented) return;
  const c = S.chats.get(S.activeId);
  const act = {
    KeyP: () => c && setMode(c, 'message', { focus: true }),
    KeyL: () => c && setMode(c, 'note', { focus: true }),
  }[e.code];
  if (!act) return;
  e.preventDefault();
  act();
}
