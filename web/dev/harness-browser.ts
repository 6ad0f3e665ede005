// The built dev harness served on a free port, and a headless Chromium to look at it: shared by
// check.ts and shoot.ts. Build the harness first: `bunx vite build -c web/dev/vite.config.ts`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { BrowserContext } from "playwright-core";
import { launchChromium } from "../../tests/helpers/chromium.ts";

export async function openHarness(): Promise<{ url: string; browser: BrowserContext; close(): Promise<void> }> {
  const dist = resolve(import.meta.dirname, "dist");
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      const file = Bun.file(join(dist, path === "/" ? "output-harness.html" : path));
      return file.size > 0 ? new Response(file) : new Response("not found", { status: 404 });
    },
  });
  const profile = mkdtempSync(join(tmpdir(), "sc-chromium-"));
  const browser = await launchChromium(profile);
  return {
    url: server.url.href,
    browser,
    async close() {
      await browser.close();
      server.stop(true);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
