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

export interface XhrCall {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: FormData;
}

type XhrHandler = (call: XhrCall) => FakeResponse | 'network-error' | Promise<FakeResponse | 'network-error'>;

/**
 * Stubs global XMLHttpRequest (uploads with progress, lib/api-client apiUpload). `routes` maps
 * "METHOD /path" to a handler (may return a promise, to hold the upload in flight) or a fixed
 * response; the upload reports progress at half and at all of the body's size first.
 */
export function mockXhr(routes: Record<string, XhrHandler | FakeResponse>) {
  const calls: XhrCall[] = [];
  class FakeXhr {
    upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = {
      onprogress: null,
    };
    status = 0;
    responseText = '';
    onload: (() => void) | null = null;
    onerror: (() => void) | null = null;
    onabort: (() => void) | null = null;
    private call: XhrCall = { url: '', method: '', headers: {}, body: new FormData() };
    private aborted = false;

    open(method: string, url: string) {
      this.call = { ...this.call, method, url };
    }

    setRequestHeader(name: string, value: string) {
      this.call.headers[name] = value;
    }

    abort() {
      if (this.aborted) return;
      this.aborted = true;
      setTimeout(() => this.onabort?.(), 0);
    }

    send(body: FormData) {
      this.call.body = body;
      calls.push(this.call);
      const size = Array.from(body.values()).reduce((n, v) => n + (typeof v === 'string' ? v.length : v.size), 0) + 200;
      setTimeout(async () => {
        if (this.aborted) return;
        this.upload.onprogress?.({ lengthComputable: true, loaded: size / 2, total: size });
        const route = routes[`${this.call.method} ${this.call.url.split('?')[0]}`];
        const res = !route
          ? { status: 404, json: { error: { code: 'not_found', message: 'Not found.' } } }
          : typeof route === 'function'
            ? await route(this.call)
            : route;
        if (this.aborted) return;
        if (res === 'network-error') {
          this.onerror?.();
          return;
        }
        this.upload.onprogress?.({ lengthComputable: true, loaded: size, total: size });
        this.status = res.status ?? 200;
        this.responseText = res.json !== undefined ? JSON.stringify(res.json) : (res.text ?? '');
        this.onload?.();
      }, 0);
    }
  }
  vi.stubGlobal('XMLHttpRequest', FakeXhr);
  return { calls };
}
