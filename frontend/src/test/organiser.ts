import type { Call, FakeResponse } from './utils';
import type { Person, PersonFacesResponse, SessionResponse } from '../types/api';
import { peoplePage1, person3, status } from './fixtures';

export const CSRF = 'csrf-token-1';

// people_page "public": the People tab is shown to visitors (organiserRoutes' peopleForOrganiserOnly: "organiser")
export const organiserSession: SessionResponse = { organiser: true, password_set: true, csrf_token: CSRF, people_page: 'public' };
export const visitorSession: SessionResponse = { organiser: false, password_set: true, csrf_token: null, people_page: 'public' };

export const facesOf3: PersonFacesResponse = {
  faces: [11, 12, 13, 14].map((id, i) => ({ id, photo_id: 7 + i, crop_url: `/cache/faces/160/${id}.jpg`, box: [10, 10, 60, 60] })),
  page: 1,
  per_page: 96,
  total: 4,
  pages: 1,
};

export const bob: Person = { id: 5, name: 'Bob', hidden: false, face_count: 3, photo_count: 3, cover_url: null, flags: [] };

const json = (call: Call) => (typeof call.body === 'string' ? JSON.parse(call.body) : undefined);

/**
 * Routes for an organiser session: the session starts as `start` and logging in with "secret"
 * makes it the organiser's. Organiser-only routes answer 401 login_required to a visitor, and
 * 403 csrf_failed when the token is missing.
 */
export function organiserRoutes(start: SessionResponse = visitorSession, opts: { peopleForOrganiserOnly?: boolean } = {}) {
  const peoplePage = opts.peopleForOrganiserOnly ? 'organiser' : 'public';
  let session: SessionResponse = { ...start, people_page: peoplePage };
  const organiserOnly = (answer: (call: Call) => FakeResponse) => (call: Call): FakeResponse => {
    if (!session.organiser) return { status: 401, json: { error: { code: 'login_required', message: 'Log in as the organiser first.' } } };
    if (call.method !== 'GET' && call.headers['X-CSRF-Token'] !== session.csrf_token) {
      return { status: 403, json: { error: { code: 'csrf_failed', message: 'The CSRF token is missing or wrong.' } } };
    }
    return answer(call);
  };
  const people = (call: Call): FakeResponse => {
    const q = new URL(call.url, 'http://x').searchParams.get('q');
    const all = [...peoplePage1.people, bob];
    const list = q ? all.filter((p) => p.name?.toLowerCase().includes(q.toLowerCase())) : all;
    return { json: { ...peoplePage1, people: list, total: list.length, pages: 1 } };
  };
  const routes = {
    'GET /api/status': { json: status },
    'GET /api/session': () => ({ json: session }),
    'POST /api/session': (call: Call): FakeResponse => {
      if (json(call)?.password !== 'secret') return { status: 401, json: { error: { code: 'wrong_password', message: 'Wrong password.' } } };
      session = { ...organiserSession, people_page: peoplePage };
      return { json: session };
    },
    'DELETE /api/session': () => {
      session = { ...visitorSession, people_page: peoplePage };
      return { json: session };
    },
    'GET /api/people': opts.peopleForOrganiserOnly ? organiserOnly(people) : people,
    'GET /api/people/3': opts.peopleForOrganiserOnly ? organiserOnly(() => ({ json: person3 })) : { json: person3 },
    'GET /api/people/3/faces': organiserOnly(() => ({ json: facesOf3 })),
    'PATCH /api/people/3': organiserOnly((call) => ({ json: { ...person3.person, ...json(call) } })),
    'PATCH /api/people/4': organiserOnly((call) => ({ json: { ...peoplePage1.people[1], ...json(call) } })),
    'POST /api/people/4/merge': organiserOnly(() => ({ json: { ...peoplePage1.people[1], face_count: 10 } })),
    'POST /api/people/5/merge': organiserOnly(() => ({ json: { ...bob, face_count: 12 } })),
    'POST /api/faces/move': organiserOnly((call) => ({ json: json(call).to === null ? { ...bob, id: 60, name: null } : bob })),
    'POST /api/faces/reject': organiserOnly((call) => ({ json: { rejected: json(call).faces.length } })),
    'POST /api/undo': organiserOnly(() => ({
      json: { undone: { id: 1, at: '2026-12-02T15:00:00Z', kind: 'rename', description: 'Renamed Person 3 to Amy', undone: true } },
    })),
  };
  return { routes, session: () => session, body: json };
}
