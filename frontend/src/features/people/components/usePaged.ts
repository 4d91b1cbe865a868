import { useEffect, useEffectEvent, useState } from 'react';
import { ApiError, isAbortError, toApiError } from '../../../lib/api-client';

interface Outcome<T> {
  /** The request it answers: `key` and attempt. */
  request: string;
  data: T | null;
  error: ApiError | null;
}

/**
 * Load something with a signal; reloads when `key` changes, and on retry(). While a load runs,
 * the last data stays on show (loading is true) and the last error is hidden.
 */
export function useLoad<T>(key: string, load: (signal: AbortSignal) => Promise<T>) {
  const [attempt, setAttempt] = useState(0);
  const [outcome, setOutcome] = useState<Outcome<T> | null>(null);
  const request = `${attempt}:${key}`;
  // `key` says what `load` fetches: a new function for the same key is not a reason to reload.
  const start = useEffectEvent((signal: AbortSignal) => load(signal));

  useEffect(() => {
    const ctrl = new AbortController();
    start(ctrl.signal)
      .then((data) => {
        if (!ctrl.signal.aborted) setOutcome({ request, data, error: null });
      })
      .catch((e: unknown) => {
        if (ctrl.signal.aborted || isAbortError(e)) return;
        setOutcome({ request, data: null, error: toApiError(e) });
      });
    return () => ctrl.abort();
  }, [request]);

  const loading = outcome?.request !== request;
  return {
    data: outcome?.data ?? null,
    error: loading ? null : (outcome?.error ?? null),
    loading,
    retry: () => setAttempt((a) => a + 1),
  };
}
