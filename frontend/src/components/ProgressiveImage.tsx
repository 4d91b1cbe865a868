import Box from '@mui/material/Box';
import { useState } from 'react';

interface Props {
  src: string;
  placeholder?: string;
  alt: string;
  /** CSS object-fit for the image. */
  fit?: 'cover' | 'contain' | 'fill';
}

/**
 * Shows a tiny, blurred placeholder at once and fades the real image in over it when it has
 * loaded. Fills its parent (which must be `position: relative` and have a size).
 */
export function ProgressiveImage({ src, placeholder, alt, fit = 'cover' }: Props) {
  const [loaded, setLoaded] = useState(false);
  const [failed, setFailed] = useState(false);
  return (
    <Box
      sx={{
        position: 'absolute',
        inset: 0,
        overflow: 'hidden',
        bgcolor: 'grey.200',
        '&::before': placeholder
          ? {
              content: '""',
              position: 'absolute',
              inset: 0,
              backgroundImage: `url("${placeholder}")`,
              backgroundSize: fit === 'contain' ? 'contain' : 'cover',
              backgroundPosition: 'center',
              backgroundRepeat: 'no-repeat',
              filter: 'blur(10px)',
              transform: 'scale(1.1)',
              opacity: loaded ? 0 : 1,
              transition: 'opacity .4s ease',
            }
          : undefined,
      }}
    >
      {!failed && (
        <Box
          component="img"
          src={src}
          alt={alt}
          loading="lazy"
          decoding="async"
          draggable={false}
          data-loaded={loaded ? 'true' : 'false'}
          onLoad={() => setLoaded(true)}
          onError={() => setFailed(true)}
          sx={{
            position: 'absolute',
            inset: 0,
            width: '100%',
            height: '100%',
            objectFit: fit,
            opacity: loaded ? 1 : 0,
            transition: 'opacity .4s ease',
            display: 'block',
          }}
        />
      )}
    </Box>
  );
}
