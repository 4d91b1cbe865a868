import { apiJson, setCsrfToken } from '../../../lib/api-client';
import type { LoginRequest, SessionResponse } from '../../../types/api';

/** Every session answer carries the CSRF token (or null): the client keeps it for later requests. */
function remember(session: SessionResponse): SessionResponse {
  setCsrfToken(session.organiser ? session.csrf_token : null);
  return session;
}

export async function getSession(signal?: AbortSignal): Promise<SessionResponse> {
  return remember(await apiJson<SessionResponse>('/api/session', { signal }));
}

/** Log in as the organiser; throws ApiError wrong_password / no_password / rate_limited. */
export async function login(password: string): Promise<SessionResponse> {
  const body: LoginRequest = { password };
  return remember(await apiJson<SessionResponse>('/api/session', { method: 'POST', json: body }));
}

export async function logout(): Promise<SessionResponse> {
  try {
    return remember(await apiJson<SessionResponse>('/api/session', { method: 'DELETE' }));
  } finally {
    setCsrfToken(null);
  }
}
