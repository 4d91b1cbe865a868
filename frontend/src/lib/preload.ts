import { useEffect, useState } from 'react';

/** Resolves when the image is loaded and decoded, or failed (a broken crop must not hold the page). */
function loadImage(url: string): Promise<void> {
  const img = new Image();
  img.src = url;
  if (typeof img.decode === 'function') return img.decode().catch(() => undefined);
  return new Promise((resolve) => {
    img.onload = () => resolve();
    img.onerror = () => resolve();
  });
}

/**
 * Whether the images at `urls` have loaded: a question about faces should not show before the
 * faces do. After `timeoutMs` it answers true anyway, so a slow network never hangs the page.
 */
export function usePreloaded(urls: string[], timeoutMs = 3000): boolean {
  const key = urls.join('\n');
  const [readyKey, setReadyKey] = useState<string | null>(null);
  useEffect(() => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      setReadyKey(key);
    };
    const timer = setTimeout(finish, timeoutMs);
    void Promise.all(key ? key.split('\n').map(loadImage) : []).then(finish);
    return () => {
      done = true;
      clearTimeout(timer);
    };
  }, [key, timeoutMs]);
  return readyKey === key;
}
