import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { afterEach, vi } from 'vitest';
import { createElement, type ReactNode } from 'react';

// lightGallery drives the real DOM (slides, animations); in jsdom only its markup matters.
vi.mock('lightgallery/react', () => ({
  default: ({ children, elementClassNames }: { children?: ReactNode; elementClassNames?: string }) =>
    createElement('div', { className: `lg-react-element ${elementClassNames ?? ''}`, 'data-testid': 'lightgallery' }, children),
}));

let urlCount = 0;
if (!URL.createObjectURL) {
  Object.defineProperty(URL, 'createObjectURL', { writable: true, value: () => '' });
  Object.defineProperty(URL, 'revokeObjectURL', { writable: true, value: () => undefined });
}
URL.createObjectURL = vi.fn(() => `blob:test/${++urlCount}`);
URL.revokeObjectURL = vi.fn();

// A test file that runs in Node (`// @vitest-environment node`) has no DOM to set up or clean.
const hasDom = typeof window !== 'undefined';

if (hasDom && (!window.scrollTo || !('mock' in (window.scrollTo as object)))) {
  window.scrollTo = vi.fn() as unknown as typeof window.scrollTo;
}

// jsdom loads no images: a decode() that resolves at once lets preloading pages render.
if (hasDom && typeof HTMLImageElement.prototype.decode !== 'function') {
  HTMLImageElement.prototype.decode = () => Promise.resolve();
}

afterEach(() => {
  vi.unstubAllGlobals();
  if (!hasDom) return;
  cleanup();
  window.location.hash = '';
});
