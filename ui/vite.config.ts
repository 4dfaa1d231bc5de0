import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The desktop app embeds `ui/dist` (see src-tauri/tauri.conf.json), so a plain
// `vite build` is all the Rust side needs.
export default defineConfig({
  plugins: [react()],
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  test: { environment: "jsdom", setupFiles: ["src/test/setup.ts"] },
});
