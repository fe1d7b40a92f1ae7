import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Tauri serves `dist/` through its custom protocol in builds and points the window at the
// dev server (`devUrl` in src-tauri/tauri.conf.json) in `tauri dev`.
export default defineConfig({
  plugins: [react()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    watch: { ignored: ["**/src-tauri/**"] },
  },
  envPrefix: ["VITE_", "TAURI_ENV_"],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK on Debian 12 / Ubuntu 22.04+, WebView2 and Safari 15+.
    target: ["es2021", "safari15", "chrome105"],
    sourcemap: false,
  },
});
