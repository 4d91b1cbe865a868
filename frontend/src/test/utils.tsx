import { render } from '@testing-library/react';
import { ThemeProvider } from '@mui/material/styles';
import type { ReactElement } from 'react';
import { vi } from 'vitest';
import { theme } from '../theme';

export function renderWithTheme(ui: ReactElement) {
  return render(<ThemeProvider theme={theme}>{ui}</ThemeProvider>);
}

export interface FakeResponse {
  status?: number;
  json?: unknown;
  /** Raw body text (used when json is undefined). */
  text?: string;
  blob?: Blob;
}

export interface Call {
  url: string;
  method: string;
  body: unknown;
  headers: Record<string, string>;
}

/** A fake Response good enough for the API client. */
export function fakeResponse({ status = 200, json, text, blob }: FakeResponse) {
  const bodyText = json !== undefined ? JSON.stringify(json) : (text ?? '');
  return {
    ok: status >= 200 && status < 300,
    status,
    json: async () => JSON.parse(bodyText),
    text: async () => bodyText,
    blob: async () => blob ?? new Blob([bodyText]),
  };
}

type Handler = (call: Call) => FakeResponse | Promise<FakeResponse> | 'network-error';

/**
 * Stubs global fetch. `routes` maps "METHOD /path" (path without query) to a handler or a fixed
 * response; unknown routes answer 404. Returns the list of calls made.
 */
export function mockFetch(routes: Record<string, Handler | FakeResponse>) {
  const calls: Call[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const method = (init?.method ?? 'GET').toUpperCase();
    const call: Call = { url, method, body: init?.body, headers: (init?.headers ?? {}) as Record<string, string> };
    calls.push(call);
    if (init?.signal?.aborted) throw new DOMException('Aborted', 'AbortError');
    const path = url.split('?')[0];
    const route = routes[`${method} ${path}`];
    if (!route) return fakeResponse({ status: 404, json: { error: { code: 'not_found', message: 'Not found.' } } });
    const res = typeof route === 'function' ? await route(call) : route;
    if (res === 'network-error') throw new TypeError('Failed to fetch');
    return fakeResponse(res);
  });
  vi.stubGlobal('fetch', fn);
  return { calls, fn };
}

export function imageFile(name = 'amy1.png', type = 'image/png') {
  return new File([new Uint8Array([137, 80, 78, 71])], name, { type });
}
