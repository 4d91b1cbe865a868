import Box from '@mui/material/Box';
import ButtonBase from '@mui/material/ButtonBase';
import CheckCircleIcon from '@mui/icons-material/CheckCircle';
import type { PersonFace } from '../../../types/api';

interface Props {
  faces: readonly PersonFace[];
  selected: ReadonlyMap<number, PersonFace>;
  /** index in `faces`; shift: extend the selection from the last click. */
  onClick: (index: number, shift: boolean) => void;
  label: string;
}

/** A person's face crops; click selects one, shift-click a range. */
export function FaceGrid({ faces, selected, onClick, label }: Props) {
  return (
    <Box
      component="section"
      aria-label={label}
      sx={{ display: 'grid', gap: 1, gridTemplateColumns: { xs: 'repeat(4, minmax(0, 1fr))', sm: 'repeat(auto-fill, minmax(96px, 1fr))' } }}
    >
      {faces.map((face, i) => {
        const on = selected.has(face.id);
        return (
          <ButtonBase
            key={face.id}
            data-testid="face-tile"
            aria-pressed={on}
            aria-label={`Face ${face.id} (photo ${face.photo_id})`}
            onClick={(e) => onClick(i, e.shiftKey)}
            // A shift-click would otherwise select the page's text as well.
            onMouseDown={(e) => {
              if (e.shiftKey) e.preventDefault();
            }}
            sx={{
              position: 'relative',
              aspectRatio: '1',
              borderRadius: 2,
              overflow: 'hidden',
              outline: on ? 3 : 0,
              outlineColor: 'primary.main',
              outlineOffset: -3,
              bgcolor: 'grey.200',
            }}
          >
            <Box
              component="img"
              src={face.crop_url}
              alt=""
              loading="lazy"
              sx={{ width: '100%', height: '100%', objectFit: 'cover', display: 'block', opacity: on ? 0.75 : 1 }}
            />
            {on && (
              <CheckCircleIcon
                color="primary"
                sx={{ position: 'absolute', top: 4, right: 4, bgcolor: 'common.white', borderRadius: '50%' }}
                aria-hidden
              />
            )}
          </ButtonBase>
        );
      })}
    </Box>
  );
}
