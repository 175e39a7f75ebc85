import type { Browser, Page } from 'playwright-core';

/** Opens a page and records every page error and console error in `problems`. */
export async function openPage(browser: Browser, url: string, problems: string[], options: Parameters<Browser['newPage']>[0] = {}): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, ...options });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  await page.goto(url);
  return page;
}

/** The text of the first element matching `selector`. */
export const textOf = async (page: Page, selector: string): Promise<string> => (await page.locator(selector).first().textContent()) ?? '';
