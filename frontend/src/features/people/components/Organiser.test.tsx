import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../../../App';
import { mockFetch, renderWithTheme, type Call } from '../../../test/utils';
import { CSRF, organiserRoutes, organiserSession } from '../../../test/organiser';

const changes = (calls: Call[]) => calls.filter((c) => c.method !== 'GET');
const bodyOf = (call: Call | undefined) => JSON.parse(String(call?.body));

async function openAsOrganiser(hash: string) {
  window.location.hash = hash;
  const { routes } = organiserRoutes(organiserSession);
  const mock = mockFetch(routes);
  renderWithTheme(<App />);
  await screen.findByRole('button', { name: /log out/i });
  return mock;
}

describe('organiser: People page', () => {
  it('renames in place: Enter saves (with the CSRF token), Escape cancels', async () => {
    const { calls } = await openAsOrganiser('#/people');
    await screen.findAllByRole('checkbox');

    await userEvent.click(screen.getByRole('button', { name: 'Rename Person 3' }));
    await userEvent.type(screen.getByLabelText('Name of Person 3'), 'Nobody{Escape}');
    expect(screen.queryByLabelText('Name of Person 3')).not.toBeInTheDocument();
    expect(changes(calls)).toHaveLength(0);

    await userEvent.click(screen.getByRole('button', { name: 'Rename Person 3' }));
    await userEvent.type(screen.getByLabelText('Name of Person 3'), '  Amy {Enter}');
    await waitFor(() => expect(changes(calls)).toHaveLength(1));
    const patch = changes(calls)[0];
    expect(patch.method).toBe('PATCH');
    expect(patch.url).toBe('/api/people/3');
    expect(bodyOf(patch)).toEqual({ name: 'Amy' });
    expect(patch.headers['X-CSRF-Token']).toBe(CSRF);
    expect(await screen.findByTestId('correction-snackbar')).toHaveTextContent('Renamed Person 3 to “Amy”.');
    // Reads never carry the token.
    expect(calls.filter((c) => c.method === 'GET').every((c) => !('X-CSRF-Token' in c.headers))).toBe(true);
  });

  it('undoes the last correction from the snackbar and loads the page again', async () => {
    const { calls } = await openAsOrganiser('#/people');
    await screen.findAllByRole('checkbox');
    await userEvent.click(screen.getByRole('button', { name: 'Rename Person 3' }));
    await userEvent.type(screen.getByLabelText('Name of Person 3'), 'Amy{Enter}');
    const snackbar = await screen.findByTestId('correction-snackbar');
    const loadsBefore = calls.filter((c) => c.url.startsWith('/api/people?')).length;

    await userEvent.click(within(snackbar).getByRole('button', { name: 'Undo' }));
    expect(await screen.findByText('Undone: Renamed Person 3 to Amy')).toBeInTheDocument();
    const undo = calls.find((c) => c.url === '/api/undo');
    expect(undo?.method).toBe('POST');
    expect(undo?.headers['X-CSRF-Token']).toBe(CSRF);
    await waitFor(() => expect(calls.filter((c) => c.url.startsWith('/api/people?')).length).toBeGreaterThan(loadsBefore));
  });

  it('says so when there is nothing to undo', async () => {
    window.location.hash = '#/people';
    const { routes } = organiserRoutes(organiserSession);
    mockFetch({
      ...routes,
      'POST /api/undo': { status: 409, json: { error: { code: 'nothing_to_undo', message: 'There is nothing to undo.' } } },
    });
    renderWithTheme(<App />);
    await screen.findAllByRole('checkbox');
    await userEvent.click(screen.getByRole('button', { name: 'Hide Person 4' }));
    await userEvent.click(within(await screen.findByTestId('correction-snackbar')).getByRole('button', { name: 'Undo' }));
    expect(await screen.findByText('There is nothing to undo.')).toBeInTheDocument();
  });

  it('merges the selected people into the one the organiser picks', async () => {
    const { calls } = await openAsOrganiser('#/people');
    await screen.findAllByRole('checkbox');
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select Person 3' }));
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select Bob' }));
    const toolbar = screen.getByRole('toolbar', { name: /selected people/i });
    expect(toolbar).toHaveTextContent('2 people selected');
    await userEvent.click(within(toolbar).getByRole('button', { name: /merge/i }));

    const dialog = await screen.findByRole('dialog', { name: /merge 2 people/i });
    // The named person is offered first.
    expect(within(dialog).getByRole('radio', { name: /bob/i })).toBeChecked();
    await userEvent.click(within(dialog).getByRole('button', { name: 'Merge into Bob' }));
    await waitFor(() => expect(changes(calls)).toHaveLength(1));
    const merge = changes(calls)[0];
    expect(merge.url).toBe('/api/people/5/merge');
    expect(bodyOf(merge)).toEqual({ people: [3] });
    expect(merge.headers['X-CSRF-Token']).toBe(CSRF);
    expect(await screen.findByTestId('correction-snackbar')).toHaveTextContent('Merged 2 people into Bob.');
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(screen.queryByRole('toolbar', { name: /selected people/i })).not.toBeInTheDocument();
  });

  it('selects a range with shift-click and lets the organiser pick another target', async () => {
    const { calls } = await openAsOrganiser('#/people');
    await screen.findAllByRole('checkbox');
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select Person 3' }));
    const user = userEvent.setup();
    await user.keyboard('{Shift>}');
    await user.click(screen.getByRole('checkbox', { name: 'Select Bob' }));
    await user.keyboard('{/Shift}');
    expect(screen.getAllByRole('checkbox', { checked: true })).toHaveLength(3);
    await user.click(screen.getByRole('button', { name: /merge/i }));
    const dialog = await screen.findByRole('dialog', { name: /merge 3 people/i });
    await user.click(within(dialog).getByRole('radio', { name: /person 4/i }));
    await user.click(within(dialog).getByRole('button', { name: 'Merge into Person 4' }));
    await waitFor(() => expect(changes(calls)).toHaveLength(1));
    expect(changes(calls)[0].url).toBe('/api/people/4/merge');
    expect(bodyOf(changes(calls)[0]).people.sort()).toEqual([3, 5]);
  });

  it('hides a person; a hidden person is dimmed and labelled', async () => {
    window.location.hash = '#/people';
    const { routes } = organiserRoutes(organiserSession);
    const hiddenOnes = new Set<number>();
    mockFetch({
      ...routes,
      'GET /api/people': (call) => {
        const res = (routes['GET /api/people'] as (c: Call) => { json: { people: { id: number; hidden: boolean }[] } })(call);
        return { json: { ...res.json, people: res.json.people.map((p) => ({ ...p, hidden: hiddenOnes.has(p.id) })) } };
      },
      'PATCH /api/people/3': (call) => {
        if (bodyOf(call).hidden) hiddenOnes.add(3);
        return { json: {} };
      },
    });
    renderWithTheme(<App />);
    await screen.findAllByRole('checkbox');
    await userEvent.click(screen.getByRole('button', { name: 'Hide Person 3' }));
    expect(await screen.findByTestId('correction-snackbar')).toHaveTextContent('Person 3 is hidden from visitors.');
    const card = (await screen.findByRole('button', { name: 'Unhide Person 3' })).closest('[data-testid="person-card"]') as HTMLElement;
    expect(card).toHaveAttribute('data-hidden', 'true');
    expect(within(card).getByText('Hidden')).toBeInTheDocument();
  });

  it('searches names with the q parameter', async () => {
    const { calls } = await openAsOrganiser('#/people');
    await userEvent.type(await screen.findByLabelText(/search names/i), 'bo');
    await waitFor(() => expect(calls.some((c) => c.url === '/api/people?page=1&per_page=48&q=bo')).toBe(true));
    await waitFor(() => expect(screen.getAllByTestId('person-card')).toHaveLength(1));
    expect(screen.getByText('Bob')).toBeInTheDocument();
  });

  it('shows the quality flags as where to look first', async () => {
    await openAsOrganiser('#/people');
    expect(await screen.findByTestId('flag-summary')).toHaveTextContent('1 person on this page is flagged');
  });
});

describe('organiser: person page', () => {
  it('moves shift-click-selected faces to a person picked by name', async () => {
    const { calls } = await openAsOrganiser('#/people/3');
    const grid = await screen.findByRole('region', { name: 'Faces of Person 3' });
    const tiles = within(grid).getAllByTestId('face-tile');
    expect(tiles).toHaveLength(4);
    const user = userEvent.setup();
    await user.click(tiles[0]);
    await user.keyboard('{Shift>}');
    await user.click(tiles[2]);
    await user.keyboard('{/Shift}');
    expect(tiles.map((t) => t.getAttribute('aria-pressed'))).toEqual(['true', 'true', 'true', 'false']);
    // A plain click toggles one off again.
    await user.click(tiles[1]);
    expect(screen.getByRole('toolbar', { name: /selected faces/i })).toHaveTextContent('2 faces selected');

    await user.click(screen.getByRole('button', { name: /move to/i }));
    const dialog = await screen.findByRole('dialog', { name: /move 2 faces/i });
    await user.type(within(dialog).getByLabelText(/search names/i), 'bob');
    await waitFor(() => expect(calls.some((c) => c.url.includes('q=bob'))).toBe(true));
    const list = within(dialog).getByRole('list', { name: 'Move to' });
    await waitFor(() => expect(within(list).getAllByRole('button')).toHaveLength(2)); // a new person, Bob
    await user.click(within(list).getByRole('button', { name: /bob/i }));

    await waitFor(() => expect(changes(calls)).toHaveLength(1));
    const move = changes(calls)[0];
    expect(move.url).toBe('/api/faces/move');
    expect(bodyOf(move)).toEqual({ faces: [11, 13], to: 5 });
    expect(move.headers['X-CSRF-Token']).toBe(CSRF);
    expect(await screen.findByTestId('correction-snackbar')).toHaveTextContent('Moved 2 faces to Bob.');
  });

  it('moves faces to a new person', async () => {
    const { calls } = await openAsOrganiser('#/people/3');
    const grid = await screen.findByRole('region', { name: 'Faces of Person 3' });
    await userEvent.click(within(grid).getAllByTestId('face-tile')[3]);
    await userEvent.click(screen.getByRole('button', { name: /move to/i }));
    const dialog = await screen.findByRole('dialog', { name: /move 1 face/i });
    await userEvent.click(within(dialog).getByRole('button', { name: /a new person/i }));
    await waitFor(() => expect(changes(calls)).toHaveLength(1));
    expect(bodyOf(changes(calls)[0])).toEqual({ faces: [14], to: null });
    expect(await screen.findByTestId('correction-snackbar')).toHaveTextContent('Moved 1 face to a new person, Person 60.');
  });

  it('marks faces as not a face, and undoes it', async () => {
    const { calls } = await openAsOrganiser('#/people/3');
    const grid = await screen.findByRole('region', { name: 'Faces of Person 3' });
    await userEvent.click(within(grid).getAllByTestId('face-tile')[1]);
    await userEvent.click(screen.getByRole('button', { name: /not a face/i }));
    await waitFor(() => expect(changes(calls)).toHaveLength(1));
    expect(changes(calls)[0].url).toBe('/api/faces/reject');
    expect(bodyOf(changes(calls)[0])).toEqual({ faces: [12] });
    const snackbar = await screen.findByTestId('correction-snackbar');
    expect(snackbar).toHaveTextContent('1 face marked as not a face.');
    const facesLoads = calls.filter((c) => c.url.startsWith('/api/people/3/faces')).length;
    await userEvent.click(within(snackbar).getByRole('button', { name: 'Undo' }));
    await waitFor(() => expect(calls.some((c) => c.url === '/api/undo')).toBe(true));
    await waitFor(() => expect(calls.filter((c) => c.url.startsWith('/api/people/3/faces')).length).toBeGreaterThan(facesLoads));
  });

  it('renames and hides from the person page', async () => {
    const { calls } = await openAsOrganiser('#/people/3');
    await screen.findByRole('region', { name: 'Faces of Person 3' });
    await userEvent.click(screen.getByRole('button', { name: 'Rename Person 3' }));
    await userEvent.type(screen.getByLabelText('Name of Person 3'), 'Amy{Enter}');
    await waitFor(() => expect(changes(calls)).toHaveLength(1));
    expect(bodyOf(changes(calls)[0])).toEqual({ name: 'Amy' });
    await userEvent.click(screen.getByRole('button', { name: /hide from visitors/i }));
    await waitFor(() => expect(changes(calls)).toHaveLength(2));
    expect(bodyOf(changes(calls)[1])).toEqual({ hidden: true });
  });

  it('asks to log in again when the session has ended', async () => {
    window.location.hash = '#/people/3';
    const { routes } = organiserRoutes(organiserSession);
    let sessionAnswers = 0;
    mockFetch({
      ...routes,
      // The first answer: organiser; later (after the 401): the session is gone.
      'GET /api/session': () => ({ json: sessionAnswers++ === 0 ? organiserSession : { organiser: false, password_set: true, csrf_token: null, people_page: 'public' } }),
      'POST /api/faces/reject': { status: 401, json: { error: { code: 'login_required', message: 'Log in as the organiser first.' } } },
    });
    renderWithTheme(<App />);
    const grid = await screen.findByRole('region', { name: 'Faces of Person 3' });
    await userEvent.click(within(grid).getAllByTestId('face-tile')[0]);
    await userEvent.click(screen.getByRole('button', { name: /not a face/i }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByLabelText(/password/i)).toBeInTheDocument();
  });
});
