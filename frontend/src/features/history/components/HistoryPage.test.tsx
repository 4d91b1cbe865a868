import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../../../App';
import { mockFetch, renderWithTheme } from '../../../test/utils';
import { CSRF, organiserRoutes, organiserSession, visitorSession } from '../../../test/organiser';
import type { Correction } from '../../../types/api';

const correction = (id: number, description: string, extra: Partial<Correction> = {}): Correction => ({
  id,
  at: '2026-12-02T15:00:00Z',
  kind: 'rename',
  description,
  undone: false,
  who: 'organiser (web, 10.0.0.7)',
  undone_with: null,
  undoable: true,
  not_undoable_because: null,
  ...extra,
});

describe('organiser: History', () => {
  it('lists corrections newest first, asks before an undo what else it takes back, and shows them undone', async () => {
    window.location.hash = '#/history';
    let undone = false;
    const log = () => [
      correction(3, 'Named Person 4 “Ann”', undone ? { undone: true, undone_with: 1, undoable: false } : {}),
      correction(2, 'Hid Person 9', { kind: 'hide', who: 'cli' }),
      correction(1, 'Merged Person 5 into Person 4', undone ? { kind: 'merge', undone: true, undoable: false } : { kind: 'merge' }),
      correction(0, 'Moved 1 face to person 2', { kind: 'move', undoable: false, not_undoable_because: 'It is part of the people since the faces were clustered again.' }),
    ];
    const { routes } = organiserRoutes(organiserSession);
    const { calls } = mockFetch({
      ...routes,
      'GET /api/corrections': () => ({ json: { corrections: log() } }),
      'GET /api/corrections/1/undo-plan': { json: { correction: log()[2], also: [log()[0]] } },
      'POST /api/corrections/1/undo': () => {
        undone = true;
        return { json: { undone: log()[2], also: [log()[0]] } };
      },
    });
    renderWithTheme(<App />);

    const rows = within(await screen.findByRole('list', { name: 'Corrections, newest first' })).getAllByRole('listitem');
    expect(rows.map((r) => r.textContent)).toEqual([
      expect.stringContaining('Named Person 4 “Ann”'),
      expect.stringContaining('Hid Person 9'),
      expect.stringContaining('Merged Person 5 into Person 4'),
      expect.stringContaining('Moved 1 face to person 2'),
    ]);
    expect(rows[1]).toHaveTextContent('#2');
    expect(rows[1]).toHaveTextContent('cli');
    expect(rows[0]).toHaveTextContent('organiser (web, 10.0.0.7)');
    expect(within(rows[3]).queryByRole('button', { name: /undo/i })).not.toBeInTheDocument();
    expect(rows[3]).toHaveTextContent('Cannot be undone');

    await userEvent.click(within(rows[2]).getByRole('button', { name: 'Undo: Merged Person 5 into Person 4' }));
    const dialog = await screen.findByRole('dialog', { name: 'Undo this?' });
    expect(within(dialog).getByTestId('undo-also')).toHaveTextContent('Named Person 4 “Ann”');
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0); // asking changes nothing

    await userEvent.click(within(dialog).getByRole('button', { name: 'Undo' }));
    const post = calls.find((c) => c.method === 'POST');
    expect(post?.url).toBe('/api/corrections/1/undo');
    expect(post?.headers['X-CSRF-Token']).toBe(CSRF);
    expect(await screen.findByTestId('history-note')).toHaveTextContent(
      'Undone: Merged Person 5 into Person 4. It also took back: Named Person 4 “Ann”.',
    );
    await waitFor(() => expect(screen.getByTestId('correction-3')).toHaveTextContent('Undone with #1'));
    expect(screen.getByTestId('correction-1')).toHaveTextContent('Undone');
  });

  it('is not offered to a visitor', async () => {
    window.location.hash = '#/';
    const { routes } = organiserRoutes(visitorSession);
    mockFetch(routes);
    renderWithTheme(<App />);
    await screen.findByRole('tab', { name: /people/i });
    expect(screen.queryByRole('tab', { name: /history/i })).not.toBeInTheDocument();
  });
});
