import { resolve } from "node:path";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vite";

const repo = resolve(import.meta.dirname, "..");

export default defineConfig({
  root: import.meta.dirname,
  plugins: [svelte()],
  resolve: {
    // The dashboard imports the shared protocol (src/protocol) and the execution components and
    // output helpers that live beside web/src (web/components, web/lib).
    alias: {
      "@protocol": resolve(repo, "src/protocol"),
      "@components": resolve(import.meta.dirname, "components"),
      "@weblib": resolve(import.meta.dirname, "lib"),
    },
  },
  server: { fs: { allow: [repo] } },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
});
