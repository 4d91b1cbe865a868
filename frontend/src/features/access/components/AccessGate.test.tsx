import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { mockFetch, renderWithTheme } from '../../../test/utils';
import { AccessGate, CONSENT_KEY } from './AccessGate';

const NOTICE = 'Your photo is analysed in memory and never stored. Search only for yourself.';
const state = (granted: boolean) => ({ required: true, granted, event_name: 'Summer party', consent_text: NOTICE });

const gate = () =>
  renderWithTheme(
    <AccessGate>
      <p>the search form</p>
    </AccessGate>,
  );

afterEach(() => {
  window.localStorage.clear();
  window.history.replaceState(null, '', '/');
});

describe('access code and notice before the first search', () => {
  it('asks for the code, says when it is wrong, then shows the notice to tick once per browser', async () => {
    const { calls } = mockFetch({
      'GET /api/access': { json: state(false) },
      'POST /api/access': (call) =>
        JSON.parse(String(call.body)).code === 'ACDEFGHJ'
          ? { json: state(true) }
          : { status: 403, json: { error: { code: 'wrong_code', message: "That is not the event's access code." } } },
    });
    gate();
    await userEvent.type(await screen.findByRole('textbox', { name: /access code/i }), 'WRONG');
    await userEvent.click(screen.getByRole('button', { name: /continue/i }));
    expect(await screen.findByRole('alert')).toHaveTextContent("That is not the event's access code.");
    expect(screen.queryByText('the search form')).not.toBeInTheDocument();

    await userEvent.clear(screen.getByRole('textbox', { name: /access code/i }));
    await userEvent.type(screen.getByRole('textbox', { name: /access code/i }), 'ACDEFGHJ');
    await userEvent.click(screen.getByRole('button', { name: /continue/i }));
    expect(await screen.findByTestId('consent-text')).toHaveTextContent(NOTICE);
    const go = screen.getByRole('button', { name: /continue to the search/i });
    expect(go).toBeDisabled();
    await userEvent.click(screen.getByRole('checkbox'));
    await userEvent.click(go);
    expect(screen.getByText('the search form')).toBeInTheDocument();
    expect(window.localStorage.getItem(CONSENT_KEY)).toBe(NOTICE);
    // the tick is this browser's only: nothing about it was sent
    expect(calls.filter((c) => c.method === 'POST').map((c) => JSON.parse(String(c.body)))).toEqual([
      { code: 'WRONG' },
      { code: 'ACDEFGHJ' },
    ]);
  });

  it("exchanges a QR link's ?code= and removes it from the address bar; a ticked notice is not asked again", async () => {
    window.history.replaceState(null, '', '/?code=ACDEFGHJ#search');
    window.localStorage.setItem(CONSENT_KEY, NOTICE);
    const { calls } = mockFetch({ 'GET /api/access': { json: state(false) }, 'POST /api/access': { json: state(true) } });
    gate();
    expect(await screen.findByText('the search form')).toBeInTheDocument();
    expect(window.location.search).toBe('');
    expect(window.location.hash).toBe('#search');
    await waitFor(() => expect(calls.some((c) => c.method === 'POST')).toBe(true));
    expect(JSON.parse(String(calls.find((c) => c.method === 'POST')?.body))).toEqual({ code: 'ACDEFGHJ' });
  });
});
