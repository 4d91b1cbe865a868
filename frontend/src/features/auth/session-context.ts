import { createContext, useContext } from 'react';
import type { SessionResponse } from '../../types/api';

export interface SessionState {
  /** null until the first answer (and when the server does not answer). */
  session: SessionResponse | null;
  organiser: boolean;
  /** Throws ApiError (wrong password, no password set, rate limited). */
  login: (password: string) => Promise<void>;
  logout: () => Promise<void>;
  /** Open the login dialog. */
  openLogin: () => void;
  /**
   * An organiser request answered 401 login_required (the session ended) or 403 csrf_failed:
   * ask the server again, and open the login dialog if this browser is no longer the organiser.
   */
  sessionLost: () => void;
}

const visitor: SessionState = {
  session: null,
  organiser: false,
  login: async () => undefined,
  logout: async () => undefined,
  openLogin: () => undefined,
  sessionLost: () => undefined,
};

export const SessionContext = createContext<SessionState>(visitor);

export function useSession(): SessionState {
  return useContext(SessionContext);
}
