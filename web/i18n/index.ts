/**
 * The page's languages: the message files (en.ts, zh.ts), which one is shown, and filling the
 * page's static texts from `data-i18n` keys. The code holds keys; the sentences live in the
 * message files.
 */
import { en } from './en.js';
import { zh } from './zh.js';

/** The languages of the page. */
export type Lang = 'en' | 'zh';
export const LANGS: readonly Lang[] = ['zh', 'en'];

/** The shape of a message file: every key of en.ts, with the same parameters. A missing key is a type error. */
export type Messages = {
  [K in keyof typeof en]: (typeof en)[K] extends (...args: infer A) => string ? (...args: A) => string : string;
};
/** The keys whose message is plain text (no parameters), as used by `data-i18n` in the HTML. */
export type TextKey = { [K in keyof Messages]: Messages[K] extends string ? K : never }[keyof Messages];

const FILES: Record<Lang, Messages> = { en, zh };

/** The messages of the language shown. */
export let t: Messages = en;
/** The language shown. */
export let lang: Lang = 'en';

const listeners: (() => void)[] = [];

/**
 * The language to show: `?lang=zh|en` if given, else the browser's first language that is
 * Chinese or English, else English.
 *
 * @example
 * pickLang('?lang=zh', ['en-US']); // 'zh'
 * pickLang('', ['zh-CN', 'en']);   // 'zh'
 */
export function pickLang(search: string, browserLangs: readonly string[]): Lang {
  const asked = new URLSearchParams(search).get('lang');
  if (asked === 'zh' || asked === 'en') return asked;
  for (const l of browserLangs) {
    const base = l.toLowerCase().split('-')[0];
    if (base === 'zh' || base === 'en') return base;
  }
  return 'en';
}

/** Whether a string is a text key (for `data-i18n` attributes read from the HTML). */
export function isTextKey(key: string): key is TextKey {
  return Object.hasOwn(en, key) && typeof (en as Record<string, unknown>)[key] === 'string';
}

/**
 * Text with `code` in backticks as DOM nodes: the parts between backticks become <code>.
 *
 * @example
 * richText('press `Enter`'); // ['press ', <code>Enter</code>]
 */
export function richText(text: string): (Node | string)[] {
  return text.split('`').map((part, i) => {
    if (i % 2 === 0) return part;
    const code = document.createElement('code');
    code.textContent = part;
    return code;
  });
}

/**
 * Fills every element under `root` that has `data-i18n="key"` (its text, with `code` in
 * backticks) or `data-i18n-attr="aria-label:key title:key"` (its attributes).
 */
export function applyTexts(root: ParentNode = document): void {
  for (const el of Array.from(root.querySelectorAll<HTMLElement>('[data-i18n]'))) {
    const key = el.dataset.i18n!;
    if (!isTextKey(key)) throw new Error(`no message '${key}' in web/i18n/en.ts`);
    el.replaceChildren(...richText(t[key]));
  }
  for (const el of Array.from(root.querySelectorAll<HTMLElement>('[data-i18n-attr]'))) {
    for (const pair of el.dataset.i18nAttr!.split(/\s+/).filter(Boolean)) {
      const [attr, key] = pair.split(':');
      if (!isTextKey(key)) throw new Error(`no message '${key}' in web/i18n/en.ts`);
      el.setAttribute(attr, t[key]);
    }
  }
}

/** Shows the page in `next`: fills the static texts and lets every part redraw its own. */
export function setLang(next: Lang): void {
  lang = next;
  t = FILES[next];
  document.documentElement.lang = next === 'zh' ? 'zh-CN' : 'en';
  document.title = t.pageTitle;
  applyTexts();
  for (const f of listeners) f();
}

/** Calls `redraw` after every change of language. */
export function onLangChange(redraw: () => void): void {
  listeners.push(redraw);
}
