// What the embedding <script> tag says (read by /widget.js, the classic loader, before it
// imports main.js): the server's base URL, the preselected service and the language.

const LANGS = ['en', 'fi', 'sv'];

export const cfg = {
  root: '',          // the Luukku server, e.g. "https://chat.example-region.fi"
  wsUrl: '',
  service: null,     // data-service
  langs: LANGS,
  li: 0,             // index of the language in LANGS (and in each row of strings.js)
  lang: 'en',
  locale: 'en-GB',
};

export function configure({ root, service, lang }) {
  cfg.root = root.replace(/\/+$/, '');
  cfg.wsUrl = cfg.root.replace(/^http/, 'ws') + '/ws/client';
  cfg.service = service || null;
  cfg.li = Math.max(0, LANGS.indexOf(String(lang || 'en').slice(0, 2).toLowerCase()));
  cfg.lang = LANGS[cfg.li];
  cfg.locale = ['en-GB', 'fi-FI', 'sv-FI'][cfg.li];
}
