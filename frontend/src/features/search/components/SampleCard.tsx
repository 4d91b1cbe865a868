import Box from '@mui/material/Box';
import ButtonBase from '@mui/material/ButtonBase';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import IconButton from '@mui/material/IconButton';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import CloseIcon from '@mui/icons-material/Close';
import ErrorOutlineIcon from '@mui/icons-material/ErrorOutlineRounded';
import BrokenImageOutlinedIcon from '@mui/icons-material/BrokenImageOutlined';
import { useState } from 'react';
import type { SearchSample } from '../../../types/api';
import { boxToPercent, containRect, pct } from '../../../components/geometry';

interface Props {
  filename: string;
  previewUrl: string;
  /** What the API said about this sample (faces found, face used, error), once it answered. */
  sample?: SearchSample;
  /** The face in use: the visitor's choice, else the one the API used. */
  selectedFace: number | null;
  /** A search with this sample is running. */
  pending: boolean;
  /** A problem the last search reported for this sample (e.g. not an image). */
  problem?: string | null;
  /** The last search failed because of another sample. */
  blocked?: boolean;
  onSelectFace: (faceIndex: number) => void;
  onRemove: () => void;
}

export const NO_FACE_SHORT = 'No face found';

/** One sample photo: preview with its faces outlined; with several faces the visitor picks one. */
export function SampleCard({ filename, previewUrl, sample, selectedFace, pending, problem, blocked, onSelectFace, onRemove }: Props) {
  const [natural, setNatural] = useState<{ w: number; h: number } | null>(null);
  const [broken, setBroken] = useState(false);
  const width = sample?.width || natural?.w || 0;
  const height = sample?.height || natural?.h || 0;
  const frame = containRect(width, height, 1);
  const faces = sample?.faces ?? [];
  const choosable = faces.length > 1;
  // A sample without a face says only that, by its photo: the one full no-face message (what to
  // do about it) is the page's alert, not repeated on every card.
  const sampleError = problem ?? (sample?.error?.code === 'no_face' ? NO_FACE_SHORT : (sample?.error?.message ?? null));

  let status: string;
  if (sampleError) status = sampleError;
  else if (!sample) status = pending ? 'Looking for faces…' : blocked ? 'Waiting: fix the problem below' : 'Not searched yet';
  else if (faces.length === 0) status = NO_FACE_SHORT;
  // "Choose" fits a mouse and a touch screen alike ("click" reads wrong on a phone).
  else if (choosable) status = `${faces.length} faces — choose the one you mean`;
  else status = '1 face found';

  return (
    <Card
      variant="outlined"
      data-testid="sample-card"
      sx={{ position: 'relative', borderColor: sampleError ? 'error.main' : undefined, height: '100%' }}
    >
      <Box sx={{ position: 'relative', aspectRatio: '1', bgcolor: 'grey.100' }}>
        <Box
          sx={{
            position: 'absolute',
            left: pct(frame.left),
            top: pct(frame.top),
            width: pct(frame.width),
            height: pct(frame.height),
          }}
        >
          {broken && (
            <BrokenImageOutlinedIcon
              aria-hidden
              sx={{ position: 'absolute', top: '50%', left: '50%', transform: 'translate(-50%, -50%)', fontSize: 48, color: 'text.disabled' }}
            />
          )}
          <Box
            component="img"
            src={previewUrl}
            onError={() => setBroken(true)}
            alt={`Sample ${filename}`}
            onLoad={(e) => {
              const img = e.currentTarget as HTMLImageElement;
              if (img.naturalWidth) setNatural({ w: img.naturalWidth, h: img.naturalHeight });
            }}
            sx={{ position: 'absolute', inset: 0, width: '100%', height: '100%', objectFit: 'fill', display: broken ? 'none' : 'block' }}
          />
          {faces.map((face, i) => {
            const r = boxToPercent(face.box, width, height);
            if (!r) return null;
            const selected = selectedFace === face.index;
            const style = {
              position: 'absolute',
              left: pct(r.left),
              top: pct(r.top),
              width: pct(r.width),
              height: pct(r.height),
              borderRadius: '6px',
              border: selected ? '3px solid' : '2px dashed',
              borderColor: selected ? 'success.light' : 'common.white',
              boxShadow: '0 0 0 1px rgba(0,0,0,.5)',
            } as const;
            if (!choosable) {
              return <Box key={face.index} data-testid="sample-face" data-selected={selected} aria-hidden sx={style} />;
            }
            return (
              <Tooltip key={face.index} title={selected ? 'Searching for this face' : 'Search for this face'}>
                <ButtonBase
                  data-testid="sample-face"
                  data-selected={selected}
                  aria-pressed={selected}
                  aria-label={`Face ${i + 1} of ${faces.length} in ${filename}${selected ? ' (selected)' : ''}`}
                  onClick={() => {
                    if (!selected) onSelectFace(face.index);
                  }}
                  sx={{
                    ...style,
                    bgcolor: selected ? 'rgba(34,197,94,.12)' : 'transparent',
                    '&:hover, &.Mui-focusVisible': { borderColor: 'success.light', bgcolor: 'rgba(255,255,255,.15)' },
                  }}
                />
              </Tooltip>
            );
          })}
        </Box>
        <IconButton
          size="small"
          aria-label={`Remove ${filename}`}
          onClick={onRemove}
          sx={{
            position: 'absolute',
            top: 6,
            right: 6,
            bgcolor: 'rgba(255,255,255,.9)',
            boxShadow: 1,
            '&:hover': { bgcolor: 'common.white' },
          }}
        >
          <CloseIcon fontSize="small" />
        </IconButton>
      </Box>
      <CardContent sx={{ p: 1.25, '&:last-child': { pb: 1.25 } }}>
        <Typography variant="body2" noWrap title={filename} sx={{ fontWeight: 600 }}>
          {filename}
        </Typography>
        <Typography
          variant="caption"
          component="p"
          color={sampleError ? 'error' : 'text.secondary'}
          sx={{ display: 'flex', alignItems: 'flex-start', gap: 0.5, lineHeight: 1.4 }}
        >
          {sampleError && <ErrorOutlineIcon sx={{ fontSize: 16, mt: '1px' }} />}
          {status}
        </Typography>
      </CardContent>
    </Card>
  );
}
