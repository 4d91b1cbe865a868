import Alert from '@mui/material/Alert';
import AlertTitle from '@mui/material/AlertTitle';
import Box from '@mui/material/Box';
import LinearProgress from '@mui/material/LinearProgress';
import Paper from '@mui/material/Paper';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import type { SearchResponse } from '../../../types/api';
import { percent, plural } from '../../../lib/format';
import { PhotoGallery } from '../../../components/PhotoGallery';
import { DownloadAllButton } from '../../../components/DownloadAllButton';

export const NOT_FOUND_TEXT = 'This person is not in the gallery.';

function Confidence({ value, color }: { value: number; color: 'success' | 'warning' }) {
  return (
    <Box sx={{ minWidth: 180 }}>
      <Typography variant="body2" sx={{ fontWeight: 600 }} data-testid="confidence">
        {percent(value)} sure
      </Typography>
      <LinearProgress
        variant="determinate"
        value={Math.round(Math.max(0, Math.min(1, value)) * 100)}
        color={color}
        aria-label="How sure the answer is"
        sx={{ height: 6, borderRadius: 3, mt: 0.5 }}
      />
    </Box>
  );
}

/** The answer to a search: count, confidence, the rule used, the photos, and downloads. */
export function SearchResults({ result }: { result: SearchResponse }) {
  if (!result.found) {
    return (
      <Alert severity="warning" variant="outlined" data-testid="not-found" sx={{ bgcolor: 'background.paper' }}>
        <AlertTitle sx={{ fontSize: '1.1rem' }}>{NOT_FOUND_TEXT}</AlertTitle>
        <Typography variant="body2" sx={{ mb: 1 }}>
          No photo in the gallery matches this person. If you think they are in it, try another, clearer
          sample photo: one where the face is large, sharp, well lit and looking at the camera.
        </Typography>
        <Typography variant="body2" color="text.secondary">
          How sure: {percent(result.confidence)}. {result.rule?.text}
        </Typography>
      </Alert>
    );
  }

  const photos = result.photos;
  const n = photos.length;
  return (
    <Stack spacing={2}>
      <Paper variant="outlined" sx={{ p: { xs: 2, sm: 2.5 } }}>
        <Stack
          direction={{ xs: 'column', sm: 'row' }}
          spacing={2}
          sx={{ alignItems: { xs: 'stretch', sm: 'center' }, justifyContent: 'space-between' }}
        >
          <Box>
            <Typography variant="h5" component="h2" data-testid="result-count">
              Found {plural(n, 'photo')} of this person
            </Typography>
            {result.rule?.text && (
              <Typography variant="body2" color="text.secondary" sx={{ mt: 0.5 }} data-testid="rule-text">
                {result.rule.text}
              </Typography>
            )}
          </Box>
          <Stack direction="row" spacing={2} useFlexGap sx={{ alignItems: 'center', flexShrink: 0, flexWrap: 'wrap' }}>
            <Confidence value={result.confidence} color="success" />
            {n > 0 && <DownloadAllButton photoIds={photos.map((p) => p.id)} token={result.download_token} />}
          </Stack>
        </Stack>
      </Paper>
      {n > 0 ? (
        <PhotoGallery photos={photos} label="Photos of this person" />
      ) : (
        <Typography color="text.secondary">{result.message}</Typography>
      )}
    </Stack>
  );
}
