// The Tally console (docs/console.md): sessions board, pick list, session
// detail with time travel and the chain check, invoices. Plain JavaScript,
// no build step, nothing fetched from anywhere but this server; live over
// /v1/stream, never polling.
"use strict";

const $ = (sel, el = document) => el.querySelector(sel);
const state = {
  token: sessionStorage.getItem("tally.token") || "",
  claims: null,
  skew: 0,              // server time - local time, from Tally-Server-Time
  ws: null,
  channels: new Set(),  // what the current page listens to
  after: null,          // the last position seen: a reconnect resumes from it
  onMessage: null,
  ticker: null,
};

// ---- helpers -------------------------------------------------------------

function esc(s) {
  return String(s ?? "").replace(/[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}
function money(cents) { return cents == null ? "" : (cents / 100).toFixed(2); }
function claimsOf(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(decodeURIComponent(escape(atob(part))));
  } catch (e) {
    return null;
  }
}
function roles() { return (state.claims && state.claims.roles) || []; }
function can(...wanted) { return roles().some((r) => wanted.includes(r)); }
function serverNow() { return Date.now() + state.skew; }
function elapsedSeconds(from) { return Math.max(0, Math.floor((serverNow() - Date.parse(from)) / 1000)); }
function clock(seconds) {
  const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}
function when(t) { return t ? new Date(t).toLocaleString() : ""; }

// Calls the API; a problem (RFC 9457) becomes an Error whose message is its detail.
async function api(method, path, body, headers = {}) {
  const init = { method, headers: { Authorization: `Bearer ${state.token}`, ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const t = res.headers.get("Tally-Server-Time");
  if (t) state.skew = Date.parse(t) - Date.now();
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!res.ok) {
    const err = new Error((data && (data.detail || data.title)) || `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  return { data, position: res.headers.get("Tally-Position") };
}

function showProblem(err) {
  const p = $("#problem");
  p.textContent = err ? err.message || String(err) : "";
  p.hidden = !err;
}
// Runs an action from a button or form: its errors are shown, never thrown away.
async function act(fn) {
  try {
    showProblem(null);
    await fn();
  } catch (err) {
    showProblem(err);
  }
}

// ---- the live stream -----------------------------------------------------

function setLive(on) {
  const el = $("#live");
  el.textContent = on ? "live" : "offline";
  el.classList.toggle("on", on);
}

function openStream() {
  if (!state.token || state.ws) return;
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/v1/stream?access_token=${encodeURIComponent(state.token)}`);
  state.ws = ws;
  ws.onopen = () => {
    setLive(true);
    if (state.channels.size) {
      const msg = { op: "subscribe", channels: [...state.channels] };
      if (state.after) msg.after = state.after;  // no gap after a reconnect
      ws.send(JSON.stringify(msg));
    }
  };
  ws.onmessage = (ev) => {
    let m;
    try { m = JSON.parse(ev.data); } catch (e) { return; }
    if (m.op === "error") return showProblem(new Error(m.detail || m.code));
    if (m.op) return;
    if (m.position) state.after = m.position;
    if (state.onMessage) state.onMessage(m);
  };
  ws.onclose = () => {
    setLive(false);
    if (state.ws === ws) state.ws = null;
    if (state.token) setTimeout(openStream, 2000);
  };
}

// What the page listens to: the stream subscribes to exactly these channels.
function listen(channels, onMessage) {
  const want = new Set(channels);
  const ws = state.ws;
  const open = ws && ws.readyState === WebSocket.OPEN;
  const gone = [...state.channels].filter((c) => !want.has(c));
  const added = [...want].filter((c) => !state.channels.has(c));
  state.channels = want;
  state.onMessage = onMessage;
  state.after = null;
  if (!open) return openStream();
  if (gone.length) ws.send(JSON.stringify({ op: "unsubscribe", channels: gone }));
  if (added.length) ws.send(JSON.stringify({ op: "subscribe", channels: added }));
}

// Coalesces a burst of messages into one refresh.
function debounce(fn, ms = 150) {
  let t = null;
  return () => { clearTimeout(t); t = setTimeout(() => act(fn), ms); };
}

// ---- pages ---------------------------------------------------------------

async function signInPage(main) {
  main.innerHTML = `
    <h1>Sign in</h1>
    <p class="muted">Paste a token (<code>tally token --tenant T --role host</code>). It is kept in
    this tab's session storage only.</p>
    <form id="sign-in"><textarea id="token" placeholder="eyJ…" required></textarea>
    <p><button class="primary" type="submit">Sign in</button></p></form>`;
  $("#sign-in").onsubmit = (ev) => {
    ev.preventDefault();
    act(async () => {
      const token = $("#token").value.trim();
      const claims = claimsOf(token);
      if (!claims) throw new Error("That is not a token: it should look like eyJ…");
      state.token = token;
      state.claims = claims;
      await api("GET", "/v1/audit/key");  // any role: checks the token
      sessionStorage.setItem("tally.token", token);
      location.hash = can("warehouse") && !can("admin", "host") ? "#/picklist" : "#/sessions";
      route();
    }).then(() => { if (!$("#problem").hidden) { state.token = ""; state.claims = null; } });
  };
}

async function sessionsPage(main) {
  main.innerHTML = `
    <h1>Active sessions</h1>
    ${can("admin", "host") ? `<form class="inline no-print" id="start">
      <label>Kind<select id="kind"><option>metered</option><option>shopping</option></select></label>
      <label>Customer<select id="customer"></select></label>
      <label>Resource<select id="resource"><option value="">(none)</option></select></label>
      <button class="primary" type="submit">Start session</button></form>` : ""}
    <table><thead><tr><th>Customer</th><th>Kind</th><th class="opt">Resource</th>
      <th>Elapsed</th><th class="num">Running cost</th><th></th></tr></thead>
    <tbody id="rows"></tbody></table>`;
  if (can("admin", "host")) {
    const [customers, resources] = await Promise.all([
      api("GET", "/v1/customers?limit=500"), api("GET", "/v1/resources?limit=500")]);
    $("#customer").innerHTML = customers.data.items
      .map((c) => `<option value="${esc(c.customer_id)}">${esc(c.name)}</option>`).join("");
    $("#resource").innerHTML += resources.data.items
      .map((r) => `<option value="${esc(r.resource_id)}">${esc(r.name)}</option>`).join("");
    $("#start").onsubmit = (ev) => {
      ev.preventDefault();
      act(async () => {
        const body = { kind: $("#kind").value, customer_id: $("#customer").value };
        if ($("#resource").value) body.resource_id = $("#resource").value;
        await api("POST", "/v1/sessions", body);
      });
    };
  }
  let rows = [];
  const render = () => {
    $("#rows").innerHTML = rows.map((s) => `
      <tr data-id="${esc(s.session_id)}">
        <td><a href="#/session/${encodeURIComponent(s.session_id)}">${esc(s.customer.name)}</a></td>
        <td>${esc(s.kind)}</td><td class="opt">${esc(s.resource ? s.resource.name : "")}</td>
        <td class="elapsed" data-from="${esc(s.started_at)}"></td>
        <td class="num cost" data-items="${s.items_total_cents}"
            data-rate="${s.resource ? s.resource.hourly_rate_cents : 0}"></td>
        <td>${can("admin", "host") ? `<button class="danger end" type="button">End</button>` : ""}</td>
      </tr>`).join("") || `<tr><td colspan="6" class="muted">No active sessions.</td></tr>`;
    tick();
  };
  // Elapsed time and running cost tick from the server's clock: the time
  // charge so far (per started minute of the hourly rate) and the items.
  const tick = () => {
    for (const td of document.querySelectorAll("td.elapsed")) {
      const secs = elapsedSeconds(td.dataset.from);
      td.textContent = clock(secs);
      const cost = td.parentElement.querySelector("td.cost");
      const rate = Number(cost.dataset.rate);
      const timeCharge = Math.ceil(secs / 60) * rate / 60;
      cost.textContent = money(Math.round(Number(cost.dataset.items) + timeCharge));
    }
  };
  const refresh = async () => {
    rows = (await api("GET", "/v1/sessions/active?limit=500")).data.items;
    render();
  };
  $("#rows").onclick = (ev) => {
    const button = ev.target.closest("button.end");
    if (!button) return;
    const id = button.closest("tr").dataset.id;
    act(() => api("POST", `/v1/sessions/${encodeURIComponent(id)}/end`, {}));
  };
  state.ticker = setInterval(tick, 250);
  listen(["sessions"], debounce(refresh));
  await refresh();
}

async function picklistPage(main) {
  main.innerHTML = `<h1>Pick list</h1><div id="alerts"></div><div id="orders"></div>`;
  let sessions = [];
  const alerts = new Map();  // line id: what sold out (a line is alerted once)
  const render = () => {
    $("#alerts").innerHTML = [...alerts.values()].reverse()
      .map((a) => `<div class="alert">Sold out: ${esc(a)}</div>`).join("");
    $("#orders").innerHTML = sessions.map((s) => `
      <section class="card" data-session="${esc(s.session_id)}">
        <h3>${esc(s.customer_name)} <span class="muted">${esc(s.session_id.slice(0, 8))} · ${esc(s.status)}</span></h3>
        ${s.lines.map((l) => `
          <div class="line" data-line="${esc(l.line_id)}" data-remaining="${l.remaining}">
            <span class="where">${esc(l.location || "—")}</span>
            <span class="what">${esc(l.name)} × ${l.remaining}
              ${l.picked_quantity ? `<span class="muted picked">(${l.picked_quantity} picked${l.picked_by
                ? ` by ${esc(l.picked_by.name || l.picked_by.user_id)}` : ""}${l.picked_at ? ` at ${when(l.picked_at)}` : ""})</span>` : ""}</span>
            <button class="primary pick" type="button">Pick</button>
            <button class="short" type="button">Short pick</button>
          </div>`).join("")}
      </section>`).join("") || `<p class="muted">Nothing to pick.</p>`;
  };
  const refresh = async () => {
    sessions = (await api("GET", "/v1/picklist")).data.sessions;
    render();
    const channels = ["picklist"];
    if (can("admin", "host")) for (const s of sessions) channels.push(`session:${s.session_id}`);
    listen(channels, onMessage);
  };
  const later = debounce(refresh, 50);
  // Sold out: the session's alert (admin, host), or the pick list's removal
  // of a line for that reason (everyone who picks).
  const onMessage = (m) => {
    const soldOut = m.line && ((m.type === "alert" && m.code === "sold_out") ||
      (m.type === "picklist.line_removed" && m.line.reason === "sold_out"));
    if (soldOut && !alerts.has(m.line.line_id)) {
      alerts.set(m.line.line_id, `${m.line.name} × ${m.line.quantity} taken back for session ${m.line.session_id.slice(0, 8)}`);
      render();
    }
    if (m.channel === "picklist") later();
  };
  $("#orders").onclick = (ev) => {
    const button = ev.target.closest("button");
    if (!button) return;
    const line = button.closest(".line"), session = button.closest("section").dataset.session;
    let quantity = Number(line.dataset.remaining);
    if (button.classList.contains("short")) {
      const got = prompt(`How many were there? (of ${quantity})`, String(Math.max(0, quantity - 1)));
      if (got === null) return;
      quantity = Number(got);
    }
    act(() => api("POST", `/v1/sessions/${encodeURIComponent(session)}/items/${encodeURIComponent(line.dataset.line)}/pick`, { quantity }));
  };
  await refresh();
}

async function sessionPage(main, id) {
  const path = `/v1/sessions/${encodeURIComponent(id)}`;
  // Time travel is for admins and auditors (API.md's roles).
  const travels = can("admin", "auditor");
  main.innerHTML = `<h1>Session</h1><div id="detail"></div>
    ${travels ? `<h2>Timeline</h2><div class="timeline"><input id="slider" type="range" min="1" step="1">
    <div id="at" class="muted"></div><ol id="events"></ol></div>` : ""}
    ${can("admin", "auditor") ? `<h2>Audit</h2><p><button id="check" type="button">Check the hash chain</button>
      <span id="chain"></span></p>` : ""}`;
  let latest = null;
  const show = (s, asOf) => {
    $("#detail").innerHTML = `
      <p><strong>${esc(s.customer.name)}</strong> · ${esc(s.kind)} · ${esc(s.status)}
        ${s.outcome ? `(${esc(s.outcome)})` : ""} · version ${s.version}
        ${asOf ? `<span class="muted"> — as it was at version ${asOf}</span>` : ""}</p>
      <p class="muted">${s.host_name || s.host_id ? `Host ${esc(s.host_name || s.host_id)} · ` : ""}Started ${when(s.started_at)} ${s.ended_at ? `· ended ${when(s.ended_at)}` : ""}
        ${s.invoice_id ? `· <a href="#/invoice/${encodeURIComponent(s.invoice_id)}">invoice</a>` : ""}</p>
      ${s.kind === "appointment" && s.scheduled_start ? `<p id="window">Scheduled ${when(s.scheduled_start)} for ${s.duration_minutes} min
        · join from ${when(s.join_opens_at)} · no-show from ${when(s.no_show_allowed_from)}
        ${s.min_payable_until ? `· payable in full from ${when(s.min_payable_until)}` : ""}
        ${s.joinable ? `· <strong class="ok">joinable now</strong>` : ""}
        ${s.absent_party ? `· absent: ${esc(s.absent_party)}` : ""}</p>` : ""}
      <table><thead><tr><th>Item</th><th class="num">Qty</th><th class="num">Picked</th>
        <th class="num">Unit</th><th class="num">Total</th></tr></thead><tbody>
      ${s.lines.map((l) => `<tr><td>${esc(l.name)}</td><td class="num">${l.quantity}</td>
        <td class="num" title="${l.picked_by ? `by ${esc(l.picked_by.name || l.picked_by.user_id)} at ${when(l.picked_at)}` : ""}">${l.picked_quantity}</td><td class="num">${money(l.unit_price_cents)}</td>
        <td class="num">${money(l.line_total_cents)}</td></tr>`).join("") ||
        `<tr><td colspan="5" class="muted">No items.</td></tr>`}
      </tbody></table>
      <h2>Charges</h2>${s.charges.map((c) => `<p>${money(c.amount_cents)} · ${esc(c.reason)} · ${when(c.charged_at)}</p>`).join("") || `<p class="muted">None yet.</p>`}
      <p>Paid ${money(s.paid_cents)} · due ${money(s.amount_due_cents)}${s.paid_at ? ` · paid ${when(s.paid_at)}` : ""}
        ${s.refund_due_cents ? `· <strong class="bad" id="refund-due">refund due ${money(s.refund_due_cents)}</strong>` : ""}</p>
      <h2>Notes</h2>${s.notes.map((n) => `<p>${esc(n.text)} <span class="muted">— ${esc(n.author_name || n.author_id)}</span></p>`).join("") || `<p class="muted">None.</p>`}`;
  };
  const refresh = async () => {
    latest = (await api("GET", path)).data;
    if (!travels) return show(latest);
    const events = (await api("GET", `${path}/events?limit=500`)).data.items;
    $("#events").innerHTML = events.map((e) => `<li>${esc(e.type)} <span class="muted">${when(e.time)} · ${esc(e.actorname || e.actor)}</span></li>`).join("");
    const slider = $("#slider");
    slider.max = String(latest.version);
    slider.value = String(latest.version);
    $("#at").textContent = `version ${latest.version} of ${latest.version}`;
    show(latest);
  };
  // Time travel: the session as it was at any version.
  if (travels) $("#slider").oninput = debounce(async () => {
    const v = Number($("#slider").value);
    $("#at").textContent = `version ${v} of ${latest.version}`;
    if (v === latest.version) return show(latest);
    show((await api("GET", `${path}?version=${v}`)).data, v);
  }, 100);
  if ($("#check")) {
    $("#check").onclick = () => act(async () => {
      const r = (await api("GET", "/v1/audit/verify")).data;
      $("#chain").innerHTML = r.ok
        ? `<span class="ok">The chain holds: ${r.events} events, head ${esc(r.head.slice(0, 16))}…</span>`
        : `<span class="bad">Broken at ${esc(r.position)}: ${esc(r.reason)}</span>`;
    });
  }
  listen([`session:${id}`], debounce(refresh));
  await refresh();
}

async function invoicesPage(main) {
  main.innerHTML = `<h1>Invoices and credit notes</h1><table><thead><tr><th>Number</th><th>Customer</th>
    <th class="opt">Issued</th><th class="num">Total</th><th class="num">Paid</th></tr></thead><tbody id="rows"></tbody></table>`;
  const items = (await api("GET", "/v1/invoices?limit=200")).data.items;
  $("#rows").innerHTML = items.map((i) => `<tr>
      <td><a href="#/invoice/${encodeURIComponent(i.invoice_id)}">${esc(i.number)}</a> <span class="muted">${esc(i.kind)}</span></td>
      <td>${esc(i.customer_name)}</td><td class="opt">${when(i.issued_at)}</td>
      <td class="num">${money(i.total_cents)} ${esc(i.currency)}</td><td class="num">${money(i.paid_cents)}${i.payment_status ? ` <span class="muted">${esc(i.payment_status)}</span>` : ""}</td></tr>`).join("")
    || `<tr><td colspan="5" class="muted">No invoices yet.</td></tr>`;
  listen([], null);
}

async function invoicePage(main, id) {
  const i = (await api("GET", `/v1/invoices/${encodeURIComponent(id)}`)).data;
  main.innerHTML = `<article class="invoice">
    <p class="no-print"><button id="print" type="button">Print</button></p>
    <h1>${i.kind === "credit_note" ? "Credit note" : "Invoice"} ${esc(i.number)}</h1>
    <p>${esc(i.customer_name)}<br><span class="muted">Issued ${when(i.issued_at)}</span></p>
    ${i.credits ? `<p class="muted">Credits invoice ${esc(i.credits)}</p>` : ""}
    <table><thead><tr><th>Description</th><th class="num">Qty</th><th class="num">Unit</th><th class="num">Amount</th></tr></thead>
    <tbody>${i.lines.map((l) => `<tr><td>${esc(l.description)}</td><td class="num">${l.quantity}</td>
      <td class="num">${money(l.unit_price_cents)}</td><td class="num">${money(l.amount_cents)}</td></tr>`).join("")}</tbody>
    <tfoot><tr><th colspan="3">Total</th><th class="num">${money(i.total_cents)} ${esc(i.currency)}</th></tr>
    <tr><td colspan="3">Paid</td><td class="num">${money(i.paid_cents)}</td></tr></tfoot></table></article>`;
  $("#print").onclick = () => window.print();
  listen([], null);
}

// ---- routing -------------------------------------------------------------

async function route() {
  clearInterval(state.ticker);
  state.ticker = null;
  const main = $("#main");
  state.claims = state.token ? claimsOf(state.token) : null;
  $("#nav").hidden = !state.claims;
  $("#who").textContent = state.claims ? `${state.claims.tenant} · ${roles().join(", ")}` : "";
  if (!state.claims) return signInPage(main);
  const [, page = "sessions", id] = location.hash.split("/");
  for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("current", a.dataset.page === page);
  showProblem(null);
  try {
    if (page === "picklist") await picklistPage(main);
    else if (page === "session") await sessionPage(main, decodeURIComponent(id));
    else if (page === "invoices") await invoicesPage(main);
    else if (page === "invoice") await invoicePage(main, decodeURIComponent(id));
    else await sessionsPage(main);
  } catch (err) {
    showProblem(err);
  }
}

$("#sign-out").onclick = () => {
  sessionStorage.removeItem("tally.token");
  state.token = "";
  if (state.ws) state.ws.close();
  location.hash = "";
  route();
};
window.addEventListener("hashchange", route);
route();
