import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useEffect, useState } from 'react';
import { ApiError, isAbortError, toApiError } from '../../../lib/api-client';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { SearchResults } from '../../search/components/SearchResults';
import { deleteSaved, newSinceText, openSaved, type SavedSearchResponse } from '../api/visitor';

export const GONE_TEXT = 'This link is unknown, has expired or was deleted.';

/** /me/<id>: a visitor's saved search, run again over the gallery as it is now. */
export function MyPhotosPage({ savedId }: { savedId: string }) {
  const [data, setData] = useState<SavedSearchResponse | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [deleted, setDeleted] = useState(false);
  const [deleting, setDeleting] = useState(false);

  useEffect(() => {
    const ctrl = new AbortController();
    openSaved(savedId, ctrl.signal)
      .then(setData)
      .catch((e: unknown) => {
        if (!isAbortError(e)) setError(toApiError(e));
      });
    return () => ctrl.abort();
  }, [savedId]);

  async function remove() {
    setDeleting(true);
    try {
      await deleteSaved(savedId);
      setDeleted(true);
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setDeleting(false);
    }
  }

  if (deleted) return <Alert severity="success">Your saved search was deleted. Nothing of it is kept.</Alert>;
  if (error) {
    if (error.code === 'not_found') return <Alert severity="info">{GONE_TEXT}</Alert>;
    return <ErrorAlert error={error} />;
  }
  if (!data)
    return (
      <Box sx={{ display: 'flex', justifyContent: 'center', py: 6 }}>
        <CircularProgress aria-label="Loading your photos" />
      </Box>
    );
  return (
    <Stack spacing={2}>
      <Stack direction={{ xs: 'column', sm: 'row' }} spacing={2} sx={{ justifyContent: 'space-between' }}>
        <Box>
          <Typography variant="h4" component="h1">
            My photos
          </Typography>
          <Typography color="text.secondary" data-testid="new-since">
            {newSinceText(data.new_since.count)}
          </Typography>
        </Box>
        <Box>
          <Button variant="outlined" color="inherit" onClick={() => void remove()} disabled={deleting}>
            Delete this saved search
          </Button>
        </Box>
      </Stack>
      <SearchResults key={data.last_visit_at} result={data} />
    </Stack>
  );
}
