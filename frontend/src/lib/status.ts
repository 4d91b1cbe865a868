import { apiJson } from './api-client';
import type { StatusResponse } from '../types/api';

export function getStatus(signal?: AbortSignal) {
  return apiJson<StatusResponse>('/api/status', { signal });
}
