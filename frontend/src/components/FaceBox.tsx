import Box from '@mui/material/Box';
import type { Box as FaceBoxCoords } from '../types/api';
import { boxToPercent, pct } from './geometry';

interface Props {
  box: FaceBoxCoords | null | undefined;
  imageWidth: number;
  imageHeight: number;
}

/** A highlight drawn over a face; the parent must be `position: relative` and sized like the image. */
export function FaceBox({ box, imageWidth, imageHeight }: Props) {
  const r = box ? boxToPercent(box, imageWidth, imageHeight) : null;
  if (!r) return null;
  return (
    <Box
      data-testid="face-box"
      aria-hidden
      sx={{
        position: 'absolute',
        left: pct(r.left),
        top: pct(r.top),
        width: pct(r.width),
        height: pct(r.height),
        border: '2px solid',
        borderColor: 'success.light',
        borderRadius: '6px',
        boxShadow: '0 0 0 1px rgba(0,0,0,.45), inset 0 0 0 1px rgba(0,0,0,.25)',
        pointerEvents: 'none',
      }}
    />
  );
}
