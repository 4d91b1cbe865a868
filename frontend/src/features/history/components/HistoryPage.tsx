import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Chip from '@mui/material/Chip';
import CircularProgress from '@mui/material/CircularProgress';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogTitle from '@mui/material/DialogTitle';
import List from '@mui/material/List';
import ListItem from '@mui/material/ListItem';
import ListItemText from '@mui/material/ListItemText';
import Paper from '@mui/material/Paper';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useCallback, useEffect, useState } from 'react';
import { toApiError } from '../../../lib/api-client';
import type { Correction, UndoPlan } from '../../../types/api';
import { useSession } from '../../auth/session-context';
import { getHistory, getUndoPlan, undoCorrection } from '../api/history';

const when = (at: string) => new Date(at).toLocaleString();

/**
 * The organiser's History: every correction, newest first (who, when, what), with Undo on each
 * one that can still be undone. Undo first asks the server what else it would take back (the
 * later corrections of the same people or faces) and says so before anything changes.
 */
export function HistoryPage() {
  const { organiser, sessionLost } = useSession();
  const [items, setItems] = useState<Correction[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [plan, setPlan] = useState<UndoPlan | null>(null);
  const [busy, setBusy] = useState(false);
  const [version, setVersion] = useState(0);

  const fail = useCallback(
    (e: unknown) => {
      const err = toApiError(e);
      if (err.code === 'login_required' || err.code === 'csrf_failed') sessionLost();
      setError(err.hint ? `${err.message} ${err.hint}` : err.message);
    },
    [sessionLost],
  );

  useEffect(() => {
    if (!organiser) return;
    const controller = new AbortController();
    getHistory(controller.signal)
      .then((list) => {
        setItems(list.corrections);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!controller.signal.aborted) fail(e);
      });
    return () => controller.abort();
  }, [organiser, version, fail]);

  const ask = async (c: Correction) => {
    setBusy(true);
    setNote(null);
    try {
      setPlan(await getUndoPlan(c.id));
    } catch (e) {
      fail(e);
    } finally {
      setBusy(false);
    }
  };

  const confirm = async () => {
    if (!plan) return;
    setBusy(true);
    try {
      const done = await undoCorrection(plan.correction.id);
      const also = done.also.length ? ` It also took back: ${done.also.map((c) => c.description).join('; ')}.` : '';
      setNote(`Undone: ${done.undone.description}.${also}`);
      setPlan(null);
      setVersion((v) => v + 1);
    } catch (e) {
      setPlan(null);
      fail(e);
    } finally {
      setBusy(false);
    }
  };

  if (!organiser) {
    return <Alert severity="info">The History of corrections is for the organiser: log in to see it.</Alert>;
  }

  return (
    <Stack spacing={2} data-testid="history-page">
      <Box>
        <Typography variant="h5" component="h1" sx={{ fontWeight: 700 }}>
          History
        </Typography>
        <Typography variant="body2" color="text.secondary">
          Every correction of the people, newest first. Undo one, and the later corrections of the same people or faces are
          taken back with it.
        </Typography>
      </Box>
      {note && (
        <Alert severity="success" onClose={() => setNote(null)} data-testid="history-note">
          {note}
        </Alert>
      )}
      {error && (
        <Alert severity="error" onClose={() => setError(null)}>
          {error}
        </Alert>
      )}
      {items === null && !error && <CircularProgress aria-label="Loading the history" />}
      {items !== null && items.length === 0 && <Typography color="text.secondary">No corrections yet.</Typography>}
      {items !== null && items.length > 0 && (
        <Paper variant="outlined">
          <List aria-label="Corrections, newest first">
            {items.map((c) => (
              <ListItem
                key={c.id}
                divider
                data-testid={`correction-${c.id}`}
                secondaryAction={
                  c.undoable ? (
                    <Button size="small" disabled={busy} onClick={() => void ask(c)} aria-label={`Undo: ${c.description}`}>
                      Undo
                    </Button>
                  ) : c.undone ? (
                    <Chip size="small" label={c.undone_with ? `Undone with #${c.undone_with}` : 'Undone'} />
                  ) : (
                    <Chip size="small" variant="outlined" label="Cannot be undone" title={c.not_undoable_because ?? undefined} />
                  )
                }
              >
                <ListItemText
                  primary={c.description}
                  secondary={`#${c.id} · ${when(c.at)} · ${c.who || 'unknown'}${
                    !c.undone && c.not_undoable_because ? ` · ${c.not_undoable_because}` : ''
                  }`}
                  sx={{ pr: 16, textDecoration: c.undone ? 'line-through' : undefined }}
                />
              </ListItem>
            ))}
          </List>
        </Paper>
      )}
      <Dialog open={plan !== null} onClose={() => setPlan(null)} aria-labelledby="undo-title">
        <DialogTitle id="undo-title">Undo this?</DialogTitle>
        <DialogContent>
          <Typography>{plan?.correction.description}</Typography>
          {plan && plan.also.length > 0 && (
            <Box sx={{ mt: 2 }} data-testid="undo-also">
              <Typography variant="body2" sx={{ fontWeight: 600 }}>
                It also takes back these later corrections, which depend on it:
              </Typography>
              <List dense>
                {plan.also.map((c) => (
                  <ListItem key={c.id}>
                    <ListItemText primary={c.description} secondary={`#${c.id} · ${when(c.at)}`} />
                  </ListItem>
                ))}
              </List>
            </Box>
          )}
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setPlan(null)}>Cancel</Button>
          <Button variant="contained" disabled={busy} onClick={() => void confirm()}>
            Undo
          </Button>
        </DialogActions>
      </Dialog>
    </Stack>
  );
}
