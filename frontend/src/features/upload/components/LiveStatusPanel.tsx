import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { timeAgo } from '../../../lib/status';
import type { LiveState } from '../../../types/api';

function Fact({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <Box data-testid={testId}>
      <Typography variant="caption" color="text.secondary" component="div">
        {label}
      </Typography>
      <Typography variant="body2" component="div" sx={{ fontWeight: 600 }}>
        {value}
      </Typography>
    </Box>
  );
}

/**
 * What the live-gallery watcher is doing, for the organiser: running or not, photos waiting and
 * being indexed, the background re-clustering, and when things last changed. `now` is for tests.
 */
export function LiveStatusPanel({ live, now }: { live: LiveState | null | undefined; now?: number }) {
  const ago = (iso: string | null | undefined) => timeAgo(iso, now) ?? 'never';
  if (!live) {
    return (
      <Alert severity="info" variant="outlined" data-testid="live-status">
        New photos are not being added as they arrive on this site: photos you add are kept, and become searchable at the
        next indexing of the gallery.
      </Alert>
    );
  }
  return (
    <Box data-testid="live-status">
      <Stack direction="row" spacing={1} sx={{ alignItems: 'center', mb: 1.5, flexWrap: 'wrap' }}>
        {live.watching ? (
          <Chip size="small" color="success" label="Watching the gallery" />
        ) : (
          <Chip size="small" color="warning" label={`Watcher stopped · last heard ${ago(live.updated_at)}`} />
        )}
        {!live.watching && (
          <Typography variant="body2" color="text.secondary" data-testid="live-not-watching">
            Photos you add are kept, and become searchable at the next indexing of the gallery.
          </Typography>
        )}
        {live.reclustering && <Chip size="small" color="info" label="Grouping people again…" />}
      </Stack>
      <Box sx={{ display: 'grid', gap: 2, gridTemplateColumns: 'repeat(auto-fill, minmax(130px, 1fr))' }}>
        <Fact testId="live-waiting" label="Waiting" value={String(live.waiting ?? 0)} />
        <Fact testId="live-indexing" label="Being indexed" value={String(live.indexing ?? 0)} />
        <Fact testId="live-last-change" label="Last change" value={ago(live.last_change_at)} />
        <Fact testId="live-last-indexed" label="Last made searchable" value={ago(live.last_indexed_at)} />
        <Fact testId="live-last-reclustered" label="People last grouped" value={ago(live.last_reclustered_at)} />
        <Fact testId="live-errors" label="Unreadable photos" value={String(live.recent_errors ?? 0)} />
      </Box>
      {live.message && (
        <Alert severity="warning" sx={{ mt: 1.5 }} data-testid="live-message">
          {live.message}
        </Alert>
      )}
    </Box>
  );
}
