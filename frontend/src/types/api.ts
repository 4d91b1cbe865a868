/**
 * Names for the API's types. The types themselves are generated from the backend's OpenAPI
 * document (openapi.json, `npm run gen:api`) into openapi.gen.ts: change them there, not here.
 *
 * Response envelopes are read off their route, and nested shapes off their parent, so these
 * names keep working whatever the backend calls its helper schemas.
 */
import type { components, paths } from './openapi.gen';

type Schemas = components['schemas'];
type JsonOk<Path extends keyof paths, Method extends keyof paths[Path]> = paths[Path][Method] extends {
  responses: { 200: { content: { 'application/json': infer Body } } };
}
  ? Body
  : never;

export type Photo = Schemas['Photo'];
export type Person = JsonOk<'/api/people', 'get'>['people'][number];
export type SearchResponse = Schemas['SearchResponse'];
export type SearchSample = Schemas['Sample'];
export type StatusResponse = Schemas['Status'];
export type ApiErrorBody = Schemas['Error'];
/** A person the search suggests without claiming it: a face and a token for POST /api/search/confirm. */
export type Candidate = SearchResponse['candidates'][number];

/** [x1, y1, x2, y2] in the pixel coordinates of the image it belongs to. */
export type Box = SampleFace['box'];
export type ErrorDetail = ApiErrorBody['error'];
export type DecisionRule = SearchResponse['rule'];
export type SampleFace = SearchSample['faces'][number];
export type PersonFlag = Person['flags'][number];

export type PeopleResponse = JsonOk<'/api/people', 'get'>;
export type PersonResponse = JsonOk<'/api/people/{person_id}', 'get'>;
export type PhotoResponse = JsonOk<'/api/photos/{photo_id}', 'get'>;
export type PhotoFace = PhotoResponse['faces'][number];

type JsonBody<Path extends keyof paths, Method extends keyof paths[Path]> = paths[Path][Method] extends {
  requestBody?: { content: { 'application/json': infer Body } };
}
  ? Body
  : never;

/** The JSON body of POST /api/search/confirm. */
export type ConfirmRequest = JsonBody<'/api/search/confirm', 'post'>;
export type ConfirmResponse = JsonOk<'/api/search/confirm', 'post'>;

/** The JSON body of POST /api/download. */
export type DownloadRequest = JsonBody<'/api/download', 'post'>;

// The organiser's session and corrections.
export type SessionResponse = JsonOk<'/api/session', 'get'>;
export type LoginRequest = JsonBody<'/api/session', 'post'>;
export type PersonFacesResponse = JsonOk<'/api/people/{person_id}/faces', 'get'>;
export type PersonFace = PersonFacesResponse['faces'][number];
export type PersonPatch = JsonBody<'/api/people/{person_id}', 'patch'>;
export type MergeRequest = JsonBody<'/api/people/{person_id}/merge', 'post'>;
export type MoveFacesRequest = JsonBody<'/api/faces/move', 'post'>;
export type RejectFacesRequest = JsonBody<'/api/faces/reject', 'post'>;
export type RejectResult = JsonOk<'/api/faces/reject', 'post'>;
export type UndoResult = JsonOk<'/api/undo', 'post'>;
export type Correction = UndoResult['undone'];
export type CorrectionList = JsonOk<'/api/corrections', 'get'>;
export type UndoPlan = JsonOk<'/api/corrections/{correction_id}/undo-plan', 'get'>;

/** POST /api/download/links: its JSON body and its answer (one link per zip). */
export type DownloadLinksRequest = JsonBody<'/api/download/links', 'post'>;
export type DownloadLinksResponse = JsonOk<'/api/download/links', 'post'>;
export type DownloadLink = DownloadLinksResponse['links'][number];

/** The live gallery's watcher in /api/status (null when none ever ran). */
export type LiveState = NonNullable<StatusResponse['live']>;
/** POST /api/gallery/photos (organiser): one entry per file sent, saved or refused. */
export type UploadResult = JsonOk<'/api/gallery/photos', 'post'>;
export type UploadedPhoto = UploadResult['photos'][number];

/** GET/POST /api/access: whether this browser may search, and the notice to accept first. */
export type AccessState = JsonOk<'/api/access', 'get'>;
/** GET /api/access-code (organiser): the event's access code and its link. */
export type AccessCodeInfo = JsonOk<'/api/access-code', 'get'>;

/** GET /api/review (organiser): the review queue, best first; POST /api/review/{id} answers one. */
export type ReviewQueue = JsonOk<'/api/review', 'get'>;
export type ReviewQuestion = ReviewQueue['questions'][number];
export type ReviewAnswer = JsonBody<'/api/review/{question_id}', 'post'>['answer'];
export type ReviewAnswered = JsonOk<'/api/review/{question_id}', 'post'>;
