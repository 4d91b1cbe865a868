/**
 * The one HTTP client of the app. Every request to the FaceExplore API goes through here, so
 * errors are turned into an {@link ApiError} with a plain message for a person and a hint that
 * says what they can do about it.
 */
import type { ApiErrorBody } from '../types/api';

/** Most sample photos one search accepts (the API answers 400 `too_many_files` above this). */
export const MAX_SAMPLES = 10;

export const API_BASE: string = (import.meta.env.VITE_API_BASE as string | undefined) ?? '';

interface ErrorText {
  message: string;
  hint?: string;
}

/** Default texts per error code; the server's own message wins when it sends one. */
export const ERROR_TEXTS: Record<string, ErrorText> = {
  no_file: {
    message: 'Please add at least one photo of the person.',
    hint: 'Drop a photo on the upload area, or pick one from your device.',
  },
  too_many_files: {
    message: `You can use at most ${MAX_SAMPLES} sample photos in one search.`,
    hint: 'Remove some of the samples and search again.',
  },
  too_large: {
    message: 'That photo is too large to upload.',
    hint: 'Remove it and try a smaller copy of the photo.',
  },
  not_an_image: {
    message: 'One of the files is not an image.',
    hint: 'Remove it and add a JPEG or PNG photo instead.',
  },
  no_face: {
    message: 'No face was found in the sample photo.',
    hint: 'Try another, clearer photo where the face is large, well lit and facing the camera.',
  },
  search_closed: {
    message: 'The search for this event has closed.',
    hint: 'The organiser kept the faces only for a limited time.',
  },
  not_found: {
    message: 'That could not be found.',
    hint: 'It may have been removed when the gallery was indexed again.',
  },
  bad_request: {
    message: 'The server could not understand that request.',
    hint: 'Please check what you uploaded and try again.',
  },
  unprocessable: {
    message: 'One of the photos could not be used.',
    hint: 'Remove it and try another photo.',
  },
  rate_limited: {
    message: 'Too many requests at once.',
    hint: 'Wait a few seconds and try again.',
  },
  login_required: {
    message: 'This page is for the organiser of the gallery.',
    hint: 'Log in with the organiser password.',
  },
  wrong_password: {
    message: 'That password is not right.',
  },
  no_password: {
    message: 'No organiser password has been set. Set one on the server with: faceexplore --data DATA set-password',
  },
  uploads_off: {
    message: 'Adding photos from the page is turned off on this server.',
    hint: 'Copy the photos into the gallery folder on the server instead.',
  },
  gallery_read_only: {
    message: 'The server cannot write to the gallery folder, so photos cannot be added from the page.',
    hint: 'Uploads need a writable gallery folder; or copy the photos into it on the server.',
  },
  access_required: {
    message: "Enter the event's access code first.",
    hint: "Reload the page and enter the code from the event's poster (it may have been changed).",
  },
  wrong_code: {
    message: "That is not the event's access code.",
    hint: 'Check it on the poster and try again.',
  },
  csrf_failed: {
    message: 'The request was refused because the session changed.',
    hint: 'Reload the page and try again.',
  },
  nothing_to_undo: {
    message: 'There is nothing to undo.',
  },
  expired_token: {
    message: 'That suggestion has expired.',
    hint: 'Search again with your photo to see the suggestions again.',
  },
  invalid_token: {
    message: 'That suggestion is no longer valid.',
    hint: 'Search again with your photo.',
  },
  server_error: {
    message: 'The server ran into a problem while handling this request.',
    hint: 'Please try again in a moment.',
  },
  unavailable: {
    message: 'The search service is not available right now.',
    hint: 'It may still be starting or indexing the gallery. Try again in a moment.',
  },
  network_error: {
    message: 'Could not reach the FaceExplore server.',
    hint: 'Check your connection and try again.',
  },
  bad_response: {
    message: 'The server sent an answer the app could not read.',
    hint: 'Please try again; if it keeps happening, tell whoever runs this gallery.',
  },
};

/** Error code to use when the response body carries none. */
export function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'bad_request';
    case 401:
      return 'login_required';
    case 404:
      return 'not_found';
    case 410:
      return 'expired_token';
    case 413:
      return 'too_large';
    case 415:
      return 'not_an_image';
    case 422:
      return 'unprocessable';
    case 429:
      return 'rate_limited';
    case 502:
    case 503:
    case 504:
      return 'unavailable';
    default:
      return status >= 500 ? 'server_error' : 'bad_request';
  }
}

export class ApiError extends Error {
  /** HTTP status; 0 when the server could not be reached at all. */
  readonly status: number;
  /** snake_case code from the API, or one of the client's own (network_error, bad_response...). */
  readonly code: string;
  /** What the visitor can do about it. */
  readonly hint?: string;

  constructor(status: number, code: string, message?: string, hint?: string) {
    const text = ERROR_TEXTS[code];
    super(message?.trim() || text?.message || ERROR_TEXTS.server_error.message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.hint = hint ?? text?.hint;
  }
}

export function isAbortError(e: unknown): boolean {
  return (
    (e instanceof DOMException && e.name === 'AbortError') ||
    (typeof e === 'object' && e !== null && (e as { name?: string }).name === 'AbortError')
  );
}

/** Any thrown value as an ApiError (for showing it). */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  return new ApiError(0, 'network_error');
}

async function errorFromResponse(res: Response): Promise<ApiError> {
  let text: string;
  try {
    text = await res.text();
  } catch {
    text = ''; // the body could not be read: the status says enough
  }
  return errorFromText(res.status, text);
}

/**
 * The organiser's CSRF token, from the latest session answer (GET/POST /api/session). Every
 * state-changing request carries it as X-CSRF-Token while there is one.
 */
let csrfToken: string | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function getCsrfToken(): string | null {
  return csrfToken;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (FormData for uploads). */
  body?: BodyInit;
  query?: Record<string, string | number | undefined>;
  signal?: AbortSignal;
  accept?: string;
}

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  let url = `${API_BASE}${path}`;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.toString();
    if (qs) url += `?${qs}`;
  }
  return url;
}

async function send(path: string, opts: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json' };
  let body = opts.body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  }
  const method = opts.method ?? (body !== undefined ? 'POST' : 'GET');
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      body,
      signal: opts.signal,
    });
  } catch (e) {
    if (isAbortError(e)) throw e;
    throw new ApiError(0, 'network_error');
  }
  if (!res.ok) throw await errorFromResponse(res);
  return res;
}

/** Request JSON; throws ApiError (or an AbortError when aborted). */
export async function apiJson<T>(path: string, opts?: RequestOptions): Promise<T> {
  const res = await send(path, opts);
  try {
    return (await res.json()) as T;
  } catch (e) {
    if (isAbortError(e)) throw e;
    throw new ApiError(res.status, 'bad_response');
  }
}

/** Bytes sent so far of an upload and its total (the whole request body). */
export interface UploadProgress {
  loaded: number;
  total: number;
}

function errorFromText(status: number, text: string): ApiError {
  let body: Partial<ApiErrorBody> | null;
  try {
    body = text ? (JSON.parse(text) as Partial<ApiErrorBody>) : null;
  } catch {
    body = null;
  }
  const err = body && typeof body === 'object' ? body.error : undefined;
  const code = err && typeof err.code === 'string' && err.code ? err.code : codeForStatus(status);
  const message = err && typeof err.message === 'string' ? err.message : undefined;
  return new ApiError(status, code, message);
}

/**
 * POST a form and read JSON, reporting the upload's progress: fetch cannot tell how much of a
 * request body has been sent, XMLHttpRequest can. The same errors, CSRF token and AbortSignal
 * as {@link apiJson}.
 */
export function apiUpload<T>(
  path: string,
  form: FormData,
  onProgress?: (progress: UploadProgress) => void,
  signal?: AbortSignal,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new DOMException('Aborted', 'AbortError'));
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open('POST', buildUrl(path));
    xhr.setRequestHeader('Accept', 'application/json');
    if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    const abort = () => xhr.abort();
    signal?.addEventListener('abort', abort, { once: true });
    const done = () => signal?.removeEventListener('abort', abort);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress?.({ loaded: e.loaded, total: e.total });
    };
    xhr.onload = () => {
      done();
      if (xhr.status < 200 || xhr.status >= 300) {
        reject(errorFromText(xhr.status, xhr.responseText));
        return;
      }
      try {
        resolve(JSON.parse(xhr.responseText) as T);
      } catch {
        reject(new ApiError(xhr.status, 'bad_response'));
      }
    };
    xhr.onerror = () => {
      done();
      reject(new ApiError(0, 'network_error'));
    };
    xhr.onabort = () => {
      done();
      reject(new DOMException('Aborted', 'AbortError'));
    };
    xhr.send(form);
  });
}

/** Request a binary body (e.g. a zip); throws ApiError (or an AbortError when aborted). */
export async function apiBlob(path: string, opts?: RequestOptions): Promise<Blob> {
  const res = await send(path, { accept: '*/*', ...opts });
  try {
    return await res.blob();
  } catch (e) {
    if (isAbortError(e)) throw e;
    throw new ApiError(0, 'network_error');
  }
}
