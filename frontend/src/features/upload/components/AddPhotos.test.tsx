import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AddPhotos } from './AddPhotos';
import { setCsrfToken } from '../../../lib/api-client';
import { imageFile, mockXhr, renderWithTheme, type XhrCall } from '../../../test/utils';
import { SessionContext, type SessionState } from '../../auth/session-context';

const DAY = 'uploads/2026-12-02';

function answerFor(call: XhrCall) {
  const file = call.body.get('photos') as File;
  if (file.name.endsWith('.txt')) {
    const error = { code: 'not_an_image', message: `${file.name} is not a photo the gallery can use: not an image.` };
    return { json: { saved: 0, refused: 1, folder: DAY, photos: [{ filename: file.name, path: null, error }] } };
  }
  return { json: { saved: 1, refused: 0, folder: DAY, photos: [{ filename: file.name, path: `${DAY}/${file.name}`, error: null }] } };
}

function renderAddPhotos(onUploaded = vi.fn(), sessionLost = vi.fn()) {
  const session = { organiser: true, sessionLost } as unknown as SessionState;
  renderWithTheme(
    <SessionContext.Provider value={session}>
      <AddPhotos onUploaded={onUploaded} />
    </SessionContext.Provider>,
  );
  return { onUploaded, sessionLost };
}

const choose = (files: File[]) => userEvent.upload(screen.getByLabelText(/choose photos to add to the gallery/i), files);

afterEach(() => setCsrfToken(null));

describe('AddPhotos', () => {
  it('offers a picker of several images', () => {
    renderAddPhotos();
    expect(screen.getByRole('button', { name: 'Add photos' })).toBeInTheDocument();
    const input = screen.getByLabelText(/choose photos to add to the gallery/i);
    expect(input).toHaveAttribute('accept', 'image/*');
    expect(input).toHaveAttribute('multiple');
  });

  it('uploads each photo with the CSRF token, shows progress, then where each was saved or why not', async () => {
    setCsrfToken('tok');
    const held: (() => void)[] = [];
    const { calls } = mockXhr({
      'POST /api/gallery/photos': (call) => new Promise((resolve) => held.push(() => resolve(answerFor(call)))),
    });
    const { onUploaded } = renderAddPhotos();
    await choose([imageFile('a.jpg', 'image/jpeg'), imageFile('notes.txt', 'image/jpeg'), imageFile('c.png')]);

    // two at a time, one photo per request; the third waits
    await waitFor(() => expect(calls).toHaveLength(2));
    expect(calls.every((c) => c.headers['X-CSRF-Token'] === 'tok')).toBe(true);
    expect(calls.map((c) => (c.body.getAll('photos') as File[]).map((f) => f.name))).toEqual([['a.jpg'], ['notes.txt']]);
    const items = screen.getAllByTestId('upload-item');
    expect(items.map((it) => it.dataset.state)).toEqual(['uploading', 'uploading', 'waiting']);
    expect(await screen.findByRole('progressbar', { name: 'Upload progress of a.jpg' })).toHaveAttribute('aria-valuenow', '50');
    expect(screen.getByRole('progressbar', { name: 'Upload progress, all photos' })).toBeInTheDocument();
    expect(screen.getByTestId('upload-summary')).toHaveTextContent(/Uploading 3 photos… \d+%/);

    held.shift()?.(); // a.jpg answered: c.png starts
    await waitFor(() => expect(calls).toHaveLength(3));
    await waitFor(() => expect(held).toHaveLength(2));
    held.splice(0).forEach((answer) => answer());
    await waitFor(() => expect(onUploaded).toHaveBeenCalledTimes(1));
    const list = screen.getByRole('list', { name: 'Photos added' });
    expect(within(list).getAllByTestId('upload-item').map((it) => it.dataset.state)).toEqual(['saved', 'refused', 'saved']);
    expect(within(list).getByText(`Saved as ${DAY}/a.jpg`)).toBeInTheDocument();
    expect(within(list).getByText('notes.txt is not a photo the gallery can use: not an image.')).toBeInTheDocument();
    expect(screen.getByTestId('upload-summary')).toHaveTextContent('2 photos added, 1 not added.');
    expect(screen.queryByRole('progressbar')).not.toBeInTheDocument();
  });

  it('stops the rest when the gallery cannot be written to, saying why for every photo', async () => {
    const message = 'Photos cannot be added: the server cannot write to the gallery folder uploads/2026-12-02.';
    const { calls } = mockXhr({
      'POST /api/gallery/photos': { status: 503, json: { error: { code: 'gallery_read_only', message } } },
    });
    const { onUploaded, sessionLost } = renderAddPhotos();
    await choose(['1.jpg', '2.jpg', '3.jpg', '4.jpg'].map((n) => imageFile(n, 'image/jpeg')));
    await waitFor(() => expect(onUploaded).toHaveBeenCalled());
    expect(calls).toHaveLength(2); // the two in flight; the others are not sent
    const items = screen.getAllByTestId('upload-item');
    expect(items.map((it) => it.dataset.state)).toEqual(['refused', 'refused', 'refused', 'refused']);
    expect(within(items[0]).getByText(message)).toBeInTheDocument();
    expect(within(items[3]).getByText(`Not sent: ${message}`)).toBeInTheDocument();
    expect(sessionLost).not.toHaveBeenCalled();
  });

  it('asks the session again when the login has ended', async () => {
    mockXhr({
      'POST /api/gallery/photos': { status: 401, json: { error: { code: 'login_required', message: 'Log in as the organiser to see this.' } } },
    });
    const { sessionLost } = renderAddPhotos();
    await choose([imageFile('a.jpg', 'image/jpeg')]);
    await waitFor(() => expect(sessionLost).toHaveBeenCalled());
    expect(screen.getByTestId('upload-item').dataset.state).toBe('refused');
  });

  it('cancels what is in flight and what waits', async () => {
    mockXhr({ 'POST /api/gallery/photos': () => new Promise(() => undefined) });
    renderAddPhotos();
    await choose(['1.jpg', '2.jpg', '3.jpg'].map((n) => imageFile(n, 'image/jpeg')));
    await userEvent.click(await screen.findByRole('button', { name: 'Cancel' }));
    await waitFor(() =>
      expect(screen.getAllByTestId('upload-item').map((it) => it.dataset.state)).toEqual(['refused', 'refused', 'refused']),
    );
    expect(screen.getAllByText('Cancelled.')).toHaveLength(2);
    expect(screen.getByText('Not sent: cancelled.')).toBeInTheDocument();
  });
});
