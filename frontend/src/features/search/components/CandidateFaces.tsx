import Box from '@mui/material/Box';
import ButtonBase from '@mui/material/ButtonBase';
import CircularProgress from '@mui/material/CircularProgress';
import Typography from '@mui/material/Typography';
import type { Candidate } from '../../../types/api';

interface Props {
  candidates: Candidate[];
  /** What each face's button says, e.g. "This is me". */
  actionText: string;
  /** Accessible name of the i-th face's button (1-based). */
  labelFor: (i: number, total: number) => string;
  /** The token being confirmed right now (its face shows a spinner; all are disabled). */
  pendingToken?: string | null;
  onPick: (candidate: Candidate) => void;
  /** Smallest face width in px; faces grow to fill the row. */
  minSize?: number;
}

/** Faces the visitor may recognise as their own, each a button. */
export function CandidateFaces({ candidates, actionText, labelFor, pendingToken, onPick, minSize = 140 }: Props) {
  return (
    <Box
      sx={{
        display: 'grid',
        gap: 1.5,
        // Two faces side by side on a phone, each ~170 px: big enough to recognise oneself.
        gridTemplateColumns: { xs: 'repeat(2, minmax(0, 1fr))', sm: `repeat(auto-fill, minmax(${minSize}px, 200px))` },
      }}
    >
      {candidates.map((c, i) => (
        <ButtonBase
          key={c.token}
          data-testid="candidate-face"
          aria-label={labelFor(i + 1, candidates.length)}
          disabled={!!pendingToken}
          onClick={() => onPick(c)}
          focusRipple
          sx={{
            display: 'flex',
            flexDirection: 'column',
            alignItems: 'stretch',
            borderRadius: 2,
            overflow: 'hidden',
            border: '1px solid',
            borderColor: 'divider',
            bgcolor: 'background.paper',
            '&:hover': { borderColor: 'primary.main' },
            '&.Mui-focusVisible': { outline: '3px solid', outlineColor: 'primary.main' },
            '&.Mui-disabled': { opacity: pendingToken === c.token ? 1 : 0.5 },
          }}
        >
          <Box sx={{ position: 'relative', aspectRatio: '1 / 1', bgcolor: 'action.hover' }}>
            <Box
              component="img"
              src={c.face_url}
              alt=""
              loading="lazy"
              sx={{ width: '100%', height: '100%', objectFit: 'cover', display: 'block' }}
            />
            {pendingToken === c.token && (
              <CircularProgress
                aria-label="Loading the photos"
                sx={{ position: 'absolute', top: 'calc(50% - 20px)', left: 'calc(50% - 20px)' }}
              />
            )}
          </Box>
          <Typography variant="button" sx={{ py: 1, color: 'primary.main' }}>
            {actionText}
          </Typography>
        </ButtonBase>
      ))}
    </Box>
  );
}
