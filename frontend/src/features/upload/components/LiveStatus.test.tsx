import { act, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import App from '../../../App';
import { LiveStatusPanel } from './LiveStatusPanel';
import { mockFetch, renderWithTheme } from '../../../test/utils';
import { liveNow as NOW, organiserLive, status, visitorLive } from '../../../test/fixtures';
import { organiserRoutes, organiserSession } from '../../../test/organiser';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('LiveStatusPanel (organiser)', () => {
  it('shows what the watcher is doing', () => {
    renderWithTheme(<LiveStatusPanel live={organiserLive} now={NOW} />);
    expect(screen.getByText('Watching the gallery')).toBeInTheDocument();
    expect(screen.getByText('Grouping people again…')).toBeInTheDocument();
    expect(screen.getByTestId('live-waiting')).toHaveTextContent('Waiting5');
    expect(screen.getByTestId('live-indexing')).toHaveTextContent('Being indexed2');
    expect(screen.getByTestId('live-last-change')).toHaveTextContent('3 min ago');
    expect(screen.getByTestId('live-last-indexed')).toHaveTextContent('just now');
    expect(screen.getByTestId('live-last-reclustered')).toHaveTextContent('3 h ago');
    expect(screen.getByTestId('live-errors')).toHaveTextContent('1');
    expect(screen.getByTestId('live-message')).toHaveTextContent('cannot read uploads/2026-12-02/broken.jpg');
  });

  it('says when the watcher has stopped, and when none ever ran', () => {
    const { unmount } = renderWithTheme(
      <LiveStatusPanel live={{ ...organiserLive, watching: false, reclustering: false, message: null }} now={NOW} />,
    );
    expect(screen.getByText('Watcher stopped · last heard just now')).toBeInTheDocument();
    expect(screen.getByTestId('live-not-watching')).toHaveTextContent('become searchable at the next indexing');
    expect(screen.queryByText('Grouping people again…')).not.toBeInTheDocument();
    expect(screen.queryByTestId('live-message')).not.toBeInTheDocument();
    unmount();
    renderWithTheme(<LiveStatusPanel live={null} />);
    expect(screen.getByTestId('live-status')).toHaveTextContent('become searchable at the next indexing of the gallery');
    // the organiser is never told to run a command
    expect(screen.getByTestId('live-status')).not.toHaveTextContent(/faceexplore|--watch|run /i);
  });
});

describe('live gallery in the app', () => {
  it('tells visitors on the search page that photos are being added, polling every 10 s', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    vi.setSystemTime(NOW);
    let adding = 7;
    const { calls } = mockFetch({
      'GET /api/status': () => ({ json: { ...status, live: { ...visitorLive, adding } } }),
      'GET /api/session': { json: { organiser: false, password_set: true, csrf_token: null, people_page: 'public' } },
    });
    renderWithTheme(<App />);
    expect(await screen.findByTestId('live-line')).toHaveTextContent('Photos are being added: 7 waiting · last added just now');
    const polls = () => calls.filter((c) => c.url === '/api/status').length;
    expect(polls()).toBe(1);

    adding = 3;
    await act(() => vi.advanceTimersByTimeAsync(10_000));
    await waitFor(() => expect(polls()).toBe(2));
    expect(await screen.findByTestId('live-line')).toHaveTextContent('Photos are being added: 3 waiting');

    // a hidden tab asks nothing
    const visibility = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden');
    await act(() => vi.advanceTimersByTimeAsync(30_000));
    expect(polls()).toBe(2); // the scheduled poll saw the tab hidden and stopped
    visibility.mockReturnValue('visible');
    document.dispatchEvent(new Event('visibilitychange'));
    await waitFor(() => expect(polls()).toBe(3)); // shown again: asks at once
  });

  it('shows no live line without a running watcher', async () => {
    const { calls } = mockFetch({ 'GET /api/status': { json: status } });
    renderWithTheme(<App />);
    await waitFor(() => expect(calls.some((c) => c.url === '/api/status')).toBe(true));
    expect(await screen.findByTestId('status-line')).toBeInTheDocument();
    expect(screen.queryByTestId('live-line')).not.toBeInTheDocument();
  });

  it('gives the organiser Add photos and the watcher state on the People page', async () => {
    window.location.hash = '#/people';
    const { routes } = organiserRoutes(organiserSession);
    mockFetch({ ...routes, 'GET /api/status': { json: { ...status, uploads: true, live: organiserLive } } });
    renderWithTheme(<App />);
    const panel = await screen.findByRole('region', { name: 'Live gallery' });
    expect(within(panel).getByRole('button', { name: 'Add photos' })).toBeInTheDocument();
    expect(await within(panel).findByTestId('live-waiting')).toHaveTextContent('5');
  });

  it('hides Add photos where the server turned uploads off, and the panel from visitors', async () => {
    window.location.hash = '#/people';
    const { routes } = organiserRoutes(organiserSession);
    mockFetch({ ...routes, 'GET /api/status': { json: { ...status, uploads: false, live: null } } });
    const { unmount } = renderWithTheme(<App />);
    const panel = await screen.findByRole('region', { name: 'Live gallery' });
    expect(await within(panel).findByText(/turned off on this server/)).toBeInTheDocument();
    expect(within(panel).queryByRole('button', { name: 'Add photos' })).not.toBeInTheDocument();
    unmount();

    window.location.hash = '#/people';
    mockFetch(organiserRoutes().routes);
    renderWithTheme(<App />);
    await screen.findByRole('heading', { name: 'People in the gallery' });
    expect(screen.queryByRole('region', { name: 'Live gallery' })).not.toBeInTheDocument();
  });
});
