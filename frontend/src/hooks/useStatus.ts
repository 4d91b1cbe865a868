import { useCallback, useEffect, useRef, useState } from 'react';
import { getStatus, IDLE_POLL_MS, LIVE_POLL_MS } from '../lib/status';
import type { StatusResponse } from '../types/api';

/**
 * GET /api/status now and again while the page is visible: every {@link LIVE_POLL_MS} while a
 * live-gallery watcher runs (photos arrive during the event), every {@link IDLE_POLL_MS}
 * otherwise (to notice one starting). A hidden tab asks nothing and asks at once when shown
 * again. `refresh()` asks now (after an upload). Errors keep the last answer: the status is
 * decoration, the page works without it.
 */
export function useStatus(): { status: StatusResponse | null; refresh: () => void } {
  const [status, setStatus] = useState<StatusResponse | null>(null);
  const pollNow = useRef<() => void>(() => undefined);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    let ctrl: AbortController | null = null;
    let watching = false;

    function poll() {
      if (timer) clearTimeout(timer);
      timer = null;
      ctrl?.abort();
      ctrl = null;
      if (document.visibilityState === 'hidden') return;
      const mine = new AbortController();
      ctrl = mine;
      getStatus(mine.signal)
        .then((s) => {
          watching = !!s.live?.watching;
          setStatus(s);
        })
        .catch(() => undefined)
        .finally(() => {
          if (ctrl !== mine) return; // aborted: a newer poll (or the clean-up) took over
          ctrl = null;
          timer = setTimeout(poll, watching ? LIVE_POLL_MS : IDLE_POLL_MS);
        });
    }

    const onVisibility = () => {
      if (document.visibilityState === 'visible') poll();
    };
    pollNow.current = poll;
    poll();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      document.removeEventListener('visibilitychange', onVisibility);
      pollNow.current = () => undefined;
      if (timer) clearTimeout(timer);
      ctrl?.abort();
      ctrl = null;
    };
  }, []);

  const refresh = useCallback(() => pollNow.current(), []);
  return { status, refresh };
}
