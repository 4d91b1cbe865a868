import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Checkbox from '@mui/material/Checkbox';
import Dialog from '@mui/material/Dialog';
import DialogActions from '@mui/material/DialogActions';
import DialogContent from '@mui/material/DialogContent';
import DialogContentText from '@mui/material/DialogContentText';
import DialogTitle from '@mui/material/DialogTitle';
import FormControlLabel from '@mui/material/FormControlLabel';
import Link from '@mui/material/Link';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useState } from 'react';
import { ApiError, toApiError } from '../../../lib/api-client';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { removeMe, saveSearch, type SavedLink } from '../api/visitor';

export const SAVE_LABEL = 'Save my search';
export const SAVE_TEXT =
  'Keeps only a numeric description of your face (never your photos) under a private link, so you can come back for photos added later. You can delete it at any time.';
export const REMOVE_LABEL = 'Remove me from this gallery';
export const REMOVE_TEXT =
  'Searches will no longer find you, and the photos you are in will no longer be shown or downloadable for anyone visiting this gallery. The organiser sees the request and can undo it if it was a mistake.';

interface Props {
  /** A found answer's tokens (null: not offered). */
  removalToken: string | null;
  saveToken: string | null;
  /** Called once the visitor has been removed. */
  onRemoved?: () => void;
}

function fullUrl(url: string): string {
  return typeof window !== 'undefined' ? new URL(url, window.location.origin).toString() : url;
}

/** After a found search: "Save my search" (a private link) and "Remove me from this gallery". */
export function VisitorActions({ removalToken, saveToken, onRemoved }: Props) {
  const [saved, setSaved] = useState<SavedLink | null>(null);
  const [saving, setSaving] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [removing, setRemoving] = useState(false);
  const [removed, setRemoved] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  async function save() {
    if (!saveToken || saved) return;
    setSaving(true);
    setError(null);
    try {
      setSaved(await saveSearch(saveToken));
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setSaving(false);
    }
  }

  async function remove() {
    if (!removalToken) return;
    setRemoving(true);
    setError(null);
    try {
      const answer = await removeMe(removalToken);
      setRemoved(answer.message);
      setConfirming(false);
      onRemoved?.();
    } catch (e) {
      setError(toApiError(e));
      setConfirming(false);
    } finally {
      setRemoving(false);
    }
  }

  if (removed) {
    return (
      <Alert severity="success" data-testid="removed">
        {removed}
      </Alert>
    );
  }
  if (!removalToken && !saveToken) return null;
  return (
    <Stack spacing={1.5} data-testid="visitor-actions">
      {saveToken && (
        <Box>
          <FormControlLabel
            control={<Checkbox checked={saving || !!saved} disabled={saving || !!saved} onChange={() => void save()} />}
            label={SAVE_LABEL}
          />
          <Typography variant="body2" color="text.secondary">
            {SAVE_TEXT}
          </Typography>
          {saved && (
            <Alert severity="info" sx={{ mt: 1 }} data-testid="saved-link">
              Your private link (keep it; it works until {new Date(saved.expires_at).toLocaleDateString()}):{' '}
              <Link href={saved.url} sx={{ wordBreak: 'break-all' }}>
                {fullUrl(saved.url)}
              </Link>
              <Button
                size="small"
                sx={{ ml: 1 }}
                onClick={() => void navigator.clipboard?.writeText(fullUrl(saved.url)).catch(() => undefined)}
              >
                Copy
              </Button>
            </Alert>
          )}
        </Box>
      )}
      {removalToken && (
        <Box>
          <Button variant="outlined" color="error" onClick={() => setConfirming(true)}>
            {REMOVE_LABEL}
          </Button>
        </Box>
      )}
      <ErrorAlert error={error} onClose={() => setError(null)} />
      <Dialog open={confirming} onClose={() => !removing && setConfirming(false)} aria-labelledby="remove-title">
        <DialogTitle id="remove-title">{REMOVE_LABEL}?</DialogTitle>
        <DialogContent>
          <DialogContentText>{REMOVE_TEXT}</DialogContentText>
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setConfirming(false)} disabled={removing}>
            Cancel
          </Button>
          <Button color="error" variant="contained" onClick={() => void remove()} disabled={removing}>
            Remove me
          </Button>
        </DialogActions>
      </Dialog>
    </Stack>
  );
}
