// The widget's texts in English, Finnish and Swedish (the order of each row), and `t(key, vars)`
// for the language the widget was configured with.

import { cfg } from './config.js';

// key: [English, Finnish, Swedish]
export const STR = {
  launcher: ['Chat with us', 'Chattaa kanssamme', 'Chatta med oss'],
  newCount: [['1 new message', '{n} new messages'], ['1 uusi viesti', '{n} uutta viestiä'], ['1 nytt meddelande', '{n} nya meddelanden']],
  panelLabel: ['Chat with health and social services', 'Sosiaali- ja terveyspalvelujen chat', 'Chatt med social- och hälsovården'],
  title: ['Chat', 'Chat', 'Chatt'],
  closePanel: ['Close the chat window', 'Sulje chat-ikkuna', 'Stäng chattfönstret'],
  intro: ['Tell us briefly what your matter is about. A professional will answer you here in the chat.', 'Kerro lyhyesti, mitä asiasi koskee. Ammattilainen vastaa sinulle täällä chatissa.', 'Berätta kort vad ärendet gäller. En yrkesperson svarar dig här i chatten.'],
  emergency: ['In an emergency, call 112.', 'Hätätilanteessa soita 112.', 'I nödsituationer, ring 112.'],
  service: ['Service', 'Palvelu', 'Tjänst'],
  topic: ['Topic', 'Aihe', 'Ämne'],
  choose: ['Choose…', 'Valitse…', 'Välj…'],
  required: ['(required)', '(pakollinen)', '(obligatorisk)'],
  yes: ['Yes', 'Kyllä', 'Ja'],
  no: ['No', 'Ei', 'Nej'],
  start: ['Start chat', 'Aloita chat', 'Starta chatten'],
  starting: ['Starting the chat…', 'Chat käynnistyy…', 'Chatten startar…'],
  errRequired: ['Please answer this question.', 'Vastaa tähän kysymykseen.', 'Svara på den här frågan.'],
  errTopic: ['Please choose a topic.', 'Valitse aihe.', 'Välj ett ämne.'],
  errSummary: ['Some answers are missing. Please check the marked fields.', 'Joitakin vastauksia puuttuu. Tarkista merkityt kentät.', 'Några svar saknas. Kontrollera de markerade fälten.'],
  loading: ['Loading…', 'Ladataan…', 'Laddar…'],
  loadFailed: ['The chat could not be loaded. Check your connection and try again.', 'Chattia ei voitu ladata. Tarkista yhteys ja yritä uudelleen.', 'Chatten kunde inte laddas. Kontrollera anslutningen och försök igen.'],
  retry: ['Try again', 'Yritä uudelleen', 'Försök igen'],
  closedTitle: ['This service is closed right now', 'Palvelu on nyt suljettu', 'Tjänsten är stängd just nu'],
  closedGuide: ['If your matter is urgent, call the medical helpline 116 117. In an emergency, call 112.', 'Jos asiasi on kiireellinen, soita päivystysapuun 116 117. Hätätilanteessa soita 112.', 'Om ärendet är brådskande, ring jourhjälpen 116 117. I nödsituationer, ring 112.'],
  queueTitle: ['You are in the queue', 'Olet jonossa', 'Du står i kö'],
  queuePos: ['Your place in the queue:', 'Paikkasi jonossa:', 'Din plats i kön:'],
  queueWait: ['Estimated wait:', 'Arvioitu odotusaika:', 'Beräknad väntetid:'],
  queueKeep: ['You can already describe your matter below: the professional sees your messages on joining. Please keep this page open.', 'Voit jo kertoa asiastasi alla: ammattilainen näkee viestisi liittyessään keskusteluun. Pidä tämä sivu auki.', 'Du kan redan beskriva ditt ärende nedan: yrkespersonen ser dina meddelanden när hen ansluter. Håll sidan öppen.'],
  queueUnstaffed: ['No one is available right now. You keep your place in the queue, and a professional will answer as soon as one is free.', 'Kukaan ei ole juuri nyt tavoitettavissa. Pidät paikkasi jonossa, ja ammattilainen vastaa heti, kun joku vapautuu.', 'Ingen är tillgänglig just nu. Du behåller din plats i kön, och en yrkesperson svarar så snart någon blir ledig.'],
  queueWaited: ['You have waited {time}.', 'Olet odottanut {time}.', 'Du har väntat {time}.'],
  waitedUnder: ['less than a minute', 'alle minuutin', 'mindre än en minut'],
  waitedMin: [['1 minute', '{n} minutes'], ['1 minuutin', '{n} minuuttia'], ['1 minut', '{n} minuter']],
  waitUnder: ['under a minute', 'alle minuutti', 'under en minut'],
  waitMin: ['about {n} min', 'noin {n} min', 'cirka {n} min'],
  waitUnknown: ['not known yet', 'ei vielä tiedossa', 'inte känd ännu'],
  leaveQueue: ['Leave the queue', 'Poistu jonosta', 'Lämna kön'],
  endChat: ['End chat', 'Lopeta chat', 'Avsluta chatten'],
  leaveAskQueue: ['Leave the queue? You will lose your place in it.', 'Poistutaanko jonosta? Menetät paikkasi jonossa.', 'Vill du lämna kön? Du förlorar din plats i den.'],
  leaveAskChat: ['End the chat? The professional will see that you left.', 'Lopetetaanko chat? Ammattilainen näkee, että poistuit.', 'Vill du avsluta chatten? Yrkespersonen ser att du har lämnat.'],
  leaveYesQueue: ['Yes, leave the queue', 'Kyllä, poistu jonosta', 'Ja, lämna kön'],
  leaveYesChat: ['Yes, end the chat', 'Kyllä, lopeta chat', 'Ja, avsluta chatten'],
  leaveNoQueue: ['Stay in the queue', 'Pysy jonossa', 'Stanna i kön'],
  leaveNoChat: ['Continue the chat', 'Jatka chattia', 'Fortsätt chatten'],
  leaveFailed: ['Leaving did not succeed because the connection is down. Please try again in a moment.', 'Poistuminen ei onnistunut, koska yhteys on katki. Yritä hetken kuluttua uudelleen.', 'Det gick inte att lämna eftersom anslutningen är bruten. Försök igen om en stund.'],
  leftQueue: ['You left the queue', 'Poistuit jonosta', 'Du lämnade kön'],
  leftChat: ['You ended the chat', 'Lopetit chatin', 'Du avslutade chatten'],
  leftAgain: ['You can start a new chat whenever you need to.', 'Voit aloittaa uuden chatin aina tarvittaessa.', 'Du kan starta en ny chatt när du behöver.'],
  conversation: ['Conversation', 'Keskustelu', 'Samtal'],
  messages: ['Messages', 'Viestit', 'Meddelanden'],
  you: ['You', 'Sinä', 'Du'],
  professional: ['Professional', 'Ammattilainen', 'Yrkesperson'],
  sending: ['Sending…', 'Lähetetään…', 'Skickas…'],
  sent: ['Sent', 'Lähetetty', 'Skickat'],
  read: ['Read', 'Luettu', 'Läst'],
  failed: ['Not delivered', 'Ei toimitettu', 'Inte levererat'],
  composer: ['Your message', 'Viestisi', 'Ditt meddelande'],
  composerPh: ['Write a message', 'Kirjoita viesti', 'Skriv ett meddelande'],
  composerPhQueued: ['Describe your matter while you wait', 'Kerro asiastasi odottaessasi', 'Beskriv ditt ärende medan du väntar'],
  composerEnded: ['The chat has ended', 'Keskustelu on päättynyt', 'Chatten har avslutats'],
  composerHint: ['Enter sends, Shift+Enter starts a new line.', 'Enter lähettää, Shift+Enter aloittaa uuden rivin.', 'Enter skickar, Shift+Enter ger en ny rad.'],
  send: ['Send', 'Lähetä', 'Skicka'],
  typing: ['{name} is typing…', '{name} kirjoittaa…', '{name} skriver…'],
  sysQueued: ['You joined the queue.', 'Liityit jonoon.', 'Du ställde dig i kön.'],
  sysRequeued: ['The professional had to leave. You are back in the queue; the next available professional will continue.', 'Ammattilaisen piti poistua. Olet taas jonossa, ja seuraava vapaa ammattilainen jatkaa.', 'Yrkespersonen var tvungen att gå. Du står i kö igen; nästa lediga yrkesperson fortsätter.'],
  sysAssigned: ['{name} joined the chat.', '{name} liittyi keskusteluun.', '{name} anslöt till chatten.'],
  sysTransferred: ['Your chat was transferred. Please wait, a professional will continue soon.', 'Keskustelusi siirrettiin. Odota hetki, ammattilainen jatkaa pian.', 'Chatten flyttades. Vänta, en yrkesperson fortsätter snart.'],
  sysHandedBack: ['Your chat was handed back to the queue. The next available professional will continue.', 'Keskustelusi palautettiin jonoon. Seuraava vapaa ammattilainen jatkaa.', 'Din chatt lämnades tillbaka till kön. Nästa lediga yrkesperson fortsätter.'],
  sysClosed: ['The chat was closed.', 'Keskustelu suljettiin.', 'Chatten avslutades.'],
  sysLeftQueue: ['You left the queue.', 'Poistuit jonosta.', 'Du lämnade kön.'],
  sysLeftChat: ['You ended the chat.', 'Lopetit chatin.', 'Du avslutade chatten.'],
  withdrawn: ['This message was withdrawn', 'Viesti peruttiin', 'Meddelandet togs tillbaka'],
  sysReopened: ['{name} reopened the chat.', '{name} avasi keskustelun uudelleen.', '{name} öppnade chatten igen.'],
  reconnecting: ['Connection lost. Reconnecting…', 'Yhteys katkesi. Yhdistetään uudelleen…', 'Anslutningen bröts. Återansluter…'],
  closedHeading: ['The chat has ended', 'Keskustelu on päättynyt', 'Chatten har avslutats'],
  closedDefault: ['Thank you for contacting us.', 'Kiitos yhteydenotostasi.', 'Tack för att du kontaktade oss.'],
  rateLegend: ['How satisfied were you with the service? 1 = not at all, 5 = very satisfied', 'Kuinka tyytyväinen olit palveluun? 1 = en lainkaan, 5 = erittäin tyytyväinen', 'Hur nöjd var du med tjänsten? 1 = inte alls, 5 = mycket nöjd'],
  rateComment: ['Comment (optional)', 'Kommentti (vapaaehtoinen)', 'Kommentar (frivillig)'],
  rateSubmit: ['Send feedback', 'Lähetä palaute', 'Skicka respons'],
  rateMissing: ['Please choose a rating from 1 to 5.', 'Valitse arvosana 1–5.', 'Välj ett betyg från 1 till 5.'],
  rateThanks: ['Thank you for your feedback!', 'Kiitos palautteestasi!', 'Tack för din respons!'],
  newChat: ['Start a new chat', 'Aloita uusi chat', 'Starta en ny chatt'],
  identify: ['Identify', 'Tunnistaudu', 'Identifiera dig'],
  identifyName: ['Your name (demo identification)', 'Nimesi (demotunnistus)', 'Ditt namn (demoidentifiering)'],
  identifyGo: ['Identify me', 'Tunnistaudu', 'Identifiera mig'],
  identifyMissing: ['Please write your name.', 'Kirjoita nimesi.', 'Skriv ditt namn.'],
  identifyFailed: ['Identification failed. Please try again.', 'Tunnistautuminen epäonnistui. Yritä uudelleen.', 'Identifieringen misslyckades. Försök igen.'],
  identified: ['Identified: {name}', 'Tunnistettu: {name}', 'Identifierad: {name}'],
  cancel: ['Cancel', 'Peruuta', 'Avbryt'],
  errRate: ['You are sending messages very quickly. Please wait a moment; your message will be sent automatically.', 'Lähetät viestejä hyvin nopeasti. Odota hetki, viestisi lähetetään automaattisesti.', 'Du skickar meddelanden mycket snabbt. Vänta en stund, ditt meddelande skickas automatiskt.'],
  errClosedConv: ['This chat has ended, so new messages cannot be sent.', 'Keskustelu on päättynyt, joten uusia viestejä ei voi lähettää.', 'Chatten har avslutats, så nya meddelanden kan inte skickas.'],
  errTooLarge: ['The message is too long. Please shorten it.', 'Viesti on liian pitkä. Lyhennä sitä.', 'Meddelandet är för långt. Korta ner det.'],
  errLost: ['Your earlier chat could not be continued. You can start a new chat.', 'Aiempaa keskusteluasi ei voitu jatkaa. Voit aloittaa uuden chatin.', 'Din tidigare chatt kunde inte fortsätta. Du kan starta en ny chatt.'],
  errGeneric: ['Something went wrong. Please try again in a moment.', 'Jokin meni vikaan. Yritä hetken kuluttua uudelleen.', 'Något gick fel. Försök igen om en stund.'],
};

const fill = (s, vars) => (vars ? s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] != null ? String(vars[k]) : '')) : s);

export function t(key, vars) {
  const row = STR[key] || [key];
  return fill(row[cfg.li] || row[0], vars);
}

let plurals = null;
/**
 * A text with a count: the rows of such keys hold [one, other] per language (English, Finnish
 * and Swedish need no more forms), chosen by the language's plural rules.
 */
export function tn(key, n, vars) {
  const row = STR[key] || [[key, key]];
  const forms = row[cfg.li] || row[0];
  if (!plurals) plurals = new Intl.PluralRules(cfg.locale);
  return fill(forms[plurals.select(n) === 'one' ? 0 : 1], Object.assign({ n: n }, vars));
}
