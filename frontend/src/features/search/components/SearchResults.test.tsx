import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { SearchPage } from './SearchPage';
import { imageFile, mockFetch, renderWithTheme, type Call } from '../../../test/utils';
import { SessionContext, type SessionState } from '../../auth/session-context';
import { candidate, confirmedResponse, foundResponse, photo, unsureResponse } from '../../../test/fixtures';

async function search(name = 'me.png') {
  await userEvent.upload(screen.getByLabelText(/upload sample photos/i), [imageFile(name)]);
}

const tokenOf = (call: Call) => (JSON.parse(call.body as string) as { token: string }).token;

describe('"Is one of these you?"', () => {
  it('shows the candidates faces as a suggestion, not a claim', async () => {
    mockFetch({ 'POST /api/search': { json: unsureResponse() } });
    renderWithTheme(<SearchPage />);
    await search();

    const section = await screen.findByRole('region', { name: 'Is one of these you?' });
    expect(section).toHaveTextContent(/we are not sure/i);
    const faces = within(section).getAllByRole('button', { name: /this is me/i });
    expect(faces).toHaveLength(2);
    expect(faces[0]).toHaveAccessibleName('This is me: face 1 of 2');
    const imgs = within(section).getAllByTestId('candidate-face').map((b) => b.querySelector('img'));
    expect(imgs.map((i) => i?.getAttribute('src'))).toEqual(['/cache/faces/160/1.jpg', '/cache/faces/160/2.jpg']);
    // No claim yet: no photos, no download, no "not in the gallery" either.
    expect(screen.queryByTestId('result-count')).not.toBeInTheDocument();
    expect(screen.queryByTestId('not-found')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /download all/i })).not.toBeInTheDocument();
  });

  it('asks the question only once the candidates faces have loaded', async () => {
    let loaded: () => void = () => undefined;
    const pending = new Promise<void>((resolve) => (loaded = resolve));
    const decoded: string[] = [];
    vi.spyOn(HTMLImageElement.prototype, 'decode').mockImplementation(function (this: HTMLImageElement) {
      decoded.push(this.getAttribute('src') ?? '');
      return pending;
    });
    mockFetch({ 'POST /api/search': { json: unsureResponse() } });
    renderWithTheme(<SearchPage />);
    await search();
    expect(await screen.findByRole('progressbar', { name: 'Loading the faces' })).toBeInTheDocument();
    expect(screen.queryByRole('region', { name: 'Is one of these you?' })).not.toBeInTheDocument();
    expect(decoded).toEqual(['/cache/faces/160/1.jpg', '/cache/faces/160/2.jpg']);
    loaded();
    expect(await screen.findByRole('region', { name: 'Is one of these you?' })).toBeInTheDocument();
    vi.restoreAllMocks();
  });

  it('asks the question anyway when the faces are slow to load', async () => {
    vi.spyOn(HTMLImageElement.prototype, 'decode').mockImplementation(() => new Promise<void>(() => undefined));
    mockFetch({ 'POST /api/search': { json: unsureResponse() } });
    renderWithTheme(<SearchPage />);
    await search();
    expect(await screen.findByRole('region', { name: 'Is one of these you?' }, { timeout: 5000 })).toBeInTheDocument();
    vi.restoreAllMocks();
  });

  it('picking a face confirms its token and shows the photos like a found search', async () => {
    const link = { url: '/api/download?token=t21', filename: 'faceexplore-photos.zip', photos: 1 };
    const { calls } = mockFetch({
      'POST /api/search': { json: unsureResponse() },
      'POST /api/search/confirm': { json: confirmedResponse() },
      'POST /api/download/links': { json: { links: [link], expires_in: 3600 } },
    });
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    renderWithTheme(<SearchPage />);
    await search();
    await userEvent.click(await screen.findByRole('button', { name: 'This is me: face 2 of 2' }));

    expect(await screen.findByTestId('result-count')).toHaveTextContent('We found 1 photo of you');
    expect(screen.getByTestId('result-summary')).toHaveTextContent(/the face you picked/i);
    const confirm = calls.filter((c) => c.url === '/api/search/confirm');
    expect(confirm).toHaveLength(1);
    expect(tokenOf(confirm[0])).toBe('cand-2');
    expect(screen.queryByRole('region', { name: 'Is one of these you?' })).not.toBeInTheDocument();
    const gallery = screen.getByRole('region', { name: /photos of you/i });
    expect(within(gallery).getByRole('link', { name: /party\/p21\.jpg/ })).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: /download all 1 photo/i }));
    await waitFor(() => expect(click).toHaveBeenCalledTimes(1));
    const dl = calls.find((c) => c.url === '/api/download/links')!;
    expect(JSON.parse(dl.body as string)).toEqual({ photo_ids: [21], token: 'signed-21' });
    click.mockRestore();
  });

  it('"None of these" gives the plain not-found answer without asking the server', async () => {
    const { calls } = mockFetch({ 'POST /api/search': { json: unsureResponse() } });
    renderWithTheme(<SearchPage />);
    await search();
    await userEvent.click(await screen.findByRole('button', { name: 'None of these' }));
    expect(screen.getByTestId('not-found')).toHaveTextContent("You don't seem to be in the gallery.");
    expect(screen.queryByRole('button', { name: /this is me/i })).not.toBeInTheDocument();
    expect(calls.map((c) => c.url)).toEqual(['/api/search']);
  });

  it('an expired suggestion asks the visitor to search again, and searching again brings the faces back', async () => {
    const { calls } = mockFetch({
      'POST /api/search': { json: unsureResponse() },
      'POST /api/search/confirm': {
        status: 410,
        json: { error: { code: 'expired_token', message: 'That suggestion has expired.' } },
      },
    });
    renderWithTheme(<SearchPage />);
    await search();
    await userEvent.click(await screen.findByRole('button', { name: 'This is me: face 1 of 2' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('That suggestion has expired.');
    expect(alert).toHaveTextContent(/search again/i);
    expect(screen.queryByTestId('result-count')).not.toBeInTheDocument();

    await userEvent.click(within(alert).getByRole('button', { name: 'Search again' }));
    await waitFor(() => expect(calls.filter((c) => c.url === '/api/search')).toHaveLength(2));
    await waitFor(() => expect(screen.queryByRole('alert')).not.toBeInTheDocument());
    expect(await screen.findAllByRole('button', { name: /this is me/i })).toHaveLength(2);
  });

  it('a 410 without a body still reads as an expired suggestion', async () => {
    mockFetch({
      'POST /api/search': { json: unsureResponse() },
      'POST /api/search/confirm': { status: 410, text: '' },
    });
    renderWithTheme(<SearchPage />);
    await search();
    await userEvent.click(await screen.findByRole('button', { name: 'This is me: face 1 of 2' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(/expired.*search again/i);
  });

  it('a picked person hidden since the search reads as not in the gallery', async () => {
    mockFetch({
      'POST /api/search': { json: unsureResponse() },
      'POST /api/search/confirm': { json: { ...unsureResponse(), candidates: [] } },
    });
    renderWithTheme(<SearchPage />);
    await search();
    await userEvent.click(await screen.findByRole('button', { name: 'This is me: face 1 of 2' }));
    expect(await screen.findByTestId('not-found')).toHaveTextContent(/no longer shown/i);
  });
});

describe('"Also you?"', () => {
  it('adds the confirmed person\'s photos to the results, each photo once, and downloads both', async () => {
    let part = 0;
    const { calls } = mockFetch({
      'POST /api/search': { json: foundResponse({ also_you: [candidate(5)] }) },
      // photo 9 is in both answers: it must show once
      'POST /api/search/confirm': {
        json: confirmedResponse({ photos: [photo(9, 'people/amy/amy2.png'), photo(21, 'party/p21.jpg')], download_token: 'signed-9-21' }),
      },
      'POST /api/download/links': () => {
        part += 1;
        return { json: { links: [{ url: `/api/download?token=p${part}`, filename: `faceexplore-photos-${part}.zip`, photos: 1 }], expires_in: 3600 } };
      },
    });
    renderWithTheme(<SearchPage />);
    await search();
    expect(await screen.findByTestId('result-count')).toHaveTextContent('We found 2 photos of you');
    const also = screen.getByRole('region', { name: 'Also you?' });
    await userEvent.click(within(also).getByRole('button', { name: /also me/i }));

    await waitFor(() => expect(screen.getByTestId('result-count')).toHaveTextContent('We found 3 photos of you'));
    expect(tokenOf(calls.find((c) => c.url === '/api/search/confirm')!)).toBe('cand-5');
    const gallery = screen.getByRole('region', { name: /photos of you/i });
    expect(within(gallery).getAllByRole('link').map((a) => a.getAttribute('href'))).toEqual([
      '/gallery/group/bbt4.jpg',
      '/gallery/people/amy/amy2.png',
      '/gallery/party/p21.jpg',
    ]);
    // The face is used up: no "Also you?" left to offer.
    expect(screen.queryByRole('region', { name: 'Also you?' })).not.toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: /download all 3 photos/i }));
    // two answers, two tokens: a link each, offered one click apiece
    const parts = await screen.findByTestId('download-parts');
    expect(within(parts).getAllByRole('link').map((a) => a.getAttribute('href'))).toEqual([
      '/api/download?token=p1',
      '/api/download?token=p2',
    ]);
    const bodies = calls.filter((c) => c.url === '/api/download/links').map((c) => JSON.parse(c.body as string));
    // each token downloads its own answer's photos, the shared one only once
    expect(bodies).toEqual([
      { photo_ids: [7, 9], token: 'signed-7-9' },
      { photo_ids: [21], token: 'signed-9-21' },
    ]);
  });

  it('a new search forgets what was added', async () => {
    let n = 0;
    mockFetch({
      'POST /api/search': () => ({ json: foundResponse({ also_you: [candidate(5)], download_token: `t${++n}` }) }),
      'POST /api/search/confirm': { json: confirmedResponse() },
    });
    renderWithTheme(<SearchPage />);
    await search();
    await userEvent.click(await screen.findByRole('button', { name: /also me/i }));
    await waitFor(() => expect(screen.getByTestId('result-count')).toHaveTextContent('We found 3 photos of you'));
    await userEvent.click(screen.getByRole('button', { name: 'Search' }));
    await waitFor(() => expect(screen.getByTestId('result-count')).toHaveTextContent('We found 2 photos of you'));
    expect(screen.getByRole('region', { name: 'Also you?' })).toBeInTheDocument();
  });
});

describe('confidence shown to visitors', () => {
  it('never claims certainty', async () => {
    mockFetch({
      'POST /api/search': { json: foundResponse({ confidence: 1, photos: [photo(7, 'group/bbt4.jpg', 1)] }) },
    });
    renderWithTheme(
      <SessionContext.Provider value={{ organiser: true } as unknown as SessionState}>
        <SearchPage />
      </SessionContext.Provider>,
    );
    await search();
    await screen.findByTestId('result-count');
    await userEvent.click(screen.getByRole('button', { name: 'Details' }));
    expect(await screen.findByTestId('confidence')).toHaveTextContent('99% (very likely)');
    expect(document.body).not.toHaveTextContent(/100\s?%/);
  });

  it('words a middling confidence as "likely"', async () => {
    mockFetch({ 'POST /api/search': { json: foundResponse({ confidence: 0.85 }) } });
    renderWithTheme(<SearchPage />);
    await search();
    expect(await screen.findByTestId('result-summary')).toHaveTextContent('These are likely you.');
  });
});
