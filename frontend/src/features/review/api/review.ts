import { apiJson } from '../../../lib/api-client';
import type { ReviewAnswer, ReviewAnswered, ReviewQueue } from '../../../types/api';

/** The review queue (organiser): `limit` questions, best first, and how many are worth answering. */
export function getReview(limit = 1, signal?: AbortSignal) {
  return apiJson<ReviewQueue>('/api/review', { query: { limit }, signal });
}

/** Answer one question: yes, no or skip. A "yes" or "no" may merge, move or keep people apart. */
export function answerReview(id: string, answer: ReviewAnswer) {
  return apiJson<ReviewAnswered>(`/api/review/${encodeURIComponent(id)}`, { method: 'POST', json: { answer } });
}
