import Avatar from '@mui/material/Avatar';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import LinearProgress from '@mui/material/LinearProgress';
import Pagination from '@mui/material/Pagination';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import ArrowBackIcon from '@mui/icons-material/ArrowBack';
import { getPerson, PEOPLE_PER_PAGE } from '../api/people';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { PhotoGallery } from '../../../components/PhotoGallery';
import { DownloadAllButton } from '../../../components/DownloadAllButton';
import { plural } from '../../../lib/format';
import { FlagChips } from './FlagChips';
import { useLoad } from './usePaged';

interface Props {
  personId: number;
  page: number;
  onPage: (page: number) => void;
}

/** One person: their photos in the gallery grid. */
export function PersonPage({ personId, page, onPage }: Props) {
  const { data, error, loading, retry } = useLoad(`person:${personId}:${page}`, (signal) =>
    getPerson(personId, page, PEOPLE_PER_PAGE, signal),
  );
  const person = data?.person;
  const ids = data?.photos.map((p) => p.id) ?? [];

  return (
    <Stack spacing={2.5}>
      <Box>
        <Button href="#/people" startIcon={<ArrowBackIcon />} color="inherit" size="small">
          All people
        </Button>
      </Box>

      {error && (
        <ErrorAlert
          error={error.code === 'not_found' ? { message: 'This person could not be found.', hint: error.hint } : error}
          action={
            error.code === 'not_found' ? undefined : (
              <Button color="inherit" size="small" onClick={retry}>
                Try again
              </Button>
            )
          }
        />
      )}

      {loading && <LinearProgress aria-label="Loading photos" />}

      {person && data && (
        <>
          <Stack
            direction={{ xs: 'column', sm: 'row' }}
            spacing={2}
            sx={{ alignItems: { xs: 'flex-start', sm: 'center' }, justifyContent: 'space-between' }}
          >
            <Stack direction="row" spacing={2} sx={{ alignItems: 'center' }}>
              <Avatar src={person.cover_url ?? undefined} alt={`Face of person ${person.id}`} sx={{ width: 72, height: 72, boxShadow: 2 }} />
              <Box>
                <Typography variant="h4" component="h1" sx={{ fontWeight: 700, fontSize: { xs: '1.5rem', sm: '2rem' } }}>
                  Person #{person.id}
                </Typography>
                <Typography variant="body2" color="text.secondary">
                  {plural(data.total, 'photo')} · {plural(person.face_count, 'face')}
                </Typography>
                {person.flags?.length > 0 && (
                  <Stack direction="row" sx={{ mt: 0.75, flexWrap: 'wrap', gap: 0.5 }}>
                    <FlagChips flags={person.flags} />
                  </Stack>
                )}
              </Box>
            </Stack>
            {ids.length > 0 && (
              <DownloadAllButton
                photoIds={ids}
                label={data.pages > 1 ? `Download this page (${ids.length})` : undefined}
              />
            )}
          </Stack>
          {data.photos.length > 0 ? (
            <PhotoGallery photos={data.photos} label={`Photos of person ${person.id}`} />
          ) : (
            <Typography color="text.secondary">No photos on this page.</Typography>
          )}
          {data.pages > 1 && (
            <Stack sx={{ alignItems: 'center' }}>
              <Pagination count={data.pages} page={data.page} onChange={(_, p) => onPage(p)} color="primary" aria-label="Photo pages" />
            </Stack>
          )}
        </>
      )}
    </Stack>
  );
}
