import type { Candidate, DecisionRule, LiveState, PeopleResponse, PersonResponse, Photo, SearchResponse, StatusResponse } from '../types/api';

export const photo = (id: number, path: string, confidence: number | null = 0.93): Photo => ({
  id,
  path,
  url: `/gallery/${path}`,
  thumbnail_url: `/cache/thumbnails/400/${id}.jpg`,
  placeholder_url: `/cache/thumbnails/32/${id}.jpg`,
  width: 1200,
  height: 800,
  confidence,
  box: [300, 200, 420, 360],
});

export const rule: DecisionRule = {
  name: 'open-set',
  threshold: 0.41,
  false_alarm_rate: 0.01,
  best_score: 0.31,
  text: "Accepted: best match distance 0.31 is below the gallery's 1% false-alarm threshold 0.41",
};

export function foundResponse(overrides: Partial<SearchResponse> = {}): SearchResponse {
  return {
    found: true,
    confidence: 0.97,
    rule,
    message: 'Found 2 photos of this person.',
    person_id: 12,
    samples: [
      {
        index: 0,
        filename: 'amy1.png',
        width: 500,
        height: 600,
        faces: [
          { index: 0, box: [100, 100, 300, 340], probability: 0.99 },
          { index: 1, box: [350, 80, 420, 170], probability: 0.95 },
        ],
        used_face: 0,
        error: null,
      },
    ],
    photos: [photo(7, 'group/bbt4.jpg'), photo(9, 'people/amy/amy2.png', 0.88)],
    download_token: 'signed-7-9',
    candidates: [],
    also_you: [],
    removal_token: 'sealed-removal',
    save_token: 'sealed-save',
    ...overrides,
  };
}

export function notFoundResponse(): SearchResponse {
  return {
    found: false,
    confidence: 0.9,
    rule: { ...rule, best_score: 0.62, text: "Rejected: best match distance 0.62 is above the gallery's 1% false-alarm threshold 0.41" },
    message: 'This person is not in the gallery.',
    person_id: null,
    samples: [
      {
        index: 0,
        filename: 'stuart1.png',
        width: 400,
        height: 400,
        faces: [{ index: 0, box: [120, 100, 280, 300], probability: 0.99 }],
        used_face: 0,
        error: null,
      },
    ],
    photos: [],
    download_token: null,
    candidates: [],
    also_you: [],
    removal_token: null,
    save_token: null,
  };
}

export const candidate = (n: number): Candidate => ({ token: `cand-${n}`, face_url: `/cache/faces/160/${n}.jpg` });

/** Not found, but unsure about two people: "Is one of these you?" */
export function unsureResponse(): SearchResponse {
  return { ...notFoundResponse(), confidence: 0.55, candidates: [candidate(1), candidate(2)] };
}

/** What POST /api/search/confirm answers for candidate 2: a found search for that person. */
export function confirmedResponse(overrides: Partial<SearchResponse> = {}): SearchResponse {
  return foundResponse({
    confidence: 0.7,
    person_id: null,
    message: 'Found 1 photo of this person.',
    photos: [photo(21, 'party/p21.jpg', 0.71)],
    download_token: 'signed-21',
    ...overrides,
  });
}

export const peoplePage1: PeopleResponse = {
  people: [
    { id: 3, name: null, hidden: false, face_count: 9, photo_count: 7, cover_url: '/cache/faces/160/123.jpg', flags: ['may_be_two_people'] },
    { id: 4, name: null, hidden: false, face_count: 1, photo_count: 1, cover_url: '/cache/faces/160/124.jpg', flags: [] },
  ],
  page: 1,
  per_page: 48,
  total: 50,
  pages: 2,
};

export const person3: PersonResponse = {
  person: peoplePage1.people[0],
  photos: [photo(7, 'group/bbt4.jpg', null), photo(8, 'group/bbt5.jpg', null)],
  page: 1,
  per_page: 48,
  total: 2,
  pages: 1,
};

export const status: StatusResponse = {
  photos: 30,
  faces: 60,
  people: 12,
  model: 'dlib-resnet-v1',
  threshold: 0.4,
  threshold_method: 'x',
  last_indexed: null,
  search_threshold: 0.41,
  false_alarm_rate: 0.01,
  indexed: true,
  errors: 0,
  clustered: true,
  live: null,
  uploads: null,
  search_closed: false,
};

/** The watcher's state as an organiser and as a visitor see it (GET /api/status `live`), at `liveNow`. */
export const liveNow = Date.parse('2026-12-02T15:00:00Z');
export const organiserLive: LiveState = {
  watching: true,
  adding: 7,
  last_indexed_at: '2026-12-02T14:59:50Z',
  waiting: 5,
  indexing: 2,
  last_change_at: '2026-12-02T14:57:00Z',
  reclustering: true,
  last_reclustered_at: '2026-12-02T12:00:00Z',
  updated_at: '2026-12-02T14:59:58Z',
  recent_errors: 1,
  message: 'cannot read uploads/2026-12-02/broken.jpg',
};
export const visitorLive: LiveState = {
  ...organiserLive,
  waiting: null,
  indexing: null,
  last_change_at: null,
  reclustering: null,
  last_reclustered_at: null,
  updated_at: null,
  recent_errors: null,
  message: null,
};
