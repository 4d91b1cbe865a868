import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { SearchPage } from '../../search/components/SearchPage';
import { MyPhotosPage } from './MyPhotosPage';
import { RemovalsPanel } from './RemovalsPanel';
import { imageFile, mockFetch, renderWithTheme } from '../../../test/utils';
import { foundResponse, notFoundResponse, photo } from '../../../test/fixtures';
import { savedIdFromPath } from '../api/visitor';

const ID = 'AbCdEfGhIjKlMnOpQrStUv';

async function search() {
  await userEvent.upload(screen.getByLabelText(/upload sample photos/i), [imageFile('me.png')]);
}

describe('after a found search', () => {
  it('saves the search with its save token and shows the private link', async () => {
    const { calls } = mockFetch({
      'POST /api/search': { json: foundResponse() },
      'POST /api/saved': { json: { id: ID, url: `/me/${ID}`, expires_at: '2027-01-07T10:00:00Z' } },
    });
    renderWithTheme(<SearchPage />);
    await search();
    const actions = await screen.findByTestId('visitor-actions');
    expect(actions).toHaveTextContent(/never your photos/i);
    expect(calls.some((c) => c.url === '/api/saved')).toBe(false); // nothing is kept until asked
    await userEvent.click(within(actions).getByRole('checkbox', { name: 'Save my search' }));
    const link = await screen.findByTestId('saved-link');
    expect(within(link).getByRole('link')).toHaveAttribute('href', `/me/${ID}`);
    const saved = calls.filter((c) => c.url === '/api/saved');
    expect(saved).toHaveLength(1);
    expect(JSON.parse(saved[0].body as string)).toEqual({ token: 'sealed-save' });
  });

  it('removes the visitor only after the dialog is confirmed', async () => {
    const { calls } = mockFetch({
      'POST /api/search': { json: foundResponse() },
      'POST /api/removals': { json: { status: 'active', message: 'You have been removed: searches no longer find you.' } },
    });
    renderWithTheme(<SearchPage />);
    await search();
    await userEvent.click(await screen.findByRole('button', { name: 'Remove me from this gallery' }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent(/no longer find you/i);
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(calls.some((c) => c.url === '/api/removals')).toBe(false);
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());

    await userEvent.click(screen.getByRole('button', { name: 'Remove me from this gallery' }));
    await userEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Remove me' }));
    expect(await screen.findByTestId('removed')).toHaveTextContent(/you have been removed/i);
    const removal = calls.filter((c) => c.url === '/api/removals');
    expect(removal).toHaveLength(1);
    expect(JSON.parse(removal[0].body as string)).toEqual({ token: 'sealed-removal' });
  });

  it('offers neither when no one was found', async () => {
    mockFetch({ 'POST /api/search': { json: notFoundResponse() } });
    renderWithTheme(<SearchPage />);
    await search();
    await screen.findByTestId('not-found');
    expect(screen.queryByTestId('visitor-actions')).not.toBeInTheDocument();
  });
});

describe('My photos (/me/<id>)', () => {
  it('reads the id from the path only when it looks like one', () => {
    expect(savedIdFromPath(`/me/${ID}`)).toBe(ID);
    expect(savedIdFromPath('/me/short')).toBeNull();
    expect(savedIdFromPath('/')).toBeNull();
  });

  it('shows the photos and how many are new, and deletes the saved search', async () => {
    const saved = {
      ...foundResponse({ photos: [photo(7, 'group/bbt4.jpg'), photo(30, 'late/new.jpg')] }),
      new_since: { count: 1, photo_ids: [30] },
      last_visit_at: '2026-12-08T10:00:00Z',
      expires_at: '2027-01-07T10:00:00Z',
    };
    const { calls } = mockFetch({
      [`GET /api/saved/${ID}`]: { json: saved },
      [`DELETE /api/saved/${ID}`]: { json: { deleted: true } },
    });
    renderWithTheme(<MyPhotosPage savedId={ID} />);
    expect(await screen.findByTestId('new-since')).toHaveTextContent('1 new photo since your last visit');
    expect(screen.getByTestId('result-count')).toHaveTextContent('We found 2 photos of you');
    await userEvent.click(screen.getByRole('button', { name: 'Delete this saved search' }));
    expect(await screen.findByText(/was deleted/i)).toBeInTheDocument();
    expect(calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
  });

  it('says plainly when the link is gone', async () => {
    mockFetch({});
    renderWithTheme(<MyPhotosPage savedId={ID} />);
    expect(await screen.findByText(/unknown, has expired or was deleted/i)).toBeInTheDocument();
  });
});

describe("the organiser's removals", () => {
  it('lists them and undoes one', async () => {
    const removal = {
      id: 4,
      at: '2026-12-08T10:00:00Z',
      changed_at: '2026-12-08T10:00:00Z',
      status: 'active',
      description: 'a visitor asked to be removed (3 face embeddings)',
    };
    let undone = false;
    const { calls } = mockFetch({
      'GET /api/removals': () => ({ json: { removals: [{ ...removal, status: undone ? 'undone' : 'active' }] } }),
      'POST /api/removals/4/undo': () => {
        undone = true;
        return { json: { ...removal, status: 'undone' } };
      },
    });
    renderWithTheme(<RemovalsPanel />);
    const row = await screen.findByTestId('removal');
    expect(row).toHaveTextContent(/asked to be removed.*removed/);
    await userEvent.click(within(row).getByRole('button', { name: 'Undo' }));
    await waitFor(() => expect(screen.getByTestId('removal')).toHaveTextContent(/undone/));
    expect(screen.queryByRole('button', { name: 'Undo' })).not.toBeInTheDocument();
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(1);
  });
});
