import Alert from '@mui/material/Alert';
import Paper from '@mui/material/Paper';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useStatus } from '../../../hooks/useStatus';
import { AddPhotos } from './AddPhotos';
import { LiveStatusPanel } from './LiveStatusPanel';

/** The organiser's live gallery: add photos during the event, and see them being indexed. */
export function GalleryPanel() {
  const { status, refresh } = useStatus();
  return (
    <Paper variant="outlined" component="section" aria-label="Live gallery" sx={{ p: { xs: 2, sm: 2.5 } }}>
      <Stack spacing={2}>
        <Typography variant="h6" component="h2">
          Live gallery
        </Typography>
        {status?.uploads === false ? (
          <Alert severity="info" variant="outlined">
            Adding photos from the page is turned off on this server (setting <code>uploads</code>): copy them into the
            gallery folder instead.
          </Alert>
        ) : (
          <AddPhotos onUploaded={refresh} />
        )}
        {status && <LiveStatusPanel live={status.live} />}
      </Stack>
    </Paper>
  );
}
