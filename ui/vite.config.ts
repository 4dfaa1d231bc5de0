import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// Tests assert on formatted sizes and times: run them in one locale whatever the machine's is
// (test workers are child processes, and ICU reads the locale when a process starts).
const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env;
if (env?.VITEST) env.LC_ALL = "en_US.UTF-8";

// The desktop app embeds `ui/dist` (see src-tauri/tauri.conf.json), so a plain
// `vite build` is all the Rust side needs.
export default defineConfig({
  plugins: [react()],
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  test: { environment: "jsdom", setupFiles: ["src/test/setup.ts"] },
});
