import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Paper from '@mui/material/Paper';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useEffect, useState } from 'react';
import { ApiError, isAbortError, toApiError } from '../../../lib/api-client';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { changeRemoval, getRemovals, type Removal } from '../api/visitor';

const STATUS_TEXT: Record<Removal['status'], string> = {
  active: 'removed',
  pending_review: 'hidden, waiting for your review',
  refused: 'refused',
  undone: 'undone',
};

/** The organiser's History of visitors' "Remove me" requests, with undo (and confirm/refuse under review). */
export function RemovalsPanel() {
  const [removals, setRemovals] = useState<Removal[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    const ctrl = new AbortController();
    getRemovals(ctrl.signal)
      .then((r) => setRemovals(r.removals))
      .catch((e: unknown) => {
        if (!isAbortError(e)) setError(toApiError(e));
      });
    return () => ctrl.abort();
  }, [version]);

  async function act(id: number, action: 'undo' | 'confirm' | 'refuse') {
    setBusy(true);
    setError(null);
    try {
      await changeRemoval(id, action);
      setVersion((v) => v + 1);
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(false);
    }
  }

  if (!removals?.length && !error) return null;
  return (
    <Paper variant="outlined" sx={{ p: 2 }} component="section" aria-labelledby="removals-title">
      <Typography id="removals-title" variant="h6" component="h2">
        Visitors who asked to be removed
      </Typography>
      <ErrorAlert error={error} onClose={() => setError(null)} />
      <Stack spacing={1} sx={{ mt: 1 }}>
        {removals?.map((r) => (
          <Box key={r.id} sx={{ display: 'flex', gap: 1, alignItems: 'center', flexWrap: 'wrap' }} data-testid="removal">
            <Typography variant="body2" sx={{ flexGrow: 1 }}>
              {new Date(r.at).toLocaleString()}: {r.description} — {STATUS_TEXT[r.status]}
            </Typography>
            {r.status === 'pending_review' && (
              <>
                <Button size="small" disabled={busy} onClick={() => void act(r.id, 'confirm')}>
                  Confirm
                </Button>
                <Button size="small" disabled={busy} onClick={() => void act(r.id, 'refuse')}>
                  Refuse
                </Button>
              </>
            )}
            {(r.status === 'active' || r.status === 'pending_review') && (
              <Button size="small" disabled={busy} onClick={() => void act(r.id, 'undo')}>
                Undo
              </Button>
            )}
          </Box>
        ))}
      </Stack>
    </Paper>
  );
}
