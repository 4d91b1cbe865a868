import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { SearchPage, TAGLINE } from './SearchPage';
import { imageFile, mockFetch, renderWithTheme } from '../../../test/utils';
import { foundResponse, notFoundResponse } from '../../../test/fixtures';
import { SessionContext, type SessionState } from '../../auth/session-context';

const asOrganiser = (ui: React.ReactElement) =>
  renderWithTheme(
    <SessionContext.Provider value={{ organiser: true } as unknown as SessionState}>{ui}</SessionContext.Provider>,
  );

function upload(files: File[]) {
  return userEvent.upload(screen.getByLabelText(/upload sample photos/i), files);
}

describe('SearchPage', () => {
  it('says what the site does and shows the upload area', () => {
    renderWithTheme(<SearchPage />);
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent(TAGLINE);
    expect(screen.getByLabelText(/upload sample photos/i)).toBeInTheDocument();
  });

  it('searches at once, outlines each face, and re-runs the search with the clicked face', async () => {
    const { calls } = mockFetch({ 'POST /api/search': { json: foundResponse() } });
    renderWithTheme(<SearchPage />);
    await upload([imageFile('amy1.png')]);

    // First call: the image, no face choice.
    await waitFor(() => expect(calls).toHaveLength(1));
    const first = calls[0].body as FormData;
    expect((first.getAll('images') as File[]).map((f) => f.name)).toEqual(['amy1.png']);
    expect(first.getAll('faces')).toEqual([]);

    // One box per face; the largest (used_face 0) is preselected.
    const faces = await screen.findAllByRole('button', { name: /face \d of 2 in amy1\.png/i });
    expect(faces).toHaveLength(2);
    // Words that fit a phone as well as a mouse: no "click".
    expect(screen.getByTestId('sample-card')).toHaveTextContent('2 faces — choose the one you mean');
    expect(document.body).not.toHaveTextContent(/\bclick/i);
    expect(screen.getAllByTestId('sample-face')).toHaveLength(2);
    expect(faces[0]).toHaveAttribute('aria-pressed', 'true');
    expect(faces[1]).toHaveAttribute('aria-pressed', 'false');
    // Box 1 is [350,80,420,170] in a 500x600 sample -> left 70%, top 13.333%.
    expect(parseFloat(getComputedStyle(faces[1]).left)).toBeCloseTo(70);
    expect(parseFloat(getComputedStyle(faces[1]).top)).toBeCloseTo(13.333, 2);

    await userEvent.click(faces[1]);
    await waitFor(() => expect(calls).toHaveLength(2));
    expect((calls[1].body as FormData).getAll('faces')).toEqual(['1']);
    await waitFor(() =>
      expect(screen.getByRole('button', { name: /face 2 of 2 in amy1\.png/i })).toHaveAttribute('aria-pressed', 'true'),
    );
  });

  it('says in plain words what was found, keeps the numbers in Details, and shows the gallery with faces highlighted', async () => {
    mockFetch({ 'POST /api/search': { json: foundResponse() } });
    asOrganiser(<SearchPage />);
    await upload([imageFile('amy1.png')]);

    expect(await screen.findByTestId('result-count')).toHaveTextContent('We found 2 photos of you');
    expect(screen.getByTestId('result-summary')).toHaveTextContent('These are very likely you.');
    // The arithmetic is folded away until asked for.
    expect(screen.queryByTestId('rule-text')).not.toBeInTheDocument();
    expect(screen.queryByTestId('confidence')).not.toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Details' }));
    expect(await screen.findByTestId('confidence')).toHaveTextContent('97% (very likely)');
    expect(screen.getByTestId('rule-text')).toHaveTextContent(/false-alarm threshold 0.41/);
    const gallery = screen.getByRole('region', { name: /photos of you/i });
    const link = within(gallery).getByRole('link', { name: /group\/bbt4\.jpg/ });
    expect(link).toHaveAttribute('href', '/gallery/group/bbt4.jpg');
    expect(link).toHaveAttribute('data-download-url', '/gallery/group/bbt4.jpg');
    expect(within(gallery).getAllByTestId('face-box')).toHaveLength(2);
    expect(screen.getByRole('button', { name: /download all 2 photos/i })).toHaveTextContent('Download all (2)');
  });

  it('says plainly when the person is not in the gallery', async () => {
    mockFetch({ 'POST /api/search': { json: notFoundResponse() } });
    renderWithTheme(<SearchPage />);
    await upload([imageFile('stuart1.png')]);
    const alert = await screen.findByTestId('not-found');
    expect(alert).toHaveTextContent("You don't seem to be in the gallery.");
    expect(screen.queryByText(/is one of these you/i)).not.toBeInTheDocument();
    expect(alert).toHaveTextContent(/try another, clearer sample/i);
    expect(screen.queryByRole('button', { name: /download all/i })).not.toBeInTheDocument();
  });

  it('keeps the scores and the rule from visitors, found or not', async () => {
    mockFetch({ 'POST /api/search': { json: foundResponse() } });
    renderWithTheme(<SearchPage />);
    await upload([imageFile('amy1.png')]);
    await screen.findByTestId('result-count');
    expect(screen.queryByRole('button', { name: 'Details' })).not.toBeInTheDocument();
    expect(document.body).not.toHaveTextContent(/threshold|distance|rule/i);
  });

  it("never says how sure it is beside \"not in the gallery\", even to the organiser", async () => {
    mockFetch({ 'POST /api/search': { json: notFoundResponse() } });
    asOrganiser(<SearchPage />);
    await upload([imageFile('stuart1.png')]);
    const alert = await screen.findByTestId('not-found');
    await userEvent.click(within(alert).getByRole('button', { name: 'Details' }));
    expect(await within(alert).findByTestId('details')).toHaveTextContent(/accepted below/);
    expect(alert).not.toHaveTextContent(/how sure/i);
    expect(alert).not.toHaveTextContent('90%');
  });

  it('explains a sample with no face and lets the visitor remove it and add another', async () => {
    const { calls } = mockFetch({
      'POST /api/search': (call) => {
        const names = ((call.body as FormData).getAll('images') as File[]).map((f) => f.name);
        return names.includes('wall.png')
          ? { status: 422, json: { error: { code: 'no_face', message: 'No face was found in wall.png.' } } }
          : { json: foundResponse() };
      },
    });
    renderWithTheme(<SearchPage />);
    await upload([imageFile('wall.png')]);
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('No face was found in wall.png.');
    expect(alert).toHaveTextContent(/clearer photo/i);
    // One no-face message: the card only marks the photo, the alert says what to do.
    expect(screen.getByTestId('sample-card')).toHaveTextContent('No face found');
    expect(screen.getAllByText(/no face was found/i)).toHaveLength(1);

    await userEvent.click(screen.getByRole('button', { name: 'Remove wall.png' }));
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    expect(calls).toHaveLength(1); // nothing left to search

    await upload([imageFile('amy1.png')]);
    expect(await screen.findByTestId('result-count')).toBeInTheDocument();
    expect(calls).toHaveLength(2);
  });

  it('shows a too-large file error (HTTP 413)', async () => {
    mockFetch({ 'POST /api/search': { status: 413, text: '<html>Request Entity Too Large</html>' } });
    renderWithTheme(<SearchPage />);
    await upload([imageFile('huge.png')]);
    expect(await screen.findByRole('alert')).toHaveTextContent(/too large/i);
  });

  it('shows a network error with a way to try again', async () => {
    let fail = true;
    const { calls } = mockFetch({
      'POST /api/search': () => (fail ? 'network-error' : { json: foundResponse() }),
    });
    renderWithTheme(<SearchPage />);
    await upload([imageFile('amy1.png')]);
    expect(await screen.findByRole('alert')).toHaveTextContent(/could not reach/i);
    fail = false;
    await userEvent.click(screen.getByRole('button', { name: /try again/i }));
    expect(await screen.findByTestId('result-count')).toBeInTheDocument();
    expect(calls).toHaveLength(2);
  });

  it('warns about too many files without losing the samples', async () => {
    mockFetch({ 'POST /api/search': { json: foundResponse() } });
    renderWithTheme(<SearchPage />);
    await upload([imageFile('amy1.png')]);
    await screen.findByTestId('result-count');
    await upload(Array.from({ length: 10 }, (_, i) => imageFile(`x${i}.png`)));
    expect(screen.getByRole('alert')).toHaveTextContent(/at most 10/i);
    expect(screen.getAllByTestId('sample-card')).toHaveLength(1);
  });

  it('downloads all found photos as one zip the browser saves itself', async () => {
    const link = { url: '/api/download?token=abc', filename: 'faceexplore-photos.zip', photos: 2 };
    const { calls } = mockFetch({
      'POST /api/search': { json: foundResponse() },
      'POST /api/download/links': { json: { links: [link], expires_in: 3600 } },
    });
    const clicked: string[] = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(`${this.getAttribute('href')} ${this.download}`);
    });
    renderWithTheme(<SearchPage />);
    await upload([imageFile('amy1.png')]);
    await userEvent.click(await screen.findByRole('button', { name: /download all/i }));
    await waitFor(() => expect(clicked).toEqual(['/api/download?token=abc faceexplore-photos.zip']));
    const dl = calls.find((c) => c.url === '/api/download/links')!;
    // with the search's token: a private gallery's visitor may download only what it found
    expect(JSON.parse(dl.body as string)).toEqual({ photo_ids: [7, 9], token: 'signed-7-9' });
    click.mockRestore();
  });

  it('offers a large result as several zips, one link each', async () => {
    const links = [1, 2, 3].map((k) => ({ url: `/api/download?token=t${k}`, filename: `faceexplore-photos-part-${k}-of-3.zip`, photos: k < 3 ? 500 : 12 }));
    mockFetch({
      'POST /api/search': { json: foundResponse() },
      'POST /api/download/links': { json: { links, expires_in: 3600 } },
    });
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    renderWithTheme(<SearchPage />);
    await upload([imageFile('amy1.png')]);
    await userEvent.click(await screen.findByRole('button', { name: /download all/i }));
    const parts = await screen.findByTestId('download-parts');
    const anchors = within(parts).getAllByRole('link');
    expect(anchors.map((a) => a.textContent)).toEqual(['Part 1 of 3 (500 photos)', 'Part 2 of 3 (500 photos)', 'Part 3 of 3 (12 photos)']);
    expect(anchors[2]).toHaveAttribute('href', '/api/download?token=t3');
    expect(anchors[2]).toHaveAttribute('download', 'faceexplore-photos-part-3-of-3.zip');
    expect(click).not.toHaveBeenCalled();
    click.mockRestore();
  });
});
