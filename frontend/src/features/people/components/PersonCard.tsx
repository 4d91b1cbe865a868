import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardActionArea from '@mui/material/CardActionArea';
import CardContent from '@mui/material/CardContent';
import Checkbox from '@mui/material/Checkbox';
import Chip from '@mui/material/Chip';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import PersonOutlineIcon from '@mui/icons-material/PersonOutlineRounded';
import VisibilityOffOutlinedIcon from '@mui/icons-material/VisibilityOffOutlined';
import VisibilityOutlinedIcon from '@mui/icons-material/VisibilityOutlined';
import type { Person } from '../../../types/api';
import { humanizeFlag, plural } from '../../../lib/format';
import { ProgressiveImage } from '../../../components/ProgressiveImage';
import { FlagChips } from './FlagChips';
import { InlineName } from './InlineName';

/** The organiser's controls on a card; a visitor's card has none. */
export interface OrganiserCardProps {
  selected: boolean;
  onSelect: (event: React.MouseEvent) => void;
  onRename: (name: string | null) => Promise<boolean>;
  onHide: (hidden: boolean) => void;
  busy?: boolean;
}

export function PersonCard({ person, organiser }: { person: Person; organiser?: OrganiserCardProps }) {
  const fallback = `Person ${person.id}`;
  const label = person.name || `Person ${person.id}`;
  const flagText = person.flags?.length ? `, flagged: ${person.flags.map(humanizeFlag).join(', ')}` : '';
  const cover = (
    <Box sx={{ position: 'relative', aspectRatio: '1' }}>
      {person.cover_url ? (
        <ProgressiveImage src={person.cover_url} alt={`Face of ${person.name || `Person ${person.id}`}`} />
      ) : (
        // No cover face (the API sends null when the person has none to show).
        <Box
          data-testid="no-cover"
          sx={{ position: 'absolute', inset: 0, display: 'grid', placeItems: 'center', bgcolor: 'grey.200', color: 'grey.500' }}
        >
          <PersonOutlineIcon sx={{ fontSize: 64 }} aria-hidden />
        </Box>
      )}
    </Box>
  );
  const details = (
    <>
      <Typography variant="body2" color="text.secondary">
        {plural(person.photo_count, 'photo')}
        {organiser ? ` · ${plural(person.face_count, 'face')}` : ''}
      </Typography>
      {person.flags?.length > 0 && (
        <Stack direction="row" sx={{ mt: 0.75, flexWrap: 'wrap', gap: 0.5 }}>
          <FlagChips flags={person.flags} />
        </Stack>
      )}
    </>
  );
  const link = {
    href: `#/people/${person.id}`,
    'aria-label': `${label}: ${plural(person.photo_count, 'photo')}${flagText}`,
  };

  if (!organiser) {
    return (
      <Card variant="outlined" data-testid="person-card" sx={{ height: '100%' }}>
        <CardActionArea {...link} sx={{ height: '100%', display: 'flex', flexDirection: 'column', alignItems: 'stretch' }}>
          {cover}
          <CardContent sx={{ p: 1.25, '&:last-child': { pb: 1.25 }, flexGrow: 1 }}>
            <Typography variant="subtitle2" component="h3">
              {person.name || fallback}
            </Typography>
            {details}
          </CardContent>
        </CardActionArea>
      </Card>
    );
  }

  // The organiser's card: the cover is the link; name, selection and hiding sit outside it.
  return (
    <Card
      variant="outlined"
      data-testid="person-card"
      data-hidden={person.hidden || undefined}
      data-selected={organiser.selected || undefined}
      sx={{
        position: 'relative',
        height: '100%',
        display: 'flex',
        flexDirection: 'column',
        borderColor: organiser.selected ? 'primary.main' : undefined,
        boxShadow: organiser.selected ? (t) => `0 0 0 2px ${t.palette.primary.main}` : undefined,
      }}
    >
      <Box sx={{ position: 'relative', opacity: person.hidden ? 0.45 : 1 }}>
        <CardActionArea {...link}>{cover}</CardActionArea>
        {person.hidden && (
          <Chip
            size="small"
            label="Hidden"
            icon={<VisibilityOffOutlinedIcon />}
            sx={{ position: 'absolute', right: 6, top: 6, bgcolor: 'grey.900', color: 'common.white', '& .MuiChip-icon': { color: 'inherit' } }}
          />
        )}
      </Box>
      <Checkbox
        checked={organiser.selected}
        onClick={organiser.onSelect}
        slotProps={{ input: { 'aria-label': `Select ${label}` } }}
        sx={{ position: 'absolute', m: 0.5, bgcolor: 'rgba(255,255,255,0.85)', borderRadius: 1, p: 0.5, '&:hover': { bgcolor: 'common.white' } }}
      />
      <CardContent sx={{ p: 1.25, '&:last-child': { pb: 1 }, flexGrow: 1, opacity: person.hidden ? 0.7 : 1 }}>
        <InlineName name={person.name} fallback={fallback} onSave={organiser.onRename} />
        {details}
        <Button
          size="small"
          color="inherit"
          disabled={organiser.busy}
          startIcon={person.hidden ? <VisibilityOutlinedIcon /> : <VisibilityOffOutlinedIcon />}
          onClick={() => organiser.onHide(!person.hidden)}
          sx={{ mt: 0.5, ml: -0.75, color: 'text.secondary' }}
          aria-label={`${person.hidden ? 'Unhide' : 'Hide'} ${label}`}
        >
          {person.hidden ? 'Unhide' : 'Hide'}
        </Button>
      </CardContent>
    </Card>
  );
}
