import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../../../App';
import { getCsrfToken } from '../../../lib/api-client';
import { mockFetch, renderWithTheme } from '../../../test/utils';
import { CSRF, organiserRoutes } from '../../../test/organiser';

const login = async (password: string) => {
  await userEvent.type(screen.getByLabelText(/password/i), password);
  await userEvent.click(screen.getByRole('button', { name: /^log in$/i }));
};

describe('organiser login', () => {
  it('a visitor sees only the Organiser button; a wrong password says so; the right one logs in; logout logs out', async () => {
    window.location.hash = '#/people';
    const { routes } = organiserRoutes();
    const { calls } = mockFetch(routes);
    renderWithTheme(<App />);
    await screen.findAllByTestId('person-card');
    // Nothing of the organiser's on a visitor's page.
    expect(screen.queryByLabelText(/search names/i)).not.toBeInTheDocument();
    expect(screen.queryByRole('checkbox')).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /rename/i })).not.toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Organiser' }));
    const dialog = await screen.findByRole('dialog');
    await login('nope');
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('Wrong password.');

    await userEvent.clear(within(dialog).getByLabelText(/password/i));
    await login('secret');
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument());
    expect(screen.getByRole('button', { name: /log out/i })).toBeInTheDocument();
    expect(getCsrfToken()).toBe(CSRF);
    // The people page now has the organiser's tools.
    expect(await screen.findByLabelText(/search names/i)).toBeInTheDocument();
    expect(screen.getAllByRole('checkbox')).toHaveLength(3);
    const loginCall = calls.filter((c) => c.method === 'POST' && c.url === '/api/session').at(-1);
    expect(JSON.parse(String(loginCall?.body))).toEqual({ password: 'secret' });

    await userEvent.click(screen.getByRole('button', { name: /log out/i }));
    expect(await screen.findByRole('button', { name: 'Organiser' })).toBeInTheDocument();
    expect(calls.some((c) => c.method === 'DELETE' && c.url === '/api/session')).toBe(true);
    expect(getCsrfToken()).toBeNull();
    await waitFor(() => expect(screen.queryByLabelText(/search names/i)).not.toBeInTheDocument());
  });

  it('shows the login form instead of an organiser-only People page, and the page after logging in', async () => {
    window.location.hash = '#/people';
    const { routes } = organiserRoutes(undefined, { peopleForOrganiserOnly: true });
    mockFetch(routes);
    renderWithTheme(<App />);
    const form = await screen.findByTestId('login-required');
    expect(form).toHaveTextContent(/for its organiser/i);
    expect(screen.queryByTestId('person-card')).not.toBeInTheDocument();
    await login('secret');
    expect(await screen.findAllByTestId('person-card')).toHaveLength(3);
    expect(screen.queryByTestId('login-required')).not.toBeInTheDocument();
  });

  it.each([
    [403, 'no_password', 'No organiser password is set: run faceexplore --data DATA set-password to set one.'],
    [429, 'rate_limited', 'Too many failed attempts: wait a minute and try again.'],
  ])('shows the server message for HTTP %s %s', async (status, code, message) => {
    window.location.hash = '#/people';
    const { routes } = organiserRoutes();
    mockFetch({ ...routes, 'POST /api/session': { status, json: { error: { code, message } } } });
    renderWithTheme(<App />);
    await userEvent.click(await screen.findByRole('button', { name: 'Organiser' }));
    await login('secret');
    expect(await within(screen.getByRole('dialog')).findByRole('alert')).toHaveTextContent(message);
    expect(screen.queryByRole('button', { name: /log out/i })).not.toBeInTheDocument();
  });

  it('says up front when no password has been set', async () => {
    const { routes } = organiserRoutes({ organiser: false, password_set: false, csrf_token: null, people_page: 'public' });
    mockFetch(routes);
    renderWithTheme(<App />);
    await waitFor(() => expect(screen.getByRole('button', { name: 'Organiser' })).toBeInTheDocument());
    // Let the session answer arrive before opening the dialog.
    await new Promise((r) => setTimeout(r, 50));
    await userEvent.click(screen.getByRole('button', { name: 'Organiser' }));
    expect(await within(screen.getByRole('dialog')).findByText(/set-password/)).toBeInTheDocument();
  });

  it('hides the People tab from visitors where the people pages are the organiser\'s, and asks the API nothing about people', async () => {
    window.location.hash = '#/';
    const { routes } = organiserRoutes(undefined, { peopleForOrganiserOnly: true });
    const { calls } = mockFetch(routes);
    renderWithTheme(<App />);
    const tabs = await screen.findByRole('tablist', { name: 'Sections' });
    await waitFor(() => expect(calls.some((c) => c.url === '/api/session')).toBe(true));
    await new Promise((r) => setTimeout(r, 50));
    expect(within(tabs).getAllByRole('tab').map((t) => t.textContent)).toEqual(['Search']);
    expect(calls.some((c) => c.url.startsWith('/api/people'))).toBe(false);
    // On a phone the button is an icon: its name is the aria-label, the tooltip describes it.
    expect(screen.getByRole('button', { name: 'Organiser' })).toHaveAccessibleDescription('Organiser login');
  });

  it('after logging in says so and goes to People, where the People tab now is', async () => {
    window.location.hash = '#/';
    const { routes } = organiserRoutes(undefined, { peopleForOrganiserOnly: true });
    mockFetch(routes);
    renderWithTheme(<App />);
    await userEvent.click(await screen.findByRole('button', { name: 'Organiser' }));
    await login('secret');
    expect(await screen.findByText('Logged in as the organiser.')).toBeInTheDocument();
    await waitFor(() => expect(window.location.hash).toBe('#/people'));
    expect(await screen.findAllByTestId('person-card')).toHaveLength(3);
    expect(await screen.findByRole('tab', { name: 'People', selected: true })).toBeInTheDocument();
  });

  it('shows the People tab to visitors where the people pages are public', async () => {
    window.location.hash = '#/';
    const { routes } = organiserRoutes();
    mockFetch(routes);
    renderWithTheme(<App />);
    expect(await screen.findByRole('tab', { name: 'People' })).toBeInTheDocument();
  });
});
