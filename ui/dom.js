// Building the page from data without ever parsing data as markup: every value becomes a text
// node or an attribute value, so a tenant name or violation message holding `<script>` shows
// as those characters. Formatting is fixed-point and locale-free, so what the page shows is
// the same figure on every machine.

/**
 * An element with attributes (`class`, `data-*`, ...) and children (strings become text
 * nodes; null and false are skipped). Event handlers are attached by the caller.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (/^on|^style$/i.test(name)) throw new Error(`el(): ${name} is not set through attributes`);
    node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace a node's children. */
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
}

/** A table: `columns` are header labels (or {label, numeric}), `rows` arrays of cells or <tr>s. */
export function table(columns, rows, attrs = {}) {
  const head = el('tr', {}, columns.map((c) => (typeof c === 'string' ? el('th', { scope: 'col' }, c) : el('th', { scope: 'col', class: c.numeric ? 'num' : null }, c.label))));
  const body = rows.map((r) => (r instanceof Node ? r : el('tr', {}, r.map((cell) => (cell instanceof Node && cell.tagName === 'TD' ? cell : el('td', {}, cell))))));
  return el('div', { class: 'table-wrap' }, el('table', attrs, el('thead', {}, head), el('tbody', {}, body)));
}

/** A numeric cell, right-aligned; `figure` names it for tests and scripts. */
export function num(text, figure) {
  return el('td', { class: 'num', 'data-figure': figure }, text);
}

const TONES = {
  ok: 'good',
  intact: 'good',
  ticket: 'warn',
  page: 'bad',
  broken: 'bad',
  truncated: 'bad',
  critical: 'bad',
  high: 'bad',
  medium: 'warn',
  low: 'info',
  info: 'info',
  open: 'warn',
  resolved: 'good',
  met: 'good',
  'not met': 'bad',
  success: 'good',
  'within RPO': 'good',
  'over RPO': 'bad',
  failure: 'bad',
};

/** A status badge coloured by what the status means. */
export function badge(status, figure) {
  const text = String(status);
  return el('span', { class: `badge badge-${TONES[text] ?? 'neutral'}`, 'data-figure': figure }, text);
}

/** `0.9991` as `99.91%` with `digits` decimals; null as an em dash. */
export function percent(x, digits) {
  return x === null || x === undefined ? '—' : `${(x * 100).toFixed(digits)}%`;
}

/** A number with `digits` decimals; null as an em dash. */
export function fixed(x, digits) {
  return x === null || x === undefined ? '—' : x.toFixed(digits);
}

/** An amount of money with its currency code. */
export function money(x, currency) {
  return `${currency} ${x.toFixed(2)}`;
}

/** An RFC 3339 time as `YYYY-MM-DD HH:MM UTC`. */
export function utc(iso) {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC` : '—';
}

/** A [from, to) run of minutes, short when it stays within one day. */
export function span(w) {
  const to = w.to.slice(0, 10) === w.from.slice(0, 10) ? w.to.slice(11, 16) : utc(w.to).replace(' UTC', '');
  return `${utc(w.from).replace(' UTC', '')} – ${to} UTC (${w.minutes} min)`;
}
