import { apiJson } from '../../../lib/api-client';
import type { CorrectionList, UndoPlan, UndoResult } from '../../../types/api';

const correctionPath = (id: number) => `/api/corrections/${encodeURIComponent(String(id))}`;

/** The organiser's corrections, newest first, each saying whether it can be undone now. */
export function getHistory(signal?: AbortSignal) {
  return apiJson<CorrectionList>('/api/corrections', { signal });
}

/** What undoing `id` would take back too (the later corrections that depend on it); changes nothing. */
export function getUndoPlan(id: number, signal?: AbortSignal) {
  return apiJson<UndoPlan>(`${correctionPath(id)}/undo-plan`, { signal });
}

/** Undo `id` and the later corrections that depend on it. */
export function undoCorrection(id: number) {
  return apiJson<UndoResult>(`${correctionPath(id)}/undo`, { method: 'POST' });
}
