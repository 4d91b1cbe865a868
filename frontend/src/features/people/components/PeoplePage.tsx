import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Pagination from '@mui/material/Pagination';
import Skeleton from '@mui/material/Skeleton';
import Stack from '@mui/material/Stack';
import Typography from '@mui/material/Typography';
import Alert from '@mui/material/Alert';
import { getPeople, PEOPLE_PER_PAGE } from '../api/people';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { plural } from '../../../lib/format';
import { PersonCard } from './PersonCard';
import { useLoad } from './usePaged';

const peopleGridSx = {
  display: 'grid',
  gap: 1.5,
  gridTemplateColumns: {
    xs: 'repeat(2, minmax(0, 1fr))',
    sm: 'repeat(auto-fill, minmax(160px, 1fr))',
  },
} as const;

interface Props {
  page: number;
  onPage: (page: number) => void;
}

/** Everyone the clustering found, paginated. */
export function PeoplePage({ page, onPage }: Props) {
  const { data, error, loading, retry } = useLoad(`people:${page}`, (signal) =>
    getPeople(page, PEOPLE_PER_PAGE, signal),
  );

  return (
    <Stack spacing={2.5}>
      <Box>
        <Typography variant="h4" component="h1" sx={{ fontWeight: 700, fontSize: { xs: '1.5rem', sm: '2rem' } }}>
          People in the gallery
        </Typography>
        <Typography variant="body2" color="text.secondary" sx={{ mt: 0.5 }}>
          {data
            ? `${plural(data.total, 'person', 'people')} found by grouping similar faces. Open one to see their photos.`
            : 'Everyone found by grouping similar faces.'}
        </Typography>
      </Box>

      {error && (
        <ErrorAlert
          error={error}
          action={
            <Button color="inherit" size="small" onClick={retry}>
              Try again
            </Button>
          }
        />
      )}

      {loading && !data && (
        <Box sx={peopleGridSx} aria-busy="true" aria-label="Loading people">
          {Array.from({ length: 12 }, (_, i) => (
            <Skeleton key={i} variant="rounded" sx={{ aspectRatio: '0.8', height: 'auto' }} />
          ))}
        </Box>
      )}

      {data && data.people.length === 0 && (
        <Alert severity="info">No people yet. The gallery has not been indexed, or no faces were found in it.</Alert>
      )}

      {data && data.people.length > 0 && (
        <Box component="section" aria-label="People" sx={{ ...peopleGridSx, opacity: loading ? 0.6 : 1 }}>
          {data.people.map((p) => (
            <PersonCard key={p.id} person={p} />
          ))}
        </Box>
      )}

      {data && data.pages > 1 && (
        <Stack sx={{ alignItems: 'center', pt: 1 }}>
          <Pagination
            count={data.pages}
            page={data.page}
            onChange={(_, p) => onPage(p)}
            color="primary"
            aria-label="People pages"
            siblingCount={1}
          />
        </Stack>
      )}
    </Stack>
  );
}
