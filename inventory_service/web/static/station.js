/* Station screen: shows a scanner's mode and last scans, live.
 *
 * The feed is GET <api>/scanners/<id>/events (server-sent events). It needs a bearer token, which
 * EventSource cannot send, so this reads the stream with fetch() and parses SSE itself. The stream
 * ends after a while (the server's timeout) or breaks: we reconnect with Last-Event-ID / ?after=.
 * The token comes from the URL fragment (#token=..., never sent to the server) or the form, and is
 * kept in sessionStorage (this tab only). Text is only ever set with textContent.
 */
"use strict";

const TOKEN_KEY = "inventory.token";
const MAX_SCANS = 8;
const STALL_MS = 45000; // the server sends at least a keepalive every 15 s
const MAX_RETRY_MS = 15000;

const MODES = {
  receive: "Scan items to receive them into stock",
  consume: "Scan items to take them out of stock",
  count: "Scan every item to count it",
  transfer: "Scan items to move them",
};

const OUTCOMES = {
  applied: { icon: "✓", word: "Done" },
  command: { icon: "➜", word: "Card" },
  pending: { icon: "…", word: "Set aside" },
  rejected: { icon: "✗", word: "Not done" },
};

/* What the person scanning reads for each outcome's reason: what happened – what to do. The words
 * are the page's own (the server's message is the fallback for a reason this page does not know). */
const LOCATION_LIST = "scan a location label from the list";
const REASONS = {
  unknown_gtin: "Unknown product – set it aside for the manager",
  lot_expired: "Expired – do not receive or use; set it aside for the manager",
  lot_unavailable: "Lot blocked (recall or hold) – do not use; set it aside for the manager",
  insufficient_stock: "Not enough in stock here – check the quantity, then tell the manager",
  bad_check_character: "Label unclear – scan again slowly",
  unparseable: "Barcode not understood – scan the product label or a station card",
  needs_confirmation: "Label cannot be read safely – set it aside for the manager",
  missing_expiry: "No expiry date on this label – scan the label that shows it",
  missing_lot: "No lot number on this label – scan the label that shows it",
  unknown_lot: "Lot not on record here – set it aside for the manager",
  no_target_location: "No destination yet – scan the location label of where it goes",
  unknown_location: (scan) => {
    const code = scan.parsed?.command === "loc" ? scan.parsed.argument : scan.target_location;
    return code ? `No location ${code} – ${LOCATION_LIST}` : `Unknown location – ${LOCATION_LIST}`;
  },
  count_open: "Count still open – scan Done to finish it first",
  bad_quantity: "Quantity too large – scan another quantity card",
  noise: "Nothing readable came in – scan again",
  too_long: "Too much read at once – scan one label at a time",
  cut_by_port_loss: "Cut off: the scanner was unplugged – scan again",
  cut_by_stop: "Cut off: the station was stopped – scan again",
};

const WARNINGS = {
  fefo_sooner_lot: (lot) => `Lot ${lot} expires sooner – use that one first`,
  expires_soon: (day) => `Expires soon (${dateInWords(day)}) – use first`,
};

const UNPLUGGED = "Scanner unplugged or busy – check the cable";
const PORT = {
  open: "Scanner connected",
  disconnected: UNPLUGGED,
  error: UNPLUGGED,
  misconfigured: "Scanner set up wrongly – tell the manager",
  stopped: "Scanner switched off in the service – tell the manager",
  unknown: "Scanner not started yet – if this stays, tell the manager",
};

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/* "2026-11-30" -> "30 Nov 2026". Read from the text, not through Date, which would take it as UTC
 * midnight and show the day before west of Greenwich. Anything else is shown as it came. */
function dateInWords(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(value || ""));
  const month = match ? MONTHS[Number(match[2]) - 1] : undefined;
  return month ? `${Number(match[3])} ${month} ${match[1]}` : String(value || "");
}

/* Server-sent events parser (HTML Living Standard, "Parsing an event stream"). Feed it text in
 * whatever pieces the network delivers; it calls onEvent({type, data, id}) per complete event. */
class SSEParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = "";
    this.afterCR = false; // the previous piece ended in "\r": a leading "\n" belongs to it
    this.type = "";
    this.data = [];
    this.lastEventId = "";
    this.retry = null;
  }

  feed(text) {
    if (this.afterCR && text.startsWith("\n")) text = text.slice(1);
    this.afterCR = text.endsWith("\r");
    const lines = (this.buffer + text).split(/\r\n|\r|\n/);
    this.buffer = lines.pop();
    for (const line of lines) this.line(line);
  }

  line(line) {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return; // comment (keepalive)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.type = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.lastEventId = value;
    else if (field === "retry" && /^\d+$/.test(value)) this.retry = Number(value);
  }

  dispatch() {
    if (this.data.length) {
      this.onEvent({ type: this.type || "message", data: this.data.join("\n"), id: this.lastEventId });
    }
    this.type = "";
    this.data = [];
  }
}

const body = document.body;
const $ = (id) => document.getElementById(id);
const scannerId = body.dataset.scannerId;
const apiRoot = body.dataset.apiRoot;
const eventsUrl = `${apiRoot}/scanners/${encodeURIComponent(scannerId)}/events`;

let scans = []; // newest first
let lastEventId = "";
let retryMs = 1000;
let failures = 0;
let controller = null;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function announce(text) {
  $("announcer").textContent = text;
}

function setConnection(state, text) {
  body.dataset.connection = state;
  $("connection").textContent = text;
}

/* --- the station: location, mode, pending quantity, destination, count, port --- */

function showState(s) {
  $("location").textContent = s.location_code || "–";
  const mode = $("mode");
  const changed = body.dataset.mode !== s.mode;
  body.dataset.mode = s.mode;
  mode.className = `mode mode-${s.mode}`;
  $("mode-name").textContent = s.mode.toUpperCase();
  $("mode-hint").textContent = MODES[s.mode] || "";

  const details = $("details");
  details.replaceChildren();
  const add = (cls, text) => details.append(element("li", cls, text));
  if (s.pending_quantity) add("pending-quantity", `Next scan counts ${s.pending_quantity}`);
  if (s.mode === "transfer") {
    add("destination", s.target_location ? `Moving to ${s.target_location}`
      : "Where to? Scan the location label of where it goes");
  }
  if (s.count_open) add("count-open", "Count open – scan Done when finished");
  if (s.mode !== s.home_mode) add("home-mode", `Done card: back to ${s.home_mode}`);

  const port = $("port");
  port.hidden = s.port_state === "open";
  port.className = `port port-${s.port_state}`;
  port.textContent = PORT[s.port_state] || `Scanner not working (${s.port_state}) – tell the manager`;
  // The technical detail is for the manager, who fixes the cable or the configuration.
  const detail = s.port_state === "misconfigured" ? s.config_error : s.port_state === "open" ? "" : s.port_detail;
  if (detail) port.append(element("small", "", `For the manager: ${detail}`));

  if (changed) announce(`Mode ${s.mode}`);
}

/* --- the last scans --- */

function reasonText(scan) {
  const words = REASONS[scan.reason];
  if (typeof words === "function") return words(scan);
  return words || scan.message || (scan.reason || "").replace(/_/g, " ");
}

function headline(scan) {
  if (scan.outcome === "rejected" || scan.outcome === "pending") return reasonText(scan);
  return scan.message || OUTCOMES[scan.outcome].word;
}

/* The scan's facts, each its own span (a flex item): the line wraps between facts, and inside one
 * only when it is wider than the line. */
function facts(scan) {
  const parts = [];
  const add = (cls, text) => parts.push(element("span", `fact ${cls}`, text));
  if (scan.quantity) add("quantity", `× ${scan.quantity}`);
  if (scan.lot_number) add("lot", `Lot ${scan.lot_number}`);
  if (scan.expiry) add("expiry", `Exp ${dateInWords(scan.expiry)}`);
  if (scan.gtin) add("code", `GTIN ${scan.gtin}`);
  else if (scan.hibc_code) add("code", `HIBC ${scan.hibc_code}`);
  if (!parts.length && scan.outcome === "rejected" && scan.raw) add("raw", `Read: ${scan.raw.slice(0, 40)}`);
  return parts;
}

function warningText(code) {
  const [name, arg] = code.split(/:(.*)/);
  return WARNINGS[name] ? WARNINGS[name](arg) : code.replace(/_/g, " ");
}

function timeOf(value) {
  const when = new Date(String(value).replace(" ", "T")); // the stream sends "2026-03-10 15:00:00+00:00"
  if (Number.isNaN(when.getTime())) return "";
  return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
}

function scanItem(scan, fresh) {
  const kind = OUTCOMES[scan.outcome] ? scan.outcome : "rejected";
  const li = element("li", `scan outcome-${kind}${fresh ? " fresh" : ""}`);
  li.dataset.scanId = scan.id;
  li.append(element("span", "icon", OUTCOMES[kind].icon));
  const text = element("div", "text");
  const sub = element("p", "facts");
  sub.append(element("span", "outcome", OUTCOMES[kind].word), element("time", "when", timeOf(scan.received_at)));
  sub.append(...facts(scan));
  text.append(element("p", "headline", headline(scan)), sub);
  for (const w of scan.warnings || []) text.append(element("p", "warning", `⚠ ${warningText(w)}`));
  li.append(text);
  return li;
}

function addScan(scan, live) {
  if (scans.some((s) => s.id === scan.id)) return;
  scans = [scan, ...scans].sort((a, b) => b.id - a.id).slice(0, MAX_SCANS);
  const list = $("scans");
  list.replaceChildren(...scans.map((s) => scanItem(s, live && s.id === scan.id)));
  $("no-scans").hidden = scans.length > 0;
  if (live) announce(`${OUTCOMES[scan.outcome]?.word || scan.outcome}: ${headline(scan)}`);
}

/* --- the token --- */

function takeTokenFromFragment() {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (!token) return false;
  sessionStorage.setItem(TOKEN_KEY, token);
  history.replaceState(null, "", location.pathname + location.search); // out of the address bar
  return true;
}

/* Without a token the screen shows nothing of the station. */
function clearScreen() {
  scans = [];
  lastEventId = "";
  delete body.dataset.mode;
  $("scans").replaceChildren();
  $("no-scans").hidden = false;
  $("location").textContent = "–";
  $("mode").className = "mode mode-none";
  $("mode-name").textContent = "…";
  $("mode-hint").textContent = "Waiting for the station…";
  $("details").replaceChildren();
  $("port").hidden = true;
}

function askForToken(message) {
  controller?.abort();
  controller = null;
  clearScreen();
  sessionStorage.removeItem(TOKEN_KEY);
  $("forget-token").hidden = true;
  $("token-error").hidden = !message;
  $("token-error").textContent = message || "";
  $("token-form").hidden = false;
  $("token-input").focus();
  setConnection("idle", "Not connected");
}

/* --- the stream --- */

class Refused extends Error {}

function checked(response) {
  if (response.status === 401 || response.status === 403) throw new Refused();
  return response;
}

/* The last scans come from the scans list (shown without fanfare); the stream then sends only newer ones. */
async function loadHistory(headers, signal) {
  const url = `${apiRoot}/scans?scanner_id=${encodeURIComponent(scannerId)}&limit=${MAX_SCANS}`;
  const response = checked(await fetch(url, { headers, cache: "no-store", signal }));
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const { items } = await response.json();
  for (const scan of items) addScan(scan, false);
  lastEventId = String(items.length ? items[0].id : 0);
}

async function connect() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return askForToken("");
  $("token-form").hidden = true;
  $("forget-token").hidden = false;
  controller?.abort();
  const mine = (controller = new AbortController());
  let stall = null;
  const watchdog = () => {
    clearTimeout(stall);
    stall = setTimeout(() => mine.abort(), STALL_MS);
  };
  const headers = { Authorization: `Bearer ${token}` };
  if (failures) setConnection("retrying", "Reconnecting…");
  try {
    watchdog();
    if (lastEventId === "") await loadHistory(headers, mine.signal);
    const response = checked(await fetch(`${eventsUrl}?after=${encodeURIComponent(lastEventId)}`, {
      headers: { ...headers, Accept: "text/event-stream", "Last-Event-ID": lastEventId },
      cache: "no-store",
      signal: mine.signal,
    }));
    if (response.status === 404) {
      setConnection("error", `No station called “${scannerId}” – tell the manager`);
      return retryLater(30000);
    }
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
    setConnection("live", "Live");
    failures = 0;
    const parser = new SSEParser(onEvent);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      watchdog();
      parser.feed(value);
    }
    if (parser.retry !== null) retryMs = parser.retry;
    retryLater(retryMs); // the server ended the stream (its timeout): resume after the last scan
  } catch (error) {
    if (controller !== mine) return; // replaced by a newer connection, or a new token is wanted
    if (error instanceof Refused) return askForToken("That token was refused – check it and try again.");
    failures += 1;
    setConnection("retrying", "Connection lost – reconnecting…");
    retryLater(Math.min(retryMs * 2 ** failures, MAX_RETRY_MS));
  } finally {
    clearTimeout(stall);
  }
}

function retryLater(ms) {
  const mine = controller;
  setTimeout(() => {
    if (controller === mine) connect();
  }, ms);
}

function onEvent(event) {
  if (event.id) lastEventId = event.id;
  let data;
  try {
    data = JSON.parse(event.data);
  } catch {
    return;
  }
  if (event.type === "state") showState(data);
  else if (event.type === "scan") addScan(data, true);
}

function start() {
  takeTokenFromFragment();
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const token = $("token-input").value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("token-input").value = "";
    failures = 0;
    connect();
  });
  $("forget-token").addEventListener("click", () => askForToken(""));
  window.addEventListener("hashchange", () => {
    if (!takeTokenFromFragment()) return;
    failures = 0;
    connect();
  });
  connect();
}

window.stationPage = { SSEParser, dateInWords }; // for the browser tests
start();
