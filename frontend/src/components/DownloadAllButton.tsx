import Box from '@mui/material/Box';
import Button, { type ButtonProps } from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import DownloadIcon from '@mui/icons-material/Download';
import { useState } from 'react';
import { ApiError, toApiError } from '../lib/api-client';
import { saveBlob } from '../lib/save-blob';
import { downloadPhotosZip, ZIP_NAME } from '../features/search/api/download';
import { ErrorAlert } from './ErrorAlert';

interface Props {
  photoIds: number[];
  /** Visible text; defaults to "Download all (N)". */
  label?: string;
  variant?: ButtonProps['variant'];
  /** A search's download_token (sent along; a visitor of a private gallery needs it). */
  token?: string | null;
}

/** Downloads the given photos as one zip file (POST /api/download). */
export function DownloadAllButton({ photoIds, label, variant = 'contained', token }: Props) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const n = photoIds.length;
  const text = label ?? `Download all (${n})`;

  async function onClick() {
    setBusy(true);
    setError(null);
    try {
      const blob = await downloadPhotosZip(photoIds, undefined, token);
      saveBlob(blob, ZIP_NAME);
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Box>
      <Button
        variant={variant}
        onClick={onClick}
        disabled={busy || n === 0}
        startIcon={busy ? <CircularProgress size={18} color="inherit" /> : <DownloadIcon />}
        aria-label={`Download all ${n} ${n === 1 ? 'photo' : 'photos'} as one zip file`}
      >
        {busy ? 'Preparing zip…' : text}
      </Button>
      <ErrorAlert error={error} onClose={() => setError(null)} sx={{ mt: 1 }} />
    </Box>
  );
}
