import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import App from '../../../App';
import { mockFetch, renderWithTheme, type Call } from '../../../test/utils';
import { CSRF, organiserRoutes, organiserSession, visitorSession } from '../../../test/organiser';
import type { ReviewQuestion } from '../../../types/api';

const crop = (id: number) => `/cache/faces/160/${id}.jpg`;
const QUESTIONS: ReviewQuestion[] = [
  {
    id: 'aaaaaaaaaaaaaaaa',
    kind: 'same_person',
    a: { person: 3, faces: [11, 12], crops: [crop(11), crop(12)] },
    b: { person: 4, faces: [21], crops: [crop(21)] },
    score: 1.2,
  },
  { id: 'bbbbbbbbbbbbbbbb', kind: 'face_belongs', face: 31, crop: crop(31), person: 3, person_faces: [11], person_crops: [crop(11)], score: 0.8 },
  { id: 'cccccccccccccccc', kind: 'not_a_face', face: 41, crop: crop(41), photo_id: 9, box: [1, 2, 30, 40], score: 0.5 },
];

/** A queue that loses its first question at each answer, as the API's does. */
function reviewRoutes(start = visitorSession) {
  const { routes } = organiserRoutes(start);
  let queue = [...QUESTIONS];
  const organiserOnly = (call: Call, answer: () => object) => {
    const session = (routes['GET /api/session'] as () => { json: { organiser: boolean; csrf_token: string | null } })().json;
    if (!session.organiser) return { status: 401, json: { error: { code: 'login_required', message: 'Log in as the organiser first.' } } };
    if (call.method !== 'GET' && call.headers['X-CSRF-Token'] !== session.csrf_token) {
      return { status: 403, json: { error: { code: 'csrf_failed', message: 'The CSRF token is missing or wrong.' } } };
    }
    return { json: answer() };
  };
  const answer = (call: Call) =>
    organiserOnly(call, () => {
      const id = call.url.split('/').pop();
      queue = queue.filter((q) => q.id !== id);
      return { answered: id, answer: JSON.parse(String(call.body)).answer, worth_answering: queue.length };
    });
  return {
    ...routes,
    'GET /api/review': (call: Call) =>
      organiserOnly(call, () => ({ questions: queue.slice(0, 1), total: queue.length, worth_answering: queue.length })),
    ...Object.fromEntries(QUESTIONS.map((q) => [`POST /api/review/${q.id}`, answer])),
  };
}

const answers = (calls: Call[]) => calls.filter((c) => c.method === 'POST' && c.url.startsWith('/api/review/'));

describe('organiser: the review queue', () => {
  it('shows one question at a time and answers by key and by tap, refreshing after each', async () => {
    window.location.hash = '#/people/review';
    const { calls } = mockFetch(reviewRoutes(organiserSession));
    renderWithTheme(<App />);

    expect(await screen.findByRole('heading', { name: 'Same person?' })).toBeInTheDocument();
    expect(screen.getByTestId('review-summary')).toHaveTextContent('3 questions worth answering');
    const faces = screen.getAllByTestId('review-face');
    expect(faces.map((f) => f.getAttribute('src'))).toEqual([crop(11), crop(12), crop(21)]);
    expect(screen.getByRole('figure', { name: 'Person 3' })).toBeInTheDocument();

    await userEvent.keyboard('y');
    expect(await screen.findByRole('heading', { name: 'Is this face one of them?' })).toBeInTheDocument();
    expect(answers(calls)).toHaveLength(1);
    expect(answers(calls)[0].url).toBe('/api/review/aaaaaaaaaaaaaaaa');
    expect(JSON.parse(String(answers(calls)[0].body))).toEqual({ answer: 'yes' });
    expect(answers(calls)[0].headers['X-CSRF-Token']).toBe(CSRF);

    await userEvent.click(screen.getByRole('button', { name: /no \(n\)/i }));
    expect(await screen.findByRole('heading', { name: 'Not a face?' })).toBeInTheDocument();
    expect(JSON.parse(String(answers(calls)[1].body))).toEqual({ answer: 'no' });

    await userEvent.keyboard('s');
    expect(await screen.findByText('Nothing left to review.')).toBeInTheDocument();
    expect(JSON.parse(String(answers(calls)[2].body))).toEqual({ answer: 'skip' });
    // the queue was asked for again after each answer
    await waitFor(() => expect(calls.filter((c) => c.method === 'GET' && c.url.startsWith('/api/review')).length).toBe(4));
  });

  it('asks a visitor to log in', async () => {
    window.location.hash = '#/people/review';
    mockFetch(reviewRoutes(visitorSession));
    renderWithTheme(<App />);
    expect(await screen.findByTestId('login-required')).toBeInTheDocument();
  });

  it('shows the People page how many questions are worth answering, linking to the Review page', async () => {
    window.location.hash = '#/people';
    mockFetch(reviewRoutes(organiserSession));
    renderWithTheme(<App />);
    const link = await screen.findByTestId('review-link');
    expect(link).toHaveTextContent('3 questions worth answering');
    expect(screen.getByRole('link', { name: 'Review' })).toHaveAttribute('href', '#/people/review');
  });
});
