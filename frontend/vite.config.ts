/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const backend = process.env.FACEEXPLORE_API ?? 'http://127.0.0.1:8000';
const proxy = {
  '/api': { target: backend, changeOrigin: true },
  '/gallery': { target: backend, changeOrigin: true },
  '/cache': { target: backend, changeOrigin: true },
};

export default defineConfig({
  plugins: [react()],
  server: { proxy },
  preview: { proxy },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1000,
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
    // Rendering MUI pages in jsdom is CPU-bound: on a busy machine a page test can pass 5 s.
    testTimeout: 20_000,
  },
});
