import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../../../App';
import { mockFetch, renderWithTheme } from '../../../test/utils';
import { peoplePage1, person3, status } from '../../../test/fixtures';

describe('People page', () => {
  it('lists people with photo counts and flags, and opens one', async () => {
    window.location.hash = '#/people';
    const { calls } = mockFetch({
      'GET /api/status': { json: status },
      'GET /api/people': { json: peoplePage1 },
      'GET /api/people/3': { json: person3 },
    });
    renderWithTheme(<App />);

    const cards = await screen.findAllByTestId('person-card');
    expect(cards).toHaveLength(2);
    expect(within(cards[0]).getByText('Person 3')).toBeInTheDocument();
    expect(within(cards[0]).getByText('7 photos')).toBeInTheDocument();
    expect(within(cards[0]).getByText('May be two people')).toBeInTheDocument();
    expect(within(cards[1]).queryByTestId('flag-chip')).not.toBeInTheDocument();
    expect(screen.getByText(/50 people found/)).toBeInTheDocument();
    expect(screen.getByRole('navigation', { name: /people pages/i })).toBeInTheDocument();
    expect(calls.some((c) => c.url === '/api/people?page=1&per_page=48')).toBe(true);

    await userEvent.click(screen.getByRole('link', { name: /person 3: 7 photos/i }));
    expect(await screen.findByRole('heading', { name: 'Person 3' })).toBeInTheDocument();
    await waitFor(() => expect(calls.some((c) => c.url.startsWith('/api/people/3?'))).toBe(true));
    const gallery = screen.getByRole('region', { name: /photos of person 3/i });
    expect(within(gallery).getAllByRole('link')).toHaveLength(2);
    expect(within(gallery).getByRole('link', { name: /group\/bbt5\.jpg/ })).toHaveAttribute('href', '/gallery/group/bbt5.jpg');
    expect(screen.getByRole('button', { name: /download all 2 photos/i })).toBeInTheDocument();
  });

  it('shows a stand-in for a person without a cover face', async () => {
    window.location.hash = '#/people';
    const noCover = { ...peoplePage1.people[1], cover_url: null };
    mockFetch({
      'GET /api/status': { json: status },
      'GET /api/people': { json: { ...peoplePage1, people: [peoplePage1.people[0], noCover] } },
    });
    renderWithTheme(<App />);
    const cards = await screen.findAllByTestId('person-card');
    expect(within(cards[0]).getByRole('img', { name: 'Face of Person 3' })).toHaveAttribute('src', '/cache/faces/160/123.jpg');
    expect(within(cards[1]).queryByRole('img')).not.toBeInTheDocument();
    expect(within(cards[1]).getByTestId('no-cover')).toBeInTheDocument();
  });

  it('goes to the next page', async () => {
    window.location.hash = '#/people';
    const { calls } = mockFetch({
      'GET /api/status': { json: status },
      'GET /api/people': (call) => ({ json: { ...peoplePage1, page: call.url.includes('page=2') ? 2 : 1 } }),
    });
    renderWithTheme(<App />);
    await screen.findAllByTestId('person-card');
    await userEvent.click(screen.getByRole('button', { name: /go to page 2/i }));
    await waitFor(() => expect(calls.some((c) => c.url === '/api/people?page=2&per_page=48')).toBe(true));
  });

  it('shows an error with a retry when the server fails', async () => {
    window.location.hash = '#/people';
    let fail = true;
    mockFetch({
      'GET /api/status': { json: status },
      'GET /api/people': () => (fail ? { status: 500, json: { error: { code: 'internal', message: 'Something went wrong on the server.' } } } : { json: peoplePage1 }),
    });
    renderWithTheme(<App />);
    expect(await screen.findByRole('alert')).toHaveTextContent('Something went wrong on the server.');
    fail = false;
    await userEvent.click(screen.getByRole('button', { name: /try again/i }));
    expect(await screen.findAllByTestId('person-card')).toHaveLength(2);
  });

  it('switches between Search and People with the top navigation', async () => {
    mockFetch({
      'GET /api/status': { json: status },
      'GET /api/session': { json: { organiser: false, password_set: true, csrf_token: null, people_page: 'public' } },
      'GET /api/people': { json: peoplePage1 },
    });
    renderWithTheme(<App />);
    expect(await screen.findByTestId('status-line')).toHaveTextContent('Searching 30 photos · 12 people');
    await userEvent.click(screen.getByRole('tab', { name: /people/i }));
    expect(await screen.findByRole('heading', { name: /people in the gallery/i })).toBeInTheDocument();
    await userEvent.click(screen.getByRole('tab', { name: /search/i }));
    expect(screen.getByLabelText(/upload sample photos/i)).toBeVisible();
  });
});
