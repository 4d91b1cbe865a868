import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mockFetch, renderWithTheme } from '../../../test/utils';
import { AccessCodePanel } from './AccessCodePanel';

const info = (code: string, generation: number) => ({
  required: true,
  code,
  link: `http://localhost:8765/?code=${code}`,
  generation,
});

afterEach(() => vi.restoreAllMocks());

describe("the organiser's access code panel", () => {
  it('shows the code, its link and the posters; New code asks first, then shows the new one', async () => {
    const { calls } = mockFetch({
      'GET /api/access-code': { json: info('ACDEFGHJ', 1) },
      'POST /api/access-code/rotate': { json: info('KMNPQRTU', 2) },
    });
    const confirm = vi.spyOn(window, 'confirm').mockReturnValueOnce(false).mockReturnValueOnce(true);
    renderWithTheme(<AccessCodePanel />);
    expect(await screen.findByTestId('access-code')).toHaveTextContent('ACDEFGHJ');
    expect(screen.getByTestId('access-link')).toHaveAttribute('href', 'http://localhost:8765/?code=ACDEFGHJ');
    expect(screen.getByRole('link', { name: /qr poster \(png\)/i })).toHaveAttribute('href', '/api/access-code/poster.png');
    expect(screen.getByRole('link', { name: /qr poster \(pdf\)/i })).toHaveAttribute('href', '/api/access-code/poster.pdf');

    await userEvent.click(screen.getByRole('button', { name: /new code/i }));
    expect(calls.some((c) => c.method === 'POST')).toBe(false); // declined
    await userEvent.click(screen.getByRole('button', { name: /new code/i }));
    await waitFor(() => expect(screen.getByTestId('access-code')).toHaveTextContent('KMNPQRTU'));
    expect(confirm).toHaveBeenCalledTimes(2);
    expect(calls.filter((c) => c.method === 'POST').map((c) => c.url)).toEqual(['/api/access-code/rotate']);
  });
});
