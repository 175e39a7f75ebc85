/**
 * The page's state in its address, so a learner can send exactly what they see:
 * `?s=sigmoid&sigmoid.x=1&lang=zh`. Inputs replace the current history entry; moving to another
 * section pushes one, so the browser's back and forward move between sections.
 */

/** The state, as the address has it. Kept here and written to the address on every change. */
const params = new URLSearchParams(location.search);

/** A value of the state, or null. */
export function getParam(key: string): string | null {
  return params.get(key);
}

/** Sets (or with null, removes) a value and updates the address without a new history entry. */
export function setParam(key: string, value: string | null): void {
  if (value === null) params.delete(key);
  else params.set(key, value);
  history.replaceState(history.state, '', address());
}

/** Sets the section and adds a history entry for it (the back button returns here). */
export function pushSection(section: string): void {
  if (params.get('s') === section) return;
  params.set('s', section);
  history.pushState({ section }, '', address());
}

/**
 * Calls `show` with the section when the browser moves back or forward; the other values (the
 * inputs) stay as they are now, and the address says so.
 */
export function onSectionPop(show: (section: string | null) => void): void {
  window.addEventListener('popstate', () => {
    const section = new URLSearchParams(location.search).get('s');
    if (section === null) params.delete('s');
    else params.set('s', section);
    history.replaceState(history.state, '', address());
    show(section);
  });
}

/** The address of the current state. */
export function address(): string {
  const query = params.toString().replace(/%2C/g, ',').replace(/%3B/g, ';').replace(/%3A/g, ':');
  return `${location.pathname}${query ? `?${query}` : ''}${location.hash}`;
}

/**
 * A matrix as text for the address: rows separated by ';', values by ','.
 *
 * @example
 * formatMatrix([[1, -0.5], [-2, 3]]); // '1,-0.5;-2,3'
 */
export function formatMatrix(rows: readonly (readonly number[])[]): string {
  return rows.map((r) => r.join(',')).join(';');
}

/**
 * Reads `formatMatrix`'s text back, or null if it is not a rows × cols matrix of finite numbers
 * (any number of rows from minRows to maxRows when `rows` is a range).
 */
export function parseMatrix(text: string | null, rows: number | [number, number], cols: number): number[][] | null {
  if (text === null) return null;
  const m = text.split(';').map((r) => r.split(',').map(Number));
  const [lo, hi] = typeof rows === 'number' ? [rows, rows] : rows;
  if (m.length < lo || m.length > hi || m.some((r) => r.length !== cols || r.some((v) => !Number.isFinite(v)))) return null;
  return m;
}

/** A whole number from the address between min and max, or `fallback`. */
export function getWhole(key: string, min: number, max: number, fallback: number): number {
  const text = params.get(key);
  const v = Number(text);
  return text !== null && /^\d+$/.test(text) && v >= min && v <= max ? v : fallback;
}
