// Who a chat can go to: the teams (with their names) and colleagues (with presence and load)
// from the server's `colleagues` reply, asked on welcome and whenever a transfer form opens.
// Kept apart from the transfer form so that opening a form (actions.js) can ask for them.

import { send } from './connection.js';
import { lang } from './i18n.js';
import { S } from './state.js';

/** Asks the server for teams and colleagues (the reply goes to `storeColleagues`). */
export function askColleagues() {
  send({ type: 'colleagues', lang: lang() }, { kind: 'colleagues' });
}
export function storeColleagues(f) {
  S.teamNames = Object.fromEntries((f.teams || []).map((x) => [x.id, x.name || x.id]));
  S.teamList = (f.teams || []).map((x) => x.id);
  S.colleagues = (f.professionals || []).filter((p) => p.id !== S.meId);
}

/** The teams a chat can be transferred to: from `colleagues`, else the services', else mine. */
export const transferTeams = () => (S.teamList && S.teamList.length ? S.teamList : S.teams.length ? S.teams : (S.me ? S.me.teams : []));
/** Colleagues with presence and load, from `colleagues`; else the demo list (no presence). */
export const colleagues = () => S.colleagues || (S.pros || []).filter((p) => p.id !== S.meId);
