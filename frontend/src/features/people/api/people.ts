import { apiJson } from '../../../lib/api-client';
import type { PeopleResponse, PersonResponse } from '../../../types/api';

export const PEOPLE_PER_PAGE = 48;

export function getPeople(page = 1, perPage = PEOPLE_PER_PAGE, signal?: AbortSignal) {
  return apiJson<PeopleResponse>('/api/people', { query: { page, per_page: perPage }, signal });
}

export function getPerson(id: number, page = 1, perPage = PEOPLE_PER_PAGE, signal?: AbortSignal) {
  return apiJson<PersonResponse>(`/api/people/${encodeURIComponent(String(id))}`, {
    query: { page, per_page: perPage },
    signal,
  });
}
