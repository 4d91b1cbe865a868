import { apiJson } from '../../../lib/api-client';
import type { AccessCodeInfo, AccessState } from '../../../types/api';

/** GET /api/access: whether a code is needed, whether this browser has access, the notice text. */
export const getAccess = () => apiJson<AccessState>('/api/access');

/** POST /api/access: the event's code for a grant (a cookie the server sets). */
export const enterAccessCode = (code: string) => apiJson<AccessState>('/api/access', { method: 'POST', json: { code } });

/** GET /api/access-code (organiser): the code and the link its QR poster carries. */
export const getAccessCode = () => apiJson<AccessCodeInfo>('/api/access-code');

/** POST /api/access-code/rotate (organiser): a new code; browsers let in with the old one must enter it. */
export const rotateAccessCode = () => apiJson<AccessCodeInfo>('/api/access-code/rotate', { method: 'POST' });

export const POSTER_PNG = '/api/access-code/poster.png';
export const POSTER_PDF = '/api/access-code/poster.pdf';
