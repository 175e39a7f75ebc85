/**
 * The guided walk through chapter 5: one section on screen at a time, a table of contents,
 * "previous" and "next" at the end of each section, and the section in the address (`?s=relu`)
 * so the browser's back and forward move between sections.
 */
import { byId, h } from '../dom.js';
import { type TextKey, onLangChange, t } from '../i18n/index.js';
import { getParam, onSectionPop, pushSection, setParam } from '../url.js';

/** The sections in the chapter's order: their element id and their short name in the contents. */
export const SECTIONS = [
  { id: 'graph', toc: 'tocGraph' },
  { id: 'chain', toc: 'tocChain' },
  { id: 'nodes', toc: 'tocNodes' },
  { id: 'layers', toc: 'tocLayers' },
  { id: 'relu', toc: 'tocRelu' },
  { id: 'sigmoid', toc: 'tocSigmoid' },
  { id: 'affine', toc: 'tocAffine' },
  { id: 'batch', toc: 'tocBatch' },
  { id: 'softmax', toc: 'tocSoftmax' },
  { id: 'net', toc: 'tocNet' },
  { id: 'gradcheck', toc: 'tocGradcheck' },
  { id: 'train', toc: 'tocTrain' },
  { id: 'draw', toc: 'tocDraw' },
] as const satisfies readonly { id: string; toc: TextKey }[];
export type SectionId = (typeof SECTIONS)[number]['id'];

const isSection = (s: string | null): s is SectionId => SECTIONS.some((x) => x.id === s);

export function setupWalk(): void {
  const toc = byId('toc', HTMLOListElement);
  const links = SECTIONS.map(({ id }) => {
    const a = h('a', { href: `?s=${id}`, 'data-s': id });
    a.addEventListener('click', (e) => {
      if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return; // a new tab gets the plain address
      e.preventDefault();
      go(id);
    });
    return a;
  });
  toc.replaceChildren(...links.map((a) => h('li', {}, a)));

  const navs = SECTIONS.map(({ id }, k) => {
    const prev = h('button', { type: 'button', class: 'secondary', 'data-go': 'previous' });
    const next = h('button', { type: 'button', 'data-go': 'next' });
    prev.addEventListener('click', () => go(SECTIONS[k - 1].id));
    next.addEventListener('click', () => go(SECTIONS[k + 1].id));
    const nav = h('nav', { class: 'walk-nav' }, ...(k > 0 ? [prev] : []), ...(k < SECTIONS.length - 1 ? [next] : []));
    byId(id, HTMLElement).append(nav);
    return { prev, next, nav, k };
  });

  function label(): void {
    SECTIONS.forEach(({ toc: key }, k) => { links[k].textContent = t[key]; });
    for (const { prev, next, nav, k } of navs) {
      if (k > 0) prev.textContent = t.walkPrevious(t[SECTIONS[k - 1].toc]);
      if (k < SECTIONS.length - 1) next.textContent = t.walkNext(t[SECTIONS[k + 1].toc]);
      nav.setAttribute('aria-label', t.walkNavLabel);
    }
  }

  /** Shows one section and hides the others. */
  function show(id: SectionId, focus: boolean): void {
    for (const s of SECTIONS) byId(s.id, HTMLElement).hidden = s.id !== id;
    links.forEach((a) => (a.dataset.s === id ? a.setAttribute('aria-current', 'page') : a.removeAttribute('aria-current')));
    // parts drawn while hidden measured a width of 0: let them fit the screen again
    window.dispatchEvent(new Event('resize'));
    if (focus) {
      const heading = byId(`${id}-title`, HTMLHeadingElement);
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
      byId(id, HTMLElement).scrollIntoView({ block: 'start' });
    }
  }

  function go(id: SectionId): void {
    pushSection(id);
    show(id, true);
  }

  onSectionPop((s) => show(isSection(s) ? s : 'graph', true));
  onLangChange(label);
  label();
  const first = getParam('s');
  if (first !== null && !isSection(first)) setParam('s', null);
  show(isSection(first) ? first : 'graph', false);
}
