import Box from '@mui/material/Box';
import Button, { type ButtonProps } from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import Link from '@mui/material/Link';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import DownloadIcon from '@mui/icons-material/Download';
import { useState } from 'react';
import { ApiError, toApiError } from '../lib/api-client';
import { downloadLinks, startDownload } from '../features/search/api/download';
import type { DownloadLink } from '../types/api';
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
   * Instead of photoIds/token: photos from several answers, each with its own token (a token
   * covers only its own answer's photos, so each group gets links of its own).
   */
  groups?: DownloadGroup[];
  /** Visible text; defaults to "Download all (N)". */
  label?: string;
  variant?: ButtonProps['variant'];
}

/**
 * Downloads the given photos as zip files the browser saves itself (with its own progress): one
 * zip when they fit in one, else a link per part ("part 1 of 3") for the visitor to click.
 */
export function DownloadAllButton({ photoIds, token, groups, label, variant = 'contained' }: Props) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [parts, setParts] = useState<DownloadLink[]>([]);
  const wanted = (groups ?? [{ photoIds: photoIds ?? [], token }]).filter((g) => g.photoIds.length > 0);
  const n = wanted.reduce((sum, g) => sum + g.photoIds.length, 0);
  const text = label ?? `Download all (${n})`;

  async function onClick() {
    setBusy(true);
    setError(null);
    setParts([]);
    try {
      const links: DownloadLink[] = [];
      for (const group of wanted) {
        links.push(...(await downloadLinks(group.photoIds, undefined, group.token)).links);
      }
      if (links.length === 1) {
        startDownload(links[0].url, links[0].filename);
      } else {
        setParts(links); // several downloads at once would be blocked: one click each
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
        aria-label={`Download all ${n} ${n === 1 ? 'photo' : 'photos'} as zip files`}
      >
        {busy ? 'Preparing…' : text}
      </Button>
      {parts.length > 0 && (
        <Stack spacing={0.5} sx={{ mt: 1 }} data-testid="download-parts">
          <Typography variant="body2">
            {n} photos come in {parts.length} zip files; download each (the links work for an hour):
          </Typography>
          {parts.map((part, i) => (
            <Link key={part.url} href={part.url} download={part.filename} rel="noopener">
              {`Part ${i + 1} of ${parts.length} (${part.photos} photos)`}
            </Link>
          ))}
        </Stack>
      )}
      <ErrorAlert error={error} onClose={() => setError(null)} sx={{ mt: 1 }} />
    </Box>
  );
}
