import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import InputAdornment from '@mui/material/InputAdornment';
import Pagination from '@mui/material/Pagination';
import Paper from '@mui/material/Paper';
import Skeleton from '@mui/material/Skeleton';
import Stack from '@mui/material/Stack';
import TextField from '@mui/material/TextField';
import Typography from '@mui/material/Typography';
import CallMergeIcon from '@mui/icons-material/CallMerge';
import SearchIcon from '@mui/icons-material/Search';
import { useEffect, useState } from 'react';
import { getPeople, mergePeople, patchPerson, PEOPLE_PER_PAGE } from '../api/people';
import { ErrorAlert } from '../../../components/ErrorAlert';
import { plural } from '../../../lib/format';
import type { Person } from '../../../types/api';
import { useSession } from '../../auth/session-context';
import { GalleryPanel } from '../../upload/components/GalleryPanel';
import { AccessCodePanel } from '../../access/components/AccessCodePanel';
import { RemovalsPanel } from '../../visitor/components/RemovalsPanel';
import { ReviewLink } from '../../review/components/ReviewLink';
import { LoginRequired } from './LoginRequired';
import { MergeDialog } from './MergeDialog';
import { PersonCard } from './PersonCard';
import { useCorrections } from './useCorrections';
import { useLoad } from './usePaged';
import { useSelection } from './useSelection';

const peopleGridSx = {
  display: 'grid',
  gap: 1.5,
  gridTemplateColumns: {
    xs: 'repeat(2, minmax(0, 1fr))',
    sm: 'repeat(auto-fill, minmax(160px, 1fr))',
  },
} as const;

/** How long typing pauses before the name search runs. */
const SEARCH_DELAY_MS = 300;

interface Props {
  page: number;
  onPage: (page: number) => void;
}

const nameOf = (p: Person) => p.name || `Person ${p.id}`;

/** Everyone the clustering found, paginated; the organiser also names, merges and hides them here. */
export function PeoplePage({ page, onPage }: Props) {
  const { organiser } = useSession();
  const [query, setQuery] = useState('');
  const [q, setQ] = useState('');
  const [version, setVersion] = useState(0);
  const selection = useSelection<Person>();
  const [merging, setMerging] = useState(false);
  const corrections = useCorrections(() => setVersion((v) => v + 1));
  const search = organiser ? q : '';

  const { data, error, loading, retry } = useLoad(`people:${page}:${search}:${organiser}:${version}`, (signal) =>
    getPeople(page, PEOPLE_PER_PAGE, signal, search),
  );

  useEffect(() => {
    if (query.trim() === q) return;
    const timer = setTimeout(() => {
      setQ(query.trim());
      if (page !== 1) onPage(1);
    }, SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [query, q, page, onPage]);

  const rename = (person: Person, name: string | null) =>
    corrections.run(async () => {
      const p = await patchPerson(person.id, { name });
      return p.name ? `Renamed ${nameOf(person)} to “${p.name}”.` : `${nameOf(person)} has no name now.`;
    });
  const hide = (person: Person, hidden: boolean) =>
    void corrections.run(async () => {
      await patchPerson(person.id, { hidden });
      return hidden ? `${nameOf(person)} is hidden from visitors.` : `${nameOf(person)} is shown to visitors again.`;
    });
  const merge = (into: Person, others: Person[]) =>
    void corrections
      .run(async () => {
        const merged = await mergePeople(
          into.id,
          others.map((p) => p.id),
        );
        return `Merged ${plural(others.length + 1, 'person', 'people')} into ${nameOf(merged)}.`;
      })
      .then((ok) => {
        if (!ok) return;
        setMerging(false);
        selection.clear();
      });

  if (error?.code === 'login_required') return <LoginRequired />;

  const flagged = data?.people.filter((p) => p.flags?.length).length ?? 0;
  const people = data?.people ?? [];

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

      {organiser && <ReviewLink version={version} />}
      {organiser && <GalleryPanel />}
      {organiser && <AccessCodePanel />}
      {organiser && <RemovalsPanel />}

      {organiser && (
        <Stack direction={{ xs: 'column', sm: 'row' }} spacing={1.5} sx={{ alignItems: { sm: 'center' } }}>
          <TextField
            size="small"
            label="Search names"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            sx={{ width: { xs: '100%', sm: 280 } }}
            slotProps={{
              input: {
                startAdornment: (
                  <InputAdornment position="start">
                    <SearchIcon fontSize="small" />
                  </InputAdornment>
                ),
              },
              htmlInput: { type: 'search' },
            }}
          />
          <Typography variant="body2" color="text.secondary">
            Select people to merge them; shift-click selects a range. Rename with the pencil.
          </Typography>
        </Stack>
      )}

      {organiser && flagged > 0 && (
        <Alert severity="warning" variant="outlined" data-testid="flag-summary">
          {plural(flagged, 'person', 'people')} on this page {flagged === 1 ? 'is' : 'are'} flagged by the quality check: look at{' '}
          {flagged === 1 ? 'them' : 'those'} first. “May be two people” often needs faces moved out; “may be split” often
          needs a merge.
        </Alert>
      )}

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
        <Alert severity="info">
          {search
            ? `Nobody is called anything like “${search}”.`
            : 'No people yet. The gallery has not been indexed, or no faces were found in it.'}
        </Alert>
      )}

      {data && data.people.length > 0 && (
        <Box component="section" aria-label="People" sx={{ ...peopleGridSx, opacity: loading ? 0.6 : 1 }}>
          {people.map((p, i) => (
            <PersonCard
              key={p.id}
              person={p}
              organiser={
                organiser
                  ? {
                      selected: selection.selected.has(p.id),
                      onSelect: (e) => selection.click(people, i, e.shiftKey),
                      onRename: (name) => rename(p, name),
                      onHide: (hidden) => hide(p, hidden),
                      busy: corrections.busy,
                    }
                  : undefined
              }
            />
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

      {organiser && selection.ids.length > 0 && (
        <Paper
          elevation={6}
          role="toolbar"
          aria-label="Selected people"
          sx={{
            position: 'sticky',
            // Above the undo snackbar while it shows.
            bottom: corrections.noteOpen ? 80 : 16,
            alignSelf: 'center',
            px: 2,
            py: 1,
            display: 'flex',
            flexWrap: 'wrap',
            alignItems: 'center',
            gap: 1,
            borderRadius: 3,
          }}
        >
          <Typography variant="body2" sx={{ fontWeight: 600, mr: 1 }}>
            {plural(selection.ids.length, 'person', 'people')} selected
          </Typography>
          <Button
            variant="contained"
            size="small"
            startIcon={<CallMergeIcon />}
            disabled={selection.ids.length < 2 || corrections.busy}
            onClick={() => setMerging(true)}
          >
            Merge…
          </Button>
          <Button size="small" color="inherit" onClick={selection.clear}>
            Clear
          </Button>
        </Paper>
      )}

      {merging && selection.items.length >= 2 && (
        <MergeDialog people={selection.items} busy={corrections.busy} onCancel={() => setMerging(false)} onMerge={merge} />
      )}
      {organiser && corrections.snackbar}
    </Stack>
  );
}
