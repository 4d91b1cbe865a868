import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import IconButton from '@mui/material/IconButton';
import CloseIcon from '@mui/icons-material/Close';
import Snackbar from '@mui/material/Snackbar';
import { useState } from 'react';
import { toApiError } from '../../../lib/api-client';
import { useSession } from '../../auth/session-context';
import { undoLast } from '../api/people';

interface Note {
  key: number;
  message: string;
  severity: 'success' | 'error' | 'info';
  /** Offer "Undo" (after a correction that went through). */
  undo: boolean;
}

/**
 * Runs the organiser's corrections: each one ends with a snackbar that says what changed and
 * offers Undo (POST /api/undo); errors are shown with the server's message. `onChanged` is
 * called after every change (and every undo) so the page loads again.
 */
export function useCorrections(onChanged: () => void) {
  const { sessionLost } = useSession();
  const [note, setNote] = useState<Note | null>(null);
  const [busy, setBusy] = useState(false);

  const show = (message: string, severity: Note['severity'], undo = false) =>
    setNote({ key: Date.now() + Math.random(), message, severity, undo });

  const fail = (e: unknown) => {
    const err = toApiError(e);
    if (err.code === 'login_required' || err.code === 'csrf_failed') sessionLost();
    show(err.hint ? `${err.message} ${err.hint}` : err.message, 'error');
  };

  /** Run one correction; `action` answers the sentence to show. Resolves true when it went through. */
  const run = async (action: () => Promise<string>): Promise<boolean> => {
    setBusy(true);
    try {
      const message = await action();
      show(message, 'success', true);
      onChanged();
      return true;
    } catch (e) {
      fail(e);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const undo = async () => {
    setNote(null);
    setBusy(true);
    try {
      const { undone } = await undoLast();
      show(`Undone: ${undone.description}`, 'info');
      onChanged();
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };

  const close = (_event: unknown, reason?: string) => {
    if (reason !== 'clickaway') setNote(null);
  };

  const snackbar = (
    <Snackbar
      key={note?.key}
      open={note !== null}
      autoHideDuration={note?.undo ? 10_000 : 6_000}
      onClose={close}
      anchorOrigin={{ vertical: 'bottom', horizontal: 'center' }}
    >
      <Alert
        severity={note?.severity ?? 'info'}
        variant="filled"
        onClose={close}
        data-testid="correction-snackbar"
        // An action replaces the Alert's own close button, so it carries one too.
        action={
          note?.undo ? (
            <>
              <Button color="inherit" size="small" onClick={() => void undo()}>
                Undo
              </Button>
              <IconButton color="inherit" size="small" aria-label="Close" onClick={() => setNote(null)}>
                <CloseIcon fontSize="small" />
              </IconButton>
            </>
          ) : undefined
        }
        sx={{ alignItems: 'center' }}
      >
        {note?.message}
      </Alert>
    </Snackbar>
  );

  return { run, busy, snackbar, noteOpen: note !== null };
}
