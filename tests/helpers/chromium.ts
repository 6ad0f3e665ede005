// How the project runs a browser, everywhere (browser tests, benchmarks, dev checks): Debian's
// Chromium driven by playwright-core, never a downloaded build. The flags keep it off the network,
// which is closed here (without them it retries Google's hosts at every start).
import type { BrowserContext } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A fresh headless Chromium with its own profile in `userDataDir`. */
export async function launchChromium(userDataDir: string, viewport?: { width: number; height: number }): Promise<BrowserContext> {
  const { chromium } = await import("playwright-core");
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    ...(viewport ? { viewport } : {}),
  });
}
