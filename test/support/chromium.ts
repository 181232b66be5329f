// Headless Chromium from Debian's package (apt-get install -y chromium), driven by playwright-core, for the
// browser tests. The flags keep it off the network this machine has not got.
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Call inside a describe(): one browser for its tests, launched before them and closed after. */
export function useChromium(): () => Browser {
  let browser: Browser | null = null;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    browser = null;
  });
  return () => {
    if (!browser) throw new Error('the browser is not launched: call useChromium() inside a describe()');
    return browser;
  };
}
