/**
 * Escapes text for XML content and attribute values.
 *
 * @example
 * escapeXml('a < b & "c"'); // 'a &lt; b &amp; &quot;c&quot;'
 */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

/** Markup made by `el`, kept apart from plain strings so it is not escaped twice. */
export interface Xml {
  /** The markup text. */
  xml: string;
}

/** An attribute value: numbers are rounded to 0.1 px; `undefined` leaves the attribute out. */
export type AttrValue = string | number | undefined;

/**
 * One XML element as a string; attribute values and text children are escaped, element
 * children (made by `el`) are passed as `{ xml }`.
 *
 * @example
 * el('text', { x: 1, fill: 'red' }, '2.2').xml;  // '<text x="1" fill="red">2.2</text>'
 * el('g', {}, el('circle', { r: 20 })).xml;       // '<g><circle r="20"/></g>'
 */
export function el(tag: string, attrs: Record<string, AttrValue>, ...children: (string | Xml)[]): Xml {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? Math.round(v * 10) / 10 : escapeXml(v!)}"`)
    .join('');
  const body = children.map((c) => (typeof c === 'string' ? escapeXml(c) : c.xml)).join('');
  return { xml: children.length ? `<${tag}${a}>${body}</${tag}>` : `<${tag}${a}/>` };
}
