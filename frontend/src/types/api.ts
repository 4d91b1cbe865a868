/** Types for the FaceExplore HTTP API (see the API contract in the project README / issue 5). */

/** [x1, y1, x2, y2] in the pixel coordinates of the image it belongs to. */
export type Box = [number, number, number, number];

export interface ApiErrorBody {
  error: { code: string; message: string };
}

export interface DecisionRule {
  name: string;
  threshold: number;
  false_alarm_rate: number;
  text: string;
}

export interface SampleFace {
  index: number;
  box: Box;
  probability: number;
}

export interface SearchSample {
  index: number;
  filename: string;
  width: number;
  height: number;
  faces: SampleFace[];
  used_face: number | null;
  error: { code: string; message: string } | null;
}

export interface Photo {
  id: number;
  path: string;
  url: string;
  thumbnail_url: string;
  placeholder_url: string;
  width: number;
  height: number;
  confidence: number | null;
  box: Box | null;
}

export interface SearchResponse {
  found: boolean;
  confidence: number;
  rule: DecisionRule;
  message: string;
  person_id: number | null;
  samples: SearchSample[];
  photos: Photo[];
}

export interface Person {
  id: number;
  face_count: number;
  photo_count: number;
  cover_url: string;
  flags: string[];
}

export interface Paginated {
  page: number;
  per_page: number;
  total: number;
  pages: number;
}

export interface PeopleResponse extends Paginated {
  people: Person[];
}

export interface PersonResponse extends Paginated {
  person: Person;
  photos: Photo[];
}

export interface PhotoFace {
  id: number;
  box: Box;
  probability: number;
  person_id: number | null;
  crop_url: string;
}

export interface PhotoResponse {
  photo: Photo;
  faces: PhotoFace[];
}

export interface StatusResponse {
  photos: number;
  faces: number;
  people: number;
  model: string;
  threshold: number;
  threshold_method: string;
  last_indexed: string | null;
}
