import { describe, expect, it } from 'vitest';
import { ApiError, apiJson, codeForStatus, ERROR_TEXTS, isAbortError } from './api-client';
import { searchPhotos } from '../features/search/api/search';
import { downloadLinks } from '../features/search/api/download';
import { getPeople, getPerson } from '../features/people/api/people';
import { imageFile, mockFetch } from '../test/utils';

async function caught(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    return e as ApiError;
  }
  throw new Error('expected a rejection');
}

describe('api client errors', () => {
  const cases: [number, string, string][] = [
    [400, 'no_file', 'No file was uploaded.'],
    [400, 'too_many_files', 'At most 10 images can be searched at once.'],
    [413, 'too_large', 'big.jpg is larger than the 20 MB limit.'],
    [422, 'not_an_image', 'notes.txt is not an image.'],
    [422, 'no_face', 'No face was found in amy1.png.'],
    [404, 'not_found', 'There is no person 99.'],
  ];

  it.each(cases)('HTTP %s %s keeps the server message and adds a hint', async (status, code, message) => {
    mockFetch({ 'GET /api/x': { status, json: { error: { code, message } } } });
    const err = await caught(apiJson('/api/x'));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(status);
    expect(err.code).toBe(code);
    expect(err.message).toBe(message);
    expect(err.hint).toBe(ERROR_TEXTS[code].hint);
  });

  it('uses the code text when the server message is empty', async () => {
    mockFetch({ 'GET /api/x': { status: 422, json: { error: { code: 'no_face', message: '' } } } });
    const err = await caught(apiJson('/api/x'));
    expect(err.message).toBe(ERROR_TEXTS.no_face.message);
  });

  it.each([
    [413, 'too_large'],
    [500, 'server_error'],
    [502, 'unavailable'],
    [503, 'unavailable'],
    [404, 'not_found'],
    [410, 'expired_token'],
    [400, 'bad_request'],
  ])('maps HTTP %s without a JSON body to %s', async (status, code) => {
    mockFetch({ 'POST /api/search': { status, text: '<html><body>nginx</body></html>' } });
    const err = await caught(apiJson('/api/search', { method: 'POST', body: new FormData() }));
    expect(err.code).toBe(code);
    expect(err.message).toBe(ERROR_TEXTS[code].message);
    expect(codeForStatus(status)).toBe(code);
  });

  it('turns a network failure into a network_error with status 0', async () => {
    mockFetch({ 'GET /api/status': () => 'network-error' });
    const err = await caught(apiJson('/api/status'));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(0);
    expect(err.code).toBe('network_error');
    expect(err.message).toMatch(/could not reach/i);
  });

  it('reports an unreadable 200 body as bad_response', async () => {
    mockFetch({ 'GET /api/status': { status: 200, text: 'not json' } });
    const err = await caught(apiJson('/api/status'));
    expect(err.code).toBe('bad_response');
  });

  it('lets an abort through as an AbortError (not an ApiError)', async () => {
    mockFetch({ 'GET /api/status': { json: {} } });
    const ctrl = new AbortController();
    ctrl.abort();
    const err = await caught(apiJson('/api/status', { signal: ctrl.signal }));
    expect(isAbortError(err)).toBe(true);
  });
});

describe('api calls', () => {
  it('searchPhotos sends every image and no faces field by default', async () => {
    const { calls } = mockFetch({ 'POST /api/search': { json: { found: false } } });
    await searchPhotos([imageFile('a.png'), imageFile('b.png')], [null, null]);
    const form = calls[0].body as FormData;
    expect(calls[0].method).toBe('POST');
    expect((form.getAll('images') as File[]).map((f) => f.name)).toEqual(['a.png', 'b.png']);
    expect(form.getAll('faces')).toEqual([]);
  });

  it('searchPhotos sends one faces field per image when a face was chosen', async () => {
    const { calls } = mockFetch({ 'POST /api/search': { json: { found: false } } });
    await searchPhotos([imageFile('a.png'), imageFile('b.png')], [null, 2]);
    expect((calls[0].body as FormData).getAll('faces')).toEqual(['', '2']);
  });

  it('downloadLinks posts the ids as JSON and returns the links', async () => {
    const answer = { links: [{ url: '/api/download?token=t', filename: 'faceexplore-photos.zip', photos: 2 }], expires_in: 3600 };
    const { calls } = mockFetch({ 'POST /api/download/links': { json: answer } });
    expect(await downloadLinks([1, 2])).toEqual(answer);
    expect(JSON.parse(calls[0].body as string)).toEqual({ photo_ids: [1, 2], token: null });
    expect(calls[0].headers['Content-Type']).toBe('application/json');
  });

  it('downloadLinks reports bad ids', async () => {
    mockFetch({ 'POST /api/download/links': { status: 400, json: { error: { code: 'unknown_photo', message: 'Unknown photo 99.' } } } });
    const err = await caught(downloadLinks([99]));
    expect(err.message).toBe('Unknown photo 99.');
    expect(err.status).toBe(400);
  });

  it('people endpoints pass page and per_page', async () => {
    const { calls } = mockFetch({ 'GET /api/people': { json: {} }, 'GET /api/people/3': { json: {} } });
    await getPeople(2);
    await getPerson(3, 1, 10);
    expect(calls[0].url).toBe('/api/people?page=2&per_page=48');
    expect(calls[1].url).toBe('/api/people/3?page=1&per_page=10');
  });
});

describe('CSRF token', () => {
  it('is kept from the session answer and sent on every change, never on a read; logging out forgets it', async () => {
    const { getSession, logout } = await import('../features/auth/api/session');
    const { patchPerson, undoLast } = await import('../features/people/api/people');
    const { calls } = mockFetch({
      'GET /api/session': { json: { organiser: true, password_set: true, csrf_token: 'tok-9', people_page: 'public' } },
      'DELETE /api/session': { json: { organiser: false, password_set: true, csrf_token: null, people_page: 'public' } },
      'GET /api/people': { json: { people: [], page: 1, per_page: 48, total: 0, pages: 1 } },
      'PATCH /api/people/3': { json: {} },
      'POST /api/undo': { json: {} },
    });
    await getSession();
    await getPeople();
    await patchPerson(3, { name: 'Amy' });
    await undoLast();
    await logout();
    await undoLast().catch(() => undefined);
    const header = (i: number) => calls[i].headers['X-CSRF-Token'];
    expect(calls.map((c) => `${c.method} ${c.url.split('?')[0]}`)).toEqual([
      'GET /api/session',
      'GET /api/people',
      'PATCH /api/people/3',
      'POST /api/undo',
      'DELETE /api/session',
      'POST /api/undo',
    ]);
    expect([header(0), header(1), header(2), header(3), header(4), header(5)]).toEqual([
      undefined,
      undefined,
      'tok-9',
      'tok-9',
      'tok-9',
      undefined,
    ]);
  });

  it('maps a bare 401 to login_required', async () => {
    mockFetch({ 'GET /api/people': { status: 401, text: '' } });
    const err = await caught(getPeople());
    expect(err.code).toBe('login_required');
    expect(err.message).toBe(ERROR_TEXTS.login_required.message);
  });
});
