import Box from '@mui/material/Box';
import Button, { type ButtonProps } from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import DownloadIcon from '@mui/icons-material/Download';
import { useState } from 'react';
import { ApiError, toApiError } from '../lib/api-client';
import { saveBlob } from '../lib/save-blob';
import { downloadPhotosZip, zipName } from '../features/search/api/download';
import { ErrorAlert } from './ErrorAlert';

/** Photos one download token covers (one search or one confirmed suggestion). */
export interface DownloadGroup {
  photoIds: number[];
  token?: string | null;
}

interface Props {
  photoIds?: number[];
  /** The search's download_token (a private gallery's visitors need it). */
  token?: string | null;
  /**
   * Instead of photoIds/token: photos from several answers, each with its own token. A token
   * covers only its own answer's photos, so each group is one zip file.
   */
  groups?: DownloadGroup[];
  /** Visible text; defaults to "Download all (N)". */
  label?: string;
  variant?: ButtonProps['variant'];
}

/** Downloads the given photos as zip files (POST /api/download), one per token. */
export function DownloadAllButton({ photoIds, token, groups, label, variant = 'contained' }: Props) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const parts = (groups ?? [{ photoIds: photoIds ?? [], token }]).filter((g) => g.photoIds.length > 0);
  const n = parts.reduce((sum, g) => sum + g.photoIds.length, 0);
  const text = label ?? `Download all (${n})`;

  async function onClick() {
    setBusy(true);
    setError(null);
    try {
      for (const [i, part] of parts.entries()) {
        const blob = await downloadPhotosZip(part.photoIds, undefined, part.token);
        saveBlob(blob, zipName(i));
      }
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
        aria-label={`Download all ${n} ${n === 1 ? 'photo' : 'photos'} as ${parts.length > 1 ? `${parts.length} zip files` : 'one zip file'}`}
      >
        {busy ? 'Preparing zip…' : text}
      </Button>
      <ErrorAlert error={error} onClose={() => setError(null)} sx={{ mt: 1 }} />
    </Box>
  );
}
