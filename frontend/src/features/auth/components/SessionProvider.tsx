import Dialog from '@mui/material/Dialog';
import DialogContent from '@mui/material/DialogContent';
import Button from '@mui/material/Button';
import Snackbar from '@mui/material/Snackbar';
import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { getSession, login as apiLogin, logout as apiLogout } from '../api/session';
import { SessionContext, type SessionState } from '../session-context';
import { LoginForm } from './LoginForm';
import type { SessionResponse } from '../../../types/api';

/** The login dialog's title, which names the dialog. */
const LOGIN_TITLE_ID = 'organiser-login-title';

/** Knows whether this browser is the organiser, and owns the login dialog. */
export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<SessionResponse | null>(null);
  const [dialogOpen, setDialogOpen] = useState(false);
  const [loggedIn, setLoggedIn] = useState(false);

  useEffect(() => {
    const ctrl = new AbortController();
    getSession(ctrl.signal)
      .then(setSession)
      .catch(() => undefined); // no answer: a visitor, as far as this page knows
    return () => ctrl.abort();
  }, []);

  const login = useCallback(async (password: string) => {
    setSession(await apiLogin(password));
    setLoggedIn(true);
    // The organiser's work starts on People; a People page they logged in on stays.
    if (!window.location.hash.startsWith('#/people')) window.location.hash = '#/people';
  }, []);

  const logout = useCallback(async () => {
    try {
      setSession(await apiLogout());
    } catch {
      // The cookie may be gone already; this page forgets the organiser either way.
      setSession((s) => (s ? { ...s, organiser: false, csrf_token: null } : s));
    }
  }, []);

  const sessionLost = useCallback(() => {
    getSession()
      .then((s) => {
        setSession(s);
        if (!s.organiser) setDialogOpen(true);
      })
      .catch(() => undefined);
  }, []);

  const value = useMemo<SessionState>(
    () => ({
      session,
      organiser: session?.organiser ?? false,
      login,
      logout,
      openLogin: () => setDialogOpen(true),
      sessionLost,
    }),
    [session, login, logout, sessionLost],
  );

  return (
    <SessionContext.Provider value={value}>
      {children}
      <Dialog open={dialogOpen} onClose={() => setDialogOpen(false)} maxWidth="xs" fullWidth aria-labelledby={LOGIN_TITLE_ID}>
        <DialogContent>
          {dialogOpen && (
            <LoginForm
              titleId={LOGIN_TITLE_ID}
              onDone={() => setDialogOpen(false)}
              extra={
                <Button color="inherit" onClick={() => setDialogOpen(false)}>
                  Cancel
                </Button>
              }
            />
          )}
        </DialogContent>
      </Dialog>
      <Snackbar
        open={loggedIn}
        autoHideDuration={4000}
        onClose={(_, reason) => reason !== 'clickaway' && setLoggedIn(false)}
        // below the app bar, clear of the corrections' snackbar at the bottom
        anchorOrigin={{ vertical: 'top', horizontal: 'center' }}
        sx={{ top: { xs: 64, sm: 72 } }}
        message="Logged in as the organiser."
        data-testid="login-snackbar"
      />
    </SessionContext.Provider>
  );
}
