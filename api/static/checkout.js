// Checkout address form: keystroke autocomplete and verification, then where the
// address is: its coordinates and an offline SVG drawing of the known addresses around it.
// The form's fields go to /v1/verify as a structured address, not glued into one string.
// Every string from the server is shown with textContent, never as HTML.
"use strict";

const DEBOUNCE_MS = 120;
const MIN_CHARS = 3;
const API_KEY = new URLSearchParams(location.search).get("api_key");
// Autocomplete parameter -> the field whose value narrows the suggestions.
const NARROWING = { locality: "city", postcode: "postcode", country: "country" };

const $ = (id) => document.getElementById(id);
const addressInput = $("address");
const listbox = $("suggestions");
let suggestions = [];
let active = -1;
let debounceTimer = null;
let inflight = null;

function headers(extra = {}) {
  return API_KEY ? { ...extra, "X-API-Key": API_KEY } : extra;
}

function closeList() {
  listbox.hidden = true;
  listbox.replaceChildren();
  addressInput.setAttribute("aria-expanded", "false");
  addressInput.removeAttribute("aria-activedescendant");
  active = -1;
}

function renderList() {
  listbox.replaceChildren();
  if (!suggestions.length) { closeList(); return; }
  suggestions.forEach((s, i) => {
    const li = document.createElement("li");
    li.id = `suggestion-${i}`;
    li.setAttribute("role", "option");
    li.setAttribute("aria-selected", String(i === active));
    const text = document.createElement("span");
    text.textContent = s.address;
    const country = document.createElement("span");
    country.className = "country";
    country.textContent = s.country || "";
    li.append(text, country);
    li.addEventListener("mousedown", (e) => { e.preventDefault(); pick(i); });
    listbox.append(li);
  });
  listbox.hidden = false;
  addressInput.setAttribute("aria-expanded", "true");
  if (active >= 0) addressInput.setAttribute("aria-activedescendant", `suggestion-${active}`);
}

async function fetchSuggestions(prefix) {
  if (inflight) inflight.abort();  // a newer keystroke wins
  inflight = new AbortController();
  const params = new URLSearchParams({ q: prefix, limit: "5" });
  for (const [param, id] of Object.entries(NARROWING)) {
    const value = givenValue(id);
    if (value) params.set(param, value);
  }
  try {
    const response = await fetch(`/v1/autocomplete?${params}`, { signal: inflight.signal, headers: headers() });
    if (!response.ok) { suggestions = []; closeList(); return; }
    const body = await response.json();
    if (addressInput.value.trim() !== prefix) return;  // stale answer
    suggestions = body.suggestions || [];
    active = -1;
    renderList();
  } catch (error) {
    if (error.name !== "AbortError") closeList();
  }
}

addressInput.addEventListener("input", () => {
  clearTimeout(debounceTimer);
  const prefix = addressInput.value.trim();
  if (prefix.length < MIN_CHARS) { if (inflight) inflight.abort(); suggestions = []; closeList(); return; }
  debounceTimer = setTimeout(() => fetchSuggestions(prefix), DEBOUNCE_MS);
});

addressInput.addEventListener("keydown", (e) => {
  if (listbox.hidden || !suggestions.length) return;
  if (e.key === "ArrowDown") { e.preventDefault(); active = (active + 1) % suggestions.length; renderList(); }
  else if (e.key === "ArrowUp") { e.preventDefault(); active = (active - 1 + suggestions.length) % suggestions.length; renderList(); }
  else if (e.key === "Enter" && active >= 0) { e.preventDefault(); pick(active); }
  else if (e.key === "Escape") { closeList(); }
});
addressInput.addEventListener("blur", () => setTimeout(closeList, 100));

// What the shopper gave in a field; a value a picked suggestion filled in does not count,
// so that it does not hide the addresses of other towns when the shopper types again.
function givenValue(id) {
  const field = $(id);
  return field.dataset.picked ? "" : field.value.trim();
}
for (const id of Object.values(NARROWING)) {
  $(id).addEventListener("input", () => { delete $(id).dataset.picked; });
}

function streetLine(c, country) {
  const number = c.house_number || "";
  const road = c.road || "";
  // Street first, then the number, in most of Europe; number first in North America and the UK.
  const numberLast = ["IS", "DE", "NL", "DK", "NO", "SE", "FI", "AT", "CH", "ES", "IT", "PL"].includes(country);
  return (numberLast ? `${road} ${number}` : `${number} ${road}`).trim();
}

function titleCase(text) {
  return (text || "").replace(/(^|[\s-])(\p{L})/gu, (m, sep, ch) => sep + ch.toUpperCase());
}

function fill(candidate) {
  const c = candidate.components || {};
  const country = candidate.country || $("country").value;
  addressInput.value = candidate.address;
  $("street").value = titleCase(streetLine(c, country));
  $("unit").value = c.unit ? titleCase(c.unit) : "";
  $("city").value = titleCase(c.city || "");
  $("postcode").value = (c.postcode || "").toUpperCase();
  $("state").value = (c.state || "").length <= 3 ? (c.state || "").toUpperCase() : titleCase(c.state);
  if ([...$("country").options].some((o) => o.value === country)) $("country").value = country;
  for (const id of Object.values(NARROWING)) $(id).dataset.picked = "true";
}

function pick(index) {
  const chosen = suggestions[index];
  if (!chosen) return;
  fill(chosen);
  closeList();
  $("street").focus();
}

// The fields as verify's structured address: {lines, locality, region, postcode, country}.
// The street line is the street field, or what was typed in the address box; with no
// field filled at all, the typed text goes as it is.
function requestAddress() {
  const typed = addressInput.value.trim();
  const street = $("street").value.trim();
  const unit = $("unit").value.trim();
  const fields = {
    locality: $("city").value.trim(),
    region: $("state").value.trim(),
    postcode: $("postcode").value.trim(),
  };
  const line = street || typed;
  if (!line || !(street || unit || Object.values(fields).some(Boolean))) return typed;
  const address = { lines: [line, unit].filter(Boolean) };
  for (const [name, value] of Object.entries(fields)) if (value) address[name] = value;
  if ($("country").value) address.country = $("country").value;
  return address;
}

const ACTION_TEXT = {
  accept: "Looks deliverable.",
  confirm: "Please confirm this is right.",
  fix: "Please correct the address.",
};
const OUTSIDE_COVERAGE = "We have no address list for this area, so this exact address could not be "
  + "confirmed. We checked its format and that the town and postcode go together.";
const EXTRA_LABELS = {
  recipient: "name", company: "company", phone: "phone", email: "email", url: "website",
  instructions: "note",
};

// "Taken out of the address: phone 555-0134, note “leave at back door”", or "" for none.
function extrasText(extras) {
  const parts = Object.entries(extras || {}).map(([kind, value]) =>
    kind === "instructions" ? `note “${value}”` : `${EXTRA_LABELS[kind] || kind} ${value}`);
  return parts.length ? `Taken out of the address: ${parts.join(", ")}` : "";
}

function showLine(id, text) {
  $(id).textContent = text;
  $(id).hidden = !text;
}

const PRECISION_WORDS = {
  premise: "exact point",
  street: "on the street",
  postcode: "postcode area",
  locality: "town",
};
const SVG = "http://www.w3.org/2000/svg";
const DRAWING = { width: 320, height: 200, margin: 24 };
const SCALE_STEPS_M = [10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

function svgNode(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

// Metres east and north of the centre: flat-earth, fine within a few kilometres.
function metresFrom(centre, point) {
  const east = (point.lon - centre.lon) * 111320 * Math.cos((centre.lat * Math.PI) / 180);
  const north = (point.lat - centre.lat) * 110540;
  return [east, north];
}

// The known addresses around `here` as dots, `here` highlighted, with a scale bar in metres.
function drawNearby(here, points) {
  const drawing = $("drawing");
  const { width, height, margin } = DRAWING;
  const offsets = points.map((p) => ({ point: p, at: metresFrom(here, p) }));
  const reach = Math.max(25, ...offsets.map(({ at }) => Math.max(Math.abs(at[0]), Math.abs(at[1]))));
  const perMetre = (height / 2 - margin) / reach;
  const place = ([east, north]) => [width / 2 + east * perMetre, height / 2 - north * perMetre];
  const nodes = offsets.map(({ point, at }) => {
    const [x, y] = place(at);
    const dot = svgNode("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 3, class: "known" });
    const title = svgNode("title", {});
    title.textContent = point.address;
    dot.append(title);
    return dot;
  });
  const [hx, hy] = place([0, 0]);
  nodes.push(svgNode("circle", { cx: hx, cy: hy, r: 11, class: "here-ring" }));
  nodes.push(svgNode("circle", { cx: hx, cy: hy, r: 6, class: "here", "data-here": "true" }));
  const metres = [...SCALE_STEPS_M].reverse().find((m) => m * perMetre <= width / 3) || SCALE_STEPS_M[0];
  const length = metres * perMetre;
  const y = height - 12;
  nodes.push(svgNode("line", { x1: 12, y1: y, x2: (12 + length).toFixed(1), y2: y, class: "scale" }));
  const label = svgNode("text", { x: 12, y: y - 5, class: "scale-label" });
  label.textContent = `${metres} m`;
  nodes.push(label);
  drawing.replaceChildren(...nodes);
  $("drawing-box").hidden = false;
}

async function showLocation(location) {
  $("where").hidden = !location;
  $("drawing-box").hidden = true;
  if (!location) return;
  const words = PRECISION_WORDS[location.precision] || location.precision;
  $("location").textContent = `${location.lat.toFixed(5)}, ${location.lon.toFixed(5)} (${words})`;
  const params = new URLSearchParams({ lat: location.lat, lon: location.lon, limit: "60" });
  try {
    const response = await fetch(`/v1/nearby?${params}`, { headers: headers() });
    if (response.ok) drawNearby(location, (await response.json()).points || []);
  } catch (error) {
    // No drawing without the service; the coordinates stay.
  }
}

function showResult(body) {
  $("result").hidden = false;
  const badge = $("verdict");
  badge.textContent = body.verdict;
  badge.className = `badge ${body.verdict}`;
  $("action").textContent = ACTION_TEXT[body.next_action] || "";
  $("standardized").textContent = body.verdict === "invalid" ? "" : body.standardized || "";
  showLine("coverage", body.coverage === "outside" ? OUTSIDE_COVERAGE : "");
  showLine("extras", extrasText(body.extras));
  const reasons = $("reasons");
  reasons.replaceChildren(...(body.messages || body.reasons || []).map((m) => {
    const li = document.createElement("li"); li.textContent = m; return li;
  }));
  const alternatives = $("alternatives");
  const items = (body.suggestions || []).filter((s) => !body.match || s.id !== body.match.id);
  alternatives.replaceChildren(...items.map((s) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = s.address;
    button.addEventListener("click", () => { fill(s); verify(); });
    li.append(button);
    return li;
  }));
  $("did-you-mean").hidden = items.length === 0;
  showLocation(body.verdict === "invalid" ? null : body.location);
}

async function verify() {
  const button = $("verify");
  button.disabled = true;
  try {
    const response = await fetch("/v1/verify", {
      method: "POST",
      headers: headers({ "Content-Type": "application/json" }),
      body: JSON.stringify({ address: requestAddress(), country: $("country").value || null }),
    });
    const body = await response.json();
    if (response.ok) showResult(body);
    else showResult({ verdict: "invalid", next_action: "fix", messages: [body.error || "Please enter an address."] });
  } catch (error) {
    showResult({ verdict: "uncertain", next_action: "confirm", messages: ["The address service is unreachable; try again."] });
  } finally {
    button.disabled = false;
  }
}

$("checkout").addEventListener("submit", (e) => { e.preventDefault(); verify(); });
