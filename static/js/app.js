// Small, framework-free behaviour shared by every page.

// "/" jumps to the page's search box (the element marked data-search), unless you are typing.
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof Element && target.closest("input, textarea, select, [contenteditable]")) return;
  const box = document.querySelector("[data-search]");
  if (!box) return;
  event.preventDefault();
  box.focus();
  box.select();
});

// Buttons marked data-print open the browser's print dialog.
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-print]")) window.print();
});

// A request nobody asked for — a poll ("every 6s"), a load trigger, a refresh after a sync — says so:
// it does not keep a signed-in session alive, so a tablet left on a self-refreshing page still
// signs out after the idle timeout (bookings_app/middleware.py SessionIdle). htmx gives a request
// made by a click, a key or a submit its triggering event; a poll has none.
const BACKGROUND = "X-Desk-Background";
document.addEventListener("htmx:configRequest", (event) => {
  if (!event.detail.triggeringEvent) event.detail.headers[BACKGROUND] = "1";
});

// ---- Front desk ---------------------------------------------------------------------------

// The roster refreshes itself while something waits for Wix, but never under a busy hand:
// not while a part-payment prompt or a menu is open, a field has focus, or a request is out.
window.deskIdle = () =>
  !document.querySelector(
    "#roster-rows details[open], #roster-rows .part-pay, #roster-rows input:focus, #walk-in-panel[open], .htmx-request",
  );

// The roster reloads its rows while any of them waits for Wix and nobody is busy with it.
// Not while the "signed out / page out of date" banner shows: every refresh would be refused.
window.rosterWaiting = () =>
  deskIdle() && !document.getElementById("session-problem") && !!document.querySelector("#roster-rows .badge.is-pending");

// ---- Roster refresh: only the rows that changed, never over a newer answer ------------------
// Every roster row (<tbody id="roster-row-N">) carries data-version, when the server began the
// read it was drawn from, and data-digest, a digest of what it shows (bookings_app/roster_rows.py).

// The refresh tells the server which rows the page holds ("pk.digest,…"), which then answers
// with just the rows that changed (out of band) or 204 when none did. A very long roster would
// outgrow a request header: it gets the whole list, as a page without JavaScript's help would.
const ROSTER_ROWS_SENT_AT_MOST = 600;
document.addEventListener("htmx:configRequest", (event) => {
  const elt = event.detail.elt;
  if (!(elt instanceof Element) || elt.id !== "roster-rows") return;
  const rows = elt.querySelectorAll("tbody[data-digest]");
  if (rows.length > ROSTER_ROWS_SENT_AT_MOST) return;
  event.detail.headers["X-Roster-Rows"] = Array.from(
    rows,
    (row) => `${row.id.replace("roster-row-", "")}.${row.dataset.digest}`,
  ).join(",");
});

// A tap on a row stops a refresh on its way: what it would bring was read before the tap.
document.addEventListener("htmx:beforeRequest", (event) => {
  const elt = event.detail.elt;
  const rows = document.getElementById("roster-rows");
  if (!rows || !(elt instanceof Element) || elt === rows || !rows.contains(elt)) return;
  if (rows.classList.contains("htmx-request") && window.htmx) window.htmx.trigger(rows, "htmx:abort");
});

// Whatever comes back, a row is never replaced by an older one: a refresh read before a tap
// (or a search answer overtaken by one) must not put back the row as it was before the tap.
const rowVersion = (row) => Number(row && row.getAttribute && row.getAttribute("data-version")) || 0;
const isRosterRow = (elt) => elt instanceof Element && elt.matches("tbody[id^='roster-row-']");

// …a row sent out of band (the refresh's changed rows)
document.addEventListener("htmx:oobBeforeSwap", (event) => {
  const { target, fragment } = event.detail;
  if (!isRosterRow(target)) return;
  const incoming = fragment && (fragment.firstElementChild || fragment);
  if (rowVersion(incoming) < rowVersion(target)) event.detail.shouldSwap = false;
});

// …a row's own answer, and a whole list: the page's newer rows stay (moved back in after the
// swap, so an Undo countdown keeps running).
const keptRows = new Map();
document.addEventListener("htmx:beforeSwap", (event) => {
  const detail = event.detail;
  if (!detail.shouldSwap || typeof detail.serverResponse !== "string") return;
  if (isRosterRow(detail.target)) {
    const version = /data-version="(\d+)"/.exec(detail.serverResponse.slice(0, 400));
    if (version && Number(version[1]) < rowVersion(detail.target)) detail.shouldSwap = false;
  } else if (detail.target instanceof Element && detail.target.id === "roster-rows") {
    const template = document.createElement("template");
    template.innerHTML = detail.serverResponse;
    template.content.querySelectorAll("tbody[data-version]").forEach((incoming) => {
      const current = document.getElementById(incoming.id);
      if (!isRosterRow(current) || rowVersion(current) <= rowVersion(incoming)) return;
      keptRows.set(incoming.id, current);
      incoming.replaceChildren();
      incoming.setAttribute("data-kept", "");
    });
    if (keptRows.size) detail.serverResponse = template.innerHTML;
  }
});
document.addEventListener("htmx:afterSwap", () => {
  keptRows.forEach((row, id) => {
    const placeholder = document.getElementById(id);
    if (placeholder && placeholder.hasAttribute("data-kept")) placeholder.replaceWith(row);
  });
  keptRows.clear();
});

// ---- After a sync with Wix: the page shows what it brought -----------------------------------
// The sync widget says "syncFinished" when the sync it showed is done. The page's content (and
// the stale-sync warning above it) is fetched again and swapped in, as long as nobody is busy
// on it: a prompt open, a field in use, something typed or chosen in a form not sent yet (a GET
// form's fields are in the address fetched). While someone is, it waits a little; if they still
// are, a message offers the reload instead of undoing their work.
function pageBusy(main) {
  if (!deskIdle()) return true;
  if (main.contains(document.activeElement) && document.activeElement.matches("input, textarea, select")) return true;
  return Array.from(main.querySelectorAll("input, textarea, select")).some((field) => {
    if (field.type === "hidden" || !field.form || field.form.method === "get") return false;
    if (field.type === "checkbox" || field.type === "radio") return field.checked !== field.defaultChecked;
    if (field instanceof HTMLSelectElement) return Array.from(field.options).some((o) => o.selected !== o.defaultSelected);
    return field.value !== field.defaultValue;
  });
}

async function showSyncedPage(attempt = 0) {
  const main = document.getElementById("main");
  if (!main || !window.htmx) return;
  if (pageBusy(main)) {
    if (attempt < 10) {
      setTimeout(() => showSyncedPage(attempt + 1), 2000);
    } else {
      const note = document.createElement("p");
      note.className = "message info";
      note.innerHTML = 'Synced with Wix. <a href="">Reload</a> to see what it brought.';
      document.getElementById("messages")?.append(note);
    }
    return;
  }
  let response;
  try {
    response = await fetch(window.location.href, {
      headers: { Accept: "text/html", [BACKGROUND]: "1" },
      credentials: "same-origin",
    });
  } catch {
    return; // offline for a moment: the page stays as it is
  }
  if (!response.ok || new URL(response.url).pathname !== window.location.pathname) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  const freshMain = fresh.getElementById("main");
  if (!freshMain || pageBusy(main)) return;
  const warning = document.querySelector("body > .sync-warning");
  const freshWarning = fresh.querySelector("body > .sync-warning");
  if (freshWarning) {
    if (warning) warning.replaceWith(freshWarning);
    else main.before(freshWarning);
  } else if (warning) {
    warning.remove();
  }
  window.htmx.swap(main, freshMain.outerHTML, { swapStyle: "outerHTML" });
  document.dispatchEvent(new CustomEvent("pageSynced"));
}
document.addEventListener("syncFinished", () => showSyncedPage());

// Undo buttons count down their window (data-expires-in seconds) and go when it closes:
// after that the worker may already have sent the change to Wix.
function startUndoCountdowns(root) {
  root.querySelectorAll("[data-expires-in]").forEach((form) => {
    if (form.dataset.counting) return;
    form.dataset.counting = "1";
    const ends = Date.now() + Number(form.dataset.expiresIn) * 1000;
    const label = form.querySelector(".countdown");
    const tick = () => {
      const left = Math.ceil((ends - Date.now()) / 1000);
      if (left <= 0 || !form.isConnected) {
        form.remove();
        return;
      }
      if (label) label.textContent = `${left}s`;
      setTimeout(tick, 250);
    };
    tick();
  });
}

// Bits that need wiring when they appear (page load, or swapped in by htmx).
function wireDesk(root) {
  startUndoCountdowns(root);
}
document.addEventListener("DOMContentLoaded", () => wireDesk(document));
document.addEventListener("htmx:load", (event) => wireDesk(event.target));

// Opening the walk-in panel puts the cursor in its search box.
document.addEventListener(
  "toggle",
  (event) => {
    const panel = event.target;
    if (!(panel instanceof HTMLDetailsElement) || !panel.open) return;
    const box = panel.matches("#walk-in-panel")
      ? panel.querySelector("[data-walk-in-search]")
      : panel.matches(".new-customer") ? panel.querySelector("input[name=first_name]")
      : panel.matches(".part-pay") ? panel.querySelector("input[name=amount]") : null;
    if (box) box.focus();
  },
  true,
);

// A walk-in was booked: its row was swapped in; clear the panel for the next person and
// show the new row.
document.addEventListener("walkInAdded", () => {
  const panel = document.getElementById("walk-in-panel");
  if (panel) {
    panel.querySelectorAll("input[type=search], input[type=text], input[type=email], input[type=tel]").forEach((input) => {
      input.value = "";
      input.removeAttribute("aria-invalid");
    });
    panel.querySelectorAll(".field-error, .form-errors").forEach((error) => error.remove());
    const results = document.getElementById("walk-in-results");
    if (results) results.replaceChildren();
    panel.querySelectorAll("details[open]").forEach((details) => (details.open = false));
    panel.open = false;
  }
  const added = document.querySelector("#roster-rows tbody.is-new");
  if (added) added.scrollIntoView({ block: "center", behavior: "smooth" });
});

// A walk-in's new row goes in at the top of the table; when a search left no table to put it
// in, show the whole (unfiltered) roster instead.
document.addEventListener("htmx:targetError", (event) => {
  const rows = document.getElementById("roster-rows");
  if (rows && event.detail && String(event.detail.target || "").includes("#roster-rows")) {
    const search = document.querySelector(".roster-search input[type=search]");
    if (search) search.value = "";
    htmx.ajax("GET", window.location.pathname, { target: "#roster-rows", swap: "outerHTML" });
  }
});

// Inputs marked data-autosubmit submit their form when changed (the day picker).
document.addEventListener("change", (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.hasAttribute("data-autosubmit") && input.form) {
    input.form.requestSubmit();
  }
});

// Settle roster: keep the totals at the top in step with the taps, and mark changed rows.
function settleTotals(form) {
  const currency = form.dataset.currency || "";
  const symbols = { GBP: "£", EUR: "€", USD: "$", AUD: "A$", CAD: "C$", NZD: "NZ$" };
  // The app's one money format (bookings_app.money.format_money): "£1,234.00", "1,234.00 CHF".
  const money = (cents) => {
    const sign = cents < 0 ? "-" : "";
    const [whole, pence] = (Math.abs(cents) / 100).toFixed(2).split(".");
    const text = `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${pence}`;
    return symbols[currency] ? `${sign}${symbols[currency]}${text}` : `${sign}${text} ${currency}`.trim();
  };
  const sums = { cash: 0, card: 0, check: 0, owes: 0 };
  const counts = { cash: 0, card: 0, check: 0, owes: 0, plan: 0, check_in: 0 };
  form.querySelectorAll("input[type=radio]:checked").forEach((radio) => {
    const kind = radio.value;
    if (kind in sums) sums[kind] += Math.round(Number(radio.dataset.amount || 0) * 100);
    if (kind in counts) counts[kind] += 1;
    const row = radio.closest(".settle-row");
    if (row) row.classList.toggle("is-changed", row.dataset.suggested !== kind && !(row.dataset.suggested === "paid"));
  });
  counts.check_in = form.querySelectorAll("input[type=checkbox][name$='-check_in']:checked").length;
  for (const [kind, cents] of Object.entries(sums)) {
    const out = form.querySelector(`[data-total="${kind}"]`);
    if (out) out.textContent = money(cents);
  }
  for (const [kind, n] of Object.entries(counts)) {
    const out = form.querySelector(`[data-count="${kind}"]`);
    if (out) out.textContent = String(n);
  }
}
document.addEventListener("change", (event) => {
  const form = event.target instanceof Element && event.target.closest("form[data-settle]");
  if (form) settleTotals(form);
});

// A tap that books a customer wins over the as-you-type search: a search answer arriving
// meanwhile must not replace the list (and the form being sent) under it. "Being sent" is
// htmx's own mark on the form (.htmx-request), gone when its answer is in — or with the form
// itself, which a booked walk-in takes away (an afterRequest listener never heard of it then,
// and a flag it was to clear stopped every later search).
document.addEventListener("htmx:beforeRequest", (event) => {
  const elt = event.detail.elt;
  if (!(elt instanceof Element)) return;
  const panel = elt.closest(".walk-in-body");
  if (!panel) return;
  if (elt.matches("form.hit-book")) {
    const search = panel.querySelector("[data-walk-in-search]");
    if (search && window.htmx) window.htmx.trigger(search, "htmx:abort");
  } else if (elt.matches("[data-walk-in-search]") && panel.querySelector("form.hit-book.htmx-request")) {
    event.preventDefault();
  }
});

// ---- Walk-in: a group on one booking ------------------------------------------------------

// A class walk-in can be several people (the "People" field): the "Cash £…" button shows the
// price of them all as the number changes. The server takes price × people whatever it shows.
function walkInMoney(cents, currency) {
  // The app's one money format (bookings_app.money.format_money): "£1,234.00", "1,234.00 CHF".
  const symbols = { GBP: "£", EUR: "€", USD: "$", AUD: "A$", CAD: "C$", NZD: "NZ$" };
  const [whole, pence] = (cents / 100).toFixed(2).split(".");
  const text = `${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${pence}`;
  return symbols[currency] ? `${symbols[currency]}${text}` : `${text} ${currency}`.trim();
}
document.addEventListener("input", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-people") || !input.form) return;
  const n = Number(input.value);
  const people = Number.isInteger(n) && n >= 1 && n <= 50 ? n : 1;
  input.form.querySelectorAll("[data-unit-price]").forEach((amount) => {
    const cents = Math.round(Number(amount.dataset.unitPrice) * 100) * people;
    amount.textContent = walkInMoney(cents, amount.dataset.currency || "");
  });
});

// ---- Signed out, or a page out of date (a shift change on a shared iPad) ------------------

// An htmx request answered 401 (the session ended) or 403 (the page's CSRF token is an old one:
// someone signed in or out on this device since it was opened; or the account may not do it)
// swaps nothing. Say so above the page in the server's words (roles.session_problem), keep what
// was typed — on the page, and across signing in again: it comes back on this page — and offer
// "Sign in again", which returns here.
const KEPT_PREFIX = "desk-kept:";
const KEPT_FOR_MS = 30 * 60 * 1000;
const NOT_KEPT = ["hidden", "password", "checkbox", "radio", "submit", "button", "reset", "file"];

function keepTyped() {
  const values = {};
  document.querySelectorAll("#main input[id]").forEach((input) => {
    if (NOT_KEPT.includes(input.type) || input.matches("[data-search]") || input.value === input.defaultValue) return;
    values[input.id] = input.value;
  });
  try {
    if (Object.keys(values).length) {
      sessionStorage.setItem(KEPT_PREFIX + location.pathname, JSON.stringify({ at: Date.now(), values }));
    }
  } catch (error) {
    // No storage (private browsing): what was typed is still on this page.
  }
}

function restoreTyped() {
  let kept = null;
  try {
    kept = JSON.parse(sessionStorage.getItem(KEPT_PREFIX + location.pathname) || "null");
    sessionStorage.removeItem(KEPT_PREFIX + location.pathname);
  } catch (error) {
    return;
  }
  if (!kept || !kept.values || Date.now() - kept.at > KEPT_FOR_MS) return;
  for (const [id, value] of Object.entries(kept.values)) {
    const input = document.getElementById(id);
    if (!(input instanceof HTMLInputElement) || NOT_KEPT.includes(input.type)) continue;
    input.value = value;
    for (let details = input.closest("details"); details; details = details.parentElement?.closest("details")) {
      details.open = true;
    }
    if (input.matches("[data-walk-in-search]") && window.htmx) window.htmx.trigger(input, "search");
  }
}
document.addEventListener("DOMContentLoaded", restoreTyped);

function showSessionProblem(xhr, tapped) {
  const problem = xhr.getResponseHeader("X-Desk-Problem");
  let banner = document.getElementById("session-problem");
  if (!banner) {
    banner = document.createElement("div");
    banner.id = "session-problem";
    banner.className = "session-problem";
    banner.setAttribute("role", "alert");
    (document.getElementById("main") || document.body).prepend(banner);
  }
  banner.dataset.problem = problem || "forbidden";
  if (problem) {
    banner.innerHTML = xhr.responseText;
    keepTyped();
  } else {
    banner.textContent = "Your account may not do that, so nothing was changed. Ask a manager if it should.";
  }
  const link = banner.querySelector("[data-sign-in-again]");
  if (link && tapped) link.focus({ preventScroll: true });
}
document.addEventListener("htmx:responseError", (event) => {
  const xhr = event.detail && event.detail.xhr;
  if (!xhr || (xhr.status !== 401 && xhr.status !== 403)) return;
  const elt = event.detail.elt;
  showSessionProblem(xhr, elt instanceof Element && elt.matches("form, button, input, a"));
});
document.addEventListener("click", (event) => {
  if (event.target instanceof Element && event.target.closest("[data-sign-in-again]")) keepTyped();
});

// ---- The roster from the keyboard, its letters, its rows' "⋯" menus ---------------------------
// Typing a letter anywhere but in a field finds people (the filter box takes it); ↓ and ↑ move a
// highlighted row (the row itself has focus); Enter checks that person in, "c" takes their cash;
// "?" shows the keys. A key acts on a row only when the row was reached from the keyboard (or a
// button in it was): a mouse click leaves nothing highlighted, so typing "c" then finds "Cole".

const FIELD = "input, textarea, select, [contenteditable]";
const rosterLines = () => Array.from(document.querySelectorAll("#roster-rows tbody.booking > tr.info"));
const lineOf = (elt) => (elt instanceof Element ? elt.closest("#roster-rows tbody.booking")?.querySelector(":scope > tr.info") : null);

function lineFocus(line, block = "nearest") {
  if (!line) return;
  line.tabIndex = -1;
  line.focus({ preventScroll: true });
  line.scrollIntoView({ block });
}

// The row the keys act on: the highlighted one, or the one holding a keyboard-focused button.
function keyedLine() {
  const active = document.activeElement;
  if (!(active instanceof Element)) return null;
  if (active.matches("#roster-rows tbody.booking > tr.info")) return active;
  return active.matches(":focus-visible") ? lineOf(active) : null;
}

function closeMenus(except) {
  document.querySelectorAll("#roster-rows details.more[open]").forEach((menu) => {
    if (menu !== except) menu.open = false;
  });
}

// A key's button, pressed. A row just swapped in is wired by htmx a moment later (when it
// settles): wire it now, or the press would post the form as a page without JavaScript would.
function pressIn(row, selector) {
  const button = row.querySelector(selector);
  if (!button) return;
  if (window.htmx) window.htmx.process(row);
  button.click();
}

function rosterKeys(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
  const search = document.getElementById("roster-q");
  const rows = document.getElementById("roster-rows");
  if (!search || !rows) return; // not the roster
  const target = event.target instanceof Element ? event.target : null;
  if (target && target.closest(FIELD)) {
    if (target === search && event.key === "ArrowDown") {
      event.preventDefault();
      lineFocus(rosterLines()[0]);
    }
    return; // typing in a field is typing
  }
  const line = keyedLine();
  const key = event.key;
  if (key === "ArrowDown" || key === "ArrowUp") {
    const lines = rosterLines();
    if (!lines.length) return;
    event.preventDefault();
    closeMenus();
    const at = line ? lines.indexOf(line) : -1;
    if (key === "ArrowUp" && at <= 0) {
      if (at === 0) search.focus();
      return;
    }
    lineFocus(lines[key === "ArrowDown" ? Math.min(at + 1, lines.length - 1) : at - 1]);
  } else if (key === "Enter" && line && document.activeElement === line) {
    event.preventDefault(); // only the highlighted row: Enter on a button presses that button
    pressIn(line.parentElement, "button[name=status][value=ATTENDED]");
  } else if ((key === "c" || key === "C") && line) {
    event.preventDefault();
    pressIn(line.parentElement, "button.pay-cash");
  } else if (key === "Escape") {
    const open = document.querySelector("#roster-rows details.more[open], .roster-tools details.keys[open]");
    if (open) {
      open.open = false;
      open.querySelector("summary")?.focus();
    }
  } else if (key === "?") {
    const keys = document.querySelector("details.keys");
    if (keys) {
      event.preventDefault();
      keys.open = !keys.open;
    }
  } else if (key.length === 1 && /[\p{L}\p{N}@.+'-]/u.test(key)) {
    // Type to find: the filter box takes the key, and the roster filters as it does for typing.
    event.preventDefault();
    closeMenus();
    search.focus();
    search.value += key;
    search.dispatchEvent(new Event("input", { bubbles: true }));
  }
}
document.addEventListener("keydown", rosterKeys);

// A row answered (a tap, or Enter / "c" from the keyboard), or the refresh redrew it: if the keys
// were working on that row, they keep working on it — its new line is highlighted again, unless
// something else took the focus meanwhile (the part-payment prompt's amount, the filter box).
let keyedRowId = null;
function keepKeyedRow(container) {
  const line = keyedLine();
  if (line && container instanceof Element && container.contains(line)) keyedRowId = line.parentElement.id;
}
document.addEventListener("htmx:beforeRequest", (event) => keepKeyedRow(event.detail.elt?.closest?.("tbody.booking")));
document.addEventListener("htmx:beforeSwap", (event) => keepKeyedRow(event.detail.target));
document.addEventListener("htmx:oobBeforeSwap", (event) => keepKeyedRow(event.detail.target));
// (At once after the swap, before a key pressed next could find nothing highlighted.) When the
// whole list was drawn again without that row — the filter changed under an arrow already
// pressed — the keys go on from the first row.
function restoreKeyedRow(event) {
  if (!keyedRowId) return;
  const row = document.getElementById(keyedRowId);
  keyedRowId = null;
  const active = document.activeElement;
  if (active && active !== document.body) return;
  const redrawn = event.detail.target instanceof Element && event.detail.target.id === "roster-rows";
  const line = row ? row.querySelector(":scope > tr.info") : redrawn ? rosterLines()[0] : null;
  if (line) lineFocus(line);
}
document.addEventListener("htmx:oobAfterSwap", restoreKeyedRow);
document.addEventListener("htmx:afterSwap", restoreKeyedRow);
document.addEventListener("htmx:afterSettle", restoreKeyedRow);

// The letters: to the first row under that letter, in the rows' order as they are on the page
// (a walk-in added since sits at the top). From the keyboard, that row is highlighted too.
document.addEventListener("click", (event) => {
  const link = event.target instanceof Element ? event.target.closest(".letters a[data-letter]") : null;
  if (!link) return;
  const row = document.querySelector(`#roster-rows tbody.booking[data-letter="${CSS.escape(link.dataset.letter)}"]`);
  if (!row) return;
  event.preventDefault();
  const line = row.querySelector(":scope > tr.info");
  if (event.detail === 0) lineFocus(line, "start"); // Enter on the link
  else line.scrollIntoView({ block: "start" });
});

// A walk-in's row comes on its own, at the top: its letter, if new, becomes one to jump to.
document.addEventListener("htmx:load", (event) => {
  const row = event.target;
  if (!(row instanceof Element) || !row.matches("#roster-rows tbody.booking[data-letter]")) return;
  const letter = row.dataset.letter;
  const off = Array.from(document.querySelectorAll("#roster-rows .letters span")).find((s) => s.textContent === letter);
  if (!off) return;
  const link = document.createElement("a");
  link.href = `#letter-${letter}`;
  link.dataset.letter = letter;
  link.setAttribute("aria-label", `Surnames under ${letter}`);
  link.textContent = letter;
  off.replaceWith(link);
});

// A row's "⋯" menu: one open at a time, closed by a tap elsewhere; it opens upwards when the
// screen has no room below it.
document.addEventListener(
  "toggle",
  (event) => {
    const menu = event.target;
    if (!(menu instanceof HTMLDetailsElement) || !menu.matches("details.more") || !menu.open) return;
    closeMenus(menu);
    const list = menu.querySelector(".menu");
    menu.classList.remove("opens-up");
    if (list && list.getBoundingClientRect().bottom > window.innerHeight) menu.classList.add("opens-up");
  },
  true,
);
document.addEventListener("click", (event) => {
  if (!(event.target instanceof Element)) return;
  const inside = event.target.closest("details.more");
  closeMenus(inside);
  const keys = document.querySelector("details.keys[open]");
  if (keys && !keys.contains(event.target)) keys.open = false;
});

// The owes list: a person's box ticks all of their bookings; the bar counts what is ticked.
document.addEventListener("change", (event) => {
  const box = event.target;
  const form = box instanceof HTMLInputElement ? box.closest("[data-owes]") : null;
  if (!form) return;
  if (box.dataset.person) {
    form.querySelectorAll(`input[data-of="${box.dataset.person}"]`).forEach((b) => { b.checked = box.checked; });
  } else if (box.dataset.of) {
    const all = form.querySelectorAll(`input[data-of="${box.dataset.of}"]`);
    const person = form.querySelector(`input[data-person="${box.dataset.of}"]`);
    if (person) person.checked = [...all].every((b) => b.checked);
  }
  const count = form.querySelector("[data-selected-count]");
  if (count) count.textContent = String(form.querySelectorAll("input[name=booking]:checked").length);
});

// Cash-up: the notes and coins counted, added up as they are typed (the server adds them again).
function addUpPieces(form) {
  const out = form.querySelector("[data-pieces-total]");
  if (!out) return;
  let cents = 0;
  form.querySelectorAll("[data-piece]").forEach((input) => {
    const n = Number.parseInt(input.value, 10);
    if (n > 0) cents += n * Math.round(Number(input.dataset.piece) * 100);
  });
  out.textContent = (cents / 100).toFixed(2);
}
document.addEventListener("input", (event) => {
  const form = event.target instanceof HTMLInputElement ? event.target.closest("[data-cashup]") : null;
  if (form) addUpPieces(form);
});
document.addEventListener("DOMContentLoaded", () => document.querySelectorAll("[data-cashup]").forEach(addUpPieces));

// The owes list's range: typing a day makes it a custom range.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "date" || !input.closest(".owes-filters")) return;
  const select = input.form && input.form.elements.namedItem("range");
  if (select instanceof HTMLSelectElement) select.value = "custom";
});
