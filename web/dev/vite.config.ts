// Dev harness only (not part of the app build): `bunx vite build -c web/dev/vite.config.ts`, then open
// web/dev/dist/output-harness.html. Streams synthetic executions into the real execution components.
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { resolve } from "node:path";
import { defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  base: "./",
  plugins: [svelte()],
  build: {
    outDir: resolve(import.meta.dirname, "dist"),
    emptyOutDir: true,
    target: "es2022",
    rollupOptions: { input: resolve(import.meta.dirname, "output-harness.html") },
  },
});
