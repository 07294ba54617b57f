// The console's texts in English, Finnish and Swedish (the order of each row) and `t(key, vars)`
// for the language chosen in the console (remembered in localStorage; default: the browser's).
// Counts go through `count(n, key)`, which picks the singular or plural row (`key.one`/`key.other`).

export const LANGS = ['en', 'fi', 'sv'];
const LANG_KEY = 'luukku.console.lang';

const STR = {
  // composer
  modeLegend: ['Write as', 'Kirjoita', 'Skriv som'],
  modeReply: ['Reply to client', 'Vastaus asiakkaalle', 'Svar till klienten'],
  modeNote: ['Internal note', 'Sisäinen muistiinpano', 'Intern anteckning'],
  messageTo: ['Message to', 'Viesti:', 'Meddelande till'],
  noteOn: ['Internal note on', 'Sisäinen muistiinpano:', 'Intern anteckning om'],
  noteWarning: ['Internal note – only professionals see it, never the client.', 'Sisäinen muistiinpano – vain ammattilaiset näkevät sen, asiakas ei koskaan.', 'Intern anteckning – bara yrkespersoner ser den, aldrig klienten.'],
  writeTo: ['Write to {who}…', 'Kirjoita: {who}…', 'Skriv till {who}…'],
  writeNote: ['Internal note about {who} (not sent to the client)…', 'Sisäinen muistiinpano: {who} (ei lähetetä asiakkaalle)…', 'Intern anteckning om {who} (skickas inte till klienten)…'],
  send: ['Send to client', 'Lähetä asiakkaalle', 'Skicka till klienten'],
  addNote: ['Save internal note', 'Tallenna muistiinpano', 'Spara anteckningen'],
  hintReply: ['Enter sends to the client · Shift+Enter new line · Alt+L internal note', 'Enter lähettää asiakkaalle · Shift+Enter uusi rivi · Alt+L sisäinen muistiinpano', 'Enter skickar till klienten · Shift+Enter ny rad · Alt+L intern anteckning'],
  hintNote: ['Enter saves the note · Shift+Enter new line · Alt+P reply to the client', 'Enter tallentaa muistiinpanon · Shift+Enter uusi rivi · Alt+P vastaus asiakkaalle', 'Enter sparar anteckningen · Shift+Enter ny rad · Alt+P svar till klienten'],
  modeNowNote: ['Chat {chat}: internal note mode. Enter saves a note the client does not see.', 'Chat {chat}: sisäinen muistiinpano. Enter tallentaa muistiinpanon, jota asiakas ei näe.', 'Chatt {chat}: intern anteckning. Enter sparar en anteckning som klienten inte ser.'],
  modeNowReply: ['Chat {chat}: reply mode. Enter sends to the client.', 'Chat {chat}: vastaus. Enter lähettää asiakkaalle.', 'Chatt {chat}: svar. Enter skickar till klienten.'],
  // take back
  retract: ['Take back', 'Peru viesti', 'Ta tillbaka'],
  retractLabel: ['Take back your message sent at {time}', 'Peru klo {time} lähettämäsi viesti', 'Ta tillbaka ditt meddelande skickat {time}'],
  retracting: ['Taking back…', 'Perutaan…', 'Tar tillbaka…'],
  withdrawn: ['Withdrawn – the client sees “This message was withdrawn”', 'Peruttu – asiakas näkee ”Viesti peruttiin”', 'Tillbakataget – klienten ser ”Meddelandet togs tillbaka”'],
  sysRetracted: ['{who} took back a message', '{who} perui viestin', '{who} tog tillbaka ett meddelande'],
  // keyboard shortcuts
  scTitle: ['Keyboard shortcuts', 'Pikanäppäimet', 'Kortkommandon'],
  scIntro: ['No shortcut sends anything: Enter in the composer sends, and closing or transferring needs the form’s button.', 'Mikään pikanäppäin ei lähetä mitään: Enter kirjoituskentässä lähettää, ja sulkeminen tai siirto vaatii lomakkeen painikkeen.', 'Inget kortkommando skickar något: Enter i skrivfältet skickar, och att stänga eller flytta kräver formulärets knapp.'],
  scNext: ['Next chat', 'Seuraava keskustelu', 'Nästa chatt'],
  scPrev: ['Previous chat', 'Edellinen keskustelu', 'Föregående chatt'],
  scJump: ['Go to a chat: then type its letter (A, B … AA)', 'Siirry keskusteluun: kirjoita sitten sen kirjain (A, B … AA)', 'Gå till en chatt: skriv sedan dess bokstav (A, B … AA)'],
  scComposer: ['Write in the selected chat (focus its composer)', 'Kirjoita valittuun keskusteluun (kirjoituskenttään)', 'Skriv i vald chatt (till skrivfältet)'],
  scReply: ['Reply to the client (reply mode)', 'Vastaa asiakkaalle (vastaustila)', 'Svara klienten (svarsläge)'],
  scNote: ['Internal note (note mode)', 'Sisäinen muistiinpano (muistiinpanotila)', 'Intern anteckning (anteckningsläge)'],
  scTransfer: ['Open the transfer form', 'Avaa siirtolomake', 'Öppna formuläret för att flytta'],
  scClose: ['Open the close form (closing needs its button)', 'Avaa sulkemislomake (sulkeminen vaatii sen painikkeen)', 'Öppna formuläret för att stänga (stängning kräver dess knapp)'],
  scQueues: ['Go to the team queues', 'Siirry tiimien jonoihin', 'Gå till teamens köer'],
  scHelp: ['This list', 'Tämä luettelo', 'Den här listan'],
  jumpPrompt: ['Go to chat: type its letter {typed}', 'Siirry keskusteluun: kirjoita kirjain {typed}', 'Gå till chatt: skriv bokstaven {typed}'],
  close: ['Close', 'Sulje', 'Stäng'],
  // alerts
  alertsTitle: ['Alerts', 'Hälytykset', 'Aviseringar'],
  alertSound: ['Sound', 'Ääni', 'Ljud'],
  alertDesktop: ['Desktop', 'Työpöytä', 'Skrivbord'],
  alert_assigned: ['New chat assigned to me', 'Uusi keskustelu minulle', 'Ny chatt tilldelad mig'],
  alert_message: ['New message in a chat I am not looking at', 'Uusi viesti keskustelussa, jota en katso', 'Nytt meddelande i en chatt jag inte tittar på'],
  alert_queue: ['Someone joins a team queue', 'Joku tulee tiimin jonoon', 'Någon ställer sig i ett teams kö'],
  notifyDenied: ['Desktop notifications are blocked for this site in the browser’s settings.', 'Työpöytäilmoitukset on estetty tältä sivustolta selaimen asetuksissa.', 'Skrivbordsaviseringar är blockerade för webbplatsen i webbläsarens inställningar.'],
  notifyUnsupported: ['This browser cannot show desktop notifications.', 'Tämä selain ei voi näyttää työpöytäilmoituksia.', 'Den här webbläsaren kan inte visa skrivbordsaviseringar.'],
  notifyAssigned: ['New chat {chat}', 'Uusi keskustelu {chat}', 'Ny chatt {chat}'],
  notifyMessage: ['New message in chat {chat}', 'Uusi viesti keskustelussa {chat}', 'Nytt meddelande i chatt {chat}'],
  notifyQueue: ['Someone is waiting in the queue of {team}', 'Joku odottaa jonossa: {team}', 'Någon väntar i kön: {team}'],
};

let li = pickLang();

function pickLang() {
  let saved = null;
  try { saved = localStorage.getItem(LANG_KEY); } catch { /* storage off */ }
  const wanted = [saved].filter(Boolean);
  for (const w of wanted) {
    const i = LANGS.indexOf(String(w).slice(0, 2).toLowerCase());
    if (i >= 0) return i;
  }
  return 0;
}

export const lang = () => LANGS[li];

export function setLang(code) {
  li = Math.max(0, LANGS.indexOf(code));
  try { localStorage.setItem(LANG_KEY, LANGS[li]); } catch { /* storage off */ }
  document.documentElement.lang = LANGS[li];
}

export function t(key, vars) {
  const row = STR[key] || [key];
  const s = row[li] || row[0];
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] != null ? String(vars[k]) : '')) : s;
}

const plurals = {};
/** `count(3, 'newMessages')` → "3 new messages", with `newMessages.one` for 1 in each language. */
export function count(n, key) {
  const rules = plurals[li] || (plurals[li] = new Intl.PluralRules(LANGS[li]));
  const form = rules.select(n) === 'one' ? 'one' : 'other';
  return t(`${key}.${form}`, { n });
}
