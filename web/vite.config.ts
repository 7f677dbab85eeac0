import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The service (modelward serve, port 8321 by default) serves the built files at `/`;
// in `vite dev` the API and the health probe are proxied to it.
const service = process.env.MODELWARD_URL ?? "http://127.0.0.1:8321";

export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../src/modelward/webui",
    emptyOutDir: true,
    sourcemap: false,
  },
  server: {
    proxy: {
      "/api": { target: service, changeOrigin: false },
      "/healthz": { target: service, changeOrigin: false },
    },
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    css: false,
    restoreMocks: true,
  },
});
