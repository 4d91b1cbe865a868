import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardActionArea from '@mui/material/CardActionArea';
import CardContent from '@mui/material/CardContent';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import PersonOutlineIcon from '@mui/icons-material/PersonOutlineRounded';
import type { Person } from '../../../types/api';
import { humanizeFlag, plural } from '../../../lib/format';
import { ProgressiveImage } from '../../../components/ProgressiveImage';
import { FlagChips } from './FlagChips';

export function PersonCard({ person }: { person: Person }) {
  const flagText = person.flags?.length ? `, flagged: ${person.flags.map(humanizeFlag).join(', ')}` : '';
  return (
    <Card variant="outlined" data-testid="person-card" sx={{ height: '100%' }}>
      <CardActionArea
        href={`#/people/${person.id}`}
        aria-label={`Person ${person.id}: ${plural(person.photo_count, 'photo')}${flagText}`}
        sx={{ height: '100%', display: 'flex', flexDirection: 'column', alignItems: 'stretch' }}
      >
        <Box sx={{ position: 'relative', aspectRatio: '1' }}>
          {person.cover_url ? (
            <ProgressiveImage src={person.cover_url} alt={`Face of person ${person.id}`} />
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
        <CardContent sx={{ p: 1.25, '&:last-child': { pb: 1.25 }, flexGrow: 1 }}>
          <Typography variant="subtitle2" component="h3">
            Person #{person.id}
          </Typography>
          <Typography variant="body2" color="text.secondary">
            {plural(person.photo_count, 'photo')}
          </Typography>
          {person.flags?.length > 0 && (
            <Stack direction="row" sx={{ mt: 0.75, flexWrap: 'wrap', gap: 0.5 }}>
              <FlagChips flags={person.flags} />
            </Stack>
          )}
        </CardContent>
      </CardActionArea>
    </Card>
  );
}
