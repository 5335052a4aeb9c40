// Debian's Chromium, as every test launches it (never a downloaded browser), and the page's
// live parts as the tests look at them.
import { Page } from '@playwright/test';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** The system-status partial, and its stream state. */
export const partial = (page: Page) => page.locator('#system-status');
export const streamState = (page: Page) => partial(page).locator('.stream-state');
