/** Small DOM helpers shared by the page's parts. */

/** The element with this id, checked to be of the expected kind. */
export function byId<T extends HTMLElement>(id: string, kind: { new (): T; prototype: T }): T {
  const el = document.getElementById(id);
  if (!(el instanceof kind)) throw new Error(`the page has no <${kind.name}> with id '${id}'`);
  return el;
}

/** A new element with attributes and text or child elements. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  el.append(...children);
  return el;
}

/** Shows `message` in an error element tied to `input` (aria-invalid), or clears it with null. */
export function setError(input: HTMLElement | null, box: HTMLElement, message: string | null): void {
  box.textContent = message ?? '';
  box.hidden = message === null;
  if (input) {
    if (message === null) input.removeAttribute('aria-invalid');
    else input.setAttribute('aria-invalid', 'true');
  }
}

/**
 * SVG markup with its ids (the arrowheads' markers) made unique with `prefix`: a page with
 * several pictures must not share one marker, which stops drawing once its picture is hidden.
 */
export function uniqueSvgIds(svg: string, prefix: string): string {
  return svg.replace(/id="([^"]+)"/g, `id="${prefix}-$1"`).replace(/url\(#([^)]+)\)/g, `url(#${prefix}-$1)`);
}

/**
 * A number box for a whole number from `min` to `max`: `onChange` gets each valid value as it
 * is typed; anything else marks the box invalid and changes nothing.
 */
export function wholeNumberInput(id: string, min: number, max: number, value: number, onChange: (v: number) => void): HTMLInputElement {
  const input = h('input', { id, type: 'number', min: String(min), max: String(max), step: '1', value: String(value) });
  input.addEventListener('input', () => {
    const v = Number(input.value);
    const ok = input.value.trim() !== '' && Number.isInteger(v) && v >= min && v <= max;
    if (ok) input.removeAttribute('aria-invalid');
    else input.setAttribute('aria-invalid', 'true');
    if (ok) onChange(v);
  });
  return input;
}

/**
 * Scales the picture in `view` to the view's width, between 0.75× (text still readable on a
 * phone) and 1.5× (a small graph on a wide screen); a picture wider than that scrolls sideways.
 */
export function fitToWidth(view: HTMLElement): void {
  const svg = view.querySelector('svg');
  if (!svg) return;
  const width = Number(svg.getAttribute('width')), height = Number(svg.getAttribute('height'));
  const scale = Math.max(0.75, Math.min(1.5, (view.clientWidth - 12) / width));
  svg.setAttribute('width', String(Math.round(width * scale)));
  svg.setAttribute('height', String(Math.round(height * scale)));
}
