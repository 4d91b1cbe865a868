import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, apiUpload, ERROR_TEXTS, isAbortError, setCsrfToken } from './api-client';
import { uploadPhotos } from '../features/upload/api/upload';
import { imageFile, mockXhr } from '../test/utils';

afterEach(() => setCsrfToken(null));

describe('apiUpload (XMLHttpRequest, for upload progress)', () => {
  it('sends the form with the CSRF token, reports progress and reads the JSON answer', async () => {
    const answer = { saved: 1, refused: 0, folder: 'uploads/2026-12-02', photos: [{ filename: 'a.jpg', path: 'uploads/2026-12-02/a.jpg', error: null }] };
    const { calls } = mockXhr({ 'POST /api/gallery/photos': { json: answer } });
    setCsrfToken('tok');
    const progress = vi.fn();
    const result = await uploadPhotos([imageFile('a.jpg', 'image/jpeg'), imageFile('b.png')], progress);
    expect(result).toEqual(answer);
    expect(calls).toHaveLength(1);
    expect(calls[0].headers['X-CSRF-Token']).toBe('tok');
    expect((calls[0].body.getAll('photos') as File[]).map((f) => f.name)).toEqual(['a.jpg', 'b.png']);
    expect(progress.mock.calls.map(([p]) => p.loaded / p.total)).toEqual([0.5, 1]);
  });

  it('turns an error answer into an ApiError with the server message and the code hint', async () => {
    const message = 'Photos cannot be added: the server cannot write to the gallery folder uploads/2026-12-02.';
    mockXhr({ 'POST /api/gallery/photos': { status: 503, json: { error: { code: 'gallery_read_only', message } } } });
    const err = await uploadPhotos([imageFile()]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 503, code: 'gallery_read_only', message, hint: ERROR_TEXTS.gallery_read_only.hint });
  });

  it('a proxy page without JSON, a lost connection and an abort', async () => {
    mockXhr({ 'POST /api/x': { status: 413, text: '<html>Request Entity Too Large</html>' } });
    expect(await apiUpload('/api/x', new FormData()).catch((e: unknown) => e)).toMatchObject({ code: 'too_large' });
    mockXhr({ 'POST /api/x': () => 'network-error' });
    expect(await apiUpload('/api/x', new FormData()).catch((e: unknown) => e)).toMatchObject({ status: 0, code: 'network_error' });
    mockXhr({ 'POST /api/x': () => new Promise(() => undefined) });
    const ctrl = new AbortController();
    const pending = apiUpload('/api/x', new FormData(), undefined, ctrl.signal).catch((e: unknown) => e);
    ctrl.abort();
    expect(isAbortError(await pending)).toBe(true);
  });
});
