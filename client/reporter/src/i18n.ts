/**
 * Every word the page shows, in Dutch (first) and English. Plain language:
 * short sentences, no jargon, for a reader who may be frightened and may
 * not read Dutch or English as a first language. The site's own names come
 * from the site config written into the page at build time (site.ts).
 * @module
 */

import { site } from './site.js';

/** The two languages of the page (the report records which one was used). */
export type Lang = 'nl' | 'en';

const S = site;

const nl = {
  htmlLang: 'nl',
  skip: 'Naar de inhoud',
  quickExit: 'Snel weg',
  quickExitHint: 'Sluit deze pagina meteen en wist alles wat u hebt ingevuld.',
  otherLanguage: 'English',
  otherLanguageCode: 'en' as Lang,
  otherLanguageLabel: 'Switch to English',
  demoTitle: 'Demonstratie',
  demoText:
    'Dit is een testversie. Stuur hier geen echte melding: wat u hier stuurt, kan door anderen worden gelezen.',
  footer: 'Deze pagina bewaart niets in uw browser: geen cookies en geen opgeslagen gegevens.',
  loading: 'De pagina wordt klaargemaakt…',
  infoFailed: 'De gegevens van de vertrouwenspersoon konden niet worden opgehaald.',
  tryAgain: 'Opnieuw proberen',
  noBuiltKeys:
    'Deze pagina bevat geen sleutel van een vertrouwenspersoon. Daarom kunt u hier niets versturen: niemand zou uw melding kunnen lezen. Neem op een andere manier contact op.',
  noCounsellors:
    'De server biedt geen van de sleutels aan waarmee deze pagina is gemaakt. Daarom verstuurt deze pagina niets: wij weten niet zeker wie uw melding zou kunnen lezen. Neem op een andere manier contact op.',
  foreignKeys: (n: number) =>
    n === 1
      ? 'Let op: de server biedt één sleutel aan die niet bij deze pagina hoort. Die wordt niet gebruikt: uw melding wordt alleen versleuteld voor de vertrouwenspersonen hieronder.'
      : `Let op: de server biedt ${n} sleutels aan die niet bij deze pagina horen. Die worden niet gebruikt: uw melding wordt alleen versleuteld voor de vertrouwenspersonen hieronder.`,
  otherWaysTitle: 'Andere manieren om ons te bereiken',

  // Welcome
  welcomeTitle: 'Vertel in vertrouwen wat er is gebeurd',
  welcomeIntro: `Dit is de meldpagina van het ${S.supportPoint.nl}. Bent u lastiggevallen, geïntimideerd of onder druk gezet door iemand van ${S.organisation.nl}, terwijl u van die organisatie afhankelijk bent? Hier kunt u dat veilig en zonder uw naam vertellen.`,
  doTitle: 'Wat wij doen',
  doText:
    'Een vertrouwenspersoon leest wat u schrijft en luistert naar u. Hij of zij geeft advies en helpt u de weg te vinden: wat u kunt doen, en waar u terecht kunt.',
  dontTitle: 'Wat wij niet doen',
  dontText:
    'Wij doen geen onderzoek. Wij beslissen niet wie gelijk heeft, en wij straffen niemand.',
  escalationTitle: `Naar ${S.escalation.nl}: alleen als u dat wilt`,
  escalationText: `Als u dat wilt, brengt de vertrouwenspersoon uw melding rechtstreeks naar ${S.escalation.nl}. Zonder uw toestemming gebeurt dat niet. U kiest dat zelf, en u kunt uw keuze later veranderen.`,
  safeTitle: 'Melden kost u niets',
  safeText:
    'Een melding heeft geen gevolgen voor uw eigen organisatie en ook niet voor uw subsidie.',
  anonTitle: 'Hoe uw anonimiteit werkt',
  anonItems: [
    'Uw melding en uw bestanden worden in deze browser versleuteld, voordat er iets wordt verstuurd. Alleen de vertrouwenspersoon kan ze openen.',
    'De server kan niet lezen wat u schrijft, en ziet de namen van uw bestanden niet. Hij bewaart geen IP-adres, geen cookies en geen precieze tijden.',
    'De server ziet wel dát er een melding is, ongeveer hoe groot die is, en in welk uur die binnenkwam.',
    'De beste bescherming: gebruik Tor Browser (torproject.org), op een eigen apparaat, en niet via het netwerk van uw werk. Het beveiligingsniveau ‘Veiliger’ is goed. Bij ‘Veiligst’ werkt deze pagina niet.',
    'Wilt u niet herkend worden? Schrijf dan niets op waaraan anderen u kunnen herkennen.',
  ],
  keysTitle: 'Controleer de sleutel van de vertrouwenspersoon',
  keysIntro: `Uw melding wordt versleuteld met de sleutel van de vertrouwenspersoon. Vergelijk de ‘vingerafdruk’ hieronder met die op ${S.fingerprintsPublishedAt.nl}. Zijn ze niet gelijk? Stuur dan niets, en neem op een andere manier contact op.`,
  fingerprint: 'Vingerafdruk',
  startReport: 'Een melding schrijven',
  haveCode: 'Ik heb al een ontvangstcode',

  // Write
  writeTitle: 'Uw melding',
  writeIntro:
    'Neem de tijd. Er wordt niets verstuurd voordat u op ‘Versleutelen en versturen’ klikt.',
  textLabel: 'Wat is er gebeurd?',
  textHint:
    'Schrijf in uw eigen woorden wat er is gebeurd, wanneer en waar, en wie erbij waren. Dat mag in elke taal.',
  textRequired: 'Schrijf eerst iets over wat er is gebeurd.',
  consentLegend: `Mag de vertrouwenspersoon uw melding doorsturen naar ${S.escalation.nl}?`,
  consent: { no: 'Nee', ask: 'Vraag het mij eerst', yes: 'Ja' },
  consentHint: 'U kunt dit later nog veranderen.',
  addressLabel: 'Hoe wilt u dat de vertrouwenspersoon u noemt?',
  addressHint: 'Bijvoorbeeld een voornaam, een verzonnen naam, of ‘mevrouw’. Dit mag leeg blijven.',
  filesTitle: 'Bestanden (als u wilt)',
  metadataWarning:
    'Let op: bestanden kunnen verborgen gegevens bevatten, zoals de naam van de maker, de naam van de computer, of de plek en de tijd waar een foto is gemaakt. Die gegevens kunnen laten zien wie u bent. Wilt u anoniem blijven? Stuur dan liever een schermafbeelding, of neem de tekst over in uw melding.',
  chooseFiles: 'Bestanden kiezen',
  chosenFiles: 'Gekozen bestanden',
  removeFile: (name: string) => `Verwijder ${name}`,
  remove: 'Verwijderen',
  fileTooLarge: (name: string, max: string) =>
    `${name} is te groot. Een bestand mag hoogstens ${max} zijn.`,
  filesTooLarge: (max: string) =>
    `De bestanden zijn samen te groot. Samen mogen ze hoogstens ${max} zijn.`,
  tooManyFiles: (max: number) => `U kunt hoogstens ${max} bestanden meesturen.`,
  send: 'Versleutelen en versturen',
  back: 'Terug',

  // Sending
  sendingTitle: 'Uw melding wordt verstuurd',
  sendingIntro: 'Laat deze pagina open. Dit duurt meestal niet lang.',
  stepPrepare: 'Verbinding voorbereiden',
  stepWork: 'Rekenwerk tegen misbruik',
  stepWorkHint:
    'Uw browser rekent even. Zo houden wij automatische spam tegen, zonder iets over u te hoeven weten.',
  stepCase: 'Uw dossier aanmaken',
  stepFile: (i: number, n: number) => `Bestand ${i} van ${n} versleutelen en versturen`,
  stepSeal: 'Uw melding versleutelen en versturen',
  stepDone: 'klaar',
  stepBusy: 'bezig',
  stepWaiting: 'wacht',
  progressOf: (what: string) => `Voortgang: ${what}`,
  resuming: 'De verbinding was even weg. We gaan verder waar het stopte.',
  nothingLost: 'Er is niets verloren: uw tekst en bestanden staan nog klaar.',
  backToEdit: 'Terug naar mijn melding',

  // Receipt
  receiptTitle: 'Uw melding is verstuurd',
  receiptIntro:
    'Dit is uw ontvangstcode. U heeft hem nodig om later de antwoorden te lezen en te reageren.',
  codeLabel: 'Uw ontvangstcode',
  caseNumberLabel: 'zaaknummer',
  secretLabel: 'geheim',
  explainCase: (c: string) =>
    `De eerste twee groepjes (${c}) zijn uw zaaknummer. Dat mag u noemen, bijvoorbeeld als u de vertrouwenspersoon belt.`,
  explainSecret: 'De rest is geheim. Geef die aan niemand. Ook wij vragen er nooit om.',
  explainLost:
    'Niemand kan een verloren code terughalen, ook de vertrouwenspersoon niet. Bewaar hem goed: schrijf hem op, of bewaar hem op een plek die alleen u kunt zien. Liever niet op een computer of telefoon van uw werk.',
  copy: 'Kopiëren',
  copied: 'De code is gekopieerd.',
  copyFailed: 'Kopiëren lukte niet. Schrijf de code over.',
  save: 'Opslaan als tekstbestand',
  saveName: 'ontvangstcode.txt',
  saveText: (code: string, c: string) =>
    `Ontvangstcode: ${code}\n\nZaaknummer: ${c} (de eerste twee groepjes; dit mag u noemen).\nDe rest van de code is geheim. Geef die aan niemand.\nNiemand kan een verloren code terughalen.\nMet deze code kunt u later de antwoorden lezen op de meldpagina van het ${S.supportPoint.nl}.\n`,
  confirmStored: 'Ik heb mijn code opgeschreven of bewaard.',
  confirmFirst: 'Vink eerst aan dat u uw code hebt opgeschreven of bewaard.',
  toCase: 'Verder naar mijn melding',

  // Come back
  loginTitle: 'Terugkomen met uw ontvangstcode',
  loginIntro: 'Vul uw ontvangstcode in. Dan kunt u de antwoorden lezen en reageren.',
  loginLabel: 'Ontvangstcode',
  loginHint: '28 tekens in zeven groepjes van vier. Streepjes, spaties en kleine letters mogen.',
  open: 'Openen',
  opening: 'Uw melding wordt geopend…',
  codeLength: (n: number) =>
    `Deze code heeft ${n} ${n === 1 ? 'teken' : 'tekens'}. Een ontvangstcode heeft er 28 (zeven groepjes van vier). Mist er een groepje, of staat er iets te veel?`,
  codeCharacter:
    'Er staat een teken in dat niet in een ontvangstcode voorkomt. Een code heeft alleen cijfers en de letters A tot en met Z, zonder de U.',
  codeChecksum:
    'Er zit waarschijnlijk een typefout in de code. Kijk elk teken nog eens na. Let vooral op 8 en B, 5 en S, 2 en Z, 6 en G.',
  codeUnknown:
    'Met deze code vinden wij geen melding. Kijk de code nog eens na. Let op: een afgesloten melding wordt na een tijd verwijderd.',
  codeTooManyAttempts:
    'Er is te vaak een verkeerde code geprobeerd bij dit zaaknummer. Wacht een kwartier en probeer het dan opnieuw.',

  // Case
  caseTitle: (c: string) => `Uw melding ${c}`,
  statusLabel: 'Stand van zaken',
  status: {
    received: 'Ontvangen',
    'in-conversation': 'In gesprek',
    forwarded: 'Doorgestuurd',
    closed: 'Afgesloten',
  },
  statusFromServer:
    '(volgens de server: de vertrouwenspersoon heeft nog geen stand van zaken gestuurd)',
  intact: 'Alle berichten zijn gecontroleerd: ze zijn echt, niet veranderd en compleet.',
  problemTitle: 'Waarschuwing: er klopt iets niet in dit gesprek',
  problemIntro:
    'Een of meer berichten zijn veranderd, ontbreken of staan op de verkeerde plek. Dat kan een storing zijn, maar ook een poging om u te misleiden. Vertrouw berichten met een waarschuwing niet. Twijfelt u? Neem dan op een andere manier contact op.',
  chainGap: (i: number) => `Vóór bericht ${i} ontbreken berichten.`,
  chainReorder: (i: number) =>
    `Bericht ${i} staat op de verkeerde plek: het is verplaatst of herhaald.`,
  chainFork: (i: number) =>
    `Bericht ${i} sluit niet aan op het bericht ervoor: er is een bericht weggelaten of veranderd.`,
  entryError: {
    'auth-failure':
      'Dit bericht kon niet worden geopend: het is veranderd nadat het werd geschreven.',
    'bad-signature':
      'De handtekening onder dit bericht klopt niet. Het komt niet van u en niet van de vertrouwenspersoon.',
    'wrong-key': 'Dit bericht is niet voor u versleuteld.',
    malformed: 'Dit bericht is beschadigd en kan niet worden gelezen.',
    misplaced:
      'Dit bericht hoort hier niet: zo’n bericht mag alleen de vertrouwenspersoon schrijven, of het staat op een verkeerde plaats.',
    other: 'Dit bericht kan niet worden gelezen.',
  },
  messageNumber: (i: number) => `Bericht ${i}`,
  unexpectedRecipient: (fingerprint: string) =>
    `Waarschuwing: nog iemand kan dit bericht lezen, met de sleutel ${fingerprint}. Dat is niet u, niet een vertrouwenspersoon van deze pagina, en niet iemand aan wie u doorsturen hebt toegestaan. Stuur niets meer en neem op een andere manier contact op.`,
  removedRecipient: (fingerprint: string) =>
    `De kopie van dit bericht voor sleutel ${fingerprint} is van de server verwijderd. Die persoon kan het niet meer lezen.`,
  verified: 'Handtekening gecontroleerd',
  notVerified: 'Niet te vertrouwen',
  fromYou: 'U',
  fromCounsellor: (name: string) => `Vertrouwenspersoon: ${name}`,
  kindReport: 'Uw melding',
  kindStatus: (s: string) => `Nieuwe stand van zaken: ${s}`,
  kindAck: (date: string) => `Ontvangstbevestiging: uw melding is ontvangen op ${date}.`,
  ackMismatch: 'Let op: deze ontvangstbevestiging hoort niet bij uw melding.',
  kindForwarded: (name: string) => `Uw melding is doorgestuurd naar ${name}.`,
  forwardedWithoutConsent: 'Let op: u had hiervoor geen toestemming gegeven.',
  consentIs: (c: string) => `Doorsturen naar ${S.escalation.nl}: ${c}`,
  addressAsIs: (a: string) => `Aanspreken als: ${a}`,
  attachments: 'Bijlagen',
  download: (name: string, size: string) => `${name} downloaden (${size})`,
  downloading: (name: string) => `${name} wordt ontsleuteld…`,
  downloadFailed: (name: string) =>
    `${name} kon niet worden ontsleuteld: het bestand is veranderd of beschadigd.`,
  reload: 'Vernieuwen',
  noReplyYet:
    'Er is nog geen antwoord. De vertrouwenspersoon reageert meestal binnen een week. Kom later terug met uw ontvangstcode.',
  replyTitle: 'Reageren',
  replyLabel: 'Uw bericht',
  replyRequired: 'Schrijf eerst een bericht, of kies een bestand.',
  replyConsentLegend: `Mag de vertrouwenspersoon uw melding doorsturen naar ${S.escalation.nl}?`,
  replyConsentHint:
    'Uw huidige keuze is aangevinkt. Verandert u hem, dan gaat uw nieuwe keuze mee met dit bericht.',
  replySending: 'Uw bericht wordt versleuteld en verstuurd…',
  replySent: 'Uw bericht is verstuurd.',
  closeCase: 'Melding sluiten',
  time: (date: string) => `Geschreven op ${date}`,

  // Problems
  errNetwork:
    'De server is niet bereikbaar. Kijk of uw internet werkt. In Tor Browser helpt soms ‘Nieuw Tor-circuit voor deze site’ (in het menu). Probeer het daarna opnieuw.',
  errServer: 'Er ging iets mis op de server. Probeer het over een paar minuten opnieuw.',
  errWork:
    'De controle tegen misbruik is niet gelukt. Probeer het opnieuw: uw browser rekent dan opnieuw.',
  errTooLarge:
    'Dit is te groot voor de server. Maak het kleiner of stuur minder bestanden tegelijk.',
  errStoreFull:
    'De server is op dit moment vol en neemt niets nieuws aan. Uw melding of bericht is nog niet (helemaal) verstuurd. Probeer het later opnieuw, bijvoorbeeld morgen, of neem op een andere manier contact op.',
  errBusy:
    'De server is op dit moment erg druk. Wacht een minuut en probeer het dan opnieuw. Wat al is verstuurd, blijft bewaard.',
  errUnauthorized: 'De server herkent uw ontvangstcode niet (meer).',
  errRefused:
    'De server weigerde dit verzoek. Probeer het opnieuw. Blijft dit gebeuren? Neem dan op een andere manier contact op.',
  errResponse: 'De server gaf een onverwacht antwoord. Probeer het opnieuw.',
  errSeal: 'Versleutelen is niet gelukt. Er is niets verstuurd.',
  errSealTooLong:
    'Versleutelen is niet gelukt, want de tekst is te lang. Er is niets verstuurd. Maak de tekst korter.',
  errFile: (name: string) =>
    `Het bestand ${name} kon niet worden gelezen. Is het verplaatst of veranderd? Verwijder het en kies het opnieuw.`,
  errBug: 'Er ging iets mis in deze pagina. Er is niets verloren: probeer het opnieuw.',
  errCode: (code: string) => `Technische code: ${code}`,
  nothingSent: 'Er is niets verstuurd.',
  // Handover of a case to another counsellor (PROTOCOL §7).
  kindHandover: (name: string) =>
    `Uw melding is overgedragen aan ${name}, een vertrouwenspersoon van deze pagina. Die leest uw melding en dit gesprek nu ook.`,
  kindHandoverUnknown: (fingerprint: string) =>
    `Let op: uw melding is overgedragen aan een sleutel die deze pagina niet kent (${fingerprint}). Stuur niets meer en neem op een andere manier contact op.`,
};

/** The dictionary's shape: English must say everything Dutch says. */
export type Dict = typeof nl;

const en: Dict = {
  htmlLang: 'en',
  skip: 'Skip to content',
  quickExit: 'Leave quickly',
  quickExitHint: 'Closes this page at once and wipes everything you entered.',
  otherLanguage: 'Nederlands',
  otherLanguageCode: 'nl',
  otherLanguageLabel: 'Wissel naar Nederlands',
  demoTitle: 'Demonstration',
  demoText:
    'This is a test installation. Do not send a real report here: what you send here may be read by others.',
  footer: 'This page stores nothing in your browser: no cookies and no saved data.',
  loading: 'Getting the page ready…',
  infoFailed: 'The counsellor’s details could not be fetched.',
  tryAgain: 'Try again',
  noBuiltKeys:
    'This page holds no counsellor key. So you cannot send anything here: nobody would be able to read your report. Please get in touch another way.',
  noCounsellors:
    'The server does not offer any of the keys this page was made with. So this page sends nothing: we cannot be sure who could read your report. Please get in touch another way.',
  foreignKeys: (n: number) =>
    n === 1
      ? 'Warning: the server offers one key that does not belong to this page. It is not used: your report is encrypted only for the counsellors below.'
      : `Warning: the server offers ${n} keys that do not belong to this page. They are not used: your report is encrypted only for the counsellors below.`,
  otherWaysTitle: 'Other ways to reach us',

  welcomeTitle: 'Tell us in confidence what happened',
  welcomeIntro: `This is the reporting page of the ${S.supportPoint.en}. Has someone from ${S.organisation.en} harassed, intimidated or pressured you, while you depend on that organisation? Here you can tell us safely, without giving your name.`,
  doTitle: 'What we do',
  doText:
    'A counsellor reads what you write and listens to you. They give advice and help you find your way: what you can do, and where you can go.',
  dontTitle: 'What we do not do',
  dontText: 'We do not investigate. We do not decide who is right, and we do not punish anyone.',
  escalationTitle: `To ${S.escalation.en}: only if you want`,
  escalationText: `If you want, the counsellor takes your report straight to ${S.escalation.en}. This does not happen without your permission. You choose, and you can change your choice later.`,
  safeTitle: 'Reporting costs you nothing',
  safeText: 'A report has no consequences for your own organisation, and none for your grants.',
  anonTitle: 'How your anonymity works',
  anonItems: [
    'Your report and your files are encrypted in this browser before anything is sent. Only the counsellor can open them.',
    'The server cannot read what you write, and does not see the names of your files. It keeps no IP address, no cookies and no precise times.',
    'The server does see that there is a report, roughly how large it is, and in which hour it arrived.',
    'The best protection: use Tor Browser (torproject.org), on your own device, and not on your work network. The security level ‘Safer’ is fine. At ‘Safest’ this page does not work.',
    'Do you not want to be recognised? Then do not write anything others could recognise you by.',
  ],
  keysTitle: 'Check the counsellor’s key',
  keysIntro: `Your report is encrypted with the counsellor’s key. Compare the ‘fingerprint’ below with the one on ${S.fingerprintsPublishedAt.en}. Are they different? Then do not send anything, and get in touch another way.`,
  fingerprint: 'Fingerprint',
  startReport: 'Write a report',
  haveCode: 'I already have a receipt code',

  writeTitle: 'Your report',
  writeIntro: 'Take your time. Nothing is sent until you click ‘Encrypt and send’.',
  textLabel: 'What happened?',
  textHint:
    'Write in your own words what happened, when and where, and who was there. You may write in any language.',
  textRequired: 'Please write something about what happened first.',
  consentLegend: `May the counsellor pass your report on to ${S.escalation.en}?`,
  consent: { no: 'No', ask: 'Ask me first', yes: 'Yes' },
  consentHint: 'You can change this later.',
  addressLabel: 'What would you like the counsellor to call you?',
  addressHint: 'For example a first name, a made-up name, or ‘Ms’. You may leave this empty.',
  filesTitle: 'Files (if you want)',
  metadataWarning:
    'Careful: files can contain hidden details, such as the name of the author, the name of the computer, or the place and time a photo was taken. Those details can show who you are. Do you want to stay anonymous? Then send a screenshot instead, or copy the text into your report.',
  chooseFiles: 'Choose files',
  chosenFiles: 'Chosen files',
  removeFile: (name: string) => `Remove ${name}`,
  remove: 'Remove',
  fileTooLarge: (name: string, max: string) =>
    `${name} is too large. A file may be at most ${max}.`,
  filesTooLarge: (max: string) =>
    `The files are too large together. Together they may be at most ${max}.`,
  tooManyFiles: (max: number) => `You can send at most ${max} files.`,
  send: 'Encrypt and send',
  back: 'Back',

  sendingTitle: 'Your report is being sent',
  sendingIntro: 'Keep this page open. This usually does not take long.',
  stepPrepare: 'Preparing the connection',
  stepWork: 'Work against abuse',
  stepWorkHint:
    'Your browser does some sums. This keeps automated spam out, without us knowing anything about you.',
  stepCase: 'Creating your case',
  stepFile: (i: number, n: number) => `Encrypting and sending file ${i} of ${n}`,
  stepSeal: 'Encrypting and sending your report',
  stepDone: 'done',
  stepBusy: 'busy',
  stepWaiting: 'waiting',
  progressOf: (what: string) => `Progress: ${what}`,
  resuming: 'The connection dropped for a moment. We are carrying on where it stopped.',
  nothingLost: 'Nothing is lost: your text and files are still here.',
  backToEdit: 'Back to my report',

  receiptTitle: 'Your report has been sent',
  receiptIntro: 'This is your receipt code. You need it to read the answers later and to reply.',
  codeLabel: 'Your receipt code',
  caseNumberLabel: 'case number',
  secretLabel: 'secret',
  explainCase: (c: string) =>
    `The first two groups (${c}) are your case number. You may say it, for example when you call the counsellor.`,
  explainSecret: 'The rest is secret. Do not give it to anyone. We will never ask for it either.',
  explainLost:
    'Nobody can recover a lost code, not even the counsellor. Keep it safe: write it down, or keep it somewhere only you can see. Preferably not on a work computer or work phone.',
  copy: 'Copy',
  copied: 'The code has been copied.',
  copyFailed: 'Copying did not work. Please write the code down.',
  save: 'Save as a text file',
  saveName: 'receipt-code.txt',
  saveText: (code: string, c: string) =>
    `Receipt code: ${code}\n\nCase number: ${c} (the first two groups; you may say this).\nThe rest of the code is secret. Do not give it to anyone.\nNobody can recover a lost code.\nWith this code you can read the answers later on the reporting page of the ${S.supportPoint.en}.\n`,
  confirmStored: 'I have written down or saved my code.',
  confirmFirst: 'Please tick first that you have written down or saved your code.',
  toCase: 'Go on to my report',

  loginTitle: 'Come back with your receipt code',
  loginIntro: 'Enter your receipt code. Then you can read the answers and reply.',
  loginLabel: 'Receipt code',
  loginHint: '28 characters in seven groups of four. Dashes, spaces and small letters are fine.',
  open: 'Open',
  opening: 'Opening your report…',
  codeLength: (n: number) =>
    `This code has ${n} ${n === 1 ? 'character' : 'characters'}. A receipt code has 28 (seven groups of four). Is a group missing, or is there something extra?`,
  codeCharacter:
    'There is a character in it that a receipt code never has. A code has only digits and the letters A to Z, without U.',
  codeChecksum:
    'There is probably a typing mistake in the code. Please check each character again. Look out especially for 8 and B, 5 and S, 2 and Z, 6 and G.',
  codeUnknown:
    'We find no report with this code. Please check the code again. Note: a closed report is deleted after a while.',
  codeTooManyAttempts:
    'A wrong code was tried too often for this case number. Please wait a quarter of an hour and try again.',

  caseTitle: (c: string) => `Your report ${c}`,
  statusLabel: 'Where things stand',
  status: {
    received: 'Received',
    'in-conversation': 'In conversation',
    forwarded: 'Passed on',
    closed: 'Closed',
  },
  statusFromServer: '(according to the server: the counsellor has not sent a status yet)',
  intact: 'All messages have been checked: they are genuine, unchanged and complete.',
  problemTitle: 'Warning: something is wrong in this conversation',
  problemIntro:
    'One or more messages were changed, are missing or are in the wrong place. This may be a fault, but it may also be an attempt to mislead you. Do not trust messages with a warning. In doubt? Get in touch another way.',
  chainGap: (i: number) => `Messages are missing before message ${i}.`,
  chainReorder: (i: number) => `Message ${i} is in the wrong place: it was moved or repeated.`,
  chainFork: (i: number) =>
    `Message ${i} does not follow on from the message before it: a message was left out or changed.`,
  entryError: {
    'auth-failure': 'This message could not be opened: it was changed after it was written.',
    'bad-signature':
      'The signature on this message is wrong. It does not come from you or from the counsellor.',
    'wrong-key': 'This message was not encrypted for you.',
    malformed: 'This message is damaged and cannot be read.',
    misplaced:
      'This message does not belong here: only the counsellor may write such a message, or it is in the wrong place.',
    other: 'This message cannot be read.',
  },
  messageNumber: (i: number) => `Message ${i}`,
  unexpectedRecipient: (fingerprint: string) =>
    `Warning: someone else can read this message, with the key ${fingerprint}. That is not you, not a counsellor of this page, and not someone you agreed the case may be forwarded to. Send nothing more and get in touch another way.`,
  removedRecipient: (fingerprint: string) =>
    `The copy of this message for the key ${fingerprint} was removed from the server. That person can no longer read it.`,
  verified: 'Signature checked',
  notVerified: 'Not to be trusted',
  fromYou: 'You',
  fromCounsellor: (name: string) => `Counsellor: ${name}`,
  kindReport: 'Your report',
  kindStatus: (s: string) => `New status: ${s}`,
  kindAck: (date: string) => `Acknowledgement: your report was received on ${date}.`,
  ackMismatch: 'Careful: this acknowledgement does not belong to your report.',
  kindForwarded: (name: string) => `Your report was passed on to ${name}.`,
  forwardedWithoutConsent: 'Careful: you had not given permission for this.',
  consentIs: (c: string) => `Pass on to ${S.escalation.en}: ${c}`,
  addressAsIs: (a: string) => `Call me: ${a}`,
  attachments: 'Attachments',
  download: (name: string, size: string) => `Download ${name} (${size})`,
  downloading: (name: string) => `Decrypting ${name}…`,
  downloadFailed: (name: string) =>
    `${name} could not be decrypted: the file was changed or damaged.`,
  reload: 'Refresh',
  noReplyYet:
    'There is no answer yet. The counsellor usually answers within a week. Come back later with your receipt code.',
  replyTitle: 'Reply',
  replyLabel: 'Your message',
  replyRequired: 'Please write a message or choose a file first.',
  replyConsentLegend: `May the counsellor pass your report on to ${S.escalation.en}?`,
  replyConsentHint:
    'Your current choice is selected. If you change it, your new choice goes along with this message.',
  replySending: 'Encrypting and sending your message…',
  replySent: 'Your message has been sent.',
  closeCase: 'Close my report',
  time: (date: string) => `Written on ${date}`,

  errNetwork:
    'The server cannot be reached. Check that your internet works. In Tor Browser, ‘New Tor circuit for this site’ (in the menu) sometimes helps. Then try again.',
  errServer: 'Something went wrong on the server. Please try again in a few minutes.',
  errWork:
    'The check against abuse did not work. Please try again: your browser will do the sums again.',
  errTooLarge: 'This is too large for the server. Make it smaller or send fewer files at once.',
  errStoreFull:
    'The server is full at the moment and accepts nothing new. Your report or message has not been (fully) sent. Please try again later, for example tomorrow, or get in touch another way.',
  errBusy:
    'The server is very busy at the moment. Please wait a minute and try again. What was already sent is kept.',
  errUnauthorized: 'The server does not recognise your receipt code (any more).',
  errRefused:
    'The server refused this request. Please try again. Does it keep happening? Then get in touch another way.',
  errResponse: 'The server gave an unexpected answer. Please try again.',
  errSeal: 'Encryption did not work. Nothing was sent.',
  errSealTooLong:
    'Encryption did not work, because the text is too long. Nothing was sent. Please make the text shorter.',
  errFile: (name: string) =>
    `The file ${name} could not be read. Was it moved or changed? Remove it and choose it again.`,
  errBug: 'Something went wrong in this page. Nothing is lost: please try again.',
  errCode: (code: string) => `Technical code: ${code}`,
  nothingSent: 'Nothing was sent.',
  // Handover of a case to another counsellor (PROTOCOL §7).
  kindHandover: (name: string) =>
    `Your report was handed over to ${name}, a counsellor of this page. They now read your report and this conversation too.`,
  kindHandoverUnknown: (fingerprint: string) =>
    `Warning: your report was handed over to a key this page does not know (${fingerprint}). Send nothing more and get in touch another way.`,
};

/** The dictionary of a language. */
export function dict(lang: Lang): Dict {
  return lang === 'nl' ? nl : en;
}

/** The site's own names, in a language. */
export function siteText(lang: Lang): {
  supportPoint: string;
  escalation: string;
  otherWays: readonly string[];
} {
  return {
    supportPoint: S.supportPoint[lang],
    escalation: S.escalation[lang],
    otherWays: S.otherWays[lang],
  };
}

/** A byte count for people: "12 KB", "3,4 MB". */
export function formatBytes(bytes: number, lang: Lang): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(value)} ${units[unit]}`;
}

/** A protocol time (YYYY-MM-DDTHH:MM:SSZ) for people, in the browser's time zone (Tor Browser's is UTC). */
export function formatTime(iso: string, lang: Lang): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', {
    dateStyle: 'long',
    timeStyle: 'short',
  }).format(date);
}

/** A calendar day (YYYY-MM-DD) for people. */
export function formatDay(day: string, lang: Lang): string {
  const date = new Date(`${day}T12:00:00Z`);
  if (Number.isNaN(date.getTime())) return day;
  return new Intl.DateTimeFormat(lang === 'nl' ? 'nl-NL' : 'en-GB', {
    dateStyle: 'long',
    timeZone: 'UTC',
  }).format(date);
}
