/**
 * A real headless Chromium for tests that look at web pages: Debian's `chromium` package (CI installs it;
 * see .ci/run) or the browser CHROMIUM_PATH names, driven over CDP by playwright-core. Without a browser the
 * test fails and says how to get one, so a machine without Chromium never passes by skipping the check.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';

export function chromiumPath(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  if (existsSync(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  throw new Error(
    `no Chromium found: install Debian's package (apt-get install chromium, as .ci/run does) or set CHROMIUM_PATH`,
  );
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // No sandbox: tests run as root in CI. The rest keeps a shared, loaded machine from being disturbed.
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
    ],
  });
}
