// The console's texts in English, Finnish and Swedish (the order of each row) and `t(key, vars)`
// for the language chosen in the console (remembered in localStorage; default: the browser's).
// Counts go through `count(n, key)`, which picks the singular or plural row (`key.one`/`key.other`).

export const LANGS = ['en', 'fi', 'sv'];
const LANG_KEY = 'luukku.console.lang';

const STR = {
  // page (console.html: data-i18n)
  pageTitle: ['Luukku – professional console', 'Luukku – ammattilaisnäkymä', 'Luukku – yrkesvy'],
  skip: ['Skip to chats', 'Siirry keskusteluihin', 'Hoppa till chattarna'],
  offline: ['Offline', 'Ei yhteyttä', 'Offline'],
  offlineLost: ['– the connection to the server was lost. Reconnecting', '– yhteys palvelimeen katkesi. Yhdistetään uudelleen', '– anslutningen till servern bröts. Återansluter'],
  offlineKept: ['Messages you send now are kept and sent when the connection is back.', 'Nyt lähettämäsi viestit säilytetään ja lähetetään, kun yhteys palaa.', 'Meddelanden du skickar nu sparas och skickas när anslutningen är tillbaka.'],
  offlineIn: [' in {n} s', ' {n} s kuluttua', ' om {n} s'],
  reconnectNow: ['Reconnect now', 'Yhdistä nyt', 'Återanslut nu'],
  consoleName: ['Luukku professional console', 'Luukku-ammattilaisnäkymä', 'Luukku yrkesvy'],
  consoleSr: ['professional console', 'ammattilaisnäkymä', 'yrkesvy'],
  demoLogin: ['Demo login', 'Demokirjautuminen', 'Demoinloggning'],
  demoChoose: ['Demo mode: choose the professional to log in as.', 'Demotila: valitse ammattilainen, jona kirjaudut.', 'Demoläge: välj yrkespersonen du loggar in som.'],
  tokenLabel: ['Professional token (JWT from your identity provider)', 'Ammattilaisen tunniste (JWT tunnistuspalvelusta)', 'Yrkespersonens token (JWT från identitetstjänsten)'],
  logIn: ['Log in', 'Kirjaudu', 'Logga in'],
  loginFailed: ['Login failed: {why}', 'Kirjautuminen epäonnistui: {why}', 'Inloggningen misslyckades: {why}'],
  loginInvalid: ['Your login is no longer valid. Please log in again.', 'Kirjautumisesi ei ole enää voimassa. Kirjaudu uudelleen.', 'Din inloggning gäller inte längre. Logga in igen.'],
  sideLabel: ['My status and team queues', 'Oma tila ja tiimien jonot', 'Min status och teamens köer'],
  loggedInAs: ['Logged in as', 'Kirjautunut:', 'Inloggad som'],
  logout: ['Log out', 'Kirjaudu ulos', 'Logga ut'],
  language: ['Language', 'Kieli', 'Språk'],
  myStatus: ['My status', 'Oma tila', 'Min status'],
  availability: ['Availability', 'Tavoitettavuus', 'Tillgänglighet'],
  available: ['Available', 'Tavoitettavissa', 'Tillgänglig'],
  away: ['Away', 'Poissa', 'Borta'],
  maxChats: ['Max parallel chats', 'Keskusteluja enintään', 'Högst parallella chattar'],
  chatsHeld: ['Chats held:', 'Keskusteluja:', 'Chattar:'],
  ofCapacity: ['of {n}', '/ {n}', 'av {n}'],
  teamQueues: ['Team queues', 'Tiimien jonot', 'Teamens köer'],
  chats: ['Chats', 'Keskustelut', 'Chattar'],
  openChats: ['Open chats', 'Avoimet keskustelut', 'Öppna chattar'],
  closedChats: ['Closed and transferred chats', 'Suljetut ja siirretyt keskustelut', 'Stängda och flyttade chattar'],
  noChats: ['No chats open.', 'Ei avoimia keskusteluja.', 'Inga öppna chattar.'],
  noChatsHelp: ['Chats assigned to you appear here as tabs. Take one from a team queue on the left.', 'Sinulle ohjatut keskustelut näkyvät tässä välilehtinä. Ota keskustelu vasemmalla olevasta tiimin jonosta.', 'Chattar som tilldelas dig visas här som flikar. Ta en från ett teams kö till vänster.'],
  shortcutsBtn: ['Keyboard shortcuts (Alt+H)', 'Pikanäppäimet (Alt+H)', 'Kortkommandon (Alt+H)'],
  // queues
  acceptNext: ['Accept next', 'Ota seuraava', 'Ta nästa'],
  acceptNextFrom: ['Accept next chat from {team}', 'Ota seuraava keskustelu jonosta {team}', 'Ta nästa chatt från {team}'],
  noOneWaiting: ['No one waiting.', 'Kukaan ei odota.', 'Ingen väntar.'],
  'waitingCount.one': ['({n} waiting)', '({n} odottaa)', '({n} väntar)'],
  'waitingCount.other': ['({n} waiting)', '({n} odottaa)', '({n} väntar)'],
  prioReturned: ['Returned (professional disconnected)', 'Palautettu (ammattilaisen yhteys katkesi)', 'Återlämnad (yrkespersonens anslutning bröts)'],
  prioHandedBack: ['Handed back to the queue', 'Palautettu jonoon', 'Återlämnad till kön'],
  prioTransferred: ['Transferred', 'Siirretty', 'Flyttad'],
  waitingQ: ['Waiting', 'Odottanut', 'Väntat'],
  sinceContact: ['since first contact', 'ensimmäisestä yhteydenotosta', 'sedan första kontakten'],
  identifiedCap: ['Identified', 'Tunnistettu', 'Identifierad'],
  anonymousCap: ['Anonymous', 'Anonyymi', 'Anonym'],
  accept: ['Accept', 'Ota', 'Ta'],
  // chats
  chatN: ['Chat {letter}', 'Keskustelu {letter}', 'Chatt {letter}'],
  anonymousN: ['Anonymous {n}', 'Anonyymi {n}', 'Anonym {n}'],
  questionnaireAnswers: ['Questionnaire answers', 'Esitietojen vastaukset', 'Svar på förfrågan'],
  questionnaire: ['Questionnaire:', 'Esitiedot:', 'Förfrågan:'],
  noAnswers: ['no answers', 'ei vastauksia', 'inga svar'],
  yes: ['yes', 'kyllä', 'ja'],
  no: ['no', 'ei', 'nej'],
  transferBtn: ['Transfer…', 'Siirrä…', 'Flytta…'],
  closeBtn: ['Close chat…', 'Sulje keskustelu…', 'Stäng chatten…'],
  reopen: ['Reopen', 'Avaa uudelleen', 'Öppna igen'],
  dismiss: ['Dismiss', 'Poista näkyvistä', 'Ta bort'],
  loadOlder: ['Load older messages', 'Lataa vanhemmat viestit', 'Ladda äldre meddelanden'],
  messagesWith: ['Messages with {who}', 'Viestit: {who}', 'Meddelanden med {who}'],
  identityLabel: ['Identity:', 'Tunnistus:', 'Identitet:'],
  identified: ['identified', 'tunnistettu', 'identifierad'],
  anonymous: ['anonymous', 'anonyymi', 'anonym'],
  teamX: ['team {team}', 'tiimi {team}', 'team {team}'],
  'unread.one': ['{n} unread message', '{n} lukematon viesti', '{n} oläst meddelande'],
  'unread.other': ['{n} unread messages', '{n} lukematonta viestiä', '{n} olästa meddelanden'],
  writesIn: ['writes in {lang}', 'kirjoittaa: {lang}', 'skriver på {lang}'],
  statusClosed: ['– closed', '– suljettu', '– stängd'],
  statusNotYours: ['– no longer yours', '– ei enää sinun', '– inte längre din'],
  tabClosed: ['(closed)', '(suljettu)', '(stängd)'],
  tabTransferred: ['(transferred)', '(siirretty)', '(flyttad)'],
  tabLeft: ['(client left)', '(asiakas poistui)', '(klienten gick)'],
  noticeLeft: ['The client has left the chat. Close it when you are done.', 'Asiakas on poistunut keskustelusta. Sulje se, kun olet valmis.', 'Klienten har lämnat chatten. Stäng den när du är klar.'],
  annLeft: ['{chat}: the client left the chat.', '{chat}: asiakas poistui keskustelusta.', '{chat}: klienten lämnade chatten.'],
  tabNew: ['(new)', '(uusi)', '(ny)'],
  closedGroup: ['Closed ({n})', 'Suljetut ({n})', 'Stängda ({n})'],
  waitingSr: ['waiting for your reply', 'odottaa vastaustasi', 'väntar på ditt svar'],
  waitingTitle: ['Waiting for your reply for {time}', 'Odottanut vastaustasi {time}', 'Har väntat på ditt svar i {time}'],
  annReopened: ['Chat reopened: {chat}, {what}.', 'Keskustelu avattiin uudelleen: {chat}, {what}.', 'Chatten öppnades igen: {chat}, {what}.'],
  annAssigned: ['New chat assigned: {chat}, {what}.', 'Uusi keskustelu: {chat}, {what}.', 'Ny chatt: {chat}, {what}.'],
  annClosed: ['Chat {chat} closed.', 'Keskustelu {chat} suljettiin.', 'Chatt {chat} stängdes.'],
  annNotYours: ['Chat {chat} is no longer yours.', 'Keskustelu {chat} ei ole enää sinun.', 'Chatt {chat} är inte längre din.'],
  annIdentified: ['{chat}: the client identified.', '{chat}: asiakas tunnistautui.', '{chat}: klienten identifierade sig.'],
  noticeClosed: ['This chat is closed and read-only. Reopen it to continue, or dismiss it.', 'Keskustelu on suljettu, ja sitä voi vain lukea. Avaa se uudelleen jatkaaksesi tai poista se näkyvistä.', 'Chatten är stängd och kan bara läsas. Öppna den igen för att fortsätta, eller ta bort den.'],
  noticeRequeued: ['This chat was returned to the team queue because you were disconnected. It is no longer yours.', 'Keskustelu palautettiin tiimin jonoon, koska yhteytesi katkesi. Se ei ole enää sinun.', 'Chatten återgick till teamets kö eftersom din anslutning bröts. Den är inte längre din.'],
  noticeHandedBack: ['You handed this chat back to the team queue. It is no longer yours.', 'Palautit keskustelun tiimin jonoon. Se ei ole enää sinun.', 'Du lämnade tillbaka chatten till teamets kö. Den är inte längre din.'],
  noticeTransferredTo: ['This chat was transferred to {where}. It is no longer yours; dismiss it when done.', 'Keskustelu siirrettiin: {where}. Se ei ole enää sinun; poista se näkyvistä, kun olet valmis.', 'Chatten flyttades till {where}. Den är inte längre din; ta bort den när du är klar.'],
  noticeTransferred: ['This chat was transferred. It is no longer yours; dismiss it when done.', 'Keskustelu siirrettiin. Se ei ole enää sinun; poista se näkyvistä, kun olet valmis.', 'Chatten flyttades. Den är inte längre din; ta bort den när du är klar.'],
  proInTeam: ['{pro} ({team})', '{pro} ({team})', '{pro} ({team})'],
  // events
  aProfessional: ['a professional', 'ammattilainen', 'en yrkesperson'],
  you: ['You', 'Sinä', 'Du'],
  professional: ['Professional', 'Ammattilainen', 'Yrkesperson'],
  sysAssigned: ['Assigned to {who}', 'Ohjattu: {who}', 'Tilldelad {who}'],
  sysTransferredPro: ['Transferred to {pro} in team {team}', 'Siirretty: {pro}, tiimi {team}', 'Flyttad till {pro} i team {team}'],
  sysTransferredTeam: ['Transferred to team {team}', 'Siirretty tiimiin {team}', 'Flyttad till team {team}'],
  sysBy: ['by {who}', 'siirtäjä {who}', 'av {who}'],
  sysNote: ['note: {note}', 'viesti: {note}', 'meddelande: {note}'],
  sysClosed: ['Closed', 'Suljettu', 'Stängd'],
  sysSummary: ['summary: {summary}', 'yhteenveto: {summary}', 'sammanfattning: {summary}'],
  sysReopened: ['Reopened by {who}', 'Avannut uudelleen: {who}', 'Öppnad igen av {who}'],
  sysIdentified: ['The client identified', 'Asiakas tunnistautui', 'Klienten identifierade sig'],
  sysIdentifiedAs: ['The client identified as {name}', 'Asiakas tunnistautui: {name}', 'Klienten identifierade sig som {name}'],
  sysRequeued: ['Returned to the queue of {team} (professional disconnected)', 'Palautettu jonoon {team} (ammattilaisen yhteys katkesi)', 'Återlämnad till kön {team} (yrkespersonens anslutning bröts)'],
  sysHandedBack: ['Handed back to the queue of {team}', 'Palautettu jonoon {team}', 'Återlämnad till kön {team}'],
  sysQueued: ['Queued for {team}', 'Jonossa: {team}', 'I kö: {team}'],
  sysLeft: ['The client left the chat', 'Asiakas poistui keskustelusta', 'Klienten lämnade chatten'],
  sysLeftWaited: ['The client gave up waiting after {time}', 'Asiakas lopetti odottamisen {time} jälkeen', 'Klienten slutade vänta efter {time}'],
  noteTag: ['Note', 'Muistiinpano', 'Anteckning'],
  noteLabel: ['Internal note – not visible to the client', 'Sisäinen muistiinpano – ei näy asiakkaalle', 'Intern anteckning – syns inte för klienten'],
  stSending: ['Sending…', 'Lähetetään…', 'Skickas…'],
  stSent: ['Sent', 'Lähetetty', 'Skickat'],
  stRead: ['Read', 'Luettu', 'Läst'],
  stFailed: ['Not sent', 'Ei lähetetty', 'Inte skickat'],
  notSentWhy: ['Not sent – {why}', 'Ei lähetetty – {why}', 'Inte skickat – {why}'],
  noLongerYours: ['the chat is no longer yours', 'keskustelu ei ole enää sinun', 'chatten är inte längre din'],
  typingNow: ['{chat} is typing…', '{chat} kirjoittaa…', '{chat} skriver…'],
  // errors
  err_accept: ['Could not accept the chat', 'Keskustelua ei voitu ottaa', 'Kunde inte ta chatten'],
  err_reopen: ['Could not reopen the chat', 'Keskustelua ei voitu avata uudelleen', 'Kunde inte öppna chatten igen'],
  err_transfer: ['Could not transfer the chat', 'Keskustelua ei voitu siirtää', 'Kunde inte flytta chatten'],
  err_close: ['Could not close the chat', 'Keskustelua ei voitu sulkea', 'Kunde inte stänga chatten'],
  err_message: ['Message not sent', 'Viestiä ei lähetetty', 'Meddelandet skickades inte'],
  err_note: ['Note not sent', 'Muistiinpanoa ei tallennettu', 'Anteckningen sparades inte'],
  err_status: ['Could not change your status', 'Tilaasi ei voitu muuttaa', 'Kunde inte ändra din status'],
  err_retract: ['Could not take the message back', 'Viestiä ei voitu perua', 'Kunde inte ta tillbaka meddelandet'],
  err_release: ['Could not hand the chat back', 'Keskustelua ei voitu palauttaa jonoon', 'Kunde inte lämna tillbaka chatten'],
  err_canned: ['Quick replies not saved', 'Pikavastauksia ei tallennettu', 'Snabbsvaren sparades inte'],
  err_other: ['Error', 'Virhe', 'Fel'],
  why_capacity_full: ['you already hold your maximum number of chats ({n}). Close or transfer a chat, or raise “Max parallel chats”.', 'sinulla on jo enimmäismäärä keskusteluja ({n}). Sulje tai siirrä keskustelu tai nosta kohtaa ”Keskusteluja enintään”.', 'du har redan ditt högsta antal chattar ({n}). Stäng eller flytta en chatt, eller höj ”Högst parallella chattar”.'],
  why_not_found_accept: ['that chat is no longer waiting – a colleague may have taken it, or the queue is empty.', 'keskustelu ei enää odota – kollega on ehkä ottanut sen, tai jono on tyhjä.', 'chatten väntar inte längre – en kollega kan ha tagit den, eller så är kön tom.'],
  why_not_found_reopen: ['the chat was not found in your teams.', 'keskustelua ei löytynyt tiimeistäsi.', 'chatten hittades inte i dina team.'],
  why_not_found: ['not found.', 'ei löytynyt.', 'hittades inte.'],
  why_forbidden: ['you are not allowed to do that for this chat.', 'sinulla ei ole oikeutta tähän tässä keskustelussa.', 'du får inte göra det i den här chatten.'],
  why_conversation_closed: ['the chat is already closed.', 'keskustelu on jo suljettu.', 'chatten är redan stängd.'],
  why_rate_limited: ['too many actions at once – wait a moment and try again.', 'liian monta toimintoa kerralla – odota hetki ja yritä uudelleen.', 'för många åtgärder på en gång – vänta en stund och försök igen.'],
  why_too_large: ['the text is too long.', 'teksti on liian pitkä.', 'texten är för lång.'],
  why_internal: ['the server had a problem – try again.', 'palvelimella oli ongelma – yritä uudelleen.', 'servern hade ett problem – försök igen.'],
  why_offline: ['you are offline.', 'yhteys puuttuu.', 'du är offline.'],
  errInChat: ['Chat {chat} – {text}', 'Keskustelu {chat} – {text}', 'Chatt {chat} – {text}'],
  dismissError: ['Dismiss error', 'Sulje virheilmoitus', 'Stäng felmeddelandet'],
  // transfer and close forms
  chooseTeam: ['Choose…', 'Valitse…', 'Välj…'],
  chooseColleague: ['Anyone (choose a team) or a colleague…', 'Kuka tahansa (valitse tiimi) tai kollega…', 'Vem som helst (välj team) eller en kollega…'],
  chooseTarget: ['Choose a team or a colleague to transfer to.', 'Valitse tiimi tai kollega, jolle siirrät.', 'Välj ett team eller en kollega att flytta till.'],
  colleagueLabel: ['{name} – {presence}, {active}/{capacity} chats', '{name} – {presence}, {active}/{capacity} keskustelua', '{name} – {presence}, {active}/{capacity} chattar'],
  presence_available: ['available', 'tavoitettavissa', 'tillgänglig'],
  presence_away: ['away', 'poissa', 'borta'],
  presence_offline: ['offline', 'ei paikalla', 'offline'],
  transferCard: ['Transferred to you by {who}', 'Siirtänyt sinulle: {who}', 'Flyttad till dig av {who}'],
  transferCardTeam: ['Transferred to your team by {who}', 'Siirtänyt tiimillesi: {who}', 'Flyttad till ditt team av {who}'],
  hideNote: ['Hide the note', 'Piilota viesti', 'Dölj meddelandet'],
  transferCardNote: ['Note from the colleague', 'Kollegan viesti', 'Meddelande från kollegan'],
  transferChat: ['Transfer chat', 'Siirrä keskustelu', 'Flytta chatten'],
  transferTitle: ['Transfer {chat}', 'Siirrä {chat}', 'Flytta {chat}'],
  toTeam: ['To team', 'Tiimiin', 'Till team'],
  toPro: ['To professional (optional)', 'Ammattilaiselle (valinnainen)', 'Till yrkesperson (valfritt)'],
  transferNote: ['Note for the colleague (optional, not visible to the client)', 'Viesti kollegalle (valinnainen, ei näy asiakkaalle)', 'Meddelande till kollegan (valfritt, syns inte för klienten)'],
  transfer: ['Transfer', 'Siirrä', 'Flytta'],
  cancel: ['Cancel', 'Peruuta', 'Avbryt'],
  anyoneInTeam: ['Anyone in the team', 'Kuka tahansa tiimistä', 'Vem som helst i teamet'],
  proIdPh: ['professional id', 'ammattilaisen tunnus', 'yrkespersonens id'],
  transferring: ['Transferring to {where}…', 'Siirretään: {where}…', 'Flyttar till {where}…'],
  closeChat: ['Close chat', 'Sulje keskustelu', 'Stäng chatten'],
  summary: ['Summary (internal, not visible to the client)', 'Yhteenveto (sisäinen, ei näy asiakkaalle)', 'Sammanfattning (intern, syns inte för klienten)'],
  // logging out
  logoutTitle: ['Log out?', 'Kirjaudutaanko ulos?', 'Logga ut?'],
  'logoutHeld.one': ['You still hold {n} chat:', 'Sinulla on vielä {n} keskustelu:', 'Du har fortfarande {n} chatt:'],
  'logoutHeld.other': ['You still hold {n} chats:', 'Sinulla on vielä {n} keskustelua:', 'Du har fortfarande {n} chattar:'],
  logoutExplain: ['Hand them back to the team queue now, at the front, so that a colleague can go on at once. Otherwise the patients wait until the grace period returns them to the queue.', 'Palauta ne nyt tiimin jonon kärkeen, jotta kollega voi jatkaa heti. Muuten potilaat odottavat, kunnes varoaika palauttaa heidät jonoon.', 'Lämna tillbaka dem till teamets kö nu, först i kön, så att en kollega kan fortsätta direkt. Annars väntar patienterna tills respittiden återför dem till kön.'],
  'logoutRelease.one': ['Hand it back and log out', 'Palauta jonoon ja kirjaudu ulos', 'Lämna tillbaka och logga ut'],
  'logoutRelease.other': ['Hand them back and log out', 'Palauta jonoon ja kirjaudu ulos', 'Lämna tillbaka och logga ut'],
  'logoutReleasing.one': ['Handing {n} chat back…', 'Palautetaan {n} keskustelu…', 'Lämnar tillbaka {n} chatt…'],
  'logoutReleasing.other': ['Handing {n} chats back…', 'Palautetaan {n} keskustelua…', 'Lämnar tillbaka {n} chattar…'],
  logoutTransfer: ['Transfer to a colleague first', 'Siirrä ensin kollegalle', 'Flytta först till en kollega'],
  logoutAnyway: ['Log out anyway', 'Kirjaudu silti ulos', 'Logga ut ändå'],
  logoutOffline: ['You are offline: the chats cannot be handed back now.', 'Yhteys puuttuu: keskusteluja ei voi nyt palauttaa.', 'Du är offline: chattarna kan inte lämnas tillbaka nu.'],
  logoutSlow: ['The server has not confirmed yet.', 'Palvelin ei ole vielä vahvistanut.', 'Servern har inte bekräftat ännu.'],
  logoutFailed: ['A chat could not be handed back.', 'Keskustelua ei voitu palauttaa.', 'En chatt kunde inte lämnas tillbaka.'],
  // canned responses
  cannedButton: ['Quick replies', 'Pikavastaukset', 'Snabbsvar'],
  cannedTitle: ['Quick replies', 'Pikavastaukset', 'Snabbsvar'],
  cannedSearch: ['Search', 'Hae', 'Sök'],
  cannedNone: ['No quick reply matches.', 'Ei osuvia pikavastauksia.', 'Inget snabbsvar matchar.'],
  cannedTeam: ['team', 'tiimi', 'team'],
  cannedMine: ['mine', 'oma', 'egen'],
  cannedOwn: ['My own quick replies', 'Omat pikavastaukset', 'Mina egna snabbsvar'],
  cannedCode: ['Code (typed after /)', 'Koodi (kirjoitetaan /-merkin jälkeen)', 'Kod (skrivs efter /)'],
  cannedName: ['Title', 'Otsikko', 'Rubrik'],
  cannedLang: ['Language', 'Kieli', 'Språk'],
  cannedBody: ['Text ({client_name}, {professional_name} and {team} are filled in)', 'Teksti ({client_name}, {professional_name} ja {team} täytetään)', 'Text ({client_name}, {professional_name} och {team} fylls i)'],
  cannedSave: ['Save quick reply', 'Tallenna pikavastaus', 'Spara snabbsvaret'],
  cannedDelete: ['Delete', 'Poista', 'Ta bort'],
  cannedDeleteLabel: ['Delete quick reply /{code}', 'Poista pikavastaus /{code}', 'Ta bort snabbsvaret /{code}'],
  scCanned: ['Quick replies (or type / and a code in the composer)', 'Pikavastaukset (tai kirjoita / ja koodi)', 'Snabbsvar (eller skriv / och en kod)'],
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
  const wanted = [saved, ...(navigator.languages || [navigator.language])].filter(Boolean);
  for (const w of wanted) {
    const i = LANGS.indexOf(String(w).slice(0, 2).toLowerCase());
    if (i >= 0) return i;
  }
  return 0;
}

export const lang = () => LANGS[li];
export const locale = () => ['en-GB', 'fi-FI', 'sv-FI'][li];

export function setLang(code) {
  li = Math.max(0, LANGS.indexOf(code));
  try { localStorage.setItem(LANG_KEY, LANGS[li]); } catch { /* storage off */ }
  document.documentElement.lang = LANGS[li];
}

export const has = (key) => key in STR;

/** "sv" → "Swedish" / "ruotsi" / "svenska", in the console's language. */
export function languageName(code) {
  try { return new Intl.DisplayNames([LANGS[li]], { type: 'language' }).of(code); } catch { return code; }
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
