import { apiJson } from '../../../lib/api-client';
import type {
  CorrectionList,
  MergeRequest,
  MoveFacesRequest,
  PeopleResponse,
  Person,
  PersonFacesResponse,
  PersonPatch,
  PersonResponse,
  RejectFacesRequest,
  RejectResult,
  UndoResult,
} from '../../../types/api';

export const PEOPLE_PER_PAGE = 48;
export const FACES_PER_PAGE = 96;

const personPath = (id: number) => `/api/people/${encodeURIComponent(String(id))}`;

/** `q`: a name substring (case-insensitive); empty or undefined lists everyone. */
export function getPeople(page = 1, perPage = PEOPLE_PER_PAGE, signal?: AbortSignal, q?: string) {
  return apiJson<PeopleResponse>('/api/people', { query: { page, per_page: perPage, q: q?.trim() || undefined }, signal });
}

export function getPerson(id: number, page = 1, perPage = PEOPLE_PER_PAGE, signal?: AbortSignal) {
  return apiJson<PersonResponse>(personPath(id), {
    query: { page, per_page: perPage },
    signal,
  });
}

// Organiser only (the API answers 401 login_required to a visitor). The client sends the CSRF
// token with each of the changes below.

export function getPersonFaces(id: number, page = 1, perPage = FACES_PER_PAGE, signal?: AbortSignal) {
  return apiJson<PersonFacesResponse>(`${personPath(id)}/faces`, { query: { page, per_page: perPage }, signal });
}

/** Only the fields given change. */
export function patchPerson(id: number, patch: Partial<PersonPatch>) {
  return apiJson<Person>(personPath(id), { method: 'PATCH', json: patch });
}

/** Merge `others` into `into`; answers the merged person. */
export function mergePeople(into: number, others: number[]) {
  const body: MergeRequest = { people: others };
  return apiJson<Person>(`${personPath(into)}/merge`, { method: 'POST', json: body });
}

/** Move faces to person `to`, or to a new person when `to` is null; answers that person. */
export function moveFaces(faces: number[], to: number | null) {
  const body: MoveFacesRequest = { faces, to };
  return apiJson<Person>('/api/faces/move', { method: 'POST', json: body });
}

/** "Not a face": the faces leave every person and search. */
export function rejectFaces(faces: number[]) {
  const body: RejectFacesRequest = { faces };
  return apiJson<RejectResult>('/api/faces/reject', { method: 'POST', json: body });
}

/** Undo the latest correction; 409 nothing_to_undo when there is none. */
export function undoLast() {
  return apiJson<UndoResult>('/api/undo', { method: 'POST' });
}

export function getCorrections(signal?: AbortSignal) {
  return apiJson<CorrectionList>('/api/corrections', { signal });
}

/** What the organiser calls a person: their name, or "Person 12" while they have none. */
export function personLabel(person: Pick<Person, 'id' | 'name'>): string {
  return person.name?.trim() || `Person ${person.id}`;
}
