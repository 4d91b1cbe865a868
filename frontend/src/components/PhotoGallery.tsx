import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import LightGallery from 'lightgallery/react';
import lgZoom from 'lightgallery/plugins/zoom';
import lgThumbnail from 'lightgallery/plugins/thumbnail';
import lgFullscreen from 'lightgallery/plugins/fullscreen';
import 'lightgallery/css/lightgallery.css';
import 'lightgallery/css/lg-zoom.css';
import 'lightgallery/css/lg-thumbnail.css';
import 'lightgallery/css/lg-fullscreen.css';
import { memo } from 'react';
import type { Photo } from '../types/api';
import { basename, confidencePercent } from '../lib/format';
import { FaceBox } from './FaceBox';
import { ProgressiveImage } from './ProgressiveImage';
import { containRect, pct } from './geometry';
import { LICENSE_KEY } from './lightgallery-licence';

const PLUGINS = [lgZoom, lgThumbnail, lgFullscreen];
/** Width / height of a grid tile. */
const TILE_ASPECT = 4 / 3;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function caption(photo: Photo): string {
  const conf = photo.confidence !== null && photo.confidence !== undefined;
  return `<h4>${escapeHtml(photo.path)}</h4>${conf ? `<p>Match: ${confidencePercent(photo.confidence)} sure</p>` : ''}`;
}

interface Props {
  photos: Photo[];
  /** Accessible name of the gallery region. */
  label: string;
  /** Draw each photo's `box` over its thumbnail. */
  highlightFaces?: boolean;
}

function GalleryTile({ photo, highlightFaces }: { photo: Photo; highlightFaces: boolean }) {
  // The API sends null width and height for a photo it could not read: then the thumbnail fills
  // the tile, shown whole, and no face box is drawn (its place on the photo is unknown).
  const size = photo.width && photo.height ? { width: photo.width, height: photo.height } : null;
  const frame = containRect(size?.width ?? 0, size?.height ?? 0, TILE_ASPECT);
  const hasConfidence = photo.confidence !== null && photo.confidence !== undefined;
  return (
    <Box
      component="a"
      className="fe-gallery-item"
      href={photo.url}
      data-lg-size={size ? `${size.width}-${size.height}` : undefined}
      data-download-url={photo.url}
      download={basename(photo.path)}
      data-thumb={photo.thumbnail_url}
      data-sub-html={caption(photo)}
      aria-label={`Open photo ${photo.path}${hasConfidence ? `, ${confidencePercent(photo.confidence)} match` : ''}`}
      sx={{
        position: 'relative',
        display: 'block',
        aspectRatio: `${TILE_ASPECT}`,
        borderRadius: 2,
        overflow: 'hidden',
        bgcolor: 'grey.900',
        outline: 'none',
        boxShadow: 1,
        transition: 'transform .15s ease, box-shadow .15s ease',
        '&:hover': { transform: 'translateY(-2px)', boxShadow: 4 },
        '&:focus-visible': { boxShadow: (t) => `0 0 0 3px ${t.palette.primary.main}` },
      }}
    >
      <Box
        sx={{
          position: 'absolute',
          left: pct(frame.left),
          top: pct(frame.top),
          width: pct(frame.width),
          height: pct(frame.height),
        }}
      >
        <ProgressiveImage
          src={photo.thumbnail_url}
          placeholder={photo.placeholder_url}
          alt={`Photo ${photo.path}`}
          fit={size ? 'cover' : 'contain'}
        />
        {highlightFaces && size && <FaceBox box={photo.box} imageWidth={size.width} imageHeight={size.height} />}
      </Box>
      {hasConfidence && (
        <Chip
          size="small"
          // A bare "99%" on a thumbnail says nothing to a visitor: say what it measures.
          label={`${confidencePercent(photo.confidence)} match`}
          data-testid="match-badge"
          aria-hidden
          sx={{
            position: 'absolute',
            left: 6,
            bottom: 6,
            bgcolor: 'rgba(0,0,0,.6)',
            color: 'common.white',
            fontWeight: 600,
            height: 22,
            pointerEvents: 'none',
          }}
        />
      )}
    </Box>
  );
}

/** A responsive grid of photos that opens in lightGallery (zoom, thumbnails, full screen, download). */
export const PhotoGallery = memo(function PhotoGallery({ photos, label, highlightFaces = true }: Props) {
  return (
    <Box
      component="section"
      aria-label={label}
      sx={{
        '& .lg-react-element': {
          display: 'grid',
          gap: { xs: 1, sm: 1.5 },
          gridTemplateColumns: {
            xs: 'repeat(2, minmax(0, 1fr))',
            sm: 'repeat(auto-fill, minmax(200px, 1fr))',
          },
        },
      }}
    >
      <LightGallery
        plugins={PLUGINS}
        licenseKey={LICENSE_KEY}
        selector=".fe-gallery-item"
        exThumbImage="data-thumb"
        download
        speed={300}
        mobileSettings={{ controls: true, showCloseIcon: true, download: true }}
      >
        {photos.map((p) => (
          <GalleryTile key={p.id} photo={p} highlightFaces={highlightFaces} />
        ))}
      </LightGallery>
    </Box>
  );
});
