import { useCallback, useEffect, useState } from 'react';

export interface HashRoute {
  /** e.g. "/", "/people", "/people/12" */
  path: string;
  segments: string[];
  params: URLSearchParams;
}

export function parseHash(hash: string): HashRoute {
  const raw = hash.replace(/^#/, '') || '/';
  const [pathPart, query = ''] = raw.split('?');
  const path = pathPart.startsWith('/') ? pathPart : `/${pathPart}`;
  return { path, segments: path.split('/').filter(Boolean), params: new URLSearchParams(query) };
}

/** Tiny hash router: the current route and a function to go elsewhere. */
export function useHashRoute(): [HashRoute, (to: string) => void] {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  const navigate = useCallback((to: string) => {
    const target = `#${to.startsWith('/') ? to : `/${to}`}`;
    if (window.location.hash !== target) window.location.hash = target;
    else setRoute(parseHash(target));
  }, []);
  return [route, navigate];
}
