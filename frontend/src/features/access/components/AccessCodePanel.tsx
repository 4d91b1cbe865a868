import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Link from '@mui/material/Link';
import Paper from '@mui/material/Paper';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import { useEffect, useState } from 'react';
import { ApiError, toApiError } from '../../../lib/api-client';
import type { AccessCodeInfo } from '../../../types/api';
import { getAccessCode, POSTER_PDF, POSTER_PNG, rotateAccessCode } from '../api/access';

/** The organiser's access code: the code, its link, a new code, and the QR poster to print. */
export function AccessCodePanel() {
  const [info, setInfo] = useState<AccessCodeInfo | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    getAccessCode()
      .then(setInfo)
      .catch((e) => setError(toApiError(e)));
  }, []);

  const rotate = async () => {
    if (!window.confirm('Make a new access code? Everyone let in with the old code will have to enter the new one.')) return;
    setBusy(true);
    try {
      setInfo(await rotateAccessCode());
      setError(null);
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Paper variant="outlined" component="section" aria-label="Access code" sx={{ p: { xs: 2, sm: 2.5 } }}>
      <Stack spacing={1.5}>
        <Typography variant="h6" component="h2">
          Access code
        </Typography>
        {error && <Alert severity="error">{error.message}</Alert>}
        {info && (
          <>
            {!info.required && (
              <Alert severity="info" variant="outlined">
                Visitors are not asked for it: anyone who reaches the site may search (setting <code>search_access</code>).
              </Alert>
            )}
            <Typography variant="h5" component="p" data-testid="access-code" sx={{ fontFamily: 'monospace', letterSpacing: 2 }}>
              {info.code}
            </Typography>
            <Link href={info.link} data-testid="access-link" sx={{ wordBreak: 'break-all' }}>
              {info.link}
            </Link>
            <Stack direction="row" spacing={1} useFlexGap sx={{ flexWrap: "wrap" }}>
              <Button variant="outlined" href={POSTER_PNG} target="_blank" rel="noopener">
                QR poster (PNG)
              </Button>
              <Button variant="outlined" href={POSTER_PDF} target="_blank" rel="noopener">
                QR poster (PDF)
              </Button>
              <Button color="warning" onClick={rotate} disabled={busy}>
                New code
              </Button>
            </Stack>
          </>
        )}
      </Stack>
    </Paper>
  );
}
