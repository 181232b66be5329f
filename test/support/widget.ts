// The chat widget on a page, as the browser specs drive it: its parts (inside its shadow root, found by their
// data-sb name) and a visitor's message written and taken.
import type { Locator, Page } from 'playwright-core';

/** The widget's part named `name` (`launcher`, `input`, `send`, `message`, …). */
export function widgetPart(page: Page, name: string): Locator {
  return page.locator(`#switchboard-widget [data-sb="${name}"]`);
}

/**
 * Until the visitor's message reading `text` is taken by the server (stored and routed). The widget shows a sent
 * message at once, marked as going (class q), so its text alone says nothing about the store yet.
 */
export async function widgetTaken(page: Page, text: string): Promise<void> {
  await page.locator('#switchboard-widget [data-sb="message"]:not(.q)', { hasText: text }).waitFor();
}

/** The visitor writes `text` in the open widget and sends it; answers once the server has taken it. */
export async function writeInWidget(page: Page, text: string): Promise<void> {
  await widgetPart(page, 'input').fill(text);
  await widgetPart(page, 'send').click();
  await widgetTaken(page, text);
}
